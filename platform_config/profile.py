"""Typed deployment profiles, read from the ``profiles`` key of ``cdk.json``.

A profile is parsed into :class:`Profile` before any construct exists. Every problem found is
collected and reported together as a :class:`ProfileError` whose lines name the profile, the
setting, the value received and what is allowed, so a bad profile never reaches CloudFormation.

Each setting is declared once, in :mod:`platform_config.schema` (type, default, allowed values,
documentation, what a change does to the environment): the reader takes the keys, types,
defaults and single-value checks from there. What is written here by hand is what one value
alone cannot say: rules across settings (most of them MWAA's, from :mod:`mwaa_rules`), the items
of lists and maps, and the artifact paths on disk. The settings of add-ons come from their
manifests (:mod:`platform_config.addons`).
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

from mwaa_rules import backup as backup_rules
from mwaa_rules import rules, versions
from mwaa_rules import serverless as serverless_rules
from mwaa_rules.compliance import COMPLIANCE_PACKS
from platform_config import schema
from platform_config.addons import DEFAULT_ROOT, AddonManifest, check_value, discover
from platform_config.errors import ProfileError
from platform_config.schema import choices as _choices
from platform_config.schema import default as _default
from platform_config.schema import show as _show

__all__ = [
    "COMPLIANCE_PACKS",
    "DEFAULT_PROFILE",
    "AccessSettings",
    "AlarmSettings",
    "ArtifactSettings",
    "BackupSettings",
    "NetworkSettings",
    "Profile",
    "ProfileCheck",
    "ProfileError",
    "ProfilesError",
    "RoleAccess",
    "SecretsBackendSettings",
    "ServerlessSettings",
    "WebserverAccessSettings",
    "load_profile",
    "load_profiles",
    "read_cdk_profiles",
    "stack_name_base",
    "synth_profiles",
]

NetworkMode = Literal["nat", "isolated", "existing"]
Encryption = Literal["customer_managed", "aws_owned"]
RemovalPolicyName = Literal["retain", "destroy"]

DEFAULT_PROFILE = "dev"
LOG_DISABLED = "DISABLED"

# An IPv4 address or network as written in a profile (host bits may be set; checked after).
_CIDR_PATTERN = re.compile(r"\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?")


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """Where the environment runs. See docs/configuration.md."""

    mode: NetworkMode = field(default=_default("network.mode"))
    nat_gateways: int = field(default=_default("network.nat_gateways"))
    vpc_cidr: str = field(default=_default("network.vpc_cidr"))
    vpc_id: str | None = field(default=_default("network.vpc_id"))
    subnet_ids: tuple[str, ...] = field(default=_default("network.subnet_ids"))


@dataclass(frozen=True, kw_only=True)
class WebserverAccessSettings:
    """Who may open a ``PRIVATE_ONLY`` web server: TCP 443 into the environment's security
    group from these IPv4 ranges and security groups (see docs/configuration.md).

    Empty (the default): only the environment itself, which is what MWAA's self-referencing
    group admits."""

    cidrs: tuple[str, ...] = field(default=_default("webserver_access.cidrs"))
    security_groups: tuple[str, ...] = field(default=_default("webserver_access.security_groups"))


@dataclass(frozen=True, kw_only=True)
class ArtifactSettings:
    """Where the profile's Airflow artifacts come from: paths relative to the repository root.

    ``None`` means "not deployed" (no plugins.zip, requirements file or startup script)."""

    dags: str = field(default=_default("artifacts.dags"))
    plugins: str | None = field(default=_default("artifacts.plugins"))
    requirements: str | None = field(default=_default("artifacts.requirements"))
    startup_script: str | None = field(default=_default("artifacts.startup_script"))


@dataclass(frozen=True, kw_only=True)
class AlarmSettings:
    """The recommended CloudWatch alarms and where they notify. See docs/observability.md."""

    enabled: bool = field(default=_default("alarms.enabled"))
    email: tuple[str, ...] = field(default=_default("alarms.email"))
    topic_arn: str | None = field(default=_default("alarms.topic_arn"))


@dataclass(frozen=True, kw_only=True)
class SecretsBackendSettings:
    """Airflow's Secrets Manager backend: connections and variables under these prefixes."""

    enabled: bool = field(default=_default("secrets_backend.enabled"))
    connections_prefix: str = field(default=_default("secrets_backend.connections_prefix"))
    variables_prefix: str = field(default=_default("secrets_backend.variables_prefix"))


