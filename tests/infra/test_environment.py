"""AirflowEnvironment and its ExecutionRole: properties, logging, dependencies, network,
interfaces (connections, grant_principal), sizing, metrics, grants and imports."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from mwaa_constructs import (
    AirflowEnvironment,
    AirflowKey,
    AirflowMonitoring,
    AirflowNetwork,
    DagBucket,
    EndpointManagement,
    EnvironmentClass,
    LogLevel,
    S3ObjectVersion,
    WebserverAccessMode,
    WorkerReplacementStrategy,
)
from mwaa_rules import rules
from tests.infra.conftest import actions_of, cdk_context, statement_with

ACCOUNT_REGION = cdk.Environment(account="111122223333", region="eu-west-1")
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def _app() -> cdk.App:
    return cdk.App(context={k: v for k, v in cdk_context().items() if k != "profiles"})


def _build(*, key: bool, **kwargs: Any) -> tuple[cdk.Stack, AirflowEnvironment, AirflowNetwork]:
    """An environment on an AirflowNetwork, wired as the platform stack wires it: the network's
    VPC, its two environment subnets and its security group."""
    stack = cdk.Stack(_app(), "Env", env=ACCOUNT_REGION)
    network = AirflowNetwork(stack, "Network")
    kms_key = AirflowKey(stack, "Key", environment_name="env-x").key if key else None
    bucket = DagBucket(stack, "DagBucket", environment_name="env-x", encryption_key=kms_key).bucket
    environment = AirflowEnvironment(
        stack,
        "Environment",
        environment_name="env-x",
        source_bucket=bucket,
        vpc=network.vpc,
        vpc_subnets=ec2.SubnetSelection(subnets=network.environment_subnets),
        security_groups=[network.security_group],
        kms_key=kms_key,
        **kwargs,
    )
    return stack, environment, network


def _on_vpc(
    vpc_factory: Any = None, **kwargs: Any
) -> tuple[cdk.Stack, AirflowEnvironment, ec2.IVpc, Template]:
    """An environment given only a VPC (a new one across three zones unless ``vpc_factory``
    builds another): its subnets and security group are the construct's defaults."""
    stack = cdk.Stack(_app(), "OnVpc", env=ACCOUNT_REGION)
    vpc = (
        vpc_factory(stack)
        if vpc_factory
        else ec2.Vpc(
            stack, "Vpc", availability_zones=ZONES, nat_gateways=1, restrict_default_security_group=False
        )
    )
    bucket = DagBucket(stack, "DagBucket", environment_name="env-v").bucket
    environment = AirflowEnvironment(
        stack, "Environment", environment_name="env-v", source_bucket=bucket, vpc=vpc, **kwargs
    )
    return stack, environment, vpc, Template.from_stack(stack)


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
        ({"endpoint_management": "VPC"}, "endpoint_management"),
        ({"worker_replacement_strategy": "ROLLING"}, "worker_replacement_strategy"),
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


# --- network: vpc, vpc_subnets, security_groups --------------------------------------------------


def _subnet_ids_by_type(template: Template) -> dict[str, set[str]]:
    """Logical ids of the subnets of each type CDK tags them with (Public, Private, Isolated)."""
    by_type: dict[str, set[str]] = {}
    for logical_id, subnet in template.find_resources("AWS::EC2::Subnet").items():
        tags = {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}
        by_type.setdefault(tags["aws-cdk:subnet-type"], set()).add(logical_id)
    return by_type


def _zone_of(template: Template, logical_id: str) -> str:
    return template.to_json()["Resources"][logical_id]["Properties"]["AvailabilityZone"]


def test_by_default_two_private_subnets_in_two_zones_of_the_vpc() -> None:
    _, environment, _, template = _on_vpc()
    (subnet_refs,) = [_env_props(template)["NetworkConfiguration"]["SubnetIds"]]
    ids = [ref["Ref"] for ref in subnet_refs]
    assert len(ids) == 2 and set(ids) <= _subnet_ids_by_type(template)["Private"]
    assert {_zone_of(template, i) for i in ids} == {"eu-west-1a", "eu-west-1b"}
    assert len(environment.subnets) == 2


