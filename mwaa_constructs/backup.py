"""Scheduled backups of an MWAA environment's metadata, and their replicas in another region.

- :class:`BackupBucket`: where the archives go (a :class:`~mwaa_constructs.dag_bucket.SecureBucket`
  with a fixed name, a lifecycle by retention and an optional object lock);
- :class:`ScheduledBackup`: an EventBridge Scheduler schedule invoking a Python Lambda function
  that runs ``mwaa_ops.dr.backup`` through InvokeRestApi and writes the archive to the bucket,
  and the alarms that say when a backup failed or is missing;
- :class:`ReplicaStorage`: in the replica region, a key, the replicas of the backup bucket and
  of the DAG bucket, and the role S3 replication assumes; :func:`replicate` writes the
  replication rule of a source bucket.

Why a function and not a DAG of the platform (see ``mwaa_ops.dr.scheduled`` and
docs/disaster-recovery.md): Airflow 3 tasks have no metadata-database access, and a backup that
runs inside the environment it protects stops when that environment's scheduler does.

Across regions nothing is referenced: the two sides name each other's buckets, key alias and
role by the deterministic names of :mod:`mwaa_rules.backup` (CloudFormation exports work within
one region only), and the replica stack is deployed first (the source's replication rule
needs an existing, versioned destination).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import custom_resources as cr
from constructs import Construct

from mwaa_constructs.artifacts import write_deterministic_zip
from mwaa_constructs.dag_bucket import SecureBucket
from mwaa_constructs.environment import EnvironmentBase
from mwaa_constructs.nag import (
    acknowledge_aws_custom_resource,
    acknowledge_compliance,
    acknowledge_iam5,
    bucket_objects_finding,
    resource_finding,
)
from mwaa_rules import backup as backup_rules

# The Airflow role the backup acts as through InvokeRestApi. Among the FAB roles of Airflow 3
# (providers/fab/.../security_manager/override.py: VIEWER_PERMISSIONS, USER_PERMISSIONS,
# OP_PERMISSIONS), Viewer reads DAGs, runs, task instances, pools and XComs, but "can_read" on
# Connections and Variables is first granted to Op: the least role that reads all a backup holds.
BACKUP_AIRFLOW_ROLE = "Op"
# A backup of 10,000 runs took 14 s through InvokeRestApi's paced rate (docs/disaster-recovery.md,
# measured figures); 15 minutes is Lambda's maximum and leaves room for far larger environments.
FUNCTION_TIMEOUT = cdk.Duration.minutes(15)
# The Python of the MWAA 3.x images and of this package's tests.
RUNTIME = lambda_.Runtime.PYTHON_3_12
HANDLER = "mwaa_ops.dr.scheduled.handler"


def function_code(root: Path, packages: Sequence[str]) -> lambda_.Code:
    """The function's code: every ``.py`` file of ``packages`` (folders of ``root``), zipped
    byte-identically for the same content (sorted entries, fixed times and modes) into a
    temporary folder named after the content hash. No Docker, no network, no pip: the handler
    needs boto3 only, which the Lambda Python runtime provides."""
    files = sorted(
        path.relative_to(root).as_posix()
        for package in packages
        for path in (root / package).rglob("*.py")
        if "__pycache__" not in path.parts
    )
    if not files:
        raise ValueError(f"function_code: no Python file under {', '.join(packages)} of {root}")
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    target = Path(tempfile.gettempdir()) / "mwaa-backup-function" / digest.hexdigest() / "function.zip"
    write_deterministic_zip(root, files, target)
    return lambda_.Code.from_asset(str(target))


class BackupBucket(SecureBucket):
    """The bucket of an environment's backup archives (a :class:`SecureBucket`: versioned,
    private, TLS-only, encrypted with ``encryption_key`` or SSE-S3, server access logs to a
    bucket of its own, ``removal_policy``).

    Named ``airflow-<environment>-backups-<account>-<region>`` (:func:`mwaa_rules.backup.bucket_name`),
    so that the other region's stack and the failover tool know it without a reference.
    Archives expire ``retention_days`` after they were written; a deleted, overwritten or expired
    archive stays recoverable as a noncurrent version for another ``retention_days``. With
    ``object_lock_days`` the bucket is created with S3 Object Lock and a default retention in
    governance mode: an archive cannot be deleted or overwritten before then without
    ``s3:BypassGovernanceRetention``, which no role of this platform has.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        retention_days: int,
        encryption_key: kms.IKey | None = None,
        object_lock_days: int | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ) -> None:
        if object_lock_days is not None and object_lock_days > retention_days:
            raise ValueError(
                f"BackupBucket object_lock_days: got {object_lock_days}; "
                f"at most retention_days ({retention_days})"
            )
        if object_lock_days is not None and removal_policy == cdk.RemovalPolicy.DESTROY:
            raise ValueError(
                "BackupBucket object_lock_days: not with removal_policy DESTROY (locked archives "
                "cannot be emptied out of the bucket)"
            )
        super().__init__(
            scope,
            id,
            bucket_name=backup_rules.bucket_name(
                environment_name, "backups", account=cdk.Aws.ACCOUNT_ID, region=cdk.Aws.REGION
            ),
            encryption_key=encryption_key,
            removal_policy=removal_policy,
            noncurrent_version_expiration=cdk.Duration.days(retention_days),
            access_log_prefix="backup-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(id="ExpireBackups", expiration=cdk.Duration.days(retention_days))
            ],
        )
        if object_lock_days is not None:
            lock_bucket(self.bucket, object_lock_days)


