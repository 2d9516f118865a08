"""Test helpers of ``mwaa-ops``: stubbed AWS clients, a fake clock, and a CLI runner.

Clients are real botocore clients with a :class:`botocore.stub.Stubber` attached, so every
request is checked against the service model and every queued response must match the API
reference's shapes. Nothing reaches AWS: a call without a queued response fails the test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
from botocore.stub import Stubber

from mwaa_ops.aws import AwsClients, AwsSettings

ROOT = Path(__file__).resolve().parents[2]
CDK_JSON = ROOT / "cdk.json"
REGION = "us-east-1"
ACCOUNT = "111122223333"
ENV = "mwaa-dev"
STACK = "mwaa-dev-platform"
HOST = "abcd1234-5678-90ef.c2.us-east-1.airflow.amazonaws.com"
NOW = datetime(2026, 11, 28, 17, 49, 22, tzinfo=UTC)
LOG_KINDS = ("DAGProcessing", "Scheduler", "Task", "WebServer", "Worker")
LOG_GROUPS = ",".join(f"airflow-{ENV}-{kind}" for kind in LOG_KINDS)


def environment(
    *,
    status: str = "AVAILABLE",
    version: str = "3.0.6",
    last_update: dict[str, Any] | None = None,
    access_mode: str = "PUBLIC_ONLY",
) -> dict[str, Any]:
    """A GetEnvironment response as the API reference shapes it."""
    env: dict[str, Any] = {
        "Name": ENV,
        "Status": status,
        "Arn": f"arn:aws:airflow:{REGION}:{ACCOUNT}:environment/{ENV}",
        "AirflowVersion": version,
        "EnvironmentClass": "mw1.small",
        "MinWorkers": 1,
        "MaxWorkers": 2,
        "Schedulers": 2,
        "WebserverUrl": HOST,
        "WebserverAccessMode": access_mode,
        "LastUpdate": last_update
        if last_update is not None
        else {"Status": "SUCCESS", "CreatedAt": datetime(2026, 11, 28, 16, 0, tzinfo=UTC), "Source": "API"},
    }
    return {"Environment": env}


def stack(outputs: dict[str, str] | None = None, status: str = "CREATE_COMPLETE") -> dict[str, Any]:
    """A DescribeStacks response for the platform stack."""
    outputs = {"EnvironmentName": ENV, "LogGroupNames": LOG_GROUPS} if outputs is None else outputs
    return {
        "Stacks": [
            {
                "StackName": STACK,
                "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/0a1b2c3d",
                "CreationTime": datetime(2026, 11, 1, tzinfo=UTC),
                "StackStatus": status,
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            }
        ]
    }


FIRST_PAGE = {"limit": 100, "offset": 0}  # the query of the first page of a list call
DAG = "movie-list-dag"
RUN_ID = "ops__20261128T174922Z"
TRIGGER_BODY = {"dag_run_id": RUN_ID, "logical_date": "2026-11-28T17:49:22+00:00", "conf": {}}


def run(state: str, run_id: str = RUN_ID) -> dict[str, object]:
    """A DAG run as API v2 returns it (the fields read here have the same names in v1)."""
    return {
        "dag_run_id": run_id,
        "dag_id": DAG,
        "logical_date": "2026-11-28T17:49:22+00:00",
        "run_after": "2026-11-28T17:49:22+00:00",
        "start_date": "2026-11-28T17:49:25.123456+00:00" if state != "queued" else None,
        "end_date": "2026-11-28T17:53:01.000001+00:00" if state in {"success", "failed"} else None,
        "run_type": "manual",
        "state": state,
        "conf": {},
    }


@dataclass
class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)
    backoff_sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


class Aws:
    """Stubbed clients of the services mwaa-ops calls, and the settings the CLI asked for."""

    def __init__(self) -> None:
        session = botocore.session.Session()
        self.clients = {
            service: session.create_client(
                service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            for service in ("mwaa", "cloudformation", "logs")
        }
        self.stubs = {service: Stubber(client) for service, client in self.clients.items()}
        for stub in self.stubs.values():
            stub.activate()
        self.settings: list[AwsSettings] = []

    @property
    def mwaa(self) -> Stubber:
        return self.stubs["mwaa"]

    @property
    def cfn(self) -> Stubber:
        return self.stubs["cloudformation"]

    @property
    def logs(self) -> Stubber:
        return self.stubs["logs"]

    def factory(self, settings: AwsSettings) -> AwsClients:
        self.settings.append(settings)
        return AwsClients(settings, factory=self.clients.__getitem__)

    # -- queued responses --------------------------------------------------------------

    def get_environment(self, **kwargs: Any) -> None:
        self.mwaa.add_response("get_environment", environment(**kwargs), {"Name": ENV})

    def describe_stacks(self, **kwargs: Any) -> None:
        self.cfn.add_response("describe_stacks", stack(**kwargs), {"StackName": STACK})

    def rest(
        self,
        method: str,
        path: str,
        response: Any,
        *,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        status: int = 200,
    ) -> None:
        """Queue one InvokeRestApi answer and the exact request it must receive."""
        expected: dict[str, Any] = {"Name": ENV, "Path": path, "Method": method}
        if query is not None:
            expected["QueryParameters"] = query
        if body is not None:
            expected["Body"] = body
        self.mwaa.add_response(
            "invoke_rest_api", {"RestApiStatusCode": status, "RestApiResponse": response}, expected
        )

    def rest_error(
        self,
        code: str,
        *,
        status: int | None = None,
        response: Any = None,
        message: str = "",
        http_status: int = 400,
    ) -> None:
        """Queue a failed InvokeRestApi (Airflow's status and body travel beside the error)."""
        modeled: dict[str, Any] = {}
        if status is not None:
            modeled["RestApiStatusCode"] = status
        if response is not None:
            modeled["RestApiResponse"] = response
        self.mwaa.add_client_error(
            "invoke_rest_api",
            service_error_code=code,
            service_message=message,
            http_status_code=http_status,
            modeled_fields=modeled or None,
        )

    def assert_done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()
