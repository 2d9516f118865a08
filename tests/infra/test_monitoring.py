"""AirflowMonitoring and the environment's metrics: alarms, topic, dashboard."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from mwaa_constructs import AirflowEnvironment, AirflowKey, AirflowMonitoring
from platform_config.profile import COMPLIANCE_PACKS
from stacks.compliance import compliance_checks
from tests.infra.conftest import cdk_context

ENV = "env-x"
EXISTING_TOPIC = "arn:aws:sns:eu-west-1:111122223333:ops-alarms"


def _build(*, key: bool = False, **kwargs: Any) -> tuple[cdk.Stack, AirflowMonitoring]:
    app = cdk.App(context={k: v for k, v in cdk_context().items() if k != "profiles"})
    stack = cdk.Stack(app, "Monitored", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    environment = AirflowEnvironment.from_environment_name(stack, "Environment", ENV)
    topic_key = AirflowKey(stack, "Key", environment_name=ENV).key if key else None
    monitoring = AirflowMonitoring(
        stack, "Monitoring", environment=environment, topic_key=topic_key, **kwargs
    )
    return stack, monitoring


@pytest.fixture(scope="module")
def with_key() -> tuple[cdk.Stack, AirflowMonitoring, Template]:
    stack, monitoring = _build(key=True, email=["ops@example.com", "oncall@example.com"])
    return stack, monitoring, Template.from_stack(stack)


@pytest.fixture(scope="module")
def without_key() -> tuple[cdk.Stack, Template]:
    stack, _ = _build()
    return stack, Template.from_stack(stack)


def _dims(**dimensions: str) -> list[dict[str, str]]:
    """Alarm dimensions as CloudFormation receives them: sorted by name."""
    return [{"Name": k, "Value": v} for k, v in sorted({"Environment": ENV, **dimensions}.items())]


# Alarms on one metric each: name, namespace, metric, dimensions, statistic, comparison,
# threshold, periods, missing data.
EXPECTED_ALARMS = [
    ("scheduler-cpu", "AWS/MWAA", "CPUUtilization", {"Cluster": "Scheduler"}, "Average",
     "GreaterThanThreshold", 95, 3, "missing"),
    ("scheduler-memory", "AWS/MWAA", "MemoryUtilization", {"Cluster": "Scheduler"}, "Average",
     "GreaterThanThreshold", 95, 3, "missing"),
    ("worker-cpu", "AWS/MWAA", "CPUUtilization", {"Cluster": "BaseWorker"}, "Average",
     "GreaterThanThreshold", 95, 6, "missing"),
    ("worker-memory", "AWS/MWAA", "MemoryUtilization", {"Cluster": "BaseWorker"}, "Average",
     "GreaterThanThreshold", 95, 6, "missing"),
    ("webserver-cpu", "AWS/MWAA", "CPUUtilization", {"Cluster": "WebServer"}, "Average",
     "GreaterThanThreshold", 95, 3, "missing"),
    ("webserver-memory", "AWS/MWAA", "MemoryUtilization", {"Cluster": "WebServer"}, "Average",
     "GreaterThanThreshold", 95, 3, "missing"),
    ("database-cpu", "AWS/MWAA", "CPUUtilization", {"Database": "WRITER"}, "Average",
     "GreaterThanThreshold", 95, 3, "missing"),
    ("database-freeable-memory", "AWS/MWAA", "FreeableMemory", {"Database": "WRITER"}, "Average",
     "LessThanThreshold", 512 * 1024 * 1024, 3, "missing"),
]  # fmt: skip
# Alarms on an expression (their own tests below).
EXPRESSION_ALARMS = ("scheduler-heartbeat", "oldest-queued-task")
ALARM_NAMES = {expected[0] for expected in EXPECTED_ALARMS} | set(EXPRESSION_ALARMS)


@pytest.mark.parametrize(
    (
        "name",
        "namespace",
        "metric",
        "dimensions",
        "statistic",
        "comparison",
        "threshold",
        "periods",
        "missing",
    ),
    EXPECTED_ALARMS,
)
def test_each_recommended_alarm_notifies_the_topic(
    with_key, name, namespace, metric, dimensions, statistic, comparison, threshold, periods, missing
) -> None:
    stack, monitoring, template = with_key
    topic_ref = {"Ref": stack.get_logical_id(monitoring.topic.node.default_child)}
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{ENV}-{name}",
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": _dims(**dimensions),
            "Statistic": statistic,
            "Period": 300,
            "ComparisonOperator": comparison,
            "Threshold": threshold,
            "EvaluationPeriods": periods,
            "DatapointsToAlarm": periods,
            "TreatMissingData": missing,
            "AlarmActions": [topic_ref],
            "OKActions": [topic_ref],
        },
    )


def _alarm(template: Template, name: str) -> dict[str, Any]:
    (alarm,) = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == f"{ENV}-{name}"
    ]
    return alarm


def _queries(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {query["Id"]: query for query in alarm["Metrics"]}


def test_scheduler_heartbeat_alarm_fires_only_while_scheduler_containers_run(with_key) -> None:
    """Silent scheduler containers breach; no data at all (create, update, maintenance, a stopped
    environment) does not: the heartbeat counts only while the scheduler cluster reports."""
    stack, monitoring, template = with_key
    alarm = _alarm(template, "scheduler-heartbeat")
    topic_ref = {"Ref": stack.get_logical_id(monitoring.topic.node.default_child)}
    assert alarm["TreatMissingData"] == "notBreaching"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 4
    assert alarm["AlarmActions"] == alarm["OKActions"] == [topic_ref]
    assert "MetricName" not in alarm and "Dimensions" not in alarm
    queries = _queries(alarm)
    (result,) = [q for q in queries.values() if q.get("ReturnData", True)]
    assert result["Expression"] == "IF(FILL(containers, 0) > 0, FILL(heartbeats, 0), 1)"
    assert queries["heartbeats"]["MetricStat"] == {
        "Metric": {
            "Namespace": "AmazonMWAA",
            "MetricName": "SchedulerHeartbeat",
            "Dimensions": _dims(Function="Scheduler"),
        },
        "Period": 300,
        "Stat": "Sum",
    }
    assert queries["containers"]["MetricStat"] == {
        "Metric": {
            "Namespace": "AWS/MWAA",
            "MetricName": "CPUUtilization",
            "Dimensions": _dims(Cluster="Scheduler"),
        },
        "Period": 300,
        "Stat": "SampleCount",
    }


def test_oldest_queued_task_alarm_reads_every_series_of_the_environment(with_key) -> None:
    """The queue metric's Queue dimension is undocumented: the query filters on Environment only
    and matches whatever else the series carries; an empty queue (no data) does not breach."""
    _, _, template = with_key
    alarm = _alarm(template, "oldest-queued-task")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 1800)
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 3
    (query,) = alarm["Metrics"]
    assert query["Expression"] == (
        f"SELECT MAX(ApproximateAgeOfOldestTask) FROM \"AWS/MWAA\" WHERE Environment = '{ENV}'"
    )
    assert "SCHEMA" not in query["Expression"]
    assert query["Period"] == 300


@pytest.mark.parametrize("fixture", ["with_key", "without_key"])
def test_no_alarm_treats_missing_data_as_breaching(fixture: str, request: pytest.FixtureRequest) -> None:
    """Nothing is published while the environment is created, updated or under maintenance."""
    template = request.getfixturevalue(fixture)[-1]
    treatments = {
        a["Properties"]["AlarmName"]: a["Properties"]["TreatMissingData"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
    }
    assert set(treatments) == {f"{ENV}-{name}" for name in ALARM_NAMES}
    assert "breaching" not in treatments.values(), treatments


def test_there_are_exactly_the_recommended_alarms(with_key) -> None:
    _, monitoring, template = with_key
    names = {a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()}
    assert names == {f"{ENV}-{name}" for name in ALARM_NAMES}
    assert len(monitoring.alarms) == len(ALARM_NAMES) == 10


ALARM_SOURCE_CONDITIONS = {
    "StringEquals": {"aws:SourceAccount": "111122223333"},
    "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{ENV}-*"},
}


@pytest.mark.parametrize("fixture", ["with_key", "without_key"])
def test_cloudwatch_may_publish_for_this_environments_alarms_only(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    """The topic policy replaces SNS's default one: CloudWatch needs its own Allow, limited to
    this account's alarms named after the environment."""
    template = request.getfixturevalue(fixture)[-1]
    (topic_id,) = template.find_resources("AWS::SNS::Topic")
    (policy,) = template.find_resources("AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": "AllowCloudWatchAlarmsOfThisEnvironment",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": {"Ref": topic_id},
            "Condition": ALARM_SOURCE_CONDITIONS,
        }
    ]
    every_alarm = {
        a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()
    }
    assert all(name.startswith(f"{ENV}-") for name in every_alarm)