def lock_bucket(bucket: s3.Bucket, days: int) -> None:
    """S3 Object Lock with a default retention of ``days`` in governance mode on ``bucket``."""
    cfn = bucket.node.default_child
    assert isinstance(cfn, s3.CfnBucket)
    cfn.object_lock_enabled = True
    cfn.object_lock_configuration = s3.CfnBucket.ObjectLockConfigurationProperty(
        object_lock_enabled="Enabled",
        rule=s3.CfnBucket.ObjectLockRuleProperty(
            default_retention=s3.CfnBucket.DefaultRetentionProperty(mode="GOVERNANCE", days=days)
        ),
    )


class ScheduledBackup(Construct):
    """Backs up ``environment`` on ``schedule`` into ``bucket``, and alarms when that fails.

    - :attr:`function`: Python 3.12 on arm64, ``code`` (see :func:`function_code`), 15-minute
      timeout, reserved concurrency 1 (two backups never overlap), no asynchronous retry (a
      failed backup is alarmed, and the next run takes a whole new backup), logs to a log group
      of its own (``log_retention``, ``log_key``, ``removal_policy``). Its role may call
      InvokeRestApi as the Airflow role ``Op`` (:data:`BACKUP_AIRFLOW_ROLE`) of this environment
      only, read the environment (``airflow:GetEnvironment``, for its secrets backend settings),
      list secret names (``secretsmanager:ListSecrets``: names only, never values) and put objects
      under ``backups/<environment>/`` of ``bucket`` — neither delete nor read them.
    - :attr:`schedule`: an EventBridge Scheduler schedule (UTC) that invokes the function; its
      role may invoke this function only.
    - :attr:`missing_alarm` ``<environment>-backup-missing``: successful invocations
      (``Invocations - Errors`` of the function) summed per hour stay below 1 for the schedule's
      longest interval plus one hour; **missing data is breaching** — a schedule that stopped,
      a function that was never invoked, are exactly the missing backups this alarm is for.
    - :attr:`first_backup`: when the construct is created, once the environment is (its create
      completes when the environment is available), the function is invoked asynchronously, so
      that a backup exists from the first deployment on rather than from the first scheduled
      run. Asynchronous on purpose: a failed first backup is the failed-backup alarm's to report,
      never a reason to roll the deployment back. Until its metrics arrive (minutes), the
      missing-backup alarm may show ALARM and then OK.
    - :attr:`failed_alarm` ``<environment>-backup-failed``: an invocation failed in the last hour
      (missing data is not breaching: no run, no failure).

    Both notify ``topic`` (the environment's alarm topic, whose policy admits alarms named
    ``<environment>-*``) when they enter ALARM and when they are OK again.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment: EnvironmentBase,
        bucket: s3.IBucket,
        code: lambda_.Code,
        schedule: str,
        window_days: int,
        xcom: bool = False,
        topic: sns.ITopic | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        log_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ) -> None:
        super().__init__(scope, id)
        parsed = backup_rules.parse_schedule(schedule)
        if parsed is None:
            raise ValueError(f"ScheduledBackup schedule: got {schedule!r}; {backup_rules.SCHEDULE_ALLOWED}")
        name = environment.environment_name
        stack = cdk.Stack.of(self)

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention,
            encryption_key=log_key,
            removal_policy=removal_policy,
        )
        self.role = iam.Role(
            self,
            "FunctionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Scheduled backup of MWAA environment {name}",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"Backs up the metadata of MWAA environment {name} (mwaa-ops backup)",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=code,
            timeout=FUNCTION_TIMEOUT,
            memory_size=512,
            reserved_concurrent_executions=1,
            retry_attempts=0,
            role=self.role,
            log_group=self.log_group,
            environment={
                "MWAA_ENVIRONMENT_NAME": name,
                "BACKUP_BUCKET": bucket.bucket_name,
                "BACKUP_WINDOW_DAYS": str(window_days),
                "BACKUP_XCOM": "true" if xcom else "false",
            },
        )
        # The function depends on its role's policy through the construct tree (no API removes
        # it); its Role property already orders it after the role (cfn-lint W3005).
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        self.log_group.grant_write(self.role)
        environment.grant_rest_api(self.role, airflow_role=BACKUP_AIRFLOW_ROLE)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["airflow:GetEnvironment"],
                resources=[environment.environment_arn],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["secretsmanager:ListSecrets"], resources=["*"])
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{backup_rules.backup_prefix(name)}*")],
            )
        )
        if bucket.encryption_key is not None:
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey"],
                    resources=[bucket.encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
                )
            )
        self._acknowledge(bucket, name)

        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"EventBridge Scheduler: invokes the backup of MWAA environment {name}",
        )
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            description=f"Backup of MWAA environment {name}",
            schedule=scheduler.ScheduleExpression.expression(schedule),
            target=targets.LambdaInvoke(self.function, role=self.scheduler_role, retry_attempts=2),
        )
        scheduler_policy = self.scheduler_role.node.try_find_child("DefaultPolicy")
        assert scheduler_policy is not None
        acknowledge_iam5(
            scheduler_policy,
            {
                resource_finding(
                    scheduler_policy, f"{self.function.function_arn}:*"
                ): "lambda:InvokeFunction "
                "on the backup function and its versions (the grant aws-cdk-lib writes for a function)."
            },
        )
        acknowledge_compliance(
            scheduler_policy,
            {"IAMNoInlinePolicy": "The scheduler role's only policy: invoke the backup function."},
        )

        self.first_backup = cr.AwsCustomResource(
            self,
            "FirstBackup",
            on_create=cr.AwsSdkCall(
                service="Lambda",
                action="invoke",
                parameters={"FunctionName": self.function.function_name, "InvocationType": "Event"},
                physical_resource_id=cr.PhysicalResourceId.of(f"{name}-first-backup"),
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["lambda:InvokeFunction"], resources=[self.function.function_arn]
                    )
                ]
            ),
            install_latest_aws_sdk=False,
        )
        # After the environment (the function itself is ordered by the reference to it).
        self.first_backup.node.add_dependency(environment)
        acknowledge_aws_custom_resource(self.first_backup, what="CDK's AwsCustomResource (first backup)")

        period = cdk.Duration.seconds(backup_rules.ALARM_PERIOD_SECONDS)
        succeeded = cloudwatch.MathExpression(
            expression="invocations - errors",
            using_metrics={
                "invocations": self.function.metric_invocations(period=period, statistic="Sum"),
                "errors": self.function.metric_errors(period=period, statistic="Sum"),
            },
            label="successful backups",
            period=period,
        )
        self.missing_alarm = cloudwatch.Alarm(
            self,
            "MissingAlarm",
            alarm_name=f"{name}-backup-missing",
            alarm_description=(
                f"No successful backup of MWAA environment {name} in the last {parsed.alarm_periods} hours "
                f"(schedule {schedule}); see the logs of the function {self.function.function_name}"
            ),
            metric=succeeded,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=parsed.alarm_periods,
            datapoints_to_alarm=parsed.alarm_periods,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        self.failed_alarm = cloudwatch.Alarm(
            self,
            "FailedAlarm",
            alarm_name=f"{name}-backup-failed",
            alarm_description=f"A backup of MWAA environment {name} failed: read the function's logs",
            metric=self.function.metric_errors(period=period, statistic="Sum"),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarms = [self.missing_alarm, self.failed_alarm]
        if topic is not None:
            for alarm in self.alarms:
                alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
                alarm.add_ok_action(cloudwatch_actions.SnsAction(topic))
        else:
            for alarm in self.alarms:
                acknowledge_compliance(
                    alarm,
                    {
                        "CloudWatchAlarmAction": "The profile turns the alarm topic off (alarms.enabled "
                        "false): the alarm shows its state in the console only."
                    },
                )

    def _acknowledge(self, bucket: s3.IBucket, name: str) -> None:
        cdk.Validations.of(self.function).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-L1",
                reason="Python 3.12 is the Python of the MWAA 3.x images and of this package's tests; "
                "the function runs the same mwaa_ops code as the command-line tool.",
            )
        )
        acknowledge_compliance(
            self.function,
            {
                "LambdaDLQ": "A failed backup is alarmed (<environment>-backup-failed) and the next "
                "scheduled run takes a complete new backup: the event carries nothing to keep.",
                "LambdaInsideVPC": "The function calls AWS APIs only (InvokeRestApi, which MWAA serves "
                "on its env. endpoint, S3, Secrets Manager): no resource of the VPC.",
            },
        )
        policy = self.role.node.try_find_child("DefaultPolicy")
        assert policy is not None
        acknowledge_iam5(
            policy,
            {
                "Resource::*": "secretsmanager:ListSecrets supports no resource-level permission: it lists "
                "the names of the secrets backend's secrets, never their values.",
                bucket_objects_finding(policy, bucket, backup_rules.backup_prefix(name)): "The function "
                "writes new archives under its environment's prefix, with keys named by their time.",
            },
        )
        acknowledge_compliance(
            policy,
            {
                "IAMNoInlinePolicy": "The function's role policy is written from grants of this construct "
                "and kept with the role.",
            },
        )


class ReplicaStorage(Construct):
    """The replica region's side of replication, for the environment ``environment_name`` of
    ``source_region``: :attr:`backup_bucket` and :attr:`dag_bucket` (each a
    :class:`SecureBucket` named by :func:`mwaa_rules.backup.bucket_name` in this region), the key
    :attr:`key` (alias :func:`mwaa_rules.backup.replica_key_alias`; only when ``source_key``:
    the source buckets are encrypted with a customer managed key, and the replicas are then
    encrypted with this one), and :attr:`role`, the role S3 replication assumes (named
    :func:`mwaa_rules.backup.replication_role_name`, trusted by ``s3.amazonaws.com`` of this
    account only).

    The role reads the source buckets' objects for replication (their names are deterministic),
    decrypts them with the source region's key only through S3 of that region and for objects
    of those buckets (``kms:EncryptionContext:aws:s3:arn``), and writes replicas into the two
    replica buckets with this region's key. Backup replicas expire after ``retention_days``, as
    the source's do; with ``object_lock_days`` the backup replica bucket is locked the same way
    (S3 replicates an object's retention only into a bucket with Object Lock).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        source_region: str,
        source_key: bool,
        dag_bucket_name: str,
        retention_days: int,
        noncurrent_version_expiration: cdk.Duration,
        object_lock_days: int | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        account = cdk.Aws.ACCOUNT_ID
        self.key: kms.Key | None = None
        if source_key:
            self.key = kms.Key(
                self,
                "Key",
                description=f"Replicas of the DAG bucket and backups of MWAA environment {environment_name}",
                enable_key_rotation=True,
                alias=backup_rules.replica_key_alias(environment_name),
                removal_policy=removal_policy,
            )
        self.backup_bucket = SecureBucket(
            self,
            "BackupReplica",
            bucket_name=backup_rules.bucket_name(
                environment_name, "backups", account=account, region=stack.region
            ),
            encryption_key=self.key,
            removal_policy=removal_policy,
            noncurrent_version_expiration=cdk.Duration.days(retention_days),
            access_log_prefix="backup-replica/",
            lifecycle_rules=[
                s3.LifecycleRule(id="ExpireBackups", expiration=cdk.Duration.days(retention_days))
            ],
        )
        if object_lock_days is not None:
            lock_bucket(self.backup_bucket.bucket, object_lock_days)
        self.dag_bucket = SecureBucket(
            self,
            "DagReplica",
            bucket_name=backup_rules.bucket_name(
                environment_name, "dag-replica", account=account, region=stack.region
            ),
            encryption_key=self.key,
            removal_policy=removal_policy,
            noncurrent_version_expiration=noncurrent_version_expiration,
            access_log_prefix="dag-replica/",
        )
        source_buckets = [
            f"arn:{cdk.Aws.PARTITION}:s3:::{dag_bucket_name}",
            f"arn:{cdk.Aws.PARTITION}:s3:::"
            + backup_rules.bucket_name(environment_name, "backups", account=account, region=source_region),
        ]
        self.role = iam.Role(
            self,
            "ReplicationRole",
            role_name=backup_rules.replication_role_name(environment_name),
            description=f"S3 replication of MWAA environment {environment_name} from {source_region}",
            assumed_by=iam.ServicePrincipal(
                "s3.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": account}}
            ),
        )
        statements = [
            iam.PolicyStatement(
                sid="ReadReplicationConfiguration",
                actions=["s3:GetReplicationConfiguration", "s3:ListBucket"],
                resources=source_buckets,
            ),
            iam.PolicyStatement(
                sid="ReadSourceVersions",
                actions=[
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                    *(("s3:GetObjectRetention", "s3:GetObjectLegalHold") if object_lock_days else ()),
                ],
                resources=[f"{arn}/*" for arn in source_buckets],
            ),
            iam.PolicyStatement(
                sid="WriteReplicas",
                actions=["s3:ReplicateObject", "s3:ReplicateTags"],
                resources=[
                    self.backup_bucket.bucket.arn_for_objects("*"),
                    self.dag_bucket.bucket.arn_for_objects("*"),
                ],
            ),
        ]
        source_keys = f"arn:{cdk.Aws.PARTITION}:kms:{source_region}:{account}:key/*"
        if self.key is not None:
            statements += [
                iam.PolicyStatement(
                    sid="DecryptSourceObjects",
                    actions=["kms:Decrypt"],
                    resources=[source_keys],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"},
                        # With an S3 bucket key the encryption context is the bucket's ARN.
                        "StringLike": {
                            "kms:EncryptionContext:aws:s3:arn": [
                                *source_buckets,
                                *(f"{arn}/*" for arn in source_buckets),
                            ]
                        },
                    },
                ),
                iam.PolicyStatement(
                    sid="EncryptReplicas",
                    actions=["kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[self.key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
                ),
            ]
        policy = iam.Policy(self, "ReplicationPolicy", statements=statements)
        policy.attach_to_role(self.role)
        objects = (
            "Replication reads every object version of the source buckets and writes replicas of any key"
        )
        acknowledge_iam5(
            policy,
            {
                **{resource_finding(policy, f"{arn}/*"): f"{objects} (source)." for arn in source_buckets},
                **{
                    bucket_objects_finding(policy, replica.bucket): f"{objects} (replica)."
                    for replica in (self.backup_bucket, self.dag_bucket)
                },
                **(
                    {
                        resource_finding(policy, source_keys): "The source region's key is named by a "
                        "wildcard (its id is not known in this region), usable only through S3 of that "
                        "region for objects of the source buckets (kms:ViaService, encryption context)."
                    }
                    if self.key is not None
                    else {}
                ),
            },
        )
        acknowledge_compliance(
            policy,
            {
                "IAMNoInlinePolicy": "The replication role's policy is defined with the role, in the "
                "stack that owns it.",
                "IAMPolicyNoStatementsWithFullAccess": "No statement grants a service's full access: "
                "the wildcards are in resources (object keys), not actions.",
            },
        )


