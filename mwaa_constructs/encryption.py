"""The customer managed KMS key of an environment."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class AirflowKey(Construct):
    """A symmetric customer managed key for the environment, its bucket and its log groups.

    Defaults: annual rotation on; the account keeps full control through the default key policy;
    CloudWatch Logs of this region may use the key only for log groups of this account (the
    ``kms:EncryptionContext:aws:logs:arn`` condition). MWAA creates its own grants on the key at
    environment creation, which needs ``kms:CreateGrant`` for the deploying principal (granted by
    the default policy). Not a multi-region key and no alias in the environment properties: MWAA
    supports neither.

    ``removal_policy`` (default ``RETAIN_ON_UPDATE_OR_DELETE``, CloudFormation's
    ``DeletionPolicy: RetainExceptOnCreate``) keeps the key when it is replaced or its stack is
    deleted, and deletes it when the stack's first create rolls back: a key retained from a
    failed create would keep its alias, and the retry would fail with "already exists".
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            description=f"MWAA environment {environment_name}: bucket, logs and environment data",
            enable_key_rotation=True,
            alias=f"alias/mwaa/{environment_name}",
            removal_policy=removal_policy,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs", resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
                        )
                    }
                },
            )
        )
