"""``serverless``: MWAA Serverless workflows listed, run, followed and read, with botocore's Stubber."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber
from ops_testing import ACCOUNT, REGION, Aws, FakeTime

from mwaa_ops import serverless

NAME = "movie-list"
ARN = f"arn:aws:airflow-serverless:{REGION}:{ACCOUNT}:workflow/{NAME}-a1b2c3d4e5"
OTHER_ARN = f"arn:aws:airflow-serverless:{REGION}:{ACCOUNT}:workflow/smoke-f6g7h8i9j0"
RUN = "d58cxqdClpTVjeN"
LOG_GROUP = "mwaa-serverless-movie-list-logs"
T0 = datetime(2026, 11, 28, 17, 49, 22, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)


@pytest.fixture
def api(aws: Aws) -> Iterator[Stubber]:
    """The stubbed ``mwaa-serverless`` client, added beside the clients of ops_testing.Aws."""
    client = botocore.session.Session().create_client(
        "mwaa-serverless", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stub = Stubber(client)
    stub.activate()
    aws.clients["mwaa-serverless"] = client
    aws.stubs["mwaa-serverless"] = stub  # deactivated with the others by the aws fixture
    yield stub
    aws.assert_done()


def summary(name: str, arn: str, *, status: str = "READY", trigger: str = "SCHEDULE") -> dict[str, Any]:
    return {
        "WorkflowArn": arn,
        "WorkflowVersion": "7bcd36ce4d42f5cf23bfee67a0f816c6",
        "Name": name,
        "CreatedAt": T0 - timedelta(days=3),
        "ModifiedAt": T0 - timedelta(days=1),
        "WorkflowStatus": status,
        "TriggerMode": trigger,
    }


def workflow_run(state: str, **detail: Any) -> dict[str, Any]:
    """A GetWorkflowRun response as the API reference shapes it."""
    body: dict[str, Any] = {"RunState": state, "CreatedAt": T0, "TaskInstances": ["ti-1", "ti-2"], **detail}
    if state != "STARTING":
        body.setdefault("StartedOn", T0 + timedelta(seconds=5))
    return {"WorkflowArn": ARN, "RunId": RUN, "RunType": "ON_DEMAND", "RunDetail": body}


def expect_run(api: Stubber, state: str, **detail: Any) -> None:
    api.add_response("get_workflow_run", workflow_run(state, **detail), {"WorkflowArn": ARN, "RunId": RUN})


def expect_names(api: Stubber, *workflows: dict[str, Any]) -> None:
    api.add_response("list_workflows", {"Workflows": list(workflows)}, {})


def expect_start(api: Stubber, *, parameters: dict[str, Any] | None = None) -> None:
    # No ClientToken: botocore adds the idempotency token after the Stubber has seen the request.
    expected: dict[str, Any] = {"WorkflowArn": ARN}
    if parameters is not None:
        expected["OverrideParameters"] = parameters
    api.add_response("start_workflow_run", {"RunId": RUN, "Status": "STARTING", "StartedAt": T0}, expected)


def throttled(api: Stubber, operation: str) -> None:
    api.add_client_error(
        operation,
        service_error_code="ThrottlingException",
        service_message="Rate exceeded",
        http_status_code=400,
    )


def denied(stub: Stubber, operation: str) -> None:
    stub.add_client_error(
        operation, service_error_code="AccessDeniedException", service_message="denied", http_status_code=403
    )


def task_instances(api: Stubber, *instances: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """ListTaskInstances in two pages, then GetTaskInstance for each instance in list order."""
    summaries = [s for s, _ in instances]
    middle = len(summaries) // 2 or len(summaries)
    first = {"TaskInstances": summaries[:middle]}
    if summaries[middle:]:
        first["NextToken"] = "page-2"
    api.add_response("list_task_instances", first, {"WorkflowArn": ARN, "RunId": RUN})
    if summaries[middle:]:
        api.add_response(
            "list_task_instances",
            {"TaskInstances": summaries[middle:]},
            {"WorkflowArn": ARN, "RunId": RUN, "NextToken": "page-2"},
        )
    for s, detail in instances:
        api.add_response(
            "get_task_instance",
            {"WorkflowArn": ARN, "RunId": RUN, "TaskInstanceId": s["TaskInstanceId"], **detail},
            {"WorkflowArn": ARN, "RunId": RUN, "TaskInstanceId": s["TaskInstanceId"]},
        )


def instance(
    instance_id: str,
    task_id: str,
    status: str,
    *,
    start: int | None,
    duration: int | None = None,
    stream: str | None = None,
    error: str | None = None,
    attempt: int = 1,
) -> tuple[dict[str, Any], dict[str, Any]]:
    summary_: dict[str, Any] = {
        "TaskInstanceId": instance_id,
        "Status": status,
        "OperatorName": "PythonOperator",
    }
    if duration is not None:
        summary_["DurationInSeconds"] = duration
    detail: dict[str, Any] = {"TaskId": task_id, "Status": status, "AttemptNumber": attempt}
    if start is not None:
        detail["StartedAt"] = T0 + timedelta(seconds=start)
    if start is not None and duration is not None:
        detail["EndedAt"] = T0 + timedelta(seconds=start + duration)
        detail["DurationInSeconds"] = duration
    if stream is not None:
        detail["LogStream"] = stream
    if error is not None:
        detail["ErrorMessage"] = error
    return summary_, detail


def log_event(stream: str, offset_ms: int, text: str) -> dict[str, Any]:
    return {
        "logStreamName": stream,
        "timestamp": T0_MS + offset_ms,
        "message": json.dumps({"event": text, "level": "info", "logger": "task"}),
        "ingestionTime": T0_MS + offset_ms + 40,
        "eventId": f"{offset_ms:020d}",
    }


# -- list ----------------------------------------------------------------------------------


def test_list_reads_every_page_and_sorts_by_name(aws: Aws, api: Stubber, cli) -> None:
    api.add_response(
        "list_workflows", {"Workflows": [summary("smoke", OTHER_ARN, trigger="MANUAL")], "NextToken": "t"}, {}
    )
    api.add_response("list_workflows", {"Workflows": [summary(NAME, ARN)]}, {"NextToken": "t"})

    result = cli("serverless", "list")

    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "TRIGGER", "MODIFIED", "ARN"]
    assert lines[1].split() == [NAME, "READY", "SCHEDULE", "2026-11-27", "17:49:22", ARN]
    assert lines[2].split()[0] == "smoke"
    assert lines[-1] == "2 workflows"


def test_list_json(aws: Aws, api: Stubber, cli) -> None:
    expect_names(api, summary(NAME, ARN))

    result = cli("serverless", "list", "--json")

    assert result.code == 0
    (workflow,) = result.json["workflows"]
    assert workflow["workflow_arn"] == ARN
    assert workflow["modified_at"] == "2026-11-27T17:49:22+00:00"


def test_throttled_after_the_sdks_retries_is_an_aws_error(aws: Aws, api: Stubber, cli) -> None:
    throttled(api, "list_workflows")

    result = cli("serverless", "list", "--json")

    assert result.code == 3
    assert "(ThrottlingException): Rate exceeded" in result.stderr
    assert result.json["error"]["code"] == "ThrottlingException"


# -- run -----------------------------------------------------------------------------------


def test_run_resolves_a_name_to_its_arn(aws: Aws, api: Stubber, cli) -> None:
    # A workflow being deleted may still be listed beside the one that replaced it.
    deleting = summary(NAME, f"arn:aws:airflow-serverless:{REGION}:{ACCOUNT}:workflow/{NAME}-zzzzzzzzzz")
    deleting["WorkflowStatus"] = "DELETING"
    expect_names(api, deleting, summary(NAME, ARN), summary("smoke", OTHER_ARN))
    expect_start(api)

    result = cli("serverless", "run", NAME)

    assert result.code == 0, result.stderr
    assert result.stdout.strip() == f"started run {RUN} of {NAME}: STARTING"


def test_run_with_an_arn_skips_the_lookup_and_uses_the_arns_region(aws: Aws, api: Stubber, cli) -> None:
    expect_start(api, parameters={"day": "2026-11-28"})

    result = cli("serverless", "run", ARN, "--parameters", '{"day": "2026-11-28"}', "--json")

    assert result.code == 0, result.stderr
    assert result.json == {
        "workflow": NAME,
        "workflow_arn": ARN,
        "run_id": RUN,
        "state": "STARTING",
        "started_at": "2026-11-28T17:49:22+00:00",
    }
    assert aws.settings[-1].region == REGION


def test_an_arn_of_another_region_than_region_is_a_usage_error(aws: Aws, api: Stubber, cli) -> None:
    result = cli("serverless", "run", ARN, "--region", "eu-west-1")

    assert result.code == 2
    assert f"WORKFLOW is an ARN of {REGION}, but --region is eu-west-1" in result.stderr


@pytest.mark.parametrize("parameters", ["[1, 2]", "{not json"])
def test_parameters_must_be_a_json_object(aws: Aws, api: Stubber, cli, parameters: str) -> None:
    result = cli("serverless", "run", ARN, "--parameters", parameters)

    assert result.code == 2
    assert "--parameters:" in result.stderr


def test_run_of_an_unknown_name(aws: Aws, api: Stubber, cli) -> None:
    expect_names(api, summary("smoke", OTHER_ARN))

    result = cli("serverless", "run", NAME, "--json")

    assert result.code == 3
    assert f"no workflow named '{NAME}'" in result.stderr
    assert "(workflows: smoke)" in result.stderr
    assert result.json["error"]["code"] == "WorkflowNotFound"


def test_start_access_denied_names_the_action_the_arn_and_the_grant(aws: Aws, api: Stubber, cli) -> None:
    denied(api, "start_workflow_run")

    result = cli("serverless", "run", ARN)

    assert result.code == 3
    assert (
        f"access denied: airflow-serverless:StartWorkflowRun on workflow {ARN} is not allowed for these "
        "credentials; grant it with ServerlessWorkflow.grant_start_run()"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_name_lookup_access_denied_suggests_the_arn(aws: Aws, api: Stubber, cli) -> None:
    denied(api, "list_workflows")

    result = cli("serverless", "run", NAME)

    assert result.code == 3
    assert "access denied: airflow-serverless:ListWorkflows" in result.stderr
    assert "pass the workflow's ARN instead of its name" in result.stderr


def test_run_wait_polls_until_success(aws: Aws, api: Stubber, cli, fake_time: FakeTime) -> None:
    expect_start(api)
    expect_run(api, "STARTING")
    expect_run(api, "RUNNING")
    expect_run(api, "SUCCESS", CompletedOn=T0 + timedelta(seconds=40), Duration=35)

    result = cli("serverless", "run", ARN, "--wait", "--interval", "20")

    assert result.code == 0, result.stderr
    assert fake_time.sleeps == [20.0, 20.0]
    assert result.stdout.strip() == f"run {RUN} of {NAME}: SUCCESS after 40s"
    assert result.stderr.splitlines() == [
        f"started run {RUN} of {NAME}: STARTING",
        f"{NAME} {RUN}: STARTING (0s elapsed)",
        f"{NAME} {RUN}: RUNNING (20s elapsed)",
        f"{NAME} {RUN}: SUCCESS (40s elapsed)",
    ]


@pytest.mark.parametrize("state", ["FAILED", "TIMEOUT", "STOPPED"])
def test_run_wait_exits_1_when_the_run_ends_otherwise(
    aws: Aws, api: Stubber, cli, fake_time: FakeTime, state: str
) -> None:
    expect_start(api)
    expect_run(api, "STOPPING" if state == "STOPPED" else "RUNNING")
    expect_run(api, state, ErrorMessage="Workflow execution failed")

    result = cli("serverless", "run", ARN, "--wait", "--json")

    assert result.code == 1
    assert result.json["state"] == state
    assert result.json["error_message"] == "Workflow execution failed"
    assert result.json["task_instances"] == ["ti-1", "ti-2"]


def test_run_wait_failure_for_people_points_at_tasks_and_logs(aws: Aws, api: Stubber, cli) -> None:
    expect_start(api)
    expect_run(api, "FAILED", ErrorMessage="expected token ',', got 'create_test_table'")

    result = cli("serverless", "run", ARN, "--wait")

    assert result.code == 1
    assert result.stdout.startswith(
        f"run {RUN} of {NAME} ended FAILED: expected token ',', got 'create_test_table'; see "
        f"`mwaa-ops serverless tasks {NAME} {RUN}`"
    )


def test_run_wait_times_out_with_exit_4(aws: Aws, api: Stubber, cli, fake_time: FakeTime) -> None:
    expect_start(api)
    for _ in range(3):
        expect_run(api, "RUNNING")

    result = cli("serverless", "run", ARN, "--wait", "--timeout", "20", "--interval", "15")

    assert result.code == 4
    assert fake_time.sleeps == [15.0, 5.0]  # the last sleep ends exactly at the timeout
    assert f"run {RUN} of {NAME} is still RUNNING after 20s (--timeout 20s)" in result.stderr


def test_run_wait_keeps_polling_through_a_throttled_poll(
    aws: Aws, api: Stubber, cli, fake_time: FakeTime
) -> None:
    expect_start(api)
    throttled(api, "get_workflow_run")
    expect_run(api, "SUCCESS")

    result = cli("serverless", "run", ARN, "--wait")

    assert result.code == 0, result.stderr
    assert fake_time.sleeps == [15.0]
    assert f"{NAME} {RUN}: GetWorkflowRun throttled (ThrottlingException); polling again" in result.stderr


def test_run_wait_stops_on_an_error_that_is_not_throttling(aws: Aws, api: Stubber, cli) -> None:
    expect_start(api)
    denied(api, "get_workflow_run")

    result = cli("serverless", "run", ARN, "--wait")

    assert result.code == 3
    assert f"airflow-serverless:GetWorkflowRun on run {RUN} of workflow {ARN}" in result.stderr


# -- status and tasks ----------------------------------------------------------------------


def test_status_for_people(aws: Aws, api: Stubber, cli) -> None:
    expect_run(
        api,
        "FAILED",
        CompletedOn=T0 + timedelta(minutes=3, seconds=7),
        Duration=182,
        ErrorMessage="Workflow execution failed",
    )

    result = cli("serverless", "status", ARN, RUN)

    assert result.code == 0  # status reports; it does not judge
    assert result.stdout.splitlines() == [
        f"workflow   {NAME} ({ARN})",
        f"run        {RUN} (ON_DEMAND)",
        "state      FAILED",
        "created    2026-11-28 17:49:22",
        "started    2026-11-28 17:49:27",
        "completed  2026-11-28 17:52:29",
        "duration   3m02s",
        "tasks      2 task instances",
        "error      Workflow execution failed",
    ]


def test_status_of_an_unknown_run(aws: Aws, api: Stubber, cli) -> None:
    api.add_client_error(
        "get_workflow_run",
        service_error_code="ResourceNotFoundException",
        service_message="Run not found",
        http_status_code=404,
    )

    result = cli("serverless", "status", ARN, "nope", "--json")

    assert result.code == 3
    assert f"run nope of workflow {ARN} not found" in result.stderr
    assert result.json["error"]["code"] == "ResourceNotFoundException"


def test_tasks_lists_every_page_with_details_in_start_order(aws: Aws, api: Stubber, cli) -> None:
    task_instances(
        api,
        instance("ti-load", "load", "QUEUED", start=None),
        instance("ti-download", "download", "SUCCESS", start=0, duration=95),
        instance("ti-transform", "transform", "FAILED", start=100, duration=4, error="KeyError: 'title'"),
    )

    result = cli("serverless", "tasks", ARN, RUN)

    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TASK", "ATTEMPT", "STATE", "OPERATOR", "STARTED", "ENDED", "DURATION"]
    assert [line.split()[0] for line in lines[1:4]] == ["download", "transform", "load"]
    assert lines[1].split()[-1] == "1m35s"
    assert lines[3].split()[-3:] == ["-", "-", "-"]  # not started: no times, no duration
    assert lines[4] == f"3 task instances in run {RUN} of {NAME}: 1 FAILED, 1 QUEUED, 1 SUCCESS"
    assert lines[-1] == "transform (attempt 1): KeyError: 'title'"


@pytest.fixture
def named(api: Stubber) -> None:
    """The name lookup the tests below start with."""
    expect_names(api, summary(NAME, ARN))


def test_tasks_json(aws: Aws, api: Stubber, cli, named: None) -> None:
    task_instances(api, instance("ti-download", "download", "SUCCESS", start=0, duration=95, stream="s/1"))

    result = cli("serverless", "tasks", NAME, RUN, "--json")

    assert result.code == 0
    assert result.json["workflow_arn"] == ARN
    assert result.json["task_instances"] == [
        {
            "task_instance_id": "ti-download",
            "task_id": "download",
            "status": "SUCCESS",
            "operator": "PythonOperator",
            "attempt": 1,
            "started_at": "2026-11-28T17:49:22+00:00",
            "ended_at": "2026-11-28T17:50:57+00:00",
            "duration_seconds": 95,
            "error_message": None,
            "log_stream": "s/1",
        }
    ]


# -- logs ----------------------------------------------------------------------------------


def expect_log_group(api: Stubber) -> None:
    api.add_response(
        "get_workflow",
        {"WorkflowArn": ARN, "Name": NAME, "LoggingConfiguration": {"LogGroupName": LOG_GROUP}},
        {"WorkflowArn": ARN},
    )


def test_logs_reads_the_streams_the_task_instances_report(aws: Aws, api: Stubber, cli) -> None:
    expect_run(api, "SUCCESS")
    expect_log_group(api)
    task_instances(
        api,
        instance("ti-load", "load", "SUCCESS", start=60, duration=5, stream="stream-load"),
        instance("ti-download", "download", "SUCCESS", start=0, duration=50, stream="stream-download"),
    )
    aws.logs.add_response(
        "filter_log_events",
        {
            "events": [
                log_event("stream-load", 61_000, "loaded"),
                log_event("stream-download", 2_000, "fetched"),
            ],
            "nextToken": "n",
        },
        {"logGroupName": LOG_GROUP, "logStreamNames": ["stream-download", "stream-load"]},
    )
    aws.logs.add_response(
        "filter_log_events",
        {"events": [log_event("stream-download", 1_000, "start")]},
        {"logGroupName": LOG_GROUP, "logStreamNames": ["stream-download", "stream-load"], "nextToken": "n"},
    )

    result = cli("serverless", "logs", ARN, RUN)

    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "==> download attempt 1: stream-download <==",
        "2026-11-28T17:49:23.000Z INFO [task] start",
        "2026-11-28T17:49:24.000Z INFO [task] fetched",
        "",
        "==> load attempt 1: stream-load <==",
        "2026-11-28T17:50:23.000Z INFO [task] loaded",
    ]


def test_logs_of_one_task_json(aws: Aws, api: Stubber, cli) -> None:
    expect_run(api, "RUNNING")
    expect_log_group(api)
    task_instances(
        api,
        instance("ti-download", "download", "SUCCESS", start=0, duration=50, stream="stream-download"),
        instance("ti-load", "load", "RUNNING", start=60, stream="stream-load"),
    )
    aws.logs.add_response(
        "filter_log_events",
        {"events": [log_event("stream-load", 61_000, "loading")]},
        {"logGroupName": LOG_GROUP, "logStreamNames": ["stream-load"]},
    )

    result = cli("serverless", "logs", ARN, RUN, "load", "--json")

    assert result.code == 0, result.stderr
    assert result.json["log_group"] == LOG_GROUP
    assert result.json["source"] == "task instances"
    (stream,) = result.json["streams"]
    assert stream["task_id"] == "load"
    assert stream["stream"] == "stream-load"
    assert [e["timestamp"] for e in stream["events"]] == [T0_MS + 61_000]


def test_logs_of_an_unknown_task(aws: Aws, api: Stubber, cli) -> None:
    expect_run(api, "SUCCESS")
    expect_log_group(api)
    task_instances(api, instance("ti-download", "download", "SUCCESS", start=0, duration=50, stream="s"))

    result = cli("serverless", "logs", ARN, RUN, "upload")

    assert result.code == 1
    assert f"run {RUN} of {NAME} has no task 'upload' (tasks: download)" in result.stderr


def test_logs_without_reported_streams_filter_the_group_by_run_id(aws: Aws, api: Stubber, cli) -> None:
    expect_run(api, "FAILED", CompletedOn=T0 + timedelta(minutes=2))
    expect_log_group(api)
    task_instances(api, instance("ti-download", "download", "FAILED", start=0, duration=3))
    aws.logs.add_response(
        "filter_log_events",
        {"events": [log_event("some-stream", 500, f"run {RUN} failed")]},
        {
            "logGroupName": LOG_GROUP,
            "filterPattern": f'"{RUN}"',
            "startTime": T0_MS - 60_000,
            "endTime": T0_MS + 180_000,
        },
    )

    result = cli("serverless", "logs", ARN, RUN, "--json")

    assert result.code == 0, result.stderr
    assert result.json["source"] == "run id filter"
    assert [s["stream"] for s in result.json["streams"]] == ["some-stream"]
    assert "searching mwaa-serverless-movie-list-logs for events that mention the run id" in result.stderr


def test_logs_of_a_run_that_failed_before_any_task(aws: Aws, api: Stubber, cli) -> None:
    expect_run(api, "FAILED", TaskInstances=[], ErrorMessage="expected token ',', got 'create_test_table'")
    expect_log_group(api)
    api.add_response("list_task_instances", {"TaskInstances": []}, {"WorkflowArn": ARN, "RunId": RUN})
    aws.logs.add_response(
        "filter_log_events",
        {"events": []},
        {"logGroupName": LOG_GROUP, "filterPattern": f'"{RUN}"', "startTime": T0_MS - 60_000},
    )

    result = cli("serverless", "logs", ARN, RUN)

    assert result.code == 1
    assert (
        f"no logs for run {RUN} of {NAME} in {LOG_GROUP} (the run is FAILED: expected token ',', "
        "got 'create_test_table')"
    ) in result.stderr


def test_logs_access_denied_names_the_workflows_log_group(aws: Aws, api: Stubber, cli) -> None:
    expect_run(api, "SUCCESS")
    expect_log_group(api)
    task_instances(api, instance("ti-download", "download", "SUCCESS", start=0, duration=50, stream="s"))
    denied(aws.logs, "filter_log_events")

    result = cli("serverless", "logs", ARN, RUN)

    assert result.code == 3
    assert (
        f"access denied: logs:FilterLogEvents on log group {LOG_GROUP} is not allowed for these credentials; "
        f"allow logs:FilterLogEvents on the workflow's log group {LOG_GROUP}"
    ) in result.stderr


# -- the model -----------------------------------------------------------------------------


def test_the_commands_call_only_operations_of_the_pinned_botocore() -> None:
    model = botocore.session.Session().get_service_model("mwaa-serverless")
    used = {
        "ListWorkflows",
        "StartWorkflowRun",
        "GetWorkflowRun",
        "ListTaskInstances",
        "GetTaskInstance",
        "GetWorkflow",
    }
    assert used <= set(model.operation_names)
    # The wait loop's final states are the model's run states.
    assert (
        set(model.shape_for("WorkflowRunStatus").enum)
        >= serverless.SUCCESS_STATES | serverless.FAILURE_STATES
    )
