"""AirflowAccess: managed policies on existing roles for web login, REST API and CLI tokens."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from mwaa_constructs import AirflowAccess, AirflowEnvironment
from platform_config.profile import COMPLIANCE_PACKS
from stacks.compliance import compliance_checks

ACCOUNT = "111122223333"
ANALYST = f"arn:aws:iam::{ACCOUNT}:role/analyst"
ENGINEER = f"arn:aws:iam::{ACCOUNT}:role/teams/data/data-engineer"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/ci-deployer"
ENV_ARN = f"arn:aws:airflow:eu-west-1:{ACCOUNT}"


def _synth(**kwargs: Any) -> tuple[cdk.Stack, Template]:
    stack = cdk.Stack(cdk.App(), "Access", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    environment = AirflowEnvironment.from_environment_name(stack, "Environment", "env-x")
    AirflowAccess(stack, "Access", environment=environment, **kwargs)
    return stack, Template.from_stack(stack)


def _flat(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join("aws" if p == {"Ref": "AWS::Partition"} else _flat(p) for p in parts)
    if isinstance(value, list):
        return [_flat(v) for v in value]
    if isinstance(value, dict):
        return {k: _flat(v) for k, v in value.items()}
    return value


def _grants(template: Template) -> dict[str, set[tuple[str, str]]]:
    """Role name -> (action, resource) of the one policy attached to it."""
    grants: dict[str, set[tuple[str, str]]] = {}
    for policy in template.find_resources("AWS::IAM::ManagedPolicy").values():
        (role,) = policy["Properties"]["Roles"]
        assert role not in grants, f"{role} has more than one policy"
        statements = _flat(policy["Properties"]["PolicyDocument"]["Statement"])
        grants[role] = {(s["Action"], s["Resource"]) for s in statements if s["Effect"] == "Allow"}
    return grants


@pytest.fixture(scope="module")
def granted() -> tuple[cdk.Stack, Template]:
    return _synth(
        web_login={ANALYST: "Viewer", ENGINEER: "Op"},
        rest_api={DEPLOYER: "User", ENGINEER: "Admin"},
        cli=[ENGINEER],
    )


def test_each_role_gets_exactly_its_grants_in_one_policy(granted) -> None:
    _, template = granted
    assert _grants(template) == {
        "analyst": {("airflow:CreateWebLoginToken", f"{ENV_ARN}:role/env-x/Viewer")},
        "data-engineer": {
            ("airflow:CreateWebLoginToken", f"{ENV_ARN}:role/env-x/Op"),
            ("airflow:InvokeRestApi", f"{ENV_ARN}:role/env-x/Admin"),
            ("airflow:CreateCliToken", f"{ENV_ARN}:environment/env-x"),
        },
        "ci-deployer": {("airflow:InvokeRestApi", f"{ENV_ARN}:role/env-x/User")},
    }


def test_the_roles_are_imported_not_created(granted) -> None:
    _, template = granted
    template.resource_count_is("AWS::IAM::Role", 0)


def test_grants_are_managed_policies_not_inline_ones(granted) -> None:
    stack, template = granted
    template.resource_count_is("AWS::IAM::Policy", 0)
    template.resource_count_is("AWS::IAM::ManagedPolicy", 3)
    for pack in compliance_checks(COMPLIANCE_PACKS):
        report = pack.validate_scope(stack)
        assert report.success, [v.rule_name for v in report.violations]


def test_reordering_keeps_the_logical_ids() -> None:
    first, _ = _synth(web_login={ANALYST: "Viewer", ENGINEER: "Op"}, cli=[ENGINEER, DEPLOYER])
    second, _ = _synth(web_login={ENGINEER: "Op", ANALYST: "Viewer"}, cli=[DEPLOYER, ENGINEER])
    ids = [set(Template.from_stack(s).find_resources("AWS::IAM::ManagedPolicy")) for s in (first, second)]
    assert ids[0] == ids[1]
    assert any(logical_id.startswith("AccessdataengineerPolicy") for logical_id in ids[0]), ids[0]


def test_bad_input_names_the_role() -> None:
    with pytest.raises(ValueError, match=r"role_arn: got 'arn:aws:iam::111122223333:user/bob'"):
        _synth(cli=["arn:aws:iam::111122223333:user/bob"])
    with pytest.raises(ValueError, match=r"airflow_role: got 'admin'; allowed roles are Admin, Op"):
        _synth(web_login={ANALYST: "admin"})
    with pytest.raises(ValueError, match=r"another role named 'analyst'"):
        _synth(web_login={ANALYST: "Viewer"}, cli=[f"arn:aws:iam::{ACCOUNT}:role/other/analyst"])