def test_by_default_isolated_subnets_when_the_vpc_has_no_egress() -> None:
    def isolated(stack: cdk.Stack) -> ec2.Vpc:
        return ec2.Vpc(
            stack,
            "Vpc",
            availability_zones=ZONES[:2],
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            ],
        )

    _, _, _, template = _on_vpc(isolated)
    ids = [ref["Ref"] for ref in _env_props(template)["NetworkConfiguration"]["SubnetIds"]]
    assert set(ids) == _subnet_ids_by_type(template)["Isolated"]


def test_by_default_a_new_security_group_that_admits_itself_on_443_and_5432() -> None:
    stack, environment, _, template = _on_vpc()
    (group,) = environment.security_groups
    group_id = stack.resolve(stack.get_logical_id(group.node.default_child))
    assert _env_props(template)["NetworkConfiguration"]["SecurityGroupIds"] == [
        {"Fn::GetAtt": [group_id, "GroupId"]}
    ]
    itself = {"Fn::GetAtt": [group_id, "GroupId"]}
    rules_of_group = [
        (r["Properties"]["FromPort"], r["Properties"]["SourceSecurityGroupId"])
        for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == itself
    ]
    assert sorted(rules_of_group, key=str) == [(443, itself), (5432, itself)]
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": "MWAA environment: self-referencing, all outbound",
            "SecurityGroupEgress": [Match.object_like({"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"})],
        },
    )


def _imported_subnet(stack: cdk.Stack, name: str, zone: str | None) -> ec2.ISubnet:
    return ec2.Subnet.from_subnet_attributes(
        stack, name, subnet_id=f"subnet-0{name.lower() * 16}", availability_zone=zone, route_table_id="rtb-1"
    )


def _selection_error(select: Any) -> str:
    """The error of an environment on a three-zone VPC with ``select(stack, vpc)`` as its
    vpc_subnets (a SubnetSelection)."""
    stack = cdk.Stack(_app(), "Select", env=ACCOUNT_REGION)
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=ZONES, nat_gateways=1)
    with pytest.raises(ValueError) as error:
        AirflowEnvironment(
            stack,
            "Environment",
            environment_name="env-s",
            source_bucket=DagBucket(stack, "DagBucket", environment_name="env-s").bucket,
            vpc=vpc,
            vpc_subnets=select(stack, vpc),
        )
    return str(error.value)


@pytest.mark.parametrize(
    ("select", "message"),
    [
        (
            lambda stack, vpc: ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            r"^AirflowEnvironment vpc_subnets: got \[.*\]; MWAA needs exactly 2 private subnets in "
            r"different availability zones; got 3$",
        ),
        (
            lambda stack, vpc: ec2.SubnetSelection(
                subnet_type=ec2.SubnetType.PUBLIC, availability_zones=ZONES[:2]
            ),
            r"^AirflowEnvironment vpc_subnets: got \[.*\]; MWAA needs exactly 2 private subnets in "
            r"different availability zones: public subnets are not allowed$",
        ),
        (
            lambda stack, vpc: ec2.SubnetSelection(
                subnets=[
                    _imported_subnet(stack, "A", "eu-west-1a"),
                    _imported_subnet(stack, "B", "eu-west-1a"),
                ]
            ),
            r"^AirflowEnvironment vpc_subnets: got \['subnet-0\w+', 'subnet-0\w+'\]; MWAA needs exactly 2 "
            r"private subnets in different availability zones: both are in eu-west-1a$",
        ),
        (
            lambda stack, vpc: ec2.SubnetSelection(subnets=[vpc.private_subnets[0], vpc.private_subnets[0]]),
            r"given twice",
        ),
        (lambda stack, vpc: ec2.SubnetSelection(subnets=[vpc.private_subnets[0]]), r"; got 1$"),
    ],
    ids=["three", "public", "one-zone", "twice", "one"],
)
def test_subnet_selections_mwaa_refuses_fail_at_synthesis(select: Any, message: str) -> None:
    assert re.search(message, _selection_error(select)), _selection_error(select)


