"""SecretsManagerBackend on an environment: configuration options, the read grant, conflicts."""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from mwaa_constructs import AirflowEnvironment, SecretsManagerBackend
from platform_config.profile import COMPLIANCE_PACKS
from stacks.compliance import compliance_checks
from tests.infra.conftest import build_environment, statement_with

BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
# The MWAA 3.3.1 image's default (aws/amazon-mwaa-docker-images, images/airflow/3.3.1/python/
# mwaa/config/airflow.py): every connection but aws_default is looked up in Secrets Manager.
IMAGE_DEFAULT_PATTERN = "^(?!aws_default$).*$"


def _build(*, key: bool, **kwargs: Any) -> tuple[cdk.Stack, AirflowEnvironment]:
    stack, environment, _ = build_environment(key=key, **kwargs)
    return stack, environment


def _role_statements(stack: cdk.Stack, environment: AirflowEnvironment) -> list[dict[str, Any]]:
    template = Template.from_stack(stack)
    assert environment.role_policy is not None
    policy_id = stack.get_logical_id(environment.role_policy.node.default_child)
    policy = template.to_json()["Resources"][policy_id]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def _flat(value: Any) -> Any:
    """``Fn::Join`` of literal parts and the partition, as the value reads in an account."""
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join("aws" if p == {"Ref": "AWS::Partition"} else _flat(p) for p in parts)
    if isinstance(value, list):
        return [_flat(v) for v in value]
    return value


@pytest.fixture(scope="module")
def with_key() -> tuple[cdk.Stack, AirflowEnvironment]:
    return _build(
        key=True,
        airflow_configuration_options={"core.default_task_retries": "3"},
        secrets_backend=SecretsManagerBackend(
            connections_prefix="team-a/connections", variables_prefix="team-a/variables"
        ),
    )


def _synthesized_kwargs(stack: cdk.Stack) -> dict[str, str]:
    (environment,) = Template.from_stack(stack).find_resources("AWS::MWAA::Environment").values()
    return json.loads(environment["Properties"]["AirflowConfigurationOptions"]["secrets.backend_kwargs"])


def _looked_up(pattern: str, conn_id: str) -> bool:
    """Whether the provider's backend looks ``conn_id`` up in Secrets Manager under ``pattern``
    (``SecretsManagerBackend._get_secret``: ``re.match`` with ``re.IGNORECASE``)."""
    return re.match(pattern, conn_id, re.IGNORECASE) is not None


def test_backend_options_are_merged_with_the_given_options(with_key) -> None:
    stack, _ = with_key
    (environment,) = Template.from_stack(stack).find_resources("AWS::MWAA::Environment").values()
    assert environment["Properties"]["AirflowConfigurationOptions"] == {
        "core.default_task_retries": "3",
        "secrets.backend": BACKEND,
        "secrets.backend_kwargs": '{"connections_lookup_pattern": "^(?!aws_default$).*$", '
        '"connections_prefix": "team-a/connections", "variables_prefix": "team-a/variables"}',
    }


def test_synthesized_kwargs_keep_aws_default_out_of_secrets_manager(with_key) -> None:
    """The kwargs replace the image's default as a whole: they must carry its lookup pattern, or
    aws_default (the execution role's credentials) would be looked up in Secrets Manager."""
    stack, _ = with_key
    kwargs = _synthesized_kwargs(stack)
    pattern = kwargs["connections_lookup_pattern"]
    assert re.match(pattern, "aws_default") is None
    assert re.match(pattern, "redshift_default")
    assert not _looked_up(pattern, "AWS_DEFAULT")
    assert _looked_up(pattern, "movielens_http") and _looked_up(pattern, "aws_default_2")
    assert "variables_lookup_pattern" not in kwargs


def test_default_kwargs_are_the_image_default_plus_the_prefixes_in_a_deterministic_string() -> None:
    options = SecretsManagerBackend().configuration_options()
    assert options == {
        "secrets.backend": BACKEND,
        "secrets.backend_kwargs": '{"connections_lookup_pattern": "^(?!aws_default$).*$", '
        '"connections_prefix": "airflow/connections", "variables_prefix": "airflow/variables"}',
    }
    assert json.loads(options["secrets.backend_kwargs"]) == {
        "connections_lookup_pattern": IMAGE_DEFAULT_PATTERN,
        "connections_prefix": "airflow/connections",
        "variables_prefix": "airflow/variables",
    }


