"""Add-on manifests: what the platform knows of an add-on, as data.

An add-on is a top-level folder of the repository with an ``addon.toml``: the workload it deploys
next to the platform (a stack of its own, DAGs in a folder of the DAG prefix, a permission
contract) and the profile settings it owns. The manifest is pure data so that every layer can read
it: the profile model accepts and type-checks the add-on's settings, the cost model prices its
footprint, the developer tools find its contract and DAG folder, and the operating tool, which may
not import the CDK app, still reads profiles that set them. Only the app layer
(``stacks/addons.py``) imports the add-on's code, through the manifest's ``entry``.

The manifest (every path relative to the add-on's folder)::

    name = "reports"                       # letters, digits, '_'; unique
    description = "..."
    entry = "reports.addon:ADDON"          # module:attribute in the add-on's own package
    enabled_by = "reports"                 # the boolean setting that deploys the add-on
    stack_suffix = "reports"               # its stack: <environment name>-<suffix>
    contract = "permissions.toml"          # optional: its permission contract
    placeholders = "reports.permissions:placeholders"  # optional: fills the contract's placeholders

    [dags]                                 # optional: the DAGs it deploys
    folder = "reports"                     # its folder under the profile's DAG prefix
    source = "dags/reports"                # the files deployed there
    smoke = "reports-dag"                  # optional: the DAG a deployment's smoke test runs

    [network]
    availability_zones = 2                 # zones the platform's VPC must span for it (2-3)

    [footprint]                            # what its stack bills by the hour or month
    secrets = 1                            # (parts: mwaa_rules.cost.COUNTED_PARTS)

    [settings.reports]                     # each profile setting it owns (top-level keys)
    schema = { type = "boolean" }          # a JSON Schema fragment: type, enum, minimum,
    default = false                        #   maximum, pattern
    description = "deploy the reports add-on"
    impact = "none"                        # none | environment update | replacement

A malformed manifest raises :class:`AddonError` naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mwaa_rules.cost import COUNTED_PARTS
from platform_config.errors import ProfileError

MANIFEST = "addon.toml"
DEFAULT_ROOT = Path(__file__).resolve().parent.parent
"""Where :func:`discover` looks unless told otherwise: the folder that holds this package, which is
the repository in a checkout (an installed package finds no add-on there)."""

IMPACTS = ("none", "environment update", "replacement")
"""What changing a setting does to a deployed MWAA environment."""

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# A stack name is <environment name, at most 80 characters>-<suffix>; CloudFormation allows 128.
_STACK_SUFFIX = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_FOLDER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_ENTRY = re.compile(r"^(?P<module>[A-Za-z_]\w*(\.[A-Za-z_]\w*)*):(?P<attribute>[A-Za-z_]\w*)$")
_TOP_KEYS = (
    "name", "description", "entry", "enabled_by", "stack_suffix", "contract", "placeholders",
    "dags", "network", "footprint", "settings",
)  # fmt: skip
_DAG_KEYS = ("folder", "source", "smoke")
_NETWORK_KEYS = ("availability_zones",)
_SETTING_KEYS = ("schema", "default", "description", "impact")
# The JSON Schema keywords a setting's fragment may use: those check_value checks.
SCHEMA_KEYWORDS = ("type", "enum", "minimum", "maximum", "pattern")
# JSON Schema type -> the Python types it accepts and the name a problem line gives it (the
# profile's own settings say "expected int", "expected str", "expected bool").
_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "boolean": ((bool,), "bool"),
    "integer": ((int,), "int"),
    "number": ((int, float), "number"),
    "string": ((str,), "str"),
    "array": ((list,), "list"),
    "object": ((dict,), "object"),
}
# Zones a new VPC may span: MWAA's two, or three (e.g. for Redshift Serverless).
_ZONES = (2, 3)


class AddonError(ProfileError):
    """Add-on manifests that cannot be used. ``problems`` holds one line per problem, each
    naming the manifest file and the key. A :class:`ProfileError`: whatever reports a profile's
    problems (``make synth``, ``mwaa-ops``) reports these the same way."""

    def __init__(self, problems: list[str]) -> None:
        self.profile = "*"
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        ValueError.__init__(self, f"add-on manifests are invalid:\n{lines}")


@dataclass(frozen=True, kw_only=True)
class AddonSetting:
    """A top-level profile setting an add-on owns."""

    key: str
    schema: Mapping[str, Any]
    default: Any
    description: str
    impact: str = "none"


@dataclass(frozen=True, kw_only=True)
class AddonManifest:
    """One add-on's ``addon.toml``, checked. Paths are absolute."""

    name: str
    folder: Path
    description: str
    entry: str
    enabled_by: str
    stack_suffix: str
    settings: tuple[AddonSetting, ...]
    contract: Path | None = None
    placeholders: str | None = None
    dag_folder: str | None = None
    dag_source: Path | None = None
    smoke_dag: str | None = None
    availability_zones: int = 2
    footprint: Mapping[str, int] = field(default_factory=dict)

    @property
    def setting_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.settings)

    def defaults(self) -> dict[str, Any]:
        """The add-on's settings as a profile gets them when it sets none."""
        return {s.key: s.default for s in self.settings}