@dataclass(frozen=True, kw_only=True)
class ServerlessSettings:
    """The profile's Amazon MWAA Serverless workflows (docs/serverless.md): folders relative to the
    repository root; ``workflows`` None: none."""

    workflows: str | None = None
    code: str | None = None
    network: Literal["none", "private"] = field(default=_default("serverless.network"))

    def definitions(self, root: Path) -> tuple[Path, ...]:
        """The definition files of ``workflows`` under ``root``, sorted by name."""
        if self.workflows is None:
            return ()
        return tuple(sorted((root / self.workflows).glob("*.yaml")))


@dataclass(frozen=True, kw_only=True)
class BackupSettings:
    """Scheduled backups of the environment's metadata (docs/disaster-recovery.md): how often, how
    long they are kept, the window of DAG runs each holds, and the region they are replicated to."""

    enabled: bool = field(default=_default("backup.enabled"))
    schedule: str = field(default=_default("backup.schedule"))
    retention_days: int = field(default=_default("backup.retention_days"))
    window_days: int = field(default=_default("backup.window_days"))
    xcom: bool = field(default=_default("backup.xcom"))
    object_lock_days: int | None = None
    replica_region: str | None = None

    @property
    def schedule_interval_seconds(self) -> int:
        """The longest time between two backups of :attr:`schedule` (validated by the reader)."""
        parsed = backup_rules.parse_schedule(self.schedule)
        assert parsed is not None, self.schedule
        return parsed.interval_seconds


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
    cli: tuple[str, ...] = field(default=_default("access.cli"))


