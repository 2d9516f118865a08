"""Scheduled backups and their replication (``backup`` setting): the backup bucket, the function
and its schedule, the alarms, the replica stack and the replication rules, on synthesized
templates; cdk-nag (all packs, during synth) and cfn-lint on every template."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from app import build_app
from platform_config.profile import COMPLIANCE_PACKS
from tests.infra.conftest import ROOT, TLS_ONLY_STATEMENT, actions_of, cdk_context

PRIMARY, REPLICA = "us-east-1", "us-west-2"
ALL_PACKS = {"compliance": list(COMPLIANCE_PACKS)}


def _synth(tmp: Path, name: str, changes: dict[str, Any]) -> tuple[list[cdk.Stack], Path]:
    """Synthesize the shipped profile ``name`` with ``changes``, as ``cdk synth`` would from an
    edited cdk.json; the app's cdk-nag plugin runs (an unacknowledged finding raises)."""
    context = cdk_context()
    context["profiles"][name].update(changes)
    repo = tmp / "repo"
    repo.mkdir()
    document = json.loads((ROOT / "cdk.json").read_text())
    document["context"] = context
    (repo / "cdk.json").write_text(json.dumps(document))
    outdir = tmp / "out"
    app = cdk.App(context={**context, "profile": name}, outdir=str(outdir))
    (built,) = build_app(app, cdk_json=repo / "cdk.json")
    app.synth()
    return built.stacks, outdir


def _lint(outdir: Path) -> None:
    templates = sorted(str(t) for t in outdir.glob("*.template.json"))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), *templates], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    stacks, outdir = _synth(
        tmp_path_factory.mktemp("prod"),
        "prod",
        {
            "region": PRIMARY,
            "backup": {
                "enabled": True,
                "schedule": "cron(0 2 * * ? *)",
                "retention_days": 35,
                "window_days": 14,
                "xcom": True,
                "object_lock_days": 30,
                "replica_region": REPLICA,
            },
            **ALL_PACKS,
        },
    )
    return {"stacks": {s.stack_name: s for s in stacks}, "outdir": outdir}


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    stacks, outdir = _synth(
        tmp_path_factory.mktemp("dev"),
        "dev",
        {
            "region": PRIMARY,
            "backup": {"enabled": True, "schedule": "rate(6 hours)", "replica_region": REPLICA},
        },
    )
    return {"stacks": {s.stack_name: s for s in stacks}, "outdir": outdir}


def _template(built: dict[str, Any], name: str) -> Template:
    return Template.from_stack(built["stacks"][name])


def _joined(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


def test_the_replica_stack_is_in_the_replica_region_and_deployed_first(prod: dict[str, Any]) -> None:
    stacks = prod["stacks"]
    assert list(stacks) == ["mwaa-prod-replica", "mwaa-prod-platform"]
    assert stacks["mwaa-prod-replica"].region == REPLICA and stacks["mwaa-prod-platform"].region == PRIMARY
    manifest = json.loads((prod["outdir"] / "manifest.json").read_text())
    assert "mwaa-prod-replica" in manifest["artifacts"]["mwaa-prod-platform"]["dependencies"]
    # No cross-region reference: neither template imports a value.
    for name in stacks:
        assert "Fn::ImportValue" not in json.dumps(_template(prod, name).to_json())


def test_cfn_lint_reports_nothing(prod: dict[str, Any], dev: dict[str, Any]) -> None:
    _lint(prod["outdir"])
    _lint(dev["outdir"])


def test_the_backup_bucket_is_private_encrypted_logged_locked_and_expires(prod: dict[str, Any]) -> None:
    template = _template(prod, "mwaa-prod-platform")
    (key,) = template.find_resources("AWS::KMS::Key")
    buckets = template.find_resources(
        "AWS::S3::Bucket",
        {"Properties": {"BucketName": _joined("airflow-mwaa-prod-backups-", {"Ref": "AWS::AccountId"}, "-",
                                              {"Ref": "AWS::Region"})}},
    )  # fmt: skip
    (bucket_id,) = buckets
    bucket = buckets[bucket_id]
    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate" and bucket["UpdateReplacePolicy"] == "Retain"
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {
        "KMSMasterKeyID": {"Fn::GetAtt": [key, "Arn"]},
        "SSEAlgorithm": "aws:kms",
    }
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "backup-bucket/"
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
    }
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireBackups"]["ExpirationInDays"] == 35 and rules["ExpireBackups"]["Status"] == "Enabled"
    # A deleted or overwritten archive stays recoverable as long as an archive is kept.
    noncurrent = [
        r["NoncurrentVersionExpiration"] for r in rules.values() if "NoncurrentVersionExpiration" in r
    ]
    assert noncurrent == [{"NoncurrentDays": 35}]
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": bucket_id},
            "PolicyDocument": {"Statement": Match.array_with([TLS_ONLY_STATEMENT])},
        },
    )


