"""Every profile setting, declared once: type, default, allowed values, documentation and what a
change does to a deployed environment.

:data:`SETTINGS` is the one declaration. From it come:

- the reader (``platform_config/profile.py``): the keys each section knows (so that an unknown
  key suggests the closest one), the type of each value, its default, and the checks of a single
  value (a set of choices, a pattern, a range, or a rule of ``mwaa_rules``) with the text a
  problem line ends with. Rules across settings (a class and its sizes, an access mode and the
  Airflow version, a network mode and its ids...) stay hand-written in the reader, and in
  ``mwaa_rules`` where they are MWAA's;
- the JSON Schema of a profile, ``schemas/profile.schema.json``, and of the ``cdk.json`` that
  holds profiles, ``schemas/cdk.schema.json``, with the settings of the add-ons found in the
  repository (their manifests, :mod:`platform_config.addons`): editors complete and check
  profiles with them;
- the configuration table of ``docs/configuration.md``, between its ``configuration:begin`` and
  ``configuration:end`` markers.

``python -m platform_config.generated`` rewrites the generated files; ``--check`` fails when one
of them is not current (a test runs it in ``make test``).
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from mwaa_rules import backup as backup_rules
from mwaa_rules import rules, versions
from mwaa_rules.compliance import COMPLIANCE_PACKS
from platform_config.addons import AddonManifest

JsonType = Literal["string", "integer", "boolean", "array", "object"]

# Python type of each JSON type, and the name a problem line gives it ("expected int").
PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "boolean": bool,
    "array": list,
    "object": dict,
}


class Impact(StrEnum):
    """What changing a setting does to a deployed MWAA environment.

    Only Name, KmsKey, NetworkConfiguration.SubnetIds and EndpointManagement of
    AWS::MWAA::Environment are create-only (its resource schema's ``createOnlyProperties``): a
    change replaces the environment, and replacing a named environment fails. Any other property
    change runs a full environment update (10-30 minutes or more). Settings that do not reach the
    environment resource change only the resources around it.
    """

    NONE = "none"
    UPDATE = "environment update"
    REPLACEMENT = "replacement"


def show(value: object) -> str:
    """A value as a problem line quotes it: strings in single quotes, the rest as Python writes them."""
    return repr(value) if not isinstance(value, str) else f"'{value}'"


def choices(values: Iterable[object]) -> str:
    return ", ".join(show(v) for v in values)


@dataclass(frozen=True, kw_only=True)
class Setting:
    """One profile setting. ``key`` is its path in the profile (``network.mode``).

    ``default`` is what a profile that leaves the setting out gets; ``default_doc`` says it in
    words where the reader computes it (``environment_name``: ``mwaa-<profile>``). A single value
    is checked against ``choices``, ``pattern`` (whole value), ``minimum``/``maximum`` or
    ``check`` (a rule returning the problem, or None); ``allowed`` is the text a problem line
    ends with when one of them refuses a value, or, for a section, when the value is no object.
    ``json`` adds JSON Schema keywords for editors that the reader checks by hand (items of a
    list, values of a map, bounds that depend on another setting)."""

    key: str
    type: JsonType
    doc: str
    impact: Impact = Impact.NONE
    default: Any = None
    default_doc: str | None = None
    nullable: bool = False
    choices: tuple[Any, ...] | None = None
    pattern: re.Pattern[str] | None = None
    minimum: int | None = None
    maximum: int | None = None
    check: Callable[[Any], str | None] | None = None
    allowed: str = ""
    json: Mapping[str, Any] = field(default_factory=dict)
    # Artifacts only: whether the path names a folder or a file of the repository.
    path_kind: Literal["folder", "file"] | None = None

    @property
    def name(self) -> str:
        """The key within its section (``mode`` of ``network.mode``)."""
        return self.key.rpartition(".")[2]

    @property
    def section(self) -> str:
        """The section the setting belongs to, ``""`` for a top-level one."""
        return self.key.rpartition(".")[0]

    @property
    def python_type(self) -> builtins.type:
        return PYTHON_TYPES[self.type]

    def problem(self, value: Any) -> str | None:
        """Why ``value`` (of the right type) is not allowed, or None."""
        if self.check is not None:
            return self.check(value)
        if self.choices is not None and value not in self.choices:
            return self.allowed
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return self.allowed
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            return self.allowed
        return None


# -- patterns of single values ------------------------------------------------------------------
ACCOUNT_PATTERN = re.compile(r"^\d{12}$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
DAG_PATH_PATTERN = re.compile(r"^[a-zA-Z0-9!_.*'()-]+(/[a-zA-Z0-9!_.*'()-]+)*$")
VPC_ID_PATTERN = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")
SUBNET_ID_PATTERN = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
CIDR_PATTERN = re.compile(r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")
SECURITY_GROUP_ID_PATTERN = re.compile(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$")
TAG_KEY_PATTERN = re.compile(r"^[\w.:/=+\-@ ]{1,128}$")
TAG_VALUE_PATTERN = re.compile(r"^[\w.:/=+\-@ ]{0,256}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SNS_TOPIC_ARN_PATTERN = re.compile(
    r"^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$"
)
# S3 allows 50 tags on a bucket; CDK's BucketDeployments mark each destination prefix of the DAG
# bucket with a tag of their own (dags/, plugins/, requirements/, startup/ and the folder of an
# add-on that deploys DAGs): 5 are kept free for them.
MAX_TAGS = 45

_SIZES = rules.ENVIRONMENT_CLASSES.values()


def _bounds(ranges: Iterable[tuple[int, int]]) -> dict[str, int]:
    """JSON Schema bounds over every class (the reader checks the profile's own class)."""
    low, high = zip(*ranges, strict=True)
    return {"minimum": min(low), "maximum": max(high)}


_ROLE_ACCESS_ITEM = {
    "type": "object",
    "properties": {
        "role_arn": {"type": "string", "pattern": rules.ROLE_ARN_PATTERN},
        "airflow_role": {"enum": list(rules.AIRFLOW_ROLES)},
    },
    "required": ["role_arn", "airflow_role"],
    "additionalProperties": False,
}
_PRIVATE_ONLY = "`PRIVATE_ONLY` only (an error with the other modes)"

SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="account", type="string", impact=Impact.REPLACEMENT, default_doc="unset",
        pattern=ACCOUNT_PATTERN, allowed="expected a 12-digit AWS account id",
        doc="12-digit account id. Unset with `region` unset: an environment-agnostic synth. Either way "
        "synth makes no AWS call (no lookups). Another account deploys another environment",
    ),
    Setting(
        key="region", type="string", impact=Impact.REPLACEMENT, default_doc="unset",
        pattern=REGION_PATTERN, allowed="expected a region code like 'eu-west-1'",
        doc="region code such as `eu-west-1`. Another region deploys another environment",
    ),
    Setting(
        key="environment_name", type="string", impact=Impact.REPLACEMENT, default_doc="`mwaa-<profile>`",
        pattern=rules.ENVIRONMENT_NAME_PATTERN,
        allowed="expected 1-80 characters: a letter, then letters, digits, '-' or '_'",
        doc="1–80 chars, a letter then letters, digits, `-`, `_` (MWAA's rule). It names the stacks too, "
        "`<name>-platform` and `<name>-<stack_suffix>` for each add-on the profile deploys, "
        "with each `_` written as `-` (CloudFormation stack names allow only letters, digits and `-`): "
        "`mwaa_analytics` deploys `mwaa-analytics-platform`",
    ),
    Setting(
        key="airflow_version", type="string", impact=Impact.UPDATE, default=rules.DEFAULT_AIRFLOW_VERSION,
        check=versions.version_problem,
        json={"enum": versions.supported_version_names()},
        doc="the versions MWAA offers: "
        + "; ".join(
            ", ".join(f"`{v.version}`" for v in versions.SUPPORTED_VERSIONS if v.python == python)
            + f" (Python {python})"
            for python in dict.fromkeys(v.python for v in versions.SUPPORTED_VERSIONS)
        )
        + ". A retired version is refused with the day its support ended, as is `3.1.x`, which MWAA "
        "never offered. Always pinned: MWAA would otherwise pick the newest. The table, with its "
        "sources, is `mwaa_rules/versions.py`; CloudFormation's documentation lists versions only up to "
        "3.2.1 and lags the service (the resource passes the value to MWAA unchecked). MWAA moves an "
        "environment in place only along its upgrade paths (see `upgrade_from`)",
    ),
    Setting(
        key="upgrade_from", type="string", default_doc="unset",
        json={"enum": [*(v.version for v in versions.RETIRED_VERSIONS), *versions.supported_version_names()]},
        doc="the version the deployed environment runs now, while `airflow_version` moves it to another: "
        "synth fails unless MWAA makes that move in place (see [Upgrades](#upgrades)). Remove it once "
        "the update is deployed",
    ),
    Setting(
        key="environment_class", type="string", impact=Impact.UPDATE, default=rules.DEFAULT_ENVIRONMENT_CLASS,
        choices=tuple(rules.ENVIRONMENT_CLASSES),
        allowed=f"allowed classes are {choices(rules.ENVIRONMENT_CLASSES)}",
        doc=", ".join(f"`{c}`" for c in rules.ENVIRONMENT_CLASSES)
        + "; the class bounds the sizes below (`mw1.micro`: one of each)",
    ),
    Setting(
        key="min_workers", type="integer", impact=Impact.UPDATE, default=rules.DEFAULT_MIN_WORKERS,
        json=_bounds((1, s.max_workers) for s in _SIZES),
        doc="1 – `max_workers`",
    ),
    Setting(
        key="max_workers", type="integer", impact=Impact.UPDATE, default_doc="`10` (micro: `1`)",
        json=_bounds((1, s.max_workers) for s in _SIZES),
        doc=f"≤ {rules.MAX_WORKERS_QUOTA} (default quota); micro exactly 1",
    ),
    Setting(
        key="schedulers", type="integer", impact=Impact.UPDATE, default_doc="`2` (micro: `1`)",
        json=_bounds(s.schedulers for s in _SIZES),
        doc="2–5; micro exactly 1",
    ),
    Setting(
        key="min_webservers", type="integer", impact=Impact.UPDATE, default_doc="`2` (micro: `1`)",
        json=_bounds(s.webservers for s in _SIZES),
        doc="2–5, at most `max_webservers`; micro exactly 1",
    ),
    Setting(
        key="max_webservers", type="integer", impact=Impact.UPDATE, default_doc="`2` (micro: `1`)",
        json=_bounds(s.webservers for s in _SIZES),
        doc="2–5, at least `min_webservers`; micro exactly 1",
    ),
    Setting(
        key="webserver_access_mode", type="string", impact=Impact.UPDATE,
        default=rules.DEFAULT_WEBSERVER_ACCESS_MODE, choices=rules.WEBSERVER_ACCESS_MODES,
        allowed=f"allowed values are {choices(rules.WEBSERVER_ACCESS_MODES)}",
        doc="`PRIVATE_ONLY`: the UI and API only through a VPC endpoint in the environment's subnets. "
        "`PUBLIC_ONLY`: a public load balancer (still behind an IAM login, `airflow:CreateWebLoginToken`). "
        f"`PUBLIC_AND_PRIVATE` (Airflow {versions.PUBLIC_AND_PRIVATE_SINCE} and later only; refused for "
        "older versions): the public UI plus a private endpoint that carries the workers' Task API "
        "traffic to the web server, which MWAA offers only from Airflow 3.2",
    ),
    Setting(
        key="webserver_access", type="object", default_doc="`{}`",
        allowed='expected an object such as {"cidrs": ["10.0.0.0/8"], '
        '"security_groups": ["sg-0123456789abcdef0"]}',
        doc="who may reach a `PRIVATE_ONLY` web server: see [Reaching a private web server]"
        "(#reaching-a-private-web-server)",
    ),
    Setting(
        key="webserver_access.cidrs", type="array", default=(),
        json={"items": {"type": "string", "pattern": CIDR_PATTERN}, "uniqueItems": True},
        doc=f"{_PRIVATE_ONLY}: IPv4 ranges (`10.0.0.0/8`; not `0.0.0.0/0`, no host bits) admitted on TCP "
        "443 to the environment's security group, where MWAA puts the web server's endpoint; without "
        "them (and `security_groups`) only the environment itself reaches the UI",
    ),
    Setting(
        key="webserver_access.security_groups", type="array", default=(),
        json={"items": {"type": "string", "pattern": SECURITY_GROUP_ID_PATTERN}, "uniqueItems": True},
        doc=f"{_PRIVATE_ONLY}: security group ids (`sg-` and 8 or 17 hex digits) admitted the same way",
    ),
    Setting(
        key="endpoint_management", type="string", impact=Impact.REPLACEMENT,
        default=rules.DEFAULT_ENDPOINT_MANAGEMENT, choices=rules.ENDPOINT_MANAGEMENT_MODES,
        allowed=f"allowed values are {choices(rules.ENDPOINT_MANAGEMENT_MODES)}",
        doc="`SERVICE` or `CUSTOMER` (shared VPCs: the environment waits in PENDING until you create its "
        "endpoints)",
    ),
    Setting(
        key="network", type="object", default_doc="`{}`",
        allowed="expected an object with 'mode' and its settings",
        doc="where the environment runs",
    ),
    Setting(
        key="network.mode", type="string", impact=Impact.REPLACEMENT, default="nat",
        choices=("nat", "isolated", "existing"), allowed="allowed values are 'nat', 'isolated', 'existing'",
        doc="`nat`: new VPC, public + private subnets in 2 AZs, NAT gateways. `isolated`: new VPC, private "
        "subnets only, S3 gateway endpoint and the interface endpoints MWAA needs (monitoring, logs, sqs, "
        "kms, ecr.api, ecr.dkr, airflow.api, airflow.env, airflow.ops; secretsmanager with "
        "`secrets_backend` on) with private DNS; no internet route, so packages come only as wheels in "
        "plugins.zip (see [Requirements and private packages](#requirements-and-private-packages)), and a "
        "requirements file with only the public constraint line is not deployed. `existing`: imports "
        "`vpc_id` and `subnet_ids` without lookups. Another mode gives the environment other subnets",
    ),
    Setting(
        key="network.nat_gateways", type="integer", default=1,
        choices=(1, 2), allowed="expected 1 (one shared NAT gateway) or 2 (one per availability zone)",
        doc="`nat` mode only: `1` (shared) or `2` (one per AZ)",
    ),
    Setting(
        key="network.vpc_cidr", type="string", impact=Impact.REPLACEMENT, default="10.192.0.0/16",
        json={"pattern": r"^\d{1,3}(\.\d{1,3}){3}/(1[6-9]|2[0-4])$"},
        doc="IPv4 network, `/16` to `/24` (new VPCs); no two profiles of one account may overlap",
    ),
    Setting(
        key="network.vpc_id", type="string", impact=Impact.REPLACEMENT, default_doc="—",
        json={"pattern": VPC_ID_PATTERN},
        doc="`existing` mode only: `vpc-…` (8 or 17 hex digits)",
    ),
    Setting(
        key="network.subnet_ids", type="array", impact=Impact.REPLACEMENT, default=(), default_doc="—",
        json={
            "items": {"type": "string", "pattern": SUBNET_ID_PATTERN},
            "minItems": rules.ENVIRONMENT_SUBNETS,
            "maxItems": rules.ENVIRONMENT_SUBNETS,
            "uniqueItems": True,
        },
        doc=f"`existing` mode only: exactly {rules.ENVIRONMENT_SUBNETS} distinct private `subnet-…` ids in "
        "different AZs",
    ),
    Setting(
        key="encryption", type="string", impact=Impact.REPLACEMENT, default="customer_managed",
        choices=("customer_managed", "aws_owned"),
        allowed="allowed values are 'customer_managed', 'aws_owned'",
        doc="`customer_managed`: a rotating KMS key for the environment, bucket, logs and flow logs. "
        "`aws_owned`: AWS-owned key. **Can never be switched on an existing environment**",
    ),
    Setting(
        key="logging", type="object", impact=Impact.UPDATE, default=rules.DEFAULT_LOG_LEVELS,
        default_doc="`WARNING`, `task`: `INFO`",
        allowed="expected an object of component -> log level",
        json={
            "properties": {c: {"enum": [*rules.LOG_LEVELS, "DISABLED"]} for c in rules.LOG_COMPONENTS},
            "additionalProperties": False,
        },
        doc="component → level: component ∈ "
        + ", ".join(f"`{c}`" for c in rules.LOG_COMPONENTS)
        + "; level "
        + ", ".join(f"`{level}`" for level in rules.LOG_LEVELS)
        + " or `DISABLED`",
    ),
    Setting(
        key="log_retention_days", type="integer", default=30,
        choices=rules.LOG_RETENTION_DAYS,
        allowed=f"CloudWatch Logs accepts {choices(rules.LOG_RETENTION_DAYS)}",
        doc="a value CloudWatch accepts: " + ", ".join(map(str, rules.LOG_RETENTION_DAYS)),
    ),
    Setting(
        key="airflow_configuration_options", type="object", impact=Impact.UPDATE, default_doc="`{}`",
        allowed="expected an object of option -> string",
        json={
            "propertyNames": {
                "pattern": rules.CONFIG_OPTION_KEY_PATTERN,
                "maxLength": rules.CONFIG_OPTION_KEY_MAX_LENGTH,
            },
            "additionalProperties": {"type": "string"},
        },
        doc="`section.option` keys (lower case, ≤ 64 chars) to **string** values: write `\"3\"`, `\"False\"`",
    ),
    Setting(
        key="weekly_maintenance_window_start", type="string", impact=Impact.UPDATE,
        default_doc="unset (MWAA picks)", pattern=rules.MAINTENANCE_WINDOW_PATTERN,
        allowed="expected DAY:HH:MM in UTC with DAY in MON..SUN and minutes 00 or 30, e.g. 'TUE:03:30'",
        doc="`DAY:HH:MM` UTC, minutes `00` or `30`, e.g. `SUN:03:00`",
    ),
    Setting(
        key="worker_replacement_strategy", type="string", impact=Impact.UPDATE,
        default_doc="unset (MWAA default)", choices=rules.WORKER_REPLACEMENT_STRATEGIES,
        allowed=f"allowed values are {choices(rules.WORKER_REPLACEMENT_STRATEGIES)}",
        doc="`FORCED` or `GRACEFUL` (running tasks finish, up to 12 h; not offered in "
        + " and ".join(f"`{region}`" for region in rules.GRACEFUL_UNSUPPORTED_REGIONS)
        + ", refused there)",
    ),
    Setting(
        key="dag_s3_path", type="string", impact=Impact.UPDATE, default="dags",
        pattern=DAG_PATH_PATTERN,
        allowed="expected a relative S3 prefix such as 'dags' (no leading or trailing '/')",
        doc="relative S3 prefix, no leading or trailing `/`",
    ),
    Setting(
        key="noncurrent_version_expiration_days", type="integer", default=90,
        minimum=1, maximum=3650, allowed="expected 1 to 3650 days",
        doc="1–3650: old object versions in the DAG bucket expire after this",
    ),
    Setting(
        key="removal_policy", type="string", default="retain",
        choices=("retain", "destroy"), allowed="allowed values are 'retain', 'destroy'",
        doc="`retain`: buckets, key and log groups stay when the stack is deleted or a resource is replaced "
        "(`DeletionPolicy: RetainExceptOnCreate`, `UpdateReplacePolicy: Retain`), but a failed first create "
        "deletes them, so that it can be retried (a bucket that already holds objects cannot be deleted by "
        "CloudFormation: empty it, then retry). `destroy`: they are deleted, buckets emptied first",
    ),
    Setting(
        key="termination_protection", type="boolean", default=False,
        doc="CloudFormation termination protection on the stacks",
    ),
    Setting(
        key="artifacts", type="object", default_doc="`{}`",
        allowed="expected an object with dags, plugins, requirements, startup_script",
        doc="where the profile's Airflow artifacts come from: paths relative to the repository that exist, "
        "lie inside it (no `..`, no absolute path, no link out of it) and are a folder or a file as listed",
    ),
    Setting(
        key="artifacts.dags", type="string", default="dags", path_kind="folder",
        doc="the profile's DAG folder, relative to the repository (a DAG change updates no environment)",
    ),
    Setting(
        key="artifacts.plugins", type="string", impact=Impact.UPDATE, default="runtime/plugins",
        nullable=True, path_kind="folder",
        doc="folder zipped into plugins.zip, or `null`: no plugins",
    ),
    Setting(
        key="artifacts.requirements", type="string", impact=Impact.UPDATE,
        default="runtime/mwaa-requirements.txt", nullable=True, path_kind="file",
        doc="the environment's requirements file, or `null`",
    ),
    Setting(
        key="artifacts.startup_script", type="string", impact=Impact.UPDATE, default="runtime/startup.sh",
        nullable=True, path_kind="file",
        doc="the environment's startup script, or `null`",
    ),
    Setting(
        key="tags", type="object", impact=Impact.UPDATE, default_doc="`{}`",
        allowed="expected an object of tag key -> string value",
        json={
            "maxProperties": MAX_TAGS,
            "propertyNames": {"pattern": TAG_KEY_PATTERN, "not": {"pattern": "^[aA][wW][sS]:"}},
            "additionalProperties": {"type": "string", "pattern": TAG_VALUE_PATTERN},
        },
        doc=f"≤ {MAX_TAGS} tags on every resource (S3's limit of 50 per bucket, less the 5 that CDK's "
        "artifact deployments put on the DAG bucket); keys must not start with `aws:`",
    ),
    Setting(
        key="alarms", type="object", default_doc="`{}`",
        allowed="expected an object with 'enabled', 'email' and/or 'topic_arn'",
        doc="the recommended CloudWatch alarms: see [Observability](#observability)",
    ),
    Setting(
        key="alarms.enabled", type="boolean", default=True,
        doc="the recommended CloudWatch alarms and their SNS topic (see [Observability](#observability)); "
        "the dashboard is there either way. With `false`, `email` and `topic_arn` are ignored",
    ),
    Setting(
        key="alarms.email", type="array", default=(),
        json={"items": {"type": "string", "pattern": EMAIL_PATTERN}},
        doc="e-mail addresses subscribed to the alarm topic (each confirms from AWS's message); "
        "no duplicates",
    ),
    Setting(
        key="alarms.topic_arn", type="string", default_doc="unset (a topic is created)",
        pattern=SNS_TOPIC_ARN_PATTERN,
        allowed="expected a standard SNS topic ARN such as 'arn:aws:sns:eu-west-1:111122223333:mwaa-alarms'",
        doc="an existing standard SNS topic ARN (`arn:<partition>:sns:<region>:<account>:<name>`) to notify "
        "instead; not together with `email` (subscribe where that topic is managed)",
    ),
    Setting(
        key="secrets_backend", type="object", impact=Impact.UPDATE, default_doc="`{}`",
        allowed="expected an object with 'connections_prefix' and 'variables_prefix'; "
        'write {"enabled": false} to turn the backend off',
        doc="Airflow's Secrets Manager backend: see [Connections and variables]"
        "(#connections-and-variables-secrets-backend)",
    ),
    Setting(
        key="secrets_backend.enabled", type="boolean", impact=Impact.UPDATE, default=True,
        doc="Airflow reads connections and variables from Secrets Manager (see [Connections and variables]"
        "(#connections-and-variables-secrets-backend)). `false`: no backend, no grant; "
        "`airflow_configuration_options` may then set `secrets.*` itself (with the backend on, that is an "
        "error naming both settings)",
    ),
    Setting(
        key="secrets_backend.connections_prefix", type="string", impact=Impact.UPDATE,
        default="airflow/connections", pattern=rules.SECRET_PREFIX_PATTERN,
        allowed="expected a secret name prefix such as 'airflow/connections': letters, digits and _+=.@- "
        "in '/'-separated parts, no '/' at either end",
        doc="secret name prefix of connections: letters, digits, `_+=.@-` in `/`-separated parts, no `/` at "
        "either end",
    ),
    Setting(
        key="secrets_backend.variables_prefix", type="string", impact=Impact.UPDATE,
        default="airflow/variables", pattern=rules.SECRET_PREFIX_PATTERN,
        allowed="expected a secret name prefix such as 'airflow/connections': letters, digits and _+=.@- "
        "in '/'-separated parts, no '/' at either end",
        doc="the same for variables; must differ from `connections_prefix`",
    ),
    Setting(
        key="access", type="object", default_doc="`{}`",
        allowed="expected an object with 'web_login', 'rest_api' and/or 'cli'",
        doc="existing IAM roles allowed into the environment: see [Access](#access-for-existing-roles)",
    ),
    Setting(
        key="access.web_login", type="array", default=(),
        json={"items": _ROLE_ACCESS_ITEM},
        doc='`[{"role_arn": ..., "airflow_role": ...}]`: existing IAM roles that may open the Airflow UI '
        "(`airflow:CreateWebLoginToken`) as "
        + ", ".join(f"`{r}`" for r in rules.AIRFLOW_ROLES[:-1])
        + f" or `{rules.AIRFLOW_ROLES[-1]}` (see [Access](#access-for-existing-roles)). An ARN reads "
        "`arn:<partition>:iam::<12 digits>:role/<path/name>`, belongs to the profile's `account` when it is "
        "set and appears once; two ARNs with one role name are an error",
    ),
    Setting(
        key="access.rest_api", type="array", default=(),
        json={"items": _ROLE_ACCESS_ITEM},
        doc="the same shape: roles that may call the Airflow REST API (`airflow:InvokeRestApi`) as that "
        "Airflow role",
    ),
    Setting(
        key="access.cli", type="array", default=(),
        json={"items": {"type": "string", "pattern": rules.ROLE_ARN_PATTERN}, "uniqueItems": True},
        doc="role ARNs that may get an Airflow CLI token (`airflow:CreateCliToken`)",
    ),
    Setting(
        key="backup", type="object", default_doc="`{}` (off)",
        allowed="expected an object such as {\"enabled\": true, \"schedule\": \"cron(0 2 * * ? *)\"}",
        doc="scheduled backups of the environment's metadata: see "
        "[docs/disaster-recovery.md](docs/disaster-recovery.md#scheduled-backups)",
    ),
    Setting(
        key="backup.enabled", type="boolean", default=False,
        doc="a backup bucket, a function that runs `mwaa-ops backup` through InvokeRestApi on `schedule` "
        "and writes the archive there, and alarms when a backup fails or is missing (see "
        "[docs/disaster-recovery.md](docs/disaster-recovery.md#scheduled-backups))",
    ),
    Setting(
        key="backup.schedule", type="string", default="cron(0 2 * * ? *)",
        check=lambda value: None if backup_rules.parse_schedule(value) else backup_rules.SCHEDULE_ALLOWED,
        allowed=backup_rules.SCHEDULE_ALLOWED,
        doc="EventBridge Scheduler expression in UTC: `rate(<n> hours)`, `rate(<n> days)` or a daily "
        "`cron(<minute> <hours> * * ? *)`, hourly at most, at least every "
        f"{backup_rules.MAX_INTERVAL_SECONDS // 3600} hours (the missing-backup alarm sees 7 days at most)",
    ),
    Setting(
        key="backup.retention_days", type="integer", default=35, minimum=1, maximum=3650,
        allowed="expected 1 to 3650 days",
        doc="1–3650: archives (and their replicas) expire after this many days",
    ),
    Setting(
        key="backup.window_days", type="integer", default=30, minimum=1, maximum=365,
        allowed="expected 1 to 365 days",
        doc="1–365: each backup holds the DAG runs of this many days before it (`mwaa-ops backup --since`); "
        "cover at least the catchup horizon of the DAGs",
    ),
    Setting(
        key="backup.xcom", type="boolean", default=False,
        doc="include XComs (`--xcom`); through InvokeRestApi most XCom values are out of reach (64-character "
        "paths) and are listed in the archive's notes",
    ),
    Setting(
        key="backup.object_lock_days", type="integer", default_doc="unset (no object lock)",
        minimum=1, maximum=3650, allowed="expected 1 to 3650 days, at most backup.retention_days",
        doc="S3 Object Lock in governance mode for this many days on every archive, at most "
        "`retention_days`: no one deletes or overwrites an archive before that without "
        "`s3:BypassGovernanceRetention`",
    ),
    Setting(
        key="backup.replica_region", type="string", default_doc="unset (no replica)",
        pattern=REGION_PATTERN, allowed="expected a region code like 'eu-west-1' (not the profile's region)",
        doc="another region: a stack there holds a replica key and buckets, and S3 replication copies the "
        "backup bucket and the DAG bucket into them; needs `region` set",
    ),
    Setting(
        key="standby", type="string", default_doc="unset",
        doc="the profile (of this cdk.json) that takes over in another region: its `region` must be this "
        "profile's `backup.replica_region`. `make failover PROFILE=<standby>` deploys it and restores "
        "this profile's newest replicated backup into it",
    ),
    Setting(
        key="compliance", type="array", default=(),
        json={"items": {"enum": list(COMPLIANCE_PACKS)}, "uniqueItems": True},
        doc="cdk-nag compliance packs checked at synth on top of AwsSolutions (always on): any of "
        + ", ".join(f"`{p}`" for p in COMPLIANCE_PACKS)
        + ", each at most once (see [Security](#security))",
    ),
    Setting(
        key="classic_environment", type="boolean", default=True,
        doc="`true`: the profile deploys its MWAA environment (with its DAG bucket, artifacts, alarms and "
        "access). `false`: no environment, for a profile that runs only `serverless` workflows: no DAG "
        "bucket, no network unless `serverless.network` is `private`, and no add-on (add-ons deploy to "
        "the environment). **`false` on a deployed profile deletes its environment** "
        "(see [docs/serverless.md](docs/serverless.md))",
    ),
    Setting(
        key="serverless", type="object", default_doc="`{}`",
        allowed="expected an object with 'workflows', 'code' and/or 'network'",
        doc="Amazon MWAA Serverless workflows deployed by the profile: see "
        "[docs/serverless.md](docs/serverless.md)",
    ),
    Setting(
        key="serverless.workflows", type="string", nullable=True, path_kind="folder",
        default_doc="unset (no workflows)",
        doc="a folder of workflow definitions (`*.yaml`, dag-factory format), relative to the repository: "
        "each file is one workflow named `<environment_name>-<file name>`, checked at synth "
        "(`mwaa_rules.serverless`); a changed file updates only its own workflow",
    ),
    Setting(
        key="serverless.code", type="string", nullable=True, path_kind="folder",
        default_doc="unset (no code package)",
        doc="a folder zipped as the code package of every workflow of `workflows` (the modules of "
        "`PythonOperator` callables), relative to the repository",
    ),
    Setting(
        key="serverless.network", type="string", default="none", choices=("none", "private"),
        allowed="allowed values are 'none', 'private'",
        doc="`none`: tasks run in the service's network, none of the profile's. `private`: tasks run in "
        "the profile's private subnets (its `network`), with a security group that lets out TCP 443 "
        "only; tasks that reach the internet need `network.mode` `nat`",
    ),
)  # fmt: skip

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


