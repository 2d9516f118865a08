"""SampleDataPlane and SampleDataStack: resources, grants, DAG configuration, cfn-lint, cdk-nag."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from mwaa_constructs import AirflowKey, AirflowNetwork, DagBucket, ExecutionRole
from mwaa_constructs.hygiene import drop_redundant_depends_on
from platform_config import load_profile
from platform_config.profile import COMPLIANCE_PACKS
from sample.data_plane import (
    CONFIG_FILE_NAME,
    DAG_PACKAGE,
    MOVIELENS_HTTP_CONNECTION,
    SampleDataPlane,
    athena_workgroup_name,
    glue_database_name,
    redshift_name,
)
from sample.permissions import placeholders as fill_placeholders
from sample.stack import SampleDataStack
from stacks.compliance import compliance_checks
from tests.infra.conftest import ROOT, TLS_ONLY_STATEMENT, cdk_context, statement_with
from tools.permissions.addons import addon_placeholders
from tools.permissions.templates import StackTemplate, resolve_stacks

ENVIRONMENT_NAME = "mwaa-dev"
DAG_S3_PATH = "dags"
DATA_PREFIX = "movielens/"


def _feature_flags() -> dict[str, Any]:
    """The app's feature flags from cdk.json (not the profiles): the same synthesis as ``cdk synth``."""
    return {key: value for key, value in cdk_context().items() if key != "profiles"}


def _load_dag_config_module() -> ModuleType:
    """The DAG's configuration module, loaded from its file without putting dags/ on sys.path."""
    name = "_movie_list_config_under_test"
    spec = importlib.util.spec_from_file_location(name, ROOT / "sample" / "dags" / "movie_list" / "config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@dataclass
class Synthesized:
    outdir: Path
    platform: cdk.Stack
    data: SampleDataStack
    network: AirflowNetwork
    platform_template: dict[str, Any]
    data_template: dict[str, Any]

    @property
    def template(self) -> Template:
        return Template.from_json(self.data_template)

    def logical_id(self, construct: Any) -> str:
        child = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
        return cdk.Stack.of(child).get_logical_id(child)

    def import_of(self, construct: Any, attribute: str) -> dict[str, str]:
        """The ``Fn::ImportValue`` by which the data stack reads ``construct``'s attribute."""
        logical_id = self.logical_id(construct)
        for output in self.platform_template.get("Outputs", {}).values():
            value = output["Value"]
            if value in ({"Ref": logical_id}, {"Fn::GetAtt": [logical_id, attribute]}):
                return {"Fn::ImportValue": output["Export"]["Name"]}
        raise AssertionError(f"the platform stack exports no {attribute} of {logical_id}")


def _platform_template(outdir: Path, *, with_key: bool) -> dict[str, Any]:
    """The platform-like stack of :func:`_synth` alone, without a data stack."""
    app = cdk.App(outdir=str(outdir), context=_feature_flags())
    _platform(app, with_key=with_key)
    return app.synth().get_stack_by_name("Platform").template


def _platform(
    app: cdk.App, *, with_key: bool
) -> tuple[cdk.Stack, Any, AirflowNetwork, DagBucket, ExecutionRole]:
    platform = cdk.Stack(app, "Platform")
    key = AirflowKey(platform, "Key", environment_name=ENVIRONMENT_NAME).key if with_key else None
    network = AirflowNetwork(platform, "Network", availability_zones=3)
    dag_bucket = DagBucket(platform, "DagBucket", environment_name=ENVIRONMENT_NAME, encryption_key=key)
    role = ExecutionRole(
        platform,
        "ExecutionRole",
        environment_name=ENVIRONMENT_NAME,
        bucket=dag_bucket.bucket,
        log_groups=[logs.LogGroup(platform, "TaskLogs")],
        key=key,
    )
    drop_redundant_depends_on(platform)  # as MwaaPlatformStack does
    return platform, key, network, dag_bucket, role


def _synth(outdir: Path, *, with_key: bool) -> Synthesized:
    app = cdk.App(outdir=str(outdir), context=_feature_flags())
    platform, key, network, dag_bucket, role = _platform(app, with_key=with_key)
    data = SampleDataStack(
        app,
        "SampleData",
        vpc=network.vpc,
        subnets=network.private_subnets,
        client_security_group=network.security_group,
        dag_bucket=dag_bucket.bucket,
        dag_s3_path=DAG_S3_PATH,
        execution_role_arn=role.role.role_arn,
        name_prefix=ENVIRONMENT_NAME,
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    assembly = app.synth()
    return Synthesized(
        outdir=outdir,
        platform=platform,
        data=data,
        network=network,
        platform_template=assembly.get_stack_by_name("Platform").template,
        data_template=assembly.get_stack_by_name("SampleData").template,
    )


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The dev shape: AWS-owned encryption, DESTROY."""
    return _synth(tmp_path_factory.mktemp("cdk-out"), with_key=False)


@pytest.fixture(scope="module")
def synth_with_key(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """With the platform's customer managed key."""
    return _synth(tmp_path_factory.mktemp("cdk-out-key"), with_key=True)


def _statements(template: dict[str, Any], logical_id: str) -> list[dict[str, Any]]:
    return template["Resources"][logical_id]["Properties"]["PolicyDocument"]["Statement"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _execution_policy(s: Synthesized) -> tuple[str, dict[str, Any]]:
    imported = s.data.node.find_child("ExecutionRole")
    # "Policy" plus a stack-unique suffix (@aws-cdk/aws-iam:importedRoleStackSafeDefaultPolicyName).
    (policy,) = [c for c in imported.node.children if c.node.id.startswith("Policy")]
    logical_id = s.logical_id(policy.node.default_child)
    return logical_id, s.data_template["Resources"][logical_id]


# ---- S3 ---------------------------------------------------------------------------------


def test_data_bucket_has_the_dag_bucket_security_defaults(synth: Synthesized) -> None:
    plane = synth.data.data_plane
    bucket = synth.template.find_resources("AWS::S3::Bucket")[synth.logical_id(plane.data_bucket)]
    props = bucket["Properties"]
    assert "BucketName" not in props, "CloudFormation names the data bucket (no airflow- name)"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": synth.logical_id(plane.access_log_bucket)},
        "LogFilePrefix": "data-bucket/",
    }
    synth.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": synth.logical_id(plane.data_bucket)},
            "PolicyDocument": {"Statement": Match.array_with([TLS_ONLY_STATEMENT])},
        },
    )