def test_the_function_runs_the_backup_of_mwaa_ops(prod: dict[str, Any]) -> None:
    template = _template(prod, "mwaa-prod-platform")
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "mwaa_ops.dr.scheduled.handler",
            "Runtime": "python3.12",
            "Timeout": 900,
            "ReservedConcurrentExecutions": 1,
            "Environment": {
                "Variables": {
                    "MWAA_ENVIRONMENT_NAME": "mwaa-prod",
                    "BACKUP_BUCKET": {"Ref": Match.string_like_regexp("^BackupBucket")},
                    "BACKUP_WINDOW_DAYS": "14",
                    "BACKUP_XCOM": "true",
                }
            },
        },
    )
    # A failed run is alarmed and the next one takes a whole new backup: no async retry.
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 0})


def _function_statements(template: Template) -> list[dict[str, Any]]:
    backup_role = {"Properties": {"Description": Match.string_like_regexp("^Scheduled backup")}}
    (role,) = template.find_resources("AWS::IAM::Role", backup_role)
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    return [statement for statements in policies for statement in statements]


def test_the_function_may_read_as_op_and_write_archives_but_not_delete(prod: dict[str, Any]) -> None:
    statements = _function_statements(_template(prod, "mwaa-prod-platform"))
    by_action = {action: s for s in statements for action in actions_of(s)}
    assert by_action["airflow:InvokeRestApi"]["Resource"] == _joined(
        "arn:aws:airflow:us-east-1:", {"Ref": "AWS::AccountId"}, ":role/mwaa-prod/Op"
    )
    bucket_arn, prefix = by_action["s3:PutObject"]["Resource"]["Fn::Join"][1]
    assert bucket_arn["Fn::GetAtt"][0].startswith("BackupBucket") and prefix == "/backups/mwaa-prod/*"
    granted = {action for s in statements for action in actions_of(s)}
    assert not {a for a in granted if a.startswith("s3:Delete") or a in ("s3:*", "s3:GetObject")}
    assert "s3:BypassGovernanceRetention" not in granted and "s3:PutLifecycleConfiguration" not in granted
    assert by_action["kms:GenerateDataKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    }


def test_the_schedule_invokes_the_function_with_a_role_of_its_own(prod: dict[str, Any]) -> None:
    template = _template(prod, "mwaa-prod-platform")
    handler = {"Properties": {"Handler": "mwaa_ops.dr.scheduled.handler"}}
    (function,) = template.find_resources("AWS::Lambda::Function", handler)
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "cron(0 2 * * ? *)",
            "ScheduleExpressionTimezone": "Etc/UTC",
            "State": "ENABLED",
            "Target": {
                "Arn": {"Fn::GetAtt": [function, "Arn"]},
                "RoleArn": {"Fn::GetAtt": [Match.string_like_regexp("^BackupSchedulerRole"), "Arn"]},
                "RetryPolicy": {"MaximumRetryAttempts": 2},
            },
        },
    )
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }
                    )
                ]
            }
        },
    )


