"""``mwaa-ops serverless``: list, run, follow and read Amazon MWAA Serverless workflows.

A serverless workflow has no environment, no web server and no stack output to find it by: the
commands address it by its name or its ARN and call the ``mwaa-serverless`` API of the pinned
botocore (ListWorkflows, StartWorkflowRun, GetWorkflowRun, ListTaskInstances, GetTaskInstance,
GetWorkflow) and CloudWatch Logs (FilterLogEvents). They follow the conventions of the other
commands (:mod:`mwaa_ops.cli`): plain text for people, one JSON document with ``--json``, the
exit codes of :class:`mwaa_ops.errors.ExitCode`, progress on stderr while waiting, and AWS errors
translated by :func:`mwaa_ops.errors.translate_botocore_error`.

Facts this module relies on, and where they come from:

- Run states ``STARTING QUEUED RUNNING SUCCESS FAILED TIMEOUT STOPPING STOPPED`` (the service
  model's ``WorkflowRunStatus``); ``SUCCESS`` is the one success and ``FAILED``, ``TIMEOUT``,
  ``STOPPED`` are failures, as the amazon provider's ``MwaaServerlessWorkflowRunSensor`` decides
  (apache-airflow-providers-amazon, ``airflow/providers/amazon/aws/sensors/mwaa_serverless.py``).
- A run whose definition the service cannot parse fails with no task instance and the parser's
  message in ``RunDetail.ErrorMessage`` ("Observability with CloudWatch",
  https://docs.aws.amazon.com/mwaa/latest/mwaa-serverless-userguide/observe-with-cloudwatch.html).
- Task logs are in the log group of the workflow's ``LoggingConfiguration`` (GetWorkflow), one
  stream per task instance, whose name GetTaskInstance reports as ``LogStream`` (API reference,
  https://docs.aws.amazon.com/mwaa-serverless/latest/APIReference/API_GetTaskInstance.html). The
  documentation gives no stream-name format, so no prefix is built here: the streams are those
  the task instances report, and when none does, the log group is searched for events that
  mention the run id.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mwaa_ops.aws import AwsClients, AwsSettings
from mwaa_ops.cli import PROG, Result, Runtime, _count, _emit_error, _table
from mwaa_ops.environment import format_duration
from mwaa_ops.errors import (
    AwsError,
    CheckFailed,
    ExitCode,
    OpsError,
    UsageError,
    WaitTimeout,
    translate_botocore_error,
)
from mwaa_ops.task_logs import TaskLog, render_event
from platform_config import DEFAULT_PROFILE, ProfileError, load_profile, read_cdk_profiles

SERVICE = "mwaa-serverless"
SUCCESS_STATES = frozenset({"SUCCESS"})
FAILURE_STATES = frozenset({"FAILED", "TIMEOUT", "STOPPED"})
THROTTLING_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "Throttling"})
# The service model's WorkflowArn pattern: the resource part is the name, a dash and a
# ten-character suffix the service generates.
WORKFLOW_ARN = re.compile(
    r"^arn:aws(?:-[a-z]+)*:airflow-serverless:(?P<region>[a-z]{2}-[a-z]+-\d):(?P<account>\d{12}):"
    r"workflow/(?P<name>[a-zA-Z0-9][a-zA-Z0-9.\-_]{0,254})-(?P<suffix>[a-zA-Z0-9]{10})$"
)
# FilterLogEvents takes at most 100 stream names per call (CloudWatch Logs API reference).
MAX_STREAMS_PER_CALL = 100

LOGS_HELP = """\
where the logs come from:
  the workflow's log group (GetWorkflow, LoggingConfiguration.LogGroupName), and in it the stream
  that GetTaskInstance reports (LogStream) for each task instance of the run. The service
  documents no stream-name format, so none is assumed: when no task instance reports a stream
  (for example a run whose definition failed to parse), the whole log group is searched, within
  the run's start and end, for events that mention the run id, which finds fewer lines.
"""

EPILOG = f"""\
WORKFLOW is a workflow name (looked up with ListWorkflows) or its ARN
(arn:aws:airflow-serverless:REGION:ACCOUNT:workflow/NAME-SUFFIX; its region is used unless
--region says otherwise). The region is --region, else the ARN's, else the `region` of the cdk.json
profile (--profile NAME, a cdk.json profile and not an AWS named profile; default
'{DEFAULT_PROFILE}' when ./cdk.json exists), else the AWS chain's (AWS_REGION). Credentials come
from the AWS chain; --aws-profile selects an AWS named profile.

