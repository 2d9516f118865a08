"""Variables and connections served by a secrets backend: listed by name, never copied."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber
from dr_fakeapi import FakeApi, Request

from mwaa_ops.aws import AwsClients, AwsSettings
from mwaa_ops.dr.backup import BackupOptions, SecretsListing, backup, list_secrets_backend
from mwaa_ops.dr.client import AirflowClient
from mwaa_ops.dr.transport import UrlTransport

ENV = "mwaa-dev"
BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"


@pytest.fixture
def aws() -> Iterator[dict[str, Stubber]]:
    session = botocore.session.Session()
    clients = {
        name: session.create_client(
            name, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        for name in ("mwaa", "secretsmanager")
    }
    stubs = {name: Stubber(client) for name, client in clients.items()}
    for stub in stubs.values():
        stub.activate()
    stubs["clients"] = AwsClients(AwsSettings(region="us-east-1"), factory=clients.__getitem__)  # type: ignore[assignment]
    yield stubs
    for name in ("mwaa", "secretsmanager"):
        stubs[name].assert_no_pending_responses()
        stubs[name].deactivate()


def environment(options: dict[str, str]) -> dict[str, Any]:
    return {"Environment": {"Name": ENV, "AirflowVersion": "3.3.1", "AirflowConfigurationOptions": options}}


def listing(
    prefix: str, names: list[str], token: str | None = None, next_token: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    params: dict[str, Any] = {"Filters": [{"Key": "name", "Values": [prefix + "/"]}], "MaxResults": 100}
    if token:
        params["NextToken"] = token
    response: dict[str, Any] = {"SecretList": [{"Name": f"{prefix}/{n}"} for n in names]}
    if next_token:
        response["NextToken"] = next_token
    return response, params


def test_secrets_manager_names_are_read_under_the_configured_prefixes(aws: dict[str, Any]) -> None:
    kwargs = json.dumps({"variables_prefix": "team/vars", "connections_prefix": "team/conns"})
    aws["mwaa"].add_response(
        "get_environment",
        environment({"secrets.backend": BACKEND, "secrets.backend_kwargs": kwargs}),
        {"Name": ENV},
    )
    aws["secretsmanager"].add_response("list_secrets", *listing("team/vars", ["b_var"], next_token="t2"))
    aws["secretsmanager"].add_response("list_secrets", *listing("team/vars", ["a_var"], token="t2"))
    aws["secretsmanager"].add_response("list_secrets", *listing("team/conns", ["warehouse"]))
    listed = list_secrets_backend(aws["clients"], ENV)
    assert listed.backend == BACKEND
    assert listed.variables == ["a_var", "b_var"] and listed.connections == ["warehouse"]
    assert listed.notes == []


def test_no_backend_and_denied_listings_become_notes(aws: dict[str, Any]) -> None:
    aws["mwaa"].add_response("get_environment", environment({}), {"Name": ENV})
    assert list_secrets_backend(aws["clients"], ENV).notes == [
        "no secrets backend in AirflowConfigurationOptions"
    ]
    aws["mwaa"].add_response("get_environment", environment({"secrets.backend": BACKEND}), {"Name": ENV})
    aws["secretsmanager"].add_client_error("list_secrets", service_error_code="AccessDeniedException")
    aws["secretsmanager"].add_response("list_secrets", *listing("airflow/connections", []))
    listed = list_secrets_backend(aws["clients"], ENV)
    assert listed.variables == [] and len(listed.notes) == 1
    assert listed.notes[0].startswith("variables of the secrets backend not listed: ")


def test_backup_lists_secrets_backend_items_and_copies_only_the_database(tmp_path: Any) -> None:
    answers: dict[str, Any] = {
        "/api/v2/version": {"version": "3.3.1"},
        "/api/v2/pools": {"pools": [], "total_entries": 0},
        "/api/v2/variables": {
            "variables": [{"key": "region", "value": "eu-west-1", "description": None}],
            "total_entries": 1,
        },
        "/api/v2/connections": {"connections": [], "total_entries": 0},
        "/api/v2/dags": {"dags": [], "total_entries": 0},
        "/api/v2/dags/~/dagRuns/list": {"dag_runs": [], "total_entries": 0},
        "/api/v2/dags/~/dagRuns/~/taskInstances/list": {"task_instances": [], "total_entries": 0},
    }

    def handler(request: Request) -> tuple[int, Any]:
        return 200, answers[request.path]

    fake = FakeApi(handler)
    try:
        data = backup(
            AirflowClient(UrlTransport.with_token(fake.url, "t")),
            environment={"name": ENV},
            options=BackupOptions(),
            created_at=datetime(2026, 11, 28, tzinfo=UTC),
            secrets=SecretsListing(
                backend=BACKEND, variables=["db_password", "region"], connections=["warehouse"]
            ),
        )
    finally:
        fake.close()
    variables = data["sections"]["variables"]["items"]
    assert variables == [
        {"key": "db_password", "source": "secrets-backend"},
        {
            "key": "region",
            "source": "metadata-db",
            "value": "eu-west-1",
            "description": None,
            "masked": False,
            "shadowed_by_secrets_backend": True,
        },
    ]
    assert data["sections"]["connections"]["items"] == [
        {"connection_id": "warehouse", "source": "secrets-backend"}
    ]
    runs_query = next(r for r in fake.requests if r.path.endswith("/dagRuns/list"))
    assert runs_query.body == {
        "run_after_lt": "2026-11-28T00:00:00+00:00",
        "order_by": "id",
        "page_offset": 0,
        "page_limit": 500,
    }
