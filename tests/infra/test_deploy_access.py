"""The GitHub Actions deployment access: trust limited to one repository, bootstrap roles only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from deploy_access_app import STACK_NAME, build_app
from mwaa_constructs.deploy_access import GitHubDeployAccess, OperatedEnvironment
from platform_config.delivery import SettingsError, load_deploy_access
from tests.infra.conftest import cdk_context

REPO = "example-org/mwaa-platform"
PROVIDER_ARN = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"


def _synth(outdir: Path, **context: Any) -> tuple[cdk.Stack, Template]:
    app = cdk.App(context={"github_repository": REPO, **context}, outdir=str(outdir))
    stack = build_app(app)
    app.synth()
    return stack, Template.from_stack(stack)


@pytest.fixture(scope="module")
def created(tmp_path_factory: pytest.TempPathFactory) -> tuple[cdk.Stack, Template]:
    return _synth(tmp_path_factory.mktemp("access"))


def _trust(subjects: list[str]) -> dict[str, Any]:
    return {
        "AssumeRolePolicyDocument": {
            "Statement": [
                {
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Effect": "Allow",
                    "Principal": {"Federated": Match.any_value()},
                    "Condition": {
                        "StringEquals": {
                            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                            "token.actions.githubusercontent.com:sub": subjects,
                        }
                    },
                }
            ]
        }
    }


def _role_arn(kind: str, region: Any = None) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iam::",
                {"Ref": "AWS::AccountId"},
                f":role/cdk-hnb659fds-{kind}-",
                {"Ref": "AWS::AccountId"},
                "-",
                region or {"Ref": "AWS::Region"},
            ],
        ]
    }


def _statements(template: Template, role_logical_id_prefix: str) -> dict[str, list[Any]]:
    """Action -> resources of the Allow statements of the role's one policy."""
    (policy,) = [
        p["Properties"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith(role_logical_id_prefix)
    ]
    found: dict[str, list[Any]] = {}
    for statement in policy["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow" and "Condition" not in statement, statement
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for action in [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]:
            found.setdefault(action, []).extend(resources)
    return found


def _policy_resources(template: Template, role_logical_id_prefix: str) -> list[Any]:
    return _statements(template, role_logical_id_prefix)["sts:AssumeRole"]


def _text(node: Any) -> str:
    """A resolved ARN as one string, references as ``${...}``: ``arn:${AWS::Partition}:...``."""
    if isinstance(node, str):
        return node
    if "Ref" in node:
        return "${" + node["Ref"] + "}"
    separator, parts = node["Fn::Join"]
    return separator.join(_text(part) for part in parts)


def _checks(template: Template) -> dict[str, list[str]]:
    """The deploy role's statements other than assuming the bootstrap roles, as strings."""
    statements = _statements(template, "GitHubAccessDeployRole")
    return {a: [_text(r) for r in resources] for a, resources in statements.items() if a != "sts:AssumeRole"}


def test_the_provider_accepts_only_the_sts_audience(created) -> None:
    _, template = created
    template.has_resource_properties(
        "AWS::IAM::OIDCProvider",
        {"Url": "https://token.actions.githubusercontent.com", "ClientIdList": ["sts.amazonaws.com"]},
    )


def test_the_deploy_role_trusts_main_and_the_environments_of_one_repository(created) -> None:
    _, template = created
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            **_trust(
                [
                    f"repo:{REPO}:ref:refs/heads/main",
                    f"repo:{REPO}:environment:dev",
                    f"repo:{REPO}:environment:prod",
                ]
            ),
            # A session as long as a GitHub-hosted job (6 hours): the deploy jobs ask for that much.
            "MaxSessionDuration": 6 * 3600,
        },
    )
    template.has_resource_properties("AWS::IAM::Role", _trust([f"repo:{REPO}:pull_request"]))
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"] and "Policies" not in role["Properties"]