def test_a_vpc_without_private_subnets_in_two_zones_fails_with_what_it_has() -> None:
    def public_only(stack: cdk.Stack) -> ec2.Vpc:
        return ec2.Vpc(
            stack,
            "Vpc",
            availability_zones=ZONES[:2],
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="Web", subnet_type=ec2.SubnetType.PUBLIC)],
        )

    with pytest.raises(ValueError) as error:
        _on_vpc(public_only)
    assert re.fullmatch(
        r"AirflowEnvironment vpc: got '<token of OnVpc/Vpc>'; MWAA needs exactly 2 private subnets in "
        r"different availability zones; this VPC has 0 private subnet\(s\) in 0 zone\(s\): pass "
        r"vpc_subnets, or a VPC with private subnets in two zones",
        str(error.value),
    ), str(error.value)


def test_values_known_only_at_deploy_time_are_not_checked() -> None:
    def imported(stack: cdk.Stack) -> ec2.IVpc:
        return ec2.Vpc.from_vpc_attributes(
            stack, "Vpc", vpc_id=cdk.Fn.import_value("network-vpc"), availability_zones=ZONES[:2]
        )

    zone = cdk.Fn.select(0, cdk.Fn.get_azs())
    stack = cdk.Stack(_app(), "Tokens", env=ACCOUNT_REGION)
    vpc = imported(stack)
    subnets = [
        # A subnet id and zone that are tokens, and a subnet imported by id alone (no zone).
        ec2.Subnet.from_subnet_attributes(
            stack,
            "A",
            subnet_id=cdk.Fn.import_value("subnet-a"),
            availability_zone=zone,
            route_table_id="rtb-a",
        ),
        ec2.Subnet.from_subnet_id(stack, "B", "subnet-0bbbbbbbbbbbbbbbb"),
    ]
    max_workers = cdk.CfnParameter(stack, "MaxWorkers", type="Number")
    AirflowEnvironment(
        stack,
        "Environment",
        environment_name="env-t",
        source_bucket=DagBucket(stack, "DagBucket", environment_name="env-t").bucket,
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnets=subnets),
        max_workers=cdk.Token.as_number(max_workers.value_as_number),
    )
    props = _env_props(Template.from_stack(stack))
    assert props["NetworkConfiguration"]["SubnetIds"] == [
        {"Fn::ImportValue": "subnet-a"},
        "subnet-0bbbbbbbbbbbbbbbb",
    ]
    assert props["MaxWorkers"] == {"Ref": "MaxWorkers"}


@pytest.mark.parametrize("count", [0, 6])
def test_one_to_five_security_groups(count: int) -> None:
    stack = cdk.Stack(_app(), "Groups", env=ACCOUNT_REGION)
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=ZONES[:2])
    groups = [ec2.SecurityGroup(stack, f"Group{i}", vpc=vpc) for i in range(count)]
    with pytest.raises(ValueError) as error:
        AirflowEnvironment(
            stack,
            "Environment",
            environment_name="env-g",
            source_bucket=DagBucket(stack, "DagBucket", environment_name="env-g").bucket,
            vpc=vpc,
            security_groups=groups,
        )
    assert str(error.value) == (
        f"AirflowEnvironment security_groups: got {count}; MWAA takes 1 to 5 security groups"
    )


def test_the_deprecated_subnets_still_synthesize_the_same_and_warn() -> None:
    stack, environment, network = _build(key=False)
    expected = _env_props(Template.from_stack(stack))["NetworkConfiguration"]
    legacy_stack = cdk.Stack(_app(), "Env", env=ACCOUNT_REGION)
    legacy_network = AirflowNetwork(legacy_stack, "Network")
    AirflowEnvironment(
        legacy_stack,
        "Environment",
        environment_name="env-x",
        source_bucket=DagBucket(legacy_stack, "DagBucket", environment_name="env-x").bucket,
        subnets=legacy_network.environment_subnets,
        security_groups=[legacy_network.security_group],
    )
    assert _env_props(Template.from_stack(legacy_stack))["NetworkConfiguration"] == expected
    warnings = Annotations.from_stack(legacy_stack).find_warning(
        "/Env/Environment", Match.string_like_regexp("subnets is deprecated: pass vpc and vpc_subnets")
    )
    assert len(warnings) == 1
    assert Annotations.from_stack(stack).find_warning("/Env/Environment", Match.any_value()) == []
    with pytest.raises(ValueError, match=r"AirflowEnvironment subnets: .*pass vpc_subnets only"):
        AirflowEnvironment(
            stack,
            "Both",
            environment_name="env-y",
            source_bucket=environment.source_bucket,
            vpc=network.vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=network.environment_subnets),
            subnets=network.environment_subnets,
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