def keys_of(section: str) -> tuple[str, ...]:
    """The keys a section knows, in declaration order (``""``: the top level)."""
    return tuple(s.name for s in SETTINGS if s.section == section)


def default(key: str) -> Any:
    """The declared default of ``key``."""
    return BY_KEY[key].default


# -- JSON Schema --------------------------------------------------------------------------------

SCHEMA_FOLDER = "schemas"
PROFILE_SCHEMA = "profile.schema.json"
CDK_SCHEMA = "cdk.schema.json"
CONFIGURATION_PAGE = "docs/configuration.md"
_BEGIN = "<!-- configuration:begin (generated by python -m platform_config.generated) -->"
_END = "<!-- configuration:end -->"
_IMPACT_TEXT = {
    Impact.NONE: "the environment is not touched",
    Impact.UPDATE: "an environment update (10-30 minutes or more)",
    Impact.REPLACEMENT: "replaces the environment (which fails for a named one: deploy a new one)",
}


def _json_pattern(pattern: re.Pattern[str] | str) -> str:
    """A Python pattern in the form JSON Schema (ECMA-262) reads: named groups unnamed, anchored
    at both ends as :meth:`re.Pattern.fullmatch` is."""
    text = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
    text = re.sub(r"\(\?P<\w+>", "(", text)
    return ("" if text.startswith("^") else "^") + text + ("" if text.endswith("$") else "$")


