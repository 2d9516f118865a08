"""Typed deployment profiles, read from the ``profiles`` key of ``cdk.json``.

A profile is parsed into :class:`Profile` before any construct exists. Every problem found is
collected and reported together as a :class:`ProfileError` whose lines name the profile, the
setting, the value received and what is allowed, so a bad profile never reaches CloudFormation.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from mwaa_constructs import rules, versions

NetworkMode = Literal["nat", "isolated", "existing"]
Encryption = Literal["customer_managed", "aws_owned"]
RemovalPolicyName = Literal["retain", "destroy"]

DEFAULT_PROFILE = "dev"
LOG_DISABLED = "DISABLED"
COMPLIANCE_PACKS = ("nist-800-53-r5", "hipaa", "pci-dss-3.2.1")
"""cdk-nag rule packs a profile may add to AwsSolutions, which always runs (``compliance``)."""

_ACCOUNT_PATTERN = re.compile(r"^\d{12}$")
_REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_CIDR_PATTERN = re.compile(r"\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?")
_VPC_ID_PATTERN = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")
_SUBNET_ID_PATTERN = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
_SECURITY_GROUP_ID_PATTERN = re.compile(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$")
_DAG_PATH_PATTERN = re.compile(r"^[a-zA-Z0-9!_.*'()-]+(/[a-zA-Z0-9!_.*'()-]+)*$")
_TAG_KEY_PATTERN = re.compile(r"^[\w.:/=+\-@ ]{1,128}$")
_TAG_VALUE_PATTERN = re.compile(r"^[\w.:/=+\-@ ]{0,256}$")
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SNS_TOPIC_ARN_PATTERN = re.compile(
    r"^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$"
)
# S3 allows 50 tags on a bucket; CDK's BucketDeployments mark each destination prefix of the
# DAG bucket with a tag of their own (dags/, plugins/, requirements/, startup/ and the sample
# data plane's DAG configuration): 5 are kept free for them.
_MAX_TAGS = 45


class ProfileError(ValueError):
    """A profile that cannot be deployed. ``problems`` holds one line per invalid setting."""

    def __init__(self, profile: str, problems: list[str]) -> None:
        self.profile = profile
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"profile '{profile}' is invalid:\n{lines}")


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """Where the environment runs. See the README's configuration reference."""

    mode: NetworkMode = "nat"
    nat_gateways: int = 1
    vpc_cidr: str = "10.192.0.0/16"
    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class WebserverAccessSettings:
    """Who may open a ``PRIVATE_ONLY`` web server: TCP 443 into the environment's security
    group from these IPv4 ranges and security groups (see the README's configuration reference).

    Empty (the default): only the environment itself, which is what MWAA's self-referencing
    group admits."""

    cidrs: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ArtifactSettings:
    """Where the profile's Airflow artifacts come from: paths relative to the repository root.

    ``None`` means "not deployed" (no plugins.zip, requirements file or startup script)."""

    dags: str = "dags"
    plugins: str | None = "runtime/plugins"
    requirements: str | None = "runtime/mwaa-requirements.txt"
    startup_script: str | None = "runtime/startup.sh"


@dataclass(frozen=True, kw_only=True)
class AlarmSettings:
    """The recommended CloudWatch alarms and where they notify. See the README's Observability."""

    enabled: bool = True
    email: tuple[str, ...] = ()
    topic_arn: str | None = None


@dataclass(frozen=True, kw_only=True)
class SecretsBackendSettings:
    """Airflow's Secrets Manager backend: connections and variables under these prefixes."""

    enabled: bool = True
    connections_prefix: str = "airflow/connections"
    variables_prefix: str = "airflow/variables"


@dataclass(frozen=True, kw_only=True)
class RoleAccess:
    """An existing IAM role and the Airflow role it gets."""

    role_arn: str
    airflow_role: str


