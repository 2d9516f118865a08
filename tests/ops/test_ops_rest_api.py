"""``dags``, ``trigger``, ``runs``: the Airflow REST API through InvokeRestApi, its errors and
the backoff on throttling."""

from __future__ import annotations

import pytest
from ops_testing import DAG, ENV, FIRST_PAGE, NOW, RUN_ID, TRIGGER_BODY, Aws, FakeTime, run

from mwaa_ops.airflow_api import AirflowApi, Backoff, PathTooLong, default_run_id
from mwaa_ops.aws import AwsClients, AwsSettings


def dag(dag_id: str, *, paused: bool, tags: tuple[str, ...] = ()) -> dict[str, object]:
    return {"dag_id": dag_id, "is_paused": paused, "tags": [{"name": t, "dag_id": dag_id} for t in tags]}


# -- dags ----------------------------------------------------------------------------------


def test_dags_lists_every_page_and_the_import_errors(aws: Aws, cli) -> None:
    aws.get_environment()
    first = [dag(f"dag_{i:03d}", paused=i % 2 == 0) for i in range(100)]
    aws.rest("GET", "/dags", {"dags": first, "total_entries": 101}, query=FIRST_PAGE)
    aws.rest(
        "GET",
        "/dags",
        {"dags": [dag(DAG, paused=False, tags=("movielens", "athena"))], "total_entries": 101},
        query={"limit": 100, "offset": 100},
    )
    aws.rest(
        "GET",
        "/importErrors",
        {
            "import_errors": [
                {
                    "import_error_id": 1,
                    "timestamp": "2026-11-28T17:40:00+00:00",
                    "filename": "/usr/local/airflow/dags/broken.py",
                    "bundle_name": "dags-folder",
                    "stack_trace": 'Traceback (most recent call last):\n  File "broken.py"\nSyntaxError: x',
                }
            ],
            "total_entries": 1,
        },
        query=FIRST_PAGE,
    )

    result = cli("dags", "--environment", ENV)

    assert result.code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["DAG", "STATE", "TAGS"]
    assert lines[1].split() == ["dag_000", "paused", "-"]
    assert lines[2].split() == ["dag_001", "active", "-"]
    assert lines[101].split() == [DAG, "active", "athena,movielens"]
    assert "101 DAGs, 50 paused" in lines
    assert "1 import error:" in lines
    assert "/usr/local/airflow/dags/broken.py (2026-11-28T17:40:00+00:00)" in lines
    assert "    SyntaxError: x" in lines
    aws.assert_done()


def test_dags_json(aws: Aws, cli) -> None:
    aws.get_environment(version="2.10.3")  # API v1: the same fields
    aws.rest("GET", "/dags", {"dags": [dag(DAG, paused=True)], "total_entries": 1}, query=FIRST_PAGE)
    aws.rest("GET", "/importErrors", {"import_errors": [], "total_entries": 0}, query=FIRST_PAGE)

    result = cli("dags", "--environment", ENV, "--json")

    assert result.json == {
        "environment": ENV,
        "dags": [{"dag_id": DAG, "is_paused": True, "tags": []}],
        "import_errors": [],
    }


def test_dags_without_import_errors_says_none(aws: Aws, cli) -> None:
    aws.get_environment()
    aws.rest("GET", "/dags", {"dags": [], "total_entries": 0}, query=FIRST_PAGE)
    aws.rest("GET", "/importErrors", {"import_errors": [], "total_entries": 0}, query=FIRST_PAGE)

    assert cli("dags", "--environment", ENV).stdout.splitlines()[-1] == "import errors: none"


def test_rest_api_access_denied_names_the_grant(aws: Aws, cli) -> None:
    aws.get_environment()
    aws.rest_error("AccessDeniedException", message="Airflow role is missing", http_status=403)

    result = cli("dags", "--environment", ENV)

    assert result.code == 3
    assert result.stderr == (
        f"mwaa-ops: error: access denied: airflow:InvokeRestApi on environment {ENV} is not allowed for "
        "these credentials; grant it with AirflowEnvironment.grant_rest_api() or the profile setting "
        "access.rest_api\n"
    )


# -- throttling ----------------------------------------------------------------------------


def test_throttled_calls_are_retried_with_exponential_backoff(aws: Aws, cli, fake_time: FakeTime) -> None:
    aws.get_environment()
    aws.rest_error("RestApiClientException", status=429, response={"detail": "Too Many Requests"})
    aws.rest_error("ThrottlingException", message="Rate exceeded")
    aws.rest_error("RestApiClientException", status=429, response={"detail": "Too Many Requests"})
    aws.rest("GET", "/dags", {"dags": [], "total_entries": 0}, query=FIRST_PAGE)
    aws.rest("GET", "/importErrors", {"import_errors": [], "total_entries": 0}, query=FIRST_PAGE)

    result = cli("dags", "--environment", ENV)

    assert result.code == 0, result.stderr
    # The harness draws the top of each jitter range: 0.5 * 2**n.
    assert fake_time.backoff_sleeps == [0.5, 1.0, 2.0]
    aws.assert_done()


