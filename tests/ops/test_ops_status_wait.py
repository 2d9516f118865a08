"""``status`` and ``wait``: GetEnvironment read, reported and polled."""

from __future__ import annotations

from datetime import UTC, datetime

from ops_testing import ENV, HOST, STACK, Aws, FakeTime

FAILED_UPDATE = {
    "Status": "FAILED",
    "CreatedAt": datetime(2026, 11, 28, 17, 0, tzinfo=UTC),
    "Error": {"ErrorCode": "INCORRECT_CONFIGURATION", "ErrorMessage": "requirements.txt failed to install"},
}


def test_status_for_people(aws: Aws, cli) -> None:
    aws.describe_stacks()
    aws.get_environment()

    result = cli("status")

    assert result.code == 0
    assert result.stdout.splitlines() == [
        f"environment  {ENV} (stack {STACK}, profile dev)",
        "status       AVAILABLE",
        "airflow      3.0.6",
        "class        mw1.small",
        "workers      1-2",
        "schedulers   2",
        f"web server   https://{HOST} (PUBLIC_ONLY)",
        "last update  SUCCESS at 2026-11-28 16:00:00 UTC",
    ]


def test_status_json(aws: Aws, cli) -> None:
    aws.get_environment(status="UPDATE_FAILED", last_update=FAILED_UPDATE)

    result = cli("status", "--environment", ENV, "--json")

    assert result.code == 0  # status reports; it does not judge
    assert result.json == {
        "name": ENV,
        "status": "UPDATE_FAILED",
        "airflow_version": "3.0.6",
        "environment_class": "mw1.small",
        "min_workers": 1,
        "max_workers": 2,
        "schedulers": 2,
        "webserver_url": f"https://{HOST}",
        "webserver_access_mode": "PUBLIC_ONLY",
        "last_update": {
            "status": "FAILED",
            "created_at": "2026-11-28T17:00:00+00:00",
            "error_code": "INCORRECT_CONFIGURATION",
            "error_message": "requirements.txt failed to install",
        },
        "stack": None,
        "profile": None,
    }


def test_status_shows_the_error_of_a_failed_update(aws: Aws, cli) -> None:
    aws.get_environment(status="UPDATE_FAILED", last_update=FAILED_UPDATE)

    lines = cli("status", "--environment", ENV).stdout.splitlines()

    assert "last update  FAILED at 2026-11-28 17:00:00 UTC" in lines
    assert "             INCORRECT_CONFIGURATION: requirements.txt failed to install" in lines


def test_get_environment_access_denied(aws: Aws, cli) -> None:
    aws.mwaa.add_client_error(
        "get_environment",
        service_error_code="AccessDeniedException",
        service_message="denied",
        http_status_code=403,
    )

    result = cli("status", "--environment", ENV)

    assert result.code == 3
    assert result.stderr == (
        f"mwaa-ops: error: access denied: airflow:GetEnvironment on environment {ENV} is not allowed "
        "for these credentials; allow airflow:GetEnvironment on the environment's ARN\n"
    )


def test_unknown_environment(aws: Aws, cli) -> None:
    aws.mwaa.add_client_error(
        "get_environment",
        service_error_code="ResourceNotFoundException",
        service_message="Environment nope not found",
        http_status_code=404,
    )

    result = cli("status", "--environment", ENV)

    assert result.code == 3
    assert f"environment {ENV} not found in this account and region" in result.stderr


def test_wait_polls_until_available(aws: Aws, cli, fake_time: FakeTime) -> None:
    aws.get_environment(status="UPDATING")
    aws.get_environment(status="UPDATING")
    aws.get_environment()

    result = cli("wait", "--environment", ENV, "--interval", "20")

    assert result.code == 0
    assert result.stdout == f"{ENV} is AVAILABLE\n"
    assert fake_time.sleeps == [20, 20]
    assert result.stderr.splitlines() == [
        f"{ENV}: UPDATING (0s elapsed)",
        f"{ENV}: UPDATING (20s elapsed)",
        f"{ENV}: AVAILABLE (40s elapsed)",
    ]
    aws.assert_done()


def test_wait_fails_on_update_failed_with_the_error(aws: Aws, cli) -> None:
    aws.get_environment(status="UPDATING")
    aws.get_environment(status="UPDATE_FAILED", last_update=FAILED_UPDATE)

    result = cli("wait", "--environment", ENV)

    assert result.code == 1
    assert result.stderr.splitlines()[-1] == (
        f"mwaa-ops: error: {ENV} is UPDATE_FAILED: "
        "INCORRECT_CONFIGURATION: requirements.txt failed to install"
    )


def test_wait_fails_on_create_failed(aws: Aws, cli) -> None:
    aws.get_environment(status="CREATE_FAILED", last_update={**FAILED_UPDATE, "Error": {"ErrorCode": "X"}})

    result = cli("wait", "--environment", ENV, "--json")

    assert result.code == 1
    assert result.json["error"]["message"] == f"{ENV} is CREATE_FAILED: X"


def test_wait_reports_an_update_that_rolled_back(aws: Aws, cli) -> None:
    aws.get_environment(status="ROLLING_BACK")
    aws.get_environment(status="AVAILABLE", last_update=FAILED_UPDATE)

    result = cli("wait", "--environment", ENV)

    assert result.code == 1
    assert "the update failed and was rolled back: INCORRECT_CONFIGURATION" in result.stderr


def test_wait_on_an_available_environment_returns_at_once(aws: Aws, cli, fake_time: FakeTime) -> None:
    # An old failed update does not fail a wait that saw no update running.
    aws.get_environment(status="AVAILABLE", last_update=FAILED_UPDATE)

    result = cli("wait", "--environment", ENV, "--json")

    assert result.code == 0
    assert result.json["status"] == "AVAILABLE"
    assert fake_time.sleeps == []


def test_wait_times_out_with_exit_code_4(aws: Aws, cli, fake_time: FakeTime) -> None:
    for _ in range(4):
        aws.get_environment(status="CREATING")

    result = cli("wait", "--environment", ENV, "--timeout", "50", "--interval", "20")

    assert result.code == 4
    assert fake_time.sleeps == [20, 20, 10]  # never sleeps past the deadline
    assert (
        result.stderr.splitlines()[-1]
        == f"mwaa-ops: error: {ENV} is still CREATING after 50s (--timeout 50s)"
    )
    aws.assert_done()
