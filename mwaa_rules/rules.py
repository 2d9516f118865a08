"""The service rules of Amazon MWAA that CloudFormation does not check.

cfn-lint and the AWS::MWAA::Environment schema accept any Airflow version, any class/scheduler/
web-server combination and any maintenance-window string; a wrong one fails only after a 20-40
minute create. Both the profile model (``platform_config``) and the constructs validate against
these tables so that a bad value stops ``cdk synth`` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mwaa_rules import versions

# The version table lives in mwaa_rules.versions (with its sources); these names are the
# ones the profile model and the constructs use.
AIRFLOW_PYTHON_VERSIONS: dict[str, str] = {v.version: v.python for v in versions.SUPPORTED_VERSIONS}
DEFAULT_AIRFLOW_VERSION = versions.DEFAULT_AIRFLOW_VERSION

ENVIRONMENT_NAME_PATTERN = re.compile(r"^[a-zA-Z][0-9a-zA-Z\-_]{0,79}$")
CONFIG_OPTION_KEY_PATTERN = re.compile(r"^[a-z]+([a-z0-9._]*[a-z0-9_]+)?$")
CONFIG_OPTION_KEY_MAX_LENGTH = 64
MAINTENANCE_WINDOW_PATTERN = re.compile(r"^(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):(00|30)$")

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
WEBSERVER_ACCESS_MODES = ("PUBLIC_ONLY", "PRIVATE_ONLY", "PUBLIC_AND_PRIVATE")
WORKER_REPLACEMENT_STRATEGIES = ("FORCED", "GRACEFUL")
# Regions where MWAA offers no GRACEFUL worker replacement (user guide, "Updating an
# environment", Worker replacement strategy: https://docs.aws.amazon.com/mwaa/latest/userguide/update-environment.html).
GRACEFUL_UNSUPPORTED_REGIONS = ("ca-west-1", "ap-southeast-5")
ENDPOINT_MANAGEMENT_MODES = ("SERVICE", "CUSTOMER")
# An environment runs in exactly two private subnets of one VPC, in two availability zones
# ("About networking on Amazon MWAA",
# https://docs.aws.amazon.com/mwaa/latest/userguide/networking-about.html).
ENVIRONMENT_SUBNETS = 2

# Airflow roles MWAA maps an IAM principal to (airflow:CreateWebLoginToken, InvokeRestApi).
AIRFLOW_ROLES = ("Admin", "Op", "User", "Viewer", "Public")
# An IAM role ARN: partition, 12-digit account, optional path, name (1-64 characters).
ROLE_ARN_PATTERN = re.compile(
    r"^arn:aws(-[a-z]+)*:iam::(?P<account>\d{12}):role/(?P<path>([\w+=,.@-]+/)*)(?P<name>[\w+=,.@-]{1,64})$"
)
# The Airflow configuration options that select the secrets backend.
SECRETS_BACKEND_OPTIONS = ("secrets.backend", "secrets.backend_kwargs")
# Characters Secrets Manager allows in a secret name; a backend prefix has no '/' at either end.
SECRET_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$")

# Retention values CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip

# The five log types of an environment: profile key -> (CloudFormation key, log group suffix).
LOG_COMPONENTS: dict[str, tuple[str, str]] = {
    "dag_processing": ("DagProcessingLogs", "DAGProcessing"),
    "scheduler": ("SchedulerLogs", "Scheduler"),
    "task": ("TaskLogs", "Task"),
    "webserver": ("WebserverLogs", "WebServer"),
    "worker": ("WorkerLogs", "Worker"),
}

# Log level of each component unless configured: warnings and up, and everything a task logs.
DEFAULT_LOG_LEVELS: dict[str, str] = {
    "dag_processing": "WARNING",
    "scheduler": "WARNING",
    "task": "INFO",
    "webserver": "WARNING",
    "worker": "WARNING",
}

MAX_WORKERS_QUOTA = 25


@dataclass(frozen=True)
class ClassSizing:
    """Allowed and default capacity of one environment class."""

    schedulers: tuple[int, int]
    webservers: tuple[int, int]
    max_workers: int
    default_schedulers: int
    default_webservers: int
    default_max_workers: int


_MICRO = ClassSizing((1, 1), (1, 1), 1, 1, 1, 1)
_STANDARD = ClassSizing((2, 5), (2, 5), MAX_WORKERS_QUOTA, 2, 2, 10)

ENVIRONMENT_CLASSES: dict[str, ClassSizing] = {
    "mw1.micro": _MICRO,
    "mw1.small": _STANDARD,
    "mw1.medium": _STANDARD,
    "mw1.large": _STANDARD,
    "mw1.xlarge": _STANDARD,
    "mw1.2xlarge": _STANDARD,
}

# What an environment gets where its profile says nothing; the cost model assumes the class and
# the minimum of workers for a template whose EnvironmentClass or MinWorkers is absent or not a
# plain value. The web server defaults to the environment's own network (PRIVATE_ONLY).
DEFAULT_ENVIRONMENT_CLASS = "mw1.small"
DEFAULT_MIN_WORKERS = 1
DEFAULT_WEBSERVER_ACCESS_MODE = "PRIVATE_ONLY"
DEFAULT_ENDPOINT_MANAGEMENT = "SERVICE"


@dataclass(frozen=True)
class SizeProblem:
    """A size an environment class does not allow: ``value`` of ``setting`` outside ``low`` to
    ``high``, or above the value ``limit`` of the setting ``exceeds`` (a minimum above its maximum)."""

    setting: str
    value: int
    low: int | None = None
    high: int | None = None
    exceeds: str | None = None
    limit: int | None = None


def size_ranges(environment_class: str) -> dict[str, tuple[int, int]]:
    """The sizes ``environment_class`` (one of :data:`ENVIRONMENT_CLASSES`) allows, per setting."""
    sizing = ENVIRONMENT_CLASSES[environment_class]
    return {
        "schedulers": sizing.schedulers,
        "min_webservers": sizing.webservers,
        "max_webservers": sizing.webservers,
        "min_workers": (1, sizing.max_workers),
        "max_workers": (1, sizing.max_workers),
    }


def sizing_problems(
    environment_class: str,
    *,
    schedulers: int | None,
    min_webservers: int | None,
    max_webservers: int | None,
    min_workers: int | None,
    max_workers: int | None,
) -> list[SizeProblem]:
    """What ``environment_class`` (one of :data:`ENVIRONMENT_CLASSES`) does not allow of these
    sizes, in this order: schedulers, web servers, workers, each range before its order. A size of
    None is not known (a token, or a value already refused for its type): it is not checked.

    CloudFormation accepts any combination; MWAA refuses one outside the class's ranges only after
    a create or update has started (MWAA user guide, "Amazon MWAA environment class",
    https://docs.aws.amazon.com/mwaa/latest/userguide/environment-class.html). The profile model
    and the ``AirflowEnvironment`` construct both apply it, each in the words of its own settings."""
    ranges = size_ranges(environment_class)
    sizes = {
        "schedulers": schedulers,
        "min_webservers": min_webservers,
        "max_webservers": max_webservers,
        "min_workers": min_workers,
        "max_workers": max_workers,
    }
    problems: list[SizeProblem] = []

    def within(setting: str) -> None:
        value, (low, high) = sizes[setting], ranges[setting]
        if value is not None and not low <= value <= high:
            problems.append(SizeProblem(setting, value, low=low, high=high))

    def ordered(low_setting: str, high_setting: str) -> None:
        low, high = sizes[low_setting], sizes[high_setting]
        if low is not None and high is not None and low > high:
            problems.append(SizeProblem(low_setting, low, exceeds=high_setting, limit=high))

    for setting in ("schedulers", "min_webservers", "max_webservers"):
        within(setting)
    ordered("min_webservers", "max_webservers")
    within("min_workers")
    within("max_workers")
    ordered("min_workers", "max_workers")
    return problems


def worker_replacement_problem(strategy: str, region: str | None) -> str | None:
    """Why worker replacement ``strategy`` cannot be used in ``region`` (None if it can, or when the
    region is not known): MWAA offers no GRACEFUL replacement in
    :data:`GRACEFUL_UNSUPPORTED_REGIONS`."""
    if strategy != "GRACEFUL" or region not in GRACEFUL_UNSUPPORTED_REGIONS:
        return None
    others = ", ".join(f"'{r}'" for r in GRACEFUL_UNSUPPORTED_REGIONS if r != region)
    return (
        f"MWAA offers no GRACEFUL worker replacement in {region} (nor in {others}): "
        "use 'FORCED' or leave it unset"
    )


def log_group_name(environment_name: str, component: str) -> str:
    """Name of the CloudWatch log group MWAA writes ``component`` logs of an environment to."""
    return f"airflow-{environment_name}-{LOG_COMPONENTS[component][1]}"


def constraint_url(airflow_version: str) -> str:
    """The Airflow constraints file MWAA expects in requirements for ``airflow_version``."""
    return versions.get(airflow_version).constraints_url