def test_a_missing_backup_is_an_alarm_and_missing_data_counts_as_breaching(prod: dict[str, Any]) -> None:
    template = _template(prod, "mwaa-prod-platform")
    (topic,) = template.find_resources("AWS::SNS::Topic")
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "mwaa-prod-backup-missing",
            "TreatMissingData": "breaching",
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1,
            # A daily schedule: 24 hours and the grace hour, every one of them without a success.
            "EvaluationPeriods": 25,
            "DatapointsToAlarm": 25,
            "Metrics": Match.array_with(
                [
                    Match.object_like({"Expression": "invocations - errors", "ReturnData": True}),
                    Match.object_like(
                        {
                            "Id": "invocations",
                            "MetricStat": Match.object_like(
                                {"Metric": Match.object_like({"MetricName": "Invocations"}),
                                 "Period": 3600, "Stat": "Sum"}
                            ),
                        }
                    ),
                ]
            ),
            "AlarmActions": [{"Ref": topic}],
            "OKActions": [{"Ref": topic}],
        },
    )  # fmt: skip
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "mwaa-prod-backup-failed",
            "MetricName": "Errors",
            "Namespace": "AWS/Lambda",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": topic}],
        },
    )


def test_the_alarm_window_follows_the_schedule(dev: dict[str, Any]) -> None:
    _template(dev, "mwaa-dev-platform").has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"AlarmName": "mwaa-dev-backup-missing", "EvaluationPeriods": 7, "TreatMissingData": "breaching"},
    )


def _replication(template: Template, name_part: str) -> dict[str, Any]:
    found = [
        b["Properties"]["ReplicationConfiguration"]
        for b in template.find_resources("AWS::S3::Bucket").values()
        if name_part in json.dumps(b["Properties"].get("BucketName"))
        and "ReplicationConfiguration" in b["Properties"]
    ]
    assert len(found) == 1, name_part
    return found[0]


def test_backups_and_dag_artifacts_replicate_kms_encrypted_objects(prod: dict[str, Any]) -> None:
    template = _template(prod, "mwaa-prod-platform")
    role = _joined("arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":role/mwaa-prod-s3-replication")
    replica_key = _joined(
        "arn:aws:kms:us-west-2:", {"Ref": "AWS::AccountId"}, ":alias/mwaa/mwaa-prod-replica"
    )
    for part, destination, rtc in (
        ('"airflow-mwaa-prod-backups-"', "airflow-mwaa-prod-backups-", True),
        ('"airflow-mwaa-prod-"', "airflow-mwaa-prod-dag-replica-", False),
    ):
        configuration = _replication(template, part)
        assert configuration["Role"] == role
        (rule,) = configuration["Rules"]
        assert rule["Status"] == "Enabled" and rule["Filter"] == {"Prefix": ""}
        assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
        assert rule["DeleteMarkerReplication"] == {"Status": "Disabled"}
        target = rule["Destination"]
        assert target["Bucket"] == _joined(
            "arn:", {"Ref": "AWS::Partition"}, f":s3:::{destination}", {"Ref": "AWS::AccountId"}, "-us-west-2"
        )
        assert target["EncryptionConfiguration"] == {"ReplicaKmsKeyID": replica_key}
        assert ("ReplicationTime" in target) is rtc
        if rtc:
            assert target["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
            assert target["Metrics"] == {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}


def test_the_replica_stack_holds_the_key_buckets_and_replication_role(prod: dict[str, Any]) -> None:
    template = _template(prod, "mwaa-prod-replica")
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/mwaa/mwaa-prod-replica"})
    (key,) = template.find_resources("AWS::KMS::Key", {"Properties": {"EnableKeyRotation": True}})
    for name, locked in (("airflow-mwaa-prod-backups-", True), ("airflow-mwaa-prod-dag-replica-", False)):
        buckets = template.find_resources(
            "AWS::S3::Bucket",
            {"Properties": {"BucketName": _joined(name, {"Ref": "AWS::AccountId"}, "-us-west-2")}},
        )
        ((_, bucket),) = buckets.items()
        assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {"Fn::GetAtt": [key, "Arn"]}
        assert ("ObjectLockConfiguration" in props) is locked
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": "mwaa-prod-s3-replication",
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "s3.amazonaws.com"},
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }
                    )
                ]
            },
        },
    )
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["DecryptSourceObjects"]["Condition"]["StringEquals"] == {
        "kms:ViaService": "s3.us-east-1.amazonaws.com"
    }
    assert statements["EncryptReplicas"]["Resource"] == {"Fn::GetAtt": [key, "Arn"]}
    # Object lock is replicated: the role reads the source's retention and legal holds.
    assert {"s3:GetObjectRetention", "s3:GetObjectLegalHold"} <= set(
        statements["ReadSourceVersions"]["Action"]
    )
    assert "s3:ReplicateDelete" not in json.dumps(statements)


