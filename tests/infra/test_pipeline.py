"""The CDK Pipelines alternative: source, test gate, stages in profile order, approval, smoke tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from deploy_access_app import build_app as build_access_app
from pipeline_app import STACK_NAME, build_app
from platform_config import Profile, load_profile
from platform_config.delivery import SettingsError, load_pipeline
from stacks.pipeline_stack import MwaaPipelineStack
from tests.infra.conftest import cdk_context


def _shipped(name: str) -> Profile:
    """A shipped profile of cdk.json, validated."""
    return load_profile(cdk_context()["profiles"], name)


CONNECTION = "arn:aws:codeconnections:eu-west-1:111122223333:connection/12345678-1234-1234-1234-123456789012"
REPO = "example-org/mwaa-platform"


def _synth(
    outdir: Path, profile_accounts: dict[str, str] | None = None, **settings: str
) -> MwaaPipelineStack:
    context = cdk_context()
    for name, account in (profile_accounts or {}).items():
        context["profiles"][name].update(account=account, region="eu-west-1")
    context.update(pipeline_connection_arn=CONNECTION, pipeline_repository=REPO, **settings)
    # The app reads its profiles from cdk.json, as the CLI runs it: a copy holding the edits.
    cdk_json = outdir.parent / f"{outdir.name}-cdk.json"
    cdk_json.write_text(json.dumps({"context": {"profiles": context["profiles"]}}))
    app = cdk.App(context=context, outdir=str(outdir))
    stack = build_app(app, cdk_json=cdk_json)
    app.synth()
    return stack


@pytest.fixture(scope="module")
def same_account(tmp_path_factory: pytest.TempPathFactory) -> tuple[MwaaPipelineStack, Template]:
    stack = _synth(tmp_path_factory.mktemp("pipeline"))
    return stack, Template.from_stack(stack)


@pytest.fixture(scope="module")
def cross_account(tmp_path_factory: pytest.TempPathFactory) -> tuple[MwaaPipelineStack, Template]:
    stack = _synth(
        tmp_path_factory.mktemp("cross"),
        {"dev": "111122223333", "prod": "444455556666"},
        pipeline_account="111122223333",
        pipeline_region="eu-west-1",
    )
    return stack, Template.from_stack(stack)


def _stages(template: Template) -> list[dict[str, Any]]:
    (pipeline,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    return pipeline["Properties"]["Stages"]


def _build_spec(template: Template, text: str) -> dict[str, Any]:
    found = [
        json.loads(p["Properties"]["Source"]["BuildSpec"])
        for p in template.find_resources("AWS::CodeBuild::Project").values()
        if text in p["Properties"]["Source"].get("BuildSpec", "")
    ]
    assert len(found) == 1, text
    return found[0]


def test_the_source_is_the_connection(same_account) -> None:
    _, template = same_account
    (action,) = _stages(template)[0]["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    configuration = action["Configuration"]
    assert (
        configuration["ConnectionArn"],
        configuration["FullRepositoryId"],
        configuration["BranchName"],
    ) == (
        CONNECTION,
        REPO,
        "main",
    )


def test_the_synth_step_runs_the_gate_and_synthesizes_the_pipeline(same_account) -> None:
    _, template = same_account
    spec = _build_spec(template, "make test")
    assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.12", "nodejs": "20"}
    assert spec["phases"]["build"]["commands"] == [
        "make test",
        "make synth PROFILE=dev,prod",
        'npx --no-install cdk synth --quiet --app "python3 pipeline_app.py" '
        f"-c pipeline_connection_arn={CONNECTION} -c pipeline_repository={REPO} -c pipeline_branch=main "
        "-c pipeline_profiles=dev,prod -o pipeline.out",
    ]
    assert spec["artifacts"]["base-directory"] == "pipeline.out"


def test_profiles_deploy_in_order_prod_after_an_approval_each_then_a_smoke_test(same_account) -> None:
    _, template = same_account
    stages = {stage["Name"]: stage["Actions"] for stage in _stages(template)}
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", "Deploy-dev", "Deploy-prod"]
    for profile, approval in (("dev", False), ("prod", True)):
        actions = sorted(stages[f"Deploy-{profile}"], key=lambda a: a["RunOrder"])
        kinds = [a["ActionTypeId"]["Provider"] for a in actions]
        assert (kinds[0] == "Manual") is approval, kinds
        assert kinds[-1] == "CodeBuild" and actions[-1]["Name"] == f"Smoke-{profile}"
        deploys = [a for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation"]
        assert {a["Configuration"]["StackName"] for a in deploys} >= {f"mwaa-{profile}-platform"}
        first_deploy = min(a["RunOrder"] for a in deploys)
        assert actions[-1]["RunOrder"] > max(a["RunOrder"] for a in deploys) > first_deploy - 1
        spec = _build_spec(template, f"mwaa-ops smoke --profile {profile}")
        assert spec["phases"]["build"]["commands"] == [
            f".venv/bin/mwaa-ops wait --profile {profile}",
            f".venv/bin/mwaa-ops smoke --profile {profile} --dag mwaa_platform_smoke",
        ]


def _role_statements(template: Template, role_prefix: str) -> list[dict[str, Any]]:
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)
    ]
    return list(policy["Statement"])


# What CDK Pipelines grants every CodeBuild step: its log group, test reports, the artifact bucket.
_CODEBUILD_OWN = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "codebuild:", "s3:")


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_the_smoke_steps_may_read_only_their_environment(same_account, profile: str) -> None:
    """Beyond CodeBuild's own logs, reports and the artifact bucket: exactly what mwaa-ops wait
    and smoke call, on the profile's stack and environment, and the same statements the GitHub
    deploy role gets for that environment (one definition for both deployment paths)."""
    _, template = same_account
    own = [
        s
        for s in _role_statements(template, f"PipelineDeploy{profile}Smoke{profile}Role")
        if not all(a.startswith(_CODEBUILD_OWN) for a in _actions(s))
    ]
    assert [s["Action"] for s in own] == [
        "cloudformation:DescribeStacks",
        "airflow:GetEnvironment",
        "airflow:InvokeRestApi",
    ]
    assert f":role/mwaa-{profile}/User" in json.dumps(own) and "log-group:airflow" not in json.dumps(own)
    access = cdk.App(context={**cdk_context(), "github_repository": REPO, "github_profiles": profile})
    deploy_role = [
        s
        for s in _role_statements(Template.from_stack(build_access_app(access)), "GitHubAccessDeployRole")
        if s["Action"] != "sts:AssumeRole"
    ]
    assert own == deploy_role


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_smoke_steps_may_build_for_the_set_up_and_the_smoke_run(same_account) -> None:
    _, template = same_account
    template.has_resource_properties(
        "AWS::CodeBuild::Project",
        {
            "Source": {"BuildSpec": Match.string_like_regexp("mwaa-ops smoke --profile prod")},
            "TimeoutInMinutes": 80,
        },
    )


def test_stages_hold_the_profile_stacks(same_account, cross_account) -> None:
    stack, _ = same_account
    # Each stage holds its profile's stacks: the platform's, then those of the add-ons it enables.
    assert [[s.stack_name for s in st.node.children if isinstance(s, cdk.Stack)] for st in stack.stages] == [
        list(_shipped("dev").stack_names),
        ["mwaa-prod-platform"],
    ]
    assert stack.cross_account is False
    cross, _ = cross_account
    assert [(s.platform_stack.account, s.platform_stack.region) for s in cross.stages] == [
        ("111122223333", "eu-west-1"),
        ("444455556666", "eu-west-1"),
    ]


def test_cross_account_profiles_get_a_rotating_artifact_key(same_account, cross_account) -> None:
    _, template = same_account
    template.resource_count_is("AWS::KMS::Key", 0)
    cross, template = cross_account
    assert cross.cross_account is True
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    (pipeline,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    assert "EncryptionKey" in pipeline["Properties"]["ArtifactStore"]


@pytest.mark.parametrize("variant", ["same_account", "cross_account"])
def test_cdk_nag_and_cfn_lint_are_clean(variant: str, request: pytest.FixtureRequest) -> None:
    stack, _ = request.getfixturevalue(variant)
    stacks = [stack] + [s for st in stack.stages for s in st.node.children if isinstance(s, cdk.Stack)]
    for each in stacks:
        report = AwsSolutionsChecks().validate_scope(each)
        assert report.success, (each.stack_name, [v.rule_name for v in report.violations])
    outdir = Path(stack.node.scope.outdir)  # type: ignore[union-attr]
    templates = [
        str(outdir / f"{STACK_NAME}.template.json"),
        *map(str, outdir.glob("assembly-*/*.template.json")),
    ]
    assert len(templates) == len(stacks)
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), *templates], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({}, "pipeline_connection_arn: got None; expected a CodeConnections connection ARN"),
        (
            {"pipeline_connection_arn": "arn:aws:codeconnections:eu-west-1:111122223333:connection/x"},
            "pipeline_connection_arn: got 'arn:aws:codeconnections:eu-west-1:111122223333:connection/x'",
        ),
        (
            {"pipeline_repository": "mwaa-platform"},
            "pipeline_repository: got 'mwaa-platform'; expected OWNER/NAME",
        ),
        (
            {"pipeline_profiles": "dev,staging"},
            "pipeline_profiles: got staging; allowed: the profiles of cdk.json",
        ),
        ({"pipeline_profiles": "dev,dev"}, "pipeline_profiles: got 'dev,dev'; every name must appear once"),
        ({"pipeline_account": "1234"}, "pipeline_account: got '1234'; expected a 12-digit account id"),
        ({"pipeline_region": "europe"}, "pipeline_region: got 'europe'"),
    ],
)
def test_bad_pipeline_settings_are_refused(context: dict[str, Any], message: str) -> None:
    defaults = {"pipeline_connection_arn": CONNECTION, "pipeline_repository": REPO}
    if "pipeline_connection_arn" not in context and not context:
        defaults.pop("pipeline_connection_arn")
    with pytest.raises(SettingsError, match="pipeline settings are invalid") as error:
        load_pipeline({**defaults, **context}.get, {"dev", "prod"})
    assert message in str(error.value)


def test_each_stage_is_checked_with_the_packs_of_its_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stages' stacks get their profile's compliance packs, as app.py gives them (AwsSolutions
    covers the whole pipeline app already). The fixtures above synthesize with them: clean."""
    import pipeline_app

    calls: list[tuple[list[str], tuple[str, ...], bool]] = []
    original = pipeline_app.add_compliance_checks

    def record(scopes, packs, *, aws_solutions=True):  # type: ignore[no-untyped-def]
        calls.append(([s.stack_name for s in scopes], tuple(packs), aws_solutions))
        original(scopes, packs, aws_solutions=aws_solutions)

    monkeypatch.setattr(pipeline_app, "add_compliance_checks", record)
    context = cdk_context()
    context.update(pipeline_connection_arn=CONNECTION, pipeline_repository=REPO)
    build_app(cdk.App(context=context, outdir=str(tmp_path)))
    profiles = context["profiles"]
    assert calls == [
        (list(_shipped("dev").stack_names), tuple(profiles["dev"].get("compliance", [])), False),
        (["mwaa-prod-platform"], ("nist-800-53-r5", "hipaa"), False),
    ]


def test_the_pipeline_checks_its_profiles_against_every_profile_of_cdk_json(tmp_path: Path) -> None:
    # As app.py does: a copied profile that the pipeline does not deploy still may not share names.
    from platform_config import ProfileError

    context = cdk_context()
    context["profiles"]["dev-copy"] = dict(context["profiles"]["dev"])
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"profiles": context["profiles"]}}))
    context.update(pipeline_connection_arn=CONNECTION, pipeline_repository=REPO, pipeline_profiles="dev,prod")
    with pytest.raises(ProfileError, match="'dev-copy'"):
        build_app(cdk.App(context=context, outdir=str(tmp_path / "out")), cdk_json=cdk_json)
