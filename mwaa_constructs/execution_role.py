"""The least-privilege IAM role an MWAA environment runs as."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mwaa_constructs.grants import grant_bucket_objects
from mwaa_constructs.nag import acknowledge_iam5, bucket_objects_finding, resource_finding
from mwaa_constructs.roles import ManagedPolicyRole


def environment_arn(scope: Construct, environment_name: str) -> str:
    """ARN of the environment ``environment_name`` in the stack's account and region."""
    return cdk.Stack.of(scope).format_arn(
        service="airflow",
        resource="environment",
        resource_name=environment_name,
        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
    )


def log_group_arns(scope: Construct, log_groups: Sequence[logs.ILogGroup]) -> list[str]:
    """Both ARN forms of each log group: ``log-group:<name>`` and ``log-group:<name>:*``.

    IAM authorizes ``CreateLogGroup``, ``GetLogGroupFields``, ``GetLogRecord`` and
    ``GetQueryResults`` on the log group ARN without the ``:*`` suffix (the service
    authorization reference, resource type ``log-group``) and the stream actions
    (``CreateLogStream``, ``PutLogEvents``, ``GetLogEvents``) on ``log-group:<name>:log-stream:<s>``,
    which only the ``:*`` form matches. The AWS reference policy covers both with
    ``log-group:airflow-<env>-*``; these name exactly the environment's five groups."""
    stack = cdk.Stack.of(scope)
    arns: list[str] = []
    for group in log_groups:
        arns.append(
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=group.log_group_name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
        )
        arns.append(group.log_group_arn)  # CloudFormation's Arn attribute: log-group:<name>:*
    return arns


class ExecutionRole(Construct):
    """The execution role of one environment: the AWS reference policy, scoped.

    Trusted by ``airflow.amazonaws.com`` and ``airflow-env.amazonaws.com`` only on behalf of this
    account and this environment (``aws:SourceAccount`` / ``aws:SourceArn``, against the
    confused-deputy problem). It may publish metrics for this environment only; read ``bucket``
    (and nothing else: ``s3:ListAllMyBuckets`` is denied); write to ``log_groups``; use the
    ``airflow-celery-*`` queues MWAA creates in its service account; and use ``key`` through S3
    and SQS only. No AWS managed policy is attached. Add what DAGs need with grants on
    :attr:`role` (``grant_bucket_objects(data_bucket, execution_role.role)`` or any construct's
    ``grant_*`` method): every statement lands in the customer managed policy
    :attr:`policy` (see :class:`ManagedPolicyRole`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        bucket: s3.IBucket,
        log_groups: Sequence[logs.ILogGroup],
        key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        env_arn = environment_arn(self, environment_name)
        self._celery_queues = f"arn:{stack.partition}:sqs:{stack.region}:*:airflow-celery-*"
        self.role = ManagedPolicyRole(
            self,
            "Role",
            description=f"Execution role of the MWAA environment {environment_name}",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("airflow.amazonaws.com"),
                iam.ServicePrincipal("airflow-env.amazonaws.com"),
            ).with_conditions(
                {
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": env_arn},
                }
            ),
        )
        statements = [
            iam.PolicyStatement(actions=["airflow:PublishMetrics"], resources=[env_arn]),
            iam.PolicyStatement(effect=iam.Effect.DENY, actions=["s3:ListAllMyBuckets"], resources=["*"]),
            # The user guide's log actions, and DescribeLogStreams: the 3.3.1 image's task log
            # view finds a deferred task's triggerer streams with it (python/mwaa/logging/
            # cloudwatch_handlers.py, _discover_triggerer_streams) and swallows the error.
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogStream",
                    "logs:CreateLogGroup",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:GetLogRecord",
                    "logs:GetLogGroupFields",
                    "logs:GetQueryResults",
                ],
                resources=log_group_arns(self, log_groups),
            ),
            # Account-level reads with no resource-level permissions in IAM.
            iam.PolicyStatement(
                actions=["logs:DescribeLogGroups", "s3:GetAccountPublicAccessBlock"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "AmazonMWAA"}},
            ),
            iam.PolicyStatement(
                actions=[
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                    "sqs:SendMessage",
                ],
                # The Celery queue lives in an account owned by MWAA: any account, fixed prefix.
                resources=[self._celery_queues],
            ),
        ]
        key_actions = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"]
        if key is not None:
            statements.append(
                iam.PolicyStatement(
                    actions=key_actions,
                    resources=[key.key_arn],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": [
                                f"sqs.{stack.region}.amazonaws.com",
                                f"s3.{stack.region}.amazonaws.com",
                            ]
                        }
                    },
                )
            )
        else:
            # The AWS-owned key of the Celery queue: any key outside this account, through SQS.
            statements.append(
                iam.PolicyStatement(
                    actions=key_actions,
                    not_resources=[f"arn:{stack.partition}:kms:*:{stack.account}:key/*"],
                    conditions={"StringEquals": {"kms:ViaService": [f"sqs.{stack.region}.amazonaws.com"]}},
                )
            )
        for statement in statements:
            self.role.add_to_policy(statement)
        # s3:GetObject*, s3:GetBucket*, s3:List* on the bucket and its objects (the reference
        # policy's S3 statement); the bucket key is usable through S3 only.
        grant_bucket_objects(bucket, self.role)
        self.policy = self.role.policy
        self._acknowledge_reference_policy_wildcards(bucket)

    def _acknowledge_reference_policy_wildcards(self, bucket: s3.IBucket) -> None:
        policy = self.role.policy
        reasons = {
            "Resource::*": "logs:DescribeLogGroups, s3:GetAccountPublicAccessBlock and "
            "cloudwatch:PutMetricData (limited to the AmazonMWAA namespace) have no resource-level "
            "permissions; s3:ListAllMyBuckets on * is a Deny.",
            "Action::kms:GenerateDataKey*": "AWS reference policy for MWAA: data keys for the "
            "environment's S3 objects and Celery messages, only via S3 and SQS.",
            "Action::s3:GetObject*": "Read-only access to the environment's own DAG bucket "
            "(grant_bucket_objects).",
            "Action::s3:GetBucket*": "Read-only access to the environment's own DAG bucket "
            "(grant_bucket_objects).",
            "Action::s3:List*": "Read-only access to the environment's own DAG bucket "
            "(grant_bucket_objects).",
            bucket_objects_finding(self, bucket): "Reads every object of the environment's own DAG "
            "bucket (DAGs, plugins, requirements).",
            resource_finding(self, self._celery_queues): "MWAA's Celery "
            "queues live in an account owned by the service; their names are fixed to this prefix.",
        }
        acknowledge_iam5(policy, reasons)
