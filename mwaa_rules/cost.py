"""Monthly cost estimate of a profile, before it is deployed.

Two entry points onto one calculation, so that they cannot disagree:

- :func:`estimate_profile` derives the footprint from a validated profile without synthesizing
  anything (``make cost``, the synth summary line);
- :func:`estimate_templates` reads it from synthesized CloudFormation templates, which need not
  come from this version of the package (a change review compares two commits).

Both build one :class:`Footprint` (what is billed while the stacks exist) and price it with
:func:`price_footprint` against a price table of ``mwaa_rules/data/prices/<region>.json``
(its form, a source and a date for each figure: :mod:`mwaa_rules.price_tables`). A region
without a table gives quantities, no amounts, and the nearest priced region
(:mod:`mwaa_rules.regions`); a class or an item the table does not price leaves that
component without amounts and the estimate without a total: it never guesses a price.

Only prices that accrue by the hour or the month are counted; usage (data processed, storage,
queries, requests) is listed in the notes as not estimated. The command line over it is
``python -m mwaa_ops.cost``.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, NamedTuple, Protocol

from mwaa_rules import endpoints, price_tables, regions, rules, serverless
from mwaa_rules.alarms import RECOMMENDED_ALARMS

DEFAULT_REGION = "us-east-1"
HOURS_PER_MONTH = 730

# The monitoring construct makes one dashboard per environment (the agreement test on
# synthesized templates, tests/rules/test_cost.py, checks it with the other counts).
DASHBOARDS_PER_ENVIRONMENT = 1

_PRICES = resources.files("mwaa_rules") / "data" / "prices"


# ---- the profile settings read --------------------------------------------------------------


class _Network(Protocol):
    @property
    def mode(self) -> str: ...
    @property
    def nat_gateways(self) -> int: ...


class _Switch(Protocol):
    @property
    def enabled(self) -> bool: ...


class _Serverless(Protocol):
    @property
    def network(self) -> str: ...


class ProfileSettings(Protocol):
    """The settings of a profile the estimate reads; ``platform_config.Profile`` has them all.
    A protocol rather than an import: the profile model is built on this package, not under it."""

    @property
    def name(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    @property
    def environment_name(self) -> str: ...
    @property
    def environment_class(self) -> str: ...
    @property
    def min_workers(self) -> int: ...
    @property
    def max_workers(self) -> int: ...
    @property
    def schedulers(self) -> int: ...
    @property
    def min_webservers(self) -> int: ...
    @property
    def max_webservers(self) -> int: ...
    @property
    def network(self) -> _Network: ...
    @property
    def encryption(self) -> str: ...
    @property
    def addon_footprints(self) -> Sequence[Mapping[str, int]]:
        """The ``[footprint]`` counts of the add-ons the profile deploys (part -> count, the
        parts being :data:`COUNTED_PARTS`), as their manifests declare them."""
        ...

    @property
    def alarms(self) -> _Switch: ...
    @property
    def secrets_backend(self) -> _Switch: ...
    @property
    def classic_environment(self) -> bool: ...
    @property
    def serverless(self) -> _Serverless: ...


# ---- footprint ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EnvironmentFootprint:
    """The billed capacity settings of one MWAA environment."""

    name: str = field(compare=False)
    environment_class: str
    min_workers: int
    max_workers: int
    schedulers: int
    min_webservers: int
    max_webservers: int


@dataclass(frozen=True, kw_only=True)
class Footprint:
    """What accrues a charge by the hour or the month while the stacks of a profile exist.

    ``interface_endpoint_azs`` counts endpoint-zones (an interface endpoint in two subnets is
    two). ``notes`` say where a value was assumed; they take no part in equality."""

    environments: tuple[EnvironmentFootprint, ...] = ()
    nat_gateways: int = 0
    public_ipv4_addresses: int = 0
    interface_endpoint_azs: int = 0
    kms_keys: int = 0
    secrets: int = 0
    alarms: int = 0
    dashboards: int = 0
    redshift_serverless_workgroups: int = 0
    notes: tuple[str, ...] = field(default=(), compare=False)


COUNTED_PARTS: tuple[str, ...] = tuple(
    part.name for part in dataclasses.fields(Footprint) if part.name not in ("environments", "notes")
)
"""The parts of a :class:`Footprint` that are counts of billed resources: what an add-on's manifest
may declare in its ``[footprint]`` table for the stack it builds."""


def footprint_from_profile(profile: ProfileSettings) -> Footprint:
    """The footprint the stacks of ``profile`` will have, derived without synthesis.

    What the stacks build: NAT gateways (each with an Elastic IP) in mode ``nat``; the interface
    endpoints of ``profile.network.mode`` (:func:`mwaa_rules.endpoints.interface_endpoints`, with
    Secrets Manager's when ``secrets_backend.enabled``) in the environment's two zones; the
    platform key with ``encryption`` ``customer_managed``; the dashboard, and the alarms of
    :data:`mwaa_rules.alarms.RECOMMENDED_ALARMS` unless ``alarms.enabled`` is off; and, added
    to those, the counts each add-on the profile deploys declares for its own stack
    (``profile.addon_footprints``, read from the add-ons' manifests).

    A profile without a classic environment (``classic_environment`` false) has only its key,
    and a network only when its workflows run in it (``serverless.network`` ``private``); its
    workflows bill per run, not by the hour (:func:`compare_serverless`)."""
    classic = profile.classic_environment
    has_network = classic or profile.serverless.network == "private"
    nat = profile.network.nat_gateways if profile.network.mode == "nat" and has_network else 0
    interface_endpoints = (
        endpoints.interface_endpoints(profile.network.mode, secrets_manager=profile.secrets_backend.enabled)
        if has_network
        else ()
    )
    environment = environment_footprint(profile)
    platform = Footprint(
        environments=(environment,) if classic else (),
        nat_gateways=nat,
        public_ipv4_addresses=nat,
        interface_endpoint_azs=len(interface_endpoints) * rules.ENVIRONMENT_SUBNETS,
        kms_keys=1 if profile.encryption == "customer_managed" else 0,
        alarms=len(RECOMMENDED_ALARMS) if profile.alarms.enabled and classic else 0,
        dashboards=DASHBOARDS_PER_ENVIRONMENT if classic else 0,
    )
    return with_counts(platform, *profile.addon_footprints)


def environment_footprint(profile: ProfileSettings) -> EnvironmentFootprint:
    """The classic environment of ``profile``'s settings (class and sizes), also for a profile
    that deploys none (``classic_environment`` false): what it would bill."""
    return EnvironmentFootprint(
        name=profile.environment_name,
        environment_class=profile.environment_class,
        min_workers=profile.min_workers,
        max_workers=profile.max_workers,
        schedulers=profile.schedulers,
        min_webservers=profile.min_webservers,
        max_webservers=profile.max_webservers,
    )


def with_counts(footprint: Footprint, *counts: Mapping[str, int]) -> Footprint:
    """``footprint`` with each of ``counts`` (part of :data:`COUNTED_PARTS` -> count) added.

    Raises ValueError for a part that is not one of :data:`COUNTED_PARTS`."""
    totals = {part: getattr(footprint, part) for part in COUNTED_PARTS}
    for extra in counts:
        for part, count in extra.items():
            if part not in totals:
                raise ValueError(f"footprint part {part!r}: expected one of {', '.join(COUNTED_PARTS)}")
            totals[part] += count
    return dataclasses.replace(footprint, **totals)


def footprint_from_templates(templates: Mapping[str, Mapping[str, Any]]) -> Footprint:
    """The footprint of CloudFormation templates (stack name -> template) of one profile.

    A property that is an intrinsic function (a dict such as ``{"Ref": ...}``) cannot be read
    before deployment: the resource type's default is used instead and a note says so."""
    notes: list[str] = []
    environments: list[EnvironmentFootprint] = []
    counts = dict.fromkeys(
        ("nat", "eip", "endpoint_azs", "kms", "secrets", "alarms", "dashboards", "redshift"), 0
    )
    simple_counts = {
        "AWS::EC2::NatGateway": "nat",
        "AWS::EC2::EIP": "eip",
        "AWS::KMS::Key": "kms",
        "AWS::SecretsManager::Secret": "secrets",
        "AWS::CloudWatch::Alarm": "alarms",
        "AWS::CloudWatch::Dashboard": "dashboards",
        "AWS::RedshiftServerless::Workgroup": "redshift",
    }
    for stack_name in sorted(templates):
        resources_ = templates[stack_name].get("Resources") or {}
        for logical_id in sorted(resources_):
            resource = resources_[logical_id]
            kind = resource.get("Type")
            properties = resource.get("Properties") or {}
            where = f"{stack_name}/{logical_id}"
            if kind in simple_counts:
                counts[simple_counts[kind]] += 1
            elif kind == "AWS::MWAA::Environment":
                environments.append(_environment_from_template(where, properties, notes))
            elif kind == "AWS::EC2::VPCEndpoint" and properties.get("VpcEndpointType") == "Interface":
                subnets = properties.get("SubnetIds")
                if isinstance(subnets, list):
                    counts["endpoint_azs"] += len(subnets)
                else:
                    counts["endpoint_azs"] += rules.ENVIRONMENT_SUBNETS
                    notes.append(
                        f"{where}: SubnetIds is not a list before deployment; "
                        f"counted as {rules.ENVIRONMENT_SUBNETS} zones"
                    )
    return Footprint(
        environments=tuple(environments),
        nat_gateways=counts["nat"],
        public_ipv4_addresses=counts["eip"],
        interface_endpoint_azs=counts["endpoint_azs"],
        kms_keys=counts["kms"],
        secrets=counts["secrets"],
        alarms=counts["alarms"],
        dashboards=counts["dashboards"],
        redshift_serverless_workgroups=counts["redshift"],
        notes=tuple(notes),
    )


def _environment_from_template(
    where: str, properties: Mapping[str, Any], notes: list[str]
) -> EnvironmentFootprint:
    def plain(key: str, kind: type, default: Any) -> Any:
        value = properties.get(key)
        if value is None:
            return default
        if isinstance(value, kind) and not isinstance(value, bool):
            return value
        notes.append(f"{where}: {key} is not a plain value ({json.dumps(value)}); assumed {default!r}")
        return default

    environment_class = plain("EnvironmentClass", str, rules.DEFAULT_ENVIRONMENT_CLASS)
    sizing = rules.ENVIRONMENT_CLASSES.get(
        environment_class, rules.ENVIRONMENT_CLASSES[rules.DEFAULT_ENVIRONMENT_CLASS]
    )
    min_workers = plain("MinWorkers", int, rules.DEFAULT_MIN_WORKERS)
    min_webservers = plain("MinWebservers", int, sizing.default_webservers)
    name = properties.get("Name")
    return EnvironmentFootprint(
        name=name if isinstance(name, str) else where,
        environment_class=environment_class,
        min_workers=min_workers,
        max_workers=plain("MaxWorkers", int, max(min_workers, sizing.default_max_workers)),
        schedulers=plain("Schedulers", int, sizing.default_schedulers),
        min_webservers=min_webservers,
        max_webservers=plain("MaxWebservers", int, max(min_webservers, sizing.default_webservers)),
    )


def quick_start_footprint() -> Footprint:
    """The setup of the MWAA user guide's quick start, for comparison: mw1.small with one
    worker and the default two schedulers and web servers, in a VPC with two public subnets and
    two NAT gateways (each with a public IPv4 address), AWS-owned key."""
    environment = EnvironmentFootprint(
        name="quick-start",
        environment_class="mw1.small",
        min_workers=1,
        max_workers=1,
        schedulers=2,
        min_webservers=2,
        max_webservers=2,
    )
    return Footprint(environments=(environment,), nat_gateways=2, public_ipv4_addresses=2)


# ---- prices ---------------------------------------------------------------------------------


def price_regions() -> list[str]:
    """Regions with a price table."""
    return sorted(p.name.removesuffix(".json") for p in _PRICES.iterdir() if p.name.endswith(".json"))


def load_prices(region: str) -> dict[str, Any] | None:
    """The price table of ``region``, or None when there is none."""
    path = _PRICES / f"{region}.json"
    if not path.is_file():
        return None
    prices: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return prices


@dataclass(frozen=True, kw_only=True)
class Component:
    """One line of an estimate. ``unit`` is ``hour`` or ``month``; amounts are USD per month,
    None when unpriced."""

    name: str
    unit: str
    quantity_idle: int
    quantity_full: int
    unit_price: float | None
    monthly_idle: float | None
    monthly_full: float | None


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """The monthly estimate of one footprint. With ``priced`` false the totals are None, so are
    the amounts of each component without a price (all of them without a price table), and
    ``notes`` say why."""

    name: str
    region: str
    priced: bool
    prices_date: str | None
    prices_sources: tuple[str, ...]
    hours_per_month: int
    components: tuple[Component, ...]
    monthly_idle: float | None
    monthly_full: float | None
    notes: tuple[str, ...]
    footprint: Footprint

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: amounts rounded to cents."""

        def money(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        return {
            "name": self.name,
            "region": self.region,
            "priced": self.priced,
            "currency": "USD",
            "prices_date": self.prices_date,
            "prices_sources": list(self.prices_sources),
            "hours_per_month": self.hours_per_month,
            "monthly_idle": money(self.monthly_idle),
            "monthly_full": money(self.monthly_full),
            "components": [
                {
                    "name": c.name,
                    "unit": c.unit,
                    "quantity_idle": c.quantity_idle,
                    "quantity_full": c.quantity_full,
                    "unit_price": c.unit_price,
                    "monthly_idle": money(c.monthly_idle),
                    "monthly_full": money(c.monthly_full),
                }
                for c in self.components
            ],
            "notes": list(self.notes),
            "footprint": {k: v for k, v in dataclasses.asdict(self.footprint).items() if k != "notes"},
        }


class _Line(NamedTuple):
    name: str
    unit: str
    quantity_idle: int
    quantity_full: int
    unit_price: float | None
    key: str = ""  # the price's path in the table (mwaa_rules.price_tables)


# What the environment hour covers when a table does not say (the minimum counts of a class).
_INCLUDED = {"workers": 1, "schedulers": 2, "webservers": 2}


def price_footprint(
    footprint: Footprint, *, region: str, name: str = "", prices: Mapping[str, Any] | None = None
) -> Estimate:
    """Price ``footprint`` with the table of ``region`` (or ``prices``, a table of that form).

    Idle: minimum workers and web servers; full: maximum; both for a whole month of
    ``hours_per_month`` hours. Without a table for the region the estimate has quantities and
    no amounts, and its first note names the nearest priced region
    (:func:`mwaa_rules.regions.nearest_priced_region`). A table may be partial: a class or an
    item it does not price (its ``missing`` section says why) leaves that component without
    amounts and the estimate without totals, with a note each; the priced components keep
    theirs. No price is ever borrowed from another region."""
    table = prices if prices is not None else load_prices(region)
    unpriced: list[str] = []
    if table is None:
        tables = price_regions()
        nearest = regions.nearest_priced_region(region, tables)
        where = f"nearest priced region: {nearest}; " if nearest else ""
        unpriced.append(
            f"no price table for region {region} ({where}tables: {', '.join(tables) or 'none'}): "
            "quantities only, no amounts"
        )
        table = {}
    mwaa = table.get("mwaa", {})
    included = mwaa.get("included", _INCLUDED)

    lines: list[_Line] = []
    unpriced_classes: list[str] = []
    for environment in footprint.environments:
        class_prices = mwaa.get("classes", {}).get(environment.environment_class)
        if class_prices is None and table:
            path = f"mwaa/classes/{environment.environment_class}"
            reason = price_tables.missing_reason(table, path) or "not in the table"
            unpriced.append(
                f"environment class {environment.environment_class} is unpriced in {region}: {reason}"
            )
            unpriced_classes.append(f"{path}/")
        lines += _environment_lines(environment, class_prices or {}, included)
    lines += _resource_lines(footprint, table)
    for line in lines:
        if table and line.unit_price is None and not line.key.startswith(tuple(unpriced_classes)):
            reason = price_tables.missing_reason(table, line.key) or "not in the table"
            unpriced.append(f"{line.name.strip()} ({line.key}) is unpriced in {region}: {reason}")

    priced = not unpriced
    hours = int(table.get("hours_per_month", HOURS_PER_MONTH))
    components = tuple(
        _component(line, hours) if line.unit_price is not None else _quantities(line) for line in lines
    )
    return Estimate(
        name=name,
        region=region,
        priced=priced,
        prices_date=table.get("date"),
        prices_sources=tuple(table.get("sources", ())),
        hours_per_month=hours,
        components=components,
        monthly_idle=sum(c.monthly_idle or 0.0 for c in components) if priced else None,
        monthly_full=sum(c.monthly_full or 0.0 for c in components) if priced else None,
        notes=(*unpriced, *footprint.notes, *_assumptions(footprint, table, hours, included)),
        footprint=footprint,
    )


def _environment_lines(
    environment: EnvironmentFootprint, prices: Mapping[str, float], included: Mapping[str, int]
) -> list[_Line]:
    """The environment hour, and the workers, schedulers and web servers beyond what it includes
    (lines of none left out)."""
    e = environment
    path = f"mwaa/classes/{e.environment_class}"
    lines = [
        _Line(
            f"MWAA {e.name} ({e.environment_class})",
            "hour",
            1,
            1,
            prices.get("environment_hour"),
            f"{path}/environment_hour",
        )
    ]
    for what, key, idle, full in (
        ("workers", "worker", e.min_workers, e.max_workers),
        ("schedulers", "scheduler", e.schedulers, e.schedulers),
        ("web servers", "webserver", e.min_webservers, e.max_webservers),
    ):
        base = int(included[key + "s"])
        line = _Line(
            f"additional {what}",
            "hour",
            max(0, idle - base),
            max(0, full - base),
            prices.get(f"additional_{key}_hour"),
            f"{path}/additional_{key}_hour",
        )
        if line.quantity_full:
            lines.append(line)
    return lines


def _resource_lines(footprint: Footprint, table: Mapping[str, Any]) -> list[_Line]:
    """One line per billed resource type the footprint has."""
    f = footprint
    counted = (
        ("NAT gateways", "hour", f.nat_gateways, "nat_gateway_hour"),
        ("public IPv4 addresses", "hour", f.public_ipv4_addresses, "public_ipv4_address_hour"),
        ("interface endpoints (per zone)", "hour", f.interface_endpoint_azs, "interface_endpoint_az_hour"),
        ("KMS keys", "month", f.kms_keys, "kms_key_month"),
        ("Secrets Manager secrets", "month", f.secrets, "secret_month"),
        ("CloudWatch alarms", "month", f.alarms, "cloudwatch_alarm_month"),
        ("CloudWatch dashboards", "month", f.dashboards, "cloudwatch_dashboard_month"),
    )
    lines = [_Line(name, unit, n, n, table.get(key), key) for name, unit, n, key in counted if n]
    if f.redshift_serverless_workgroups:
        # Compute is billed per RPU-hour only while queries run: nothing accrues while idle.
        n = f.redshift_serverless_workgroups
        lines.append(_Line("Redshift Serverless workgroups", "month", n, n, 0.0 if table else None))
    return lines


def _component(line: _Line, hours: int) -> Component:
    factor = hours if line.unit == "hour" else 1
    price = line.unit_price
    if price is None:  # a malformed table: the key is missing
        raise ValueError(f"the price table has no price for {line.name}")
    return Component(
        name=line.name,
        unit=line.unit,
        quantity_idle=line.quantity_idle,
        quantity_full=line.quantity_full,
        unit_price=price,
        monthly_idle=line.quantity_idle * price * factor,
        monthly_full=line.quantity_full * price * factor,
    )


def _quantities(line: _Line) -> Component:
    return Component(
        name=line.name,
        unit=line.unit,
        quantity_idle=line.quantity_idle,
        quantity_full=line.quantity_full,
        unit_price=None,
        monthly_idle=None,
        monthly_full=None,
    )


def _assumptions(
    footprint: Footprint, table: Mapping[str, Any], hours: int, included: Mapping[str, Any]
) -> list[str]:
    notes = [
        f"{hours} hours a month; idle = minimum workers and web servers, max scale = maximum "
        "workers and web servers, each running the whole month",
        f"the environment hour includes {included['workers']} worker, {included['schedulers']} "
        f"schedulers and {included['webservers']} web servers; each one more is an additional "
        "instance hour",
    ]
    if footprint.alarms or footprint.dashboards:
        free = table.get("free_tier", {})
        notes.append(
            f"CloudWatch's free tier ({free.get('cloudwatch_alarms', 10)} alarms, "
            f"{free.get('cloudwatch_dashboards', 3)} dashboards) is per account and shared with "
            "everything else in it: not subtracted; alarms priced at standard resolution"
        )
    if footprint.redshift_serverless_workgroups:
        notes.append(
            "Redshift Serverless: compute is billed per RPU-hour only while queries run, so the "
            "workgroup costs $0 idle; its storage is not estimated"
        )
    notes.append(
        "not estimated (usage-based): data processed by NAT gateways and interface endpoints, "
        "data transfer, MWAA metadata database storage, S3 storage and requests, CloudWatch Logs "
        "(MWAA and VPC flow logs), KMS requests, Lambda functions (CDK custom resources, the "
        "scheduled backup) and EventBridge Scheduler invocations, S3 replication, Athena "
        "queries, Redshift Serverless queries and storage"
    )
    return notes


# ---- entry points ---------------------------------------------------------------------------


def estimate_templates(templates: Mapping[str, Mapping[str, Any]], *, region: str | None) -> Estimate:
    """The estimate of one profile's synthesized templates (stack name -> template dict).

    ``region`` None (an environment-agnostic synth) prices with the us-east-1 table and says so."""
    return _estimate(footprint_from_templates(templates), region=region, name=", ".join(sorted(templates)))


def estimate_profile(profile: ProfileSettings, *, region: str | None = None) -> Estimate:
    """The estimate of ``profile`` without synthesis; ``region`` overrides the profile's."""
    return _estimate(
        footprint_from_profile(profile), region=region or profile.region, name=f"profile {profile.name}"
    )


def _estimate(footprint: Footprint, *, region: str | None, name: str) -> Estimate:
    if region is None:
        assumed = (
            f"no region set (the stacks deploy to the credentials' region): {DEFAULT_REGION} prices used"
        )
        footprint = dataclasses.replace(footprint, notes=(*footprint.notes, assumed))
        region = DEFAULT_REGION
    return price_footprint(footprint, region=region, name=name)


# ---- output ---------------------------------------------------------------------------------


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def format_estimate(estimate: Estimate) -> str:
    """A readable table of ``estimate`` with its totals and notes."""
    if estimate.priced:
        title = (
            f"{estimate.name}: monthly estimate, USD, {estimate.region} list prices of {estimate.prices_date}"
        )
    elif any(c.unit_price is not None for c in estimate.components):
        title = (
            f"{estimate.name}: incomplete monthly estimate, USD, {estimate.region} list prices of "
            f"{estimate.prices_date}: no total"
        )
    else:
        title = f"{estimate.name}: no monthly estimate for {estimate.region} (quantities only)"
    header = (
        f"  {'component':<40} {'unit':<5} {'quantity':>9} {'unit price':>10} {'idle':>10} {'max scale':>10}"
    )
    rows = [title, header]
    for c in estimate.components:
        quantity = (
            str(c.quantity_idle)
            if c.quantity_idle == c.quantity_full
            else f"{c.quantity_idle}-{c.quantity_full}"
        )
        unit_price = "-" if c.unit_price is None else f"{c.unit_price:g}"
        label = f"  {c.name}" if c.name.startswith("additional ") else c.name  # under its environment
        rows.append(
            f"  {label:<40} {c.unit:<5} {quantity:>9} {unit_price:>10} "
            f"{_money(c.monthly_idle):>10} {_money(c.monthly_full):>10}"
        )
    if estimate.priced:
        rows.append(
            f"  {'total':<40} {'':<5} {'':>9} {'':>10} "
            f"{_money(estimate.monthly_idle):>10} {_money(estimate.monthly_full):>10}"
        )
    elif "incomplete" in title:
        gaps = sum(c.unit_price is None for c in estimate.components)
        rows.append(
            f"  {'total':<40} not estimated: {gaps} of {len(estimate.components)} components unpriced"
        )
    rows.append("  notes:")
    rows += [
        textwrap.fill(note, width=100, initial_indent="  - ", subsequent_indent="    ")
        for note in estimate.notes
    ]
    return "\n".join(rows)


def summary_line(estimate: Estimate) -> str:
    """One line for the synth summary."""
    gaps = [c.name.strip() for c in estimate.components if c.unit_price is None]
    if not estimate.priced and len(gaps) < len(estimate.components):
        return (
            f"cost: no total ({estimate.region} list prices of {estimate.prices_date} lack "
            f"{', '.join(gaps)}: see `make cost`)"
        )
    if not estimate.priced:
        return f"cost: not estimated ({estimate.notes[0]})"
    return (
        f"cost: ~${estimate.monthly_idle:,.0f}/month idle, ~${estimate.monthly_full:,.0f}/month at max "
        f"scale ({estimate.region} list prices of {estimate.prices_date})"
    )


# ---- classic or serverless ------------------------------------------------------------------

SERVERLESS_TASK_HOUR = "mwaa_serverless/task_hour"
"""The path of the MWAA Serverless task-hour price in a price table."""


def task_hour_price(region: str) -> serverless.TaskHourPrice | None:
    """The MWAA Serverless task-hour price of ``region`` from its price table, with the source
    and date of its ``provenance`` entry; None when the table has none (see
    :func:`task_hour_price_missing`)."""
    table = load_prices(region)
    return None if table is None else _task_hour_of(table, region)


def _task_hour_of(table: Mapping[str, Any], region: str) -> serverless.TaskHourPrice | None:
    value = table.get("mwaa_serverless", {}).get("task_hour")
    entry = price_tables.provenance(table).get(SERVERLESS_TASK_HOUR)
    if value is None or entry is None:
        return None
    return serverless.TaskHourPrice(
        region=region,
        usd_per_task_hour=float(value),
        source=f"{entry['source']} ({entry['kind']})",
        as_of=str(entry["date"]),
    )


def task_hour_price_missing(region: str) -> str:
    """Why ``region`` has no MWAA Serverless task-hour price."""
    return _task_hour_missing(load_prices(region), region)


def _task_hour_missing(table: Mapping[str, Any] | None, region: str) -> str:
    if table is None:
        return f"no price table for region {region}: MWAA Serverless is unpriced"
    reason = price_tables.missing_reason(table, SERVERLESS_TASK_HOUR) or "not in the table"
    return f"the MWAA Serverless task-hour price is unpriced in {region}: {reason}"


@dataclass(frozen=True, kw_only=True)
class WorkflowUsage:
    """How often a workflow runs and how long its tasks take: what its bill depends on."""

    name: str
    runs_per_month: float
    task_seconds: tuple[float, ...]
    basis: str

    @classmethod
    def of(
        cls,
        definition: serverless.WorkflowDefinition,
        *,
        runs_per_month: float | None = None,
        task_seconds: float | None = None,
    ) -> WorkflowUsage:
        """The usage of ``definition``: runs from its schedule and, for each task, its
        ``execution_timeout`` (the longest it may run before the service stops it, the default
        arguments' where the task sets none; :data:`mwaa_rules.serverless.MAX_EXECUTION_TIMEOUT_SECONDS`
        where neither does) unless ``runs_per_month`` or ``task_seconds`` (every task) say
        otherwise. Retries are not counted: each attempt bills as one more task."""
        runs = serverless.runs_per_month(definition.schedule) if runs_per_month is None else runs_per_month
        schedule = "manual runs only" if definition.schedule is None else f"schedule '{definition.schedule}'"
        runs_basis = (
            f"{runs:g} runs/month (stated)"
            if runs_per_month is not None
            else f"{runs:g} runs/month ({schedule})"
        )
        if task_seconds is not None:
            durations = tuple(float(task_seconds) for _ in definition.tasks)
            duration_basis = f"every task {task_seconds:g} s (stated)"
        else:
            default = _timeout(definition.default_args)
            durations = tuple(
                _timeout(task.parameters) or default or float(serverless.MAX_EXECUTION_TIMEOUT_SECONDS)
                for task in definition.tasks.values()
            )
            duration_basis = "every task its execution_timeout (an upper bound)"
        tasks = f"{len(durations)} task{'' if len(durations) == 1 else 's'}"
        return cls(
            name=definition.dag_id,
            runs_per_month=runs,
            task_seconds=durations,
            basis=f"{runs_basis}; {tasks}, {duration_basis}",
        )


def _timeout(arguments: Mapping[str, Any]) -> float | None:
    value = arguments.get("execution_timeout")
    if isinstance(value, Mapping):
        return (
            float(value.get("seconds", 0))
            + 60 * float(value.get("minutes", 0))
            + 3600 * float(value.get("hours", 0))
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


@dataclass(frozen=True, kw_only=True)
class WorkflowCost:
    usage: WorkflowUsage
    billed_task_seconds_per_run: int
    per_run: float | None
    monthly: float | None
    break_even_runs: float | None


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """A classic environment's month next to the same month of workflows on MWAA Serverless.

    ``classic_monthly``: the environment's own lines at idle (environment hour, schedulers and
    web servers beyond those included, minimum workers), None when unpriced. The network, key,
    alarms and logs are left out on both sides: workflows that reach the internet need the NAT
    too. ``break_even_runs`` of a workflow: the runs a month at which it alone costs the
    classic month; ``break_even_factor``: how many times the stated usage of all the workflows
    together costs the classic month."""

    name: str
    region: str
    environment_class: str
    classic_monthly: float | None
    price: serverless.TaskHourPrice | None
    workflows: tuple[WorkflowCost, ...]
    serverless_monthly: float | None
    break_even_factor: float | None
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        def money(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        return {
            "name": self.name,
            "region": self.region,
            "currency": "USD",
            "environment_class": self.environment_class,
            "classic_monthly": money(self.classic_monthly),
            "task_hour_price": None if self.price is None else dataclasses.asdict(self.price),
            "serverless_monthly": money(self.serverless_monthly),
            "break_even_factor": self.break_even_factor,
            "workflows": [
                {
                    "name": w.usage.name,
                    "runs_per_month": w.usage.runs_per_month,
                    "billed_task_seconds_per_run": w.billed_task_seconds_per_run,
                    "per_run": None if w.per_run is None else round(w.per_run, 4),
                    "monthly": money(w.monthly),
                    "break_even_runs": w.break_even_runs,
                    "basis": w.usage.basis,
                }
                for w in self.workflows
            ],
            "notes": list(self.notes),
        }


def compare_serverless(
    environment: EnvironmentFootprint,
    usages: Sequence[WorkflowUsage],
    *,
    region: str,
    name: str = "",
    prices: Mapping[str, Any] | None = None,
    price: serverless.TaskHourPrice | None = None,
) -> Comparison:
    """Compare the classic ``environment`` with ``usages`` on MWAA Serverless in ``region``
    (its price table, or ``prices``/``price`` given). A missing price leaves its side and the
    break-even points None, with a note naming what is missing; nothing is borrowed from
    another region."""
    table = prices if prices is not None else load_prices(region)
    notes: list[str] = []
    classic: float | None = None
    if table is None:
        notes.append(f"no price table for region {region}: the classic environment is unpriced")
    else:
        estimate = price_footprint(Footprint(environments=(environment,)), region=region, prices=table)
        if estimate.priced:
            classic = estimate.monthly_idle
        else:
            notes.extend(n for n in estimate.notes if "unpriced" in n)
    if price is None and table is not None:
        price = _task_hour_of(table, region)
    if price is None:
        notes.append(_task_hour_missing(table, region))
    costs: list[WorkflowCost] = []
    for usage in usages:
        billed = sum(serverless.billed_task_seconds(d) for d in usage.task_seconds)
        per_run = serverless.run_cost(usage.task_seconds, price=price) if price is not None else None
        costs.append(
            WorkflowCost(
                usage=usage,
                billed_task_seconds_per_run=billed,
                per_run=per_run,
                monthly=None if per_run is None else per_run * usage.runs_per_month,
                break_even_runs=(
                    serverless.break_even_runs(classic, per_run)
                    if classic is not None and per_run is not None and per_run > 0
                    else None
                ),
            )
        )
    monthly = None if price is None else sum(c.monthly or 0.0 for c in costs)
    factor = classic / monthly if classic is not None and monthly else None
    if price is not None:
        notes.append(
            f"MWAA Serverless: ${price.usd_per_task_hour:g} per task-hour in {region}, billed per second "
            f"with a {serverless.MINIMUM_BILLED_SECONDS_PER_TASK} s minimum per task ({price.source}, "
            f"{price.as_of})"
        )
    notes.append(
        "classic: the environment's own hours at idle (minimum workers); network, key, alarms and logs are "
        "left out on both sides"
    )
    return Comparison(
        name=name,
        region=region,
        environment_class=environment.environment_class,
        classic_monthly=classic,
        price=price,
        workflows=tuple(costs),
        serverless_monthly=monthly,
        break_even_factor=factor,
        notes=tuple(notes),
    )


def _amount(value: float | None, digits: int = 2) -> str:
    return "unpriced" if value is None else f"{value:,.{digits}f}"


def _runs(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def format_comparison(comparison: Comparison) -> str:
    """``make cost``'s "classic or serverless" table of ``comparison``."""
    c = comparison
    rows = [
        f"{c.name}: classic or serverless, USD a month, {c.region}",
        f"  classic environment ({c.environment_class}, idle): {_amount(c.classic_monthly)}",
        f"  {'workflow':<28} {'runs/month':>10} {'task-s/run':>10} {'per run':>9} {'a month':>9} "
        f"{'break-even runs/month':>22}",
    ]
    for w in c.workflows:
        rows.append(
            f"  {w.usage.name:<28} {w.usage.runs_per_month:>10,.1f} {w.billed_task_seconds_per_run:>10} "
            f"{_amount(w.per_run, 4):>9} {_amount(w.monthly):>9} {_runs(w.break_even_runs):>22}"
        )
    rows.append(f"  serverless, all workflows: {_amount(c.serverless_monthly)}")
    if c.break_even_factor is not None:
        rows.append(f"  the classic month costs as much as {c.break_even_factor:,.1f} times this usage")
    rows.append("  usage:")
    rows += [f"  - {w.usage.name}: {w.usage.basis}" for w in c.workflows]
    rows.append("  notes:")
    rows += [
        textwrap.fill(note, width=100, initial_indent="  - ", subsequent_indent="    ") for note in c.notes
    ]
    return "\n".join(rows)


def comparison_markdown(comparison: Comparison) -> str:
    """``comparison`` as a Markdown table (docs/serverless.md holds one, checked by a test)."""
    c = comparison
    rows = [
        "| | runs a month | billed task-seconds a run | USD a run | USD a month | break-even runs a month |",
        "|---|---|---|---|---|---|",
        f"| classic `{c.environment_class}`, idle | — | — | — | {_amount(c.classic_monthly)} | — |",
    ]
    for w in c.workflows:
        rows.append(
            f"| serverless `{w.usage.name}` | {w.usage.runs_per_month:,.1f} | "
            f"{w.billed_task_seconds_per_run:,} | {_amount(w.per_run, 4)} | {_amount(w.monthly)} | "
            f"{_runs(w.break_even_runs)} |"
        )
    return "\n".join(rows)
