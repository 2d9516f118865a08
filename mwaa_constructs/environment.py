"""An L2-style construct for an Amazon MWAA environment (CDK ships only ``CfnEnvironment``)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict, Unpack, cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_mwaa as mwaa
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mwaa_constructs.execution_role import ExecutionRole, environment_arn
from mwaa_constructs.log_groups import AirflowLogGroups
from mwaa_constructs.network import (
    MAX_SECURITY_GROUPS,
    Problem,
    environment_security_group,
    select_environment_subnets,
)
from mwaa_constructs.secrets_backend import SecretsManagerBackend
from mwaa_rules import rules, versions

AIRFLOW_ROLES = rules.AIRFLOW_ROLES
# Namespaces of the metrics MWAA publishes: Airflow's own metrics, and the container, queue and
# metadata database metrics ("Monitoring and metrics for Amazon MWAA",
# https://docs.aws.amazon.com/mwaa/latest/userguide/access-metrics-cw.html and
# https://docs.aws.amazon.com/mwaa/latest/userguide/accessing-metrics-cw-container-queue-db.html).
AIRFLOW_NAMESPACE = "AmazonMWAA"
SERVICE_NAMESPACE = "AWS/MWAA"
# Values of the ``Cluster`` dimension of the container metrics in ``AWS/MWAA``.
CLUSTERS = ("Scheduler", "BaseWorker", "AdditionalWorker", "WebServer")
# Values of the ``Database`` dimension of the metadata database metrics in ``AWS/MWAA``.
DATABASE_INSTANCES = ("WRITER", "READER")
_DEFAULT_PERIOD = cdk.Duration.minutes(5)
# The web server (UI, REST API) and the environment's VPC endpoints listen on HTTPS.
WEBSERVER_PORT = 443


class EnvironmentClass(enum.StrEnum):
    """MWAA's environment classes (``EnvironmentClass``). What each allows in schedulers, web
    servers and workers is ``mwaa_rules.rules.ENVIRONMENT_CLASSES``. A member is a ``str``, so
    the plain value (``"mw1.small"``) is accepted wherever a member is."""

    MW1_MICRO = "mw1.micro"
    MW1_SMALL = "mw1.small"
    MW1_MEDIUM = "mw1.medium"
    MW1_LARGE = "mw1.large"
    MW1_XLARGE = "mw1.xlarge"
    MW1_2XLARGE = "mw1.2xlarge"


class WebserverAccessMode(enum.StrEnum):
    """Who reaches the Airflow web server (``WebserverAccessMode``); every mode still requires
    an IAM-authorized login. ``PUBLIC_AND_PRIVATE`` needs Airflow 3.2 or later."""

    PUBLIC_ONLY = "PUBLIC_ONLY"
    PRIVATE_ONLY = "PRIVATE_ONLY"
    PUBLIC_AND_PRIVATE = "PUBLIC_AND_PRIVATE"


class LogLevel(enum.StrEnum):
    """The level of one log type of the environment (``LoggingConfiguration``)."""

    CRITICAL = "CRITICAL"
    ERROR = "ERROR"
    WARNING = "WARNING"
    INFO = "INFO"
    DEBUG = "DEBUG"


class EndpointManagement(enum.StrEnum):
    """Who creates the environment's VPC endpoints: MWAA (``SERVICE``) or the VPC's owner
    (``CUSTOMER``, for shared VPCs; the environment waits until they exist)."""

    SERVICE = "SERVICE"
    CUSTOMER = "CUSTOMER"


class WorkerReplacementStrategy(enum.StrEnum):
    """How an update replaces workers: at once (``FORCED``) or after their tasks end
    (``GRACEFUL``, up to 12 hours)."""

    FORCED = "FORCED"
    GRACEFUL = "GRACEFUL"


# The defaults of the construct's arguments, from the rules (as members, so a rule's default that
# is not a member fails on import).
_DEFAULT_CLASS = EnvironmentClass(rules.DEFAULT_ENVIRONMENT_CLASS)
_DEFAULT_ACCESS_MODE = WebserverAccessMode(rules.DEFAULT_WEBSERVER_ACCESS_MODE)
_DEFAULT_ENDPOINT_MANAGEMENT = EndpointManagement(rules.DEFAULT_ENDPOINT_MANAGEMENT)


class EnvironmentMetricOptions(TypedDict, total=False):
    """The fields of ``cloudwatch.MetricOptions`` that the ``metric_*`` methods pass on to the
    metric. The dimensions are the method's own; ``period`` is 5 minutes unless given, the
    statistic the method's default (each docstring names it)."""

    account: str
    color: str
    label: str
    period: cdk.Duration
    region: str
    statistic: str
    unit: cloudwatch.Unit