def _json_value(value: Any) -> Any:
    """Python values of the declarations as JSON: tuples as lists, patterns as strings."""
    if isinstance(value, re.Pattern):
        return _json_pattern(value)
    if isinstance(value, Mapping):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _plain(markdown: str) -> str:
    """The documentation without Markdown links and code marks, for editors that show plain text."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", markdown)
    return text.replace("`", "").replace("**", "")


def _describe(doc: str, impact: Impact) -> dict[str, str]:
    tail = f" Changing it: {_IMPACT_TEXT[impact]}."
    return {"description": _plain(doc) + "." + tail, "markdownDescription": doc + "." + tail}


def _setting_schema(setting: Setting) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": [setting.type, "null"] if setting.nullable else setting.type}
    if setting.choices is not None:
        schema["enum"] = list(setting.choices)
    if setting.pattern is not None:
        schema["pattern"] = setting.pattern
    if setting.minimum is not None:
        schema["minimum"] = setting.minimum
    if setting.maximum is not None:
        schema["maximum"] = setting.maximum
    schema |= setting.json
    if setting.default is not None and setting.default_doc is None:
        schema["default"] = setting.default
    schema |= _describe(setting.doc, setting.impact)
    described: dict[str, Any] = _json_value(schema)
    return described


def profile_schema(manifests: Sequence[AddonManifest]) -> dict[str, Any]:
    """The JSON Schema of one profile: the platform's settings and those of ``manifests``."""

    def section(name: str) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for setting in SETTINGS:
            if setting.section != name:
                continue
            if keys_of(setting.key):
                properties[setting.name] = {
                    "type": "object",
                    **_describe(setting.doc, setting.impact),
                    **section(setting.key),
                }
            else:
                properties[setting.name] = _setting_schema(setting)
        return {"properties": properties, "additionalProperties": False}

    top = section("")
    for manifest in manifests:
        for addon_setting in manifest.settings:
            top["properties"][addon_setting.key] = {
                **addon_setting.schema,
                "default": addon_setting.default,
                **_describe(
                    f"{addon_setting.description} (add-on `{manifest.name}`)", Impact(addon_setting.impact)
                ),
            }
    # A profile kept in a file of its own names this schema with "$schema".
    top["properties"] = {"$schema": {"type": "string"}, **top["properties"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": PROFILE_SCHEMA,
        "title": "MWAA platform profile",
        "description": "One deployment profile: an object under context.profiles of cdk.json. Generated "
        "by python -m platform_config.generated from platform_config/schema.py and the add-ons' manifests.",
        "type": "object",
        **top,
    }


def cdk_schema() -> dict[str, Any]:
    """The JSON Schema of a ``cdk.json`` whose ``context.profiles`` holds profiles (everything
    else in the file is the CDK's own and left open)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": CDK_SCHEMA,
        "title": "cdk.json of the MWAA platform",
        "type": "object",
        "properties": {
            "context": {
                "type": "object",
                "properties": {
                    "profiles": {
                        "type": "object",
                        "description": "Deployment profiles: profile name -> settings (-c profile=NAME).",
                        "minProperties": 1,
                        "additionalProperties": {"$ref": PROFILE_SCHEMA},
                    }
                },
            }
        },
    }


# -- the configuration table (docs/configuration.md) ------------------------------------------


def _default_cell(setting: Setting) -> str:
    if setting.default_doc is not None:
        return setting.default_doc
    value = setting.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple | list):
        return "`[]`" if not value else f"`{json.dumps(list(value))}`"
    return f"`{value}`"


def _impact_cell(impact: Impact | str) -> str:
    return {"none": "—", "environment update": "update", "replacement": "**replacement**"}[str(impact)]


def configuration_table(manifests: Sequence[AddonManifest]) -> str:
    """The configuration table: one row per setting that holds a value (sections are not rows)."""
    rows = [
        "| setting | default | on change | allowed / meaning |",
        "|---|---|---|---|",
    ]
    for setting in SETTINGS:
        if keys_of(setting.key):  # a section: its settings have rows of their own
            continue
        rows.append(
            f"| `{setting.key}` | {_default_cell(setting)} | {_impact_cell(setting.impact)} | {setting.doc} |"
        )
    for manifest in manifests:
        for addon_setting in manifest.settings:
            shown = json.dumps(addon_setting.default)
            rows.append(
                f"| `{addon_setting.key}` | `{shown}` | {_impact_cell(addon_setting.impact)} | "
                f"{addon_setting.description} (add-on `{manifest.name}`, "
                f"[{manifest.folder.name}/]({manifest.folder.name}/)) |"
            )
    legend = (
        "On change: **replacement** replaces the environment (a named environment cannot be replaced in "
        "place: it fails; deploy a new one); update runs an environment update (10–30 minutes or more); "
        "— leaves the environment alone (other resources change)."
    )
    return "\n".join([_BEGIN, "", *rows, "", legend, "", _END])


def with_table(page: str, table: str) -> str:
    """``page`` with its generated table replaced by ``table``; ValueError without the markers."""
    start, end = page.find(_BEGIN), page.find(_END)
    if start < 0 or end < start:
        raise ValueError(f"{CONFIGURATION_PAGE}: no '{_BEGIN}' ... '{_END}' block for the table")
    return page[:start] + table + page[end + len(_END) :]