def test_topic_is_encrypted_with_the_key_which_lets_cloudwatch_use_it(with_key) -> None:
    _, _, template = with_key
    (key_id,) = template.find_resources("AWS::KMS::Key")
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}})
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        {
                            "Sid": "AllowCloudWatchAlarmsToPublishToEncryptedTopics",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            "Resource": "*",
                            "Condition": ALARM_SOURCE_CONDITIONS,
                        }
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize("fixture", ["with_key", "without_key"])
def test_topic_accepts_only_tls(fixture: str, request: pytest.FixtureRequest) -> None:
    template = request.getfixturevalue(fixture)[-1]
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_email_addresses_are_subscribed(with_key) -> None:
    _, _, template = with_key
    subscriptions = template.find_resources("AWS::SNS::Subscription")
    assert sorted(
        (s["Properties"]["Protocol"], s["Properties"]["Endpoint"]) for s in subscriptions.values()
    ) == [
        ("email", "oncall@example.com"),
        ("email", "ops@example.com"),
    ]


def test_without_a_key_the_topic_is_unencrypted_and_acknowledged(without_key) -> None:
    stack, template = without_key
    (topic,) = template.find_resources("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" not in topic["Properties"]
    template.resource_count_is("AWS::SNS::Subscription", 0)
    for pack in compliance_checks(COMPLIANCE_PACKS):
        report = pack.validate_scope(stack)
        assert report.success, [v.rule_name for v in report.violations]


def test_every_pack_is_clean_with_a_key(with_key) -> None:
    """AwsSolutions and the three compliance packs: the topic is encrypted, every alarm acts."""
    stack, _, _ = with_key
    for pack in compliance_checks(COMPLIANCE_PACKS):
        report = pack.validate_scope(stack)
        assert report.success, [v.rule_name for v in report.violations]


def test_an_existing_topic_is_used_as_it_is() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Existing", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    environment = AirflowEnvironment.from_environment_name(stack, "Environment", ENV)
    topic = sns.Topic.from_topic_arn(stack, "Topic", EXISTING_TOPIC)
    monitoring = AirflowMonitoring(stack, "Monitoring", environment=environment, topic=topic)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 0)
    template.resource_count_is("AWS::SNS::TopicPolicy", 0)
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    assert len(alarms) == len(ALARM_NAMES)
    assert all(a["Properties"]["AlarmActions"] == [EXISTING_TOPIC] for a in alarms)
    assert monitoring.topic is topic