@dataclass(frozen=True, kw_only=True)
class S3ObjectVersion:
    """An object in the source bucket pinned to one version, as MWAA needs for plugins,
    requirements and the startup script (a new version is only picked up when passed)."""

    key: str
    version: str


@jsii.implements(ec2.IConnectable, iam.IGrantable)
class EnvironmentBase(cdk.Resource):
    """What created and imported environments share: ``connections`` (``ec2.IConnectable``: the
    environment's security groups, default port 443), ``grant_principal`` (``iam.IGrantable``:
    the execution role, so ``bucket.grant_read(environment)`` grants the DAGs access), grants to
    other principals and metrics. Create one with :class:`AirflowEnvironment`, import one with
    :meth:`AirflowEnvironment.from_environment_attributes`."""

    environment_name: str
    environment_arn: str
    _connections: ec2.Connections
    _grant_principal: iam.IPrincipal

    @property
    def connections(self) -> ec2.Connections:
        """The environment's security groups: ``other.connections.allow_from(environment, port)``
        lets the environment in elsewhere; ``environment.connections.allow_from(peer, port)``
        lets ``peer`` into the environment (its web server endpoint, with ``PRIVATE_ONLY``)."""
        return self._connections

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The execution role the environment's schedulers and workers run as."""
        return self._grant_principal

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
        namespace: str = AIRFLOW_NAMESPACE,
        dimensions: Mapping[str, str] | None = None,
        **options: Unpack[EnvironmentMetricOptions],
    ) -> cloudwatch.Metric:
        """The metric ``metric_name`` of this environment: dimension ``Environment`` plus
        ``dimensions`` (Airflow metrics in ``AmazonMWAA`` carry e.g. ``Function``, or ``DAG`` and
        ``Task``; service metrics in ``AWS/MWAA`` ``Cluster`` or ``Database``). Average over 5
        minutes unless ``options`` say otherwise."""
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=metric_name,
            dimensions_map={"Environment": self.environment_name, **(dimensions or {})},
            **_with_defaults(options, statistic="Average"),
        )

    def service_metric(
        self,
        metric_name: str,
        *,
        dimensions: Mapping[str, str] | None = None,
        **options: Unpack[EnvironmentMetricOptions],
    ) -> cloudwatch.Metric:
        """:meth:`metric` in ``AWS/MWAA``: a container, queue or metadata database metric."""
        return self.metric(metric_name, namespace=SERVICE_NAMESPACE, dimensions=dimensions, **options)

    def metric_queued_tasks(self, **options: Unpack[EnvironmentMetricOptions]) -> cloudwatch.Metric:
        """Tasks waiting for a worker (``QueuedTasks``, ``Function=Executor``; Average): sustained
        growth means ``max_workers`` is too low."""
        return self.metric("QueuedTasks", dimensions={"Function": "Executor"}, **options)

    def metric_running_tasks(self, **options: Unpack[EnvironmentMetricOptions]) -> cloudwatch.Metric:
        """Tasks running on the workers (``RunningTasks``, ``Function=Executor``; Average)."""
        return self.metric("RunningTasks", dimensions={"Function": "Executor"}, **options)

    def metric_scheduler_heartbeat(self, **options: Unpack[EnvironmentMetricOptions]) -> cloudwatch.Metric:
        """Scheduler heartbeats (``SchedulerHeartbeat``, ``Function=Scheduler``; Sum): zero while
        the scheduler runs means it is stuck. Nothing is published while no scheduler runs."""
        return self.metric(
            "SchedulerHeartbeat",
            dimensions={"Function": "Scheduler"},
            **_with_defaults(options, statistic="Sum"),
        )

    def metric_import_errors(self, **options: Unpack[EnvironmentMetricOptions]) -> cloudwatch.Metric:
        """DAG files that failed to import (``ImportErrors``, ``Function=DAG Processing``, a gauge
        of the DAG processor; Maximum)."""
        return self.metric(
            "ImportErrors",
            dimensions={"Function": "DAG Processing"},
            **_with_defaults(options, statistic="Maximum"),
        )

    def metric_task_instance_failures(self, **options: Unpack[EnvironmentMetricOptions]) -> cloudwatch.Metric:
        """Failed task instances of all DAGs (``TaskInstanceFailures``, ``DAG=All``, ``Task=All``; Sum)."""
        return self.metric(
            "TaskInstanceFailures",
            dimensions={"DAG": "All", "Task": "All"},
            **_with_defaults(options, statistic="Sum"),
        )

    def metric_cpu_utilization(
        self, *, cluster: str, **options: Unpack[EnvironmentMetricOptions]
    ) -> cloudwatch.Metric:
        """CPU of the ``cluster``'s containers (``Scheduler``, ``BaseWorker``, ``AdditionalWorker``,
        ``WebServer``), in percent (Average). ``statistic="SampleCount"`` counts the running
        containers."""
        return self.service_metric("CPUUtilization", dimensions={"Cluster": _cluster(cluster)}, **options)

    def metric_memory_utilization(
        self, *, cluster: str, **options: Unpack[EnvironmentMetricOptions]
    ) -> cloudwatch.Metric:
        """Memory of the ``cluster``'s containers, in percent (Average)."""
        return self.service_metric("MemoryUtilization", dimensions={"Cluster": _cluster(cluster)}, **options)

    def metric_approximate_age_of_oldest_task(
        self,
        *,
        period: cdk.Duration | None = None,
        label: str | None = None,
        color: str | None = None,
    ) -> cloudwatch.MathExpression:
        """Age in seconds of the oldest task in the Celery queue (tasks wait for a worker): the
        largest ``ApproximateAgeOfOldestTask`` in ``AWS/MWAA`` of any series whose
        ``Environment`` is this environment, as a CloudWatch Metrics Insights query.

        A query, not a plain metric, because MWAA publishes the queue metrics with a ``Queue``
        dimension whose value it does not document
        (https://docs.aws.amazon.com/mwaa/latest/userguide/accessing-metrics-cw-container-queue-db.html):
        a metric with the ``Environment`` dimension alone could name a series that is never
        published. ``FROM "AWS/MWAA"`` without ``SCHEMA`` matches the metric whatever other
        dimensions it has
        (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html).
        The statistic is the query's ``MAX``; an empty queue publishes nothing (missing data)."""
        return cloudwatch.MathExpression(
            expression=(
                'SELECT MAX(ApproximateAgeOfOldestTask) FROM "AWS/MWAA" '
                f"WHERE Environment = '{self.environment_name}'"
            ),
            label=label or "Age of the oldest queued task",
            period=period or _DEFAULT_PERIOD,
            color=color,
        )

    def metric_database_cpu_utilization(
        self, *, database: str = "WRITER", **options: Unpack[EnvironmentMetricOptions]
    ) -> cloudwatch.Metric:
        """CPU of the metadata database instance (``WRITER`` or ``READER``), in percent (Average)."""
        return self.service_metric("CPUUtilization", dimensions={"Database": _database(database)}, **options)

    def metric_database_freeable_memory(
        self, *, database: str = "WRITER", **options: Unpack[EnvironmentMetricOptions]
    ) -> cloudwatch.Metric:
        """Free memory of the metadata database instance, in bytes (Average)."""
        return self.service_metric("FreeableMemory", dimensions={"Database": _database(database)}, **options)

    def metric_database_connections(
        self, *, database: str = "WRITER", **options: Unpack[EnvironmentMetricOptions]
    ) -> cloudwatch.Metric:
        """Open connections to the metadata database instance (Average)."""
        return self.service_metric(
            "DatabaseConnections", dimensions={"Database": _database(database)}, **options
        )