exit codes: 0 success; 1 a run failed (run --wait: FAILED, TIMEOUT or STOPPED) or no logs were
found; 2 usage or cdk.json error; 3 AWS error (credentials, access denied, workflow or run not
found, throttled); 4 run --wait ran out of --timeout; 130 interrupted.
"""


# ---------------------------------------------------------------------------------- the API


@dataclass(frozen=True, kw_only=True)
class WorkflowRef:
    """A workflow as the commands address it: its ARN and a name for people."""

    arn: str
    name: str

    @property
    def target(self) -> str:
        """What error messages name: the ARN, which an IAM policy's Resource needs."""
        return f"workflow {self.arn}"


@dataclass(frozen=True, kw_only=True)
class WorkflowRun:
    """One run, from GetWorkflowRun (``RunDetail``)."""

    workflow_arn: str
    run_id: str
    state: str
    run_type: str | None = None
    workflow_version: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_seconds: int | None = None
    error_message: str | None = None
    task_instance_ids: tuple[str, ...] = ()

    @classmethod
    def from_response(cls, response: dict[str, Any], *, workflow_arn: str, run_id: str) -> WorkflowRun:
        detail = response.get("RunDetail") or {}
        return cls(
            workflow_arn=str(response.get("WorkflowArn") or workflow_arn),
            run_id=str(response.get("RunId") or run_id),
            state=str(detail.get("RunState") or "UNKNOWN"),
            run_type=response.get("RunType") or detail.get("RunType"),
            workflow_version=response.get("WorkflowVersion") or detail.get("WorkflowVersion"),
            created_at=detail.get("CreatedAt"),
            started_at=detail.get("StartedOn"),
            completed_at=detail.get("CompletedOn"),
            duration_seconds=detail.get("Duration"),
            error_message=detail.get("ErrorMessage"),
            task_instance_ids=tuple(str(t) for t in detail.get("TaskInstances") or ()),
        )

    @property
    def finished(self) -> bool:
        return self.state in SUCCESS_STATES | FAILURE_STATES

    def to_json(self) -> dict[str, Any]:
        return {
            "workflow_arn": self.workflow_arn,
            "run_id": self.run_id,
            "state": self.state,
            "run_type": self.run_type,
            "workflow_version": self.workflow_version,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "completed_at": _iso(self.completed_at),
            "duration_seconds": self.duration_seconds,
            "error_message": self.error_message,
            "task_instances": list(self.task_instance_ids),
        }


