"""``logs`` (CloudWatch task log streams), ``login`` (web login URL) and ``smoke`` (the
post-deploy check)."""

from __future__ import annotations

import json
from typing import Any

from ops_testing import DAG, ENV, FIRST_PAGE, HOST, RUN_ID, TRIGGER_BODY, Aws, FakeTime, run

from mwaa_ops.task_logs import stream_prefix

TASK_GROUP = f"airflow-{ENV}-Task"
SCHEDULED = "scheduled__2026-11-28T00:00:00+00:00"
T0 = 1_795_888_162_000  # 2026-11-28T17:49:22Z in epoch milliseconds


def event(stream: str, offset_ms: int, message: str) -> dict[str, Any]:
    return {
        "logStreamName": stream,
        "timestamp": T0 + offset_ms,
        "message": message,
        "ingestionTime": T0 + offset_ms + 50,
        "eventId": f"{offset_ms:020d}",
    }


def structured(text: str, level: str = "info", logger: str = "task") -> str:
    """An Airflow 3 task log event as the CloudWatch handler stores it: JSON without a time."""
    return json.dumps({"event": text, "level": level, "logger": logger})


# -- logs ----------------------------------------------------------------------------------


def test_stream_prefix_follows_the_log_filename_template() -> None:
    assert stream_prefix(DAG, SCHEDULED) == f"dag_id={DAG}/run_id=scheduled__2026-11-28T00_00_00+00_00/"
    assert stream_prefix(DAG, RUN_ID, "load") == f"dag_id={DAG}/run_id={RUN_ID}/task_id=load/"


def test_logs_reads_every_page_and_groups_attempts_in_start_order(aws: Aws, cli) -> None:
    prefix = stream_prefix(DAG, SCHEDULED)
    first, second = f"{prefix}task_id=download/attempt=1.log", f"{prefix}task_id=load/attempt=1.log"
    aws.describe_stacks()
    aws.logs.add_response(
        "filter_log_events",
        {
            "events": [event(second, 5000, structured("loading")), event(first, 0, structured("start"))],
            "nextToken": "t1",
        },
        {"logGroupName": TASK_GROUP, "logStreamNamePrefix": prefix},
    )
    aws.logs.add_response(
        "filter_log_events",
        {"events": [event(first, 1000, structured("boom", level="error", logger="airflow.task"))]},
        {"logGroupName": TASK_GROUP, "logStreamNamePrefix": prefix, "nextToken": "t1"},
    )

    result = cli("logs", DAG, SCHEDULED)

    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"==> {first} <==",
        "2026-11-28T17:49:22.000Z INFO [task] start",
        "2026-11-28T17:49:23.000Z ERROR [airflow.task] boom",
        "",
        f"==> {second} <==",
        "2026-11-28T17:49:27.000Z INFO [task] loading",
    ]
    aws.assert_done()


def test_logs_of_one_task_as_json_keep_raw_messages(aws: Aws, cli) -> None:
    prefix = stream_prefix(DAG, RUN_ID, "load")
    stream = f"{prefix}attempt=1.log"
    plain = "[2026-11-28, 17:49:22 UTC] {taskinstance.py:1} INFO - Airflow 2 line"
    aws.logs.add_response(
        "filter_log_events",
        {"events": [event(stream, 0, plain)]},
        {"logGroupName": TASK_GROUP, "logStreamNamePrefix": prefix},
    )

    result = cli("logs", DAG, RUN_ID, "load", "--environment", ENV, "--json")

    assert result.code == 0
    assert result.json == {
        "log_group": TASK_GROUP,
        "streams": [{"stream": stream, "events": [{"timestamp": T0, "message": plain}]}],
    }


def test_logs_with_no_streams_exit_1(aws: Aws, cli) -> None:
    aws.logs.add_response("filter_log_events", {"events": []})

    result = cli("logs", DAG, RUN_ID, "--environment", ENV)

    assert result.code == 1
    assert f"no task logs for run {RUN_ID} of {DAG} in {TASK_GROUP}" in result.stderr


def test_logs_access_denied_names_the_log_group(aws: Aws, cli) -> None:
    aws.logs.add_client_error(
        "filter_log_events",
        service_error_code="AccessDeniedException",
        service_message="no",
        http_status_code=400,
    )

    result = cli("logs", DAG, RUN_ID, "--environment", ENV)

    assert result.code == 3
    assert (
        f"access denied: logs:FilterLogEvents on log group {TASK_GROUP} is not allowed for these "
        "credentials; allow logs:FilterLogEvents on the environment's Task log group" in result.stderr
    )


