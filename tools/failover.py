"""Fail over to a standby profile: deploy it, restore its primary's newest replicated backup into
it, run the smoke check.

    make failover PROFILE=<standby> [DRY_RUN=1] [ALLOW_GAPS=1] [KEEP_PAUSED=1]
    python -m tools.failover <standby> [--dry-run] [--key KEY] [--allow-gaps] [--keep-paused]
                             [--aws-profile NAME] [--json]

The primary is the profile of cdk.json whose ``standby`` names ``<standby>`` (the profile model
checks that the standby runs in the primary's ``backup.replica_region``). The steps:

1. ``python -m tools.check_dags --profile <standby>``, then ``cdk deploy --all -c
   profile=<standby>`` (what ``make deploy`` runs; with ``--dry-run`` both are printed only);
2. the newest archive under ``backups/<primary environment>/`` of the primary's replica bucket in
   the standby's region (``airflow-<primary>-backups-<account>-<standby region>``, the
   deterministic name of ``mwaa_rules.backup``; keys sort by time), or ``--key``; it is
   downloaded and verified (format and checksums) before anything is restored;
3. ``mwaa-ops restore <archive> --profile <standby>`` (``--dry-run`` prints the plan);
4. ``mwaa-ops smoke --profile <standby>`` (not with ``--dry-run``).

Each step's duration is printed: the sum is this failover's measured recovery time. Exit codes:
0 done; 1 the restore reported errors or the smoke check failed (as ``mwaa-ops``); 2 a usage
problem (no such standby, no backup); 3 an AWS error, or a deployment that failed.

``--profile`` here is a cdk.json profile, not an AWS named profile: that is ``--aws-profile``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from mwaa_ops.aws import AwsClients, AwsSettings
from mwaa_ops.dr import archive
from mwaa_ops.errors import ExitCode
from mwaa_rules import backup as backup_rules
from platform_config import Profile, ProfileError, load_profile, read_cdk_profiles

ROOT = Path(__file__).resolve().parents[1]

Runner = Callable[[Sequence[str]], int]


class FailoverError(Exception):
    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


def _run_command(argv: Sequence[str]) -> int:
    return subprocess.run(list(argv), cwd=ROOT, check=False).returncode


def _run_mwaa_ops(argv: Sequence[str]) -> int:
    from mwaa_ops.cli import main

    return main(list(argv))


def _exit_code(code: int) -> ExitCode:
    """mwaa-ops' exit code as this tool's (an interrupt or unknown code: failed)."""
    return ExitCode(code) if code in {c.value for c in ExitCode} else ExitCode.FAILED


@dataclass(frozen=True, kw_only=True)
class Pair:
    primary: Profile
    standby: Profile


def find_pair(profiles: Mapping[str, Any], standby_name: str) -> Pair:
    """The standby profile and the one primary whose ``standby`` names it, both validated."""
    try:
        standby = load_profile(profiles, standby_name)
        primaries = [
            load_profile(profiles, name)
            for name, raw in profiles.items()
            if isinstance(raw, Mapping) and raw.get("standby") == standby_name
        ]
    except ProfileError as error:
        raise FailoverError(str(error), ExitCode.USAGE) from None
    if len(primaries) != 1:
        named = ", ".join(f"'{p.name}'" for p in primaries) or "none"
        raise FailoverError(
            f"standby '{standby_name}': expected one profile of cdk.json with \"standby\": "
            f'"{standby_name}", found {named}',
            ExitCode.USAGE,
        )
    return Pair(primary=primaries[0], standby=standby)


@dataclass
class Failover:
    """The steps of one failover; every outside effect goes through ``clients`` (S3 and STS in
    the standby's region), ``run_command`` (check_dags, cdk deploy) and ``run_mwaa_ops``."""

    pair: Pair
    clients: AwsClients
    cdk_json: Path
    workdir: Path
    dry_run: bool = False
    key: str | None = None
    allow_gaps: bool = False
    keep_paused: bool = False
    aws_profile: str | None = None
    run_command: Runner = _run_command
    run_mwaa_ops: Runner = _run_mwaa_ops
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    progress: TextIO = field(default_factory=lambda: sys.stderr)
    steps: list[dict[str, Any]] = field(default_factory=list)

    def say(self, line: str) -> None:
        print(line, file=self.progress, flush=True)

    def _timed(self, name: str, action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        self.say(f"== {name}")
        start = self.clock()
        outcome = action()
        outcome = {"step": name, "seconds": round(self.clock() - start, 1), **outcome}
        self.steps.append(outcome)
        self.say(f"   {name}: {outcome['seconds']} s")
        return outcome

    # -- the steps --------------------------------------------------------------------------------

    def deploy(self) -> dict[str, Any]:
        name = self.pair.standby.name
        commands = [
            [sys.executable, "-m", "tools.check_dags", "--profile", name],
            [
                "npx",
                "--no-install",
                "cdk",
                "deploy",
                "--all",
                "-c",
                f"profile={name}",
                "--require-approval",
                "never",
            ],
        ]
        for command in commands:
            self.say("   $ " + " ".join(command))
            if self.dry_run:
                continue
            code = self.run_command(command)
            if code != 0:
                raise FailoverError(f"'{' '.join(command[:4])}' exited with {code}", ExitCode.AWS)
        return {"commands": [" ".join(c) for c in commands], "ran": not self.dry_run}

    def replica_bucket(self) -> str:
        standby, primary = self.pair.standby, self.pair.primary
        account = primary.account or self._account()
        assert standby.region is not None  # a standby has a region (profile model)
        return backup_rules.bucket_name(
            primary.environment_name, "backups", account=account, region=standby.region
        )

    def _account(self) -> str:
        try:
            return str(self.clients.client("sts").get_caller_identity()["Account"])
        except (BotoCoreError, ClientError) as error:
            raise FailoverError(
                f"the account of the AWS credentials is unknown: {error}", ExitCode.AWS
            ) from None

    def newest_backup(self) -> dict[str, Any]:
        bucket = self.replica_bucket()
        prefix = backup_rules.backup_prefix(self.pair.primary.environment_name)
        s3 = self.clients.client("s3")
        try:
            if self.key is None:
                keys: list[str] = []
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                    keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".json.gz")]
                if not keys:
                    raise FailoverError(
                        f"no backup under s3://{bucket}/{prefix}: is the primary's backup on and "
                        "replicating?",
                        ExitCode.USAGE,
                    )
                self.key = max(keys)  # keys hold their UTC time: the greatest is the newest
            obj = s3.get_object(Bucket=bucket, Key=self.key)
            body = obj["Body"].read()
        except (BotoCoreError, ClientError) as error:
            raise FailoverError(f"s3://{bucket}/{self.key or prefix}: {error}", ExitCode.AWS) from None
        verified = archive.loads(body, source=f"s3://{bucket}/{self.key}")  # ArchiveError: damaged
        path = self.workdir / Path(self.key).name
        path.write_bytes(body)
        created = datetime.fromisoformat(verified.created_at)
        age = (self.now() - created).total_seconds()
        self.say(f"   s3://{bucket}/{self.key}: created {verified.created_at} ({age / 3600:.1f} h ago)")
        return {
            "bucket": bucket,
            "key": self.key,
            "replication_status": obj.get("ReplicationStatus"),
            "created_at": verified.created_at,
            "age_seconds": round(age),
            "archive": str(path),
        }

    def _ops(self, *argv: str) -> int:
        where = ["--profile", self.pair.standby.name, "--cdk-json", str(self.cdk_json)]
        if self.aws_profile:
            where += ["--aws-profile", self.aws_profile]
        command = [*argv, *where]
        self.say("   $ mwaa-ops " + " ".join(command))
        return self.run_mwaa_ops(command)

    def restore(self, path: str) -> dict[str, Any]:
        flags = [
            *(["--dry-run"] if self.dry_run else []),
            *(["--allow-gaps"] if self.allow_gaps else []),
            *(["--keep-paused"] if self.keep_paused else []),
        ]
        code = self._ops("restore", path, *flags)
        if code != 0:
            raise FailoverError(f"mwaa-ops restore exited with {code}", _exit_code(code))
        return {"exit_code": code}

    def smoke(self) -> dict[str, Any]:
        code = self._ops("smoke")
        if code != 0:
            raise FailoverError(f"mwaa-ops smoke exited with {code}", _exit_code(code))
        return {"exit_code": code}

    def run(self) -> dict[str, Any]:
        pair = self.pair
        self.say(
            f"failover of {pair.primary.name} ({pair.primary.environment_name}, {pair.primary.region}) "
            f"to {pair.standby.name} ({pair.standby.environment_name}, {pair.standby.region})"
            + (" -- dry run" if self.dry_run else "")
        )
        self._timed("deploy", self.deploy)
        backup = self._timed("backup", self.newest_backup)
        self._timed("restore", lambda: self.restore(backup["archive"]))
        if not self.dry_run:
            self._timed("smoke", self.smoke)
        return {
            "primary": pair.primary.name,
            "standby": pair.standby.name,
            "dry_run": self.dry_run,
            "backup": {k: v for k, v in backup.items() if k != "archive"},
            "steps": self.steps,
            "seconds": round(sum(step["seconds"] for step in self.steps), 1),
        }


