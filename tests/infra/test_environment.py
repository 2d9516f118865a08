"""AirflowEnvironment and its ExecutionRole: properties, logging, dependencies, grants, imports."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from mwaa_constructs import AirflowEnvironment, AirflowNetwork, DagBucket, S3ObjectVersion
from tests.infra.conftest import actions_of, build_environment, statement_with


def _build(*, key: bool, **kwargs: object) -> tuple[cdk.Stack, AirflowEnvironment, AirflowNetwork]:
    return build_environment(key=key, **kwargs)


@pytest.fixture(scope="module")
def customer_key() -> tuple[cdk.Stack, AirflowEnvironment, Template]:
    stack, environment, _ = _build(
        key=True,
        environment_class="mw1.medium",
        max_workers=7,
        logging={"scheduler": "ERROR", "webserver": None},
        airflow_configuration_options={"core.default_task_retries": "3", "celery.worker_autoscale": "5,5"},
        weekly_maintenance_window_start="TUE:03:30",
        worker_replacement_strategy="GRACEFUL",
        plugins=S3ObjectVersion(key="plugins/plugins.zip", version="v-plugins"),
        requirements=S3ObjectVersion(key="requirements/requirements.txt", version="v-req"),
        startup_script=S3ObjectVersion(key="startup/startup.sh", version="v-start"),
    )
    user = iam.User(stack, "Operator")
    environment.grant_web_login(user, airflow_role="Admin")
    environment.grant_cli_token(user)
    environment.grant_rest_api(user)
    return stack, environment, Template.from_stack(stack)


@pytest.fixture(scope="module")
def aws_owned() -> Template:
    stack, _, _ = _build(key=False)
    return Template.from_stack(stack)


def _flat(value: object) -> object:
    """The value with ``Fn::Join`` over the partition resolved, as it reads in an account."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Join"} and value["Fn::Join"][0] == "":
            parts = [_flat(p) for p in value["Fn::Join"][1]]
            if all(isinstance(p, str) for p in parts):
                return "".join(parts)  # type: ignore[arg-type]
        if value == {"Ref": "AWS::Partition"}:
            return "aws"
        return {k: _flat(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_flat(v) for v in value]
    return value


def _env_props(template: Template) -> dict:
    (resource,) = template.find_resources("AWS::MWAA::Environment").values()
    return resource["Properties"]


def test_environment_carries_every_setting(customer_key) -> None:
    _, _, template = customer_key
    template.has_resource_properties(
        "AWS::MWAA::Environment",
        {
            "Name": "env-x",
            "AirflowVersion": "3.3.1",
            "EnvironmentClass": "mw1.medium",
            "MinWorkers": 1,
            "MaxWorkers": 7,
            "Schedulers": 2,
            "MinWebservers": 2,
            "MaxWebservers": 2,
            "WebserverAccessMode": "PRIVATE_ONLY",
            "EndpointManagement": "SERVICE",
            "DagS3Path": "dags",
            "KmsKey": {"Fn::GetAtt": [Match.string_like_regexp("Key"), "Arn"]},
            "AirflowConfigurationOptions": {
                "celery.worker_autoscale": "5,5",
                "core.default_task_retries": "3",
            },
            "WeeklyMaintenanceWindowStart": "TUE:03:30",
            "WorkerReplacementStrategy": "GRACEFUL",
            "PluginsS3Path": "plugins/plugins.zip",
            "PluginsS3ObjectVersion": "v-plugins",
            "RequirementsS3Path": "requirements/requirements.txt",
            "RequirementsS3ObjectVersion": "v-req",
            "StartupScriptS3Path": "startup/startup.sh",
            "StartupScriptS3ObjectVersion": "v-start",
        },
    )
    subnets = _env_props(template)["NetworkConfiguration"]["SubnetIds"]
    assert len(subnets) == 2


def test_all_five_log_types_set_enabled_and_level(customer_key) -> None:
    _, _, template = customer_key
    logging = _env_props(template)["LoggingConfiguration"]
    assert logging == {
        "DagProcessingLogs": {"Enabled": True, "LogLevel": "WARNING"},
        "SchedulerLogs": {"Enabled": True, "LogLevel": "ERROR"},
        "TaskLogs": {"Enabled": True, "LogLevel": "INFO"},
        "WebserverLogs": {"Enabled": False, "LogLevel": "WARNING"},
        "WorkerLogs": {"Enabled": True, "LogLevel": "WARNING"},
    }


def test_environment_waits_for_log_groups_and_role_policy(customer_key) -> None:
    _stack, _environment, template = customer_key
    (resource,) = template.find_resources("AWS::MWAA::Environment").values()
    depends = set(resource["DependsOn"])
    log_group_ids = set(
        template.find_resources(
            "AWS::Logs::LogGroup",
            {"Properties": {"LogGroupName": Match.string_like_regexp("^airflow-env-x-")}},
        )
    )
    assert log_group_ids <= depends and len(log_group_ids) == 5
    policy_ids = {
        k for k, v in template.find_resources("AWS::IAM::ManagedPolicy").items()
        if "ExecutionRole" in json.dumps(v["Properties"].get("Roles"))
    }  # fmt: skip
    assert len(policy_ids) == 1 and policy_ids <= depends


def test_role_trust_is_scoped_to_this_account_and_environment(customer_key) -> None:
    _, _environment, template = customer_key
    roles = template.find_resources(
        "AWS::IAM::Role", {"Properties": {"Description": Match.string_like_regexp("^Execution role")}}
    )
    (role,) = roles.values()
    assert "ManagedPolicyArns" not in role["Properties"], "no AWS managed policy"
    assert "Policies" not in role["Properties"], "no inline policy"
    statements = _flat(role["Properties"]["AssumeRolePolicyDocument"]["Statement"])
    # One statement per service, or one for both (the project's @aws-cdk/aws-iam:minimizePolicies).
    services = [s["Principal"]["Service"] for s in statements]
    assert sorted(
        x for service in services for x in ([service] if isinstance(service, str) else service)
    ) == [
        "airflow-env.amazonaws.com",
        "airflow.amazonaws.com",
    ]
    for statement in statements:
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": "111122223333"},
            "ArnLike": {"aws:SourceArn": "arn:aws:airflow:eu-west-1:111122223333:environment/env-x"},
        }


