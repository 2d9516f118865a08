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
# Five-minute periods without a heartbeat while scheduler containers run before the heartbeat
# alarm fires: 20 minutes, longer than a healthy container takes to start. The MWAA 3.3.1 image
# gives the startup script 5 minutes and the requirements install 9 minutes before it gives up,
# and a starting container ~1100 s of health-check grace (aws/amazon-mwaa-docker-images,
# images/airflow/3.3.1/python/mwaa: config/setup_environment.py STARTUP_SCRIPT_MAX_EXECUTION_TIME,
# utils/user_requirements.py USER_REQUIREMENTS_MAX_INSTALL_TIME, entrypoint.py max_timeout).
HEARTBEAT_SILENT_PERIODS = 4

# Where each alarm's metric, namespace and dimensions are documented (Airflow v2 and v3).
AIRFLOW_METRICS_DOC = "https://docs.aws.amazon.com/mwaa/latest/userguide/access-metrics-cw.html"
SERVICE_METRICS_DOC = (
    "https://docs.aws.amazon.com/mwaa/latest/userguide/accessing-metrics-cw-container-queue-db.html"
)
RECOMMENDED_ALARMS_DOC = "https://docs.aws.amazon.com/mwaa/latest/userguide/monitoring-dashboard.html"


@dataclass(frozen=True, kw_only=True)
class _AlarmSpec:
    id: str
    name: str
    description: str
    metric: cloudwatch.IMetric
    threshold: float
    comparison: cloudwatch.ComparisonOperator
    periods: int
    missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.MISSING


