"""The VPC interface endpoints the network of an MWAA environment creates, per network mode.

One list for the network construct (``mwaa_constructs.network``, which creates an endpoint for
each entry) and the cost model (:mod:`mwaa_rules.cost`, which prices them), so that the two
cannot disagree.

An environment whose subnets have no route to the internet (mode ``isolated``) reaches the AWS
services it needs through interface endpoints with private DNS, plus a gateway endpoint for S3
(free, not listed here): MWAA user guide, "About networking on Amazon MWAA", private routing
without internet access (https://docs.aws.amazon.com/mwaa/latest/userguide/networking-about.html).
Mode ``nat`` reaches them through its NAT gateways, and mode ``existing`` leaves the network,
endpoints included, to its owner: neither creates one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InterfaceEndpoint:
    """One interface endpoint of the environment's network."""

    #: The stem of the endpoint's construct id (``<name>Endpoint``): part of its logical id, so
    #: renaming one replaces the endpoint.
    name: str
    #: The service, as its endpoint service name ends: ``com.amazonaws.<region>.<service>``.
    service: str


#: The interface endpoints of mode ``isolated``, in the order they are created. Each has a network
#: interface in each of the environment's subnets (``rules.ENVIRONMENT_SUBNETS``).
ISOLATED_INTERFACE_ENDPOINTS: tuple[InterfaceEndpoint, ...] = (
    InterfaceEndpoint("Monitoring", "monitoring"),
    InterfaceEndpoint("Logs", "logs"),
    InterfaceEndpoint("Sqs", "sqs"),
    InterfaceEndpoint("Kms", "kms"),
    InterfaceEndpoint("EcrApi", "ecr.api"),
    InterfaceEndpoint("EcrDocker", "ecr.dkr"),
    InterfaceEndpoint("AirflowApi", "airflow.api"),
    InterfaceEndpoint("AirflowEnv", "airflow.env"),
    # Listed as required by the user guide, although its API is deprecated.
    InterfaceEndpoint("AirflowOps", "airflow.ops"),
)

#: The one more endpoint of mode ``isolated`` with Airflow's Secrets Manager backend on: the
#: backend reads connections and variables from Secrets Manager.
SECRETS_MANAGER_ENDPOINT = InterfaceEndpoint("SecretsManager", "secretsmanager")


def interface_endpoints(mode: str, *, secrets_manager: bool) -> tuple[InterfaceEndpoint, ...]:
    """The interface endpoints the network of ``mode`` creates: those of
    :data:`ISOLATED_INTERFACE_ENDPOINTS` in mode ``isolated``, with
    :data:`SECRETS_MANAGER_ENDPOINT` when ``secrets_manager``; none in any other mode."""
    if mode != "isolated":
        return ()
    return (*ISOLATED_INTERFACE_ENDPOINTS, *((SECRETS_MANAGER_ENDPOINT,) if secrets_manager else ()))
