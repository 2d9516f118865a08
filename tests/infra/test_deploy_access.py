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
from mwaa_constructs.deploy_access import GitHubDeployAccess
from platform_config.delivery import SettingsError, load_deploy_access

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


def _policy_resources(template: Template, role_logical_id_prefix: str) -> list[Any]:
    (policy,) = [
        p["Properties"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith(role_logical_id_prefix)
    ]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "sts:AssumeRole")
    return statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]


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
            "MaxSessionDuration": 7200,
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
    assert _policy_resources(template, "GitHubAccessReadOnlyRole") == [_role_arn("lookup-role")]


def test_an_existing_provider_regions_and_qualifier(tmp_path: Path) -> None:
    _, template = _synth(
        tmp_path,
        github_oidc_provider_arn=PROVIDER_ARN,
        github_environments="staging",
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
