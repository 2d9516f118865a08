"""The archive format, and the rules a backup and a restore apply to what the API returns."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mwaa_ops.dr import archive
from mwaa_ops.dr.backup import _unmasked_extra, is_masked
from mwaa_ops.dr.restore import target_run_id, task_depths

CREATED = datetime(2026, 11, 28, 17, 49, 22, tzinfo=UTC)


def sample() -> dict[str, Any]:
    return archive.build(
        sections={
            "pools": [{"name": "etl", "slots": 3, "description": None, "include_deferred": False}],
            "dag_runs": [
                {"dag_id": "d", "dag_run_id": "manual__1", "state": "success", "task_instances": []}
            ],
        },
        airflow_version="3.3.1",
        environment={"name": "mwaa-dev", "transport": "rest-api"},
        created_at=CREATED,
        window={"since": None, "until": CREATED.isoformat()},
        options={"xcom": False},
        notes=[],
    )


@pytest.mark.parametrize("name", ["backup.json", "backup.json.gz"])
def test_archive_round_trips_and_describes_itself(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    size = archive.write(sample(), path)
    assert size == path.stat().st_size
    assert (path.read_bytes()[:2] == b"\x1f\x8b") is name.endswith(".gz")
    loaded = archive.read(path)
    assert loaded.created_at == "2026-11-28T17:49:22+00:00" and loaded.airflow_version == "3.3.1"
    assert loaded.items("pools")[0]["slots"] == 3
    assert loaded.data["sections"]["dag_runs"]["count"] == 1
    assert not loaded.has("xcoms")


def test_the_same_archive_compresses_to_the_same_bytes() -> None:
    assert archive.dumps(sample(), compress=True) == archive.dumps(sample(), compress=True)


def test_checksums_do_not_depend_on_key_order() -> None:
    one = [{"a": 1, "b": {"c": 2, "d": 3}}]
    two = [{"b": {"d": 3, "c": 2}, "a": 1}]
    assert archive.checksum(one) == archive.checksum(two)
    assert archive.checksum(one) != archive.checksum([{"a": 2, "b": {"c": 2, "d": 3}}])


def test_an_edited_section_is_refused(tmp_path: Path) -> None:
    data = sample()
    data["sections"]["pools"]["items"][0]["slots"] = 300
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    with pytest.raises(archive.ArchiveError, match="section pools does not match its checksum"):
        archive.read(path)


def test_a_wrong_count_is_refused(tmp_path: Path) -> None:
    data = sample()
    data["sections"]["dag_runs"]["count"] = 5
    path = tmp_path / "count.json.gz"
    path.write_bytes(gzip.compress(json.dumps(data).encode()))
    with pytest.raises(archive.ArchiveError, match="holds 1 items, its count says 5"):
        archive.read(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 2}, "format_version 2; this mwaa-ops reads version 1"),
        ({"format": "something-else"}, "not an mwaa-ops backup"),
        ({"sections": {"logs": archive.section([])}}, "unknown section 'logs'"),
    ],
)
def test_other_documents_are_refused(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps({**sample(), **change}))
    with pytest.raises(archive.ArchiveError, match=message):
        archive.read(path)


def test_not_json_and_missing_files_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(archive.ArchiveError, match="not a JSON document"):
        archive.read(tmp_path / "notes.txt")
    with pytest.raises(archive.ArchiveError, match="cannot read"):
        archive.read(tmp_path / "absent.json")


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("***", True),
        ("hello", False),
        ('{"user": "u", "password": "***"}', True),
        ('{"nested": {"list": [1, "***"]}}', True),
        ('{"a": 1}', False),
        ('"***x"', False),
        (None, False),
    ],
)
def test_masked_values_are_recognised(value: Any, masked: bool) -> None:
    assert is_masked(value) is masked


def test_masked_extra_keys_are_dropped_and_named() -> None:
    extra, masked = _unmasked_extra(
        json.dumps({"region": "eu-west-1", "token": "***", "auth": {"key": "***", "id": 7}})
    )
    assert extra == {"region": "eu-west-1", "auth": {"id": 7}}
    assert masked == ["extra.token", "extra.auth.key"]
    assert _unmasked_extra(None) == (None, [])


@pytest.mark.parametrize(
    ("run_id", "restored"),
    [
        ("scheduled__2026-12-04T17:33:06+00:00", "restored__scheduled__2026-12-04T17:33:06+00:00"),
        ("backfill__2026-12-04T17:33:06+00:00", "restored__backfill__2026-12-04T17:33:06+00:00"),
        (
            "asset_triggered__2026-12-04T17:33:06+00:00",
            "restored__asset_triggered__2026-12-04T17:33:06+00:00",
        ),
        ("manual__2026-12-04T17:33:06+00:00", "manual__2026-12-04T17:33:06+00:00"),
        ("nightly-fix", "nightly-fix"),
    ],
)
def test_reserved_run_ids_get_a_manual_form(run_id: str, restored: str) -> None:
    assert target_run_id(run_id) == restored


def test_task_depths_put_every_task_after_its_upstream_tasks() -> None:
    # a -> b -> d, a -> c -> d, a -> d: d is deeper than both b and c.
    depths = task_depths({"a": ["b", "c", "d"], "b": ["d"], "c": ["d"], "d": [], "lonely": []})
    assert depths == {"a": 0, "b": 1, "c": 1, "d": 2, "lonely": 0}
