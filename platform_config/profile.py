"""Typed deployment profiles, read from the ``profiles`` key of ``cdk.json``.

A profile is parsed into :class:`Profile` before any construct exists. Every problem found is
collected and reported together as a :class:`ProfileError` whose lines name the profile, the
setting, the value received and what is allowed, so a bad profile never reaches CloudFormation.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from mwaa_constructs import rules

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
_DAG_PATH_PATTERN = re.compile(r"^[a-zA-Z0-9!_.*'()-]+(/[a-zA-Z0-9!_.*'()-]+)*$")
_TAG_KEY_PATTERN = re.compile(r"^[\w.:/=+\-@ ]{1,128}$")
_TAG_VALUE_PATTERN = re.compile(r"^[\w.:/=+\-@ ]{0,256}$")
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
class Profile:
    """One validated deployment profile. Build it with :func:`load_profile`."""

    name: str
    account: str | None = None
    region: str | None = None
    environment_name: str
    airflow_version: str = rules.DEFAULT_AIRFLOW_VERSION
    environment_class: str = "mw1.small"
    min_workers: int = 1
    max_workers: int
    schedulers: int
    min_webservers: int
    max_webservers: int
    webserver_access_mode: str = "PRIVATE_ONLY"
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
    tags: Mapping[str, str] = field(default_factory=dict)
    compliance: tuple[str, ...] = ()

    @property
    def platform_stack_name(self) -> str:
        """Name (and construct id) of the stack that holds the environment."""
        return f"{self.environment_name}-platform"

    @property
    def sample_data_stack_name(self) -> str:
        """Name (and construct id) of the sample data plane's stack (with ``sample_data`` on)."""
        return f"{self.environment_name}-sample-data"

    @property
    def python_version(self) -> str:
        """Python of the MWAA image for this profile's Airflow version."""
        return rules.AIRFLOW_PYTHON_VERSIONS[self.airflow_version]


_TOP_LEVEL_KEYS = (
    "account", "region", "environment_name", "airflow_version", "environment_class",
    "min_workers", "max_workers", "schedulers", "min_webservers", "max_webservers",
    "webserver_access_mode", "endpoint_management", "network", "encryption", "logging",
    "log_retention_days", "airflow_configuration_options", "weekly_maintenance_window_start",
    "worker_replacement_strategy", "dag_s3_path", "noncurrent_version_expiration_days",
    "removal_policy", "termination_protection", "sample_data", "tags", "compliance",
)  # fmt: skip
_NETWORK_KEYS = ("mode", "nat_gateways", "vpc_cidr", "vpc_id", "subnet_ids")

T = TypeVar("T")


def _show(value: object) -> str:
    return repr(value) if not isinstance(value, str) else f"'{value}'"


def _choices(values: tuple[object, ...] | list[object]) -> str:
    return ", ".join(_show(v) for v in values)


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

    def unknown_keys(self, raw: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
        for key in raw:
            if key not in known:
                self.problems.append(
                    f"{where}{key}: unknown setting; allowed settings are {', '.join(known)}"
                )

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


def load_profile(profiles: Mapping[str, Any] | None, name: str | None) -> Profile:
    """Validate the profile ``name`` (default ``dev``) from the ``profiles`` context value.

    Raises :class:`ProfileError` listing every invalid setting; returns a :class:`Profile` that
    the constructs can use without further checks.
    """
    name = name or DEFAULT_PROFILE
    if not isinstance(profiles, Mapping) or not profiles:
        raise ProfileError(name, ["no 'profiles' object found in the cdk.json context"])
    if name not in profiles:
        raise ProfileError(
            name, [f"profile: got '{name}'; defined profiles are {_choices(sorted(profiles))}"]
        )
    raw = profiles[name]
    if not isinstance(raw, Mapping):
        raise ProfileError(name, [f"profile: got {_show(raw)}; expected an object of settings"])

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
    r.check(
        "airflow_version",
        airflow_version,
        lambda v: v in rules.AIRFLOW_PYTHON_VERSIONS,
        f"supported versions are {_choices(list(rules.AIRFLOW_PYTHON_VERSIONS))}",
    )

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
    tags = _read_tags(r, raw)
    compliance = _read_compliance(r, raw)

    if r.problems:
        raise ProfileError(name, r.problems)

    return Profile(
        name=name,
        account=account,
        region=region,
        environment_name=environment_name,
        airflow_version=airflow_version,
        environment_class=environment_class,
        min_workers=min_workers,
        max_workers=max_workers,
        schedulers=schedulers,
        min_webservers=min_webservers,
        max_webservers=max_webservers,
        webserver_access_mode=webserver_access_mode,
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
        tags=tags,
        compliance=compliance,
    )


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
            r.fail("network.vpc_id", vpc_id, "mode 'existing' needs a VPC id like 'vpc-0abc...'")
        if not isinstance(subnet_ids_raw, list) or len(subnet_ids_raw) != 2:
            r.fail(
                "network.subnet_ids", subnet_ids_raw,
                "mode 'existing' needs exactly 2 private subnet ids in different AZs",
            )  # fmt: skip
        else:
            bad = [s for s in subnet_ids_raw if not (isinstance(s, str) and _SUBNET_ID_PATTERN.fullmatch(s))]
            if bad:
                r.fail("network.subnet_ids", bad, "expected subnet ids like 'subnet-0abc...'")
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