@dataclass(frozen=True, kw_only=True)
class TaskInstance:
    """One task instance (one attempt of one task), from ListTaskInstances and GetTaskInstance."""

    task_instance_id: str
    task_id: str
    status: str
    operator: str | None = None
    attempt: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    error_message: str | None = None
    log_stream: str | None = None

    @classmethod
    def from_responses(cls, summary: dict[str, Any], detail: dict[str, Any]) -> TaskInstance:
        def field(name: str) -> Any:
            value = detail.get(name)
            return summary.get(name) if value is None else value

        instance_id = str(field("TaskInstanceId"))
        return cls(
            task_instance_id=instance_id,
            task_id=str(detail.get("TaskId") or instance_id),
            status=str(field("Status") or "NONE"),
            operator=field("OperatorName"),
            attempt=detail.get("AttemptNumber"),
            started_at=detail.get("StartedAt"),
            ended_at=detail.get("EndedAt"),
            duration_seconds=field("DurationInSeconds"),
            error_message=detail.get("ErrorMessage"),
            log_stream=detail.get("LogStream"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "task_instance_id": self.task_instance_id,
            "task_id": self.task_id,
            "status": self.status,
            "operator": self.operator,
            "attempt": self.attempt,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "duration_seconds": self.duration_seconds,
            "error_message": self.error_message,
            "log_stream": self.log_stream,
        }


class ServerlessApi:
    """The ``mwaa-serverless`` and CloudWatch Logs calls of the commands, errors translated.

    Throttling is retried by botocore's standard retry mode (:mod:`mwaa_ops.aws`); what is still
    throttled after it surfaces as an :class:`AwsError` with the service's code, which the wait
    loop of :func:`wait_for_run` tolerates and every other caller reports."""

    def __init__(self, clients: AwsClients) -> None:
        self.clients = clients

    def _client(self) -> Any:
        return self.clients.client(SERVICE)

    def _call(
        self, call: Callable[[], Any], *, target: str, service: str = SERVICE, hint: str | None = None
    ) -> Any:
        try:
            return call()
        except (BotoCoreError, ClientError) as error:
            raise translate_botocore_error(error, service=service, target=target, hint=hint) from error

    def list_workflows(self, *, hint: str | None = None) -> list[dict[str, Any]]:
        """Every workflow of the account and region (ListWorkflows, every page), by name."""

        def collect() -> list[dict[str, Any]]:
            pages = self._client().get_paginator("list_workflows").paginate()
            return [w for page in pages for w in page.get("Workflows") or []]

        where = f" of {self.clients.region}" if self.clients.region else ""
        workflows = self._call(collect, target=f"the workflows{where}", hint=hint)
        return sorted(workflows, key=lambda w: (str(w.get("Name")), str(w.get("WorkflowArn"))))

    def resolve(self, workflow: str) -> WorkflowRef:
        """The workflow an argument names: an ARN as given, a name through ListWorkflows.

        Names are unique in an account and region; a workflow being deleted may still be listed
        beside its successor, so a READY one wins over one that is not."""
        match = WORKFLOW_ARN.fullmatch(workflow)
        if match:
            return WorkflowRef(arn=workflow, name=match["name"])
        if workflow.startswith("arn:"):
            raise UsageError(
                f"WORKFLOW: got {workflow!r}; expected a workflow name or an ARN such as "
                "arn:aws:airflow-serverless:us-east-1:111122223333:workflow/NAME-a1b2c3d4e5"
            )
        workflows = self.list_workflows(
            hint="pass the workflow's ARN instead of its name to skip this lookup, or allow "
            "airflow-serverless:ListWorkflows"
        )
        named = [w for w in workflows if w.get("Name") == workflow]
        ready = [w for w in named if w.get("WorkflowStatus") == "READY"]
        candidates = ready or named
        if not candidates:
            where = f" in {self.clients.region}" if self.clients.region else ""
            known = ", ".join(str(w.get("Name")) for w in workflows[:10]) or "none"
            raise AwsError(
                f"no workflow named {workflow!r}{where} (workflows: {known}); "
                f"`{PROG} serverless list` shows them, or pass the ARN",
                code="WorkflowNotFound",
            )
        if len(candidates) > 1:
            arns = ", ".join(str(w["WorkflowArn"]) for w in candidates)
            raise UsageError(f"{len(candidates)} workflows are named {workflow!r}: pass one ARN of {arns}")
        return WorkflowRef(arn=str(candidates[0]["WorkflowArn"]), name=workflow)

    def get_workflow(self, workflow: WorkflowRef) -> dict[str, Any]:
        return dict(
            self._call(lambda: self._client().get_workflow(WorkflowArn=workflow.arn), target=workflow.target)
        )

    def start_run(self, workflow: WorkflowRef, *, parameters: dict[str, Any] | None) -> dict[str, Any]:
        """StartWorkflowRun; botocore fills ``ClientToken`` (an idempotency token) itself, so a
        retried request cannot start a second run."""
        params: dict[str, Any] = {"WorkflowArn": workflow.arn}
        if parameters:
            params["OverrideParameters"] = parameters
        return dict(self._call(lambda: self._client().start_workflow_run(**params), target=workflow.target))

    def get_run(self, workflow: WorkflowRef, run_id: str) -> WorkflowRun:
        response = self._call(
            lambda: self._client().get_workflow_run(WorkflowArn=workflow.arn, RunId=run_id),
            target=f"run {run_id} of {workflow.target}",
        )
        return WorkflowRun.from_response(response, workflow_arn=workflow.arn, run_id=run_id)

    def task_instances(self, workflow: WorkflowRef, run_id: str) -> list[TaskInstance]:
        """Every task instance of the run (ListTaskInstances, every page), each with its
        GetTaskInstance details (task id, attempt, times, error, log stream), in start order."""
        target = f"run {run_id} of {workflow.target}"

        def collect() -> list[dict[str, Any]]:
            pages = (
                self._client()
                .get_paginator("list_task_instances")
                .paginate(WorkflowArn=workflow.arn, RunId=run_id)
            )
            return [t for page in pages for t in page.get("TaskInstances") or []]

        instances = []
        for summary in self._call(collect, target=target):
            instance_id = summary.get("TaskInstanceId")
            if not instance_id:  # optional in the model; without it there is nothing to look up
                continue

            def describe(instance_id: str = instance_id) -> Any:
                return self._client().get_task_instance(
                    WorkflowArn=workflow.arn, RunId=run_id, TaskInstanceId=instance_id
                )

            detail = self._call(describe, target=f"task instance {instance_id} of {target}")
            instances.append(TaskInstance.from_responses(summary, detail))
        return sorted(instances, key=_start_order)

    def filter_log_events(self, log_group: str, **params: Any) -> list[dict[str, Any]]:
        """Every event FilterLogEvents returns (every page), for ``params``."""

        def collect() -> list[dict[str, Any]]:
            pages = (
                self.clients.client("logs")
                .get_paginator("filter_log_events")
                .paginate(logGroupName=log_group, **params)
            )
            return [e for page in pages for e in page.get("events") or []]

        return list(
            self._call(
                collect,
                target=f"log group {log_group}",
                service="logs",
                hint=f"allow logs:FilterLogEvents on the workflow's log group {log_group}",
            )
        )


def wait_for_run(
    api: ServerlessApi,
    workflow: WorkflowRef,
    run_id: str,
    *,
    timeout: float,
    interval: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Callable[[str], None],
) -> WorkflowRun:
    """Poll GetWorkflowRun until the run reaches a final state (returned, success or failure)
    or ``timeout`` passes (:class:`WaitTimeout`). A throttled poll is not an outcome: it is
    reported and the next poll comes after ``interval`` like any other."""
    start = clock()
    state = "unknown"
    while True:
        try:
            run = api.get_run(workflow, run_id)
        except AwsError as error:
            if error.code not in THROTTLING_CODES:
                raise
            elapsed = clock() - start
            progress(f"{workflow.name} {run_id}: GetWorkflowRun throttled ({error.code}); polling again")
        else:
            state = run.state
            elapsed = clock() - start
            progress(f"{workflow.name} {run_id}: {state} ({format_duration(elapsed)} elapsed)")
            if run.finished:
                return run
        if elapsed >= timeout:
            raise WaitTimeout(
                f"run {run_id} of {workflow.name} is still {state} after {format_duration(elapsed)} "
                f"(--timeout {format_duration(timeout)}); follow it with "
                f"`{PROG} serverless status {workflow.name} {run_id}`"
            )
        sleep(min(interval, timeout - elapsed))


# ---------------------------------------------------------------------------------- commands


@dataclass(kw_only=True)
class Context:
    """A serverless command's arguments, API and output."""

    args: argparse.Namespace
    runtime: Runtime
    api: ServerlessApi

    def progress(self, line: str) -> None:
        print(line, file=self.runtime.stderr, flush=True)

    def workflow(self) -> WorkflowRef:
        return self.api.resolve(self.args.workflow)


def cmd_list(ctx: Context) -> Result:
    workflows = [
        {
            "name": w.get("Name"),
            "workflow_arn": w.get("WorkflowArn"),
            "status": w.get("WorkflowStatus"),
            "trigger_mode": w.get("TriggerMode"),
            "workflow_version": w.get("WorkflowVersion"),
            "description": w.get("Description"),
            "created_at": _iso(w.get("CreatedAt")),
            "modified_at": _iso(w.get("ModifiedAt")),
        }
        for w in ctx.api.list_workflows()
    ]
    rows = [
        [w["name"], w["status"], w["trigger_mode"], _time(w["modified_at"]), w["workflow_arn"]]
        for w in workflows
    ]
    lines = _table(["NAME", "STATUS", "TRIGGER", "MODIFIED", "ARN"], rows) if workflows else []
    lines.append(_count(len(workflows), "workflow"))
    return Result(text="\n".join(lines), data={"workflows": workflows})


def cmd_run(ctx: Context) -> Result:
    parameters = _parse_parameters(ctx.args.parameters)
    workflow = ctx.workflow()
    started = ctx.api.start_run(workflow, parameters=parameters)
    run_id = str(started.get("RunId"))
    text = f"started run {run_id} of {workflow.name}: {started.get('Status')}"
    data = {
        "workflow": workflow.name,
        "workflow_arn": workflow.arn,
        "run_id": run_id,
        "state": started.get("Status"),
        "started_at": _iso(started.get("StartedAt")),
    }
    if not ctx.args.wait:
        return Result(text=text, data=data)
    ctx.progress(text)
    start = ctx.runtime.clock()
    run = wait_for_run(
        ctx.api,
        workflow,
        run_id,
        timeout=ctx.args.timeout,
        interval=ctx.args.interval,
        sleep=ctx.runtime.sleep,
        clock=ctx.runtime.clock,
        progress=ctx.progress,
    )
    waited = format_duration(ctx.runtime.clock() - start)
    data = {"workflow": workflow.name, **run.to_json()}
    if run.state in SUCCESS_STATES:
        return Result(text=f"run {run_id} of {workflow.name}: {run.state} after {waited}", data=data)
    reason = f": {run.error_message}" if run.error_message else ""
    return Result(
        text=f"run {run_id} of {workflow.name} ended {run.state}{reason}; see "
        f"`{PROG} serverless tasks {workflow.name} {run_id}` and "
        f"`{PROG} serverless logs {workflow.name} {run_id}`",
        data=data,
        exit_code=ExitCode.FAILED,
    )


def cmd_status(ctx: Context) -> Result:
    workflow = ctx.workflow()
    run = ctx.api.get_run(workflow, ctx.args.run_id)
    rows = [
        ("workflow", f"{workflow.name} ({workflow.arn})"),
        ("run", f"{run.run_id} ({run.run_type or 'type unknown'})"),
        ("state", run.state),
        ("created", _time(run.created_at) or "-"),
        ("started", _time(run.started_at) or "-"),
        ("completed", _time(run.completed_at) or "-"),
        ("duration", format_duration(run.duration_seconds) if run.duration_seconds is not None else "-"),
        ("tasks", _count(len(run.task_instance_ids), "task instance")),
    ]
    if run.error_message:
        rows.append(("error", run.error_message))
    text = "\n".join(f"{label:<10} {value}".rstrip() for label, value in rows)
    return Result(text=text, data={"workflow": workflow.name, **run.to_json()})


def cmd_tasks(ctx: Context) -> Result:
    workflow = ctx.workflow()
    instances = ctx.api.task_instances(workflow, ctx.args.run_id)
    rows = [
        [
            t.task_id,
            t.attempt,
            t.status,
            t.operator,
            _time(t.started_at),
            _time(t.ended_at),
            format_duration(t.duration_seconds) if t.duration_seconds is not None else None,
        ]
        for t in instances
    ]
    lines = (
        _table(["TASK", "ATTEMPT", "STATE", "OPERATOR", "STARTED", "ENDED", "DURATION"], rows)
        if instances
        else []
    )
    states: dict[str, int] = {}
    for t in instances:
        states[t.status] = states.get(t.status, 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    lines.append(
        f"{_count(len(instances), 'task instance')} in run {ctx.args.run_id} of {workflow.name}"
        + (f": {summary}" if summary else "")
    )
    failed = [t for t in instances if t.error_message]
    if failed:
        lines.append("")
        lines.extend(f"{t.task_id} (attempt {t.attempt or '?'}): {t.error_message}" for t in failed)
    data = {
        "workflow": workflow.name,
        "workflow_arn": workflow.arn,
        "run_id": ctx.args.run_id,
        "task_instances": [t.to_json() for t in instances],
    }
    return Result(text="\n".join(lines), data=data)


def cmd_logs(ctx: Context) -> Result:
    workflow = ctx.workflow()
    run_id: str = ctx.args.run_id
    task: str | None = ctx.args.task
    run = ctx.api.get_run(workflow, run_id)
    log_group = (ctx.api.get_workflow(workflow).get("LoggingConfiguration") or {}).get("LogGroupName")
    if not log_group:
        raise CheckFailed(f"{workflow.name} has no log group (GetWorkflow returned no LoggingConfiguration)")

    instances = ctx.api.task_instances(workflow, run_id)
    if task is not None:
        chosen = [t for t in instances if task in (t.task_id, t.task_instance_id)]
        if not chosen:
            known = ", ".join(sorted({t.task_id for t in instances})) or "none"
            raise CheckFailed(f"run {run_id} of {workflow.name} has no task {task!r} (tasks: {known})")
        instances = chosen

    streamed = [t for t in instances if t.log_stream]
    logs: list[tuple[TaskInstance | None, TaskLog]]
    if streamed:
        source = "task instances"
        names = list(dict.fromkeys(str(t.log_stream) for t in streamed))
        events: list[dict[str, Any]] = []
        for chunk in _chunks(names, MAX_STREAMS_PER_CALL):
            events.extend(ctx.api.filter_log_events(log_group, logStreamNames=chunk))
        by_stream = _group(events)
        logs = [(t, by_stream.get(str(t.log_stream)) or TaskLog(stream=str(t.log_stream))) for t in streamed]
    else:
        source = "run id filter"
        ctx.progress(
            f"no task instance of run {run_id} reports a log stream: searching {log_group} for events "
            "that mention the run id"
        )
        found = _group(ctx.api.filter_log_events(log_group, filterPattern=f'"{run_id}"', **_window(run)))
        logs = [
            (None, log) for log in sorted(found.values(), key=lambda log: (log.first_timestamp, log.stream))
        ]

    if not any(log.events for _, log in logs):
        what = f"task {task} of run {run_id}" if task else f"run {run_id}"
        state = f"the run is {run.state}" + (f": {run.error_message}" if run.error_message else "")
        raise CheckFailed(
            f"no logs for {what} of {workflow.name} in {log_group} ({state}); a task that has not "
            "started has none yet"
        )

    lines: list[str] = []
    for instance, log in logs:
        label = f"{instance.task_id} attempt {instance.attempt or '?'}: " if instance else ""
        lines.append(f"==> {label}{log.stream} <==")
        lines.extend(render_event(event) for event in log.events)
        lines.append("")
    data = {
        "workflow": workflow.name,
        "workflow_arn": workflow.arn,
        "run_id": run_id,
        "log_group": log_group,
        "source": source,
        "streams": [
            {
                **log.to_json(),
                "task_id": instance.task_id if instance else None,
                "task_instance_id": instance.task_instance_id if instance else None,
                "attempt": instance.attempt if instance else None,
            }
            for instance, log in logs
        ],
    }
    return Result(text="\n".join(lines).rstrip("\n"), data=data)


COMMANDS: dict[str, Callable[[Context], Result]] = {
    "list": cmd_list,
    "run": cmd_run,
    "status": cmd_status,
    "tasks": cmd_tasks,
    "logs": cmd_logs,
}


# ---------------------------------------------------------------------------------- parsing

# As in mwaa_ops.cli: the common options default to SUPPRESS so that they may stand before or
# after the command name; these are their values when given nowhere.
COMMON_DEFAULTS: dict[str, Any] = {
    "profile": None,
    "cdk_json": Path("cdk.json"),
    "aws_profile": None,
    "region": None,
    "json": False,
}


def build_parser() -> argparse.ArgumentParser:
    """``mwaa-ops serverless COMMAND``: the commands, their arguments, the common options."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    where = common.add_argument_group("account and region")
    where.add_argument(
        "--region",
        metavar="REGION",
        help="AWS region (default: the ARN's, the cdk.json profile's, AWS_REGION)",
    )
    where.add_argument(
        "--aws-profile", metavar="NAME", help="AWS named profile (default: AWS_PROFILE or default)"
    )
    where.add_argument(
        "--profile",
        metavar="NAME",
        help=f"cdk.json profile whose `region` to use (not an AWS profile; default '{DEFAULT_PROFILE}')",
    )
    where.add_argument("--cdk-json", metavar="PATH", type=Path, help="default: ./cdk.json")
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    parser = argparse.ArgumentParser(
        prog=f"{PROG} serverless",
        description="Operate Amazon MWAA Serverless workflows: list them, start and follow runs, "
        "show task states and task logs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, epilog: str = EPILOG) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            parents=[common],
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    command("list", "workflows of the account and region: name, status, trigger mode, ARN")

    run = command("run", "start a run of a workflow, optionally follow it to its end")
    run.add_argument("workflow", metavar="WORKFLOW")
    run.add_argument(
        "--parameters",
        metavar="JSON",
        help="OverrideParameters of the run, a JSON object (default: none)",
    )
    run.add_argument(
        "--wait",
        action="store_true",
        help="poll the run until it ends: exit 0 on SUCCESS, 1 on FAILED, TIMEOUT or STOPPED, 4 "
        "when --timeout passes first",
    )
    run.add_argument(
        "--timeout",
        type=_positive_float,
        default=3600.0,
        metavar="SECONDS",
        help="give up after (default: 3600)",
    )
    run.add_argument(
        "--interval",
        type=_positive_float,
        default=15.0,
        metavar="SECONDS",
        help="seconds between polls (default: 15)",
    )

    status = command("status", "state, times, duration and error of one run")
    status.add_argument("workflow", metavar="WORKFLOW")
    status.add_argument("run_id", metavar="RUN_ID")

    tasks = command("tasks", "task instances of one run: state, attempt, operator, times, duration")
    tasks.add_argument("workflow", metavar="WORKFLOW")
    tasks.add_argument("run_id", metavar="RUN_ID")

    logs = command(
        "logs", "task logs of one run from CloudWatch (every task, or one)", LOGS_HELP + "\n" + EPILOG
    )
    logs.add_argument("workflow", metavar="WORKFLOW")
    logs.add_argument("run_id", metavar="RUN_ID")
    logs.add_argument("task", metavar="TASK", nargs="?", help="a task id (or a task instance id)")
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    args = build_parser().parse_args(list(argv))
    for name, default in COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"got {text}; expected a number of seconds above 0")
    return value


def _parse_parameters(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise UsageError(f"--parameters: invalid JSON ({error})") from None
    if not isinstance(value, dict):
        raise UsageError(
            f"--parameters: got {type(value).__name__}; expected a JSON object such as "
            '\'{"day": "2026-11-28"}\''
        )
    return value


def resolve_region(args: argparse.Namespace) -> str | None:
    """--region, else the WORKFLOW ARN's region, else the cdk.json profile's, else None (the
    AWS chain decides). A --region that contradicts the ARN is refused: the call would only
    answer "not found"."""
    match = WORKFLOW_ARN.fullmatch(getattr(args, "workflow", None) or "")
    arn_region = match["region"] if match else None
    if args.region:
        if arn_region and arn_region != args.region:
            raise UsageError(f"WORKFLOW is an ARN of {arn_region}, but --region is {args.region}: drop one")
        return str(args.region)
    if arn_region:
        return arn_region
    path: Path = args.cdk_json
    if args.profile is None and not path.is_file():
        return None
    if not path.is_file():
        raise UsageError(f"{path} not found: pass --cdk-json PATH or --region REGION instead of --profile")
    try:
        return load_profile(read_cdk_profiles(path), args.profile or DEFAULT_PROFILE).region
    except ProfileError as error:
        raise UsageError(f"{path}: {error}") from None


def main(argv: Sequence[str], *, runtime: Runtime) -> int:
    """Run one serverless command and return its exit code."""
    args = parse_args(argv)
    try:
        region = resolve_region(args)
        clients = runtime.clients(AwsSettings(aws_profile=args.aws_profile, region=region))
        result = COMMANDS[args.command](Context(args=args, runtime=runtime, api=ServerlessApi(clients)))
    except OpsError as error:
        return _emit_error(error, json_mode=args.json, runtime=runtime)
    if args.json:
        print(json.dumps(result.data, indent=2, default=str), file=runtime.stdout)
    elif result.text:
        print(result.text, file=runtime.stdout)
    return int(result.exit_code)


# ---------------------------------------------------------------------------------- formatting


def _iso(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _time(value: object) -> str | None:
    """A timestamp as ``2026-11-28 17:49:22``: the API's times are UTC."""
    text = _iso(value)
    return text.replace("T", " ")[:19] if text else None


def _start_order(instance: TaskInstance) -> tuple[int, str, str, int, str]:
    started = instance.started_at.isoformat() if instance.started_at else ""
    # Instances that have not started sort after those that have.
    return (0 if started else 1, started, instance.task_id, instance.attempt or 0, instance.task_instance_id)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _group(events: Iterable[dict[str, Any]]) -> dict[str, TaskLog]:
    logs: dict[str, TaskLog] = {}
    for event in events:
        stream = str(event.get("logStreamName", ""))
        logs.setdefault(stream, TaskLog(stream=stream)).events.append(event)
    for log in logs.values():
        log.events.sort(key=lambda e: (int(e.get("timestamp", 0)), str(e.get("eventId", ""))))
    return logs


def _window(run: WorkflowRun) -> dict[str, int]:
    """FilterLogEvents' ``startTime``/``endTime`` for the run's span in epoch milliseconds, a
    minute wider on each side (log delivery lags); an unfinished run's span has no end yet."""
    minute = 60_000
    window: dict[str, int] = {}
    begin = run.created_at or run.started_at
    if begin is not None:
        window["startTime"] = int(begin.timestamp() * 1000) - minute
    if run.completed_at is not None:
        window["endTime"] = int(run.completed_at.timestamp() * 1000) + minute
    return window
