"""The Airflow REST API v2 calls a backup and a restore make, over any transport.

Lists are read in pages; a page the transport cannot return (InvokeRestApi's 6 MB) is asked
again at half the size. Paths stay within InvokeRestApi's 64 characters wherever Airflow 3.3.1
offers a form that does: runs and task instances are listed and changed through the ``~``
wildcard endpoints (``POST /dags/~/dagRuns/list``, ``PATCH /dags/~/dagRuns/~/taskInstances``,
``PATCH /dags/~/dagRuns``) rather than per-run paths, which are longer than 64 characters for
ordinary DAG and run ids (``airflow/api_fastapi/core_api/routes/public/dag_run.py`` and
``task_instances.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from mwaa_ops.dr.transport import ResponseTooLarge, Transport

# Below this page size a too-large answer is one item too large: it is reported, not halved.
MIN_PAGE = 1


class AirflowClient:
    """The calls of a backup and a restore over a :class:`Transport`; ``progress`` gets one line per page."""

    def __init__(self, transport: Transport, *, progress: Callable[[str], None] = lambda _: None) -> None:
        self.transport = transport
        self.progress = progress

    def call(self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None) -> Any:
        return self.transport.request(method, path, query=query, body=body)

    # -- paging -------------------------------------------------------------------------------

    def paged_get(self, path: str, key: str, query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a ``limit``/``offset`` list endpoint (GET)."""

        def page(offset: int, size: int) -> dict[str, Any]:
            return dict(self.call("GET", path, query={**(query or {}), "limit": size, "offset": offset}))

        # GET lists are capped by [api] maximum_page_limit (default 100) on the server.
        return list(self._pages(page, key, min(self.transport.limits.page_size, 100), what=path))

    def paged_batch(self, path: str, key: str, body: dict[str, Any], *, what: str) -> list[dict[str, Any]]:
        """Every item of a ``POST .../list`` batch endpoint (``page_offset``/``page_limit``).

        The batch endpoints take ``page_limit`` as given (no server cap), so pages are as
        large as the transport's limits allow."""

        def page(offset: int, size: int) -> dict[str, Any]:
            return dict(self.call("POST", path, body={**body, "page_offset": offset, "page_limit": size}))

        return list(self._pages(page, key, self.transport.limits.page_size, what=what))

    def _pages(
        self, fetch: Callable[[int, int], dict[str, Any]], key: str, size: int, *, what: str
    ) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            try:
                page = fetch(offset, size)
            except ResponseTooLarge:
                if size <= MIN_PAGE:
                    raise
                size = max(MIN_PAGE, size // 2)
                self.progress(f"{what}: answer too large, asking for pages of {size}")
                continue
            batch = list(page.get(key) or [])
            yield from batch
            offset += len(batch)
            total = int(page.get("total_entries") or 0)
            if not batch or offset >= total:
                return
            self.progress(f"{what}: {offset} of {total}")

    # -- bulk ---------------------------------------------------------------------------------

    def bulk(self, path: str, actions: list[dict[str, Any]]) -> list[str]:
        """Run bulk ``actions`` (``PATCH`` with ``{"actions": [...]}``); returns the errors.

        Airflow answers bulk requests with HTTP 200 and reports per-entity failures inside the
        body (``{"create": {"success": [...], "errors": [...]}, ...}``), so the caller reads
        the errors from the return value rather than from an exception."""
        answer = self.call("PATCH", path, body={"actions": actions}) or {}
        errors: list[str] = []
        for action in ("create", "update", "delete"):
            result = answer.get(action) if isinstance(answer, dict) else None
            for error in (result or {}).get("errors") or []:
                text = error.get("error") if isinstance(error, dict) else error
                errors.append(f"{action}: {text}")
        return errors
