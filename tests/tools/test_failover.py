"""``make failover`` (tools/failover.py) offline: the replica bucket in moto's S3, the deploy
commands and mwaa-ops recorded instead of run."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mwaa_ops.aws import AwsClients, AwsSettings
from mwaa_ops.dr import archive
from tools import failover

ACCOUNT = "123456789012"  # moto's account
BUCKET = f"airflow-mwaa-prod-backups-{ACCOUNT}-us-west-2"
PROFILES = {
    "prod": {
        "environment_name": "mwaa-prod",
        "region": "us-east-1",
        "network": {"vpc_cidr": "10.10.0.0/16"},
        "backup": {"enabled": True, "replica_region": "us-west-2"},
        "standby": "prod-dr",
    },
    "prod-dr": {
        "environment_name": "mwaa-prod-dr",
        "region": "us-west-2",
        "network": {"vpc_cidr": "10.20.0.0/16"},
    },
}


def _archive(created: datetime, environment: str = "mwaa-prod") -> bytes:
    data = archive.build(
        sections={"pools": [{"name": "default_pool", "slots": 128}], "dag_runs": []},
        airflow_version="3.3.1",
        environment={"name": environment, "transport": "rest-api"},
        created_at=created,
        window={"since": None, "until": created.isoformat()},
        options={"xcom": False},
        notes=[],
    )
    return archive.dumps(data, compress=True)


class Recorder:
    """Records the commands and mwaa-ops calls, answering each with a chosen exit code."""

    def __init__(self, codes: dict[str, int] | None = None) -> None:
        self.commands: list[list[str]] = []
        self.ops: list[list[str]] = []
        self.archives: list[bytes] = []
        self.codes = codes or {}

    def command(self, argv: Sequence[str]) -> int:
        self.commands.append(list(argv))
        return self.codes.get("deploy", 0) if "deploy" in argv else 0

    def mwaa_ops(self, argv: Sequence[str]) -> int:
        self.ops.append(list(argv))
        if argv[0] == "restore":
            self.archives.append(Path(argv[1]).read_bytes())  # the file exists while it runs
        return self.codes.get(argv[0], 0)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"context": {"profiles": PROFILES}}))
    return path


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-west-2")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        yield client


def _main(repo: Path, recorder: Recorder, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def clients(settings: AwsSettings) -> AwsClients:
        assert settings.region == "us-west-2"  # the standby's region, where the replicas are
        return AwsClients(
            settings, factory=lambda service: boto3.client(service, region_name=settings.region)
        )

    code = failover.main(
        ["prod-dr", "--cdk-json", str(repo), *argv],
        clients=clients,
        run_command=recorder.command,
        run_mwaa_ops=recorder.mwaa_ops,
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_failover_deploys_restores_the_newest_replica_and_smoke_checks(repo: Path, s3: Any) -> None:
    older, newer = datetime(2026, 12, 3, 2, tzinfo=UTC), datetime(2026, 12, 4, 2, tzinfo=UTC)
    s3.put_object(Bucket=BUCKET, Key="backups/mwaa-prod/20261203T020000Z.json.gz", Body=_archive(older))
    s3.put_object(Bucket=BUCKET, Key="backups/mwaa-prod/20261204T020000Z.json.gz", Body=_archive(newer))
    s3.put_object(Bucket=BUCKET, Key="backups/mwaa-prod-other/20261205T020000Z.json.gz", Body=b"x")
    recorder = Recorder()

    code, out, err = _main(repo, recorder, "--json")

    assert code == 0, err
    assert recorder.commands[0][1:] == ["-m", "tools.check_dags", "--profile", "prod-dr"]
    assert " ".join(recorder.commands[1]) == (
        "npx --no-install cdk deploy --all -c profile=prod-dr --require-approval never"
    )
    where = ["--profile", "prod-dr", "--cdk-json", str(repo)]
    (restore, smoke) = recorder.ops
    assert (
        restore[0] == "restore" and restore[1].endswith("20261204T020000Z.json.gz") and restore[2:] == where
    )
    assert smoke == ["smoke", *where]
    assert archive.loads(recorder.archives[0], source="restored").created_at == newer.isoformat()
    summary = json.loads(out)
    assert summary["backup"]["key"] == "backups/mwaa-prod/20261204T020000Z.json.gz"
    assert summary["backup"]["bucket"] == BUCKET
    assert [s["step"] for s in summary["steps"]] == ["deploy", "backup", "restore", "smoke"]


def test_a_dry_run_deploys_nothing_plans_the_restore_and_skips_the_smoke_check(repo: Path, s3: Any) -> None:
    s3.put_object(
        Bucket=BUCKET,
        Key="backups/mwaa-prod/20261204T020000Z.json.gz",
        Body=_archive(datetime(2026, 12, 4, tzinfo=UTC)),
    )
    recorder = Recorder()

    code, out, err = _main(repo, recorder, "--dry-run", "--allow-gaps")

    assert code == 0, err
    assert recorder.commands == []
    assert "$ npx --no-install cdk deploy --all -c profile=prod-dr" in err
    (restore,) = recorder.ops
    assert restore[2:4] == ["--dry-run", "--allow-gaps"]
    assert out.splitlines()[-1] == "planned backups/mwaa-prod/20261204T020000Z.json.gz into prod-dr"


def test_a_named_key_is_restored_instead_of_the_newest(repo: Path, s3: Any) -> None:
    for day in (3, 4):
        key = f"backups/mwaa-prod/202612{day:02d}T020000Z.json.gz"
        s3.put_object(Bucket=BUCKET, Key=key, Body=_archive(datetime(2026, 12, day, 2, tzinfo=UTC)))
    recorder = Recorder()
    code, _, err = _main(repo, recorder, "--key", "backups/mwaa-prod/20261203T020000Z.json.gz")
    assert code == 0, err
    assert recorder.ops[0][1].endswith("20261203T020000Z.json.gz")


def test_no_replicated_backup_stops_before_any_restore(repo: Path, s3: Any) -> None:
    recorder = Recorder()
    code, _, err = _main(repo, recorder)
    assert code == 2
    assert f"error: no backup under s3://{BUCKET}/backups/mwaa-prod/" in err
    assert recorder.ops == []


def test_a_damaged_archive_is_refused_before_the_restore(repo: Path, s3: Any) -> None:
    damaged = bytearray(_archive(datetime(2026, 12, 4, tzinfo=UTC)))
    damaged[-12] ^= 0xFF
    s3.put_object(Bucket=BUCKET, Key="backups/mwaa-prod/20261204T020000Z.json.gz", Body=bytes(damaged))
    recorder = Recorder()
    code, _, err = _main(repo, recorder)
    assert code == 2 and "error: s3://" in err
    assert recorder.ops == []


def test_a_failed_deploy_or_restore_stops_the_failover_with_its_code(repo: Path, s3: Any) -> None:
    s3.put_object(
        Bucket=BUCKET,
        Key="backups/mwaa-prod/20261204T020000Z.json.gz",
        Body=_archive(datetime(2026, 12, 4, tzinfo=UTC)),
    )
    deploy_failed = Recorder({"deploy": 1})
    code, _, err = _main(repo, deploy_failed)
    assert code == 3 and "exited with 1" in err and deploy_failed.ops == []

    restore_failed = Recorder({"restore": 1})
    code, _, err = _main(repo, restore_failed)
    assert code == 1 and "mwaa-ops restore exited with 1" in err
    assert [o[0] for o in restore_failed.ops] == ["restore"]  # no smoke check after a failed restore


def test_a_profile_no_primary_names_as_standby_is_refused(tmp_path: Path) -> None:
    profiles = {**PROFILES, "prod": {k: v for k, v in PROFILES["prod"].items() if k != "standby"}}
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"context": {"profiles": profiles}}))
    recorder = Recorder()
    code, _, err = _main(path, recorder)
    assert code == 2
    assert (
        'standby \'prod-dr\': expected one profile of cdk.json with "standby": "prod-dr", found none' in err
    )
    assert recorder.commands == [] and recorder.ops == []


def test_make_failover_passes_the_standby_and_the_options() -> None:
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    root = Path(failover.__file__).resolve().parents[1]

    def dry(*args: str) -> list[str]:
        result = subprocess.run(
            ["make", "--no-print-directory", "-n", "failover", *args],
            cwd=root, capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        return [line for line in result.stdout.splitlines() if "tools.failover" in line]

    assert dry("PROFILE=prod-dr", "DRY_RUN=1", "ALLOW_GAPS=1") == [
        'python -m tools.failover "prod-dr" --dry-run --allow-gaps'
    ]
    assert dry("PROFILE=prod-dr") == ['python -m tools.failover "prod-dr"']
