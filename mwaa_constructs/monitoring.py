"""A CloudWatch dashboard and the alarms AWS recommends for one MWAA environment."""

from __future__ import annotations

from collections.abc import Sequence

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
from mwaa_rules import alarms as alarm_rules
from mwaa_rules.alarms import (
    FREEABLE_MEMORY_THRESHOLD_BYTES,
    OLDEST_TASK_THRESHOLD_SECONDS,
    UTILIZATION_THRESHOLD,
    AlarmRule,
)

PERIOD = cdk.Duration.minutes(alarm_rules.PERIOD_MINUTES)

# Where each alarm's metric, namespace and dimensions are documented (Airflow v2 and v3).
AIRFLOW_METRICS_DOC = "https://docs.aws.amazon.com/mwaa/latest/userguide/access-metrics-cw.html"
SERVICE_METRICS_DOC = (
    "https://docs.aws.amazon.com/mwaa/latest/userguide/accessing-metrics-cw-container-queue-db.html"
)
RECOMMENDED_ALARMS_DOC = "https://docs.aws.amazon.com/mwaa/latest/userguide/monitoring-dashboard.html"

_COMPARISONS = {
    "greater": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    "less": cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
}
_MISSING_DATA = {
    "missing": cloudwatch.TreatMissingData.MISSING,
    "not_breaching": cloudwatch.TreatMissingData.NOT_BREACHING,
}


class AirflowMonitoring(Construct):
    """A dashboard of ``environment``'s health and, with ``alarms`` on (the default), the alarms
    of MWAA's recommended set, each notifying :attr:`topic` when it enters ALARM and when it is OK
    again.

    Alarms (5-minute periods; MWAA's recommended set, :data:`RECOMMENDED_ALARMS_DOC`, with two
    deliberate differences), one per entry of ``mwaa_rules.alarms.RECOMMENDED_ALARMS``:

    - scheduler heartbeat: fires when the scheduler containers run (``AWS/MWAA``
      ``CPUUtilization`` SampleCount of ``Cluster=Scheduler`` > 0) but publish no
      ``SchedulerHeartbeat`` (Sum < 1, a missing heartbeat counted as 0) for 4 of 4 periods;
      missing data is not breaching. MWAA's template treats missing data as breaching, which
      keeps the alarm in ALARM through every create, update and maintenance window, when no
      scheduler runs and nothing is published. The trade-off: a total outage in which no
      scheduler container runs publishes no metric at all, and no CloudWatch alarm can tell it
      from a stopped environment; watch the environment status (``GetEnvironment``) for that.
      20 minutes (``HEARTBEAT_SILENT_PERIODS`` of ``mwaa_rules.alarms``) is longer than a healthy
      container may take to start (startup script, requirements install), so a starting
      scheduler does not fire it.
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
            for rule in alarm_rules.RECOMMENDED_ALARMS:
                alarm = cloudwatch.Alarm(
                    self,
                    rule.id,
                    alarm_name=f"{environment.environment_name}-{rule.name}",
                    alarm_description=rule.description,
                    metric=self._alarm_metric(rule),
                    threshold=rule.threshold,
                    comparison_operator=_COMPARISONS[rule.comparison],
                    evaluation_periods=rule.periods,
                    datapoints_to_alarm=rule.periods,
                    treat_missing_data=_MISSING_DATA[rule.missing_data],
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

    def _alarm_metric(self, rule: AlarmRule) -> cloudwatch.IMetric:
        """The metric or expression ``rule`` watches (``mwaa_rules.alarms``), each from
        :data:`SERVICE_METRICS_DOC` (``AWS/MWAA``) or :data:`AIRFLOW_METRICS_DOC` (``AmazonMWAA``)."""
        env = self.environment
        if rule.metric == "scheduler_heartbeat":
            # AmazonMWAA SchedulerHeartbeat (Function, Scheduler): AIRFLOW_METRICS_DOC; AWS/MWAA
            # CPUUtilization (Cluster) SampleCount as running containers: SERVICE_METRICS_DOC.
            return self.scheduler_heartbeat_while_running()
        if rule.metric == "oldest_queued_task":
            # AWS/MWAA ApproximateAgeOfOldestTask (Environment, Queue).
            return self.oldest_queued_task_age()
        # AWS/MWAA CPUUtilization and MemoryUtilization (Environment, Cluster), CPUUtilization
        # and FreeableMemory (Environment, Database=WRITER|READER).
        if rule.metric == "cpu" and rule.cluster is not None:
            return env.metric_cpu_utilization(cluster=rule.cluster, period=PERIOD)
        if rule.metric == "memory" and rule.cluster is not None:
            return env.metric_memory_utilization(cluster=rule.cluster, period=PERIOD)
        if rule.metric == "database_cpu":
            return env.metric_database_cpu_utilization(database="WRITER", period=PERIOD)
        if rule.metric == "database_freeable_memory":
            return env.metric_database_freeable_memory(database="WRITER", period=PERIOD)
        raise ValueError(f"alarm {rule.id}: metric {rule.metric!r} with cluster {rule.cluster!r} is unknown")

    def _add_widgets(self) -> None:
        env = self.environment
        percent = cloudwatch.YAxisProps(min=0, max=100, label="%", show_units=False)
        at_threshold = [cloudwatch.HorizontalAnnotation(value=UTILIZATION_THRESHOLD, label="alarm")]

        def graph(
            title: str,
            metrics: list[cloudwatch.IMetric],
            *,
            left_y_axis: cloudwatch.YAxisProps | None = None,
            left_annotations: list[cloudwatch.HorizontalAnnotation] | None = None,
        ) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(
                title=title,
                left=metrics,
                width=8,
                height=6,
                left_y_axis=left_y_axis,
                left_annotations=left_annotations,
            )

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
