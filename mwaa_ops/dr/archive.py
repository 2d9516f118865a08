"""The backup archive: one versioned, self-describing JSON document, optionally gzip-compressed.

Layout (format version 1)::

    {
      "format": "mwaa-ops-airflow-backup",
      "format_version": 1,
      "created_at": "2026-11-28T17:49:22+00:00",
      "airflow_version": "3.3.1",
      "environment": {"name": "...", "transport": "rest-api", ...},
      "window": {"since": "...", "until": "..."},   # runs whose run_after is in [since, until)
      "options": {"xcom": false},
      "notes": ["..."],                              # what the backup could not read
      "sections": {
        "pools":       {"count": 2, "sha256": "...", "items": [...]},
        "variables":   {...}, "connections": {...}, "dags": {...}, "dag_runs": {...},
        "xcoms":       {...}                          # only with --xcom
      }
    }

Each section's ``sha256`` is taken over the canonical JSON of its items (sorted keys, no
whitespace), so a damaged or edited section is found before anything is restored, and two
backups of the same state have equal checksums whatever transport read them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mwaa_ops.errors import UsageError

FORMAT = "mwaa-ops-airflow-backup"
FORMAT_VERSION = 1
SECTIONS = ("pools", "variables", "connections", "dags", "dag_runs", "xcoms")
GZIP_MAGIC = b"\x1f\x8b"


class ArchiveError(UsageError):
    """The file is not an archive this version can restore, or it is damaged."""


def canonical(items: Any) -> bytes:
    return json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checksum(items: list[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical(items)).hexdigest()


def section(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"count": len(items), "sha256": checksum(items), "items": items}


def build(
    *,
    sections: dict[str, list[dict[str, Any]]],
    airflow_version: str,
    environment: dict[str, Any],
    created_at: datetime,
    window: dict[str, str | None],
    options: dict[str, Any],
    notes: list[str],
) -> dict[str, Any]:
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown archive sections {sorted(unknown)}; expected {list(SECTIONS)}")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created_at.isoformat(),
        "airflow_version": airflow_version,
        "environment": environment,
        "window": window,
        "options": options,
        "notes": notes,
        "sections": {name: section(items) for name, items in sections.items()},
    }


def dumps(archive: dict[str, Any], *, compress: bool) -> bytes:
    raw = json.dumps(archive, indent=1, sort_keys=False, ensure_ascii=False).encode()
    # mtime=0: the same archive compresses to the same bytes.
    return gzip.compress(raw, mtime=0) if compress else raw


def write(archive: dict[str, Any], path: Path) -> int:
    """Write ``archive`` to ``path`` (gzip when the name ends in ``.gz``); returns its size."""
    data = dumps(archive, compress=path.name.endswith(".gz"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


@dataclass(frozen=True)
class Archive:
    """A verified archive: its header and the items of each section."""

    data: dict[str, Any]

    @property
    def created_at(self) -> str:
        return str(self.data["created_at"])

    @property
    def airflow_version(self) -> str:
        return str(self.data.get("airflow_version", ""))

    @property
    def environment(self) -> dict[str, Any]:
        return dict(self.data.get("environment") or {})

    def items(self, name: str) -> list[dict[str, Any]]:
        return list((self.data["sections"].get(name) or {}).get("items") or [])

    def has(self, name: str) -> bool:
        return name in self.data["sections"]


def loads(raw: bytes, *, source: str) -> Archive:
    """Parse and verify an archive: format, version, and every section's count and checksum."""
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ArchiveError(f"{source}: damaged gzip data ({error})") from None
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise ArchiveError(f"{source}: not a JSON document ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ArchiveError(f'{source}: not an mwaa-ops backup (expected "format": "{FORMAT}")')
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ArchiveError(
            f"{source}: format_version {version!r}; this mwaa-ops reads version {FORMAT_VERSION}"
        )
    sections = data.get("sections")
    if not isinstance(sections, dict):
        raise ArchiveError(f"{source}: no sections")
    for name, body in sections.items():
        if name not in SECTIONS:
            raise ArchiveError(f"{source}: unknown section {name!r}; expected one of {list(SECTIONS)}")
        items = body.get("items")
        if not isinstance(items, list) or body.get("count") != len(items):
            raise ArchiveError(
                f"{source}: section {name} holds {len(items or [])} items, its count says {body.get('count')}"
            )
        if body.get("sha256") != checksum(items):
            raise ArchiveError(
                f"{source}: section {name} does not match its checksum: the file is damaged or was edited"
            )
    return Archive(data)


def read(path: Path) -> Archive:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ArchiveError(f"cannot read {path}: {error.strerror or error}") from None
    return loads(raw, source=str(path))