def test_a_caller_sets_its_own_lookup_patterns() -> None:
    stack, _ = _build(
        key=False,
        secrets_backend=SecretsManagerBackend(
            connections_lookup_pattern="^team_a_", variables_lookup_pattern="^(?!local_).*$"
        ),
    )
    kwargs = _synthesized_kwargs(stack)
    assert kwargs["connections_lookup_pattern"] == "^team_a_"
    assert kwargs["variables_lookup_pattern"] == "^(?!local_).*$"
    assert _looked_up(kwargs["connections_lookup_pattern"], "team_a_db")
    assert not _looked_up(kwargs["connections_lookup_pattern"], "aws_default")
    assert not _looked_up(kwargs["variables_lookup_pattern"], "local_path")


def test_execution_role_reads_exactly_the_two_prefixes_and_decrypts_through_secrets_manager(
    with_key,
) -> None:
    stack, environment = with_key
    statements = _role_statements(stack, environment)
    read = statement_with(statements, "secretsmanager:GetSecretValue")
    assert sorted(read["Action"]) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert sorted(_flat(read["Resource"])) == [
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:team-a/connections/*",
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:team-a/variables/*",
    ]
    assert "Condition" not in read
    (decrypt,) = [
        s
        for s in statements
        if s.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
        == "secretsmanager.eu-west-1.amazonaws.com"
    ]
    assert decrypt["Action"] == "kms:Decrypt"
    key = environment.node.scope.node.find_child("Key").key  # type: ignore[union-attr]
    assert decrypt["Resource"] == {"Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]}
    assert not any("secretsmanager:" in json.dumps(s["Action"]) for s in statements if s is not read)


def test_without_a_customer_key_there_is_no_secrets_manager_key_grant() -> None:
    stack, environment = _build(key=False, secrets_backend=SecretsManagerBackend())
    statements = _role_statements(stack, environment)
    assert statement_with(statements, "secretsmanager:GetSecretValue")
    assert "secretsmanager." not in json.dumps(statements)


def test_without_a_backend_nothing_changes() -> None:
    stack, environment = _build(key=False)
    assert "secretsmanager" not in json.dumps(_role_statements(stack, environment))
    (resource,) = Template.from_stack(stack).find_resources("AWS::MWAA::Environment").values()
    assert "AirflowConfigurationOptions" not in resource["Properties"]


def test_cdk_nag_accepts_the_prefix_wildcards(with_key) -> None:
    stack, _ = with_key
    for pack in compliance_checks(COMPLIANCE_PACKS):
        report = pack.validate_scope(stack)
        assert report.success, [(v.rule_name, v.violating_resources) for v in report.violations]


@pytest.mark.parametrize("option", ["secrets.backend", "secrets.backend_kwargs"])
def test_setting_a_backend_option_as_well_is_an_error(option: str) -> None:
    with pytest.raises(
        ValueError,
        match=rf"airflow_configuration_options\['{option}'\]: got 'x'; secrets_backend sets this option",
    ):
        _build(
            key=False, airflow_configuration_options={option: "x"}, secrets_backend=SecretsManagerBackend()
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"connections_prefix": "/airflow/connections"}, r"connections_prefix: got '/airflow/connections'"),
        ({"variables_prefix": "airflow variables"}, r"variables_prefix: got 'airflow variables'"),
        ({"variables_prefix": "airflow/connections"}, r"it must differ from connections_prefix"),
        (
            {"connections_lookup_pattern": "^(?!aws_default$"},
            r"connections_lookup_pattern: got '\^\(\?!aws_default\$', which is not a valid regular "
            r"expression \(.+\); expected a non-empty regular expression",
        ),
        ({"variables_lookup_pattern": "[a-"}, r"variables_lookup_pattern: got '\[a-', which is not a valid"),
        ({"connections_lookup_pattern": ""}, r"connections_lookup_pattern: got ''; expected a non-empty"),
    ],
)
def test_bad_prefixes_are_rejected(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SecretsManagerBackend(**kwargs)