def _with_defaults(options: EnvironmentMetricOptions, *, statistic: str) -> EnvironmentMetricOptions:
    """``options`` over the defaults: ``statistic`` and a 5-minute period."""
    settings = EnvironmentMetricOptions(statistic=statistic, period=_DEFAULT_PERIOD)
    settings.update(options)
    return settings


def _cluster(cluster: str) -> str:
    if cluster not in CLUSTERS:
        raise ValueError(f"cluster: got {cluster!r}; allowed clusters are {', '.join(CLUSTERS)}")
    return cluster


def _database(database: str) -> str:
    if database not in DATABASE_INSTANCES:
        raise ValueError(f"database: got {database!r}; allowed instances are {', '.join(DATABASE_INSTANCES)}")
    return database


def _connections(security_groups: Sequence[ec2.ISecurityGroup]) -> ec2.Connections:
    return ec2.Connections(security_groups=list(security_groups), default_port=ec2.Port.tcp(WEBSERVER_PORT))


class _ImportedEnvironment(EnvironmentBase):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        role: iam.IRole | None,
        security_groups: Sequence[ec2.ISecurityGroup],
    ) -> None:
        super().__init__(scope, id)
        self.environment_name = environment_name
        self.environment_arn = environment_arn(self, environment_name)
        self.role = role
        self._connections = _connections(security_groups)
        # What CDK uses for resources imported without a role: a grant to it is reported (a
        # warning, or an error for resource grants), never silently dropped. The cast: jsii's
        # Python class of UnknownPrincipal lacks IPrincipal's optional principal_account.
        self._grant_principal = (
            role if role is not None else cast(iam.IPrincipal, iam.UnknownPrincipal(resource=self))
        )