def test_logs_missing_group(aws: Aws, cli) -> None:
    aws.logs.add_client_error(
        "filter_log_events",
        service_error_code="ResourceNotFoundException",
        service_message="The specified log group does not exist.",
    )

    result = cli("logs", DAG, RUN_ID, "--environment", ENV)

    assert result.code == 3
    assert f"log group {TASK_GROUP} not found" in result.stderr


# -- login ---------------------------------------------------------------------------------


def test_login_prints_the_sso_url(aws: Aws, cli) -> None:
    aws.mwaa.add_response(
        "create_web_login_token",
        {"WebToken": "tok3n", "WebServerHostname": HOST, "IamIdentity": "arn:aws:sts::111122223333:x"},
        {"Name": ENV},
    )
    aws.get_environment()

    result = cli("login", "--environment", ENV)

    assert result.code == 0
    assert result.stdout == f"https://{HOST}/aws_mwaa/aws-console-sso?login=true#tok3n\n"
    assert "within a minute" in result.stderr
    assert "private" not in result.stderr


def test_login_to_a_private_web_server_says_where_the_url_loads(aws: Aws, cli) -> None:
    aws.mwaa.add_response("create_web_login_token", {"WebToken": "t", "WebServerHostname": HOST})
    aws.get_environment(access_mode="PRIVATE_ONLY")

    result = cli("login", "--environment", ENV, "--json")

    assert result.code == 0
    assert result.json["url"] == f"https://{HOST}/aws_mwaa/aws-console-sso?login=true#t"
    assert result.json["webserver_access_mode"] == "PRIVATE_ONLY"
    assert "admits on TCP 443 (profile setting webserver_access" in result.stderr


def test_login_needs_only_the_web_login_grant(aws: Aws, cli) -> None:
    # A role granted access.web_login may not read the environment: it still gets its URL.
    aws.mwaa.add_response("create_web_login_token", {"WebToken": "t", "WebServerHostname": HOST})
    aws.mwaa.add_client_error(
        "get_environment", service_error_code="AccessDeniedException", http_status_code=403
    )

    result = cli("login", "--environment", ENV)

    assert result.code == 0
    assert result.stdout == f"https://{HOST}/aws_mwaa/aws-console-sso?login=true#t\n"


def test_login_json(aws: Aws, cli) -> None:
    aws.mwaa.add_response(
        "create_web_login_token", {"WebToken": "t", "WebServerHostname": HOST, "AirflowIdentity": "admin"}
    )
    aws.get_environment()

    result = cli("login", "--environment", ENV, "--json")

    assert result.json["url"] == f"https://{HOST}/aws_mwaa/aws-console-sso?login=true#t"
    assert result.json["airflow_identity"] == "admin"


def test_login_access_denied_names_the_grant(aws: Aws, cli) -> None:
    aws.mwaa.add_client_error(
        "create_web_login_token", service_error_code="AccessDeniedException", http_status_code=403
    )

    result = cli("login", "--environment", ENV)

    assert result.code == 3
    assert result.stderr.strip().endswith(
        "grant it with AirflowEnvironment.grant_web_login() or the profile setting access.web_login"
    )
    assert "airflow:CreateWebLoginToken" in result.stderr


# -- smoke ---------------------------------------------------------------------------------


def _healthy(aws: Aws) -> None:
    aws.get_environment()
    aws.rest("GET", "/importErrors", {"import_errors": [], "total_entries": 0}, query=FIRST_PAGE)


def test_smoke_passes_with_a_successful_run(aws: Aws, cli, fake_time: FakeTime) -> None:
    _healthy(aws)
    aws.rest("GET", f"/dags/{DAG}", {"dag_id": DAG, "is_paused": False})
    aws.rest("POST", f"/dags/{DAG}/dagRuns", run("queued"), body=TRIGGER_BODY)
    aws.rest("GET", f"/dags/{DAG}/dagRuns/{RUN_ID}", run("running"))
    aws.rest("GET", f"/dags/{DAG}/dagRuns/{RUN_ID}", run("success"))

    result = cli("smoke", "--environment", ENV, "--dag", DAG, "--interval", "30")

    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"PASS environment: {ENV} is AVAILABLE (Airflow 3.0.6, mw1.small)",
        "PASS import errors: none",
        f"PASS dag: {DAG} is active",
        f"PASS run: {RUN_ID} of {DAG} succeeded in 30s",
        f"smoke {ENV}: PASS (4 checks)",
    ]
    aws.assert_done()


