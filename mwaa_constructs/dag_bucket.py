"""The S3 bucket an MWAA environment reads its DAGs, plugins and requirements from."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TypedDict

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mwaa_constructs.nag import acknowledge_compliance

_REPLICATION_REASON = (
    "Cross-region replication needs a second bucket, region and replication role that this "
    "project does not own: versioning (on), retention of noncurrent versions and the stack's "
    "removal policy are the recovery controls here. Add a replication rule where a second "
    "region is required."
)

# "airflow-" + name + "-" + 12-digit account + "-" + region (longest region codes have 14
# characters) must fit S3's 63-character limit.
_MAX_NAME_PART = 63 - len("airflow-") - 1 - 12 - 1 - 14


def bucket_name_part(environment_name: str) -> str:
    """The environment name in the form S3 allows in a bucket name (lower case, no '_').

    A name that does not fit as it is (upper case, '_', too long) gets a short hash of the
    original, so that two environment names never share a bucket name."""
    part = re.sub(r"[^a-z0-9-]", "-", environment_name.lower()).strip("-")
    if part == environment_name and len(part) <= _MAX_NAME_PART:
        return part
    digest = hashlib.sha256(environment_name.encode()).hexdigest()[:6]
    return f"{part[: _MAX_NAME_PART - 7].strip('-')}-{digest}".lstrip("-")


class _BucketBaseline(TypedDict):
    """The ``s3.Bucket`` keyword arguments both buckets of :class:`SecureBucket` share."""

    block_public_access: s3.BlockPublicAccess
    enforce_ssl: bool
    versioned: bool
    object_ownership: s3.ObjectOwnership
    removal_policy: cdk.RemovalPolicy
    auto_delete_objects: bool


class SecureBucket(Construct):
    """A versioned, private, TLS-only bucket with server access logs to a bucket of its own.

    Defaults: versioning on; all public access blocked; TLS-only bucket policy; encrypted with
    ``encryption_key`` (with an S3 bucket key) when given, else SSE-S3; bucket-owner-enforced
    object ownership; server access logs under ``access_log_prefix`` in a separate SSE-S3
    bucket (the only encryption log delivery supports); noncurrent versions expire after
    ``noncurrent_version_expiration`` (default 90 days) and incomplete multipart uploads after
    7 days, in both buckets; ``lifecycle_rules`` are added to the main bucket. ``bucket_name``
    unset lets CloudFormation name it. ``removal_policy`` DESTROY also empties both buckets
    when the stack is deleted. The default, ``RETAIN_ON_UPDATE_OR_DELETE`` (CloudFormation's
    ``DeletionPolicy: RetainExceptOnCreate``), keeps both buckets when they are replaced or the
    stack is deleted, and deletes them when the stack's first create rolls back, so that the
    retry does not fail on a name that "already exists". S3 deletes only empty buckets: a create
    that fails after objects were written (artifacts uploaded, access logs delivered) leaves the
    stack in ``ROLLBACK_FAILED`` with the buckets in place, to be emptied and deleted by hand.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        noncurrent_version_expiration: cdk.Duration | None = None,
        access_log_prefix: str = "bucket/",
        lifecycle_rules: Sequence[s3.LifecycleRule] = (),
    ) -> None:
        super().__init__(scope, id)
        # Access logs are delivered under a bucket policy, not ACLs (the buckets enforce bucket
        # ownership): set here so the construct does not depend on the app's feature flags.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        destroy = removal_policy == cdk.RemovalPolicy.DESTROY
        expire_noncurrent = s3.LifecycleRule(
            id="ExpireNoncurrentVersions",
            noncurrent_version_expiration=noncurrent_version_expiration or cdk.Duration.days(90),
            abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
        )
        common: _BucketBaseline = {
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "enforce_ssl": True,
            "versioned": True,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            "removal_policy": removal_policy,
            "auto_delete_objects": destroy,
        }
        self.access_log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            lifecycle_rules=[expire_noncurrent],
            **common,
        )
        cdk.Validations.of(self.access_log_bucket).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-S1",
                reason="This is the server access log destination; logging it to itself would loop.",
            )
        )
        acknowledge_compliance(
            self.access_log_bucket,
            {
                "S3DefaultEncryptionKMS": "S3 server access log delivery writes only to buckets "
                "encrypted with SSE-S3 (SSE-KMS is not supported for the target bucket).",
                "S3BucketReplicationEnabled": _REPLICATION_REASON,
            },
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=encryption_key,
            bucket_key_enabled=encryption_key is not None or None,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix=access_log_prefix,
            lifecycle_rules=[expire_noncurrent, *lifecycle_rules],
            **common,
        )
        acknowledged = {"S3BucketReplicationEnabled": _REPLICATION_REASON}
        if encryption_key is None:
            acknowledged["S3DefaultEncryptionKMS"] = (
                "No customer managed key in this profile (encryption 'aws_owned'): SSE-S3. "
                "Profiles with a customer managed key encrypt the bucket with it (SSE-KMS)."
            )
        acknowledge_compliance(self.bucket, acknowledged)


class DagBucket(SecureBucket):
    """The ``airflow-`` bucket of an environment (a :class:`SecureBucket`): MWAA requires
    versioning and Block Public Access; the rest are the secure defaults of the base class.

    The name is ``airflow-<environment name>-<account>-<region>``: the ``airflow-`` prefix of
    the MWAA console convention, unique per account and region, and the same on every synth.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        encryption_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        noncurrent_version_expiration: cdk.Duration | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            bucket_name=(
                f"airflow-{bucket_name_part(environment_name)}-{cdk.Aws.ACCOUNT_ID}-{cdk.Aws.REGION}"
            ),
            encryption_key=encryption_key,
            removal_policy=removal_policy,
            noncurrent_version_expiration=noncurrent_version_expiration,
            access_log_prefix="dag-bucket/",
        )