class AirflowEnvironment(EnvironmentBase):
    """An Amazon MWAA environment with secure defaults.

    Network: it runs in ``vpc`` (required; ``None`` only with the deprecated ``subnets``), in
    the two subnets ``vpc_subnets`` selects (default: one private subnet in each of two
    availability zones of ``vpc``, its subnets with egress if it has any, else its isolated
    ones), with ``security_groups`` (default: a new group that admits TCP 443 and 5432 from
    itself and allows all outbound traffic, :attr:`security_groups`). MWAA needs exactly two
    private subnets in different zones and one to five groups: other inputs fail at synthesis,
    except values CDK knows only at deploy time (tokens).

    Created unless given: the five log groups (:class:`AirflowLogGroups`, with
    ``log_retention``, ``kms_key`` and ``removal_policy``) and a least-privilege execution role
    (:class:`ExecutionRole`). The environment resource depends on both, so MWAA never creates
    log groups without expiry and never starts before its role's policy exists.

    Size: ``environment_class`` (default ``mw1.small``), ``min_workers`` (default 1),
    ``max_workers`` (default: the class's default, 10, or ``min_workers`` if larger),
    ``schedulers``, ``min_webservers`` and ``max_webservers`` (default: the class's default, 2;
    1 on ``mw1.micro``), each checked against what the class allows
    (``mwaa_rules.rules.ENVIRONMENT_CLASSES``).

    Every log type is sent with both ``Enabled`` and ``LogLevel`` set; ``logging`` maps each
    component (``dag_processing``, ``scheduler``, ``task``, ``webserver``, ``worker``) to a
    :class:`LogLevel`, or to ``None`` to disable it (default: WARNING, task INFO).

    ``plugins``, ``requirements`` and ``startup_script`` are objects pinned to a version: MWAA
    ignores a file overwritten under the same version. Pass the versions the deployments produce
    (see :class:`mwaa_constructs.artifacts.AirflowArtifacts`).

    ``secrets_backend`` (default: none) makes Airflow read connections and variables from
    Secrets Manager: its two configuration options are added to ``airflow_configuration_options``
    (which must then not set them) and the execution role may read the secrets under its
    prefixes, and decrypt them with ``kms_key`` through Secrets Manager.

    Grants on :attr:`role` land in :attr:`role_policy`, the execution role's customer managed
    policy (``None`` when ``role`` is given): acknowledge cdk-nag findings of added grants there.
    The environment is an ``iam.IGrantable`` (its execution role) and an ``ec2.IConnectable``
    (its security groups, default port 443).

    Grant access with :meth:`grant_web_login`, :meth:`grant_cli_token` and
    :meth:`grant_rest_api`; let clients reach a ``PRIVATE_ONLY`` web server with
    :meth:`allow_webserver_access_from`; read metrics with the ``metric_*`` methods; import an
    environment with :meth:`from_environment_attributes`.

    ``subnets`` is deprecated: pass ``vpc`` and ``vpc_subnets=ec2.SubnetSelection(subnets=...)``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        source_bucket: s3.IBucket,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        airflow_version: str = rules.DEFAULT_AIRFLOW_VERSION,
        environment_class: EnvironmentClass | str = _DEFAULT_CLASS,
        min_workers: int = rules.DEFAULT_MIN_WORKERS,
        max_workers: int | None = None,
        schedulers: int | None = None,
        min_webservers: int | None = None,
        max_webservers: int | None = None,
        webserver_access_mode: WebserverAccessMode | str = _DEFAULT_ACCESS_MODE,
        endpoint_management: EndpointManagement | str = _DEFAULT_ENDPOINT_MANAGEMENT,
        dag_s3_path: str = "dags",
        kms_key: kms.IKey | None = None,
        role: iam.IRole | None = None,
        log_groups: AirflowLogGroups | None = None,
        logging: Mapping[str, LogLevel | str | None] | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        airflow_configuration_options: Mapping[str, str] | None = None,
        secrets_backend: SecretsManagerBackend | None = None,
        weekly_maintenance_window_start: str | None = None,
        worker_replacement_strategy: WorkerReplacementStrategy | str | None = None,
        plugins: S3ObjectVersion | None = None,
        requirements: S3ObjectVersion | None = None,
        startup_script: S3ObjectVersion | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        subnets: Sequence[ec2.ISubnet] | None = None,
    ) -> None:
        super().__init__(scope, id, physical_name=environment_name)
        problems: list[Problem] = []
        if subnets is not None:
            if vpc_subnets is not None:
                problems.append(
                    (
                        "subnets",
                        [s.node.path for s in subnets],
                        "deprecated; given with vpc_subnets: pass vpc_subnets only",
                    )
                )
            else:
                cdk.Annotations.of(self).add_warning_v2(
                    "mwaa-constructs:environmentSubnetsDeprecated",
                    "AirflowEnvironment subnets is deprecated: pass vpc and "
                    "vpc_subnets=ec2.SubnetSelection(subnets=[...]) instead",
                )
                vpc_subnets = ec2.SubnetSelection(subnets=list(subnets))
        chosen_subnets, subnet_problems = select_environment_subnets(vpc, vpc_subnets)
        problems += subnet_problems
        if security_groups is not None and not 1 <= len(security_groups) <= MAX_SECURITY_GROUPS:
            problems.append(
                (
                    "security_groups",
                    len(security_groups),
                    f"MWAA takes 1 to {MAX_SECURITY_GROUPS} security groups",
                )
            )
        if security_groups is None and vpc is None:
            problems.append(("security_groups", None, "required without vpc (no VPC to create a group in)"))

        environment_class = str(environment_class)
        webserver_access_mode = str(webserver_access_mode)
        endpoint_management = str(endpoint_management)
        strategy = None if worker_replacement_strategy is None else str(worker_replacement_strategy)
        levels = {
            component: None if level is None else str(level) for component, level in (logging or {}).items()
        }
        problems += _setting_problems(
            scope=self,
            environment_name=environment_name,
            airflow_version=airflow_version,
            environment_class=environment_class,
            webserver_access_mode=webserver_access_mode,
            endpoint_management=endpoint_management,
            worker_replacement_strategy=strategy,
            weekly_maintenance_window_start=weekly_maintenance_window_start,
            logging=levels,
            options=airflow_configuration_options or {},
            secrets_backend=secrets_backend,
        )
        sizing = (
            None
            if cdk.Token.is_unresolved(environment_class)
            else rules.ENVIRONMENT_CLASSES.get(environment_class)
        )
        if sizing is not None:
            max_workers = _default(max_workers, sizing.default_max_workers, at_least=min_workers)
            schedulers = _default(schedulers, sizing.default_schedulers)
            min_webservers = _default(min_webservers, sizing.default_webservers)
            max_webservers = _default(max_webservers, sizing.default_webservers, at_least=min_webservers)
            problems += _sizing_problems(
                environment_class,
                sizing,
                min_workers=min_workers,
                max_workers=max_workers,
                schedulers=schedulers,
                min_webservers=min_webservers,
                max_webservers=max_webservers,
            )
        if problems:
            raise ValueError(
                "\n".join(
                    f"AirflowEnvironment {setting}: got {value!r}; {allowed}"
                    for setting, value, allowed in problems
                )
            )

        self.environment_name = environment_name
        self.environment_arn = environment_arn(self, environment_name)
        self.source_bucket = source_bucket
        self.webserver_access_mode = webserver_access_mode
        self.vpc = vpc
        # The two subnets the environment runs in.
        self.subnets: list[ec2.ISubnet] = chosen_subnets

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
        self._grant_principal = role
        # The customer managed policy that holds every statement of the role created here (and
        # of later grants on it); None for a role passed in.
        self.role_policy: iam.ManagedPolicy | None = execution_role.policy if execution_role else None
        self.secrets_backend = secrets_backend
        options = dict(airflow_configuration_options or {})
        if secrets_backend is not None:
            options.update(secrets_backend.configuration_options())
            secrets_backend.grant_read(role, key=kms_key)
        if security_groups is None and vpc is not None:
            security_groups = [environment_security_group(self, "SecurityGroup", vpc=vpc)]
        # The groups the environment is in (1 to 5, checked above).
        self.security_groups: list[ec2.ISecurityGroup] = list(security_groups or ())
        self._connections = _connections(self.security_groups)

        merged_levels = {**rules.DEFAULT_LOG_LEVELS, **levels}
        logging_configuration = mwaa.CfnEnvironment.LoggingConfigurationProperty(
            **{
                _LOGGING_ARGUMENTS[component]: mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty(
                    enabled=merged_levels[component] is not None,
                    # Always both fields (aws-cdk#30645); a disabled type keeps a valid level.
                    log_level=merged_levels[component] or rules.DEFAULT_LOG_LEVELS[component],
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
                subnet_ids=[subnet.subnet_id for subnet in self.subnets],
                security_group_ids=[group.security_group_id for group in self.security_groups],
            ),
            webserver_access_mode=webserver_access_mode,
            endpoint_management=endpoint_management,
            # Left out only for a class known at deploy time alone: MWAA then applies its own
            # defaults for that class.
            min_workers=min_workers,
            max_workers=max_workers,
            schedulers=schedulers,
            min_webservers=min_webservers,
            max_webservers=max_webservers,
            logging_configuration=logging_configuration,
            airflow_configuration_options=dict(sorted(options.items())) or None,
            weekly_maintenance_window_start=weekly_maintenance_window_start,
            worker_replacement_strategy=strategy,
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
    def from_environment_attributes(
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        role: iam.IRole | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
    ) -> EnvironmentBase:
        """Reference an environment created elsewhere, in this stack's account and region:
        grants to other principals, metrics and ``connections`` work without creating anything.

        ``role`` is its execution role: grants to the environment (``bucket.grant_read(env)``)
        go to it (an immutable import, ``iam.Role.from_role_arn(..., mutable=False)``, leaves
        the role unchanged). Without ``role`` they have nowhere to go, as for any CDK resource
        imported without its role: ``iam.Grant.add_to_principal`` reports a warning, resource
        grants such as ``bucket.grant_read`` fail. ``security_groups`` are the environment's
        groups: ``connections`` adds rules to them (unless they are imported immutable)."""
        if not cdk.Token.is_unresolved(environment_name) and not rules.ENVIRONMENT_NAME_PATTERN.fullmatch(
            environment_name
        ):
            raise ValueError(f"AirflowEnvironment environment_name: got {environment_name!r}; {_NAME_RULE}")
        return _ImportedEnvironment(
            scope, id, environment_name=environment_name, role=role, security_groups=security_groups
        )

    @staticmethod
    def from_environment_name(scope: Construct, id: str, environment_name: str) -> EnvironmentBase:
        """:meth:`from_environment_attributes` with the name alone (no role, no security groups)."""
        return AirflowEnvironment.from_environment_attributes(scope, id, environment_name=environment_name)

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
        refuses such a rule too). An access mode known only at deploy time is not checked."""
        mode = self.webserver_access_mode
        if not cdk.Token.is_unresolved(mode) and mode != WebserverAccessMode.PRIVATE_ONLY:
            raise ValueError(
                f"AirflowEnvironment allow_webserver_access_from: webserver_access_mode is "
                f"{mode!r}; the rule applies only to 'PRIVATE_ONLY' (the other "
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
            ec2.Port.tcp(WEBSERVER_PORT),
            description or "Airflow UI and REST API of the private web server",
        )

    def add_dependency_on_artifact(self, dependency: Construct) -> None:
        """Make the environment wait for ``dependency`` (e.g. the first DAG upload) on create.

        A dependency changes no property of the environment, so it never causes an update."""
        self.resource.node.add_dependency(dependency)