def test_the_roles_may_only_assume_the_bootstrap_roles(created) -> None:
    _, template = created
    assert _policy_resources(template, "GitHubAccessDeployRole") == [
        _role_arn(kind)
        for kind in ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")
    ]
    assert _statements(template, "GitHubAccessReadOnlyRole") == {"sts:AssumeRole": [_role_arn("lookup-role")]}


def test_the_deploy_role_may_check_exactly_the_environments_it_deploys(created) -> None:
    """mwaa-ops wait and smoke (the deploy workflow's last steps) find each profile's environment
    through its platform stack, poll it and call its REST API as Airflow's User role: these three
    calls, on those names only, and nothing on "*"."""
    _, template = created
    where = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"
    assert _checks(template) == {
        "cloudformation:DescribeStacks": [
            where % ("cloudformation", "stack/mwaa-dev-platform/*"),
            where % ("cloudformation", "stack/mwaa-prod-platform/*"),
        ],
        "airflow:GetEnvironment": [
            where % ("airflow", "environment/mwaa-dev"),
            where % ("airflow", "environment/mwaa-prod"),
        ],
        "airflow:InvokeRestApi": [
            where % ("airflow", "role/mwaa-dev/User"),
            where % ("airflow", "role/mwaa-prod/User"),
        ],
    }


def test_profiles_choose_the_environments_and_their_regions(tmp_path: Path) -> None:
    profiles = cdk_context()["profiles"]
    staging = {**profiles["dev"], "environment_name": "mwaa-stg", "region": "eu-west-1"}
    _, template = _synth(
        tmp_path,
        profiles={**profiles, "staging": staging},
        github_profiles="staging,prod",
        deploy_regions="us-east-1,us-west-2",
    )
    # A profile with a region: that region only; one without: every region of deploy_regions.
    assert _checks(template)["airflow:GetEnvironment"] == [
        "arn:${AWS::Partition}:airflow:eu-west-1:${AWS::AccountId}:environment/mwaa-stg",
        "arn:${AWS::Partition}:airflow:us-east-1:${AWS::AccountId}:environment/mwaa-prod",
        "arn:${AWS::Partition}:airflow:us-west-2:${AWS::AccountId}:environment/mwaa-prod",
    ]
    assert "mwaa-dev" not in json.dumps(_checks(template))


def test_an_account_of_one_github_environment_checks_that_profile_only(tmp_path: Path) -> None:
    _, template = _synth(tmp_path, github_environments="dev")
    assert "mwaa-prod" not in json.dumps(_checks(template))
    assert "mwaa-dev" in json.dumps(_checks(template))
    with pytest.raises(SettingsError, match="github_profiles: got None and no github_environments value"):
        load_deploy_access({"github_repository": REPO, "github_environments": "staging"}.get, {"dev", "prod"})


def test_an_unknown_profile_is_refused(tmp_path: Path) -> None:
    known = ", ".join(sorted(cdk_context()["profiles"]))
    with pytest.raises(
        SettingsError, match=rf"github_profiles: got staging; allowed: the profiles of cdk.json \({known}\)"
    ):
        _synth(tmp_path, github_profiles="dev,staging")


def test_an_existing_provider_regions_and_qualifier(tmp_path: Path) -> None:
    _, template = _synth(
        tmp_path,
        github_oidc_provider_arn=PROVIDER_ARN,
        github_environments="staging",
        github_profiles="dev",
        github_branch="release",
        cdk_qualifier="mwaa",
        deploy_regions="eu-west-1,us-east-1",
    )
    template.resource_count_is("AWS::IAM::OIDCProvider", 0)
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Federated": PROVIDER_ARN},
                            "Condition": {
                                "StringEquals": Match.object_like(
                                    {
                                        "token.actions.githubusercontent.com:sub": [
                                            f"repo:{REPO}:ref:refs/heads/release",
                                            f"repo:{REPO}:environment:staging",
                                        ]
                                    }
                                )
                            },
                        }
                    )
                ]
            }
        },
    )
    resources = json.dumps(_policy_resources(template, "GitHubAccessReadOnlyRole"))
    assert ":role/cdk-mwaa-lookup-role-" in resources
    assert '-eu-west-1"' in resources and '-us-east-1"' in resources