def replicate(
    bucket: s3.Bucket,
    *,
    environment_name: str,
    destination_bucket_name: str,
    destination_region: str,
    encrypted_with_kms: bool,
    replication_time_control: bool,
) -> None:
    """Replicate every new object of ``bucket`` into ``destination_bucket_name`` (a bucket of
    :class:`ReplicaStorage` in ``destination_region``), as the role of :class:`ReplicaStorage`.

    With ``encrypted_with_kms``: objects encrypted with KMS are replicated too
    (``SourceSelectionCriteria.SseKmsEncryptedObjects``, off by default in S3) and the replicas
    are encrypted with the replica key, named by its alias ARN (``ReplicaKmsKeyID`` accepts an
    alias ARN: S3 API reference, EncryptionConfiguration). With ``replication_time_control``:
    S3 Replication Time Control (a 15-minute replication target, with its metrics).
    Delete markers are not replicated: a deletion in the source leaves the replica in place.
    """
    stack = cdk.Stack.of(bucket)
    role_arn = stack.format_arn(
        service="iam",
        region="",
        resource="role",
        resource_name=backup_rules.replication_role_name(environment_name),
    )
    fifteen_minutes = s3.CfnBucket.ReplicationTimeValueProperty(minutes=15)
    destination = s3.CfnBucket.ReplicationDestinationProperty(
        bucket=f"arn:{cdk.Aws.PARTITION}:s3:::{destination_bucket_name}",
        encryption_configuration=(
            s3.CfnBucket.EncryptionConfigurationProperty(
                replica_kms_key_id=stack.format_arn(
                    service="kms",
                    region=destination_region,
                    resource=backup_rules.replica_key_alias(environment_name),
                    arn_format=cdk.ArnFormat.NO_RESOURCE_NAME,
                )
            )
            if encrypted_with_kms
            else None
        ),
        replication_time=(
            s3.CfnBucket.ReplicationTimeProperty(status="Enabled", time=fifteen_minutes)
            if replication_time_control
            else None
        ),
        metrics=(
            s3.CfnBucket.MetricsProperty(status="Enabled", event_threshold=fifteen_minutes)
            if replication_time_control
            else None
        ),
    )
    cfn = bucket.node.default_child
    assert isinstance(cfn, s3.CfnBucket)
    cfn.replication_configuration = s3.CfnBucket.ReplicationConfigurationProperty(
        role=role_arn,
        rules=[
            s3.CfnBucket.ReplicationRuleProperty(
                id="ToReplicaRegion",
                status="Enabled",
                priority=1,
                filter=s3.CfnBucket.ReplicationRuleFilterProperty(prefix=""),
                delete_marker_replication=s3.CfnBucket.DeleteMarkerReplicationProperty(status="Disabled"),
                destination=destination,
                source_selection_criteria=(
                    s3.CfnBucket.SourceSelectionCriteriaProperty(
                        sse_kms_encrypted_objects=s3.CfnBucket.SseKmsEncryptedObjectsProperty(
                            status="Enabled"
                        )
                    )
                    if encrypted_with_kms
                    else None
                ),
            )
        ],
    )
