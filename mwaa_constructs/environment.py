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

from mwaa_constructs import rules, versions
from mwaa_constructs.execution_role import ExecutionRole, environment_arn
from mwaa_constructs.log_groups import AirflowLogGroups
from mwaa_constructs.secrets_backend import SecretsManagerBackend

AIRFLOW_ROLES = rules.AIRFLOW_ROLES
# Values of the ``Cluster`` dimension of the container metrics in ``AWS/MWAA``.
CLUSTERS = ("Scheduler", "BaseWorker", "AdditionalWorker", "WebServer")
# Values of the ``Database`` dimension of the metadata database metrics in ``AWS/MWAA``.
DATABASE_INSTANCES = ("WRITER", "READER")
_DEFAULT_PERIOD = cdk.Duration.minutes(5)


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
        function: str | None = None,
        dimensions: Mapping[str, str] | None = None,
        statistic: str = "Average",
        period: cdk.Duration | None = None,
    ) -> cloudwatch.Metric:
        """An Airflow metric MWAA publishes in the ``AmazonMWAA`` namespace for this environment,
        with the ``Function`` dimension (e.g. ``Scheduler``, ``Executor``, ``DAG Processing``) or
        other ``dimensions`` (e.g. ``{"DAG": "All", "Task": "All"}``)."""
        extra = {**({"Function": function} if function is not None else {}), **(dimensions or {})}
        return cloudwatch.Metric(
            namespace="AmazonMWAA",
            metric_name=metric_name,
            dimensions_map={"Environment": self.environment_name, **extra},
            statistic=statistic,
            period=period or _DEFAULT_PERIOD,
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

    def metric_import_errors(
        self, *, statistic: str = "Maximum", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """DAG files that failed to import (a gauge of the DAG processor)."""
        return self.metric("ImportErrors", function="DAG Processing", statistic=statistic, period=period)

    def metric_task_instance_failures(
        self, *, statistic: str = "Sum", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """Failed task instances of all DAGs."""
        return self.metric(
            "TaskInstanceFailures",
            dimensions={"DAG": "All", "Task": "All"},
            statistic=statistic,
            period=period,
        )

    def service_metric(
        self,
        metric_name: str,
        *,
        dimensions: Mapping[str, str] | None = None,
        statistic: str = "Average",
        period: cdk.Duration | None = None,
    ) -> cloudwatch.Metric:
        """A container, queue or metadata database metric MWAA publishes in ``AWS/MWAA``."""
        return cloudwatch.Metric(
            namespace="AWS/MWAA",
            metric_name=metric_name,
            dimensions_map={"Environment": self.environment_name, **(dimensions or {})},
            statistic=statistic,
            period=period or _DEFAULT_PERIOD,
        )

    def metric_cpu_utilization(
        self, *, cluster: str, statistic: str = "Average", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """CPU of the ``cluster``'s containers (``Scheduler``, ``BaseWorker``, ``AdditionalWorker``,
        ``WebServer``), in percent. ``statistic="SampleCount"`` counts the running containers."""
        return self.service_metric(
            "CPUUtilization", dimensions={"Cluster": _cluster(cluster)}, statistic=statistic, period=period
        )

    def metric_memory_utilization(
        self, *, cluster: str, statistic: str = "Average", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """Memory of the ``cluster``'s containers, in percent."""
        return self.service_metric(
            "MemoryUtilization", dimensions={"Cluster": _cluster(cluster)}, statistic=statistic, period=period
        )

    def metric_approximate_age_of_oldest_task(
        self, *, statistic: str = "Maximum", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """Age in seconds of the oldest task in the Celery queue: tasks wait for a worker."""
        return self.service_metric("ApproximateAgeOfOldestTask", statistic=statistic, period=period)

    def metric_database_cpu_utilization(
        self, *, database: str = "WRITER", statistic: str = "Average", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """CPU of the metadata database instance (``WRITER`` or ``READER``), in percent."""
        return self.service_metric(
            "CPUUtilization", dimensions={"Database": _database(database)}, statistic=statistic, period=period
        )

    def metric_database_freeable_memory(
        self, *, database: str = "WRITER", statistic: str = "Average", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """Free memory of the metadata database instance, in bytes."""
        return self.service_metric(
            "FreeableMemory", dimensions={"Database": _database(database)}, statistic=statistic, period=period
        )

    def metric_database_connections(
        self, *, database: str = "WRITER", statistic: str = "Average", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """Open connections to the metadata database instance."""
        return self.service_metric(
            "DatabaseConnections",
            dimensions={"Database": _database(database)},
            statistic=statistic,
            period=period,
        )


def _cluster(cluster: str) -> str:
    if cluster not in CLUSTERS:
        raise ValueError(f"cluster: got {cluster!r}; allowed clusters are {', '.join(CLUSTERS)}")
    return cluster


def _database(database: str) -> str:
    if database not in DATABASE_INSTANCES:
        raise ValueError(f"database: got {database!r}; allowed instances are {', '.join(DATABASE_INSTANCES)}")
    return database


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

    ``secrets_backend`` (default: none) makes Airflow read connections and variables from
    Secrets Manager: its two configuration options are added to ``airflow_configuration_options``
    (which must then not set them) and the execution role may read the secrets under its
    prefixes, and decrypt them with ``kms_key`` through Secrets Manager.

    Grants on :attr:`role` land in :attr:`role_policy`, the execution role's customer managed
    policy (``None`` when ``role`` is given): acknowledge cdk-nag findings of added grants there.

    ``connections`` controls the security groups; grant access with :meth:`grant_web_login`,
    :meth:`grant_cli_token` and :meth:`grant_rest_api`; let clients reach a ``PRIVATE_ONLY``
    web server with :meth:`allow_webserver_access_from`; read metrics with the ``metric_*``
    methods; import an environment with :meth:`from_environment_name`.
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
        secrets_backend: SecretsManagerBackend | None = None,
        weekly_maintenance_window_start: str | None = None,
        worker_replacement_strategy: str | None = None,
        plugins: S3ObjectVersion | None = None,
        requirements: S3ObjectVersion | None = None,
        startup_script: S3ObjectVersion | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
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
            secrets_backend=secrets_backend,
        )
        self.environment_name = environment_name
        self.environment_arn = environment_arn(self, environment_name)
        self.source_bucket = source_bucket
        self.webserver_access_mode = webserver_access_mode

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
        # The customer managed policy that holds every statement of the role created here (and
        # of later grants on it); None for a role passed in.
        self.role_policy: iam.ManagedPolicy | None = execution_role.policy if execution_role else None
        self.secrets_backend = secrets_backend
        options = dict(airflow_configuration_options or {})
        if secrets_backend is not None:
            options.update(secrets_backend.configuration_options())
            secrets_backend.grant_read(role, key=kms_key)
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
            airflow_configuration_options=dict(sorted(options.items())) or None,
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

    def allow_webserver_access_from(self, peer: ec2.IPeer, *, description: str | None = None) -> None:
        """Let ``peer`` (an IPv4 range, a security group) open the Airflow UI and REST API of a
        ``PRIVATE_ONLY`` web server: TCP 443 into the environment's security groups.

        With private access MWAA places the web server's VPC endpoint in the environment's
        security groups ("Managing access to service-specific Amazon VPC endpoints on Amazon
        MWAA", https://docs.aws.amazon.com/mwaa/latest/userguide/vpc-vpe-access.html), and
        those admit only themselves, so without such a rule no client outside the environment
        reaches the UI: a VPN or Direct Connect range, a bastion's or a load balancer's group.
        The rule changes the group, not the environment resource (no environment update).
        Groups given as immutable imports are left unchanged, as CDK does for them.

        Raises ``ValueError`` for another access mode (the UI is then served publicly by MWAA
        and the rule would open the group for no client) and for 0.0.0.0/0 or ::/0 (a private
        web server open to every address is a contradiction; cdk-nag's AwsSolutions-EC23
        refuses such a rule too)."""
        if self.webserver_access_mode != "PRIVATE_ONLY":
            raise ValueError(
                f"AirflowEnvironment allow_webserver_access_from: webserver_access_mode is "
                f"{self.webserver_access_mode!r}; the rule applies only to 'PRIVATE_ONLY' (the other "
                "modes serve the UI from a public endpoint)"
            )
        if peer.unique_id in ("0.0.0.0/0", "::/0"):
            raise ValueError(
                f"AirflowEnvironment allow_webserver_access_from: got {peer.unique_id!r}; name the "
                "networks or security groups that reach the VPC, not every address "
                "(a public UI is webserver_access_mode 'PUBLIC_ONLY')"
            )
        self.connections.allow_from(
            peer,
            ec2.Port.tcp(443),
            description or "Airflow UI and REST API of the private web server",
        )

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
        secrets_backend: SecretsManagerBackend | None,
    ) -> rules.ClassSizing:
        def fail(setting: str, value: object, allowed: str) -> None:
            raise ValueError(f"AirflowEnvironment {setting}: got {value!r}; {allowed}")

        if not rules.ENVIRONMENT_NAME_PATTERN.fullmatch(environment_name):
            fail(
                "environment_name",
                environment_name,
                "expected a letter, then letters, digits, '-' or '_' (1-80)",
            )
        version_problem = versions.version_problem(airflow_version)
        if version_problem is not None:
            fail("airflow_version", airflow_version, version_problem)
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
        access_problem = versions.access_mode_problem(webserver_access_mode, airflow_version)
        if access_problem is not None:
            fail("webserver_access_mode", webserver_access_mode, access_problem)
        window = weekly_maintenance_window_start
        if window is not None and not rules.MAINTENANCE_WINDOW_PATTERN.fullmatch(window):
            fail("weekly_maintenance_window_start", window, "expected DAY:HH:MM, minutes 00 or 30")
        for component, level in logging.items():
            if component not in rules.LOG_COMPONENTS or (level is not None and level not in rules.LOG_LEVELS):
                fail(f"logging[{component!r}]", level, f"levels: {', '.join(rules.LOG_LEVELS)} or None")
        for key, value in options.items():
            if not rules.CONFIG_OPTION_KEY_PATTERN.fullmatch(key) or not isinstance(value, str):
                fail(f"airflow_configuration_options[{key!r}]", value, "string values, 'section.option' keys")
            if secrets_backend is not None and key in rules.SECRETS_BACKEND_OPTIONS:
                fail(
                    f"airflow_configuration_options[{key!r}]",
                    options[key],
                    "secrets_backend sets this option; pass one or the other",
                )
        return rules.ENVIRONMENT_CLASSES[environment_class]


_LOGGING_ARGUMENTS = {
    "dag_processing": "dag_processing_logs",
    "scheduler": "scheduler_logs",
    "task": "task_logs",
    "webserver": "webserver_logs",
    "worker": "worker_logs",
}