def main(
    argv: Sequence[str] | None = None,
    *,
    clients: Callable[[AwsSettings], AwsClients] = AwsClients,
    run_command: Runner = _run_command,
    run_mwaa_ops: Runner = _run_mwaa_ops,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog="python -m tools.failover",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("standby", help="the standby profile of cdk.json (not an AWS named profile)")
    parser.add_argument(
        "--dry-run", action="store_true", help="deploy nothing, plan the restore, no smoke check"
    )
    parser.add_argument("--key", help="restore this archive of the replica bucket instead of the newest")
    parser.add_argument("--allow-gaps", action="store_true", help="passed to mwaa-ops restore")
    parser.add_argument("--keep-paused", action="store_true", help="passed to mwaa-ops restore")
    parser.add_argument("--aws-profile", metavar="NAME", help="AWS named profile (default: AWS_PROFILE)")
    parser.add_argument("--cdk-json", type=Path, default=ROOT / "cdk.json", help="default: the repository's")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    args = parser.parse_args(argv)
    try:
        pair = find_pair(read_cdk_profiles(args.cdk_json), args.standby)
        with tempfile.TemporaryDirectory(prefix="failover-") as workdir:
            failover = Failover(
                pair=pair,
                clients=clients(AwsSettings(aws_profile=args.aws_profile, region=pair.standby.region)),
                cdk_json=args.cdk_json,
                workdir=Path(workdir),
                dry_run=args.dry_run,
                key=args.key,
                allow_gaps=args.allow_gaps,
                keep_paused=args.keep_paused,
                aws_profile=args.aws_profile,
                run_command=run_command,
                run_mwaa_ops=run_mwaa_ops,
                progress=err,
            )
            summary = failover.run()
    except ProfileError as error:
        print(f"error: {error}", file=err)
        return ExitCode.USAGE
    except archive.ArchiveError as error:
        print(f"error: {error}", file=err)
        return ExitCode.USAGE
    except FailoverError as error:
        print(f"error: {error}", file=err)
        return error.code
    if args.json:
        print(json.dumps(summary, indent=1), file=out)
    else:
        lines = [f"{s['step']:<8} {s['seconds']:>8} s" for s in summary["steps"]]
        lines.append(f"{'total':<8} {summary['seconds']:>8} s")
        verb = "planned" if summary["dry_run"] else "restored"
        lines.append(f"{verb} {summary['backup']['key']} into {summary['standby']}")
        print("\n".join(lines), file=out)
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