def _role_statements(template: Template) -> list[dict]:
    """The execution role's statements: all in its one customer managed policy, none inline."""
    inline = [
        p for p in template.find_resources("AWS::IAM::Policy").values()
        if "ExecutionRole" in json.dumps(p["Properties"].get("Roles"))
    ]  # fmt: skip
    assert inline == []
    policies = [
        p for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
        if "ExecutionRole" in json.dumps(p["Properties"].get("Roles"))
    ]  # fmt: skip
    assert len(policies) == 1
    return _flat([s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]])  # type: ignore[return-value]


def test_role_policy_is_the_scoped_reference_policy(customer_key) -> None:
    _, _, template = customer_key
    statements = _role_statements(template)
    publish = statement_with(statements, "airflow:PublishMetrics")
    assert publish["Resource"] == "arn:aws:airflow:eu-west-1:111122223333:environment/env-x"
    deny = statement_with(statements, "s3:ListAllMyBuckets")
    assert deny["Effect"] == "Deny" and deny["Resource"] == "*"
    sqs = statement_with(statements, "sqs:SendMessage")
    assert sqs["Resource"] == "arn:aws:sqs:eu-west-1:*:airflow-celery-*"
    logs = statement_with(statements, "logs:PutLogEvents")
    assert len(logs["Resource"]) == 10  # two ARN forms of each of the five log groups
    metrics = statement_with(statements, "cloudwatch:PutMetricData")
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "AmazonMWAA"}}
    kms = statement_with(statements, "kms:Encrypt")
    assert "GetAtt" in json.dumps(kms["Resource"])
    assert sorted(kms["Condition"]["StringEquals"]["kms:ViaService"]) == [
        "s3.eu-west-1.amazonaws.com",
        "sqs.eu-west-1.amazonaws.com",
    ]
    kms_statements = [s for s in statements if any(a.startswith("kms:") for a in actions_of(s))]
    assert all("kms:ViaService" in json.dumps(s.get("Condition")) for s in kms_statements)
    s3_read = statement_with(statements, "s3:GetObject*")
    assert sorted(s3_read["Action"]) == ["s3:GetBucket*", "s3:GetObject*", "s3:List*"]
    assert not any("s3:Put" in json.dumps(s["Action"]) or s["Action"] == "*" for s in statements)


