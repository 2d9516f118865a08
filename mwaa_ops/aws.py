"""AWS clients for ``mwaa-ops``, created the standard AWS way.

Credentials, region and endpoints come from boto3's own chain (``AWS_PROFILE``,
``AWS_REGION``/``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_MWAA``, ...),
so the tool behaves like the AWS CLI. The commands never build clients themselves: they get
an :class:`AwsClients`, which tests replace with stubbed clients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

# botocore's "standard" retry mode retries throttling and transient errors of every call with
# backoff; the REST API's own 429 answers are retried in airflow_api.py, where they are visible.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="mwaa-ops")


@dataclass(frozen=True, kw_only=True)
class AwsSettings:
    """What selects the account and region: an AWS named profile and a region, both optional."""

    aws_profile: str | None = None
    region: str | None = None


class AwsClients:
    """The boto3 clients of one command, created on first use and then reused.

    ``factory`` creates a client from a service name; by default a boto3 session built from
    ``settings``. Creating the session lazily keeps errors (no region, unknown AWS profile)
    inside the AWS call that needs it, where they are translated like any other AWS error."""

    def __init__(self, settings: AwsSettings, factory: Callable[[str], Any] | None = None) -> None:
        self.settings = settings
        self._factory = factory or self._boto3_factory
        self._session: boto3.Session | None = None
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """The client of ``service`` (``mwaa``, ``cloudformation``, ``logs``)."""
        if service not in self._clients:
            self._clients[service] = self._factory(service)
        return self._clients[service]

    @property
    def region(self) -> str | None:
        """The region the clients use, for messages ("... not deployed in eu-west-1")."""
        if self.settings.region:
            return self.settings.region
        for client in self._clients.values():
            return str(client.meta.region_name)
        return None

    def _boto3_factory(self, service: str) -> Any:
        if self._session is None:
            self._session = boto3.Session(
                profile_name=self.settings.aws_profile, region_name=self.settings.region
            )
        return self._session.client(service, config=_CONFIG)