def test_alarms_off_leaves_the_dashboard_only() -> None:
    stack, monitoring = _build(key=True, alarms=False)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    template.resource_count_is("AWS::SNS::Topic", 0)
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    assert monitoring.topic is None and monitoring.alarms == []
    assert not any(w["type"] == "alarm" for w in _dashboard(template)["widgets"])
    with pytest.raises(ValueError, match="alarms=False"):
        _build(alarms=False, email=["ops@example.com"])


def _text(value: Any) -> str:
    """A DashboardBody as text, every reference replaced by a marker."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_text(part) for part in parts)
    return "REF"


def _dashboard(template: Template) -> dict[str, Any]:
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    return json.loads(_text(dashboard["Properties"]["DashboardBody"]))


def _graphed(template: Template) -> set[tuple[str, str, tuple[tuple[str, str], ...], str]]:
    """(namespace, metric, dimensions, statistic) of every metric the dashboard graphs."""
    graphed = set()
    for widget in _dashboard(template)["widgets"]:
        for line in widget["properties"].get("metrics", []):
            options = line[-1] if isinstance(line[-1], dict) else {}
            if "expression" in options:
                continue
            names = [part for part in line if isinstance(part, str)]
            namespace, metric, flat = names[0], names[1], names[2:]
            dimensions = tuple(sorted(zip(flat[::2], flat[1::2], strict=True)))
            graphed.add((namespace, metric, dimensions, options.get("stat", "Average")))
    return graphed


def test_dashboard_graphs_the_health_metrics(with_key) -> None:
    _, monitoring, template = with_key
    env = ("Environment", ENV)
    graphed = _graphed(template)
    expected = {
        ("AmazonMWAA", "SchedulerHeartbeat", (env, ("Function", "Scheduler")), "Sum"),
        ("AmazonMWAA", "QueuedTasks", (env, ("Function", "Executor")), "Average"),
        ("AmazonMWAA", "RunningTasks", (env, ("Function", "Executor")), "Average"),
        ("AWS/MWAA", "CPUUtilization", (("Database", "WRITER"), env), "Average"),
        ("AWS/MWAA", "FreeableMemory", (("Database", "WRITER"), env), "Average"),
        ("AWS/MWAA", "DatabaseConnections", (("Database", "WRITER"), env), "Average"),
        ("AmazonMWAA", "ImportErrors", (env, ("Function", "DAG Processing")), "Maximum"),
        ("AmazonMWAA", "TaskInstanceFailures", (("DAG", "All"), env, ("Task", "All")), "Sum"),
    }
    for cluster in ("Scheduler", "BaseWorker", "AdditionalWorker", "WebServer"):
        dims = (("Cluster", cluster), env)
        expected |= {
            ("AWS/MWAA", "CPUUtilization", dims, "Average"),
            ("AWS/MWAA", "MemoryUtilization", dims, "Average"),
            ("AWS/MWAA", "CPUUtilization", dims, "SampleCount"),
        }
    assert expected <= graphed, expected - graphed
    expressions = [
        line[-1]["expression"]
        for widget in _dashboard(template)["widgets"]
        for line in widget["properties"].get("metrics", [])
        if isinstance(line[-1], dict) and "expression" in line[-1]
    ]
    # The queue age is graphed with the alarm's own query, not a series that may not exist.
    assert expressions == [_alarm(template, "oldest-queued-task")["Metrics"][0]["Expression"]]
    (alarm_widget,) = [w for w in _dashboard(template)["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == len(ALARM_NAMES)
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": f"{ENV}-eu-west-1"})
    assert monitoring.dashboard.node.default_child is not None


def test_metric_methods_reject_unknown_clusters_and_instances() -> None:
    stack = cdk.Stack(cdk.App(), "Metrics")
    environment = AirflowEnvironment.from_environment_name(stack, "Environment", ENV)
    with pytest.raises(
        ValueError, match=r"cluster: got 'Worker'; allowed clusters are Scheduler, BaseWorker"
    ):
        environment.metric_cpu_utilization(cluster="Worker")
    with pytest.raises(ValueError, match=r"database: got 'writer'; allowed instances are WRITER, READER"):
        environment.metric_database_connections(database="writer")
    reader = environment.metric_database_freeable_memory(database="READER")
    assert (reader.namespace, reader.dimensions) == ("AWS/MWAA", {"Environment": ENV, "Database": "READER"})
