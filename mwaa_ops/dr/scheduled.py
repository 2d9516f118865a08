"""The scheduled backup: a Lambda function that runs :func:`mwaa_ops.dr.backup.backup` through
InvokeRestApi and writes the archive to the backup bucket.

Why a function invoked by EventBridge Scheduler, and not a DAG of the platform:

- Airflow 3 tasks have no access to the metadata database (they talk to the Task Execution
  API), so a task could read it only through the same REST API, with credentials of its own;
- a backup that runs inside the environment it protects stops when that environment's
  scheduler or workers do, which is when the newest backup matters most; the scheduler and the
  function run outside it, and the missing-backup alarm sees a stopped environment as missing
  backups;
- the function needs no network of the environment: InvokeRestApi is an AWS API call (the
  botocore model sends it to the ``env.`` endpoint of MWAA, authorized by IAM on the Airflow
  role ``arn:<partition>:airflow:<region>:<account>:role/<environment>/<role>``).

The function reads its settings from environment variables (set by
``mwaa_constructs.backup.ScheduledBackup``), writes one gzip archive under
``backups/<environment>/<UTC time>.json.gz`` and returns a summary. Any failure raises, so that
Lambda counts an error, which the backup-failed alarm watches; the missing-backup alarm counts
invocations that did not fail.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mwaa_ops.aws import AwsClients, AwsSettings
from mwaa_ops.dr import archive
from mwaa_ops.dr.backup import BackupOptions, backup, list_secrets_backend
from mwaa_ops.dr.client import AirflowClient
from mwaa_ops.dr.transport import RestApiTransport
from mwaa_rules import backup as backup_rules

ENVIRONMENT_NAME = "MWAA_ENVIRONMENT_NAME"
BUCKET = "BACKUP_BUCKET"
WINDOW_DAYS = "BACKUP_WINDOW_DAYS"
XCOM = "BACKUP_XCOM"


class SettingsError(ValueError):
    """The function's environment variables are missing or malformed (a deployment defect)."""


@dataclass(frozen=True, kw_only=True)
class ScheduledBackupSettings:
    environment_name: str
    bucket: str
    window_days: int
    xcom: bool

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ScheduledBackupSettings:
        missing = [name for name in (ENVIRONMENT_NAME, BUCKET, WINDOW_DAYS) if not environ.get(name)]
        if missing:
            raise SettingsError(f"environment variables not set: {', '.join(missing)}")
        try:
            window = int(environ[WINDOW_DAYS])
        except ValueError:
            raise SettingsError(
                f"{WINDOW_DAYS}: got {environ[WINDOW_DAYS]!r}; expected a number of days"
            ) from None
        return cls(
            environment_name=environ[ENVIRONMENT_NAME],
            bucket=environ[BUCKET],
            window_days=window,
            xcom=environ.get(XCOM, "false").lower() == "true",
        )


def run(
    settings: ScheduledBackupSettings,
    clients: AwsClients,
    *,
    now: datetime,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Back up the environment and store the archive; returns what was written."""
    name = settings.environment_name
    if not hasattr(clients.client("mwaa"), "invoke_rest_api"):
        # The SDK the Lambda runtime bundles varies by runtime version and region (Lambda
        # developer guide, "Runtime-included SDK versions"); an older one lacks InvokeRestApi.
        import botocore

        raise RuntimeError(
            f"the function's botocore {botocore.__version__} has no mwaa InvokeRestApi; "
            "update the function's runtime, or add a newer boto3 to its code"
        )
    transport = RestApiTransport(clients, name, clock=clock, sleep=sleep)
    data = backup(
        AirflowClient(transport),
        environment={"name": name, **transport.describe()},
        options=BackupOptions(since=now - timedelta(days=settings.window_days), xcom=settings.xcom),
        created_at=now,
        secrets=list_secrets_backend(clients, name),
    )
    body = archive.dumps(data, compress=True)
    key = backup_rules.backup_key(name, now.astimezone(UTC).strftime(backup_rules.KEY_TIME_FORMAT))
    put = clients.client("s3").put_object(
        Bucket=settings.bucket,
        Key=key,
        Body=body,
        ContentType="application/gzip",
        # Buckets with a default object lock retention refuse writes without an integrity checksum.
        ChecksumAlgorithm="SHA256",
    )
    return {
        "bucket": settings.bucket,
        "key": key,
        "version_id": put.get("VersionId"),
        "bytes": len(body),
        "airflow_version": data["airflow_version"],
        "sections": {section: body_["count"] for section, body_ in data["sections"].items()},
        "notes": data["notes"],
        "requests": transport.calls,
        "throttled": transport.throttled,
    }


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """Lambda entry point (``mwaa_ops.dr.scheduled.handler``). ``event`` is the Scheduler's
    input and is not read: every run backs up the window that ends at its own start."""
    settings = ScheduledBackupSettings.from_environ(os.environ)
    result = run(settings, AwsClients(AwsSettings()), now=datetime.now(UTC))
    where = f"s3://{result['bucket']}/{result['key']}"
    print(f"backup of {settings.environment_name}: {where} ({result['bytes']} bytes)")
    return result
