"""The Airflow REST API of an MWAA environment, through ``airflow:InvokeRestApi``.

``InvokeRestApi`` takes a path relative to the API root and MWAA sends it to the API of the
environment's Airflow version (``/api/v1`` on Airflow 2, ``/api/v2`` on Airflow 3): the amazon
provider's ``MwaaHook`` sends the same relative path for both and needs the version only when
it bypasses InvokeRestApi. The fields this module reads (``dag_id``, ``is_paused``,
``import_errors``, ``filename``, ``stack_trace``, ``dag_run_id``, ``state``) and the trigger body
sent have the same names in both versions; where the versions differ (the field runs are
ordered by) the environment's ``AirflowVersion`` decides.

MWAA throttles InvokeRestApi at 10 requests a second: throttled calls are retried with
exponential backoff and full jitter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mwaa_ops.aws import AwsClients
from mwaa_ops.environment import format_duration
from mwaa_ops.errors import AwsError, CheckFailed, UsageError, WaitTimeout, translate_botocore_error

# InvokeRestApi rejects longer paths (API reference: Path, 1 to 64 characters).
MAX_PATH_LENGTH = 64
# Page size of list calls: Airflow's default maximum_page_limit is 100.
PAGE_SIZE = 100
# Terminal DAG run states (the same in API v1 and v2).
RUN_SUCCESS = "success"
RUN_FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Retry schedule for throttled calls: ``attempts`` tries in all, full-jitter delays.

    The delay before retry n (0-based) is uniform in [0, min(cap, base * 2**n)] seconds;
    ``sleep`` and ``uniform`` are injectable so that tests neither wait nor depend on chance."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    uniform: Callable[[float, float], float] = random.uniform

    def delay(self, retry: int) -> float:
        return self.uniform(0.0, min(self.cap, self.base * 2**retry))


class RunFailed(CheckFailed):
    """A DAG run that ended ``failed``; ``run`` is the run as the API returned it."""

    def __init__(self, message: str, *, run: dict[str, Any]) -> None:
        super().__init__(message)
        self.run = run


class PathTooLong(UsageError):
    """A REST path over InvokeRestApi's 64-character limit (long DAG ids and run ids)."""


def _is_throttled(error: ClientError) -> bool:
    code: object = error.response.get("Error", {}).get("Code")
    if code in {"ThrottlingException", "TooManyRequestsException"}:
        return True
    status: object = error.response.get("RestApiStatusCode")
    return code == "RestApiClientException" and status == 429


