"""Backup of a real Airflow 3.3.1, restore into a second one, and what its scheduler does next.

Every test reads the results of the one scenario run (conftest.py, dr_scenario.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

HOUR = timedelta(hours=1)


def at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def items(archive: dict[str, Any], section: str) -> list[dict[str, Any]]:
    return archive["sections"][section]["items"]


def runs(state: list[dict[str, Any]], dag_id: str) -> list[dict[str, Any]]:
    return sorted((r for r in state if r["dag_id"] == dag_id), key=lambda r: r["run_after"])


def tis(run: dict[str, Any]) -> dict[str, str | None]:
    return {t["task_id"]: t["state"] for t in run["task_instances"]}


def assert_kept_to_the_limits(stand_in: dict[str, Any]) -> None:
    """No request too long or too large; a throttled one retried, and throttling rare.

    The transport paces itself under the rate, but the stand-in's clock reads each request
    when it arrives: a stall between pacing and arrival (a loaded machine) can still put ten
    in one second, as network jitter can on MWAA. Such a refusal must be retried, not lost."""
    refused = stand_in["refused"]
    assert (refused["path"], refused["size"]) == (0, 0), refused
    assert refused["rate"] == stand_in["throttled_retries"], stand_in
    assert refused["rate"] <= max(2, len(stand_in["calls"]) // 50), refused


def test_backup_holds_what_the_rest_api_can_carry(dr: dict[str, Any]) -> None:
    archive = dr["archives"]["url"]
    start = at(dr["start"])
    assert archive["format_version"] == 1 and archive["airflow_version"] == "3.3.1"
    assert {p["name"]: p["slots"] for p in items(archive, "pools")} == {"default_pool": 64, "etl": 3}
    variables = {v["key"]: v for v in items(archive, "variables")}
    assert variables["plain"]["value"] == "hello"
    assert json.loads(variables["json_settings"]["value"]) == {"a": 1, "b": [1, 2]}
    assert variables["api_token"]["masked"] is True and variables["api_token"]["value"] is None
    (warehouse,) = items(archive, "connections")
    assert warehouse["host"] == "db.internal" and warehouse["port"] == 5432
    assert warehouse["extra"] == {"sslmode": "require"}
    assert warehouse["not_copied"] == ["password", "extra.api_key"]
    text = json.dumps(archive)
    for secret in ("pw-not-in-backups", "k-123", "s3cr3t-value"):
        assert secret not in text
    assert {d["dag_id"]: d["is_paused"] for d in items(archive, "dags")} == {
        "dr_catchup": False,
        "dr_fails": False,
        "dr_paused": True,
        "dr_ticker": False,
        "dr_xcom": False,
    }
    archived = items(archive, "dag_runs")
    # --since starts one second before the second interval: the first one is outside the window.
    assert [at(r["logical_date"]) for r in runs(archived, "dr_catchup")] == [
        start + n * HOUR for n in (1, 2, 3)
    ]
    (failed,) = runs(archived, "dr_fails")
    assert failed["state"] == "failed"
    assert tis(failed) == {"boom": "failed", "after": "upstream_failed", "cleanup": "success"}
    assert [(r["dag_run_id"], r["state"]) for r in runs(archived, "dr_paused")] == [
        ("p1", "success"),
        ("p2", "queued"),
    ]
    (x1,) = runs(archived, "dr_xcom")
    assert x1["logical_date"] is None
    xcoms = {(x["dag_run_id"], x["key"]): x["value"] for x in items(archive, "xcoms")}
    assert xcoms[("x1", "return_value")] == {"answer": 42} and xcoms[("x1", "extra")] == [1, 2, 3]


def test_every_transport_reads_the_same_state(dr: dict[str, Any]) -> None:
    archives = dr["archives"]
    for section in ("pools", "variables", "connections", "dags", "dag_runs"):
        sums = {
            name: archives[name]["sections"][section]["sha256"] for name in ("url", "rest-api", "web-login")
        }
        assert len(set(sums.values())) == 1, (section, sums)
    assert archives["web-login"]["sections"]["xcoms"] == archives["url"]["sections"]["xcoms"]
    assert dr["web_login"]["logins"] == 1
    # Through InvokeRestApi only the short run id's XCom paths fit in 64 characters.
    assert {x["dag_run_id"] for x in items(archives["rest-api"], "xcoms")} == {"x1"}
    assert any("could not be read" in note for note in archives["rest-api"]["notes"])
    stand_in = dr["source_standin"]
    assert_kept_to_the_limits(stand_in)
    assert all(len(path) <= 64 for _, path in stand_in["calls"])


def test_cli_backup_matches_the_library_backup(dr: dict[str, Any]) -> None:
    assert dr["cli_backup"]["code"] == 0, dr["cli_backup"]["stderr"]
    assert "wrote" in dr["cli_backup"]["stdout"] and "dag_runs     9" in dr["cli_backup"]["stdout"]
    cli = dr["cli_archive"]
    assert cli["environment"]["transport"] == "url"
    for section in ("pools", "variables", "connections", "dags", "dag_runs"):
        assert cli["sections"][section]["sha256"] == dr["archives"]["url"]["sections"][section]["sha256"]


def test_restore_refuses_a_catchup_gap_before_writing(dr: dict[str, Any]) -> None:
    report = dr["gap_refused"]
    newest = at(dr["start"]) + 3 * HOUR
    assert report["refused"] and "--allow-gaps" in report["refused"]
    assert [(g["dag_id"], g["intervals"], at(g["first"])) for g in report["gaps"]] == [
        ("dr_catchup", 1, newest)
    ]
    assert report["writes"] == 0 and dr["after_refusal_runs"] == 0
    cli = dr["cli_gap"]
    assert cli["code"] == 1
    assert json.loads(cli["stdout"])["refused"] == report["refused"]


def test_a_gap_can_be_accepted_or_avoided_by_staying_paused(dr: dict[str, Any]) -> None:
    allowed = dr["gap_allowed"]
    assert allowed["ok"] and allowed["refused"] is None
    assert allowed["gaps"] == dr["gap_refused"]["gaps"]
    paused = dr["gap_kept_paused"]
    assert paused["ok"] and paused["gaps"] == []
    assert {s["item"] for s in paused["sections"]["dag_pause"]["skipped"]} == {
        "dr_catchup",
        "dr_fails",
        "dr_ticker",
        "dr_xcom",
    }


def test_dry_run_prints_the_plan_and_writes_nothing(dr: dict[str, Any]) -> None:
    report = dr["dry_run"]
    assert report["writes"] == 0 and report["ok"]
    assert report["sections"]["dag_runs"]["created"] == 9
    assert dr["after_dry_run"]["runs"] == 0
    assert {p["name"]: p["slots"] for p in dr["after_dry_run"]["pools"]} == {"default_pool": 128}
    cli = dr["cli_dry_run"]
    assert cli["code"] == 0, cli["stderr"]
    lines = cli["stdout"].splitlines()
    assert "dry run, nothing written" in lines[0]
    assert any(line.split()[:3] == ["dag_runs", "9", "0"] for line in lines)
    assert any("api_token" in line and "masked" in line for line in lines)


def test_restore_reproduces_runs_task_states_and_settings(dr: dict[str, Any]) -> None:
    report = dr["restore"]
    assert report["ok"], report
    archived = items(dr["archives"]["url"], "dag_runs")
    after = dr["dest_after_restore"]["runs"]
    # The restore unpauses dr_ticker and B's scheduler is running: a new interval of it may
    # already have been scheduled when the state was read. Those are the only runs B may add.
    newest_tick = max(at(r["logical_date"]) for r in runs(archived, "dr_ticker"))
    added = [r for r in after if r["dag_id"] == "dr_ticker" and at(r["logical_date"]) > newest_tick]
    assert all(r["run_type"] == "scheduled" for r in added), added
    restored = [r for r in after if r not in added]
    assert len(restored) == len(archived) == 9
    for item in archived:
        if item["logical_date"]:
            (match,) = [
                r
                for r in restored
                if r["dag_id"] == item["dag_id"] and r["logical_date"] == item["logical_date"]
            ]
        else:
            (match,) = [
                r for r in restored if r["dag_id"] == item["dag_id"] and r["dag_run_id"] == item["dag_run_id"]
            ]
        for key in ("data_interval_start", "data_interval_end", "run_after", "state", "conf", "note"):
            assert match[key] == item[key], (item["dag_run_id"], key)
        expected = tis(item)
        if item["dag_id"] == "dr_fails":
            expected["after"] = "skipped"  # upstream_failed cannot be set; Airflow makes it skipped
        assert tis(match) == expected, item["dag_run_id"]
    ids = {r["dag_id"]: sorted(x["dag_run_id"] for x in runs(restored, r["dag_id"])) for r in restored}
    newest = (at(dr["start"]) + 3 * HOUR).isoformat()
    assert ids["dr_catchup"][0] == f"backfill__{newest}"  # the newest scheduled run anchors next_dagrun
    assert all(i.startswith("restored__scheduled__") for i in ids["dr_catchup"][1:])
    assert ids["dr_paused"] == ["p1", "p2"] and ids["dr_fails"] == ["f1"]
    skipped = report["sections"]["task_instances"]["skipped"]
    assert [s["item"] for s in skipped] == ["dr_fails f1 after"] and "upstream_failed" in skipped[0]["reason"]
    final = dr["dest_final"]
    assert {p["name"]: p["slots"] for p in final["pools"]} == {"default_pool": 64, "etl": 3}
    assert {v["key"]: v["value"] for v in final["variables"]} == {
        "plain": "hello",
        "json_settings": '{"a": 1, "b": [1, 2]}',
    }
    (conn,) = final["connections"]
    assert (conn["host"], conn["login"], conn["password"]) == ("db.internal", "etl", None)
    assert json.loads(conn["extra"]) == {"sslmode": "require"}
    assert {d["dag_id"]: d["is_paused"] for d in final["dags"]} == {
        d["dag_id"]: d["is_paused"] for d in items(dr["archives"]["url"], "dags")
    }


def test_second_restore_changes_nothing(dr: dict[str, Any]) -> None:
    report = dr["second_restore"]
    assert report["ok"] and report["writes"] == 0
    for name, section in report["sections"].items():
        assert section["created"] == section["updated"] == 0, name
    assert report["sections"]["dag_runs"]["unchanged"] == 9
    assert report["sections"]["dag_pause"]["unchanged"] == 5


def test_a_transport_without_limits_restores_the_long_xcom_paths(dr: dict[str, Any]) -> None:
    assert dr["restore"]["sections"]["xcoms"]["created"] == 2
    assert len(dr["restore"]["sections"]["xcoms"]["skipped"]) == 3
    report = dr["url_restore"]
    assert report["sections"]["xcoms"]["created"] == 3 and report["writes"] == 3
    keys = {(x["dag_id"], x["task_id"], x["key"]) for x in dr["dest_final"]["xcoms"]}
    assert keys == {
        ("dr_catchup", "extract", "return_value"),
        ("dr_xcom", "push", "return_value"),
        ("dr_xcom", "push", "extra"),
    }
    assert sum(1 for x in dr["dest_final"]["xcoms"] if x["dag_id"] == "dr_catchup") == 3


def test_no_task_ran_again_and_nothing_was_backfilled(dr: dict[str, Any]) -> None:
    archived = items(dr["archives"]["url"], "dag_runs")
    restored_keys = {(r["dag_id"], r["logical_date"] or r["dag_run_id"]) for r in archived}
    final = dr["dest_final"]
    for execution in final["executions"]:
        run = next(
            r
            for r in final["runs"]
            if r["dag_id"] == execution["dag_id"] and r["dag_run_id"] == execution["run_id"]
        )
        assert (run["dag_id"], run["logical_date"] or run["dag_run_id"]) not in restored_keys, execution
    # The first interval (outside the backup window) was not backfilled, nothing else was added.
    catchup = runs(final["runs"], "dr_catchup")
    assert [r["logical_date"] for r in catchup] == [r["logical_date"] for r in runs(archived, "dr_catchup")]
    assert at(dr["dest_catchup"]["next_dagrun_logical_date"]) == at(dr["start"]) + 4 * HOUR
    assert [r["state"] for r in runs(final["runs"], "dr_paused")] == ["success", "queued"]


def test_the_next_scheduled_interval_runs(dr: dict[str, Any]) -> None:
    archived = runs(items(dr["archives"]["url"], "dag_runs"), "dr_ticker")
    newest = max(at(r["logical_date"]) for r in archived)
    final = dr["dest_final"]
    new = [r for r in runs(final["runs"], "dr_ticker") if at(r["logical_date"]) > newest]
    assert new and all(r["run_type"] == "scheduled" for r in new)
    assert any(r["state"] == "success" and tis(r) == {"tick": "success"} for r in new)
    executed = {e["run_id"] for e in final["executions"] if e["dag_id"] == "dr_ticker"}
    assert {r["dag_run_id"] for r in new if r["state"] == "success"} <= executed
    assert len(runs(final["runs"], "dr_ticker")) == len(archived) + len(new)


def test_restore_through_invoke_rest_api_kept_to_its_limits(dr: dict[str, Any]) -> None:
    stand_in = dr["dest_standin"]
    assert_kept_to_the_limits(stand_in)
    calls = stand_in["calls"]
    assert all(len(path) <= 64 for _, path in calls)
    assert ("PATCH", "/dags/~/dagRuns/~/taskInstances") in [tuple(c) for c in calls]
    assert ("PATCH", "/dags/~/dagRuns") in [tuple(c) for c in calls]
    assert sum(1 for method, path in calls if (method, path) == ("POST", "/backfills")) == 2