def test_backoff_is_capped_and_jittered() -> None:
    draws: list[tuple[float, float]] = []
    backoff = Backoff(base=0.5, cap=8.0, uniform=lambda low, high: draws.append((low, high)) or high / 2)

    delays = [backoff.delay(n) for n in range(7)]

    assert draws == [(0.0, 0.5), (0.0, 1.0), (0.0, 2.0), (0.0, 4.0), (0.0, 8.0), (0.0, 8.0), (0.0, 8.0)]
    assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_throttling_gives_up_after_the_last_attempt(aws: Aws, cli, fake_time: FakeTime) -> None:
    aws.get_environment()
    for _ in range(6):
        aws.rest_error("RestApiClientException", status=429, response={"detail": "Too Many Requests"})

    result = cli("dags", "--environment", ENV)

    assert result.code == 3
    assert len(fake_time.backoff_sleeps) == 5
    assert "still throttled after 6 attempts (MWAA allows 10 requests a second)" in result.stderr


def test_rest_client_error_shows_airflow_detail(aws: Aws, cli) -> None:
    aws.get_environment()
    aws.rest_error(
        "RestApiClientException", status=404, response={"detail": "The Dag with ID: `nope` was not found"}
    )

    result = cli("runs", "nope", "--environment", ENV)

    assert result.code == 3
    assert result.stderr == (
        f"mwaa-ops: error: Airflow REST API of environment {ENV} rejected the request (HTTP 404): "
        "The Dag with ID: `nope` was not found\n"
    )


def test_rest_validation_errors_are_listed(aws: Aws, cli) -> None:
    aws.get_environment()
    detail = [{"loc": ["body", "logical_date"], "msg": "Field required", "type": "missing"}]
    aws.rest_error("RestApiClientException", status=422, response={"detail": detail})

    result = cli("trigger", DAG, "--environment", ENV)

    assert result.code == 3
    assert "(HTTP 422): body.logical_date: Field required" in result.stderr


def test_rest_server_error(aws: Aws, cli) -> None:
    aws.get_environment()
    aws.rest_error("RestApiServerException", status=500, response={"title": "Internal Server Error"})

    result = cli("runs", DAG, "--environment", ENV)

    assert result.code == 3
    assert (
        f"Airflow REST API of environment {ENV} server error (HTTP 500): Internal Server Error"
        in result.stderr
    )


# -- trigger -------------------------------------------------------------------------------


def test_trigger_sends_logical_date_and_a_short_run_id(aws: Aws, cli) -> None:
    aws.get_environment()
    aws.rest("POST", f"/dags/{DAG}/dagRuns", run("queued"), body=TRIGGER_BODY)

    result = cli("trigger", DAG, "--environment", ENV)

    assert result.code == 0
    assert result.stdout == f"triggered {DAG} run {RUN_ID}: queued\n"
    aws.assert_done()


def test_trigger_passes_conf_and_run_id(aws: Aws, cli) -> None:
    aws.get_environment(version="2.11.0")
    body = {**TRIGGER_BODY, "dag_run_id": "nightly-1", "conf": {"full": True}}
    aws.rest("POST", f"/dags/{DAG}/dagRuns", run("queued", "nightly-1"), body=body)

    result = cli(
        "trigger", DAG, "--environment", ENV, "--conf", '{"full": true}', "--run-id", "nightly-1", "--json"
    )

    assert result.code == 0
    assert result.json["dag_run_id"] == "nightly-1"


@pytest.mark.parametrize(
    ("conf", "message"),
    [("{nope", "--conf: invalid JSON"), ("[1, 2]", "--conf: got list; expected a JSON object")],
)
def test_trigger_rejects_bad_conf_before_any_call(aws: Aws, cli, conf: str, message: str) -> None:
    result = cli("trigger", DAG, "--environment", ENV, "--conf", conf)

    assert result.code == 2
    assert message in result.stderr
    aws.assert_done()


def test_trigger_wait_follows_the_run_to_success(aws: Aws, cli, fake_time: FakeTime) -> None:
    aws.get_environment()
    aws.rest("POST", f"/dags/{DAG}/dagRuns", run("queued"), body=TRIGGER_BODY)
    for state in ("queued", "running", "success"):
        aws.rest("GET", f"/dags/{DAG}/dagRuns/{RUN_ID}", run(state))

    result = cli("trigger", DAG, "--environment", ENV, "--wait", "--interval", "10")

    assert result.code == 0
    assert result.stdout == f"run {RUN_ID} of {DAG}: success\n"
    assert fake_time.sleeps == [10, 10]
    assert result.stderr.splitlines() == [
        f"triggered {DAG} run {RUN_ID}: queued",
        f"{DAG} {RUN_ID}: queued (0s elapsed)",
        f"{DAG} {RUN_ID}: running (10s elapsed)",
        f"{DAG} {RUN_ID}: success (20s elapsed)",
    ]
    aws.assert_done()