class AirflowMonitoring(Construct):
    """A dashboard of ``environment``'s health and, with ``alarms`` on (the default), the alarms
    of MWAA's recommended set, each notifying :attr:`topic` when it enters ALARM and when it is OK
    again.

    Alarms (5-minute periods; MWAA's recommended set, :data:`RECOMMENDED_ALARMS_DOC`, with two
    deliberate differences):

    - scheduler heartbeat: fires when the scheduler containers run (``AWS/MWAA``
      ``CPUUtilization`` SampleCount of ``Cluster=Scheduler`` > 0) but publish no
      ``SchedulerHeartbeat`` (Sum < 1, a missing heartbeat counted as 0) for 4 of 4 periods;
      missing data is not breaching. MWAA's template treats missing data as breaching, which
      keeps the alarm in ALARM through every create, update and maintenance window, when no
      scheduler runs and nothing is published. The trade-off: a total outage in which no
      scheduler container runs publishes no metric at all, and no CloudWatch alarm can tell it
      from a stopped environment; watch the environment status (``GetEnvironment``) for that.
      20 minutes (:data:`HEARTBEAT_SILENT_PERIODS`) is longer than a healthy container may take
      to start (startup script, requirements install), so a starting scheduler does not fire it.
    - age of the oldest queued task: ``AWS/MWAA`` ``ApproximateAgeOfOldestTask`` Maximum > 1800 s
      for 3 of 3, read with a Metrics Insights query over every series of the environment. MWAA
      documents a ``Queue`` dimension for the queue metrics but not its value, so an alarm on the
      ``Environment`` dimension alone could watch a series that is never published. Missing data
      (an empty queue publishes nothing) is not breaching.
    - scheduler and web server CPU and memory Average > 95 % for 3 of 3, base worker for 6 of 6;
      metadata database (writer) CPU > 95 % and freeable memory < 512 MiB for 3 of 3; missing data
      is missing (the alarm goes to INSUFFICIENT_DATA, not ALARM, while nothing is published).

    No alarm enters ALARM during a healthy create, update or maintenance window because data is
    missing. Two can fire during one on real values: a utilization alarm, if a container stays
    above 95 % for the whole evaluation window (15 minutes, base worker 30), for instance while a
    large requirements file installs; and the oldest-queued-task alarm, if tasks queued before an
    update wait more than 30 minutes for a worker for 15 minutes (workers that cannot take tasks
    for 45 minutes). Alarm names start with the environment name.

    :attr:`topic` is ``topic`` when given, else a new SNS topic: TLS-only publishing, and
    ``cloudwatch.amazonaws.com`` may publish to it on behalf of this account's alarms whose names
    start with ``<environment>-`` (``aws:SourceAccount``, ``aws:SourceArn``); the topic policy
    replaces SNS's default policy, so without that statement no alarm could notify. The topic is
    encrypted with ``topic_key`` when given, in which case CloudWatch may use the key
    (``kms:Decrypt``, ``kms:GenerateDataKey*``) for the same alarms through a statement added to
    the key's policy (a key defined in this app; an imported key's policy must allow it already).
    Without a ``topic_key`` the topic is not encrypted: CloudWatch cannot publish to a topic
    under the AWS managed ``aws/sns`` key. An existing ``topic`` is used as it is: its policy
    must let CloudWatch publish. ``email`` addresses are subscribed to :attr:`topic`; each
    confirms its subscription from the message AWS sends it.

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
        stack = cdk.Stack.of(self)
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"MWAA {self.environment.environment_name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        # Only this account's alarms of this environment (the confused-deputy conditions of
        # https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html and
        # https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger).
        alarms_of_this_environment = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name=f"{self.environment.environment_name}-*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            },
        }
        # enforce_ssl writes an AWS::SNS::TopicPolicy, which replaces the topic's default policy:
        # without this statement it would hold only the TLS deny, and CloudWatch could not publish.
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsOfThisEnvironment",
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=alarms_of_this_environment,
            )
        )
        if key is not None:
            # The two actions SNS requires of an AWS service publishing to an encrypted topic
            # (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
            # #compatibility-with-aws-services), for the same alarms only. The topic ARN cannot
            # be a condition here: the topic refers to the key, and the key would refer back.
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowCloudWatchAlarmsToPublishToEncryptedTopics",
                    principals=[cloudwatch_principal],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    conditions=alarms_of_this_environment,
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

    def scheduler_heartbeat_while_running(self) -> cloudwatch.MathExpression:
        """Scheduler heartbeats per period while scheduler containers run, else 1.

        ``IF(FILL(containers, 0) > 0, FILL(heartbeats, 0), 1)``: ``containers`` is the SampleCount
        of the scheduler cluster's ``CPUUtilization`` (the running containers,
        :data:`SERVICE_METRICS_DOC`), ``heartbeats`` the Sum of ``SchedulerHeartbeat``
        (``Function=Scheduler``, :data:`AIRFLOW_METRICS_DOC`). A period without any scheduler
        container reads 1 (no opinion), so a stopped, creating or updating environment never
        looks like a silent scheduler (``FILL`` and ``IF``:
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html)."""
        env = self.environment
        return cloudwatch.MathExpression(
            expression="IF(FILL(containers, 0) > 0, FILL(heartbeats, 0), 1)",
            using_metrics={
                "containers": env.metric_cpu_utilization(
                    cluster="Scheduler", statistic="SampleCount", period=PERIOD
                ),
                "heartbeats": env.metric_scheduler_heartbeat(period=PERIOD),
            },
            label="Scheduler heartbeats while scheduler containers run",
            period=PERIOD,
        )

    def oldest_queued_task_age(self) -> cloudwatch.MathExpression:
        """The largest ``ApproximateAgeOfOldestTask`` (``AWS/MWAA``, seconds) of any series with
        this environment's ``Environment`` dimension, as a CloudWatch Metrics Insights query.

        MWAA groups its queue metrics under a ``Queue`` dimension (:data:`SERVICE_METRICS_DOC`)
        without documenting its value; ``FROM "AWS/MWAA"`` without ``SCHEMA`` matches the metric
        whatever other dimensions it carries, so the alarm cannot watch an empty series
        (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html)."""
        name = self.environment.environment_name
        return cloudwatch.MathExpression(
            expression=(
                f"SELECT MAX(ApproximateAgeOfOldestTask) FROM \"AWS/MWAA\" WHERE Environment = '{name}'"
            ),
            label="Age of the oldest queued task",
            period=PERIOD,
        )

    def _alarm_specs(self) -> list[_AlarmSpec]:
        env = self.environment
        greater = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        less = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
        specs = [
            # AmazonMWAA SchedulerHeartbeat (Function, Scheduler): AIRFLOW_METRICS_DOC; AWS/MWAA
            # CPUUtilization (Cluster) SampleCount as running containers: SERVICE_METRICS_DOC.
            _AlarmSpec(
                id="SchedulerHeartbeatAlarm",
                name="scheduler-heartbeat",
                description=f"Scheduler containers run but published no heartbeat for "
                f"{HEARTBEAT_SILENT_PERIODS * 5} minutes: the scheduler is stuck or crashing.",
                metric=self.scheduler_heartbeat_while_running(),
                threshold=1,
                comparison=less,
                periods=HEARTBEAT_SILENT_PERIODS,
                missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            # AWS/MWAA ApproximateAgeOfOldestTask (Environment, Queue): SERVICE_METRICS_DOC.
            _AlarmSpec(
                id="OldestQueuedTaskAlarm",
                name="oldest-queued-task",
                description="A task has waited over 30 minutes in the queue: workers are saturated or "
                "failing (max_workers, worker CPU and memory).",
                metric=self.oldest_queued_task_age(),
                threshold=OLDEST_TASK_THRESHOLD_SECONDS,
                comparison=greater,
                periods=3,
                missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        # AWS/MWAA CPUUtilization and MemoryUtilization (Environment, Cluster): SERVICE_METRICS_DOC.
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
        # AWS/MWAA CPUUtilization and FreeableMemory (Environment, Database=WRITER|READER):
        # SERVICE_METRICS_DOC.
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
                [self.oldest_queued_task_age()],
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
