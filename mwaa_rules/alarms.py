"""The alarms an MWAA environment gets: MWAA's recommended set, with their thresholds.

One list for the monitoring construct (``mwaa_constructs.monitoring``, which creates one
CloudWatch alarm per entry on the metric the entry names) and the cost model
(:mod:`mwaa_rules.cost`, which prices them). The sources of each metric, and why two alarms
differ from MWAA's own template, are in the construct's docstring; the recommended set is
https://docs.aws.amazon.com/mwaa/latest/userguide/monitoring-dashboard.html.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Every alarm evaluates 5-minute periods.
PERIOD_MINUTES = 5
UTILIZATION_THRESHOLD = 95
OLDEST_TASK_THRESHOLD_SECONDS = 1800
FREEABLE_MEMORY_THRESHOLD_BYTES = 512 * 1024**2
# Five-minute periods without a heartbeat while scheduler containers run before the heartbeat
# alarm fires: 20 minutes, longer than a healthy container takes to start. The MWAA 3.3.1 image
# gives the startup script 5 minutes and the requirements install 9 minutes before it gives up,
# and a starting container ~1100 s of health-check grace (aws/amazon-mwaa-docker-images,
# images/airflow/3.3.1/python/mwaa: config/setup_environment.py STARTUP_SCRIPT_MAX_EXECUTION_TIME,
# utils/user_requirements.py USER_REQUIREMENTS_MAX_INSTALL_TIME, entrypoint.py max_timeout).
HEARTBEAT_SILENT_PERIODS = 4

#: What an alarm watches: the construct maps each to a CloudWatch metric or expression.
#: ``cpu`` and ``memory`` are the ``CPUUtilization`` and ``MemoryUtilization`` of a cluster.
AlarmMetric = Literal[
    "scheduler_heartbeat", "oldest_queued_task", "cpu", "memory", "database_cpu", "database_freeable_memory"
]


@dataclass(frozen=True, kw_only=True)
class AlarmRule:
    """One alarm of an environment: it fires when ``metric`` is ``comparison`` ``threshold`` in
    ``periods`` of ``periods`` evaluation periods (:data:`PERIOD_MINUTES` each)."""

    #: Construct id of the alarm (part of its logical id: renaming one replaces the alarm).
    id: str
    #: The alarm's name after ``<environment name>-``.
    name: str
    description: str
    metric: AlarmMetric
    #: The ``Cluster`` dimension of a container metric (``cpu``, ``memory``), else None.
    cluster: str | None = None
    threshold: float
    comparison: Literal["greater", "less"]
    periods: int
    #: How periods without data count: ``missing`` (the alarm goes to INSUFFICIENT_DATA) or
    #: ``not_breaching``.
    missing_data: Literal["missing", "not_breaching"] = "missing"


def _utilization(cluster: str, slug: str, kind: Literal["cpu", "memory"], periods: int) -> AlarmRule:
    return AlarmRule(
        id=f"{cluster}{kind.capitalize()}Alarm",
        name=f"{slug}-{kind}",
        description=f"{cluster} {kind} above {UTILIZATION_THRESHOLD} % for "
        f"{periods * PERIOD_MINUTES} minutes: consider a larger environment class.",
        metric=kind,
        cluster=cluster,
        threshold=UTILIZATION_THRESHOLD,
        comparison="greater",
        periods=periods,
    )


#: The alarms ``AirflowMonitoring`` creates with ``alarms`` on, in the order it creates them.
RECOMMENDED_ALARMS: tuple[AlarmRule, ...] = (
    AlarmRule(
        id="SchedulerHeartbeatAlarm",
        name="scheduler-heartbeat",
        description="Scheduler containers run but published no heartbeat for "
        f"{HEARTBEAT_SILENT_PERIODS * PERIOD_MINUTES} minutes: the scheduler is stuck or crashing.",
        metric="scheduler_heartbeat",
        threshold=1,
        comparison="less",
        periods=HEARTBEAT_SILENT_PERIODS,
        missing_data="not_breaching",
    ),
    AlarmRule(
        id="OldestQueuedTaskAlarm",
        name="oldest-queued-task",
        description="A task has waited over 30 minutes in the queue: workers are saturated or "
        "failing (max_workers, worker CPU and memory).",
        metric="oldest_queued_task",
        threshold=OLDEST_TASK_THRESHOLD_SECONDS,
        comparison="greater",
        periods=3,
        missing_data="not_breaching",
    ),
    *(
        _utilization(cluster, slug, kind, periods)
        for cluster, slug, periods in (
            ("Scheduler", "scheduler", 3),
            ("BaseWorker", "worker", 6),
            ("WebServer", "webserver", 3),
        )
        for kind in ("cpu", "memory")
    ),
    AlarmRule(
        id="DatabaseCpuAlarm",
        name="database-cpu",
        description=f"Metadata database (writer) CPU above {UTILIZATION_THRESHOLD} % for 15 "
        "minutes: consider a larger environment class or fewer DAG parses.",
        metric="database_cpu",
        threshold=UTILIZATION_THRESHOLD,
        comparison="greater",
        periods=3,
    ),
    AlarmRule(
        id="DatabaseFreeableMemoryAlarm",
        name="database-freeable-memory",
        description="Metadata database (writer) below 512 MiB of freeable memory for 15 minutes.",
        metric="database_freeable_memory",
        threshold=FREEABLE_MEMORY_THRESHOLD_BYTES,
        comparison="less",
        periods=3,
    ),
)