def test_data_bucket_uses_the_platform_key_when_there_is_one(synth_with_key: Synthesized) -> None:
    plane = synth_with_key.data.data_plane
    props = synth_with_key.data_template["Resources"][synth_with_key.logical_id(plane.data_bucket)][
        "Properties"
    ]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::ImportValue"]
    assert rule["BucketKeyEnabled"] is True


# ---- Glue and Athena ----------------------------------------------------------------------


def test_glue_database(synth: Synthesized) -> None:
    synth.template.has_resource_properties(
        "AWS::Glue::Database",
        {"CatalogId": {"Ref": "AWS::AccountId"}, "DatabaseInput": {"Name": "mwaa_dev_movielens"}},
    )


def test_athena_workgroup_enforces_an_encrypted_result_location(synth: Synthesized) -> None:
    bucket_id = synth.logical_id(synth.data.data_plane.data_bucket)
    synth.template.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "Name": "mwaa-dev-movielens",
            "State": "ENABLED",
            "RecursiveDeleteOption": True,
            "WorkGroupConfiguration": {
                "EnforceWorkGroupConfiguration": True,
                "PublishCloudWatchMetricsEnabled": True,
                "BytesScannedCutoffPerQuery": 1024**3,
                "ResultConfiguration": {
                    "OutputLocation": {"Fn::Join": ["", ["s3://", {"Ref": bucket_id}, "/athena-results/"]]},
                    "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
                    "ExpectedBucketOwner": {"Ref": "AWS::AccountId"},
                },
            },
        },
    )


def test_athena_results_use_the_platform_key_when_there_is_one(synth_with_key: Synthesized) -> None:
    synth_with_key.template.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "WorkGroupConfiguration": Match.object_like(
                {
                    "ResultConfiguration": Match.object_like(
                        {
                            "EncryptionConfiguration": {
                                "EncryptionOption": "SSE_KMS",
                                "KmsKey": {"Fn::ImportValue": Match.any_value()},
                            }
                        }
                    )
                }
            )
        },
    )


# ---- Redshift Serverless --------------------------------------------------------------------