def test_without_a_customer_key_there_is_no_replica_key_and_no_kms_rule(dev: dict[str, Any]) -> None:
    replica = _template(dev, "mwaa-dev-replica")
    replica.resource_count_is("AWS::KMS::Key", 0)
    for bucket in replica.find_resources("AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Delete"
    platform = _template(dev, "mwaa-dev-platform")
    configuration = _replication(platform, '"airflow-mwaa-dev-backups-"')
    (rule,) = configuration["Rules"]
    assert "SourceSelectionCriteria" not in rule and "EncryptionConfiguration" not in rule["Destination"]


def test_the_shipped_prod_profile_backs_up_daily_without_a_replica() -> None:
    from platform_config import load_profile

    profile = load_profile(cdk_context()["profiles"], "prod")
    assert profile.backup.enabled and profile.backup.schedule == "cron(0 2 * * ? *)"
    assert profile.replica_stack_name is None and profile.stack_names == ("mwaa-prod-platform",)


def test_the_function_code_is_deterministic_and_runs_from_its_zip(tmp_path: Path) -> None:
    from mwaa_constructs.backup import function_code
    from stacks.backup import FUNCTION_PACKAGES, PACKAGE_ROOT

    first, second = (function_code(PACKAGE_ROOT, FUNCTION_PACKAGES) for _ in range(2))
    assert first.path == second.path and Path(first.path).read_bytes() == Path(second.path).read_bytes()
    # Only the zip and boto3 (which the Lambda runtime provides): the handler imports from it.
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import mwaa_ops.dr.scheduled as s; "
        "assert s.__file__.startswith(sys.argv[1]), s.__file__; print(s.handler.__module__)"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", script, first.path],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "mwaa_ops.dr.scheduled"


def test_the_first_backup_runs_once_the_environment_exists_without_blocking_the_deploy(
    prod: dict[str, Any],
) -> None:
    template = _template(prod, "mwaa-prod-platform")
    (function_id,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "mwaa_ops.dr.scheduled.handler"}}
    )
    (environment_id,) = template.find_resources("AWS::MWAA::Environment")
    (first_id, first), *others = [
        (logical_id, resource)
        for logical_id, resource in template.find_resources("Custom::AWS").items()
        if logical_id.startswith("BackupFirstBackup")
    ]
    assert others == []
    # CloudFormation completes the environment's create when it is available: only then.
    assert environment_id in first["DependsOn"]
    create = json.dumps(template.to_json()["Resources"][first_id]["Properties"]["Create"])
    assert '"action":"invoke"' in create.replace('\\"', '"').replace(" ", "")
    assert '"InvocationType":"Event"' in create.replace('\\"', '"').replace(" ", "")
    assert function_id in create  # the function's name, by reference
    assert "Update" not in first["Properties"] and "Delete" not in first["Properties"]
    # Its handler may invoke the backup function, nothing else.
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if policy["Properties"]["PolicyName"].startswith("BackupFirstBackup")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [function_id, "Arn"]},
        }
    ]
