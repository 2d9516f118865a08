"""The scheduled backup's Lambda handler (mwaa_ops.dr.scheduled) against a stubbed MWAA
(InvokeRestApi answering like Airflow 3.3.1's REST API v2) and moto's S3 and Secrets Manager."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mwaa_ops.aws import AwsClients, AwsSettings
from mwaa_ops.dr import archive, scheduled
from mwaa_ops.dr.scheduled import ScheduledBackupSettings, SettingsError
from mwaa_ops.dr.transport import ApiError
from tests.ops.ops_testing import FakeTime

REGION = "eu-west-1"
SECRETS_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
ENVIRONMENT = "mwaa-prod"
BUCKET = "airflow-mwaa-prod-backups-111122223333-eu-west-1"
NOW = datetime(2026, 12, 4, 2, 0, 7, tzinfo=UTC)

RUNS = [
    {
        "dag_id": "hourly",
        "dag_run_id": "scheduled__2026-12-03T01:00:00+00:00",
        "run_type": "scheduled",
        "state": "success",
        "logical_date": "2026-12-03T01:00:00Z",
        "data_interval_start": "2026-12-03T01:00:00Z",
        "data_interval_end": "2026-12-03T02:00:00Z",
        "run_after": "2026-12-03T02:00:00Z",
        "conf": {},
        "note": None,
    }
]
TASK_INSTANCES = [
    {
        "dag_id": "hourly",
        "dag_run_id": "scheduled__2026-12-03T01:00:00+00:00",
        "task_id": "extract",
        "map_index": -1,
        "state": "success",
        "try_number": 1,
    }
]


class MwaaStub:
    """``invoke_rest_api`` and ``get_environment`` of one environment; records every call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_environment(self, *, Name: str) -> dict[str, Any]:
        assert Name == ENVIRONMENT
        return {
            "Environment": {
                "Name": Name,
                "AirflowConfigurationOptions": {
                    "secrets.backend": SECRETS_BACKEND,
                    "secrets.backend_kwargs": json.dumps(
                        {"connections_prefix": "airflow/connections", "variables_prefix": "airflow/variables"}
                    ),
                },
            }
        }

    def invoke_rest_api(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        assert params["Name"] == ENVIRONMENT
        method, path = params["Method"], params["Path"]
        answers: dict[tuple[str, str], Any] = {
            ("GET", "/version"): {"version": "3.3.1"},
            ("GET", "/pools"): {"pools": [{"name": "default_pool", "slots": 128}], "total_entries": 1},
            ("GET", "/variables"): {
                "variables": [
                    {"key": "region", "value": "eu-west-1"},
                    {"key": "api_password", "value": "***"},
                ],
                "total_entries": 2,
            },
            ("GET", "/connections"): {
                "connections": [{"connection_id": "warehouse", "conn_type": "postgres", "password": "***"}],
                "total_entries": 1,
            },
            ("GET", "/dags"): {"dags": [{"dag_id": "hourly", "is_paused": False}], "total_entries": 1},
            ("POST", "/dags/~/dagRuns/list"): {"dag_runs": RUNS, "total_entries": len(RUNS)},
            ("POST", "/dags/~/dagRuns/~/taskInstances/list"): {
                "task_instances": TASK_INSTANCES,
                "total_entries": len(TASK_INSTANCES),
            },
        }
        return {"RestApiStatusCode": 200, "RestApiResponse": answers[(method, path)]}


@pytest.fixture
def aws() -> Iterator[tuple[AwsClients, MwaaStub]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(
            Bucket=BUCKET,
            CreateBucketConfiguration={"LocationConstraint": REGION},
            ObjectLockEnabledForBucket=True,
        )
        s3.put_object_lock_configuration(
            Bucket=BUCKET,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
            },
        )
        secrets = boto3.client("secretsmanager", region_name=REGION)
        secrets.create_secret(Name="airflow/connections/warehouse_ro", SecretString="postgres://h/db")
        mwaa = MwaaStub()

        def factory(service: str) -> Any:
            return mwaa if service == "mwaa" else boto3.client(service, region_name=REGION)

        yield AwsClients(AwsSettings(region=REGION), factory=factory), mwaa


def _settings(**changes: Any) -> ScheduledBackupSettings:
    values: dict[str, Any] = {
        "environment_name": ENVIRONMENT,
        "bucket": BUCKET,
        "window_days": 2,
        "xcom": False,
    }
    return ScheduledBackupSettings(**{**values, **changes})


def test_a_run_writes_a_verified_archive_under_the_environment_and_its_time(aws, fake_time: FakeTime) -> None:
    clients, mwaa = aws
    result = scheduled.run(_settings(), clients, now=NOW, clock=fake_time.clock, sleep=fake_time.sleep)

    assert result["key"] == "backups/mwaa-prod/20261204T020007Z.json.gz"
    stored = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=result["key"])
    assert stored["VersionId"] == result["version_id"]
    assert stored["ObjectLockMode"] == "GOVERNANCE"  # the bucket's default retention applied
    body = stored["Body"].read()
    assert body[:2] == b"\x1f\x8b" and len(body) == result["bytes"]
    restored = archive.loads(body, source=result["key"])  # checksums verified
    assert restored.environment == {"name": ENVIRONMENT, "transport": "rest-api", "environment": ENVIRONMENT}
    assert [r["dag_run_id"] for r in restored.items("dag_runs")] == [RUNS[0]["dag_run_id"]]
    assert restored.items("dag_runs")[0]["task_instances"][0]["task_id"] == "extract"
    # The secret-backed connection is listed by name, never copied.
    assert {"connection_id": "warehouse_ro", "source": "secrets-backend"} in restored.items("connections")
    assert not restored.has("xcoms")
    assert result["sections"]["dag_runs"] == 1 and result["requests"] == len(mwaa.calls)