@dataclass(frozen=True, kw_only=True)
class AccessSettings:
    """Existing IAM roles allowed into the environment: UI login, REST API, CLI token."""

    web_login: tuple[RoleAccess, ...] = ()
    rest_api: tuple[RoleAccess, ...] = ()
    cli: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Profile:
    """One validated deployment profile. Build it with :func:`load_profile`."""

    name: str
    account: str | None = None
    region: str | None = None
    environment_name: str
    airflow_version: str = rules.DEFAULT_AIRFLOW_VERSION
    # The version the deployed environment runs now, when it differs: checked against MWAA's
    # in-place upgrade paths (mwaa_constructs.versions.upgrade_path).
    upgrade_from: str | None = None
    environment_class: str = "mw1.small"
    min_workers: int = 1
    max_workers: int
    schedulers: int
    min_webservers: int
    max_webservers: int
    webserver_access_mode: str = "PRIVATE_ONLY"
    webserver_access: WebserverAccessSettings = field(default_factory=WebserverAccessSettings)
    endpoint_management: str = "SERVICE"
    network: NetworkSettings = field(default_factory=NetworkSettings)
    encryption: Encryption = "customer_managed"
    logging: Mapping[str, str | None]
    log_retention_days: int = 30
    airflow_configuration_options: Mapping[str, str] = field(default_factory=dict)
    weekly_maintenance_window_start: str | None = None
    worker_replacement_strategy: str | None = None
    dag_s3_path: str = "dags"
    noncurrent_version_expiration_days: int = 90
    removal_policy: RemovalPolicyName = "retain"
    termination_protection: bool = False
    sample_data: bool = False
    artifacts: ArtifactSettings = field(default_factory=ArtifactSettings)
    tags: Mapping[str, str] = field(default_factory=dict)
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    secrets_backend: SecretsBackendSettings = field(default_factory=SecretsBackendSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    compliance: tuple[str, ...] = ()

    @property
    def platform_stack_name(self) -> str:
        """Name (and construct id) of the stack that holds the environment."""
        return f"{stack_name_base(self.environment_name)}-platform"

    @property
    def sample_data_stack_name(self) -> str:
        """Name (and construct id) of the sample data plane's stack (with ``sample_data`` on)."""
        return f"{stack_name_base(self.environment_name)}-sample-data"

    @property
    def stack_names(self) -> tuple[str, ...]:
        """Names of every stack this profile deploys."""
        return (self.platform_stack_name, *((self.sample_data_stack_name,) if self.sample_data else ()))

    @property
    def python_version(self) -> str:
        """Python of the MWAA image for this profile's Airflow version."""
        return rules.AIRFLOW_PYTHON_VERSIONS[self.airflow_version]


def stack_name_base(environment_name: str) -> str:
    """The environment name as the first part of its stack names: '_' replaced by '-'.

    MWAA allows '_' in environment names (``^[a-zA-Z][0-9a-zA-Z_-]*$``, 1-80 characters); a
    CloudFormation stack name may hold only letters, digits and '-', start with a letter and
    have at most 128 characters (CloudFormation API reference, CreateStack ``StackName``:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html).
    The longest name derived here, 80 characters and ``-sample-data``, has 92. Names without
    '_' keep their stacks. Two environment names that differ only in '_' against '-' map to
    the same stacks: :func:`load_profiles` refuses such a pair."""
    return environment_name.replace("_", "-")


_TOP_LEVEL_KEYS = (
    "account", "region", "environment_name", "airflow_version", "upgrade_from", "environment_class",
    "min_workers", "max_workers", "schedulers", "min_webservers", "max_webservers",
    "webserver_access_mode", "webserver_access", "endpoint_management", "network", "encryption", "logging",
    "log_retention_days", "airflow_configuration_options", "weekly_maintenance_window_start",
    "worker_replacement_strategy", "dag_s3_path", "noncurrent_version_expiration_days",
    "removal_policy", "termination_protection", "sample_data", "artifacts", "tags",
    "alarms", "secrets_backend", "access", "compliance",
)  # fmt: skip
_NETWORK_KEYS = ("mode", "nat_gateways", "vpc_cidr", "vpc_id", "subnet_ids")
_WEBSERVER_ACCESS_KEYS = ("cidrs", "security_groups")
# Setting -> (may be null, expected kind).
_ARTIFACT_KEYS: dict[str, tuple[bool, Literal["folder", "file"]]] = {
    "dags": (False, "folder"),
    "plugins": (True, "folder"),
    "requirements": (True, "file"),
    "startup_script": (True, "file"),
}
_ALARM_KEYS = ("enabled", "email", "topic_arn")
_SECRETS_BACKEND_KEYS = ("enabled", "connections_prefix", "variables_prefix")
_ACCESS_KEYS = ("web_login", "rest_api", "cli")
_ROLE_ACCESS_KEYS = ("role_arn", "airflow_role")

T = TypeVar("T")


def _show(value: object) -> str:
    return repr(value) if not isinstance(value, str) else f"'{value}'"


def _choices(values: Sequence[object]) -> str:
    return ", ".join(_show(v) for v in values)


def _did_you_mean(given: str, known: Sequence[str]) -> str:
    """'did you mean X?' for the closest known name, then every known name."""
    close = difflib.get_close_matches(given, known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{hint}allowed settings are {', '.join(known)}"


class _Reader:
    """Reads typed values out of a raw profile, recording every problem instead of raising."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []
        self.failed: set[str] = set()

    def fail(self, setting: str, value: object, allowed: str) -> None:
        # One problem per setting: a value already rejected (e.g. for its type) is not reported
        # again through the default that replaced it.
        if setting in self.failed:
            return
        self.failed.add(setting)
        self.problems.append(f"{setting}: got {_show(value)}; {allowed}")

    def unknown_keys(self, raw: Mapping[str, Any], known: Sequence[str], where: str) -> None:
        for key in raw:
            if key not in known:
                self.problems.append(f"{where}{key}: unknown setting; {_did_you_mean(key, known)}")

    def typed(self, raw: Mapping[str, Any], key: str, kind: type[T], default: T, where: str = "") -> T:
        if key not in raw:
            return default
        value = raw[key]
        # bool is a subclass of int: reject it where a number is expected, and vice versa.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(f"{where}{key}", value, f"expected {kind.__name__}")
            return default
        return value

    def check(self, setting: str, value: T, ok: Callable[[T], bool], allowed: str) -> None:
        if not ok(value):
            self.fail(setting, value, allowed)


def read_cdk_profiles(cdk_json: Path) -> Mapping[str, Any]:
    """The ``profiles`` object of the ``context`` of ``cdk_json``.

    Raises :class:`ProfileError` when the file is missing or not valid JSON (with the line and
    column of the error), or holds no ``context.profiles`` object."""
    where = str(cdk_json)
    try:
        document = json.loads(cdk_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError("*", [f"{where}: file not found"]) from None
    except json.JSONDecodeError as error:
        raise ProfileError(
            "*", [f"{where}, line {error.lineno}, column {error.colno}: invalid JSON ({error.msg})"]
        ) from None
    profiles = document.get("context", {}).get("profiles") if isinstance(document, dict) else None
    if not isinstance(profiles, Mapping) or not profiles:
        raise ProfileError("*", [f"{where}: no 'context.profiles' object of profile name -> settings"])
    return profiles


def load_profile(
    profiles: Mapping[str, Any] | None, name: str | None, *, root: Path | None = None
) -> Profile:
    """Validate the profile ``name`` from the ``profiles`` context value.

    ``name`` ``None`` (not given) selects ``dev``; an empty name is an error. With ``root`` (the
    repository), the ``artifacts`` paths are checked on disk as well: they exist, lie inside
    ``root`` and are a folder or a file as expected.

    Raises :class:`ProfileError` listing every invalid setting; returns a :class:`Profile` that
    the constructs can use without further checks.
    """
    if name is None:
        name = DEFAULT_PROFILE
    if not isinstance(profiles, Mapping) or not profiles:
        raise ProfileError(name, ["no 'profiles' object found in the cdk.json context"])
    if not name.strip():
        raise ProfileError(
            name,
            [f"profile: got an empty name; name one of {_choices(list(profiles))} (e.g. -c profile=dev)"],
        )
    if name not in profiles:
        close = difflib.get_close_matches(name, list(profiles), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ProfileError(
            name,
            [f"profile '{name}' not found in cdk.json; {hint}profiles there: {_choices(list(profiles))}"],
        )
    raw = profiles[name]
    if not isinstance(raw, Mapping):
        raise ProfileError(name, [f"profile: got {_show(raw)}; expected an object of settings"])
    profile, problems, _ = _read_profile(name, raw, root)
    if problems:
        raise ProfileError(name, problems)
    return profile


def _read_profile(
    name: str, raw: Mapping[str, Any], root: Path | None
) -> tuple[Profile, list[str], frozenset[str]]:
    """The profile as far as it can be read (a default wherever a value is invalid), every
    problem found, and the settings found invalid. :func:`load_profile` refuses a profile with a
    problem; :func:`load_profiles` still checks a profile it did not select for collisions,
    leaving its invalid settings out."""
    r = _Reader(raw)
    r.unknown_keys(raw, _TOP_LEVEL_KEYS, "")

    account = r.typed(raw, "account", str, None)  # type: ignore[arg-type]
    if account is not None:
        r.check("account", account, _ACCOUNT_PATTERN.fullmatch, "expected a 12-digit AWS account id")
    region = r.typed(raw, "region", str, None)  # type: ignore[arg-type]
    if region is not None:
        r.check("region", region, _REGION_PATTERN.fullmatch, "expected a region code like 'eu-west-1'")

    environment_name = r.typed(raw, "environment_name", str, f"mwaa-{name}")
    r.check(
        "environment_name",
        environment_name,
        rules.ENVIRONMENT_NAME_PATTERN.fullmatch,
        "expected 1-80 characters: a letter, then letters, digits, '-' or '_'",
    )

    airflow_version = r.typed(raw, "airflow_version", str, rules.DEFAULT_AIRFLOW_VERSION)
    version_problem = versions.version_problem(airflow_version)
    if version_problem is not None:
        r.fail("airflow_version", airflow_version, version_problem)
    upgrade_from = _read_upgrade_from(r, raw, airflow_version if version_problem is None else None)

    environment_class = r.typed(raw, "environment_class", str, "mw1.small")
    sizing = rules.ENVIRONMENT_CLASSES.get(environment_class)
    if sizing is None:
        r.fail(
            "environment_class",
            environment_class,
            f"allowed classes are {_choices(list(rules.ENVIRONMENT_CLASSES))}",
        )
        sizing = rules.ENVIRONMENT_CLASSES["mw1.small"]

    schedulers = r.typed(raw, "schedulers", int, sizing.default_schedulers)
    lo, hi = sizing.schedulers
    r.check(
        "schedulers",
        schedulers,
        lambda v: lo <= v <= hi,
        f"{environment_class} allows {lo} to {hi} schedulers",
    )
    min_webservers = r.typed(raw, "min_webservers", int, sizing.default_webservers)
    max_webservers = r.typed(raw, "max_webservers", int, max(min_webservers, sizing.default_webservers))
    lo, hi = sizing.webservers
    for key, value in (("min_webservers", min_webservers), ("max_webservers", max_webservers)):
        r.check(key, value, lambda v: lo <= v <= hi, f"{environment_class} allows {lo} to {hi}")
    if min_webservers > max_webservers:
        r.fail("min_webservers", min_webservers, f"must not exceed max_webservers ({max_webservers})")

    min_workers = r.typed(raw, "min_workers", int, 1)
    max_workers = r.typed(raw, "max_workers", int, max(min_workers, sizing.default_max_workers))
    top = sizing.max_workers
    for key, value in (("min_workers", min_workers), ("max_workers", max_workers)):
        r.check(key, value, lambda v: 1 <= v <= top, f"{environment_class} allows 1 to {top}")
    if min_workers > max_workers:
        r.fail("min_workers", min_workers, f"must not exceed max_workers ({max_workers})")

    webserver_access_mode = r.typed(raw, "webserver_access_mode", str, "PRIVATE_ONLY")
    r.check(
        "webserver_access_mode",
        webserver_access_mode,
        lambda v: v in rules.WEBSERVER_ACCESS_MODES,
        f"allowed values are {_choices(rules.WEBSERVER_ACCESS_MODES)}",
    )
    access_problem = versions.access_mode_problem(webserver_access_mode, airflow_version)
    if access_problem is not None:
        r.fail("webserver_access_mode", webserver_access_mode, access_problem)
    webserver_access = _read_webserver_access(r, raw, webserver_access_mode)
    endpoint_management = r.typed(raw, "endpoint_management", str, "SERVICE")
    r.check(
        "endpoint_management",
        endpoint_management,
        lambda v: v in rules.ENDPOINT_MANAGEMENT_MODES,
        f"allowed values are {_choices(rules.ENDPOINT_MANAGEMENT_MODES)}",
    )

    network = _read_network(r, raw)

    encryption = r.typed(raw, "encryption", str, "customer_managed")
    r.check(
        "encryption",
        encryption,
        lambda v: v in ("customer_managed", "aws_owned"),
        "allowed values are 'customer_managed', 'aws_owned'",
    )

    logging = _read_logging(r, raw)

    log_retention_days = r.typed(raw, "log_retention_days", int, 30)
    r.check(
        "log_retention_days",
        log_retention_days,
        lambda v: v in rules.LOG_RETENTION_DAYS,
        f"CloudWatch Logs accepts {_choices(rules.LOG_RETENTION_DAYS)}",
    )

    options = _read_configuration_options(r, raw)
    secrets_backend = _read_secrets_backend(r, raw)
    if secrets_backend.enabled:
        for key in rules.SECRETS_BACKEND_OPTIONS:
            if key in options:
                r.fail(
                    f"airflow_configuration_options.{key}", options[key],
                    "secrets_backend sets this option: remove it here, or set secrets_backend.enabled "
                    "to false to configure a backend of your own",
                )  # fmt: skip

    window = r.typed(raw, "weekly_maintenance_window_start", str, None)  # type: ignore[arg-type]
    if window is not None:
        r.check(
            "weekly_maintenance_window_start",
            window,
            rules.MAINTENANCE_WINDOW_PATTERN.fullmatch,
            "expected DAY:HH:MM in UTC with DAY in MON..SUN and minutes 00 or 30, e.g. 'TUE:03:30'",
        )
    strategy = r.typed(raw, "worker_replacement_strategy", str, None)  # type: ignore[arg-type]
    if strategy is not None:
        r.check(
            "worker_replacement_strategy",
            strategy,
            lambda v: v in rules.WORKER_REPLACEMENT_STRATEGIES,
            f"allowed values are {_choices(rules.WORKER_REPLACEMENT_STRATEGIES)}",
        )
        if strategy == "GRACEFUL" and region in rules.GRACEFUL_UNSUPPORTED_REGIONS:
            r.fail(
                "worker_replacement_strategy",
                strategy,
                f"MWAA offers no GRACEFUL worker replacement in {region} (nor in "
                f"{_choices([g for g in rules.GRACEFUL_UNSUPPORTED_REGIONS if g != region])}): "
                "use 'FORCED' or leave it unset",
            )

    dag_s3_path = r.typed(raw, "dag_s3_path", str, "dags")
    r.check(
        "dag_s3_path",
        dag_s3_path,
        _DAG_PATH_PATTERN.fullmatch,
        "expected a relative S3 prefix such as 'dags' (no leading or trailing '/')",
    )
    noncurrent_days = r.typed(raw, "noncurrent_version_expiration_days", int, 90)
    r.check(
        "noncurrent_version_expiration_days",
        noncurrent_days,
        lambda v: 1 <= v <= 3650,
        "expected 1 to 3650 days",
    )

    removal_policy = r.typed(raw, "removal_policy", str, "retain")
    r.check(
        "removal_policy",
        removal_policy,
        lambda v: v in ("retain", "destroy"),
        "allowed values are 'retain', 'destroy'",
    )
    termination_protection = r.typed(raw, "termination_protection", bool, False)
    sample_data = r.typed(raw, "sample_data", bool, False)
    if sample_data and network.mode != "nat":
        r.fail(
            "sample_data", sample_data,
            f"the sample data plane needs network.mode 'nat' (its DAG downloads MovieLens from the "
            f"internet), but network.mode is '{network.mode}': set sample_data to false or use 'nat'",
        )  # fmt: skip
    artifacts = _read_artifacts(r, raw, root)
    if sample_data and not secrets_backend.enabled:
        r.fail(
            "sample_data", sample_data,
            "the sample DAG reads its HTTP connection through the secrets backend, but "
            "secrets_backend.enabled is false: set sample_data to false or turn the backend on",
        )  # fmt: skip
    tags = _read_tags(r, raw)
    alarms = _read_alarms(r, raw)
    access = _read_access(r, raw, account)
    compliance = _read_compliance(r, raw)

    profile = Profile(
        name=name,
        account=account,
        region=region,
        environment_name=environment_name,
        airflow_version=airflow_version,
        upgrade_from=upgrade_from,
        environment_class=environment_class,
        min_workers=min_workers,
        max_workers=max_workers,
        schedulers=schedulers,
        min_webservers=min_webservers,
        max_webservers=max_webservers,
        webserver_access_mode=webserver_access_mode,
        webserver_access=webserver_access,
        endpoint_management=endpoint_management,
        network=network,
        encryption=encryption,  # type: ignore[arg-type]
        logging=logging,
        log_retention_days=log_retention_days,
        airflow_configuration_options=options,
        weekly_maintenance_window_start=window,
        worker_replacement_strategy=strategy,
        dag_s3_path=dag_s3_path,
        noncurrent_version_expiration_days=noncurrent_days,
        removal_policy=removal_policy,  # type: ignore[arg-type]
        termination_protection=termination_protection,
        sample_data=sample_data,
        artifacts=artifacts,
        tags=tags,
        alarms=alarms,
        secrets_backend=secrets_backend,
        access=access,
        compliance=compliance,
    )
    return profile, r.problems, frozenset(r.failed)


def _read_upgrade_from(r: _Reader, raw: Mapping[str, Any], target: str | None) -> str | None:
    """The version the deployed environment runs now, if given: the move to ``target`` (the
    profile's valid ``airflow_version``) must be one MWAA makes in place."""
    source = r.typed(raw, "upgrade_from", str, None)  # type: ignore[arg-type]
    if source is None:
        return None
    if not versions.is_known(source):
        known = [*(v.version for v in versions.RETIRED_VERSIONS), *versions.supported_version_names()]
        r.fail("upgrade_from", source, f"expected a version MWAA runs or ran: {_choices(known)}")
        return None
    if target is not None:
        path = versions.upgrade_path(source, target)
        if path.kind != "in_place":
            r.fail(
                "upgrade_from", source,
                f"the environment cannot move to airflow_version {target} in place ({path.reason}); "
                "for a new environment set a new environment_name and remove upgrade_from",
            )  # fmt: skip
    return source


def _read_webserver_access(r: _Reader, raw: Mapping[str, Any], mode: str) -> WebserverAccessSettings:
    """``webserver_access``: the IPv4 ranges and security groups that may reach a private web
    server (TCP 443 into the environment's security group, which otherwise admits only itself).

    0.0.0.0/0 is refused: a private web server open to every address is a contradiction (and
    cdk-nag's AwsSolutions-EC23 would refuse the rule); a public UI is ``PUBLIC_ONLY``. Rules
    for another mode are refused too: there MWAA serves the UI from a public endpoint and the
    rules would open the environment's group for no client."""
    given = raw.get("webserver_access", {})
    shape = (
        'expected an object such as {"cidrs": ["10.0.0.0/8"], "security_groups": ["sg-0123456789abcdef0"]}'
    )
    if not isinstance(given, Mapping):
        r.fail("webserver_access", given, shape)
        return WebserverAccessSettings()
    r.unknown_keys(given, _WEBSERVER_ACCESS_KEYS, "webserver_access.")
    cidrs: list[str] = []
    items = given.get("cidrs", [])
    if not isinstance(items, list):
        r.fail("webserver_access.cidrs", items, "expected a list of IPv4 networks such as '10.0.0.0/8'")
        items = []
    for index, cidr in enumerate(items):
        setting = f"webserver_access.cidrs[{index}]"
        network = _ipv4_network(cidr)
        if network is None:
            r.fail(setting, cidr, "expected an IPv4 network such as '10.0.0.0/8' or '192.168.10.0/24'")
        elif str(network) != cidr:
            r.fail(setting, cidr, f"host bits are set: write '{network}'")
        elif network.prefixlen == 0:
            r.fail(
                setting, cidr,
                "opens the private web server to every address; name the networks that reach the VPC "
                "(VPN, Direct Connect, peered VPCs), or use webserver_access_mode 'PUBLIC_ONLY'",
            )  # fmt: skip
        elif cidr in cidrs:
            r.fail(setting, cidr, "listed twice")
        else:
            cidrs.append(cidr)
    groups: list[str] = []
    items = given.get("security_groups", [])
    if not isinstance(items, list):
        r.fail("webserver_access.security_groups", items, "expected a list of security group ids")
        items = []
    for index, group in enumerate(items):
        setting = f"webserver_access.security_groups[{index}]"
        if not isinstance(group, str) or not _SECURITY_GROUP_ID_PATTERN.fullmatch(group):
            r.fail(
                setting, group,
                "expected a security group id: 'sg-' and 8 or 17 lower-case hex digits, "
                "e.g. 'sg-0123456789abcdef0'",
            )  # fmt: skip
        elif group in groups:
            r.fail(setting, group, "listed twice")
        else:
            groups.append(group)
    if (cidrs or groups) and mode in rules.WEBSERVER_ACCESS_MODES and mode != "PRIVATE_ONLY":
        r.fail(
            "webserver_access", dict(given),
            f"only applies with webserver_access_mode 'PRIVATE_ONLY', not '{mode}': MWAA then serves the "
            "UI from a public endpoint, and these rules would open the environment's security group "
            "for no client; remove webserver_access or set webserver_access_mode to 'PRIVATE_ONLY'",
        )  # fmt: skip
    return WebserverAccessSettings(cidrs=tuple(cidrs), security_groups=tuple(groups))


def _ipv4_network(value: object) -> ipaddress.IPv4Network | None:
    """``value`` as an IPv4 network in CIDR form (host bits may be set), or None."""
    if not isinstance(value, str) or not _CIDR_PATTERN.fullmatch(value) or "/" not in value:
        return None
    try:
        return ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        return None


def _read_network(r: _Reader, raw: Mapping[str, Any]) -> NetworkSettings:
    net = raw.get("network", {})
    if not isinstance(net, Mapping):
        r.fail("network", net, "expected an object with 'mode' and its settings")
        return NetworkSettings()
    r.unknown_keys(net, _NETWORK_KEYS, "network.")
    mode = r.typed(net, "mode", str, "nat", "network.")
    r.check(
        "network.mode", mode, lambda v: v in ("nat", "isolated", "existing"),
        "allowed values are 'nat', 'isolated', 'existing'",
    )  # fmt: skip
    nat_gateways = r.typed(net, "nat_gateways", int, 1, "network.")
    if mode == "nat":
        r.check(
            "network.nat_gateways", nat_gateways, lambda v: v in (1, 2),
            "expected 1 (one shared NAT gateway) or 2 (one per availability zone)",
        )  # fmt: skip
    elif "nat_gateways" in net:
        r.fail("network.nat_gateways", nat_gateways, f"only applies to mode 'nat', not '{mode}'")

    vpc_cidr = r.typed(net, "vpc_cidr", str, "10.192.0.0/16", "network.")
    try:
        if not _CIDR_PATTERN.fullmatch(vpc_cidr):
            raise ValueError(vpc_cidr)
        cidr = ipaddress.IPv4Network(vpc_cidr, strict=True)
        if not 16 <= cidr.prefixlen <= 24:
            r.fail("network.vpc_cidr", vpc_cidr, "expected a prefix length from /16 to /24")
    except ValueError:
        r.fail("network.vpc_cidr", vpc_cidr, "expected an IPv4 network such as '10.192.0.0/16'")

    vpc_id = r.typed(net, "vpc_id", str, None, "network.")  # type: ignore[arg-type]
    subnet_ids_raw = net.get("subnet_ids", [])
    subnet_ids: tuple[str, ...] = ()
    if mode == "existing":
        if vpc_id is None or not _VPC_ID_PATTERN.fullmatch(vpc_id):
            r.fail(
                "network.vpc_id", vpc_id,
                "mode 'existing' needs a VPC id: 'vpc-' and 8 or 17 lower-case hex digits, "
                "e.g. 'vpc-0123456789abcdef0'",
            )  # fmt: skip
        if not isinstance(subnet_ids_raw, list) or len(subnet_ids_raw) != 2:
            r.fail(
                "network.subnet_ids", subnet_ids_raw,
                "mode 'existing' needs exactly 2 private subnet ids in different AZs",
            )  # fmt: skip
        else:
            bad = [s for s in subnet_ids_raw if not (isinstance(s, str) and _SUBNET_ID_PATTERN.fullmatch(s))]
            if bad:
                r.fail(
                    "network.subnet_ids", bad,
                    "expected subnet ids: 'subnet-' and 8 or 17 lower-case hex digits, "
                    "e.g. 'subnet-0123456789abcdef0'",
                )  # fmt: skip
            elif subnet_ids_raw[0] == subnet_ids_raw[1]:
                r.fail("network.subnet_ids", subnet_ids_raw, "the two subnets must differ")
            subnet_ids = tuple(subnet_ids_raw)
    else:
        for key in ("vpc_id", "subnet_ids"):
            if key in net:
                r.fail(f"network.{key}", net[key], f"only applies to mode 'existing', not '{mode}'")
    return NetworkSettings(
        mode=mode,  # type: ignore[arg-type]
        nat_gateways=nat_gateways if mode == "nat" else 0,
        vpc_cidr=vpc_cidr,
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
    )


def _read_artifacts(r: _Reader, raw: Mapping[str, Any], root: Path | None) -> ArtifactSettings:
    given = raw.get("artifacts", {})
    if not isinstance(given, Mapping):
        r.fail("artifacts", given, f"expected an object with {', '.join(_ARTIFACT_KEYS)}")
        return ArtifactSettings()
    r.unknown_keys(given, list(_ARTIFACT_KEYS), "artifacts.")
    defaults = ArtifactSettings()
    values: dict[str, str | None] = {}
    for key, (nullable, kind) in _ARTIFACT_KEYS.items():
        setting = f"artifacts.{key}"
        value = given.get(key, getattr(defaults, key))
        values[key] = value
        if value is None:
            if not nullable:
                r.fail(setting, value, f"expected the {kind} of the DAGs, relative to the repository")
            continue
        if not isinstance(value, str) or not value.strip():
            allowed = f"expected a {kind} path relative to the repository" + (", or null" if nullable else "")
            r.fail(setting, value, allowed)
            continue
        path = Path(value)
        if path.is_absolute() or ".." in path.parts:
            r.fail(setting, value, f"expected a {kind} path relative to the repository, without '..'")
            continue
        if root is None:
            continue
        resolved = (root / path).resolve()
        if not resolved.is_relative_to(root.resolve()):
            r.fail(setting, value, "must lie inside the repository (it resolves outside through a link)")
        elif not resolved.exists():
            r.fail(setting, value, f"no such {kind} in the repository")
        elif kind == "folder" and not resolved.is_dir():
            r.fail(setting, value, "expected a folder, found a file")
        elif kind == "file" and not resolved.is_file():
            r.fail(setting, value, "expected a file, found a folder")
    return ArtifactSettings(**values)  # type: ignore[arg-type]


def _read_logging(r: _Reader, raw: Mapping[str, Any]) -> dict[str, str | None]:
    logging: dict[str, str | None] = dict(rules.DEFAULT_LOG_LEVELS)
    given = raw.get("logging", {})
    if not isinstance(given, Mapping):
        r.fail("logging", given, "expected an object of component -> log level")
        return logging
    allowed = f"allowed levels are {_choices(rules.LOG_LEVELS)} or '{LOG_DISABLED}'"
    for component, level in given.items():
        if component not in rules.LOG_COMPONENTS:
            r.fail(
                f"logging.{component}", level,
                f"unknown component; allowed components are {', '.join(rules.LOG_COMPONENTS)}",
            )  # fmt: skip
        elif level == LOG_DISABLED:
            logging[component] = None
        elif level in rules.LOG_LEVELS:
            logging[component] = level
        else:
            r.fail(f"logging.{component}", level, allowed)
    return logging


def _read_configuration_options(r: _Reader, raw: Mapping[str, Any]) -> dict[str, str]:
    given = raw.get("airflow_configuration_options", {})
    if not isinstance(given, Mapping):
        r.fail("airflow_configuration_options", given, "expected an object of option -> string")
        return {}
    options: dict[str, str] = {}
    for key, value in given.items():
        setting = f"airflow_configuration_options.{key}"
        too_long = len(key) > rules.CONFIG_OPTION_KEY_MAX_LENGTH
        if too_long or not rules.CONFIG_OPTION_KEY_PATTERN.fullmatch(key):
            r.fail(
                setting, key,
                "keys are 'section.option' in lower case (a-z, 0-9, '.', '_'), at most 64 characters",
            )  # fmt: skip
        elif "." not in key:
            r.fail(setting, key, "keys are 'section.option', e.g. 'core.default_task_retries'")
        if not isinstance(value, str):
            r.fail(setting, value, f'MWAA takes strings only: write "{_as_option(value)}"')
        else:
            options[key] = value
    return options


def _as_option(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _read_tags(r: _Reader, raw: Mapping[str, Any]) -> dict[str, str]:
    given = raw.get("tags", {})
    if not isinstance(given, Mapping):
        r.fail("tags", given, "expected an object of tag key -> string value")
        return {}
    if len(given) > _MAX_TAGS:
        r.fail(
            "tags", f"{len(given)} tags",
            f"at most {_MAX_TAGS} tags (S3's 50 per bucket, less 5 the artifact deployments add)",
        )  # fmt: skip
    tags: dict[str, str] = {}
    for key, value in given.items():
        if not _TAG_KEY_PATTERN.fullmatch(key) or key.lower().startswith("aws:"):
            r.fail(
                f"tags.{key}", key,
                "keys are 1-128 letters, digits, spaces or _.:/=+-@ and must not start with 'aws:'",
            )  # fmt: skip
        elif not isinstance(value, str) or not _TAG_VALUE_PATTERN.fullmatch(value):
            r.fail(f"tags.{key}", value, "values are strings of 0-256 letters, digits, spaces or _.:/=+-@")
        else:
            tags[key] = value
    return tags


def load_profiles(
    profiles: Mapping[str, Any] | None, names: str | None, *, root: Path | None = None
) -> list[Profile]:
    """Validate the comma-separated profile ``names`` (``None``: ``dev``) for one synthesis.

    Every selected profile is checked, and every problem of every profile reported together.
    Then the selected profiles are checked against **every** profile of ``profiles``, selected
    or not (a copied profile would otherwise deploy over the stacks of the one it was copied
    from as soon as it is synthesized alone):

    - no two profiles may share an ``environment_name``, nor the stack names derived from it
      (:func:`stack_name_base`), whatever their accounts: the environment name names the
      environment, its stacks, log groups, alarms and DAG bucket (whose name derives from it
      injectively, with a hash wherever S3 needs it changed), several profiles are synthesized
      into one cloud assembly (``make synth PROFILE=dev,prod``, the pipeline) where a stack
      name must be unique, and ``mwaa-ops --profile`` finds a profile's stack by its name;
    - two profiles that create their VPC may not use overlapping ``network.vpc_cidr`` ranges in
      the same account, whatever their regions: VPCs of one account are connected across
      regions too (inter-region peering, Transit Gateway peering), and overlapping ranges can
      never be routed to each other. Profiles of different accounts may reuse a range: each
      account's networks follow their own address plan, which this file cannot see. An unset
      ``account`` counts as one account (the deploying one).

    A profile that is not selected is read as far as it can be: its own problems are reported
    when it is selected, and a setting it gets wrong is left out of the comparison.
    """
    selected = [DEFAULT_PROFILE] if names is None else [n.strip() for n in names.split(",")]
    if names is not None and not any(selected):
        selected = [""]  # an empty PROFILE= is an error, not the default
    problems: list[str] = []
    loaded: list[Profile] = []
    for name in dict.fromkeys(selected):
        try:
            loaded.append(load_profile(profiles, name, root=root))
        except ProfileError as error:
            problems.append(str(error))
    if problems:
        raise ProfilesError(problems)
    assert profiles is not None  # load_profile refused a missing profiles object
    others: list[_Candidate] = []
    for name, raw in profiles.items():
        if name in selected or not isinstance(raw, Mapping):
            continue
        profile, _, unreadable = _read_profile(name, raw, None)
        others.append(_Candidate(profile=profile, selected=False, unreadable=unreadable))
    candidates = [_Candidate(profile=p, selected=True) for p in loaded]
    collisions = _collisions(candidates, others)
    if collisions:
        raise ProfilesError(
            ["profiles of cdk.json collide (the selected ones are checked against every profile there):\n"
             + collisions]
        )  # fmt: skip
    return loaded


def synth_profiles(cdk_json: Path, context_profiles: object) -> Mapping[str, Any] | None:
    """The ``profiles`` a CDK app validates: those of ``cdk_json`` as written there, when the
    file exists; else the ``profiles`` context value (an app run without a cdk.json).

    Decision: the app reads its profiles from cdk.json itself, so that ``null`` means "not
    deployed" in every tool. A JSON null inside a context value does not survive the CDK: the
    CLI passes cdk.json's context on intact (``CDK_CONTEXT_JSON``), but the jsii bridge
    between the Python app and aws-cdk-lib drops every object member whose value is null, so
    ``app.node.try_get_context("profiles")`` never shows ``"plugins": null``; the setting
    then fell back to its default and the artifact was deployed, while ``make cost`` and
    ``mwaa-ops``, which read cdk.json themselves, saw the null. Another spelling (``false``)
    was not chosen: it would leave the documented ``null`` silently wrong in one tool.

    When the context also holds ``profiles`` that differ from the file's in more than those
    nulls (``-c profiles=...``, a user ``~/.cdk.json``), this raises :class:`ProfileError`
    rather than choose one of them silently.
    """
    if not cdk_json.is_file():
        return context_profiles if isinstance(context_profiles, Mapping) else None
    profiles = read_cdk_profiles(cdk_json)
    if context_profiles is not None and _without_null_members(profiles) != context_profiles:
        raise ProfileError(
            "*",
            [
                f"profiles: the CDK context holds profiles that differ from those of {cdk_json} "
                "(given with -c, or in another context file); the app reads profiles from that file "
                "only, where null keeps its meaning: set them there"
            ],
        )
    return profiles


def _without_null_members(value: object) -> object:
    """``value`` as the jsii bridge hands it to a Python CDK app: object members whose value
    is null removed at every depth (nulls inside lists stay)."""
    if isinstance(value, Mapping):
        return {k: _without_null_members(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_null_members(v) for v in value]
    return value


class ProfilesError(ProfileError):
    """Several profiles are invalid, or collide with each other."""

    def __init__(self, messages: list[str]) -> None:
        self.profile = "*"
        self.problems = messages
        ValueError.__init__(self, "\n".join(messages))


@dataclass(frozen=True)
class _Candidate:
    """A profile in the collision check: selected for this synthesis or not, and the settings
    it could not read (left out of the comparison)."""

    profile: Profile
    selected: bool
    unreadable: frozenset[str] = frozenset()

    def label(self) -> str:
        return f"'{self.profile.name}'" + ("" if self.selected else " (not selected)")

    def knows(self, *settings: str) -> bool:
        return not any(s in self.unreadable for s in settings)


def _collisions(selected: Sequence[_Candidate], others: Sequence[_Candidate]) -> str:
    """Lines for every pair of a selected profile with another selected one or with any
    other profile that collide (see :func:`load_profiles`)."""
    pairs = [(a, b) for i, a in enumerate(selected) for b in selected[i + 1 :]]
    pairs += [(a, b) for a in selected for b in others]
    lines: list[str] = []
    for first, second in pairs:
        one, two = first.profile, second.profile
        pair = f"profiles {first.label()} and {second.label()}"
        if first.knows("environment_name") and second.knows("environment_name"):
            if one.environment_name == two.environment_name:
                lines.append(
                    f"{pair} both set environment_name '{one.environment_name}': it names the "
                    "environment, its stacks, log groups and DAG bucket; give each profile its own"
                )
            elif stack_name_base(one.environment_name) == stack_name_base(two.environment_name):
                lines.append(
                    f"{pair} set environment_name '{one.environment_name}' and "
                    f"'{two.environment_name}', which deploy the same stack "
                    f"'{one.platform_stack_name}' (stack names replace '_' by '-'); give each "
                    "profile a name that differs in more than '_' and '-'"
                )
        network = ("account", "network", "network.mode", "network.vpc_cidr")
        if not (first.knows(*network) and second.knows(*network)):
            continue
        creates_vpc = one.network.mode != "existing" and two.network.mode != "existing"
        ranges = _ipv4_network(one.network.vpc_cidr), _ipv4_network(two.network.vpc_cidr)
        if not creates_vpc or one.account != two.account or None in ranges:
            continue
        account = f"account {one.account}" if one.account else "the deploying account"
        if one.network.vpc_cidr == two.network.vpc_cidr:
            lines.append(
                f"{pair} both set network.vpc_cidr '{one.network.vpc_cidr}' in {account}: "
                "give each VPC its own range so that they can be peered or routed later"
            )
        elif ranges[0].overlaps(ranges[1]):  # type: ignore[union-attr]
            lines.append(
                f"{pair} set network.vpc_cidr '{one.network.vpc_cidr}' and '{two.network.vpc_cidr}', "
                f"which overlap, in {account}: give each VPC a range of its own so that they can be "
                "peered or routed later"
            )
    return "\n".join(f"  - {line}" for line in lines)


def _read_alarms(r: _Reader, raw: Mapping[str, Any]) -> AlarmSettings:
    given = raw.get("alarms", {})
    if not isinstance(given, Mapping):
        r.fail("alarms", given, "expected an object with 'enabled', 'email' and/or 'topic_arn'")
        return AlarmSettings()
    r.unknown_keys(given, _ALARM_KEYS, "alarms.")
    enabled = r.typed(given, "enabled", bool, True, "alarms.")
    email: list[str] = []
    addresses = given.get("email", [])
    if not isinstance(addresses, list):
        r.fail("alarms.email", addresses, "expected a list of e-mail addresses")
        addresses = []
    for index, address in enumerate(addresses):
        setting = f"alarms.email[{index}]"
        if not isinstance(address, str) or not _EMAIL_PATTERN.fullmatch(address):
            r.fail(setting, address, "expected an e-mail address such as 'ops@example.com'")
        elif address.lower() in (known.lower() for known in email):
            r.fail(setting, address, "listed twice")
        else:
            email.append(address)
    topic_arn = r.typed(given, "topic_arn", str, None, "alarms.")  # type: ignore[arg-type]
    if topic_arn is not None:
        r.check(
            "alarms.topic_arn", topic_arn, _SNS_TOPIC_ARN_PATTERN.fullmatch,
            "expected a standard SNS topic ARN such as 'arn:aws:sns:eu-west-1:111122223333:mwaa-alarms'",
        )  # fmt: skip
        if addresses:
            r.fail(
                "alarms.email", addresses,
                "not together with alarms.topic_arn: subscribe the addresses where that topic is managed",
            )  # fmt: skip
    return AlarmSettings(enabled=enabled, email=tuple(email), topic_arn=topic_arn)


def _read_secrets_backend(r: _Reader, raw: Mapping[str, Any]) -> SecretsBackendSettings:
    given = raw.get("secrets_backend", {})
    if not isinstance(given, Mapping):
        r.fail(
            "secrets_backend", given,
            "expected an object with 'connections_prefix' and 'variables_prefix'; "
            'write {"enabled": false} to turn the backend off',
        )  # fmt: skip
        return SecretsBackendSettings()
    r.unknown_keys(given, _SECRETS_BACKEND_KEYS, "secrets_backend.")
    defaults = SecretsBackendSettings()
    enabled = r.typed(given, "enabled", bool, True, "secrets_backend.")
    prefixes = {}
    for key in ("connections_prefix", "variables_prefix"):
        value = r.typed(given, key, str, getattr(defaults, key), "secrets_backend.")
        r.check(
            f"secrets_backend.{key}", value, rules.SECRET_PREFIX_PATTERN.fullmatch,
            "expected a secret name prefix such as 'airflow/connections': letters, digits and _+=.@- "
            "in '/'-separated parts, no '/' at either end",
        )  # fmt: skip
        prefixes[key] = value
    if prefixes["connections_prefix"] == prefixes["variables_prefix"]:
        r.fail(
            "secrets_backend.variables_prefix", prefixes["variables_prefix"],
            "must differ from secrets_backend.connections_prefix",
        )  # fmt: skip
    return SecretsBackendSettings(enabled=enabled, **prefixes)


def _read_access(r: _Reader, raw: Mapping[str, Any], account: str | None) -> AccessSettings:
    given = raw.get("access", {})
    if not isinstance(given, Mapping):
        r.fail("access", given, "expected an object with 'web_login', 'rest_api' and/or 'cli'")
        return AccessSettings()
    r.unknown_keys(given, _ACCESS_KEYS, "access.")
    names: dict[str, str] = {}  # role name -> ARN, across the three lists
    web_login = _read_role_access_list(r, given, "web_login", account, names)
    rest_api = _read_role_access_list(r, given, "rest_api", account, names)
    cli: list[str] = []
    items = given.get("cli", [])
    if not isinstance(items, list):
        r.fail("access.cli", items, "expected a list of IAM role ARNs")
        items = []
    for index, arn in enumerate(items):
        if _read_role_arn(r, arn, f"access.cli[{index}]", account, names, listed=cli):
            cli.append(arn)
    return AccessSettings(web_login=web_login, rest_api=rest_api, cli=tuple(cli))


def _read_role_access_list(
    r: _Reader, given: Mapping[str, Any], key: str, account: str | None, names: dict[str, str]
) -> tuple[RoleAccess, ...]:
    setting = f"access.{key}"
    items = given.get(key, [])
    if not isinstance(items, list):
        r.fail(setting, items, 'expected a list of {"role_arn": ..., "airflow_role": ...} objects')
        return ()
    allowed = f"allowed roles are {_choices(rules.AIRFLOW_ROLES)}"
    entries: list[RoleAccess] = []
    for index, item in enumerate(items):
        where = f"{setting}[{index}]"
        if not isinstance(item, Mapping):
            r.fail(
                where,
                item,
                f'expected {{"role_arn": "arn:...:role/<name>", "airflow_role": ...}}; {allowed}',
            )
            continue
        r.unknown_keys(item, _ROLE_ACCESS_KEYS, f"{where}.")
        arn = item.get("role_arn")
        arn_ok = _read_role_arn(
            r, arn, f"{where}.role_arn", account, names, listed=[e.role_arn for e in entries]
        )
        airflow_role = item.get("airflow_role")
        if airflow_role not in rules.AIRFLOW_ROLES:
            r.fail(f"{where}.airflow_role", airflow_role, allowed)
        elif arn_ok:
            entries.append(RoleAccess(role_arn=arn, airflow_role=airflow_role))
    return tuple(entries)


def _read_role_arn(
    r: _Reader, arn: object, setting: str, account: str | None, names: dict[str, str], *, listed: list[str]
) -> bool:
    match = rules.ROLE_ARN_PATTERN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        r.fail(
            setting, arn,
            "expected an IAM role ARN arn:<partition>:iam::<12 digits>:role/<path/name>, "
            "e.g. 'arn:aws:iam::111122223333:role/data-engineer'",
        )  # fmt: skip
        return False
    assert isinstance(arn, str)
    if account is not None and match.group("account") != account:
        r.fail(setting, arn, f"IAM policies can be attached only to roles of the profile's account {account}")
        return False
    if arn in listed:
        r.fail(setting, arn, "listed twice")
        return False
    name = match.group("name")
    if names.setdefault(name, arn) != arn:
        r.fail(setting, arn, f"another role named '{name}' is listed ({names[name]}); a role name is unique")
        return False
    return True


def _read_compliance(r: _Reader, raw: Mapping[str, Any]) -> tuple[str, ...]:
    given = raw.get("compliance", [])
    allowed = f"allowed packs are {_choices(COMPLIANCE_PACKS)}"
    if not isinstance(given, list):
        r.fail("compliance", given, f"expected a list of compliance packs; {allowed}")
        return ()
    packs: list[str] = []
    for pack in given:
        if pack not in COMPLIANCE_PACKS:
            r.fail("compliance", pack, allowed)
        elif pack in packs:
            r.fail("compliance", pack, "each pack may be listed once")
        else:
            packs.append(pack)
    return tuple(packs)