def test_namespace_credentials_are_generated_into_secrets_manager(synth: Synthesized) -> None:
    plane = synth.data.data_plane
    secret_id = synth.logical_id(plane.admin_secret)
    secret = synth.data_template["Resources"][secret_id]["Properties"]
    assert "SecretString" not in secret
    generator = secret["GenerateSecretString"]
    assert generator["GenerateStringKey"] == "password"
    assert json.loads(generator["SecretStringTemplate"]) == {"username": "admin"}
    assert generator["PasswordLength"] >= 8 and generator["RequireEachIncludedType"] is True

    namespace = synth.template.find_resources("AWS::RedshiftServerless::Namespace")
    (props,) = (resource["Properties"] for resource in namespace.values())
    assert "ManageAdminPassword" not in props
    assert props["AdminUsername"] == "admin"
    # The password is a dynamic reference that CloudFormation resolves, never a value.
    assert props["AdminUserPassword"] == {
        "Fn::Join": [
            "",
            ["{{resolve:secretsmanager:", {"Ref": secret_id}, ":SecretString:password::}}"],
        ]
    }
    assert props["NamespaceName"] == "mwaa-dev-movielens"
    assert props["DbName"] == "dev"
    copy_role_arn = {"Fn::GetAtt": [synth.logical_id(plane.copy_role), "Arn"]}
    assert props["DefaultIamRoleArn"] == copy_role_arn
    assert props["IamRoles"] == [copy_role_arn]
    assert "KmsKeyId" not in props


def test_no_secret_value_in_the_template_or_outputs(synth: Synthesized) -> None:
    text = json.dumps(synth.data_template)
    assert text.count("{{resolve:secretsmanager:") == 1  # the namespace's dynamic reference only
    outputs = json.dumps(synth.data_template["Outputs"])
    assert "resolve:secretsmanager" not in outputs
    assert not re.search(r"password", outputs, re.IGNORECASE)


def _connection_secret(s: Synthesized) -> dict[str, Any]:
    secret_id = s.logical_id(s.data.data_plane.movielens_connection_secret)
    return s.data_template["Resources"][secret_id]["Properties"]


def test_http_connection_is_a_plain_secret_under_the_connections_prefix(synth: Synthesized) -> None:
    props = _connection_secret(synth)
    assert props["Name"] == "airflow/connections/movielens_http"
    assert json.loads(props["SecretString"]) == MOVIELENS_HTTP_CONNECTION
    assert MOVIELENS_HTTP_CONNECTION == {
        "conn_type": "http",
        "host": "files.grouplens.org",
        "schema": "https",
    }
    assert "KmsKeyId" not in props and "GenerateSecretString" not in props
    synth.template.resource_count_is("AWS::SecretsManager::RotationSchedule", 0)
    outputs = synth.data_template["Outputs"]
    assert outputs["MovieLensConnectionSecretName"]["Value"] == "airflow/connections/movielens_http"


def test_http_connection_is_the_one_the_dag_expects(synth: Synthesized) -> None:
    module = _load_dag_config_module()
    conn_id = module.MovieListConfig(data_bucket="bucket-1").http_conn_id
    props = _connection_secret(synth)
    assert props["Name"] == f"airflow/connections/{conn_id}"
    value = json.loads(props["SecretString"])
    source = urlsplit(module.DEFAULT_SOURCE_URL)
    assert (value["conn_type"], value["schema"], value["host"]) == ("http", source.scheme, source.netloc)


def test_http_connection_uses_the_platform_key_when_there_is_one(synth_with_key: Synthesized) -> None:
    # The key of the platform stack, read through its export.
    assert "Fn::ImportValue" in _connection_secret(synth_with_key)["KmsKeyId"]


def test_namespace_uses_the_platform_key_when_there_is_one(synth_with_key: Synthesized) -> None:
    synth_with_key.template.has_resource_properties(
        "AWS::RedshiftServerless::Namespace", {"KmsKeyId": {"Fn::ImportValue": Match.any_value()}}
    )


def test_workgroup_is_private_in_three_subnets(synth: Synthesized) -> None:
    plane = synth.data.data_plane
    workgroups = synth.template.find_resources("AWS::RedshiftServerless::Workgroup")
    (props,) = (resource["Properties"] for resource in workgroups.values())
    assert props["WorkgroupName"] == "mwaa-dev-movielens"
    assert props["NamespaceName"] == {
        "Fn::GetAtt": [synth.logical_id(plane.redshift_namespace), "Namespace.NamespaceName"]
    }
    assert props["PubliclyAccessible"] is False
    assert props["EnhancedVpcRouting"] is True
    assert props["BaseCapacity"] == 8
    assert props["Port"] == 5439
    expected_subnets = [synth.import_of(subnet, "") for subnet in synth.network.private_subnets]
    assert len(expected_subnets) == 3
    assert props["SubnetIds"] == expected_subnets
    assert props["SecurityGroupIds"] == [{"Fn::GetAtt": [synth.logical_id(plane.security_group), "GroupId"]}]
    assert {"ParameterKey": "require_ssl", "ParameterValue": "true"} in props["ConfigParameters"]