def test_the_window_ends_at_the_run_and_reaches_back_window_days(aws, fake_time: FakeTime) -> None:
    clients, mwaa = aws
    scheduled.run(_settings(window_days=2), clients, now=NOW, clock=fake_time.clock, sleep=fake_time.sleep)
    (runs,) = [c for c in mwaa.calls if c["Path"] == "/dags/~/dagRuns/list"]
    assert runs["Body"]["run_after_gte"] == "2026-12-02T02:00:07+00:00"
    assert runs["Body"]["run_after_lt"] == NOW.isoformat()
    # Every path fits InvokeRestApi's 64 characters, and nothing is written to Airflow.
    assert all(len(c["Path"]) <= 64 and c["Method"] in ("GET", "POST") for c in mwaa.calls)
    assert {c["Path"] for c in mwaa.calls if c["Method"] == "POST"} == {
        "/dags/~/dagRuns/list",
        "/dags/~/dagRuns/~/taskInstances/list",
    }


def test_the_handler_reads_its_settings_from_the_environment(
    aws, monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime
) -> None:
    clients, _ = aws
    monkeypatch.setenv("MWAA_ENVIRONMENT_NAME", ENVIRONMENT)
    monkeypatch.setenv("BACKUP_BUCKET", BUCKET)
    monkeypatch.setenv("BACKUP_WINDOW_DAYS", "30")
    monkeypatch.setenv("BACKUP_XCOM", "false")
    monkeypatch.setattr(scheduled, "AwsClients", lambda settings: clients)
    monkeypatch.setattr(scheduled.time, "sleep", fake_time.sleep)
    result = scheduled.handler({}, None)
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(
        Bucket=BUCKET, Prefix="backups/mwaa-prod/"
    )
    assert [o["Key"] for o in listed["Contents"]] == [result["key"]]
    data = json.loads(
        gzip.decompress(
            boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=result["key"])["Body"].read()
        )
    )
    assert data["window"]["since"] is not None and data["airflow_version"] == "3.3.1"


def test_a_failed_call_raises_so_that_lambda_counts_an_error(aws, fake_time: FakeTime) -> None:
    clients, mwaa = aws

    def refuse(**params: Any) -> dict[str, Any]:
        return {"RestApiStatusCode": 403, "RestApiResponse": {"detail": "Forbidden"}}

    mwaa.invoke_rest_api = refuse  # type: ignore[method-assign]
    with pytest.raises(ApiError, match="Forbidden"):
        scheduled.run(_settings(), clients, now=NOW, clock=fake_time.clock, sleep=fake_time.sleep)
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET)
    assert listed["KeyCount"] == 0  # no partial archive


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BACKUP_BUCKET": BUCKET, "BACKUP_WINDOW_DAYS": "30"}, "MWAA_ENVIRONMENT_NAME"),
        ({"MWAA_ENVIRONMENT_NAME": ENVIRONMENT, "BACKUP_BUCKET": BUCKET, "BACKUP_WINDOW_DAYS": "a month"},
         "BACKUP_WINDOW_DAYS: got 'a month'; expected a number of days"),
    ],
)  # fmt: skip
def test_missing_or_bad_settings_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        ScheduledBackupSettings.from_environ(environ)
