"""Task logs of a DAG run, read from the environment's CloudWatch ``Task`` log group.

MWAA writes each task attempt to its own log stream, named by Airflow's log file template
with ``:`` replaced by ``_`` (CloudWatch stream names cannot hold ``:``)::

    dag_id=<dag>/run_id=<run>/task_id=<task>/attempt=<n>.log
    dag_id=<dag>/run_id=<run>/task_id=<task>/map_index=<i>/attempt=<n>.log   (mapped tasks)

so one ``FilterLogEvents`` call with a stream-name prefix returns every attempt of a run, or
of one task, without going through the REST API (whose 64-character path limit long run ids
exceed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mwaa_ops.aws import AwsClients
from mwaa_ops.errors import CheckFailed, translate_botocore_error


def stream_prefix(dag_id: str, run_id: str, task_id: str | None = None) -> str:
    """Log stream name prefix of a run's (or one task's) attempts."""
    prefix = f"dag_id={dag_id}/run_id={run_id}/"
    if task_id:
        prefix += f"task_id={task_id}/"
    return prefix.replace(":", "_")


@dataclass(kw_only=True)
class TaskLog:
    """The events of one log stream: one attempt of one task (instance)."""

    stream: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def first_timestamp(self) -> int:
        return min((int(e.get("timestamp", 0)) for e in self.events), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "events": [
                {"timestamp": e.get("timestamp"), "message": e.get("message", "")} for e in self.events
            ],
        }


def read_task_logs(
    clients: AwsClients, *, log_group: str, dag_id: str, run_id: str, task_id: str | None = None
) -> list[TaskLog]:
    """Every event of the run's (or task's) streams, one :class:`TaskLog` per stream, in the
    order the attempts started. Raises :class:`CheckFailed` when there is none."""
    prefix = stream_prefix(dag_id, run_id, task_id)
    logs: dict[str, TaskLog] = {}
    try:
        paginator = clients.client("logs").get_paginator("filter_log_events")
        for page in paginator.paginate(logGroupName=log_group, logStreamNamePrefix=prefix):
            for event in page.get("events", []):
                stream = str(event.get("logStreamName", ""))
                logs.setdefault(stream, TaskLog(stream=stream)).events.append(event)
    except (BotoCoreError, ClientError) as error:
        raise translate_botocore_error(error, service="logs", target=f"log group {log_group}") from error
    if not logs:
        what = f"task {task_id} of run {run_id}" if task_id else f"run {run_id}"
        raise CheckFailed(
            f"no task logs for {what} of {dag_id} in {log_group} (streams {prefix}*): the run id may be "
            "wrong, no task has started yet, or task logging is disabled"
        )
    for log in logs.values():
        log.events.sort(key=lambda e: (int(e.get("timestamp", 0)), str(e.get("eventId", ""))))
    return sorted(logs.values(), key=lambda log: (log.first_timestamp, log.stream))


def render_event(event: dict[str, Any]) -> str:
    """One CloudWatch event as a line for people.

    On Airflow 3 each event is a JSON object (``event``, ``level``, ``logger``, ...) whose time
    is the event's CloudWatch timestamp: it is shown as ``time LEVEL [logger] event``. Anything
    else (Airflow 2 writes formatted lines that carry their own time) is shown as it is."""
    text = str(event.get("message", "")).rstrip("\n")
    try:
        record = json.loads(text) if text.startswith("{") else None
    except ValueError:
        record = None
    if not isinstance(record, dict) or "event" not in record:
        return text
    when = datetime.fromtimestamp(int(event.get("timestamp", 0)) / 1000, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.%f"
    )[:-3]
    parts = [when + "Z", str(record.get("level", "info")).upper()]
    logger = record.get("logger") or record.get("logger_name")
    if logger:
        parts.append(f"[{logger}]")
    parts.append(str(record["event"]))
    line = " ".join(parts)
    if record.get("error_detail"):
        line += "\n" + json.dumps(record["error_detail"], indent=2)
    return line