def _arn(value: Any, resources: dict[str, Any]) -> str:
    """What CloudFormation makes of a log-group ARN of the policy (account and region are set)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_arn(part, resources) for part in parts)
    if value.get("Ref") == "AWS::Partition":
        return "aws"
    if "Ref" in value:
        return resources[value["Ref"]]["Properties"]["LogGroupName"]
    logical_id, attribute = value["Fn::GetAtt"]
    assert attribute == "Arn"
    name = resources[logical_id]["Properties"]["LogGroupName"]
    return f"arn:aws:logs:eu-west-1:111122223333:log-group:{name}:*"  # the LogGroup Arn attribute


# Each CloudWatch Logs action MWAA calls with the resource IAM authorizes it on (service
# authorization reference: resource type log-group = log-group:<name>, log-stream =
# log-group:<name>:log-stream:<stream>).
_GROUP = "arn:aws:logs:eu-west-1:111122223333:log-group:airflow-env-x-Task"
_LOG_ACTIONS = {
    "logs:CreateLogGroup": _GROUP,
    "logs:CreateLogStream": _GROUP,
    "logs:GetLogGroupFields": _GROUP,
    "logs:GetLogRecord": _GROUP,
    "logs:GetQueryResults": _GROUP,
    "logs:PutLogEvents": f"{_GROUP}:log-stream:scheduler_1.log",
    "logs:GetLogEvents": f"{_GROUP}:log-stream:scheduler_1.log",
}


@pytest.mark.parametrize(("action", "arn"), sorted(_LOG_ACTIONS.items()))
def test_every_log_action_is_allowed_on_the_arn_iam_checks(customer_key, action: str, arn: str) -> None:
    _, _, template = customer_key
    resources = template.to_json()["Resources"]
    statement = statement_with(_role_statements(template), action)
    allowed = [_arn(resource, resources) for resource in statement["Resource"]]
    assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in allowed), (action, arn, allowed)
    # Only this environment's groups: another environment's group of the same shape is not.
    other = arn.replace("airflow-env-x-", "airflow-env-y-")
    assert not any(fnmatch.fnmatchcase(other, pattern) for pattern in allowed)


def test_aws_owned_key_variant_uses_not_resource_through_sqs_only(aws_owned: Template) -> None:
    statements = _role_statements(aws_owned)
    kms = statement_with(statements, "kms:Encrypt")
    assert "Resource" not in kms
    assert kms["NotResource"] == "arn:aws:kms:*:111122223333:key/*"
    assert kms["Condition"]["StringEquals"]["kms:ViaService"] == ["sqs.eu-west-1.amazonaws.com"]
    assert "KmsKey" not in _env_props(aws_owned)


def test_grants_target_airflow_roles_and_the_environment(customer_key) -> None:
    _, _, template = customer_key
    (policy,) = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Users": Match.any_value()}}
    ).values()
    statements = _flat(policy["Properties"]["PolicyDocument"]["Statement"])
    assert {(s["Action"], s["Resource"]) for s in statements} == {
        ("airflow:CreateWebLoginToken", "arn:aws:airflow:eu-west-1:111122223333:role/env-x/Admin"),
        ("airflow:CreateCliToken", "arn:aws:airflow:eu-west-1:111122223333:environment/env-x"),
        ("airflow:InvokeRestApi", "arn:aws:airflow:eu-west-1:111122223333:role/env-x/User"),
    }


def test_connections_and_imports(customer_key) -> None:
    stack, environment, _ = customer_key
    assert len(environment.connections.security_groups) == 1
    imported = AirflowEnvironment.from_environment_name(stack, "Imported", "other-env")
    assert (
        _flat(stack.resolve(imported.environment_arn))
        == "arn:aws:airflow:eu-west-1:111122223333:environment/other-env"
    )
    metric = imported.metric_queued_tasks()
    assert metric.namespace == "AmazonMWAA"
    assert metric.dimensions == {"Environment": "other-env", "Function": "Executor"}
    with pytest.raises(ValueError, match="airflow_role"):
        imported.grant_web_login(iam.User(stack, "Other"), airflow_role="Root")


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"airflow_version": "3.1.0"}, "airflow_version"),
        ({"environment_class": "mw1.huge"}, "environment_class"),
        ({"weekly_maintenance_window_start": "TUE:03:15"}, "weekly_maintenance_window_start"),
        ({"webserver_access_mode": "PUBLIC"}, "webserver_access_mode"),
        ({"logging": {"task": "info"}}, "logging"),
        ({"airflow_configuration_options": {"Core.X": "1"}}, "airflow_configuration_options"),
    ],
)
def test_invalid_inputs_fail_before_synthesis(kwargs: dict, setting: str) -> None:
    with pytest.raises(ValueError, match=setting):
        _build(key=False, **kwargs)


def test_unsupported_versions_and_access_modes_say_why() -> None:
    with pytest.raises(ValueError) as error:
        _build(key=False, airflow_version="2.6.3")
    assert str(error.value).startswith(
        "AirflowEnvironment airflow_version: got '2.6.3'; MWAA ended support for 2.6.3 on 2025-12-30; "
        "supported versions are '2.7.2',"
    )
    with pytest.raises(ValueError) as error:
        _build(key=False, airflow_version="3.0.6", webserver_access_mode="PUBLIC_AND_PRIVATE")
    assert str(error.value) == (
        "AirflowEnvironment webserver_access_mode: got 'PUBLIC_AND_PRIVATE'; PUBLIC_AND_PRIVATE needs "
        "Airflow 3.2.1 or later: the private endpoint that carries worker-to-web-server Task API traffic "
        "exists on MWAA only from Airflow 3.2; with Airflow 3.0.6 use 'PUBLIC_ONLY' or 'PRIVATE_ONLY'"
    )


def test_public_and_private_access_on_airflow_3_2_and_later() -> None:
    stack, _, _ = _build(key=False, airflow_version="3.2.1", webserver_access_mode="PUBLIC_AND_PRIVATE")
    Template.from_stack(stack).has_resource_properties(
        "AWS::MWAA::Environment", {"AirflowVersion": "3.2.1", "WebserverAccessMode": "PUBLIC_AND_PRIVATE"}
    )


def test_environment_needs_exactly_two_subnets() -> None:
    stack = cdk.Stack(cdk.App(), "Three")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=3, availability_zones=None)
    bucket = DagBucket(stack, "B", environment_name="e").bucket
    with pytest.raises(ValueError, match="exactly 2"):
        AirflowEnvironment(
            stack,
            "Environment",
            environment_name="e",
            source_bucket=bucket,
            subnets=[vpc.private_subnets[0]],
            security_groups=[ec2.SecurityGroup(stack, "Sg", vpc=vpc)],
        )


# --- clients of a private web server ------------------------------------------------------------


def _ingress_on(template: Template, group_logical_id: str) -> list[dict[str, Any]]:
    """Every ingress rule of the security group: inline ones and separate resources."""
    group = template.to_json()["Resources"][group_logical_id]["Properties"]
    separate = [
        r["Properties"]
        for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group_logical_id, "GroupId"]}
    ]
    return [*group.get("SecurityGroupIngress", []), *separate]


def test_private_web_server_admits_the_ranges_and_groups_given_on_https_only() -> None:
    stack, environment, network = _build(key=False)
    plain = _env_props(Template.from_stack(_build(key=False)[0]))
    environment.allow_webserver_access_from(ec2.Peer.ipv4("10.0.0.0/8"), description="Corporate VPN")
    bastion = ec2.SecurityGroup.from_security_group_id(
        stack, "Bastion", "sg-0123456789abcdef0", mutable=False
    )
    environment.allow_webserver_access_from(bastion)
    template = Template.from_stack(stack)
    group = stack.resolve(stack.get_logical_id(network.security_group.node.default_child))
    ingress = _ingress_on(template, group)
    clients = [
        rule for rule in ingress if rule.get("SourceSecurityGroupId") != {"Fn::GetAtt": [group, "GroupId"]}
    ]
    assert sorted(clients, key=json.dumps) == sorted(
        [
            {
                "CidrIp": "10.0.0.0/8",
                "Description": "Corporate VPN",
                "FromPort": 443,
                "IpProtocol": "tcp",
                "ToPort": 443,
            },
            {
                "Description": "Airflow UI and REST API of the private web server",
                "FromPort": 443,
                "GroupId": {"Fn::GetAtt": [group, "GroupId"]},
                "IpProtocol": "tcp",
                "SourceSecurityGroupId": "sg-0123456789abcdef0",
                "ToPort": 443,
            },
        ],
        key=json.dumps,
    )
    # The other team's group is imported immutable: no rule is added to it.
    template.resource_count_is("AWS::EC2::SecurityGroupEgress", 0)
    # Only the group changes: the environment resource (and so MWAA) sees no update.
    assert _env_props(template) == plain


@pytest.mark.parametrize(
    "peer",
    [ec2.Peer.any_ipv4(), ec2.Peer.ipv4("0.0.0.0/0"), ec2.Peer.any_ipv6()],
    ids=["any-ipv4", "ipv4-slash-0", "any-ipv6"],
)
def test_a_private_web_server_is_never_opened_to_every_address(peer: ec2.IPeer) -> None:
    _, environment, _ = _build(key=False)
    with pytest.raises(ValueError) as error:
        environment.allow_webserver_access_from(peer)
    assert str(error.value).startswith(
        f"AirflowEnvironment allow_webserver_access_from: got '{peer.unique_id}'; "
    )


@pytest.mark.parametrize("mode", ["PUBLIC_ONLY", "PUBLIC_AND_PRIVATE"])
def test_web_server_clients_need_a_private_web_server(mode: str) -> None:
    _, environment, _ = _build(key=False, webserver_access_mode=mode)
    with pytest.raises(ValueError) as error:
        environment.allow_webserver_access_from(ec2.Peer.ipv4("10.0.0.0/8"))
    assert str(error.value) == (
        f"AirflowEnvironment allow_webserver_access_from: webserver_access_mode is '{mode}'; the rule "
        "applies only to 'PRIVATE_ONLY' (the other modes serve the UI from a public endpoint)"
    )


def test_log_groups_by_default_survive_deletion_but_not_a_failed_create(aws_owned: Template) -> None:
    # Named log groups (airflow-<env>-<Component>): Retain would block the retry of a failed create.
    groups = aws_owned.find_resources("AWS::Logs::LogGroup")
    assert groups
    assert {(g["DeletionPolicy"], g["UpdateReplacePolicy"]) for g in groups.values()} == {
        ("RetainExceptOnCreate", "Retain")
    }