@dataclass(frozen=True, kw_only=True)
class Profile:
    """One validated deployment profile. Build it with :func:`load_profile`."""

    name: str
    account: str | None = field(default=_default("account"))
    region: str | None = field(default=_default("region"))
    environment_name: str
    airflow_version: str = field(default=_default("airflow_version"))
    # The version the deployed environment runs now, when it differs: checked against MWAA's
    # in-place upgrade paths (mwaa_rules.versions.upgrade_path).
    upgrade_from: str | None = field(default=_default("upgrade_from"))
    environment_class: str = field(default=_default("environment_class"))
    min_workers: int = field(default=_default("min_workers"))
    max_workers: int
    schedulers: int
    min_webservers: int
    max_webservers: int
    webserver_access_mode: str = field(default=_default("webserver_access_mode"))
    webserver_access: WebserverAccessSettings = field(default_factory=WebserverAccessSettings)
    endpoint_management: str = field(default=_default("endpoint_management"))
    network: NetworkSettings = field(default_factory=NetworkSettings)
    encryption: Encryption = field(default=_default("encryption"))
    logging: Mapping[str, str | None]
    log_retention_days: int = field(default=_default("log_retention_days"))
    airflow_configuration_options: Mapping[str, str] = field(default_factory=dict)
    weekly_maintenance_window_start: str | None = field(default=_default("weekly_maintenance_window_start"))
    worker_replacement_strategy: str | None = field(default=_default("worker_replacement_strategy"))
    dag_s3_path: str = _default("dag_s3_path")
    noncurrent_version_expiration_days: int = field(default=_default("noncurrent_version_expiration_days"))
    removal_policy: RemovalPolicyName = field(default=_default("removal_policy"))
    termination_protection: bool = field(default=_default("termination_protection"))
    artifacts: ArtifactSettings = field(default_factory=ArtifactSettings)
    tags: Mapping[str, str] = field(default_factory=dict)
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    secrets_backend: SecretsBackendSettings = field(default_factory=SecretsBackendSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    compliance: tuple[str, ...] = field(default=_default("compliance"))
    backup: BackupSettings = field(default_factory=BackupSettings)
    # The profile that takes over in backup.replica_region (checked against cdk.json's profiles).
    standby: str | None = field(default=_default("standby"))
    classic_environment: bool = field(default=_default("classic_environment"))
    serverless: ServerlessSettings = field(default_factory=ServerlessSettings)
    # The add-ons the profile was read with (their manifests) and their settings: add-on name ->
    # setting key -> value, the manifest's default where the profile sets none.
    addon_manifests: tuple[AddonManifest, ...] = ()
    addons: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def platform_stack_name(self) -> str:
        """Name (and construct id) of the stack that holds the environment."""
        return f"{stack_name_base(self.environment_name)}-platform"

    @property
    def enabled_addons(self) -> tuple[AddonManifest, ...]:
        """The add-ons this profile deploys: those whose ``enabled_by`` setting is on."""
        return tuple(m for m in self.addon_manifests if self.addons[m.name][m.enabled_by] is True)

    def addon_stack_name(self, manifest: AddonManifest) -> str:
        """Name (and construct id) of an add-on's stack: ``<environment>-<stack_suffix>``."""
        return f"{stack_name_base(self.environment_name)}-{manifest.stack_suffix}"

    @property
    def replica_stack_name(self) -> str | None:
        """Name of the stack in ``backup.replica_region`` that holds the replicas, or None."""
        if not (self.backup.enabled and self.backup.replica_region):
            return None
        return f"{stack_name_base(self.environment_name)}-replica"

    @property
    def stack_names(self) -> tuple[str, ...]:
        """Names of every stack this profile deploys: the replica stack (deployed first: the
        platform's replication rules need its buckets), the platform's, then each add-on's."""
        replica = (self.replica_stack_name,) if self.replica_stack_name else ()
        return (*replica, self.platform_stack_name, *(self.addon_stack_name(m) for m in self.enabled_addons))

    @property
    def availability_zones(self) -> int:
        """Zones a new VPC spans: MWAA's two, or more where an add-on the profile deploys needs them."""
        return max([rules.ENVIRONMENT_SUBNETS, *(m.availability_zones for m in self.enabled_addons)])

    @property
    def addon_footprints(self) -> tuple[Mapping[str, int], ...]:
        """What the stacks of the add-ons this profile deploys bill, as their manifests say, and
        what its backups add beside the environment: their two alarms (backup-missing,
        backup-failed) and, replicated with a customer managed key, the replica key (read by
        the cost model, ``mwaa_rules.cost``)."""
        addons = tuple(m.footprint for m in self.enabled_addons)
        if not self.backup.enabled:
            return addons
        replica_key = self.replica_stack_name is not None and self.encryption == "customer_managed"
        return (*addons, {"alarms": 2, "kms_keys": 1 if replica_key else 0})

    @property
    def python_version(self) -> str:
        """Python of the MWAA image for this profile's Airflow version."""
        return rules.AIRFLOW_PYTHON_VERSIONS[self.airflow_version]


ProfileCheck = Callable[[Profile], list[str]]
"""A rule over a whole profile that the profile model cannot know, such as an add-on's own
(``stacks/addons.py``): the problem lines it finds, in the form ``<setting>: got <value>; ...``."""


def stack_name_base(environment_name: str) -> str:
    """The environment name as the first part of its stack names: '_' replaced by '-'.

    MWAA allows '_' in environment names (``^[a-zA-Z][0-9a-zA-Z_-]*$``, 1-80 characters); a
    CloudFormation stack name may hold only letters, digits and '-', start with a letter and
    have at most 128 characters (CloudFormation API reference, CreateStack ``StackName``:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html).
    The longest name derived here, 80 characters, '-' and an add-on's stack suffix of at most
    40 characters (platform_config.addons), has 121. Names without '_' keep their stacks. Two
    environment names that differ only in '_' against '-' map to the same stacks:
    :func:`load_profiles` refuses such a pair."""
    return environment_name.replace("_", "-")


_ROLE_ACCESS_KEYS = ("role_arn", "airflow_role")
_UNSET: Any = object()

T = TypeVar("T")


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

    def setting(self, key: str, raw: Mapping[str, Any], *, default: Any = _UNSET, check: bool = True) -> Any:
        """The value of the declared setting ``key`` in ``raw`` (its section): of the declared
        type (else the default, and a problem), the default where absent, ``None`` where the
        setting may be null and is. With ``check``, a value is checked as declared."""
        declared = schema.BY_KEY[key]
        fallback = declared.default if default is _UNSET else default
        if declared.nullable and declared.name in raw and raw[declared.name] is None:
            return None
        where = f"{declared.section}." if declared.section else ""
        value = self.typed(raw, declared.name, declared.python_type, fallback, where)
        if check and value is not None:
            self.validate(key, value)
        return value

    def validate(self, key: str, value: Any) -> None:
        """Check ``value`` as the declaration of ``key`` says."""
        problem = schema.BY_KEY[key].problem(value)
        if problem is not None:
            self.fail(key, value, problem)

    def section(self, key: str, raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The object of the declared section ``key`` in ``raw`` (``{}`` where absent), its
        unknown keys reported; None, and a problem, when it is no object."""
        declared = schema.BY_KEY[key]
        given = raw.get(declared.name, {})
        if not isinstance(given, Mapping):
            self.fail(key, given, declared.allowed)
            return None
        known = schema.keys_of(key)
        if known:
            self.unknown_keys(given, known, f"{key}.")
        return given


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


def addon_manifests(root: Path = DEFAULT_ROOT) -> list[AddonManifest]:
    """The add-ons of ``root`` (default: this repository), checked against the platform's own
    settings. Raises :class:`~platform_config.addons.AddonError` (a :class:`ProfileError`)."""
    return discover(root, reserved=schema.keys_of(""))


def load_profile(
    profiles: Mapping[str, Any] | None,
    name: str | None,
    *,
    root: Path | None = None,
    manifests: Sequence[AddonManifest] | None = None,
    checks: Sequence[ProfileCheck] = (),
) -> Profile:
    """Validate the profile ``name`` from the ``profiles`` context value.

    ``name`` ``None`` (not given) selects ``dev``; an empty name is an error. With ``root`` (the
    repository), the ``artifacts`` paths are checked on disk as well: they exist, lie inside
    ``root`` and are a folder or a file as expected. ``manifests``: the add-ons whose settings a
    profile may hold (default: those of this repository, :func:`addon_manifests`). ``checks``:
    rules over the whole profile (an add-on's), run once its own settings are valid, so that a
    rule never judges a default standing in for a rejected value.

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
    found = addon_manifests() if manifests is None else manifests
    profile, problems, failed = _read_profile(name, raw, root, found)
    if "standby" not in failed:
        problems += _standby_problems(profile, profiles)
    if not problems:
        problems = [line for check in checks for line in check(profile)]
    if problems:
        raise ProfileError(name, problems)
    return profile


def _read_profile(
    name: str, raw: Mapping[str, Any], root: Path | None, manifests: Sequence[AddonManifest]
) -> tuple[Profile, list[str], frozenset[str]]:
    """The profile as far as it can be read (a default wherever a value is invalid), every
    problem found, and the settings found invalid. :func:`load_profile` refuses a profile with a
    problem; :func:`load_profiles` still checks a profile it did not select for collisions,
    leaving its invalid settings out."""
    r = _Reader(raw)
    r.unknown_keys(raw, [*schema.keys_of(""), *(k for m in manifests for k in m.setting_keys)], "")

    account = r.setting("account", raw)
    region = r.setting("region", raw)
    environment_name = r.setting("environment_name", raw, default=f"mwaa-{name}")

    airflow_version = r.setting("airflow_version", raw)
    version_ok = versions.version_problem(airflow_version) is None
    upgrade_from = _read_upgrade_from(r, raw, airflow_version if version_ok else None)

    environment_class = r.setting("environment_class", raw)
    sizes = _read_sizes(r, raw, environment_class)

    webserver_access_mode = r.setting("webserver_access_mode", raw)
    access_problem = versions.access_mode_problem(webserver_access_mode, airflow_version)
    if access_problem is not None:
        r.fail("webserver_access_mode", webserver_access_mode, access_problem)
    webserver_access = _read_webserver_access(r, raw, webserver_access_mode)
    endpoint_management = r.setting("endpoint_management", raw)
    network = _read_network(r, raw)
    encryption = r.setting("encryption", raw)
    logging = _read_logging(r, raw)
    log_retention_days = r.setting("log_retention_days", raw)

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

    window = r.setting("weekly_maintenance_window_start", raw)
    strategy = r.setting("worker_replacement_strategy", raw)
    if strategy is not None:
        region_problem = rules.worker_replacement_problem(strategy, region)
        if region_problem is not None:
            r.fail("worker_replacement_strategy", strategy, region_problem)

    profile = Profile(
        name=name,
        account=account,
        region=region,
        environment_name=environment_name,
        airflow_version=airflow_version,
        upgrade_from=upgrade_from,
        environment_class=environment_class,
        **sizes,
        webserver_access_mode=webserver_access_mode,
        webserver_access=webserver_access,
        endpoint_management=endpoint_management,
        network=network,
        encryption=encryption,
        logging=logging,
        log_retention_days=log_retention_days,
        airflow_configuration_options=options,
        weekly_maintenance_window_start=window,
        worker_replacement_strategy=strategy,
        dag_s3_path=r.setting("dag_s3_path", raw),
        noncurrent_version_expiration_days=r.setting("noncurrent_version_expiration_days", raw),
        removal_policy=r.setting("removal_policy", raw),
        termination_protection=r.setting("termination_protection", raw),
        artifacts=_read_artifacts(r, raw, root),
        tags=_read_tags(r, raw),
        alarms=_read_alarms(r, raw),
        secrets_backend=secrets_backend,
        access=_read_access(r, raw, account),
        compliance=_read_compliance(r, raw),
        backup=_read_backup(r, raw, region),
        standby=r.setting("standby", raw),
        classic_environment=r.setting("classic_environment", raw),
        serverless=_read_serverless(r, raw, root, environment_name),
        addon_manifests=tuple(manifests),
        addons=_read_addon_settings(r, raw, manifests),
    )
    _check_deployment_kind(r, profile)
    if profile.backup.enabled and not profile.classic_environment:
        r.fail("backup.enabled", True, "backs up the MWAA environment, and classic_environment is false")
    if profile.backup.object_lock_days is not None and profile.removal_policy == "destroy":
        r.fail(
            "backup.object_lock_days", profile.backup.object_lock_days,
            "not with removal_policy 'destroy': locked archives cannot be emptied out of the bucket",
        )  # fmt: skip
    return profile, r.problems, frozenset(r.failed)


def workflow_name(environment_name: str, definition: Path) -> str:
    """The name of the workflow of ``definition`` in a profile: ``<environment_name>-<file stem>``
    (workflow names are unique in an account and Region, as environment names are)."""
    return f"{environment_name}-{definition.stem}"


def _read_serverless(
    r: _Reader, raw: Mapping[str, Any], root: Path | None, environment_name: str
) -> ServerlessSettings:
    """``serverless``: the folders exist inside the repository (with ``root``), ``workflows`` holds
    at least one ``*.yaml`` whose workflow name the service accepts, ``code`` only with
    ``workflows``. The definitions themselves are checked at synth (``ServerlessWorkflow``)."""
    given = r.section("serverless", raw)
    if given is None:
        return ServerlessSettings()
    folders: dict[str, str | None] = {}
    for key in ("workflows", "code"):
        setting = f"serverless.{key}"
        value = given.get(key)
        folders[key] = None
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            r.fail(setting, value, "expected a folder path relative to the repository, or null")
            continue
        path = Path(value)
        if path.is_absolute() or ".." in path.parts:
            r.fail(setting, value, "expected a folder path relative to the repository, without '..'")
            continue
        folders[key] = value
        if root is None:
            continue
        resolved = (root / path).resolve()
        if not resolved.is_relative_to(root.resolve()):
            r.fail(setting, value, "must lie inside the repository (it resolves outside through a link)")
        elif not resolved.is_dir():
            r.fail(setting, value, "no such folder in the repository")
    network = r.setting("serverless.network", given)
    settings = ServerlessSettings(workflows=folders["workflows"], code=folders["code"], network=network)
    if settings.code is not None and settings.workflows is None:
        r.fail(
            "serverless.code", settings.code,
            "a code package needs serverless.workflows: set it, or remove code",
        )  # fmt: skip
    if root is not None and settings.workflows is not None and "serverless.workflows" not in r.failed:
        definitions = settings.definitions(root)
        if not definitions:
            r.fail(
                "serverless.workflows", settings.workflows,
                "the folder holds no workflow definition (*.yaml): add one, or remove serverless.workflows",
            )  # fmt: skip
        for definition in definitions:
            name = workflow_name(environment_name, definition)
            if (
                not serverless_rules.WORKFLOW_NAME_PATTERN.fullmatch(name)
                or len(name) > serverless_rules.WORKFLOW_NAME_MAX_LENGTH
            ):
                r.fail(
                    "serverless.workflows", f"{settings.workflows}/{definition.name}",
                    f"its workflow name '{name}' must be a letter or digit, then letters, digits, '.', '-' "
                    f"or '_' (at most {serverless_rules.WORKFLOW_NAME_MAX_LENGTH}): rename the file",
                )  # fmt: skip
    return settings


def _check_deployment_kind(r: _Reader, profile: Profile) -> None:
    """A profile deploys a classic environment, serverless workflows, or both; the add-ons build on
    the environment (its execution role, DAG bucket and security group)."""
    if profile.classic_environment:
        return
    if profile.serverless.workflows is None and "serverless.workflows" not in r.failed:
        r.fail(
            "classic_environment", False,
            "a profile without an environment must deploy serverless workflows: set serverless.workflows, "
            "or classic_environment to true",
        )  # fmt: skip
    for manifest in profile.enabled_addons:
        r.fail(
            manifest.enabled_by, True,
            f"the add-on '{manifest.name}' deploys onto the MWAA environment, and classic_environment is "
            f"false: set {manifest.enabled_by} to false, or classic_environment to true",
        )  # fmt: skip


def _read_sizes(r: _Reader, raw: Mapping[str, Any], environment_class: str) -> dict[str, int]:
    """Schedulers, web servers and workers: defaults from the class (a maximum never below its
    minimum), the ranges and order of :func:`mwaa_rules.rules.sizing_problems`. An unknown class
    (already reported) is sized as the default one."""
    known = environment_class if environment_class in rules.ENVIRONMENT_CLASSES else None
    sizing_class = known or rules.DEFAULT_ENVIRONMENT_CLASS
    sizing = rules.ENVIRONMENT_CLASSES[sizing_class]
    sizes: dict[str, int] = {"schedulers": r.setting("schedulers", raw, default=sizing.default_schedulers)}
    sizes["min_webservers"] = r.setting("min_webservers", raw, default=sizing.default_webservers)
    sizes["max_webservers"] = r.setting(
        "max_webservers", raw, default=max(sizes["min_webservers"], sizing.default_webservers)
    )
    sizes["min_workers"] = r.setting("min_workers", raw)
    sizes["max_workers"] = r.setting(
        "max_workers", raw, default=max(sizes["min_workers"], sizing.default_max_workers)
    )
    for problem in rules.sizing_problems(sizing_class, **sizes):
        if problem.exceeds is not None:
            allowed = f"must not exceed {problem.exceeds} ({problem.limit})"
        else:
            what = " schedulers" if problem.setting == "schedulers" else ""
            allowed = f"{environment_class} allows {problem.low} to {problem.high}{what}"
        r.fail(problem.setting, problem.value, allowed)
    return sizes


def _read_addon_settings(
    r: _Reader, raw: Mapping[str, Any], manifests: Sequence[AddonManifest]
) -> dict[str, dict[str, Any]]:
    """Each add-on's settings: the profile's value where it is allowed by the manifest's JSON
    Schema fragment, else the manifest's default (and a problem)."""
    values: dict[str, dict[str, Any]] = {}
    for manifest in manifests:
        settings: dict[str, Any] = {}
        for setting in manifest.settings:
            value = raw.get(setting.key, setting.default)
            problem = check_value(setting.schema, value) if setting.key in raw else None
            if problem is not None:
                r.fail(setting.key, value, problem)
                value = setting.default
            settings[setting.key] = value
        values[manifest.name] = settings
    return values


def _read_upgrade_from(r: _Reader, raw: Mapping[str, Any], target: str | None) -> str | None:
    """The version the deployed environment runs now, if given: the move to ``target`` (the
    profile's valid ``airflow_version``) must be one MWAA makes in place."""
    source: str | None = r.setting("upgrade_from", raw)
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
    given = r.section("webserver_access", raw)
    if given is None:
        return WebserverAccessSettings()
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
        if not isinstance(group, str) or not schema.SECURITY_GROUP_ID_PATTERN.fullmatch(group):
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
    net = r.section("network", raw)
    if net is None:
        return NetworkSettings()
    mode = r.setting("network.mode", net)
    nat_gateways = r.setting("network.nat_gateways", net, check=False)
    if mode == "nat":
        r.validate("network.nat_gateways", nat_gateways)
    elif "nat_gateways" in net:
        r.fail("network.nat_gateways", nat_gateways, f"only applies to mode 'nat', not '{mode}'")

    vpc_cidr = r.setting("network.vpc_cidr", net)
    try:
        if not _CIDR_PATTERN.fullmatch(vpc_cidr):
            raise ValueError(vpc_cidr)
        cidr = ipaddress.IPv4Network(vpc_cidr, strict=True)
        if not 16 <= cidr.prefixlen <= 24:
            r.fail("network.vpc_cidr", vpc_cidr, "expected a prefix length from /16 to /24")
    except ValueError:
        r.fail("network.vpc_cidr", vpc_cidr, "expected an IPv4 network such as '10.192.0.0/16'")

    vpc_id = r.setting("network.vpc_id", net)
    subnet_ids_raw = net.get("subnet_ids", [])
    subnet_ids: tuple[str, ...] = ()
    if mode == "existing":
        if vpc_id is None or not schema.VPC_ID_PATTERN.fullmatch(vpc_id):
            r.fail(
                "network.vpc_id", vpc_id,
                "mode 'existing' needs a VPC id: 'vpc-' and 8 or 17 lower-case hex digits, "
                "e.g. 'vpc-0123456789abcdef0'",
            )  # fmt: skip
        if not isinstance(subnet_ids_raw, list) or len(subnet_ids_raw) != rules.ENVIRONMENT_SUBNETS:
            r.fail(
                "network.subnet_ids", subnet_ids_raw,
                f"mode 'existing' needs exactly {rules.ENVIRONMENT_SUBNETS} private subnet ids in "
                "different AZs",
            )  # fmt: skip
        else:
            bad = [
                s
                for s in subnet_ids_raw
                if not (isinstance(s, str) and schema.SUBNET_ID_PATTERN.fullmatch(s))
            ]
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
        mode=mode,
        nat_gateways=nat_gateways if mode == "nat" else 0,
        vpc_cidr=vpc_cidr,
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
    )


def _read_artifacts(r: _Reader, raw: Mapping[str, Any], root: Path | None) -> ArtifactSettings:
    given = r.section("artifacts", raw)
    if given is None:
        return ArtifactSettings()
    values: dict[str, str | None] = {}
    for declared in schema.SETTINGS:
        if declared.section != "artifacts":
            continue
        setting, kind, nullable = declared.key, declared.path_kind, declared.nullable
        value = given.get(declared.name, declared.default)
        values[declared.name] = value
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
    # The keys come from the declarations; a None for a setting that is not nullable failed above.
    return ArtifactSettings(**values)  # type: ignore[arg-type]  # str | None per key, not per field


def _read_logging(r: _Reader, raw: Mapping[str, Any]) -> dict[str, str | None]:
    logging: dict[str, str | None] = dict(_default("logging"))
    given = r.section("logging", raw)
    if given is None:
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
    given = r.section("airflow_configuration_options", raw)
    if given is None:
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
    given = r.section("tags", raw)
    if given is None:
        return {}
    if len(given) > schema.MAX_TAGS:
        r.fail(
            "tags", f"{len(given)} tags",
            f"at most {schema.MAX_TAGS} tags (S3's 50 per bucket, less 5 the artifact deployments add)",
        )  # fmt: skip
    tags: dict[str, str] = {}
    for key, value in given.items():
        if not schema.TAG_KEY_PATTERN.fullmatch(key) or key.lower().startswith("aws:"):
            r.fail(
                f"tags.{key}", key,
                "keys are 1-128 letters, digits, spaces or _.:/=+-@ and must not start with 'aws:'",
            )  # fmt: skip
        elif not isinstance(value, str) or not schema.TAG_VALUE_PATTERN.fullmatch(value):
            r.fail(f"tags.{key}", value, "values are strings of 0-256 letters, digits, spaces or _.:/=+-@")
        else:
            tags[key] = value
    return tags


def load_profiles(
    profiles: Mapping[str, Any] | None,
    names: str | None,
    *,
    root: Path | None = None,
    manifests: Sequence[AddonManifest] | None = None,
    checks: Sequence[ProfileCheck] = (),
) -> list[Profile]:
    """Validate the comma-separated profile ``names`` (``None``: ``dev``) for one synthesis;
    ``root``, ``manifests`` and ``checks`` as for :func:`load_profile`.

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
    found = addon_manifests() if manifests is None else manifests
    for name in dict.fromkeys(selected):
        try:
            loaded.append(load_profile(profiles, name, root=root, manifests=found, checks=checks))
        except ProfileError as error:
            problems.append(str(error))
    if problems:
        raise ProfilesError(problems)
    assert profiles is not None  # load_profile refused a missing profiles object
    others: list[_Candidate] = []
    for name, raw in profiles.items():
        if name in selected or not isinstance(raw, Mapping):
            continue
        profile, _, unreadable = _read_profile(name, raw, None, found)
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
        one_range, two_range = _ipv4_network(one.network.vpc_cidr), _ipv4_network(two.network.vpc_cidr)
        if not creates_vpc or one.account != two.account or one_range is None or two_range is None:
            continue
        account = f"account {one.account}" if one.account else "the deploying account"
        if one.network.vpc_cidr == two.network.vpc_cidr:
            lines.append(
                f"{pair} both set network.vpc_cidr '{one.network.vpc_cidr}' in {account}: "
                "give each VPC its own range so that they can be peered or routed later"
            )
        elif one_range.overlaps(two_range):
            lines.append(
                f"{pair} set network.vpc_cidr '{one.network.vpc_cidr}' and '{two.network.vpc_cidr}', "
                f"which overlap, in {account}: give each VPC a range of its own so that they can be "
                "peered or routed later"
            )
    return "\n".join(f"  - {line}" for line in lines)


def _read_alarms(r: _Reader, raw: Mapping[str, Any]) -> AlarmSettings:
    given = r.section("alarms", raw)
    if given is None:
        return AlarmSettings()
    enabled = r.setting("alarms.enabled", given)
    email: list[str] = []
    addresses = given.get("email", [])
    if not isinstance(addresses, list):
        r.fail("alarms.email", addresses, "expected a list of e-mail addresses")
        addresses = []
    for index, address in enumerate(addresses):
        setting = f"alarms.email[{index}]"
        if not isinstance(address, str) or not schema.EMAIL_PATTERN.fullmatch(address):
            r.fail(setting, address, "expected an e-mail address such as 'ops@example.com'")
        elif address.lower() in (known.lower() for known in email):
            r.fail(setting, address, "listed twice")
        else:
            email.append(address)
    topic_arn = r.setting("alarms.topic_arn", given)
    if topic_arn is not None and addresses:
        r.fail(
            "alarms.email", addresses,
            "not together with alarms.topic_arn: subscribe the addresses where that topic is managed",
        )  # fmt: skip
    return AlarmSettings(enabled=enabled, email=tuple(email), topic_arn=topic_arn)


def _read_secrets_backend(r: _Reader, raw: Mapping[str, Any]) -> SecretsBackendSettings:
    given = r.section("secrets_backend", raw)
    if given is None:
        return SecretsBackendSettings()
    enabled = r.setting("secrets_backend.enabled", given)
    prefixes = {
        key: r.setting(f"secrets_backend.{key}", given) for key in ("connections_prefix", "variables_prefix")
    }
    if prefixes["connections_prefix"] == prefixes["variables_prefix"]:
        r.fail(
            "secrets_backend.variables_prefix", prefixes["variables_prefix"],
            "must differ from secrets_backend.connections_prefix",
        )  # fmt: skip
    return SecretsBackendSettings(enabled=enabled, **prefixes)


def _read_access(r: _Reader, raw: Mapping[str, Any], account: str | None) -> AccessSettings:
    given = r.section("access", raw)
    if given is None:
        return AccessSettings()
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
        elif arn_ok and isinstance(arn, str):  # arn_ok implies a string; the isinstance tells mypy
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


def _read_backup(r: _Reader, raw: Mapping[str, Any], region: str | None) -> BackupSettings:
    """``backup``: the single values as declared; the object lock within the retention (a locked
    archive outliving its expiry would be kept anyway, and billed), and a replica region other
    than the profile's own, which must be set for the two stacks to name each other's resources."""
    given = r.section("backup", raw)
    if given is None:
        return BackupSettings()
    settings = BackupSettings(
        enabled=r.setting("backup.enabled", given),
        schedule=r.setting("backup.schedule", given),
        retention_days=r.setting("backup.retention_days", given),
        window_days=r.setting("backup.window_days", given),
        xcom=r.setting("backup.xcom", given),
        object_lock_days=r.setting("backup.object_lock_days", given),
        replica_region=r.setting("backup.replica_region", given),
    )
    lock = settings.object_lock_days
    if lock is not None and "backup.retention_days" not in r.failed and lock > settings.retention_days:
        r.fail(
            "backup.object_lock_days", lock,
            f"must not exceed backup.retention_days ({settings.retention_days}): the archives expire then",
        )  # fmt: skip
    replica = settings.replica_region
    if replica is not None and "backup.replica_region" not in r.failed:
        if region is None:
            r.fail(
                "backup.replica_region", replica,
                "needs the profile's region set: the replication rules and the replica stack name each "
                "other's region",
            )  # fmt: skip
        elif replica == region:
            r.fail("backup.replica_region", replica, f"must differ from the profile's region '{region}'")
    if not settings.enabled and given and set(given) != {"enabled"}:
        r.fail(
            "backup", dict(given),
            'the settings apply only with "enabled": true; set it, or remove the other keys',
        )  # fmt: skip
    return settings


def _standby_problems(profile: Profile, profiles: Mapping[str, Any]) -> list[str]:
    """``standby`` names another profile of ``profiles`` in another region, the one this
    profile's backups are replicated to (that is where a failover finds them)."""
    standby = profile.standby
    if standby is None:
        return []
    others = [n for n in profiles if n != profile.name]
    if standby not in others:
        return [f"standby: got {_show(standby)}; expected another profile of cdk.json: {_choices(others)}"]
    raw = profiles[standby]
    region = raw.get("region") if isinstance(raw, Mapping) else None
    if not isinstance(region, str):
        return [f"standby: got {_show(standby)}; that profile sets no region (a standby needs its own)"]
    if region == profile.region:
        return [f"standby: got {_show(standby)}; it runs in this profile's region {region} too"]
    replica = profile.backup.replica_region if profile.backup.enabled else None
    if replica != region:
        return [
            f"standby: got {_show(standby)} (region {region}); this profile's backups are "
            + (f"replicated to {replica}" if replica else "not replicated (backup.replica_region unset)")
            + f": set backup.enabled and backup.replica_region to {region!r}"
        ]
    return []
