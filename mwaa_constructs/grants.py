"""S3 grants whose KMS permissions stay behind S3."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

READ_ACTIONS = ("s3:GetObject*", "s3:GetBucket*", "s3:List*")
WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject*", "s3:Abort*")


def grant_bucket_objects(
    bucket: s3.IBucket,
    grantee: iam.IGrantable,
    *,
    prefixes: Sequence[str] = ("",),
    write: bool = False,
) -> iam.Grant:
    """Read (and with ``write`` put, delete, abort) the objects of ``bucket`` under ``prefixes``.

    ``Bucket.grant_read``/``grant_read_write`` also grant the bucket's KMS key with no condition,
    which lets the grantee call KMS directly with it. Here the key may be used only through S3
    of this region (``kms:ViaService``): what S3 needs to encrypt and decrypt the objects."""
    actions = [*READ_ACTIONS, *(WRITE_ACTIONS if write else ())]
    grant = iam.Grant.add_to_principal(
        grantee=grantee,
        actions=actions,
        resource_arns=[bucket.bucket_arn, *(bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes)],
    )
    key = bucket.encryption_key
    if key is not None:
        region = cdk.Stack.of(bucket).region
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    *(("kms:Encrypt", "kms:GenerateDataKey*") if write else ()),
                ],
                resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            )
        )
    return grant
