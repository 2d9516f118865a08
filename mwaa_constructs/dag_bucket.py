"""The S3 bucket an MWAA environment reads its DAGs, plugins and requirements from."""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

# "airflow-" + name + "-" + 12-digit account + "-" + region (longest region codes have 14
# characters) must fit S3's 63-character limit.
_MAX_NAME_PART = 63 - len("airflow-") - 1 - 12 - 1 - 14


def bucket_name_part(environment_name: str) -> str:
    """The environment name in the form S3 allows in a bucket name (lower case, no '_')."""
    part = re.sub(r"[^a-z0-9-]", "-", environment_name.lower())[:_MAX_NAME_PART]
    return part.strip("-") or "env"


class DagBucket(Construct):
    """The ``airflow-`` bucket of an environment, and the bucket its access logs go to.

    Defaults, as MWAA requires or as a production bucket should be: versioning on (MWAA needs
    object versions); all public access blocked; TLS-only bucket policy; encrypted with
    ``encryption_key`` (with an S3 bucket key) when given, else SSE-S3; server access logs to a
    separate log bucket; noncurrent versions expire after ``noncurrent_version_expiration``;
    incomplete multipart uploads are aborted after 7 days.

    The name is ``airflow-<environment name>-<account>-<region>``: the ``airflow-`` prefix of
    the MWAA console convention, unique per account and region, and the same on every synth.
    ``removal_policy`` DESTROY also empties both buckets when the stack is deleted.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        encryption_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        noncurrent_version_expiration: cdk.Duration | None = None,
    ) -> None:
        super().__init__(scope, id)
        # Access logs are delivered under a bucket policy, not ACLs (the buckets enforce bucket
        # ownership): set here so the construct does not depend on the app's feature flags.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        destroy = removal_policy == cdk.RemovalPolicy.DESTROY
        noncurrent_version_expiration = noncurrent_version_expiration or cdk.Duration.days(90)

        # S3 server access logging only delivers to SSE-S3 buckets.
        self.access_log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireNoncurrentVersions",
                    noncurrent_version_expiration=noncurrent_version_expiration,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
        )
        cdk.Validations.of(self.access_log_bucket).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-S1",
                reason="This is the server access log destination; logging it to itself would loop.",
            )
        )

        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=(
                f"airflow-{bucket_name_part(environment_name)}-{cdk.Aws.ACCOUNT_ID}-{cdk.Aws.REGION}"
            ),
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=encryption_key,
            bucket_key_enabled=encryption_key is not None or None,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="dag-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireNoncurrentVersions",
                    noncurrent_version_expiration=noncurrent_version_expiration,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
        )
