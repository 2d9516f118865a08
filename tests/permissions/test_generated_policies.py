"""The generated policies under policies/: current, complete, scoped and within IAM's quota. The
contract entries of their actors (permissions/operators.toml, github.toml, pipelines.toml) are
evaluated with the rest of the contract in test_contract.py; here, that the evaluation can fail."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.permissions import policies
from tools.permissions.policies import Template

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
ACCOUNT = "111122223333"
REGION = "eu-west-1"
SCHEMAS = Path(importlib.util.find_spec("cfnlint").origin).parent / "data" / "schemas"  # type: ignore[arg-type, union-attr]
IAM_DATA = ROOT / "node_modules" / "@cloud-copilot" / "iam-data" / "data"


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> list[Template]:
    return policies.synthesize(tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="module")
def committed() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(POLICIES.glob("*.json"))}


def _execution_policies(committed: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for name, d in committed.items() if name.startswith("cloudformation-execution-policy-")]


def _statements(documents: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for document in documents:
        yield from document["Statement"]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


# ------------------------------------------------------------------------------- current


def test_the_committed_policies_are_current(templates, tmp_path: Path) -> None:
    files = policies.generate(tmp_path, templates)
    assert sorted(files) == sorted(p.name for p in POLICIES.glob("*.json")), "run `make policies`"
    for name, text in files.items():
        assert (POLICIES / name).read_bytes() == text.encode(), (
            f"policies/{name} is not current: run `make policies`"
        )


def test_generation_is_deterministic(templates, tmp_path: Path) -> None:
    assert policies.generate(tmp_path / "a", templates) == policies.generate(tmp_path / "b", templates)


# ---------------------------------------------------------------------- execution policy


def _schema(resource_type: str) -> dict[str, Any]:
    digest = json.loads((SCHEMAS / "providers" / "us-east-1.json").read_text())[resource_type]
    return json.loads((SCHEMAS / "resources" / f"{digest}.json").read_text())


def _in_service_authorization_reference(action: str) -> bool:
    service, _, name = action.partition(":")
    path = IAM_DATA / "actions" / f"{service}.json"
    return path.exists() and name.lower() in json.loads(path.read_text())


def _resource_types(action: str) -> list[dict[str, Any]]:
    service, _, name = action.partition(":")
    return json.loads((IAM_DATA / "actions" / f"{service}.json").read_text())[name.lower()]["resourceTypes"]


def _needed(templates: list[Template]) -> set[str]:
    """Every handler permission of every resource type of the templates (the schema's, or the
    documented list for a type whose schema has none), and invoking custom-resource providers."""
    needed: set[str] = set()
    for resource_type in {r["Type"] for t in templates for r in t.resources.values()}:
        if resource_type in policies.NO_PERMISSIONS:
            continue
        if resource_type.startswith("Custom::"):
            needed.add("lambda:InvokeFunction")
            continue
        handlers = _schema(resource_type).get("handlers") or {}
        found = {
            p
            for h in ("create", "read", "update", "delete", "list")
            for p in handlers.get(h, {}).get("permissions", [])
        }
        needed |= found or set(policies.NO_HANDLER_PERMISSIONS[resource_type])
    return needed


def test_the_execution_policy_allows_every_handler_permission_and_no_other_action(
    templates, committed
) -> None:
    needed = _needed(templates)
    allowed = {a for s in _statements(_execution_policies(committed)) for a in _as_list(s["Action"])}
    # Permissions a schema lists that IAM does not know (e.g. s3:REST.PUT.OBJECT) are never evaluated.
    real = {a for a in needed if _in_service_authorization_reference(a)}
    assert real - allowed == set(), "handler permissions the execution policy does not allow"
    assert allowed - real == set(), "actions no template resource needs"
    assert {
        "airflow:CreateEnvironment",
        "iam:PassRole",
        "lambda:InvokeFunction",
        "codebuild:CreateProject",
    } <= allowed


def test_only_actions_without_resource_level_permissions_are_allowed_on_everything(committed) -> None:
    for statement in _statements(_execution_policies(committed)):
        assert (
            statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        )
        actions = _as_list(statement["Action"])
        assert all("*" not in a for a in actions), statement
        if "*" in _as_list(statement["Resource"]):
            assert statement["Resource"] == ["*"]
            scoped = [a for a in actions if _resource_types(a)]
            assert not scoped, f"actions with resource-level permissions allowed on '*': {scoped}"


def test_each_execution_policy_fits_a_managed_policy(committed) -> None:
    documents = _execution_policies(committed)
    # IAM counts a managed policy's characters without white space; a role holds 10 by default.
    assert 1 <= len(documents) <= 10
    for document in documents:
        assert len(json.dumps(document, separators=(",", ":"))) <= 6144


def test_a_statement_too_large_for_one_policy_is_split_by_its_actions() -> None:
    actions = [f"s3:Get{'X' * 40}{i:03d}" for i in range(300)]
    documents = policies.split_policies([{"Effect": "Allow", "Action": actions, "Resource": ["*"]}])
    assert len(documents) > 1
    assert [a for d in documents for s in d["Statement"] for a in s["Action"]] == actions
    assert all(policies.policy_size(d) <= policies.MANAGED_POLICY_LIMIT for d in documents)


def test_a_custom_resource_of_another_stack_is_refused() -> None:
    template = Template(
        stack_name="s",
        body={
            "Resources": {
                "R": {"Type": "Custom::X", "Properties": {"ServiceToken": {"Fn::ImportValue": "x"}}}
            }
        },
    )
    with pytest.raises(
        policies.PolicyError, match=r"s/R: ServiceToken .* is not the Arn of a Lambda function"
    ):
        policies.needed_actions([template])


# What CloudFormation, as the execution role, does on this project's resources (names as
# CloudFormation generates them: <stack>-<logical id>-<suffix>) and on anyone else's.
_EXECUTION_CASES = [
    (
        True,
        "iam:CreateRole",
        f"arn:aws:iam::{ACCOUNT}:role/mwaa-dev-platform-EnvironmentExecutionRole1A2-AbCdEfGhIjKl",
    ),
    (
        True,
        "iam:PassRole",
        f"arn:aws:iam::{ACCOUNT}:role/mwaa-prod-platform-EnvironmentExecutionRole1A2-AbCdEfGh",
    ),
    (
        True,
        "iam:PutRolePolicy",
        f"arn:aws:iam::{ACCOUNT}:role/mwaa-platform-deploy-access-GitHubAccessDeployRole-Ab",
    ),
    (
        True,
        "iam:CreateServiceLinkedRole",
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/airflow.amazonaws.com/AWSServiceRoleForAmazonMWAA",
    ),
    (True, "s3:CreateBucket", f"arn:aws:s3:::airflow-mwaa-dev-{ACCOUNT}-{REGION}"),
    (True, "s3:PutBucketPolicy", "arn:aws:s3:::mwaa-dev-platform-dagbucketaccesslogsb3a8851c-abcdefgh"),
    (True, "s3:GetObject", f"arn:aws:s3:::cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/35328da1.zip"),
    (True, "airflow:CreateEnvironment", f"arn:aws:airflow:{REGION}:{ACCOUNT}:environment/mwaa-dev"),
    (True, "airflow:UpdateEnvironment", f"arn:aws:airflow:{REGION}:{ACCOUNT}:environment/mwaa-prod"),
    (True, "logs:PutRetentionPolicy", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:airflow-mwaa-prod-Task:*"),
    (
        True,
        "lambda:InvokeFunction",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:mwaa-dev-platform-CustomCDKBucketDeployment8-AbCd",
    ),
    (
        True,
        "secretsmanager:CreateSecret",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:SampleDataRedshiftAdminSecretFF3762E6-AbCdEfGhIjKl-x1y2z3",
    ),
    (True, "kms:CreateKey", "*"),
    (True, "ec2:CreateVpc", f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/*"),
    # MWAA creates its web server and database endpoints and network interfaces as the caller.
    (True, "ec2:CreateVpcEndpoint", f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint/*"),
    (True, "ec2:CreateNetworkInterface", f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*"),
    (False, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/admin"),
    (False, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"),
    (False, "iam:PutUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/alice"),
    (
        False,
        "iam:AttachRolePolicy",
        f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}",
    ),
    (False, "s3:DeleteBucket", "arn:aws:s3:::company-data-lake"),
    (False, "s3:GetObject", "arn:aws:s3:::company-data-lake/payroll.csv"),
    (False, "airflow:DeleteEnvironment", f"arn:aws:airflow:{REGION}:{ACCOUNT}:environment/finance"),
    (False, "lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:billing-export"),
    (
        False,
        "secretsmanager:DeleteSecret",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-AbCdEf",
    ),
    (False, "logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/billing-export:*"),
    (False, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/mwaa-dev-platform-x"),
]


def test_the_execution_policy_allows_the_project_and_nothing_around_it(committed) -> None:
    from tools.permissions import simulate

    documents = _execution_policies(committed)
    requests = [
        simulate.Request(
            principal=f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}",
            action=action,
            resource=resource,
            resource_account=ACCOUNT,
            context={"aws:PrincipalAccount": ACCOUNT},
            identity_policies=documents,
        )
        for _, action, resource in _EXECUTION_CASES
    ]
    decided = [
        (case, d.result) for case, d in zip(_EXECUTION_CASES, simulate.simulate(requests), strict=True)
    ]
    wrong = [
        (action, resource, result)
        for (allowed, action, resource), result in decided
        if (result == "Allowed") != allowed
    ]
    assert not wrong


# ---------------------------------------------------------------------- operator policies


def test_an_operator_policy_is_scoped_to_its_profile(committed) -> None:
    dev = json.dumps(committed["operator-dev.json"])
    assert "mwaa-dev" in dev and "mwaa-prod" not in dev
    for name, document in committed.items():
        if name.startswith("operator-"):
            for statement in document["Statement"]:
                assert statement["Effect"] == "Allow" and "*" not in statement["Resource"], (name, statement)


@pytest.fixture(scope="module")
def deployments(tmp_path_factory: pytest.TempPathFactory, committed) -> dict[str, Any]:
    """Each shipped profile as the contract's evaluator sees it (the account's deploy access and
    pipeline stacks included), with the committed policies as policy: principals."""
    from tools.permissions import deployments as evaluated

    return {
        label: evaluated.deployment_of(
            label, evaluated.synthesize_profile(label, tmp_path_factory.mktemp(label)), policy_files=committed
        )
        for label in ("dev", "prod")
    }


def test_a_policy_without_a_call_fails_the_contract(deployments) -> None:
    """The evaluation can fail: without its log statement, the operator cannot read task logs."""
    from tools.permissions.contract import evaluate, load_contract

    deployment = deployments["dev"]
    document = json.loads(json.dumps(deployment.policy_files["operator-dev.json"]))
    document["Statement"] = [s for s in document["Statement"] if "logs:FilterLogEvents" not in s["Action"]]
    crippled = dataclasses.replace(
        deployment, policy_files={**deployment.policy_files, "operator-dev.json": document}
    )
    contract = load_contract([ROOT / "permissions" / "operators.toml"], conditions=deployment.conditions)
    (outcomes,) = evaluate(contract, [crippled]).values()
    assert [o.entry.action for o in outcomes if not o.ok] == ["logs:FilterLogEvents"]


def test_every_operator_call_cites_the_code_that_makes_it() -> None:
    for entry in policies.operator_entries():
        assert re.search(r"mwaa_ops/[a-z_]+\.py:[A-Za-z_.]+", entry["source"]), entry
