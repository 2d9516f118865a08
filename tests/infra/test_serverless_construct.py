"""ServerlessWorkflow in a bare stack: the resource, its role and log group, grants, network,
environment variables, asset behaviour, validation, cfn-lint and cdk-nag."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from mwaa_constructs import ServerlessWorkflow
from mwaa_rules.serverless import DefinitionError
from sample.serverless.workflow import CODE, CODE_EXCLUDE, DEFINITION
from stacks.compliance import add_compliance_checks
from tests.infra.conftest import cdk_context

WORKFLOW = "AWS::MWAAServerless::Workflow"
MINIMAL = """\
probe:
  dag_id: probe
  schedule: "15 3 * * *"
  tasks:
    start:
      operator: airflow.providers.standard.operators.empty.EmptyOperator
"""


def _stack(outdir: Path | None = None, *, environment: bool = True) -> cdk.Stack:
    """A bare stack with the project's feature flags; in an account and region unless not
    ``environment`` (then the VPC spreads over ``Fn::GetAZs``, as cfn-lint wants)."""
    context = {k: v for k, v in cdk_context().items() if k != "profiles"}
    app = cdk.App(context=context, outdir=str(outdir) if outdir else None)
    env = cdk.Environment(account="111122223333", region="eu-west-1") if environment else None
    return cdk.Stack(app, "Workflows", env=env)


def _definition(tmp_path: Path, text: str = MINIMAL, name: str = "probe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _sample(stack: cdk.Stack, **kwargs: Any) -> ServerlessWorkflow:
    return ServerlessWorkflow(
        stack,
        "MovieList",
        name="movie-list",
        definition=DEFINITION,
        code=CODE,
        code_exclude=CODE_EXCLUDE,
        **kwargs,
    )


def _policy_statements(template: Template) -> list[dict[str, Any]]:
    policies = template.find_resources("AWS::IAM::ManagedPolicy")
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


# ---- the resource -------------------------------------------------------------------------------


def test_a_minimal_workflow(tmp_path: Path) -> None:
    stack = _stack()
    workflow = ServerlessWorkflow(stack, "Probe", name="probe", definition=_definition(tmp_path))
    template = Template.from_stack(stack)
    template.has_resource_properties(
        WORKFLOW,
        {
            "Name": "probe",
            "DefinitionS3Location": {
                "Bucket": Match.any_value(),
                "ObjectKey": Match.string_like_regexp(r"^[0-9a-f]{64}\.yaml$"),
            },
            "RoleArn": {"Fn::GetAtt": [Match.string_like_regexp("^ProbeRole"), "Arn"]},
            "LoggingConfiguration": {"LogGroupName": {"Ref": Match.string_like_regexp("^ProbeLogs")}},
            "EncryptionConfiguration": {"Type": "AWS_MANAGED_KEY"},
            "Code": Match.absent(),
            "NetworkConfiguration": Match.absent(),
            "Environment": Match.absent(),
        },
    )
    template.has_resource(WORKFLOW, {"DependsOn": [Match.string_like_regexp("^ProbeRolePolicy")]})
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": 30, "LogGroupName": Match.absent()}
    )
    template.has_resource("AWS::Logs::LogGroup", {"DeletionPolicy": "RetainExceptOnCreate"})
    assert workflow.definition.dag_id == "probe"
    assert stack.resolve(workflow.workflow_arn)["Fn::GetAtt"][1] == "WorkflowArn"


def test_the_role_is_trusted_by_the_service_only(tmp_path: Path) -> None:
    stack = _stack()
    ServerlessWorkflow(stack, "Probe", name="probe", definition=_definition(tmp_path))
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "airflow-serverless.amazonaws.com"},
                    }
                ]
            },
            "Policies": Match.absent(),
            "ManagedPolicyArns": Match.absent(),
        },
    )


def test_the_role_reads_exactly_its_definition_and_code_and_writes_its_logs() -> None:
    stack = _stack()
    workflow = _sample(stack)
    statements = _policy_statements(Template.from_stack(stack))
    (read,) = [s for s in statements if "s3:GetObject" in s["Action"]]
    assert read["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    keys = [workflow.definition_asset.s3_object_key, workflow.code_asset.s3_object_key]  # type: ignore[union-attr]
    assert len(read["Resource"]) == 2
    objects = sorted(json.dumps(stack.resolve(resource)) for resource in read["Resource"])
    assert [o.rsplit("/", 1)[-1].strip('"') for o in objects] == sorted(stack.resolve(k) for k in keys)
    (write,) = [s for s in statements if "logs:PutLogEvents" in s["Action"]]
    assert write["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert write["Resource"]["Fn::GetAtt"][0].startswith("MovieListLogs")
    assert [s for s in statements if s not in (read, write)] == []


def test_a_customer_managed_key_encrypts_the_workflow_and_its_logs() -> None:
    stack = _stack()
    key = kms.Key(stack, "Key")
    _sample(stack, kms_key=key)
    template = Template.from_stack(stack)
    key_arn = {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]}
    template.has_resource_properties(
        WORKFLOW,
        {
            "EncryptionConfiguration": {"Type": "CUSTOMER_MANAGED_KEY", "KmsKeyId": key_arn},
            "Code": {
                "S3Location": {
                    "ObjectKey": Match.string_like_regexp(r"^[0-9a-f]{64}\.zip$"),
                    "Bucket": Match.any_value(),
                }
            },
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": key_arn})
    (use,) = [s for s in _policy_statements(template) if "kms:Decrypt" in s["Action"]]
    assert sorted(use["Action"]) == ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
    assert use["Resource"]["Fn::GetAtt"][0].startswith("Key")


def test_tasks_run_in_the_private_subnets_with_https_out_only() -> None:
    stack = _stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    workflow = _sample(stack, vpc=vpc)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        WORKFLOW,
        {
            "NetworkConfiguration": {
                "SubnetIds": [
                    {"Ref": Match.string_like_regexp("^VpcPrivateSubnet1")},
                    {"Ref": Match.string_like_regexp("^VpcPrivateSubnet2")},
                ],
                "SecurityGroupIds": [
                    {"Fn::GetAtt": [Match.string_like_regexp("^MovieListSecurityGroup"), "GroupId"]}
                ],
            }
        },
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": "MWAA Serverless workflow movie-list: HTTPS out only",
            "SecurityGroupEgress": [
                {
                    "CidrIp": "0.0.0.0/0",
                    "FromPort": 443,
                    "ToPort": 443,
                    "IpProtocol": "tcp",
                    "Description": Match.any_value(),
                }
            ],
            "SecurityGroupIngress": Match.absent(),
        },
    )
    assert workflow.connections is not None


def test_given_security_groups_and_subnets_are_used() -> None:
    stack = _stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    group = ec2.SecurityGroup(stack, "Group", vpc=vpc)
    _sample(
        stack,
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
        security_groups=[group],
    )
    Template.from_stack(stack).has_resource_properties(
        WORKFLOW,
        {
            "NetworkConfiguration": {
                "SubnetIds": [
                    {"Ref": Match.string_like_regexp("^VpcPublicSubnet1")},
                    {"Ref": Match.string_like_regexp("^VpcPublicSubnet2")},
                ],
                "SecurityGroupIds": [{"Fn::GetAtt": [Match.string_like_regexp("^Group"), "GroupId"]}],
            }
        },
    )


def test_environment_variables_tags_trigger_mode_and_description() -> None:
    stack = _stack()
    _sample(
        stack,
        environment_variables={"MOVIE_LIST_DATA_BUCKET": "sample-data", "STAGE": "dev"},
        tags={"team": "data"},
        trigger_mode="MANUAL_ONLY",
        description="movie list",
    )
    template = Template.from_stack(stack)
    template.has_resource(
        WORKFLOW,
        {
            "Properties": Match.object_like(
                {
                    "Environment": {"Variables": {"MOVIE_LIST_DATA_BUCKET": "sample-data", "STAGE": "dev"}},
                    "Tags": {"team": "data"},
                    "TriggerMode": "MANUAL_ONLY",
                    "Description": "movie list",
                }
            ),
            "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["E3002"]}}},
        },
    )


# ---- grants -------------------------------------------------------------------------------------


def test_grant_start_run(tmp_path: Path) -> None:
    stack = _stack()
    workflow = ServerlessWorkflow(stack, "Probe", name="probe", definition=_definition(tmp_path))
    user = iam.User(stack, "Operator")
    grant = workflow.grant_start_run(user)
    assert grant.success
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "airflow-serverless:StartWorkflowRun",
                        "Effect": "Allow",
                        "Resource": {"Fn::GetAtt": [Match.string_like_regexp("^Probe"), "WorkflowArn"]},
                    }
                ]
            },
            "Users": [{"Ref": Match.string_like_regexp("^Operator")}],
        },
    )


def test_an_imported_workflow_grants_on_its_arn() -> None:
    stack = _stack()
    arn = "arn:aws:airflow-serverless:eu-west-1:111122223333:workflow/etl-a1b2c3d4e5"
    workflow = ServerlessWorkflow.from_workflow_attributes(stack, "Etl", workflow_arn=arn)
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    workflow.grant_start_run(role)
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {"Action": "airflow-serverless:StartWorkflowRun", "Effect": "Allow", "Resource": arn}
                ]
            }
        },
    )


# ---- assets -------------------------------------------------------------------------------------


def _workflow_keys(stack: cdk.Stack) -> dict[str, str]:
    template = Template.from_stack(stack).find_resources(WORKFLOW)
    return {
        r["Properties"]["Name"]: r["Properties"]["DefinitionS3Location"]["ObjectKey"]
        for r in template.values()
    }


def test_a_definition_change_changes_only_its_own_workflow(tmp_path: Path) -> None:
    first = _definition(tmp_path, MINIMAL, "first.yaml")
    second = _definition(tmp_path, MINIMAL.replace("probe", "other"), "second.yaml")

    def synth() -> dict[str, str]:
        stack = _stack()
        ServerlessWorkflow(stack, "First", name="first", definition=first)
        ServerlessWorkflow(stack, "Second", name="second", definition=second)
        return _workflow_keys(stack)

    before = synth()
    assert synth() == before  # deterministic
    first.write_text(MINIMAL.replace("15 3", "45 4"))
    after = synth()
    assert after["first"] != before["first"]
    assert after["second"] == before["second"]


def test_the_code_package_follows_the_link_and_leaves_out_the_python_dag(tmp_path: Path) -> None:
    # Byte code in the source must change neither the package nor its hash.
    cache = CODE / "movie_list" / "__pycache__"
    existed = cache.exists()
    stack = _stack(tmp_path / "out")
    workflow = _sample(stack)
    hash_before = workflow.code_asset.asset_hash  # type: ignore[union-attr]
    assembly = stack.node.root.synth()  # type: ignore[attr-defined]
    staged = Path(assembly.directory) / f"asset.{hash_before}"
    files = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    assert files == [
        "movie_list/__init__.py",
        "movie_list/config.py",
        "movie_list/files.py",
        "movie_list/sql.py",
        "movie_list_serverless.py",
    ]
    try:
        cache.mkdir(exist_ok=True)
        (cache / "probe.cpython-312.pyc").write_bytes(b"\0")
        again = _sample(_stack(tmp_path / "again"))
        assert again.code_asset.asset_hash == hash_before  # type: ignore[union-attr]
    finally:
        (cache / "probe.cpython-312.pyc").unlink(missing_ok=True)
        if not existed:
            shutil.rmtree(cache, ignore_errors=True)


# ---- validation ---------------------------------------------------------------------------------


def test_an_invalid_definition_fails_at_synth(tmp_path: Path) -> None:
    path = _definition(tmp_path, MINIMAL.replace('"15 3 * * *"', '"0 0 * * ? *"'))
    with pytest.raises(DefinitionError, match=r"schedule: got '0 0 \* \* \? \*'; six fields"):
        ServerlessWorkflow(_stack(), "Probe", name="probe", definition=path)


def test_a_callable_missing_from_the_code_package_fails_at_synth(tmp_path: Path) -> None:
    text = DEFINITION.read_text().replace("serverless.land_csvs", "serverless.land")
    path = _definition(tmp_path, text, "movie_list.yaml")
    with pytest.raises(DefinitionError, match="defines no top-level function 'land'"):
        ServerlessWorkflow(_stack(), "MovieList", name="movie-list", definition=path, code=CODE)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"name": "-bad"},
            "ServerlessWorkflow name: got '-bad'; a letter or digit, then letters, digits, '.', '-' or '_' "
            "(at most 255)",
        ),
        (
            {"security_groups": []},
            "ServerlessWorkflow vpc: got None; vpc_subnets and security_groups place tasks in a VPC: "
            "give the vpc too",
        ),
        (
            {"environment_variables": {"AWS_REGION": "eu-west-1"}},
            "ServerlessWorkflow environment_variables: got ['AWS_REGION']; 'AWS_REGION': names starting with "
            "AWS_ or AIRFLOW__ are reserved by the service",
        ),
    ],
)
def test_settings_are_validated(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    arguments = {"name": "probe", "definition": _definition(tmp_path), **kwargs}
    if kwargs.get("security_groups") == []:
        arguments["vpc_subnets"] = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
    with pytest.raises(ValueError) as raised:
        ServerlessWorkflow(_stack(), "Probe", **arguments)
    assert str(raised.value) == message


# ---- cfn-lint and cdk-nag -----------------------------------------------------------------------


def _full_stack(outdir: Path) -> cdk.Stack:
    stack = _stack(outdir, environment=False)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, restrict_default_security_group=False)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    workflow = _sample(
        stack, vpc=vpc, kms_key=key, environment_variables={"MOVIE_LIST_DATA_BUCKET": "sample-data"}
    )
    workflow.grant_start_run(iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal()))
    return stack


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run(
        [str(cfn_lint), "--format", "parseable", str(path)], capture_output=True, text=True, check=False
    )


def test_cfn_lint_is_clean_and_only_the_lagging_schema_is_acknowledged(tmp_path: Path) -> None:
    stack = _full_stack(tmp_path / "out")
    assembly = stack.node.root.synth()  # type: ignore[attr-defined]
    path = Path(assembly.get_stack_by_name("Workflows").template_full_path)
    result = _cfn_lint(path)
    assert result.returncode == 0, result.stdout + result.stderr
    # Without the acknowledgment, the bundled schema's lag is the one finding: E3002 on Environment.
    template = json.loads(path.read_text())
    for resource in template["Resources"].values():
        resource.get("Metadata", {}).pop("cfn-lint", None)
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(template))
    findings = [line for line in _cfn_lint(bare).stdout.splitlines() if line.strip()]
    assert len(findings) == 1 and ":E3002:" in findings[0] and "Environment" in findings[0], findings


def test_cdk_nag_and_the_compliance_packs_report_nothing_unacknowledged(tmp_path: Path) -> None:
    stack = _full_stack(tmp_path / "out")
    (workflow,) = [c for c in stack.node.children if isinstance(c, ServerlessWorkflow)]
    add_compliance_checks([workflow], ["nist-800-53-r5", "hipaa", "pci-dss-3.2.1"])
    stack.node.root.synth()  # type: ignore[attr-defined]  # raises on an unacknowledged finding
    report = tmp_path / "out" / "validation-report.json"
    findings = (
        [v["ruleName"] for p in json.loads(report.read_text())["pluginReports"] for v in p["violations"]]
        if report.exists()
        else []
    )
    assert findings == []