# --- interfaces: ec2.IConnectable and iam.IGrantable ------------------------------------------


def _group_id(stack: cdk.Stack, group: ec2.ISecurityGroup) -> dict[str, Any]:
    return {"Fn::GetAtt": [stack.resolve(stack.get_logical_id(group.node.default_child)), "GroupId"]}


def test_a_database_admits_the_environment_through_its_connections() -> None:
    stack, environment, network = _build(key=False)
    database = ec2.SecurityGroup(stack, "Database", vpc=network.vpc)
    database.connections.allow_from(environment, ec2.Port.tcp(5432), "Airflow tasks")
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": _group_id(stack, database),
            "SourceSecurityGroupId": _group_id(stack, network.security_group),
            "IpProtocol": "tcp",
            "FromPort": 5432,
            "ToPort": 5432,
            "Description": "Airflow tasks",
        },
    )


def test_the_environment_admits_a_peer_on_the_given_or_the_default_port() -> None:
    stack, environment, network = _build(key=False)
    bastion = ec2.SecurityGroup(stack, "Bastion", vpc=network.vpc)
    environment.connections.allow_from(bastion, ec2.Port.tcp(443), "bastion to the UI")
    environment.connections.allow_default_port_from(ec2.Peer.ipv4("10.20.0.0/16"), "VPN to the UI")
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": _group_id(stack, network.security_group),
            "SourceSecurityGroupId": _group_id(stack, bastion),
            "FromPort": 443,
            "Description": "bastion to the UI",
        },
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": "MWAA environment: self-referencing, all outbound",
            "SecurityGroupIngress": [
                {
                    "CidrIp": "10.20.0.0/16",
                    "Description": "VPN to the UI",
                    "FromPort": 443,
                    "IpProtocol": "tcp",
                    "ToPort": 443,
                }
            ],
        },
    )


def test_a_grant_to_the_environment_goes_to_its_execution_role() -> None:
    stack, environment, _ = _build(key=False)
    reports = s3.Bucket(stack, "Reports")
    reports.grant_read(environment)
    assert environment.grant_principal is environment.role
    reports_id = stack.resolve(stack.get_logical_id(reports.node.default_child))
    role_id = stack.resolve(stack.get_logical_id(environment.role.node.default_child))
    holders = [
        p["Properties"]
        for p in Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").values()
        if reports_id in json.dumps(p["Properties"]["PolicyDocument"])
    ]
    (policy,) = holders
    assert policy["Roles"] == [{"Ref": role_id}]
    statement = statement_with(_flat(policy["PolicyDocument"]["Statement"]), "s3:GetObject*")  # type: ignore[arg-type]
    assert reports_id in json.dumps(statement["Resource"])


# --- enums -----------------------------------------------------------------------------------


def test_enum_members_reach_the_template_as_the_strings_mwaa_takes() -> None:
    stack, _, _ = _build(
        key=False,
        environment_class=EnvironmentClass.MW1_LARGE,
        webserver_access_mode=WebserverAccessMode.PUBLIC_ONLY,
        endpoint_management=EndpointManagement.CUSTOMER,
        worker_replacement_strategy=WorkerReplacementStrategy.FORCED,
        logging={"worker": LogLevel.DEBUG, "webserver": None},
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::MWAA::Environment",
        {
            "EnvironmentClass": "mw1.large",
            "WebserverAccessMode": "PUBLIC_ONLY",
            "EndpointManagement": "CUSTOMER",
            "WorkerReplacementStrategy": "FORCED",
            "LoggingConfiguration": Match.object_like(
                {
                    "WorkerLogs": {"Enabled": True, "LogLevel": "DEBUG"},
                    "WebserverLogs": {"Enabled": False, "LogLevel": "WARNING"},
                }
            ),
        },
    )


