"""A CloudWatch dashboard and the alarms AWS recommends for one MWAA environment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from mwaa_constructs.environment import CLUSTERS, EnvironmentBase
from mwaa_constructs.nag import acknowledge_compliance

PERIOD = cdk.Duration.minutes(5)
UTILIZATION_THRESHOLD = 95
OLDEST_TASK_THRESHOLD_SECONDS = 1800
FREEABLE_MEMORY_THRESHOLD_BYTES = 512 * 1024**2


@dataclass(frozen=True, kw_only=True)
class _AlarmSpec:
    id: str
    name: str
    description: str
    metric: cloudwatch.Metric
    threshold: float
    comparison: cloudwatch.ComparisonOperator
    periods: int
    missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.MISSING


class AirflowMonitoring(Construct):
    """A dashboard of ``environment``'s health and, with ``alarms`` on (the default), the alarms
    of MWAA's recommended set, each notifying :attr:`topic` when it enters ALARM and when it is OK
    again.

    Alarms (5-minute periods): scheduler heartbeat Sum < 1 for 2 of 2 periods, missing data
    breaching (no heartbeat at all is the outage); age of the oldest queued task Maximum > 1800 s
    for 3 of 3; scheduler and web server CPU and memory Average > 95 % for 3 of 3, base worker for
    6 of 6; metadata database (writer) CPU > 95 % and freeable memory < 512 MiB for 3 of 3. Other
    alarms treat missing data as missing (the alarm keeps its state). Alarm names start with the
    environment name.

    :attr:`topic` is ``topic`` when given, else a new SNS topic: TLS-only publishing, encrypted
    with ``topic_key`` when given, in which case CloudWatch may use the key
    (``kms:Decrypt``, ``kms:GenerateDataKey*``) through a statement added to the key's policy (a
    key defined in this app; an imported key's policy must allow it already). Without a
    ``topic_key`` the topic is not encrypted: CloudWatch cannot publish to a topic under the AWS
    managed ``aws/sns`` key. ``email`` addresses are subscribed to :attr:`topic`; each confirms
    its subscription from the message AWS sends it.

    :attr:`dashboard` (named ``<environment>-<region>``: dashboard names are global to the
    account) shows the alarms' state, scheduler heartbeat, queued and running tasks, age of the
    oldest queued task, CPU, memory and running containers per cluster, the metadata database's
    CPU, freeable memory and connections, DAG import errors and task failures.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment: EnvironmentBase,
        alarms: bool = True,
        topic: sns.ITopic | None = None,
        topic_key: kms.IKey | None = None,
        email: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        if not alarms and (topic is not None or email):
            raise ValueError(
                "AirflowMonitoring topic/email: given with alarms=False; they would receive nothing"
            )
        stack = cdk.Stack.of(self)
        self.environment = environment
        self.topic: sns.ITopic | None = None
        self.alarms: list[cloudwatch.Alarm] = []
        if alarms:
            self.topic = topic or self._create_topic(topic_key)
            for address in email:
                self.topic.add_subscription(subscriptions.EmailSubscription(address))
            action = cloudwatch_actions.SnsAction(self.topic)
            for spec in self._alarm_specs():
                alarm = cloudwatch.Alarm(
                    self,
                    spec.id,
                    alarm_name=f"{environment.environment_name}-{spec.name}",
                    alarm_description=spec.description,
                    metric=spec.metric,
                    threshold=spec.threshold,
                    comparison_operator=spec.comparison,
                    evaluation_periods=spec.periods,
                    datapoints_to_alarm=spec.periods,
                    treat_missing_data=spec.missing,
                )
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)
                self.alarms.append(alarm)

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{environment.environment_name}-{stack.region}",
            default_interval=cdk.Duration.hours(12),
        )
        self._add_widgets()

    def _create_topic(self, key: kms.IKey | None) -> sns.Topic:
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"MWAA {self.environment.environment_name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if key is not None:
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowCloudWatchAlarmsToPublishToEncryptedTopics",
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                )
            )
        else:
            reason = (
                "No customer managed key in this environment, and CloudWatch alarms cannot publish "
                "to a topic encrypted with the AWS managed aws/sns key. Messages carry alarm states "
                "only; publishing requires TLS."
            )
            cdk.Validations.of(topic).acknowledge(cdk.Acknowledgment(id="AwsSolutions-SNS2", reason=reason))
            acknowledge_compliance(topic, {"SNSEncryptedKMS": reason})
        return topic

    def _alarm_specs(self) -> list[_AlarmSpec]:
        env = self.environment
        greater = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        less = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
        specs = [
            _AlarmSpec(
                id="SchedulerHeartbeatAlarm",
                name="scheduler-heartbeat",
                description="No scheduler heartbeat for 10 minutes: the scheduler is down or stuck.",
                metric=env.metric_scheduler_heartbeat(period=PERIOD),
                threshold=1,
                comparison=less,
                periods=2,
                missing=cloudwatch.TreatMissingData.BREACHING,
            ),
            _AlarmSpec(
                id="OldestQueuedTaskAlarm",
                name="oldest-queued-task",
                description="A task has waited over 30 minutes in the queue: workers are saturated or "
                "failing (max_workers, worker CPU and memory).",
                metric=env.metric_approximate_age_of_oldest_task(period=PERIOD),
                threshold=OLDEST_TASK_THRESHOLD_SECONDS,
                comparison=greater,
                periods=3,
            ),
        ]
        for cluster, slug, periods in (
            ("Scheduler", "scheduler", 3),
            ("BaseWorker", "worker", 6),
            ("WebServer", "webserver", 3),
        ):
            for kind, metric in (
                ("cpu", env.metric_cpu_utilization(cluster=cluster, period=PERIOD)),
                ("memory", env.metric_memory_utilization(cluster=cluster, period=PERIOD)),
            ):
                specs.append(
                    _AlarmSpec(
                        id=f"{cluster}{kind.capitalize()}Alarm",
                        name=f"{slug}-{kind}",
                        description=f"{cluster} {kind} above {UTILIZATION_THRESHOLD} % for "
                        f"{periods * 5} minutes: consider a larger environment class.",
                        metric=metric,
                        threshold=UTILIZATION_THRESHOLD,
                        comparison=greater,
                        periods=periods,
                    )
                )
        specs += [
            _AlarmSpec(
                id="DatabaseCpuAlarm",
                name="database-cpu",
                description=f"Metadata database (writer) CPU above {UTILIZATION_THRESHOLD} % for 15 "
                "minutes: consider a larger environment class or fewer DAG parses.",
                metric=env.metric_database_cpu_utilization(database="WRITER", period=PERIOD),
                threshold=UTILIZATION_THRESHOLD,
                comparison=greater,
                periods=3,
            ),
            _AlarmSpec(
                id="DatabaseFreeableMemoryAlarm",
                name="database-freeable-memory",
                description="Metadata database (writer) below 512 MiB of freeable memory for 15 minutes.",
                metric=env.metric_database_freeable_memory(database="WRITER", period=PERIOD),
                threshold=FREEABLE_MEMORY_THRESHOLD_BYTES,
                comparison=less,
                periods=3,
            ),
        ]
        return specs

    def _add_widgets(self) -> None:
        env = self.environment
        percent = cloudwatch.YAxisProps(min=0, max=100, label="%", show_units=False)
        at_threshold = [cloudwatch.HorizontalAnnotation(value=UTILIZATION_THRESHOLD, label="alarm")]

        def graph(title: str, metrics: list[cloudwatch.IMetric], **kwargs: object) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=metrics, width=8, height=6, **kwargs)  # type: ignore[arg-type]

        if self.alarms:
            self.dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=3)
            )
        self.dashboard.add_widgets(
            graph(
                "Scheduler heartbeat",
                [env.metric_scheduler_heartbeat(period=PERIOD)],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=1, label="alarm below")],
            ),
            graph(
                "Queued and running tasks",
                [
                    env.metric_queued_tasks(period=PERIOD).with_(label="queued"),
                    env.metric_running_tasks(period=PERIOD).with_(label="running"),
                ],
            ),
            graph(
                "Age of the oldest queued task (s)",
                [env.metric_approximate_age_of_oldest_task(period=PERIOD)],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=OLDEST_TASK_THRESHOLD_SECONDS)],
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "CPU utilization per cluster",
                [env.metric_cpu_utilization(cluster=c, period=PERIOD).with_(label=c) for c in CLUSTERS],
                left_y_axis=percent,
                left_annotations=at_threshold,
            ),
            graph(
                "Memory utilization per cluster",
                [env.metric_memory_utilization(cluster=c, period=PERIOD).with_(label=c) for c in CLUSTERS],
                left_y_axis=percent,
                left_annotations=at_threshold,
            ),
            graph(
                "Running containers per cluster",
                [
                    env.metric_cpu_utilization(cluster=c, statistic="SampleCount", period=PERIOD).with_(
                        label=c
                    )
                    for c in CLUSTERS
                ],
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "Metadata database CPU (writer)",
                [env.metric_database_cpu_utilization(period=PERIOD)],
                left_y_axis=percent,
                left_annotations=at_threshold,
            ),
            graph(
                "Metadata database freeable memory (writer)",
                [env.metric_database_freeable_memory(period=PERIOD)],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=FREEABLE_MEMORY_THRESHOLD_BYTES)],
            ),
            graph("Metadata database connections (writer)", [env.metric_database_connections(period=PERIOD)]),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="DAG import errors",
                left=[env.metric_import_errors(period=PERIOD)],
                width=12,
                height=6,
            ),
            cloudwatch.GraphWidget(
                title="Failed task instances",
                left=[env.metric_task_instance_failures(period=PERIOD)],
                width=12,
                height=6,
            ),
        )
