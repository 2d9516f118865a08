"""A profile's ``serverless`` workflows (stacks/serverless.py) and ``classic_environment``: what
the stacks hold for a profile with workflows only, with both, with workflows in the private
subnets, and how bad settings and bad definitions stop synth."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from mwaa_rules.compliance import COMPLIANCE_PACKS
from mwaa_rules.serverless import DefinitionError
from platform_config import ProfileError, load_profile
from platform_config.profile import addon_manifests
from stacks import ProfileStacks, build_profile_stacks
from stacks.compliance import add_compliance_checks
from tests.infra.conftest import addons_off, cdk_context, copy_sources

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE: dict[str, Any] = {
    "environment_name": "mwaa-wf",
    "encryption": "customer_managed",
    "removal_policy": "retain",
    "log_retention_days": 90,
    "network": {"mode": "nat", "nat_gateways": 1, "vpc_cidr": "10.50.0.0/16"},
    "tags": {"team": "data"},
    "serverless": {"workflows": "workflows", "code": "code"},
    **addons_off(),
}
WORKFLOWS_ONLY = {**BASE, "classic_environment": False}


def _repo(target: Path) -> Path:
    """A repository with the default artifacts and the fixture workflows and code package."""
    copy_sources(target)
    shutil.rmtree(target / "workflows")  # the repository's own, replaced by the fixtures
    shutil.copytree(FIXTURES / "serverless" / "workflows", target / "workflows")
    shutil.copytree(FIXTURES / "serverless" / "code", target / "code")
    return target


def _build(root: Path, settings: dict[str, Any], outdir: Path) -> tuple[ProfileStacks, Template, Path]:
    """The app of one profile ``wf`` with every compliance pack (an unacknowledged finding raises
    at synth), its platform template and the template's file."""
    profile = load_profile({"wf": settings}, "wf", root=root)
    app = cdk.App(context={k: v for k, v in cdk_context().items() if k != "profiles"}, outdir=str(outdir))
    built = build_profile_stacks(app, profile, root=root)
    add_compliance_checks(built.stacks, COMPLIANCE_PACKS)
    assembly = app.synth()
    path = Path(assembly.get_stack_by_name(built.platform.stack_name).template_full_path)
    return built, Template.from_stack(built.platform), path


def _cfn_lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run([str(cfn_lint), *map(str, paths)], capture_output=True, text=True, check=False)


def _workflows(template: Template) -> dict[str, dict[str, Any]]:
    """Workflow name -> its resource."""
    return {
        r["Properties"]["Name"]: r for r in template.find_resources("AWS::MWAAServerless::Workflow").values()
    }


@pytest.fixture(scope="module")
def workflows_only(tmp_path_factory: pytest.TempPathFactory) -> tuple[ProfileStacks, Template, Path]:
    root = _repo(tmp_path_factory.mktemp("repo"))
    return _build(root, WORKFLOWS_ONLY, tmp_path_factory.mktemp("out"))