_NAME_RULE = "expected a letter, then letters, digits, '-' or '_' (1-80)"


def _known(value: object) -> bool:
    """Whether ``value`` is given and is not a token (a value CDK knows only at deploy time)."""
    return value is not None and not cdk.Token.is_unresolved(value)


def _default(value: int | None, default: int, *, at_least: int | None = None) -> int:
    """``value``, or ``default`` raised to ``at_least`` when that is known."""
    if value is not None:
        return value
    if at_least is not None and not cdk.Token.is_unresolved(at_least):
        return max(default, at_least)
    return default


def _allows(environment_class: str, low: int, high: int, what: str) -> str:
    """``mw1.small allows 2 to 5 schedulers``, ``mw1.micro allows exactly 1 scheduler``."""
    amount = f"exactly {low}" if low == high else f"{low} to {high}"
    return f"{environment_class} allows {amount} {what}{'' if high == 1 else 's'}"


# What each size counts, for the construct's messages ("mw1.small allows 2 to 5 web servers").
_SIZE_NOUNS = {
    "schedulers": "scheduler",
    "min_webservers": "web server",
    "max_webservers": "web server",
    "min_workers": "worker",
    "max_workers": "worker",
}


def _sizing_problems(
    environment_class: str,
    sizing: rules.ClassSizing,
    *,
    min_workers: int,
    max_workers: int,
    schedulers: int,
    min_webservers: int,
    max_webservers: int,
) -> list[Problem]:
    """What ``environment_class`` does not allow of the given sizes; tokens are not checked.

    The ranges and the order are MWAA's rule, :func:`mwaa_rules.rules.sizing_problems`, which the
    profile model applies too; this adds the type of each value and the construct's wording."""
    given = {
        "schedulers": schedulers,
        "min_webservers": min_webservers,
        "max_webservers": max_webservers,
        "min_workers": min_workers,
        "max_workers": max_workers,
    }
    ranges = rules.size_ranges(environment_class)
    problems: list[Problem] = []
    whole: dict[str, int | None] = {}
    for setting, value in given.items():
        whole[setting] = None
        if not _known(value):
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            low, high = ranges[setting]
            allowed = _allows(environment_class, low, high, _SIZE_NOUNS[setting])
            problems.append((setting, value, f"expected a whole number; {allowed}"))
        else:
            whole[setting] = value
    for problem in rules.sizing_problems(environment_class, **whole):
        if problem.exceeds is not None:
            allowed = f"must not exceed {problem.exceeds} ({problem.limit})"
            problems.append((problem.setting, problem.value, allowed))
        else:
            assert problem.low is not None and problem.high is not None
            allowed = _allows(environment_class, problem.low, problem.high, _SIZE_NOUNS[problem.setting])
            problems.append((problem.setting, problem.value, allowed))
    return problems