@pytest.mark.parametrize(
    ("enum", "table"),
    [
        (EnvironmentClass, tuple(rules.ENVIRONMENT_CLASSES)),
        (WebserverAccessMode, rules.WEBSERVER_ACCESS_MODES),
        (LogLevel, rules.LOG_LEVELS),
        (EndpointManagement, rules.ENDPOINT_MANAGEMENT_MODES),
        (WorkerReplacementStrategy, rules.WORKER_REPLACEMENT_STRATEGIES),
    ],
)
def test_each_enum_has_a_member_for_every_value_of_its_rule(enum: type, table: tuple[str, ...]) -> None:
    assert sorted(member.value for member in enum) == sorted(table)
    assert all(isinstance(member, str) and member == member.value for member in enum)


# --- sizing ----------------------------------------------------------------------------------


def test_sizing_beyond_the_class_fails_with_every_problem_named() -> None:
    with pytest.raises(ValueError) as error:
        _build(key=False, min_workers=30, max_workers=3, schedulers=9)
    assert str(error.value).splitlines() == [
        "AirflowEnvironment schedulers: got 9; mw1.small allows 2 to 5 schedulers",
        "AirflowEnvironment min_workers: got 30; mw1.small allows 1 to 25 workers",
        "AirflowEnvironment min_workers: got 30; must not exceed max_workers (3)",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"environment_class": "mw1.micro", "schedulers": 2},
            "schedulers: got 2; mw1.micro allows exactly 1 scheduler",
        ),
        (
            {"environment_class": EnvironmentClass.MW1_MICRO, "max_workers": 2},
            "max_workers: got 2; mw1.micro allows exactly 1 worker",
        ),
        ({"max_webservers": 6}, "max_webservers: got 6; mw1.small allows 2 to 5 web servers"),
        ({"min_webservers": 1}, "min_webservers: got 1; mw1.small allows 2 to 5 web servers"),
        (
            {"min_webservers": 4, "max_webservers": 3},
            "min_webservers: got 4; must not exceed max_webservers (3)",
        ),
        ({"max_workers": 26}, "max_workers: got 26; mw1.small allows 1 to 25 workers"),
        ({"min_workers": 0}, "min_workers: got 0; mw1.small allows 1 to 25 workers"),
        ({"schedulers": 2.5}, "schedulers: got 2.5; expected a whole number; mw1.small allows 2 to 5"),
    ],
)
def test_each_size_is_checked_against_the_class(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as error:
        _build(key=False, **kwargs)
    assert str(error.value).startswith(f"AirflowEnvironment {message}"), str(error.value)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"environment_class": "mw1.micro"},
            {"MinWorkers": 1, "MaxWorkers": 1, "Schedulers": 1, "MinWebservers": 1, "MaxWebservers": 1},
        ),
        # The class's default maximum (10) is raised to a larger minimum.
        ({"min_workers": 12}, {"MinWorkers": 12, "MaxWorkers": 12, "Schedulers": 2}),
        ({"min_webservers": 4}, {"MinWebservers": 4, "MaxWebservers": 4}),
    ],
)
def test_unset_sizes_follow_the_class(kwargs: dict[str, Any], expected: dict[str, int]) -> None:
    stack, _, _ = _build(key=False, **kwargs)
    Template.from_stack(stack).has_resource_properties("AWS::MWAA::Environment", expected)


# --- metrics ---------------------------------------------------------------------------------


def test_metric_options_are_keywords_passed_to_the_metric() -> None:
    _, environment, _ = _build(key=False)
    metric = environment.metric_queued_tasks(
        period=cdk.Duration.minutes(1),
        statistic="p90",
        unit=cloudwatch.Unit.COUNT,
        label="queued",
        color="#1f77b4",
        account="444455556666",
        region="us-east-1",
    )
    assert (metric.namespace, metric.metric_name) == ("AmazonMWAA", "QueuedTasks")
    assert metric.dimensions == {"Environment": "env-x", "Function": "Executor"}
    assert metric.period.to_minutes() == 1
    assert (metric.statistic, metric.unit, metric.label, metric.color) == (
        "p90",
        cloudwatch.Unit.COUNT,
        "queued",
        "#1f77b4",
    )
    assert (metric.account, metric.region) == ("444455556666", "us-east-1")