def test_a_workflows_only_profile_has_no_environment_no_network_and_lints_clean(
    workflows_only: tuple[ProfileStacks, Template, Path],
) -> None:
    built, template, path = workflows_only
    for absent in (
        "AWS::MWAA::Environment",
        "AWS::EC2::NatGateway",
        "AWS::EC2::VPC",
        "AWS::S3::Bucket",
        "AWS::CloudWatch::Alarm",
    ):
        template.resource_count_is(absent, 0)
    assert sorted(_workflows(template)) == ["mwaa-wf-extract", "mwaa-wf-report"]
    assert built.platform.airflow_environment is None and built.platform.network is None
    assert list(built.addons) == []
    result = _cfn_lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_workflow_has_its_assets_key_logs_and_tags(
    workflows_only: tuple[ProfileStacks, Template, Path],
) -> None:
    _, template, _ = workflows_only
    (key_id,) = template.find_resources("AWS::KMS::Key")
    workflows = _workflows(template)
    report = workflows["mwaa-wf-report"]["Properties"]
    extract = workflows["mwaa-wf-extract"]["Properties"]
    # Definition and code package are content-addressed assets: a key is the hash of the content.
    assert report["DefinitionS3Location"]["ObjectKey"].endswith(".yaml")
    assert len(report["DefinitionS3Location"]["ObjectKey"]) == 64 + len(".yaml")
    assert report["Code"]["S3Location"]["ObjectKey"].endswith(".zip")
    # One code package for the profile's workflows: the same object for each.
    assert extract["Code"] == report["Code"]
    assert report["DefinitionS3Location"]["ObjectKey"] != extract["DefinitionS3Location"]["ObjectKey"]
    template.has_resource_properties(
        "AWS::MWAAServerless::Workflow",
        {
            "Name": "mwaa-wf-report",
            "EncryptionConfiguration": {
                "Type": "CUSTOMER_MANAGED_KEY",
                "KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
            },
            "Tags": Match.object_like({"team": "data"}),
        },
    )
    # The log group the workflow names: the profile's retention and key, retained.
    log_group_id = report["LoggingConfiguration"]["LogGroupName"]["Ref"]
    log_group = template.find_resources("AWS::Logs::LogGroup")[log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == 90
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert log_group["DeletionPolicy"] == "RetainExceptOnCreate"


def test_each_workflow_role_is_trusted_by_the_service_and_reads_only_its_own_objects(
    workflows_only: tuple[ProfileStacks, Template, Path],
) -> None:
    _, template, _ = workflows_only
    report = _workflows(template)["mwaa-wf-report"]["Properties"]
    role_id = report["RoleArn"]["Fn::GetAtt"][0]
    role = template.find_resources("AWS::IAM::Role")[role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "airflow-serverless.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
    ]
    (statements,) = policies
    reads = [s for s in statements if "s3:GetObject" in s["Action"]]
    (read,) = reads
    text = json.dumps(read["Resource"])
    assert report["DefinitionS3Location"]["ObjectKey"] in text
    assert report["Code"]["S3Location"]["ObjectKey"] in text
    assert '"*"' not in text and "/*" not in text  # two objects, no prefix


def test_the_runner_policy_starts_and_follows_only_the_profiles_workflows(
    workflows_only: tuple[ProfileStacks, Template, Path],
) -> None:
    built, template, _ = workflows_only
    policy = built.platform.workflows.runner_policy
    assert policy is not None
    logical = built.platform.get_logical_id(policy.node.default_child)  # type: ignore[arg-type]
    document = template.find_resources("AWS::IAM::ManagedPolicy")[logical]["Properties"]
    assert "Roles" not in document  # attached to no one: whoever runs the workflows gets it
    (runs,) = [
        s
        for s in document["PolicyDocument"]["Statement"]
        if "airflow-serverless:StartWorkflowRun" in s["Action"]
    ]
    workflow_ids = sorted(template.find_resources("AWS::MWAAServerless::Workflow"))
    assert sorted(r["Fn::GetAtt"][0] for r in runs["Resource"]) == workflow_ids
    assert all(r["Fn::GetAtt"][1] == "WorkflowArn" for r in runs["Resource"])
    outputs = template.to_json()["Outputs"]
    assert {"WorkflowRunnerPolicyArn", "WorkflowExtractArn", "WorkflowReportArn"} <= set(outputs)


def test_a_definition_change_updates_only_its_own_workflow(tmp_path: Path) -> None:
    first = _repo(tmp_path / "first")
    second = _repo(tmp_path / "second")
    changed = second / "workflows" / "report.yaml"
    changed.write_text(changed.read_text().replace("owner: tests", "owner: reporting"))
    _, before, _ = _build(first, WORKFLOWS_ONLY, tmp_path / "out1")
    _, after, _ = _build(second, WORKFLOWS_ONLY, tmp_path / "out2")
    old, new = _workflows(before), _workflows(after)
    assert old["mwaa-wf-extract"] == new["mwaa-wf-extract"]
    assert (
        old["mwaa-wf-report"]["Properties"]["DefinitionS3Location"]
        != new["mwaa-wf-report"]["Properties"]["DefinitionS3Location"]
    )
    assert old["mwaa-wf-report"]["Properties"]["Code"] == new["mwaa-wf-report"]["Properties"]["Code"]


def test_private_workflows_with_an_environment_run_in_its_private_subnets(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    settings = {**BASE, "serverless": {**BASE["serverless"], "network": "private"}}
    _, template, path = _build(root, settings, tmp_path / "out")
    template.resource_count_is("AWS::MWAA::Environment", 1)
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    environment = next(iter(template.find_resources("AWS::MWAA::Environment").values()))
    subnets = environment["Properties"]["NetworkConfiguration"]["SubnetIds"]
    for workflow in _workflows(template).values():
        network = workflow["Properties"]["NetworkConfiguration"]
        assert network["SubnetIds"] == subnets
        (group,) = network["SecurityGroupIds"]
        egress = template.find_resources("AWS::EC2::SecurityGroup")[group["Fn::GetAtt"][0]]["Properties"]
        assert [(e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in egress["SecurityGroupEgress"]] == [
            ("tcp", 443, 443)
        ]
    result = _cfn_lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_private_workflows_alone_keep_the_network_and_its_nat(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    settings = {**WORKFLOWS_ONLY, "serverless": {**BASE["serverless"], "network": "private"}}
    _, template, _ = _build(root, settings, tmp_path / "out")
    template.resource_count_is("AWS::MWAA::Environment", 0)
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    for workflow in _workflows(template).values():
        assert len(workflow["Properties"]["NetworkConfiguration"]["SubnetIds"]) == 2


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _repo(tmp_path_factory.mktemp("settings"))


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (
            {"serverless": {"workflows": "missing"}},
            "serverless.workflows: got 'missing'; no such folder in the repository",
        ),
        (
            {"serverless": {"workflows": "runtime"}},
            "serverless.workflows: got 'runtime'; the folder holds no workflow definition (*.yaml)",
        ),
        (
            {"serverless": {"workflows": "../elsewhere"}},
            "serverless.workflows: got '../elsewhere'; expected a folder path relative to the repository, "
            "without '..'",
        ),
        (
            {"serverless": {"code": "code"}},
            "serverless.code: got 'code'; a code package needs serverless.workflows",
        ),
        (
            {"serverless": {"workflows": "workflows", "network": "public"}},
            "serverless.network: got 'public'; allowed values are 'none', 'private'",
        ),
        (
            {"serverless": {"workflow": "workflows"}},
            "serverless.workflow: unknown setting; did you mean 'workflows'?",
        ),
        (
            {"serverless": "workflows"},
            "serverless: got 'workflows'; expected an object with 'workflows', 'code' and/or 'network'",
        ),
        (
            {"classic_environment": False},
            "classic_environment: got False; a profile without an environment must deploy serverless "
            "workflows: set serverless.workflows, or classic_environment to true",
        ),
        (
            {"classic_environment": "no"},
            "classic_environment: got 'no'; expected bool",
        ),
    ],
)
def test_bad_serverless_settings_name_the_setting(repo: Path, settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ProfileError) as raised:
        load_profile({"wf": {**addons_off(), **settings}}, "wf", root=repo)
    assert problem in str(raised.value)


def test_a_workflow_file_whose_name_the_service_refuses_names_the_file(repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    shutil.copytree(repo, folder)
    (folder / "workflows" / "my report.yaml").write_text((folder / "workflows" / "report.yaml").read_text())
    with pytest.raises(ProfileError) as raised:
        load_profile({"wf": {**WORKFLOWS_ONLY}}, "wf", root=folder)
    assert (
        "serverless.workflows: got 'workflows/my report.yaml'; its workflow name 'mwaa-wf-my report'"
        in str(raised.value)
    )


def test_an_add_on_needs_the_classic_environment() -> None:
    fixture_addons = addon_manifests(FIXTURES / "addons")
    (greeter,) = fixture_addons
    settings = {
        "classic_environment": False,
        "serverless": {"workflows": "workflows"},
        greeter.enabled_by: True,
    }
    with pytest.raises(ProfileError) as raised:
        load_profile({"wf": settings}, "wf", manifests=fixture_addons)
    assert (
        f"{greeter.enabled_by}: got True; the add-on '{greeter.name}' deploys onto the MWAA environment, and "
        f"classic_environment is false: set {greeter.enabled_by} to false, or classic_environment to true"
    ) in str(raised.value)


def test_a_bad_definition_stops_synth_naming_the_file_task_and_field(repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(repo, folder)
    (folder / "workflows" / "broken.yaml").write_text(
        "broken:\n"
        "  dag_id: broken\n"
        "  schedule: null\n"
        "  default_args: {start_date: '2025-01-01'}\n"
        "  tasks:\n"
        "    load:\n"
        "      operator: airflow.providers.standard.operators.empty.EmptyOperator\n"
        "      retries: 5\n"
        "      dependencies: [extract]\n"
    )
    profile = load_profile({"wf": WORKFLOWS_ONLY}, "wf", root=folder)
    app = cdk.App(context={k: v for k, v in cdk_context().items() if k != "profiles"})
    with pytest.raises(DefinitionError) as raised:
        build_profile_stacks(app, profile, root=folder)
    message = str(raised.value)
    assert "broken.yaml: task 'load': retries: got 5; an integer from 0 to 3" in message
    assert "broken.yaml: task 'load': dependencies: got 'extract'; no such task in this DAG" in message
