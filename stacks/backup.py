"""A profile's scheduled backups (``backup`` setting): the backup bucket, schedule, function and
alarms in the platform stack, and, with ``backup.replica_region``, the replica stack of that
region and the replication rules of the backup bucket and the DAG bucket.

The two stacks share no CloudFormation reference (exports work within one region only): each
names the other's buckets, key alias and role by the deterministic names of
``mwaa_rules.backup``, and the platform stack depends on the replica stack, so that the replica
buckets and the replication role exist before the source buckets' replication rules name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from mwaa_constructs.backup import BackupBucket, ReplicaStorage, ScheduledBackup, function_code, replicate
from mwaa_constructs.dag_bucket import bucket_name_part
from mwaa_constructs.hygiene import drop_redundant_depends_on
from mwaa_constructs.log_groups import retention_days
from mwaa_rules import backup as backup_rules
from platform_config import Profile
from stacks.base import LookupFreeStack
from stacks.platform_stack import MwaaPlatformStack

# The packages the function's code is built from (mwaa_ops.dr and what it imports), and where.
FUNCTION_PACKAGES = ("mwaa_ops", "mwaa_rules")
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def _removal_policy(profile: Profile) -> cdk.RemovalPolicy:
    return (
        cdk.RemovalPolicy.DESTROY
        if profile.removal_policy == "destroy"
        else cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
    )


def dag_bucket_name(profile: Profile, region: str) -> str:
    """The DAG bucket's name (``DagBucket``'s rule) in ``region``, for the replica stack."""
    return f"airflow-{bucket_name_part(profile.environment_name)}-{cdk.Aws.ACCOUNT_ID}-{region}"


class ReplicaStack(LookupFreeStack):
    """The replica region's stack of a profile: :class:`~mwaa_constructs.backup.ReplicaStorage`."""

    def __init__(self, scope: Construct, id: str, *, profile: Profile, **kwargs: object) -> None:
        super().__init__(scope, id, termination_protection=profile.termination_protection, **kwargs)  # type: ignore[arg-type]
        assert profile.region is not None and profile.backup.replica_region is not None
        self.storage = ReplicaStorage(
            self,
            "Replica",
            environment_name=profile.environment_name,
            source_region=profile.region,
            source_key=profile.encryption == "customer_managed",
            dag_bucket_name=dag_bucket_name(profile, profile.region),
            retention_days=profile.backup.retention_days,
            noncurrent_version_expiration=cdk.Duration.days(profile.noncurrent_version_expiration_days),
            object_lock_days=profile.backup.object_lock_days,
            removal_policy=_removal_policy(profile),
        )
        for tag_key, tag_value in sorted(profile.tags.items()):
            cdk.Tags.of(self).add(tag_key, tag_value)
        cdk.CfnOutput(self, "BackupReplicaBucketName", value=self.storage.backup_bucket.bucket.bucket_name)
        cdk.CfnOutput(self, "DagReplicaBucketName", value=self.storage.dag_bucket.bucket.bucket_name)
        drop_redundant_depends_on(self)


@dataclass(frozen=True)
class ProfileBackup:
    """What :func:`add_backup` created."""

    bucket: BackupBucket
    scheduled: ScheduledBackup
    replica: ReplicaStack | None


def add_backup(scope: Construct, platform: MwaaPlatformStack, profile: Profile) -> ProfileBackup:
    """Add the profile's backups to ``platform`` (and its replica stack to ``scope``, the app or
    stage of the platform). The profile model guarantees a classic environment and, with a
    replica region, a region of the profile's own."""
    settings = profile.backup
    environment, dag_bucket = platform.airflow_environment, platform.dag_bucket
    assert environment is not None and dag_bucket is not None and platform.monitoring is not None
    removal_policy = _removal_policy(profile)
    bucket = BackupBucket(
        platform,
        "BackupBucket",
        environment_name=profile.environment_name,
        retention_days=settings.retention_days,
        encryption_key=platform.key,
        object_lock_days=settings.object_lock_days,
        removal_policy=removal_policy,
    )
    scheduled = ScheduledBackup(
        platform,
        "Backup",
        environment=environment,
        bucket=bucket.bucket,
        # The platform's own code, from this package, whichever repository the artifacts come from.
        code=function_code(PACKAGE_ROOT, FUNCTION_PACKAGES),
        schedule=settings.schedule,
        window_days=settings.window_days,
        xcom=settings.xcom,
        topic=platform.monitoring.topic,
        log_retention=retention_days(profile.log_retention_days),
        log_key=platform.key,
        removal_policy=removal_policy,
    )
    cdk.CfnOutput(platform, "BackupBucketName", value=bucket.bucket.bucket_name)
    cdk.CfnOutput(platform, "BackupFunctionName", value=scheduled.function.function_name)

    replica: ReplicaStack | None = None
    region = settings.replica_region
    if region is not None:
        assert profile.replica_stack_name is not None
        replica = ReplicaStack(
            scope,
            profile.replica_stack_name,
            stack_name=profile.replica_stack_name,
            description=f"Replicas of MWAA environment {profile.environment_name}'s backups and DAG bucket "
            f"(profile {profile.name})",
            env=cdk.Environment(account=profile.account, region=region),
            profile=profile,
        )
        # The replication rules name the replica buckets and role: deploy those first.
        platform.node.add_dependency(replica)
        kms = profile.encryption == "customer_managed"
        account = cdk.Aws.ACCOUNT_ID
        replicate(
            bucket.bucket,
            environment_name=profile.environment_name,
            destination_bucket_name=backup_rules.bucket_name(
                profile.environment_name, "backups", account=account, region=region
            ),
            destination_region=region,
            encrypted_with_kms=kms,
            # The RPO of docs/disaster-recovery.md counts on S3 Replication Time Control.
            replication_time_control=True,
        )
        replicate(
            dag_bucket.bucket,
            environment_name=profile.environment_name,
            destination_bucket_name=backup_rules.bucket_name(
                profile.environment_name, "dag-replica", account=account, region=region
            ),
            destination_region=region,
            encrypted_with_kms=kms,
            replication_time_control=False,
        )
    drop_redundant_depends_on(platform)
    return ProfileBackup(bucket=bucket, scheduled=scheduled, replica=replica)
