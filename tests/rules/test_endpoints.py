"""The interface endpoints each network mode creates (read by the network construct and the cost
model)."""

from __future__ import annotations

import pytest

from mwaa_rules import endpoints


@pytest.mark.parametrize("mode", ["nat", "existing"])
@pytest.mark.parametrize("secrets_manager", [True, False])
def test_only_the_isolated_mode_creates_interface_endpoints(mode: str, secrets_manager: bool) -> None:
    assert endpoints.interface_endpoints(mode, secrets_manager=secrets_manager) == ()


def test_isolated_mode_adds_secrets_manager_only_for_the_secrets_backend() -> None:
    without = endpoints.interface_endpoints("isolated", secrets_manager=False)
    with_backend = endpoints.interface_endpoints("isolated", secrets_manager=True)
    assert [e.service for e in without] == [
        "monitoring",
        "logs",
        "sqs",
        "kms",
        "ecr.api",
        "ecr.dkr",
        "airflow.api",
        "airflow.env",
        "airflow.ops",
    ]
    assert with_backend == (*without, endpoints.InterfaceEndpoint("SecretsManager", "secretsmanager"))


def test_endpoint_names_are_distinct_construct_id_stems() -> None:
    every = endpoints.interface_endpoints("isolated", secrets_manager=True)
    names = [e.name for e in every]
    # Each becomes the construct id "<name>Endpoint": a duplicate would fail synth, a name
    # that is not PascalCase would break the construct-id convention.
    assert len(set(names)) == len(names)
    assert all(name[0].isupper() and name.isalnum() for name in names)
    assert len({e.service for e in every}) == len(every)