@pytest.mark.parametrize(
    ("method", "kwargs", "namespace", "dimensions", "statistic"),
    [
        ("metric_scheduler_heartbeat", {}, "AmazonMWAA", {"Function": "Scheduler"}, "Sum"),
        ("metric_import_errors", {}, "AmazonMWAA", {"Function": "DAG Processing"}, "Maximum"),
        ("metric_task_instance_failures", {}, "AmazonMWAA", {"DAG": "All", "Task": "All"}, "Sum"),
        ("metric_running_tasks", {}, "AmazonMWAA", {"Function": "Executor"}, "Average"),
        (
            "metric_cpu_utilization",
            {"cluster": "BaseWorker"},
            "AWS/MWAA",
            {"Cluster": "BaseWorker"},
            "Average",
        ),
        (
            "metric_memory_utilization",
            {"cluster": "WebServer"},
            "AWS/MWAA",
            {"Cluster": "WebServer"},
            "Average",
        ),
        ("metric_database_cpu_utilization", {}, "AWS/MWAA", {"Database": "WRITER"}, "Average"),
        (
            "metric_database_freeable_memory",
            {"database": "READER"},
            "AWS/MWAA",
            {"Database": "READER"},
            "Average",
        ),
        ("metric_database_connections", {}, "AWS/MWAA", {"Database": "WRITER"}, "Average"),
    ],
)
def test_each_metric_has_its_namespace_dimensions_and_default_statistic(
    method: str, kwargs: dict[str, str], namespace: str, dimensions: dict[str, str], statistic: str
) -> None:
    _, environment, _ = _build(key=False)
    metric = getattr(environment, method)(**kwargs)
    assert (metric.namespace, metric.statistic, metric.period.to_minutes()) == (namespace, statistic, 5)
    assert metric.dimensions == {"Environment": "env-x", **dimensions}
    # A statistic given wins over the method's default.
    assert getattr(environment, method)(**kwargs, statistic="SampleCount").statistic == "SampleCount"


def test_metric_takes_a_namespace_and_more_dimensions() -> None:
    _, environment, _ = _build(key=False)
    metric = environment.metric(
        "DAGDurationSuccess", dimensions={"DAG": "orders"}, statistic="Maximum", period=cdk.Duration.hours(1)
    )
    assert (metric.namespace, metric.statistic, metric.period.to_hours()) == ("AmazonMWAA", "Maximum", 1)
    assert metric.dimensions == {"Environment": "env-x", "DAG": "orders"}
    service = environment.metric("QueuedTasks", namespace="AWS/MWAA")
    assert (service.namespace, service.statistic) == ("AWS/MWAA", "Average")
    with pytest.raises(ValueError, match="cluster: got 'Worker'"):
        environment.metric_cpu_utilization(cluster="Worker")


def test_the_age_of_the_oldest_task_is_the_query_the_alarm_watches() -> None:
    stack, environment, _ = _build(key=False)
    expression = environment.metric_approximate_age_of_oldest_task(period=cdk.Duration.minutes(1))
    assert isinstance(expression, cloudwatch.MathExpression)
    assert expression.period.to_minutes() == 1
    assert expression.expression == (
        "SELECT MAX(ApproximateAgeOfOldestTask) FROM \"AWS/MWAA\" WHERE Environment = 'env-x'"
    )
    AirflowMonitoring(stack, "Monitoring", environment=environment)
    (alarm,) = (
        Template.from_stack(stack)
        .find_resources("AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": "env-x-oldest-queued-task"}})
        .values()
    )
    (query,) = alarm["Properties"]["Metrics"]
    assert query["Expression"] == expression.expression


# --- imported environments -------------------------------------------------------------------