def check_value(schema: Mapping[str, Any], value: object) -> str | None:
    """What ``value`` breaks of the JSON Schema fragment ``schema`` (keywords of
    :data:`SCHEMA_KEYWORDS`), as the end of a problem line, or None when it is allowed."""
    kind = schema.get("type")
    if kind is not None:
        python_types, shown = _TYPES[kind]
        # bool is a subclass of int: never accept one for the other.
        if not isinstance(value, python_types) or (kind in ("integer", "number") and isinstance(value, bool)):
            return f"expected {shown}"
    if "enum" in schema and value not in schema["enum"]:
        return "allowed values are " + ", ".join(
            f"'{v}'" if isinstance(v, str) else repr(v) for v in schema["enum"]
        )
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and ((minimum is not None and value < minimum) or (maximum is not None and value > maximum)):
        if minimum is not None and maximum is not None:
            return f"expected {minimum} to {maximum}"
        return f"expected at least {minimum}" if minimum is not None else f"expected at most {maximum}"
    pattern = schema.get("pattern")
    if pattern is not None and isinstance(value, str) and re.search(pattern, value) is None:
        return f"expected a value matching {pattern}"
    return None


def discover(root: Path = DEFAULT_ROOT, *, reserved: Sequence[str] = ()) -> list[AddonManifest]:
    """The manifests of the add-ons in ``root``: every ``<folder>/addon.toml``, sorted by folder
    name, so that every tool sees them in the same order.

    ``reserved``: setting keys an add-on may not own (the platform's own). Raises
    :class:`AddonError` listing every problem of every manifest."""
    manifests: list[AddonManifest] = []
    problems: list[str] = []
    for path in sorted(root.glob(f"*/{MANIFEST}")):
        manifest, found = _read_manifest(path, root)
        problems += found
        if manifest is not None:
            manifests.append(manifest)
    owners: dict[str, str] = dict.fromkeys(reserved, "the platform")
    names: dict[str, str] = {}
    for manifest in manifests:
        shown = _shown(manifest.folder / MANIFEST, root)
        if manifest.name in names:
            problems.append(f"{shown}: name '{manifest.name}' is also the name of {names[manifest.name]}")
        names.setdefault(manifest.name, shown)
        for key in manifest.setting_keys:
            if key in owners:
                problems.append(f"{shown}: settings.{key}: a setting of {owners[key]}; give it another key")
            owners.setdefault(key, f"add-on '{manifest.name}'")
    suffixes: dict[str, str] = {}
    folders: dict[str, str] = {}
    for manifest in manifests:
        shown = _shown(manifest.folder / MANIFEST, root)
        if manifest.stack_suffix in ("platform", *suffixes):
            problems.append(
                f"{shown}: stack_suffix '{manifest.stack_suffix}' is taken "
                f"({suffixes.get(manifest.stack_suffix, 'the platform stack')})"
            )
        suffixes.setdefault(manifest.stack_suffix, f"add-on '{manifest.name}'")
        if manifest.dag_folder is not None:
            if manifest.dag_folder in folders:
                problems.append(
                    f"{shown}: dags.folder '{manifest.dag_folder}' is also the folder of "
                    f"{folders[manifest.dag_folder]}"
                )
            folders.setdefault(manifest.dag_folder, f"add-on '{manifest.name}'")
    if problems:
        raise AddonError(problems)
    return manifests


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _read_manifest(path: Path, root: Path) -> tuple[AddonManifest | None, list[str]]:
    """The manifest of ``path`` and the problems found; None when it cannot be used."""
    shown = _shown(path, root)
    folder = path.parent
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        return None, [f"{shown}: invalid TOML ({error})"]
    problems: list[str] = []

    def problem(key: str, value: object, allowed: str) -> None:
        problems.append(f"{shown}: {key}: got {value!r}; {allowed}")

    def unknown(table: Mapping[str, Any], known: Sequence[str], where: str) -> None:
        for key in table:
            if key not in known:
                problems.append(f"{shown}: {where}{key}: unknown key; allowed keys are {', '.join(known)}")

    def text(table: Mapping[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            problem(f"{where}{key}", value, "expected a non-empty string")
            return ""
        if pattern is not None and not pattern.fullmatch(value):
            problem(f"{where}{key}", value, f"expected a value matching {pattern.pattern}")
        return value

    def table(key: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            problem(key, value, "expected a table")
            return {}
        return value

    def inside(relative: str, key: str, kind: str) -> Path | None:
        candidate = (folder / relative).resolve()
        if Path(relative).is_absolute() or not candidate.is_relative_to(folder.resolve()):
            problem(key, relative, f"expected a {kind} inside the add-on's folder")
            return None
        exists = candidate.is_dir() if kind == "folder" else candidate.is_file()
        if not exists:
            problem(key, relative, f"no such {kind} in {folder.name}/")
            return None
        return candidate

    unknown(data, _TOP_KEYS, "")
    name = text(data, "name", "", _NAME)
    description = text(data, "description", "")
    entry = text(data, "entry", "", _ENTRY)
    match = _ENTRY.fullmatch(entry)
    if match is not None and match.group("module").split(".")[0] != folder.name:
        problem("entry", entry, f"expected a module of the add-on's own package '{folder.name}'")
    enabled_by = text(data, "enabled_by", "", _KEY)
    stack_suffix = text(data, "stack_suffix", "", _STACK_SUFFIX)

    contract = None
    if "contract" in data:
        contract = inside(text(data, "contract", ""), "contract", "file")
    placeholders = None
    if "placeholders" in data:
        placeholders = text(data, "placeholders", "", _ENTRY)
        match = _ENTRY.fullmatch(placeholders)
        if match is not None and match.group("module").split(".")[0] != folder.name:
            problem(
                "placeholders", placeholders, f"expected a module of the add-on's own package '{folder.name}'"
            )

    dags = table("dags")
    unknown(dags, _DAG_KEYS, "dags.")
    dag_folder = dag_source = smoke_dag = None
    if dags:
        dag_folder = text(dags, "folder", "dags.", _FOLDER)
        dag_source = inside(text(dags, "source", "dags."), "dags.source", "folder")
        if "smoke" in dags:
            smoke_dag = text(dags, "smoke", "dags.")

    network = table("network")
    unknown(network, _NETWORK_KEYS, "network.")
    zones = network.get("availability_zones", 2)
    if zones not in _ZONES or isinstance(zones, bool):
        problem("network.availability_zones", zones, f"expected one of {', '.join(map(str, _ZONES))}")
        zones = 2

    footprint: dict[str, int] = {}
    for part, count in table("footprint").items():
        if part not in COUNTED_PARTS:
            problems.append(
                f"{shown}: footprint.{part}: unknown part; allowed parts are {', '.join(COUNTED_PARTS)}"
            )
        elif not isinstance(count, int) or isinstance(count, bool) or count < 0:
            problem(f"footprint.{part}", count, "expected a count, 0 or more")
        else:
            footprint[part] = count

    settings = [_read_setting(key, spec, shown, problems) for key, spec in table("settings").items()]
    found = [s for s in settings if s is not None]
    by_key = {s.key: s for s in found}
    if enabled_by and enabled_by not in by_key:
        problem("enabled_by", enabled_by, "expected the key of one of the add-on's [settings]")
    elif enabled_by and by_key[enabled_by].schema.get("type") != "boolean":
        problem("enabled_by", enabled_by, "expected a setting of type boolean")

    if problems:
        return None, problems
    return (
        AddonManifest(
            name=name,
            folder=folder,
            description=description,
            entry=entry,
            enabled_by=enabled_by,
            stack_suffix=stack_suffix,
            settings=tuple(found),
            contract=contract,
            placeholders=placeholders,
            dag_folder=dag_folder,
            dag_source=dag_source,
            smoke_dag=smoke_dag,
            availability_zones=zones,
            footprint=footprint,
        ),
        [],
    )


def _read_setting(key: str, spec: object, shown: str, problems: list[str]) -> AddonSetting | None:
    where = f"{shown}: settings.{key}"
    before = len(problems)
    if not _KEY.fullmatch(key):
        problems.append(f"{where}: expected a key of lower-case letters, digits and '_'")
    if not isinstance(spec, dict):
        problems.append(f"{where}: got {spec!r}; expected a table with {', '.join(_SETTING_KEYS)}")
        return None
    for unknown in [k for k in spec if k not in _SETTING_KEYS]:
        problems.append(f"{where}.{unknown}: unknown key; allowed keys are {', '.join(_SETTING_KEYS)}")
    schema = spec.get("schema")
    if not isinstance(schema, dict) or "type" not in schema:
        problems.append(f"{where}.schema: got {schema!r}; expected a JSON Schema fragment with a 'type'")
        return None
    for keyword in [k for k in schema if k not in SCHEMA_KEYWORDS]:
        problems.append(
            f"{where}.schema.{keyword}: unsupported keyword; supported are {', '.join(SCHEMA_KEYWORDS)}"
        )
    if schema["type"] not in _TYPES:
        problems.append(f"{where}.schema.type: got {schema['type']!r}; allowed types are {', '.join(_TYPES)}")
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except (re.error, TypeError):
            problems.append(
                f"{where}.schema.pattern: got {schema['pattern']!r}; expected a regular expression"
            )
    description = spec.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append(f"{where}.description: got {description!r}; expected a non-empty string")
    impact = spec.get("impact", "none")
    if impact not in IMPACTS:
        problems.append(f"{where}.impact: got {impact!r}; allowed values are {', '.join(IMPACTS)}")
    if "default" not in spec:
        problems.append(f"{where}.default: missing; every add-on setting has a default")
    elif len(problems) == before:
        default_problem = check_value(schema, spec["default"])
        if default_problem is not None:
            problems.append(f"{where}.default: got {spec['default']!r}; {default_problem}")
    # A description that is not a string has added a problem above; the isinstance tells mypy.
    if len(problems) > before or not isinstance(description, str):
        return None
    return AddonSetting(
        key=key, schema=dict(schema), default=spec["default"], description=description, impact=impact
    )