def _setting_problems(
    *,
    scope: Construct,
    environment_name: str,
    airflow_version: str,
    environment_class: str,
    webserver_access_mode: str,
    endpoint_management: str,
    worker_replacement_strategy: str | None,
    weekly_maintenance_window_start: str | None,
    logging: Mapping[str, str | None],
    options: Mapping[str, str],
    secrets_backend: SecretsManagerBackend | None,
) -> list[Problem]:
    """What is wrong with the settings other than network and size; tokens are not checked."""
    problems: list[Problem] = []

    def choice(setting: str, value: str | None, allowed: Sequence[str]) -> None:
        if _known(value) and value not in allowed:
            problems.append((setting, value, f"allowed: {', '.join(allowed)}"))

    if _known(environment_name) and not rules.ENVIRONMENT_NAME_PATTERN.fullmatch(environment_name):
        problems.append(("environment_name", environment_name, _NAME_RULE))
    version_problem = versions.version_problem(airflow_version) if _known(airflow_version) else None
    if version_problem is not None:
        problems.append(("airflow_version", airflow_version, version_problem))
    choice("environment_class", environment_class, list(rules.ENVIRONMENT_CLASSES))
    choice("webserver_access_mode", webserver_access_mode, rules.WEBSERVER_ACCESS_MODES)
    if (
        version_problem is None
        and _known(airflow_version)
        and _known(webserver_access_mode)
        and webserver_access_mode in rules.WEBSERVER_ACCESS_MODES
    ):
        access_problem = versions.access_mode_problem(webserver_access_mode, airflow_version)
        if access_problem is not None:
            problems.append(("webserver_access_mode", webserver_access_mode, access_problem))
    choice("endpoint_management", endpoint_management, rules.ENDPOINT_MANAGEMENT_MODES)
    choice("worker_replacement_strategy", worker_replacement_strategy, rules.WORKER_REPLACEMENT_STRATEGIES)
    region = cdk.Stack.of(scope).region
    # MWAA's rule, as the profile model applies it (mwaa_rules.rules).
    region_problem = (
        rules.worker_replacement_problem(worker_replacement_strategy, region)
        if worker_replacement_strategy is not None and _known(region)
        else None
    )
    if region_problem is not None:
        problems.append(("worker_replacement_strategy", worker_replacement_strategy, region_problem))
    window = weekly_maintenance_window_start
    if window is not None and _known(window) and not rules.MAINTENANCE_WINDOW_PATTERN.fullmatch(window):
        problems.append(("weekly_maintenance_window_start", window, "expected DAY:HH:MM, minutes 00 or 30"))
    for component, level in logging.items():
        if component not in rules.LOG_COMPONENTS:
            problems.append(
                (f"logging[{component!r}]", level, f"components: {', '.join(rules.LOG_COMPONENTS)}")
            )
        elif level is not None and _known(level) and level not in rules.LOG_LEVELS:
            problems.append(
                (f"logging[{component!r}]", level, f"levels: {', '.join(rules.LOG_LEVELS)} or None")
            )
    for key, value in options.items():
        if not rules.CONFIG_OPTION_KEY_PATTERN.fullmatch(key) or not isinstance(value, str):
            problems.append(
                (f"airflow_configuration_options[{key!r}]", value, "string values, 'section.option' keys")
            )
        if secrets_backend is not None and key in rules.SECRETS_BACKEND_OPTIONS:
            problems.append(
                (
                    f"airflow_configuration_options[{key!r}]",
                    value,
                    "secrets_backend sets this option; pass one or the other",
                )
            )
    return problems


_LOGGING_ARGUMENTS = {
    "dag_processing": "dag_processing_logs",
    "scheduler": "scheduler_logs",
    "task": "task_logs",
    "webserver": "webserver_logs",
    "worker": "worker_logs",
}