def test_an_imported_environment_creates_nothing() -> None:
    stack = cdk.Stack(_app(), "Imports", env=ACCOUNT_REGION)
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0123456789abcdef0", mutable=False)
    role = iam.Role.from_role_arn(
        stack, "Role", "arn:aws:iam::111122223333:role/other-env-execution", mutable=False
    )
    imported = AirflowEnvironment.from_environment_attributes(
        stack, "Imported", environment_name="other-env", role=role, security_groups=[group]
    )
    imported.metric_scheduler_heartbeat()
    imported.metric_approximate_age_of_oldest_task()
    s3.Bucket.from_bucket_name(stack, "Reports", "reports").grant_read(imported)
    assert [g.security_group_id for g in imported.connections.security_groups] == ["sg-0123456789abcdef0"]
    assert imported.grant_principal is role
    assert [c.node.path for c in stack.node.find_all() if isinstance(c, cdk.CfnResource)] == []


def test_an_imported_environment_grants_connects_and_measures() -> None:
    stack = cdk.Stack(_app(), "Imports", env=ACCOUNT_REGION)
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0123456789abcdef0")
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111122223333:role/other-env-execution")
    imported = AirflowEnvironment.from_environment_attributes(
        stack, "Imported", environment_name="other-env", role=role, security_groups=[group]
    )
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=ZONES[:2]
    )
    database = ec2.SecurityGroup(stack, "Database", vpc=vpc)
    database.connections.allow_from(imported, ec2.Port.tcp(5432))
    imported.connections.allow_default_port_from(ec2.Peer.ipv4("10.30.0.0/16"))
    s3.Bucket(stack, "Reports").grant_read(imported)
    imported.grant_rest_api(iam.User(stack, "Operator"), airflow_role="Op")
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": _group_id(stack, database),
            "SourceSecurityGroupId": "sg-0123456789abcdef0",
            "FromPort": 5432,
        },
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"GroupId": "sg-0123456789abcdef0", "CidrIp": "10.30.0.0/16", "FromPort": 443},
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": ["other-env-execution"],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": Match.array_with(["s3:GetObject*"])})]
                )
            },
        },
    )
    (user_policy,) = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Users": Match.any_value()}}
    ).values()
    (statement,) = _flat(user_policy["Properties"]["PolicyDocument"]["Statement"])
    assert statement["Resource"] == "arn:aws:airflow:eu-west-1:111122223333:role/other-env/Op"
    assert imported.metric_queued_tasks().dimensions == {"Environment": "other-env", "Function": "Executor"}


def test_a_grant_to_an_imported_environment_without_a_role_is_reported() -> None:
    stack = cdk.Stack(_app(), "Imports", env=ACCOUNT_REGION)
    imported = AirflowEnvironment.from_environment_attributes(stack, "Imported", environment_name="other-env")
    iam.Grant.add_to_principal(grantee=imported, actions=["s3:GetObject"], resource_arns=["arn:aws:s3:::r/*"])
    assert [c.node.path for c in stack.node.find_all() if isinstance(c, cdk.CfnResource)] == []
    warnings = [
        entry.data
        for entry in imported.node.metadata
        if entry.type == "aws:cdk:warning" and "Add statement to this resource's role" in entry.data
    ]
    assert len(warnings) == 1


def test_an_imported_environment_name_is_checked() -> None:
    stack = cdk.Stack(_app(), "Imports", env=ACCOUNT_REGION)
    with pytest.raises(
        ValueError, match=r"^AirflowEnvironment environment_name: got '1-env'; expected a letter"
    ):
        AirflowEnvironment.from_environment_attributes(stack, "Imported", environment_name="1-env")


# --- cdk-nag acknowledgments -----------------------------------------------------------------


def acknowledgment_reasons(scope: Any) -> dict[str, str]:
    """Every cdk-nag acknowledgment recorded under ``scope``: rule id -> reason."""
    reasons: dict[str, str] = {}
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == "aws:cdk:acknowledged-rules":
                reasons.update(entry.data)
    return reasons


def test_the_environments_acknowledgments_make_sense_outside_this_repository(customer_key) -> None:
    _, environment, _ = customer_key
    reasons = acknowledgment_reasons(environment)
    assert reasons, "the execution role's wildcards are acknowledged"
    for rule, reason in reasons.items():
        assert not re.search(r"profile|cdk\.json|this (project|repository)", reason, re.I), (rule, reason)
