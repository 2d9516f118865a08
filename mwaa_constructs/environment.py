"""An L2-style construct for an Amazon MWAA environment (CDK ships only ``CfnEnvironment``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_mwaa as mwaa
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mwaa_constructs import rules
from mwaa_constructs.execution_role import ExecutionRole, environment_arn
from mwaa_constructs.log_groups import AirflowLogGroups

AIRFLOW_ROLES = ("Admin", "Op", "User", "Viewer", "Public")


@dataclass(frozen=True, kw_only=True)
class S3ObjectVersion:
    """An object in the source bucket pinned to one version, as MWAA needs for plugins,
    requirements and the startup script (a new version is only picked up when passed)."""

    key: str
    version: str


class EnvironmentBase(cdk.Resource):
    """Grants and metrics shared by created and imported environments."""

    environment_name: str
    environment_arn: str

    def _role_arn(self, airflow_role: str) -> str:
        if airflow_role not in AIRFLOW_ROLES:
            raise ValueError(
                f"airflow_role: got {airflow_role!r}; allowed roles are {', '.join(AIRFLOW_ROLES)}"
            )
        return cdk.Stack.of(self).format_arn(
            service="airflow",
            resource="role",
            resource_name=f"{self.environment_name}/{airflow_role}",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )

    def grant_web_login(self, grantee: iam.IGrantable, *, airflow_role: str = "Viewer") -> iam.Grant:
        """Let ``grantee`` open the Airflow UI as ``airflow_role`` (``airflow:CreateWebLoginToken``)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["airflow:CreateWebLoginToken"],
            resource_arns=[self._role_arn(airflow_role)],
        )

    def grant_cli_token(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` run Airflow CLI commands (``airflow:CreateCliToken``)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["airflow:CreateCliToken"],
            resource_arns=[self.environment_arn],
        )

    def grant_rest_api(self, grantee: iam.IGrantable, *, airflow_role: str = "User") -> iam.Grant:
        """Let ``grantee`` call the Airflow REST API as ``airflow_role`` (``airflow:InvokeRestApi``)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["airflow:InvokeRestApi"],
            resource_arns=[self._role_arn(airflow_role)],
        )

    def metric(
        self,
        metric_name: str,
        *,
        function: str,
        statistic: str = "Average",
        period: cdk.Duration | None = None,
    ) -> cloudwatch.Metric:
        """A metric MWAA publishes in the ``AmazonMWAA`` namespace for this environment."""
        return cloudwatch.Metric(
            namespace="AmazonMWAA",
            metric_name=metric_name,
            dimensions_map={"Environment": self.environment_name, "Function": function},
            statistic=statistic,
            period=period or cdk.Duration.minutes(5),
        )

    def metric_queued_tasks(self, **kwargs: object) -> cloudwatch.Metric:
        """Tasks waiting for a worker: sustained growth means ``max_workers`` is too low."""
        return self.metric("QueuedTasks", function="Executor", **kwargs)  # type: ignore[arg-type]

    def metric_running_tasks(self, **kwargs: object) -> cloudwatch.Metric:
        return self.metric("RunningTasks", function="Executor", **kwargs)  # type: ignore[arg-type]

    def metric_scheduler_heartbeat(self, **kwargs: object) -> cloudwatch.Metric:
        """Scheduler heartbeats (Sum): zero means the scheduler is down."""
        kwargs.setdefault("statistic", "Sum")
        return self.metric("SchedulerHeartbeat", function="Scheduler", **kwargs)  # type: ignore[arg-type]


class _ImportedEnvironment(EnvironmentBase):
    def __init__(self, scope: Construct, id: str, *, environment_name: str) -> None:
        super().__init__(scope, id)
        self.environment_name = environment_name
        self.environment_arn = environment_arn(self, environment_name)


class AirflowEnvironment(EnvironmentBase):
    """An Amazon MWAA environment with secure defaults.

    Creates, unless given: the five log groups (:class:`AirflowLogGroups`, with
    ``log_retention``, ``kms_key`` and ``removal_policy``) and a least-privilege execution role
    (:class:`ExecutionRole`). The environment resource depends on both, so MWAA never creates
    log groups without expiry and never starts before its role's policy exists.

    Every log type is sent with both ``Enabled`` and ``LogLevel`` set; ``logging`` maps each
    component (``dag_processing``, ``scheduler``, ``task``, ``webserver``, ``worker``) to a level,
    or to ``None`` to disable it (default: WARNING, task INFO).

    ``plugins``, ``requirements`` and ``startup_script`` are objects pinned to a version: MWAA
    ignores a file overwritten under the same version. Pass the versions the deployments produce
    (see :class:`mwaa_constructs.artifacts.AirflowArtifacts`).

    ``connections`` controls the security groups; grant access with :meth:`grant_web_login`,
    :meth:`grant_cli_token` and :meth:`grant_rest_api`; import an environment with
    :meth:`from_environment_name`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        source_bucket: s3.IBucket,
        subnets: Sequence[ec2.ISubnet],
        security_groups: Sequence[ec2.ISecurityGroup],
        airflow_version: str = rules.DEFAULT_AIRFLOW_VERSION,
        environment_class: str = "mw1.small",
        min_workers: int = 1,
        max_workers: int | None = None,
        schedulers: int | None = None,
        min_webservers: int | None = None,
        max_webservers: int | None = None,
        webserver_access_mode: str = "PRIVATE_ONLY",
        endpoint_management: str = "SERVICE",
        dag_s3_path: str = "dags",
        kms_key: kms.IKey | None = None,
        role: iam.IRole | None = None,
        log_groups: AirflowLogGroups | None = None,
        logging: Mapping[str, str | None] | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        airflow_configuration_options: Mapping[str, str] | None = None,
        weekly_maintenance_window_start: str | None = None,
        worker_replacement_strategy: str | None = None,
        plugins: S3ObjectVersion | None = None,
        requirements: S3ObjectVersion | None = None,
        startup_script: S3ObjectVersion | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id, physical_name=environment_name)
        sizing = self._validate(
            environment_name=environment_name,
            airflow_version=airflow_version,
            environment_class=environment_class,
            subnets=subnets,
            security_groups=security_groups,
            webserver_access_mode=webserver_access_mode,
            weekly_maintenance_window_start=weekly_maintenance_window_start,
            logging=logging or {},
            options=airflow_configuration_options or {},
        )
        self.environment_name = environment_name
        self.environment_arn = environment_arn(self, environment_name)
        self.source_bucket = source_bucket

        self.log_groups = log_groups or AirflowLogGroups(
            self,
            "LogGroups",
            environment_name=environment_name,
            retention=log_retention,
            encryption_key=kms_key,
            removal_policy=removal_policy,
        )
        execution_role: ExecutionRole | None = None
        if role is None:
            execution_role = ExecutionRole(
                self,
                "ExecutionRole",
                environment_name=environment_name,
                bucket=source_bucket,
                log_groups=list(self.log_groups.log_groups.values()),
                key=kms_key,
            )
            role = execution_role.role
        self.role = role
        self.connections = ec2.Connections(security_groups=list(security_groups))

        levels = {**rules.DEFAULT_LOG_LEVELS, **(logging or {})}
        logging_configuration = mwaa.CfnEnvironment.LoggingConfigurationProperty(
            **{
                _LOGGING_ARGUMENTS[component]: mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty(
                    enabled=levels[component] is not None,
                    # Always both fields (aws-cdk#30645); a disabled type keeps a valid level.
                    log_level=levels[component] or rules.DEFAULT_LOG_LEVELS[component],
                )
                for component in rules.LOG_COMPONENTS
            }
        )
        self.resource = mwaa.CfnEnvironment(
            self,
            "Resource",
            name=environment_name,
            airflow_version=airflow_version,
            environment_class=environment_class,
            execution_role_arn=role.role_arn,
            source_bucket_arn=source_bucket.bucket_arn,
            dag_s3_path=dag_s3_path,
            kms_key=kms_key.key_arn if kms_key else None,
            network_configuration=mwaa.CfnEnvironment.NetworkConfigurationProperty(
                subnet_ids=[subnet.subnet_id for subnet in subnets],
                security_group_ids=[group.security_group_id for group in security_groups],
            ),
            webserver_access_mode=webserver_access_mode,
            endpoint_management=endpoint_management,
            min_workers=min_workers,
            max_workers=max_workers if max_workers is not None else sizing.default_max_workers,
            schedulers=schedulers if schedulers is not None else sizing.default_schedulers,
            min_webservers=min_webservers if min_webservers is not None else sizing.default_webservers,
            max_webservers=max_webservers if max_webservers is not None else sizing.default_webservers,
            logging_configuration=logging_configuration,
            airflow_configuration_options=dict(sorted((airflow_configuration_options or {}).items())) or None,
            weekly_maintenance_window_start=weekly_maintenance_window_start,
            worker_replacement_strategy=worker_replacement_strategy,
            plugins_s3_path=plugins.key if plugins else None,
            plugins_s3_object_version=plugins.version if plugins else None,
            requirements_s3_path=requirements.key if requirements else None,
            requirements_s3_object_version=requirements.version if requirements else None,
            startup_script_s3_path=startup_script.key if startup_script else None,
            startup_script_s3_object_version=startup_script.version if startup_script else None,
        )
        # The environment has no data of its own to keep (DAGs, logs and keys are separate
        # resources with their own policy); its metadata database goes with it.
        self.resource.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
        self.resource.node.add_dependency(self.log_groups)
        if execution_role is not None:
            # The resource references the role already; it must also wait for its policy.
            self.resource.node.add_dependency(execution_role.policy)

        self.webserver_url = self.resource.attr_webserver_url
        self.celery_executor_queue = self.resource.attr_celery_executor_queue

    @staticmethod
    def from_environment_name(scope: Construct, id: str, environment_name: str) -> EnvironmentBase:
        """Reference an environment created elsewhere, to grant access to it or read metrics."""
        return _ImportedEnvironment(scope, id, environment_name=environment_name)

    def add_dependency_on_artifact(self, dependency: Construct) -> None:
        """Make the environment wait for ``dependency`` (e.g. the first DAG upload) on create.

        A dependency changes no property of the environment, so it never causes an update."""
        self.resource.node.add_dependency(dependency)

    @staticmethod
    def _validate(
        *,
        environment_name: str,
        airflow_version: str,
        environment_class: str,
        subnets: Sequence[ec2.ISubnet],
        security_groups: Sequence[ec2.ISecurityGroup],
        webserver_access_mode: str,
        weekly_maintenance_window_start: str | None,
        logging: Mapping[str, str | None],
        options: Mapping[str, str],
    ) -> rules.ClassSizing:
        def fail(setting: str, value: object, allowed: str) -> None:
            raise ValueError(f"AirflowEnvironment {setting}: got {value!r}; {allowed}")

        if not rules.ENVIRONMENT_NAME_PATTERN.fullmatch(environment_name):
            fail(
                "environment_name",
                environment_name,
                "expected a letter, then letters, digits, '-' or '_' (1-80)",
            )
        if airflow_version not in rules.AIRFLOW_PYTHON_VERSIONS:
            fail("airflow_version", airflow_version, f"supported: {', '.join(rules.AIRFLOW_PYTHON_VERSIONS)}")
        if environment_class not in rules.ENVIRONMENT_CLASSES:
            fail("environment_class", environment_class, f"allowed: {', '.join(rules.ENVIRONMENT_CLASSES)}")
        if len(subnets) != 2:
            fail(
                "subnets",
                [s.node.id for s in subnets],
                "MWAA needs exactly 2 private subnets in different AZs",
            )
        if not 1 <= len(security_groups) <= 5:
            fail("security_groups", len(security_groups), "MWAA takes 1 to 5 security groups")
        if webserver_access_mode not in rules.WEBSERVER_ACCESS_MODES:
            fail(
                "webserver_access_mode",
                webserver_access_mode,
                f"allowed: {', '.join(rules.WEBSERVER_ACCESS_MODES)}",
            )
        window = weekly_maintenance_window_start
        if window is not None and not rules.MAINTENANCE_WINDOW_PATTERN.fullmatch(window):
            fail("weekly_maintenance_window_start", window, "expected DAY:HH:MM, minutes 00 or 30")
        for component, level in logging.items():
            if component not in rules.LOG_COMPONENTS or (level is not None and level not in rules.LOG_LEVELS):
                fail(f"logging[{component!r}]", level, f"levels: {', '.join(rules.LOG_LEVELS)} or None")
        for key, value in options.items():
            if not rules.CONFIG_OPTION_KEY_PATTERN.fullmatch(key) or not isinstance(value, str):
                fail(f"airflow_configuration_options[{key!r}]", value, "string values, 'section.option' keys")
        return rules.ENVIRONMENT_CLASSES[environment_class]


_LOGGING_ARGUMENTS = {
    "dag_processing": "dag_processing_logs",
    "scheduler": "scheduler_logs",
    "task": "task_logs",
    "webserver": "webserver_logs",
    "worker": "worker_logs",
}