class AirflowApi:
    """Calls of the Airflow REST API of environment ``environment_name``.

    ``airflow_major`` is the environment's major Airflow version (from GetEnvironment)."""

    def __init__(
        self,
        clients: AwsClients,
        environment_name: str,
        *,
        airflow_major: int,
        backoff: Backoff | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.clients = clients
        self.environment_name = environment_name
        self.airflow_major = airflow_major
        self.backoff = backoff or Backoff()
        self._now = now

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """``RestApiResponse`` of one call, retrying throttled attempts.

        Raises :class:`PathTooLong` before calling when ``path`` exceeds 64 characters, and
        :class:`AwsError` with Airflow's own detail when the API answers with an error."""
        if len(path) > MAX_PATH_LENGTH:
            raise PathTooLong(
                f"REST path {path!r} has {len(path)} characters; "
                f"InvokeRestApi accepts at most {MAX_PATH_LENGTH}"
            )
        params: dict[str, Any] = {"Name": self.environment_name, "Path": path, "Method": method}
        if query:
            params["QueryParameters"] = query
        if body is not None:
            params["Body"] = body
        target = f"environment {self.environment_name}"
        for retry in range(self.backoff.attempts):
            try:
                response = self.clients.client("mwaa").invoke_rest_api(**params)
            except ClientError as error:
                if _is_throttled(error) and retry + 1 < self.backoff.attempts:
                    self.backoff.sleep(self.backoff.delay(retry))
                    continue
                if _is_throttled(error):
                    raise AwsError(
                        f"InvokeRestApi on {target} is still throttled after "
                        f"{self.backoff.attempts} attempts (MWAA allows 10 requests a second); retry later",
                        code="Throttled",
                    ) from error
                raise translate_botocore_error(error, service="mwaa", target=target) from error
            except BotoCoreError as error:
                raise translate_botocore_error(error, service="mwaa", target=target) from error
            status = response.get("RestApiStatusCode", 200)
            if status >= 400:  # MWAA raises for these; kept in case an answer slips through
                raise AwsError(
                    f"Airflow REST API of {target} answered HTTP {status}: {response.get('RestApiResponse')}"
                )
            return response.get("RestApiResponse")
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _collect(self, path: str, key: str, query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a paginated list endpoint (``limit``/``offset``, ``total_entries``)."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.request(
                "GET", path, query={**(query or {}), "limit": PAGE_SIZE, "offset": len(items)}
            )
            batch = list(page.get(key) or [])
            items.extend(batch)
            if not batch or len(items) >= int(page.get("total_entries") or 0):
                return items

    def list_dags(self) -> list[dict[str, Any]]:
        """Every DAG the environment knows (``dag_id``, ``is_paused``, ...), sorted by id."""
        dags = self._collect("/dags", "dags")
        return sorted(dags, key=lambda d: str(d.get("dag_id")))

    def import_errors(self) -> list[dict[str, Any]]:
        """Current DAG import errors (``filename``, ``stack_trace``, ``timestamp``)."""
        return self._collect("/importErrors", "import_errors")

    def get_dag(self, dag_id: str) -> dict[str, Any]:
        """One DAG's details (``is_paused``); raises :class:`AwsError` (HTTP 404) when unknown."""
        return dict(self.request("GET", f"/dags/{dag_id}"))

    def trigger(self, dag_id: str, *, conf: dict[str, Any], run_id: str | None = None) -> dict[str, Any]:
        """Create a DAG run and return it (``dag_run_id``, ``state``).

        The body carries ``logical_date``: API v2 (Airflow 3) requires the field (it may be
        null), API v1 accepts it. The current time is sent rather than null so that the one
        body works on both versions and nothing depends on how null travels through MWAA."""
        now = self._now()
        body = {
            "dag_run_id": run_id or default_run_id(now),
            "logical_date": now.isoformat(timespec="seconds"),
            "conf": conf,
        }
        return dict(self.request("POST", f"/dags/{dag_id}/dagRuns", body=body))

    def list_runs(self, dag_id: str, *, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` most recent runs of ``dag_id``, newest first."""
        # API v2 orders by run_after (logical_date may be null); API v1 has execution_date.
        order_by = "-run_after" if self.airflow_major >= 3 else "-execution_date"
        page = self.request("GET", f"/dags/{dag_id}/dagRuns", query={"limit": limit, "order_by": order_by})
        return list(page.get("dag_runs") or [])

    def get_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """One DAG run. When its path is too long for InvokeRestApi, the run is looked up among
        the DAG's most recent runs instead (long DAG ids with scheduler-made run ids)."""
        try:
            return dict(self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}"))
        except PathTooLong:
            for run in self.list_runs(dag_id, limit=PAGE_SIZE):
                if run.get("dag_run_id") == run_id:
                    return run
            raise AwsError(
                f"run {run_id} of {dag_id} is not among its {PAGE_SIZE} most recent runs", code="RunNotFound"
            ) from None

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        *,
        timeout: float,
        interval: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        progress: Callable[[str], None],
    ) -> dict[str, Any]:
        """Poll the run until it succeeds (returned), fails (:class:`RunFailed`) or ``timeout``
        passes (:class:`WaitTimeout`)."""
        start = clock()
        while True:
            run = self.get_run(dag_id, run_id)
            state = str(run.get("state"))
            elapsed = clock() - start
            progress(f"{dag_id} {run_id}: {state} ({format_duration(elapsed)} elapsed)")
            if state == RUN_SUCCESS:
                return run
            if state == RUN_FAILED:
                raise RunFailed(
                    f"run {run_id} of {dag_id} failed; see `mwaa-ops logs {dag_id} {run_id}`", run=run
                )
            if elapsed >= timeout:
                raise WaitTimeout(
                    f"run {run_id} of {dag_id} is still {state} after {format_duration(elapsed)} "
                    f"(--timeout {format_duration(timeout)})"
                )
            sleep(min(interval, timeout - elapsed))


def default_run_id(now: datetime) -> str:
    """``ops__20261128T174922Z``: short, so that ``/dags/<dag_id>/dagRuns/<run_id>`` stays within
    InvokeRestApi's 64 characters for DAG ids up to 28 characters, and marks runs this tool made."""
    return "ops__" + now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
