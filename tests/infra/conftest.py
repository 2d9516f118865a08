"""Shared builders for the infrastructure tests: synthesize once per module, assert many times."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

# jsii starts Node when aws_cdk is imported: silence its Node 20 end-of-life banner before that.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match

ROOT = Path(__file__).resolve().parents[2]


# The bucket-policy statement that refuses every request not made over TLS (enforce_ssl).
TLS_ONLY_STATEMENT = Match.object_like(
    {"Effect": "Deny", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
)


def actions_of(statement: dict[str, Any]) -> list[str]:
    """The actions of an IAM policy statement, as a list."""
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def statement_with(statements: list[dict[str, Any]], action: str) -> dict[str, Any]:
    """The one statement of ``statements`` that grants ``action``."""
    found = [statement for statement in statements if action in actions_of(statement)]
    assert len(found) == 1, f"{action}: expected in exactly one statement, found {found}"
    return found[0]


def cdk_context() -> dict[str, Any]:
    """The context of cdk.json: feature flags and the shipped profiles."""
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def addons_off() -> dict[str, bool]:
    """Profile settings that turn every add-on of the repository off (none without add-ons): for a
    variant of a shipped profile that an add-on cannot run on (an isolated network, no secrets
    backend), or that tests the platform alone."""
    from platform_config.profile import addon_manifests

    return {manifest.enabled_by: False for manifest in addon_manifests(ROOT)}


FIXTURE_DAGS = Path(__file__).resolve().parent / "fixtures" / "dags"


def copy_sources(target: Path) -> Path:
    """Artifact sources laid out as the default profile expects them, to edit in a test: a
    fixture DAG folder (a team's DAG and its support package) as ``dags/``, and the
    repository's ``runtime/`` (plugins, requirements, startup script) and ``workflows/`` (the
    MWAA Serverless workflows of ``dev``'s ``serverless.workflows``)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(FIXTURE_DAGS, target / "dags", ignore=ignore)
    shutil.copytree(ROOT / "runtime", target / "runtime", ignore=ignore)
    shutil.copytree(ROOT / "workflows", target / "workflows", ignore=ignore)
    return target


@pytest.fixture(scope="module")
def bare_stack() -> cdk.Stack:
    """A bare stack with the project's feature flags, for one construct under test."""
    app = cdk.App(context={k: v for k, v in cdk_context().items() if k != "profiles"})
    return cdk.Stack(app, "Test")


def build_environment(*, key: bool, **kwargs: Any) -> tuple[cdk.Stack, Any, Any]:
    """An ``AirflowEnvironment`` in a bare stack (account and region set, the project's feature
    flags) on a new network and DAG bucket, with a customer managed key when ``key``.
    Returns the stack, the environment and the network."""
    from mwaa_constructs import AirflowEnvironment, AirflowKey, AirflowNetwork, DagBucket

    app = cdk.App(context={k: v for k, v in cdk_context().items() if k != "profiles"})
    stack = cdk.Stack(app, "Env", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    network = AirflowNetwork(stack, "Network")
    kms_key = AirflowKey(stack, "Key", environment_name="env-x").key if key else None
    bucket = DagBucket(stack, "DagBucket", environment_name="env-x", encryption_key=kms_key).bucket
    environment = AirflowEnvironment(
        stack,
        "Environment",
        environment_name="env-x",
        source_bucket=bucket,
        subnets=network.environment_subnets,
        security_groups=[network.security_group],
        kms_key=kms_key,
        **kwargs,
    )
    return stack, environment, network