def test_trigger_wait_exits_1_when_the_run_fails(aws: Aws, cli) -> None:
    aws.get_environment()
    aws.rest("POST", f"/dags/{DAG}/dagRuns", run("queued"), body=TRIGGER_BODY)
    aws.rest("GET", f"/dags/{DAG}/dagRuns/{RUN_ID}", run("failed"))

    result = cli("trigger", DAG, "--environment", ENV, "--wait", "--json")

    assert result.code == 1
    assert result.json["state"] == "failed"
    assert f"mwaa-ops logs {DAG} {RUN_ID}" not in result.stdout  # the JSON is the run itself


def test_trigger_wait_failure_points_to_the_logs(aws: Aws, cli) -> None:
    aws.get_environment()
    aws.rest("POST", f"/dags/{DAG}/dagRuns", run("queued"), body=TRIGGER_BODY)
    aws.rest("GET", f"/dags/{DAG}/dagRuns/{RUN_ID}", run("failed"))

    result = cli("trigger", DAG, "--environment", ENV, "--wait")

    assert result.code == 1
    assert result.stdout == f"run {RUN_ID} of {DAG} failed; see `mwaa-ops logs {DAG} {RUN_ID}`\n"


def test_trigger_wait_times_out_with_exit_code_4(aws: Aws, cli) -> None:
    aws.get_environment()
    aws.rest("POST", f"/dags/{DAG}/dagRuns", run("queued"), body=TRIGGER_BODY)
    aws.rest("GET", f"/dags/{DAG}/dagRuns/{RUN_ID}", run("running"))
    aws.rest("GET", f"/dags/{DAG}/dagRuns/{RUN_ID}", run("running"))

    result = cli("trigger", DAG, "--environment", ENV, "--wait", "--timeout", "15", "--interval", "15")

    assert result.code == 4
    assert f"run {RUN_ID} of {DAG} is still running after 15s" in result.stderr


# -- runs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "order_by"), [("3.0.6", "-run_after"), ("2.10.3", "-execution_date")])
def test_runs_newest_first_in_each_api_version(aws: Aws, cli, version: str, order_by: str) -> None:
    aws.get_environment(version=version)
    aws.rest(
        "GET",
        f"/dags/{DAG}/dagRuns",
        {"dag_runs": [run("running", "b"), run("success", "a")], "total_entries": 2},
        query={"limit": 5, "order_by": order_by},
    )

    result = cli("runs", DAG, "--environment", ENV, "--limit", "5")

    assert result.code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["RUN", "ID", "STATE", "TYPE", "STARTED", "ENDED"]
    assert lines[1].split() == ["b", "running", "manual", "2026-11-28", "17:49:25", "-"]
    assert lines[2].split() == ["a", "success", "manual", "2026-11-28", "17:49:25", "2026-11-28", "17:53:01"]
    assert lines[3] == f"2 runs of {DAG}"
    aws.assert_done()


def test_runs_json(aws: Aws, cli) -> None:
    aws.get_environment()
    aws.rest(
        "GET",
        f"/dags/{DAG}/dagRuns",
        {"dag_runs": [], "total_entries": 0},
        query={"limit": 10, "order_by": "-run_after"},
    )

    result = cli("runs", DAG, "--environment", ENV, "--json")

    assert result.json == {"dag_id": DAG, "dag_runs": []}


# -- the 64-character path limit -----------------------------------------------------------


def test_long_run_paths_are_looked_up_in_the_run_list(aws: Aws) -> None:
    long_dag = "a_rather_long_dag_identifier"
    long_run = "scheduled__2026-11-28T00:00:00+00:00"
    api = AirflowApi(AwsClients(AwsSettings(), factory=aws.clients.__getitem__), ENV, airflow_major=3)
    aws.rest(
        "GET",
        f"/dags/{long_dag}/dagRuns",
        {"dag_runs": [run("running", "other"), run("success", long_run)], "total_entries": 2},
        query={"limit": 100, "order_by": "-run_after"},
    )

    assert api.get_run(long_dag, long_run)["state"] == "success"
    with pytest.raises(PathTooLong, match="has 79 characters; InvokeRestApi accepts at most 64"):
        api.request("GET", f"/dags/{long_dag}/dagRuns/{long_run}")
    aws.assert_done()


def test_default_run_id_keeps_paths_short() -> None:
    run_id = default_run_id(NOW)
    assert run_id == RUN_ID
    assert len(f"/dags/{'d' * 28}/dagRuns/{run_id}") == 64