def test_cdk_nag_and_cfn_lint_are_clean(created) -> None:
    stack, _ = created
    report = AwsSolutionsChecks().validate_scope(stack)
    assert report.success, [v.rule_name for v in report.violations]
    template = Path(stack.node.scope.outdir) / f"{STACK_NAME}.template.json"  # type: ignore[union-attr]
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(template)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({}, "github_repository: got None; expected OWNER/NAME of a GitHub repository"),
        (
            {"github_repository": "mwaa-platform"},
            "github_repository: got 'mwaa-platform'; expected OWNER/NAME",
        ),
        ({"github_repository": "org/*"}, "github_repository: got 'org/*'; expected OWNER/NAME"),
        (
            {"github_repository": REPO, "github_environments": ""},
            "github_environments: got ''; expected one or more",
        ),
        (
            {"github_repository": REPO, "github_environments": "dev,prod:x"},
            "github_environments: got 'prod:x'",
        ),
        ({"github_repository": REPO, "github_branch": "main*"}, "github_branch: got 'main*'"),
        ({"github_repository": REPO, "cdk_qualifier": "much-too-long"}, "cdk_qualifier: got 'much-too-long'"),
        (
            {
                "github_repository": REPO,
                "github_oidc_provider_arn": "arn:aws:iam::111122223333:oidc-provider/x",
            },
            "github_oidc_provider_arn: got 'arn:aws:iam::111122223333:oidc-provider/x'",
        ),
        ({"github_repository": REPO, "deploy_regions": "eu-west"}, "deploy_regions: got 'eu-west'"),
        (
            {"github_repository": REPO, "github_profiles": "dev,dev"},
            "github_profiles: got 'dev,dev'; every name",
        ),
        ({"github_repository": REPO, "github_profiles": "dev/x"}, "github_profiles: got 'dev/x'"),
    ],
)
def test_bad_settings_are_refused(context: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match="deploy access settings are invalid") as error:
        load_deploy_access(context.get)
    assert message in str(error.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as error:
        load_deploy_access({"github_repository": "x", "cdk_qualifier": "bad qualifier"}.get)
    assert [p.split(":")[0] for p in error.value.problems] == ["github_repository", "cdk_qualifier"]


def test_the_construct_checks_an_environment_in_its_own_region_and_account(bare_stack: cdk.Stack) -> None:
    access = GitHubDeployAccess(
        bare_stack,
        "Operated",
        deploy_subjects=[f"repo:{REPO}:ref:refs/heads/main"],
        read_only_subjects=[f"repo:{REPO}:pull_request"],
        operated_environments=[
            OperatedEnvironment(
                environment_name="env-x",
                stack_name="env-x-platform",
                region="eu-west-1",
                account="444455556666",
            )
        ],
    )
    document = bare_stack.resolve(access.deploy_role.node.find_child("DefaultPolicy").document.to_json())
    (statement,) = [s for s in document["Statement"] if s["Action"] == "airflow:InvokeRestApi"]
    assert statement["Resource"] == {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":airflow:eu-west-1:444455556666:role/env-x/User"],
        ]
    }


def test_the_construct_refuses_wildcard_subjects(bare_stack: cdk.Stack) -> None:
    with pytest.raises(
        ValueError, match=r"deploy_subjects: got \['repo:org/\*'\]; expected one or more exact"
    ):
        GitHubDeployAccess(
            bare_stack, "Bad", deploy_subjects=["repo:org/*"], read_only_subjects=["repo:o/n:x"]
        )


def test_the_app_reports_bad_settings_without_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "deploy_access_app.py"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CDK_CONTEXT_JSON": json.dumps({"github_repository": "nope"})},
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: deploy access settings are invalid:\n  - github_repository: got 'nope'"
    )