def _without_description(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in rule.items() if key != "Description"} for rule in rules]


def test_workgroup_is_reachable_only_from_the_mwaa_security_group(synth: Synthesized) -> None:
    plane = synth.data.data_plane
    sg_id = synth.logical_id(plane.security_group)
    sg = synth.data_template["Resources"][sg_id]["Properties"]
    assert "SecurityGroupIngress" not in sg, "no inline ingress (no CIDR rule)"
    assert _without_description(sg["SecurityGroupEgress"]) == [
        {"CidrIp": "0.0.0.0/0", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]
    group_id = {"Fn::GetAtt": [sg_id, "GroupId"]}
    ingress = [
        resource["Properties"]
        for resource in synth.template.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if resource["Properties"]["GroupId"] == group_id
    ]
    assert _without_description(ingress) == [
        {
            "GroupId": group_id,
            "IpProtocol": "tcp",
            "FromPort": 5439,
            "ToPort": 5439,
            "SourceSecurityGroupId": synth.import_of(synth.network.security_group, "GroupId"),
        }
    ]


def test_copy_role_is_trusted_by_redshift_and_reads_only_the_data_prefix(synth: Synthesized) -> None:
    plane = synth.data.data_plane
    role = synth.data_template["Resources"][synth.logical_id(plane.copy_role)]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert sorted(trust["Principal"]["Service"]) == [
        "redshift-serverless.amazonaws.com",
        "redshift.amazonaws.com",
    ]
    assert "ManagedPolicyArns" not in role, "no AWS managed policy"

    # Its own customer managed policy, attached to it alone.
    policy_id = synth.logical_id(plane.copy_role.policy)
    policy = synth.data_template["Resources"][policy_id]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    assert policy["Properties"]["Roles"] == [{"Ref": synth.logical_id(plane.copy_role)}]
    statements = _statements(synth.data_template, policy_id)
    bucket_id = synth.logical_id(plane.data_bucket)
    assert statements == [
        {
            "Action": ["s3:GetBucket*", "s3:GetObject*", "s3:List*"],
            "Effect": "Allow",
            "Resource": [
                {"Fn::GetAtt": [bucket_id, "Arn"]},
                {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{DATA_PREFIX}*"]]},
            ],
        }
    ]


# ---- grants to the execution role ---------------------------------------------------------


@pytest.mark.parametrize(("fixture", "with_key"), [("synth", False), ("synth_with_key", True)])
def test_the_data_stack_adds_only_exports_and_a_bucket_tag_to_the_platform(
    fixture: str, with_key: bool, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    synth: Synthesized = request.getfixturevalue(fixture)
    alone = _platform_template(tmp_path, with_key=with_key)
    with_data = json.loads(json.dumps(synth.platform_template))
    # The data stack reads VPC, subnets, security group, bucket and role through exports.
    assert set(alone.get("Outputs", {})) < set(with_data["Outputs"])
    assert all("Export" in output for output in with_data["Outputs"].values())
    # Its BucketDeployment marks the DAG prefix it writes to with a tag on the DAG bucket.
    bucket_id = synth.logical_id(synth.platform.node.find_child("DagBucket").bucket)
    tags_with = with_data["Resources"][bucket_id]["Properties"].pop("Tags")
    tags_alone = alone["Resources"][bucket_id]["Properties"].pop("Tags", [])
    added = [tag for tag in tags_with if tag not in tags_alone]
    assert [tag["Key"].startswith("aws-cdk:cr-owned:dags/") for tag in added] == [True]
    # Nothing else in the platform changes (the key policy included: the data stack's KMS
    # permissions are IAM grants), so deploying or destroying it never touches the environment.
    with_data.pop("Outputs")
    alone.pop("Outputs", None)
    assert with_data == alone


def test_grants_land_in_a_policy_of_the_data_stack_attached_to_the_execution_role(
    synth: Synthesized,
) -> None:
    _, policy = _execution_policy(synth)
    (role_name,) = policy["Properties"]["Roles"]
    # The role name, taken from the imported ARN.
    assert "Fn::ImportValue" in json.dumps(role_name)


def test_execution_role_reads_and_writes_only_two_prefixes_of_the_data_bucket(synth: Synthesized) -> None:
    _, policy = _execution_policy(synth)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    bucket_arn = {"Fn::GetAtt": [synth.logical_id(synth.data.data_plane.data_bucket), "Arn"]}
    s3_statements = [st for st in statements if any(a.startswith("s3:") for a in _as_list(st["Action"]))]
    assert len(s3_statements) == 1
    (statement,) = s3_statements
    assert "s3:PutObject" in statement["Action"] and "s3:DeleteObject*" in statement["Action"]
    assert not any(action in ("s3:*", "s3:Put*") for action in statement["Action"])
    assert sorted(map(json.dumps, statement["Resource"])) == sorted(
        map(
            json.dumps,
            [
                bucket_arn,
                {"Fn::Join": ["", [bucket_arn, f"/{DATA_PREFIX}*"]]},
                {"Fn::Join": ["", [bucket_arn, "/athena-results/*"]]},
            ],
        )
    )


def test_execution_role_uses_athena_only_in_the_workgroup(synth: Synthesized) -> None:
    _, policy = _execution_policy(synth)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    statement = statement_with(statements, "athena:StartQueryExecution")
    assert sorted(statement["Action"]) == [
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:GetWorkGroup",
        "athena:StartQueryExecution",
        "athena:StopQueryExecution",
    ]
    workgroup_id = synth.logical_id(synth.data.data_plane.athena_workgroup)
    assert statement["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":athena:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":workgroup/",
                {"Ref": workgroup_id},
            ],
        ]
    }


def test_execution_role_uses_glue_only_in_the_database(synth: Synthesized) -> None:
    _, policy = _execution_policy(synth)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    statement = statement_with(statements, "glue:CreateTable")
    assert sorted(statement["Action"]) == sorted(
        [
            "glue:GetDatabase",
            "glue:GetTable",
            "glue:GetTables",
            "glue:CreateTable",
            "glue:UpdateTable",
            "glue:DeleteTable",
            "glue:GetPartitions",
        ]
    )
    database = {"Ref": synth.logical_id(synth.data.data_plane.glue_database)}
    prefix = ["arn:", {"Ref": "AWS::Partition"}, ":glue:", {"Ref": "AWS::Region"}, ":"]
    prefix += [{"Ref": "AWS::AccountId"}]
    assert statement["Resource"] == [
        {"Fn::Join": ["", [*prefix, ":catalog"]]},
        {"Fn::Join": ["", [*prefix, ":database/", database]]},
        {"Fn::Join": ["", [*prefix, ":table/", database, "/*"]]},
    ]


def test_execution_role_uses_the_data_api_only_on_the_workgroup_and_its_own_statements(
    synth: Synthesized,
) -> None:
    _, policy = _execution_policy(synth)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    run = statement_with(statements, "redshift-data:ExecuteStatement")
    # The Data API logs in as the role itself: temporary credentials for this workgroup only.
    assert sorted(run["Action"]) == [
        "redshift-data:BatchExecuteStatement",
        "redshift-data:ExecuteStatement",
        "redshift-serverless:GetCredentials",
    ]
    assert run["Resource"] == {
        "Fn::GetAtt": [
            synth.logical_id(synth.data.data_plane.redshift_workgroup),
            "Workgroup.WorkgroupArn",
        ]
    }
    follow = statement_with(statements, "redshift-data:DescribeStatement")
    assert sorted(follow["Action"]) == [
        "redshift-data:CancelStatement",
        "redshift-data:DescribeStatement",
        "redshift-data:GetStatementResult",
    ]
    assert follow["Resource"] == "*"
    assert follow["Condition"] == {
        "StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}
    }
    actions = [action for st in statements for action in _as_list(st["Action"])]
    assert actions.count("redshift-serverless:GetCredentials") == 1


def test_execution_role_cannot_read_the_admin_secret_and_nothing_is_unscoped(synth: Synthesized) -> None:
    _, policy = _execution_policy(synth)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = [action for st in statements for action in _as_list(st["Action"])]
    assert [action for action in actions if action.startswith("secretsmanager:")] == []
    secret_id = synth.logical_id(synth.data.data_plane.admin_secret)
    assert secret_id not in json.dumps(statements)
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if statement["Resource"] == "*":
            assert statement.get("Condition"), f"unconditional '*': {statement}"


def test_execution_role_may_use_the_key_for_the_data_bucket(synth_with_key: Synthesized) -> None:
    _, policy = _execution_policy(synth_with_key)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    kms = statement_with(statements, "kms:Decrypt")
    assert kms["Resource"]["Fn::ImportValue"]
    # Only through S3: the role cannot call KMS directly with the platform key.
    assert list(kms["Condition"]) == ["StringEquals"]
    assert '"s3."' in json.dumps(kms["Condition"]["StringEquals"]["kms:ViaService"])
    assert all(
        "kms:ViaService" in json.dumps(st.get("Condition"))
        for st in statements
        if any(a.startswith("kms:") for a in _as_list(st["Action"]))
    )


# ---- the DAG's configuration ---------------------------------------------------------------


def _dag_deployment(s: Synthesized) -> dict[str, Any]:
    deployments = Template.from_json(s.data_template).find_resources("Custom::CDKBucketDeployment")
    (deployment,) = deployments.values()
    return deployment["Properties"]


def _resolve(value: Any, resources: dict[str, Any]) -> str:
    """What CloudFormation substitutes for a marker, for the references used here."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_resolve(part, resources) for part in parts)
    if "Ref" in value:
        logical_id = value["Ref"]
        resource = resources[logical_id]
        return {
            "AWS::S3::Bucket": lambda: "sampledata-databucket-1a2b3c4d5e6f",
            "AWS::Glue::Database": lambda: resource["Properties"]["DatabaseInput"]["Name"],
            "AWS::Athena::WorkGroup": lambda: resource["Properties"]["Name"],
            "AWS::SecretsManager::Secret": lambda: (
                f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{logical_id}-AbCdEf"
            ),
        }[resource["Type"]]()
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        resource = resources[logical_id]
        if (resource["Type"], attribute) == ("AWS::RedshiftServerless::Workgroup", "Workgroup.WorkgroupName"):
            return resource["Properties"]["WorkgroupName"]
        if (resource["Type"], attribute) == ("AWS::IAM::Role", "Arn"):
            return f"arn:aws:iam::123456789012:role/{logical_id}"
    raise AssertionError(f"unexpected reference in the DAG configuration: {value}")


def _deployed_config(s: Synthesized) -> tuple[dict[str, Any], dict[str, Any]]:
    """The configuration file as the deployment writes it, and the markers it substitutes."""
    props = _dag_deployment(s)
    sources = _source_folders(s)
    (index,) = [i for i, folder in enumerate(sources) if (folder / CONFIG_FILE_NAME).exists()]
    text = (sources[index] / CONFIG_FILE_NAME).read_text(encoding="utf-8")
    markers = props["SourceMarkers"][index]
    resources = s.data_template["Resources"]
    for marker, value in markers.items():
        text = text.replace(marker, _resolve(value, resources))
    return json.loads(text), markers


def _source_folders(s: Synthesized) -> list[Path]:
    """The staged asset folder of each source of the sample's DAG deployment, in order."""
    keys = _dag_deployment(s)["SourceObjectKeys"]
    return [s.outdir / f"asset.{key.removesuffix('.zip')}" for key in keys]


def test_the_dag_and_its_config_go_to_the_samples_own_folder(synth: Synthesized) -> None:
    props = _dag_deployment(synth)
    assert props["DestinationBucketName"] == synth.import_of(synth.data.data_plane._dag_bucket, "")
    assert props["DestinationBucketKeyPrefix"] == f"{DAG_S3_PATH}/{DAG_PACKAGE}/"
    # The sample owns that folder: pruned, and deleted with the stack; nothing outside it.
    assert props["Prune"] is True
    assert props.get("RetainOnDelete") is False
    dag_source, config_source = _source_folders(synth)
    assert sorted(p.name for p in dag_source.iterdir()) == sorted(
        [".airflowignore", "__init__.py", "config.py", "files.py", "movie_list_dag.py", "sql.py"]
    )
    assert [p.name for p in config_source.iterdir()] == [CONFIG_FILE_NAME]
    # jsonEscape would escape the quotes CDK puts around each token: invalid JSON.
    assert {"jsonEscape": True} not in props.get("SourceMarkersConfig", [])


def test_config_matches_the_resources(synth: Synthesized) -> None:
    plane = synth.data.data_plane
    config, markers = _deployed_config(synth)
    bucket = "sampledata-databucket-1a2b3c4d5e6f"
    copy_role_id = synth.logical_id(plane.copy_role)
    secret_id = synth.logical_id(plane.admin_secret)
    assert config == {
        "data_bucket": bucket,
        "data_prefix": DATA_PREFIX,
        "athena_database": "mwaa_dev_movielens",
        "athena_workgroup": "mwaa-dev-movielens",
        "athena_output_location": f"s3://{bucket}/athena-results/",
        "redshift_workgroup": "mwaa-dev-movielens",
        "redshift_database": "dev",
        "redshift_copy_role_arn": f"arn:aws:iam::123456789012:role/{copy_role_id}",
    }
    # Each value comes from the resource itself, so the file is written after they exist.
    referenced = {
        ref
        for value in markers.values()
        for ref in re.findall(r'"(?:Ref|Fn::GetAtt)": \[?"(\w+)"', json.dumps(value))
    }
    assert referenced == {
        synth.logical_id(plane.data_bucket),
        synth.logical_id(plane.glue_database),
        synth.logical_id(plane.athena_workgroup),
        synth.logical_id(plane.redshift_workgroup),
        copy_role_id,
    }
    # No secret: the DAG logs in to Redshift with the execution role's own IAM identity.
    assert secret_id not in json.dumps(markers)
    assert config == {
        key: _resolve(value, synth.data_template["Resources"]) if not isinstance(value, str) else value
        for key, value in ((k, cdk.Stack.of(plane).resolve(v)) for k, v in plane.dag_config.items())
    }


def test_config_is_accepted_by_the_dag(synth: Synthesized) -> None:
    module = _load_dag_config_module()
    config, _ = _deployed_config(synth)
    known = {field.name for field in dataclasses.fields(module.MovieListConfig)}
    assert set(config) <= known
    parsed = module.MovieListConfig.from_mapping(config)
    assert parsed.athena_output_uri == config["athena_output_location"]
    assert parsed.redshift_iam_role_clause == f"IAM_ROLE '{config['redshift_copy_role_arn']}'"
    assert module.CONFIG_FILE_NAME == CONFIG_FILE_NAME


def test_outputs_name_the_resources_but_not_the_secret_value(synth: Synthesized) -> None:
    plane = synth.data.data_plane
    outputs = {name: output["Value"] for name, output in synth.data_template["Outputs"].items()}
    assert outputs["DataBucketName"] == {"Ref": synth.logical_id(plane.data_bucket)}
    assert outputs["AthenaWorkGroup"] == {"Ref": synth.logical_id(plane.athena_workgroup)}
    assert outputs["GlueDatabase"] == {"Ref": synth.logical_id(plane.glue_database)}
    assert outputs["RedshiftWorkgroupName"] == {
        "Fn::GetAtt": [synth.logical_id(plane.redshift_workgroup), "Workgroup.WorkgroupName"]
    }
    assert outputs["RedshiftSecretArn"] == {"Ref": synth.logical_id(plane.admin_secret)}
    assert outputs["DagConfigKey"] == f"{DAG_S3_PATH}/{DAG_PACKAGE}/{CONFIG_FILE_NAME}"


# ---- placeholders of the permission contract (sample/permissions.toml) ------------------------

CONTRACT_ACCOUNT = "111122223333"
CONTRACT_REGION = "eu-west-1"


def _resolved(s: Synthesized, data_stack: str = "SampleData") -> dict[str, Any]:
    return resolve_stacks(
        [
            StackTemplate(name=name, template=template, account=CONTRACT_ACCOUNT, region=CONTRACT_REGION)
            for name, template in (("Platform", s.platform_template), (data_stack, s.data_template))
        ]
    )


def _contract_placeholders(s: Synthesized) -> tuple[dict[str, str], Any]:
    """The manifest's placeholder function (``sample.permissions.placeholders``) on the resolved stack."""
    stack = _resolved(s)["SampleData"]
    return fill_placeholders(stack), stack


def test_contract_placeholders_name_the_samples_own_resources(synth: Synthesized) -> None:
    plane = synth.data.data_plane
    placeholders, stack = _contract_placeholders(synth)
    assert placeholders["sample_data_bucket"] == stack.names[synth.logical_id(plane.data_bucket)]
    assert placeholders["sample_access_log_bucket"] == stack.names[synth.logical_id(plane.access_log_bucket)]
    # The sample stack sets no data_prefix: the data plane's default, which the DAG writes under.
    assert placeholders["sample_data_prefix"] == plane.data_prefix
    assert placeholders["sample_athena_results_prefix"] == "athena-results/"
    assert placeholders["sample_athena_workgroup"] == plane.workgroup_name
    assert placeholders["sample_glue_database"] == plane.database_name
    assert placeholders["sample_http_connection_secret"] == plane.movielens_connection_secret_name
    assert placeholders["sample_copy_role_arn"] == stack.arns[synth.logical_id(plane.copy_role)]
    admin_name = stack.names[synth.logical_id(plane.admin_secret)]
    assert placeholders["sample_redshift_admin_secret_arn"] == (
        f"arn:aws:secretsmanager:{CONTRACT_REGION}:{CONTRACT_ACCOUNT}:secret:{admin_name}-AbCdEf"
    )
    # The Data API authorises on the workgroup's id (a UUID), not its name.
    workgroup_id = "[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
    assert re.fullmatch(
        f"arn:aws:redshift-serverless:{CONTRACT_REGION}:{CONTRACT_ACCOUNT}:workgroup/{workgroup_id}",
        placeholders["sample_redshift_workgroup_arn"],
    )


def test_the_permission_tools_fill_the_placeholders_only_for_a_profile_with_the_sample(
    synth: Synthesized,
) -> None:
    # tools/permissions finds the function through the manifest and the stack by its name.
    on = load_profile({"p": {"environment_name": "mwaa-dev", "sample_data": True}}, "p")
    (manifest,) = on.enabled_addons
    stacks = _resolved(synth, on.addon_stack_name(manifest))
    filled = addon_placeholders(SimpleNamespace(profile=on, stacks=stacks))
    assert filled == fill_placeholders(stacks["mwaa-dev-sample-data"])
    assert filled["sample_glue_database"] == synth.data.data_plane.database_name
    off = load_profile({"p": {"environment_name": "mwaa-dev"}}, "p")
    assert addon_placeholders(SimpleNamespace(profile=off, stacks=stacks)) == {}


# ---- names and validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "glue", "athena", "redshift"),
    [
        ("mwaa-dev", "mwaa_dev_movielens", "mwaa-dev-movielens", "mwaa-dev-movielens"),
        ("My_Env.2", "my_env_2_movielens", "My_Env.2-movielens", "my-env-2-movielens"),
        ("x" * 80, "x" * 80 + "_movielens", "x" * 80 + "-movielens", "x" * 54 + "-movielens"),
    ],
)
def test_names_are_sanitised_for_each_service(prefix: str, glue: str, athena: str, redshift: str) -> None:
    assert (glue_database_name(prefix), athena_workgroup_name(prefix), redshift_name(prefix)) == (
        glue,
        athena,
        redshift,
    )
    assert re.fullmatch(r"[a-z0-9_]{1,255}", glue_database_name(prefix))
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,128}", athena_workgroup_name(prefix))
    assert re.fullmatch(r"[a-z0-9-]{3,64}", redshift_name(prefix))