def test_smoke_without_dag_checks_state_and_imports(aws: Aws, cli) -> None:
    _healthy(aws)

    result = cli("smoke", "--environment", ENV, "--json")

    assert result.code == 0
    assert result.json == {
        "environment": ENV,
        "passed": True,
        "checks": [
            {
                "check": "environment",
                "passed": True,
                "detail": f"{ENV} is AVAILABLE (Airflow 3.0.6, mw1.small)",
            },
            {"check": "import errors", "passed": True, "detail": "none"},
        ],
    }
    assert "PASS environment" in result.stderr  # progress stays off stdout with --json
    aws.assert_done()


def test_smoke_fails_on_import_errors(aws: Aws, cli) -> None:
    aws.get_environment()
    errors = [{"filename": f"dags/{name}.py", "stack_trace": "x", "timestamp": "t"} for name in ("b", "a")]
    aws.rest("GET", "/importErrors", {"import_errors": errors, "total_entries": 2}, query=FIRST_PAGE)

    result = cli("smoke", "--environment", ENV, "--dag", DAG)

    assert result.code == 1
    assert "FAIL import errors: 2 files failed to import: dags/a.py, dags/b.py" in result.stdout
    assert result.stdout.splitlines()[-1] == f"smoke {ENV}: FAIL (1 of 2 checks)"
    aws.assert_done()  # no trigger after a failed check


def test_smoke_fails_when_not_available_without_calling_the_api(aws: Aws, cli) -> None:
    aws.get_environment(status="UPDATING")

    result = cli("smoke", "--environment", ENV)

    assert result.code == 1
    assert result.stdout.splitlines()[0] == f"FAIL environment: {ENV} is UPDATING (Airflow 3.0.6, mw1.small)"
    aws.assert_done()


def test_smoke_fails_on_a_paused_dag(aws: Aws, cli) -> None:
    _healthy(aws)
    aws.rest("GET", f"/dags/{DAG}", {"dag_id": DAG, "is_paused": True})

    result = cli("smoke", "--environment", ENV, "--dag", DAG)

    assert result.code == 1
    assert f"FAIL dag: {DAG} is paused: a triggered run would stay queued; unpause it first" in result.stdout


def test_smoke_fails_on_a_failed_run(aws: Aws, cli) -> None:
    _healthy(aws)
    aws.rest("GET", f"/dags/{DAG}", {"dag_id": DAG, "is_paused": False})
    aws.rest("POST", f"/dags/{DAG}/dagRuns", run("queued"), body=TRIGGER_BODY)
    aws.rest("GET", f"/dags/{DAG}/dagRuns/{RUN_ID}", run("failed"))

    result = cli("smoke", "--environment", ENV, "--dag", DAG, "--json")

    assert result.code == 1
    assert result.json["passed"] is False
    assert result.json["checks"][-1] == {
        "check": "run",
        "passed": False,
        "detail": f"run {RUN_ID} of {DAG} failed; see `mwaa-ops logs {DAG} {RUN_ID}`",
    }


def test_smoke_run_timeout_exits_4(aws: Aws, cli) -> None:
    _healthy(aws)
    aws.rest("GET", f"/dags/{DAG}", {"dag_id": DAG, "is_paused": False})
    aws.rest("POST", f"/dags/{DAG}/dagRuns", run("queued"), body=TRIGGER_BODY)
    aws.rest("GET", f"/dags/{DAG}/dagRuns/{RUN_ID}", run("queued"))
    aws.rest("GET", f"/dags/{DAG}/dagRuns/{RUN_ID}", run("running"))

    result = cli("smoke", "--environment", ENV, "--dag", DAG, "--timeout", "60", "--interval", "60")

    assert result.code == 4
    assert f"FAIL run: run {RUN_ID} of {DAG} is still running after 1m00s" in result.stdout


def test_smoke_aws_errors_are_not_check_failures(aws: Aws, cli) -> None:
    aws.get_environment()
    aws.rest_error("AccessDeniedException", http_status=403)

    result = cli("smoke", "--environment", ENV)

    assert result.code == 3
    assert "PASS environment" in result.stdout
    assert "airflow:InvokeRestApi" in result.stderr
