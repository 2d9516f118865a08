"""The ``AirflowEnvironment`` construct applies MWAA's rules across settings from
``mwaa_rules.rules``, the rules the profile model applies: both refuse the same sizes, and the
same GRACEFUL worker replacement in a region that does not offer it."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from mwaa_constructs import AirflowEnvironment, AirflowNetwork, DagBucket
from platform_config import ProfileError, load_profile
from tests.infra.conftest import cdk_context


def _construct_problems(region: str = "eu-west-1", **kwargs: Any) -> set[str]:
    """The settings the construct refuses (empty when it accepts them)."""
    app = cdk.App(context={k: v for k, v in cdk_context().items() if k != "profiles"})
    stack = cdk.Stack(app, "Env", env=cdk.Environment(account="111122223333", region=region))
    network = AirflowNetwork(stack, "Network")
    bucket = DagBucket(stack, "DagBucket", environment_name="env-x").bucket
    try:
        AirflowEnvironment(
            stack,
            "Environment",
            environment_name="env-x",
            source_bucket=bucket,
            vpc=network.vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=network.environment_subnets),
            security_groups=[network.security_group],
            **kwargs,
        )
    except ValueError as error:
        return {line.split(":")[0].removeprefix("AirflowEnvironment ") for line in str(error).splitlines()}
    return set()


def _profile_problems(**settings: Any) -> set[str]:
    try:
        load_profile({"p": {"environment_name": "env-x", **settings}}, "p", manifests=[])
    except ProfileError as error:
        return {problem.split(":")[0] for problem in error.problems}
    return set()


@pytest.mark.parametrize(
    "sizes",
    [
        {"environment_class": "mw1.small", "schedulers": 5, "min_workers": 25, "max_workers": 25},
        {"environment_class": "mw1.small", "schedulers": 9},
        {"environment_class": "mw1.small", "min_workers": 30, "max_workers": 3},
        {"environment_class": "mw1.small", "min_webservers": 4, "max_webservers": 3},
        {
            "environment_class": "mw1.micro",
            "schedulers": 1,
            "min_webservers": 1,
            "max_webservers": 1,
            "max_workers": 1,
        },
        {"environment_class": "mw1.micro", "max_workers": 2, "min_webservers": 2},
        {"environment_class": "mw1.large", "max_webservers": 6},
    ],
    ids=lambda sizes: ",".join(f"{k}={v}" for k, v in sizes.items()),
)
def test_the_construct_and_the_profile_refuse_the_same_sizes(sizes: dict[str, Any]) -> None:
    assert _construct_problems(**sizes) == _profile_problems(**sizes)


def test_the_construct_refuses_graceful_replacement_where_mwaa_does_not_offer_it() -> None:
    assert _construct_problems("ca-west-1", worker_replacement_strategy="GRACEFUL") == {
        "worker_replacement_strategy"
    }
    assert _construct_problems("eu-west-1", worker_replacement_strategy="GRACEFUL") == set()
    assert _profile_problems(region="ca-west-1", worker_replacement_strategy="GRACEFUL") == {
        "worker_replacement_strategy"
    }