def test_fewer_than_three_subnets_is_rejected() -> None:
    app = cdk.App(context=_feature_flags())
    stack = cdk.Stack(app, "Stack")
    network = AirflowNetwork(stack, "Network")
    bucket = DagBucket(stack, "DagBucket", environment_name=ENVIRONMENT_NAME)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("airflow.amazonaws.com"))
    with pytest.raises(ValueError, match=r"subnets: got 2 subnet\(s\).*at least 3"):
        SampleDataPlane(
            stack,
            "SampleData",
            vpc=network.vpc,
            subnets=network.environment_subnets,
            client_security_group=network.security_group,
            execution_role=role,
            dag_bucket=bucket.bucket,
            dag_s3_path=DAG_S3_PATH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            name_prefix=ENVIRONMENT_NAME,
        )


# ---- cfn-lint and cdk-nag --------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["synth", "synth_with_key"])
def test_cfn_lint_is_clean(fixture: str, request: pytest.FixtureRequest) -> None:
    s: Synthesized = request.getfixturevalue(fixture)
    templates = sorted(str(path) for path in s.outdir.glob("*.template.json"))
    assert len(templates) == 2
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("fixture", ["synth", "synth_with_key"])
def test_every_pack_has_no_unacknowledged_finding(fixture: str, request: pytest.FixtureRequest) -> None:
    """AwsSolutions and the three compliance packs (NIST 800-53 R5, HIPAA, PCI DSS 3.2.1)."""
    s: Synthesized = request.getfixturevalue(fixture)
    findings = [
        f"{violation.rule_name} at {resource.construct_path}"
        for pack in compliance_checks(COMPLIANCE_PACKS)
        for violation in pack.validate_scope(s.data).violations
        for resource in violation.violating_resources
    ]
    assert findings == []
