"""The monthly cost model: prices applied, idle and max scale, unpriced regions and classes,
templates with intrinsic functions, the endpoints and alarms of the catalogues, agreement of the
profile and template paths with synthesized templates, the one-line and table forms."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mwaa_rules import cost
from platform_config import load_profile, read_cdk_profiles
from platform_config.profile import addon_manifests

ROOT = Path(__file__).resolve().parents[2]
PRICES = json.loads((ROOT / "mwaa_rules" / "data" / "prices" / "us-east-1.json").read_text())
SHIPPED = read_cdk_profiles(ROOT / "cdk.json")
# The platform of each shipped profile: every add-on off. What an add-on's stack costs is tested
# with the add-on (tests/sample/test_addon.py for the sample).
ADDONS_OFF = {manifest.enabled_by: False for manifest in addon_manifests(ROOT)}
PLATFORM = {name: {**settings, **ADDONS_OFF} for name, settings in SHIPPED.items()}


def _profile(name: str, **settings: Any):
    return load_profile({name: {"environment_name": f"mwaa-{name}", **settings}}, name)


def _component(estimate: cost.Estimate, name: str) -> cost.Component:
    (found,) = [c for c in estimate.components if c.name.strip() == name]
    return found


# ---- the price table --------------------------------------------------------------------------


def test_price_table_names_region_date_and_sources() -> None:
    assert PRICES["region"] == "us-east-1"
    assert PRICES["hours_per_month"] == 730
    assert len(PRICES["date"]) == 10 and PRICES["date"][4] == "-" == PRICES["date"][7]
    assert PRICES["sources"] and all(u.startswith("https://aws.amazon.com/") for u in PRICES["sources"])
    # Every class the profile model accepts is either priced or explicitly unpriced with a reason
    # (every table: tests/rules/test_prices.py).
    from mwaa_rules import rules

    classes = PRICES["mwaa"]["classes"]
    unpriced = {
        path.removeprefix("mwaa/classes/") for path in PRICES["missing"] if path.startswith("mwaa/classes/")
    }
    assert set(classes) | set(unpriced) == set(rules.ENVIRONMENT_CLASSES)
    assert not set(classes) & set(unpriced)
    assert "us-east-1" in cost.price_regions()


# ---- prices applied ---------------------------------------------------------------------------


def test_every_component_is_quantity_times_the_table_price() -> None:
    profile = _profile(
        "sized",
        region="us-east-1",
        environment_class="mw1.large",
        min_workers=3,
        max_workers=7,
        schedulers=4,
        min_webservers=3,
        max_webservers=5,
        network={"mode": "nat", "nat_gateways": 2},
        encryption="customer_managed",
    )
    estimate = cost.estimate_profile(profile)
    large = PRICES["mwaa"]["classes"]["mw1.large"]
    hours = PRICES["hours_per_month"]
    expected = {
        # name: (idle quantity, full quantity, unit price, hours a month or 1)
        "MWAA mwaa-sized (mw1.large)": (1, 1, large["environment_hour"], hours),
        "additional workers": (3 - 1, 7 - 1, large["additional_worker_hour"], hours),
        "additional schedulers": (4 - 2, 4 - 2, large["additional_scheduler_hour"], hours),
        "additional web servers": (3 - 2, 5 - 2, large["additional_webserver_hour"], hours),
        "NAT gateways": (2, 2, PRICES["nat_gateway_hour"], hours),
        "public IPv4 addresses": (2, 2, PRICES["public_ipv4_address_hour"], hours),
        "KMS keys": (1, 1, PRICES["kms_key_month"], 1),
        "CloudWatch alarms": (10, 10, PRICES["cloudwatch_alarm_month"], 1),
        "CloudWatch dashboards": (1, 1, PRICES["cloudwatch_dashboard_month"], 1),
    }
    assert [c.name.strip() for c in estimate.components] == list(expected)
    for name, (idle, full, unit_price, factor) in expected.items():
        component = _component(estimate, name)
        assert (component.quantity_idle, component.quantity_full, component.unit_price) == (
            idle,
            full,
            unit_price,
        )
        assert component.monthly_idle == pytest.approx(idle * unit_price * factor)
        assert component.monthly_full == pytest.approx(full * unit_price * factor)
    assert estimate.priced
    assert estimate.monthly_idle == pytest.approx(sum(c.monthly_idle for c in estimate.components))
    assert estimate.monthly_full == pytest.approx(sum(c.monthly_full for c in estimate.components))
    assert (estimate.region, estimate.prices_date) == ("us-east-1", PRICES["date"])


def test_shipped_profiles_cost_what_the_hand_computed_sums_say() -> None:
    # Written out so that a wrong formula fails even if it is applied to the table consistently.
    dev = cost.estimate_profile(load_profile(PLATFORM, "dev"))
    # mw1.small 0.49 + 1 NAT gateway 0.045 + its IPv4 address 0.005, 730 h; 10 alarms at 0.10;
    # the dashboard 3.00.
    assert dev.monthly_idle == pytest.approx(730 * (0.49 + 0.045 + 0.005) + 10 * 0.10 + 3.00)  # 398.20
    # max_workers 2: one additional mw1.small worker at 0.055.
    assert dev.monthly_full == pytest.approx(
        730 * (0.49 + 0.055 + 0.045 + 0.005) + 10 * 0.10 + 3.00
    )  # 438.35

    prod = cost.estimate_profile(load_profile(PLATFORM, "prod"))
    # mw1.medium 0.74, min_workers 2 (1 additional at 0.11), 2 NAT gateways and IPv4, 1 key at
    # 1.00, 12 alarms at 0.10 (the recommended 10 and the backups' 2), the dashboard 3.00.
    assert prod.monthly_idle == pytest.approx(
        730 * (0.74 + 1 * 0.11 + 2 * 0.045 + 2 * 0.005) + 1.00 + 12 * 0.10 + 3.00
    )  # 698.70
    # max_workers 10 (9 additional), max_webservers 3 (1 additional at 0.055).
    assert prod.monthly_full == pytest.approx(
        730 * (0.74 + 9 * 0.11 + 1 * 0.055 + 2 * 0.045 + 2 * 0.005) + 1.00 + 12 * 0.10 + 3.00
    )  # 1381.25


def test_idle_counts_minimum_and_max_scale_counts_maximum() -> None:
    estimate = cost.estimate_profile(
        _profile("scaling", min_workers=2, max_workers=6, min_webservers=2, max_webservers=4, schedulers=3)
    )
    workers = _component(estimate, "additional workers")
    webservers = _component(estimate, "additional web servers")
    schedulers = _component(estimate, "additional schedulers")
    assert (workers.quantity_idle, workers.quantity_full) == (1, 5)
    assert (webservers.quantity_idle, webservers.quantity_full) == (0, 2)
    # Schedulers do not scale: the same count in both columns.
    assert (schedulers.quantity_idle, schedulers.quantity_full) == (1, 1)
    assert estimate.monthly_full - estimate.monthly_idle == pytest.approx(
        730 * (4 * PRICES["mwaa"]["classes"]["mw1.small"]["additional_worker_hour"] + 2 * 0.028)
    )


def test_profile_without_region_is_priced_in_us_east_1_and_says_so() -> None:
    estimate = cost.estimate_profile(load_profile(SHIPPED, "dev"))
    assert estimate.region == "us-east-1"
    assert any("no region set" in note and "us-east-1 prices used" in note for note in estimate.notes)
    assert not any(
        "no region set" in note for note in cost.estimate_profile(_profile("r", region="us-east-1")).notes
    )


# ---- never a guessed price --------------------------------------------------------------------


def test_region_without_price_table_gives_quantities_and_no_amounts() -> None:
    estimate = cost.estimate_profile(load_profile(SHIPPED, "prod"), region="eu-west-1")
    assert not estimate.priced
    assert (estimate.region, estimate.prices_date, estimate.monthly_idle, estimate.monthly_full) == (
        "eu-west-1",
        None,
        None,
        None,
    )
    assert _component(estimate, "NAT gateways").quantity_idle == 2
    assert all(c.unit_price is c.monthly_idle is c.monthly_full is None for c in estimate.components)
    assert estimate.notes[0] == (
        "no price table for region eu-west-1 (nearest priced region: us-east-1; tables: "
        f"{', '.join(cost.price_regions())}): quantities only, no amounts"
    )
    assert cost.summary_line(estimate) == f"cost: not estimated ({estimate.notes[0]})"
    text = cost.format_estimate(estimate)
    assert "no monthly estimate for eu-west-1" in text
    assert "total" not in text and "$" not in text


@pytest.mark.parametrize("environment_class", ["mw1.micro", "mw1.xlarge", "mw1.2xlarge"])
def test_class_without_a_confirmed_price_is_unpriced(environment_class: str) -> None:
    settings: dict[str, Any] = {"environment_class": environment_class}
    if environment_class == "mw1.micro":
        settings |= {"max_workers": 1}
    estimate = cost.estimate_profile(_profile("big", **settings))
    assert not estimate.priced
    assert estimate.monthly_idle is None
    assert f"environment class {environment_class} is unpriced in us-east-1" in estimate.notes[0]


# ---- templates --------------------------------------------------------------------------------


def _template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def test_templates_with_intrinsic_functions_fall_back_to_the_resource_defaults() -> None:
    templates = {
        "env": _template(
            Env={
                "Type": "AWS::MWAA::Environment",
                "Properties": {
                    "Name": {"Ref": "EnvName"},
                    "EnvironmentClass": {"Fn::If": ["Big", "mw1.large", "mw1.medium"]},
                    "MinWorkers": {"Ref": "MinWorkers"},
                    "MaxWorkers": {"Ref": "MaxWorkers"},
                    "Schedulers": 3,
                },
            },
            Endpoint={
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {"VpcEndpointType": "Interface", "SubnetIds": {"Ref": "Subnets"}},
            },
        )
    }
    footprint = cost.footprint_from_templates(templates)
    (environment,) = footprint.environments
    assert environment == cost.EnvironmentFootprint(
        name="env/Env",
        environment_class="mw1.small",
        min_workers=1,
        max_workers=10,
        schedulers=3,
        min_webservers=2,
        max_webservers=2,
    )
    assert footprint.interface_endpoint_azs == 2
    assert footprint.notes == (
        "env/Endpoint: SubnetIds is not a list before deployment; counted as 2 zones",
        'env/Env: EnvironmentClass is not a plain value ({"Fn::If": ["Big", "mw1.large", "mw1.medium"]}); '
        "assumed 'mw1.small'",
        'env/Env: MinWorkers is not a plain value ({"Ref": "MinWorkers"}); assumed 1',
        'env/Env: MaxWorkers is not a plain value ({"Ref": "MaxWorkers"}); assumed 10',
    )
    estimate = cost.estimate_templates(templates, region="us-east-1")
    assert estimate.priced
    assert all(note in estimate.notes for note in footprint.notes)


def test_templates_count_each_billed_resource() -> None:
    subnets = [{"Ref": "A"}, {"Ref": "B"}, {"Ref": "C"}]
    templates = {
        "one": _template(
            Nat1={"Type": "AWS::EC2::NatGateway"},
            Eip1={"Type": "AWS::EC2::EIP"},
            Key={"Type": "AWS::KMS::Key"},
            Interface={
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {"VpcEndpointType": "Interface", "SubnetIds": subnets},
            },
            S3={"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
            Untyped={"Type": "AWS::EC2::VPCEndpoint", "Properties": {}},
        ),
        "two": _template(
            Secret={"Type": "AWS::SecretsManager::Secret"},
            Alarm1={"Type": "AWS::CloudWatch::Alarm"},
            Alarm2={"Type": "AWS::CloudWatch::Alarm"},
            Dashboard={"Type": "AWS::CloudWatch::Dashboard"},
            Workgroup={"Type": "AWS::RedshiftServerless::Workgroup"},
            Bucket={"Type": "AWS::S3::Bucket"},
        ),
    }
    assert cost.footprint_from_templates(templates) == cost.Footprint(
        nat_gateways=1,
        public_ipv4_addresses=1,
        interface_endpoint_azs=3,
        kms_keys=1,
        secrets=1,
        alarms=2,
        dashboards=1,
        redshift_serverless_workgroups=1,
    )
    estimate = cost.estimate_templates(templates, region=None)
    assert _component(estimate, "interface endpoints (per zone)").monthly_idle == pytest.approx(
        3 * PRICES["interface_endpoint_az_hour"] * 730
    )
    assert _component(estimate, "CloudWatch alarms").monthly_idle == pytest.approx(2 * 0.10)
    assert _component(estimate, "CloudWatch dashboards").monthly_full == pytest.approx(1 * 3.0)
    assert _component(estimate, "Redshift Serverless workgroups").monthly_idle == 0
    # No environment in these templates, only fixed parts: NAT, IPv4 and 3 endpoint-zones by the
    # hour; a key, a secret, 2 alarms and a dashboard by the month.
    assert estimate.monthly_idle == pytest.approx(730 * (0.045 + 0.005 + 0.03) + 1 + 0.4 + 0.2 + 3)
    assert any("free tier" in note and "not subtracted" in note for note in estimate.notes)
    assert any("costs $0 idle" in note for note in estimate.notes)


def test_isolated_profiles_count_their_endpoints_in_both_zones() -> None:
    footprint = cost.footprint_from_profile(_profile("iso", network={"mode": "isolated"}))
    # The secrets backend is on by default: Secrets Manager's endpoint as well.
    assert (footprint.interface_endpoint_azs, footprint.nat_gateways) == (10 * 2, 0)
    without_backend = cost.footprint_from_profile(
        _profile("iso", network={"mode": "isolated"}, secrets_backend={"enabled": False})
    )
    assert without_backend.interface_endpoint_azs == 9 * 2


# ---- the two entry points agree on synthesized templates ---------------------------------------

AGREEMENT_PROFILES = {
    **SHIPPED,
    # Interface endpoints in the environment's subnets: the one footprint part dev and prod lack.
    "isolated": {
        **SHIPPED["prod"],
        "environment_name": "mwaa-iso",
        # Every profile its own range: outside 10.0.0.0/8, where `make new-team` gives teams theirs.
        "network": {"mode": "isolated", "vpc_cidr": "172.16.0.0/16"},
    },
}


def _synthesize(profile: str, outdir: Path) -> dict[str, dict[str, Any]]:
    """Synthesize ``profile`` with the app as the CDK CLI runs it, into ``outdir``."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context |= {"profiles": AGREEMENT_PROFILES, "profile": profile}
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    # The app reads the profiles from the cdk.json of the folder the CLI runs it in.
    project = outdir / "project"
    project.mkdir()
    (project / "cdk.json").write_text(json.dumps({"context": context}))
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {path.name: json.loads(path.read_text()) for path in sorted(outdir.rglob("*.template.json"))}


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    return {p: _synthesize(p, tmp_path_factory.mktemp(p)) for p in AGREEMENT_PROFILES}


@pytest.mark.parametrize("name", list(AGREEMENT_PROFILES))
def test_profile_and_templates_give_the_same_estimate(synthesized, name: str) -> None:
    profile = load_profile(AGREEMENT_PROFILES, name)
    from_templates = cost.estimate_templates(synthesized[name], region=profile.region)
    from_profile = cost.estimate_profile(profile)
    assert from_templates.footprint == from_profile.footprint
    assert cost.footprint_from_templates(synthesized[name]).notes == ()  # no value assumed
    assert from_templates.components == from_profile.components
    assert (from_templates.monthly_idle, from_templates.monthly_full) == (
        from_profile.monthly_idle,
        from_profile.monthly_full,
    )


# The platform builds no secret and no Redshift workgroup: only an add-on's stack does.
ADDON_ONLY_PARTS = {"secrets", "redshift_serverless_workgroups"}


def test_agreement_covers_every_footprint_part(synthesized) -> None:
    # Guards the agreement test itself: each part appears in some synthesized profile, those of
    # add-ons wherever an add-on of the repository builds them (a shipped profile enables each).
    footprints = [cost.footprint_from_templates(t) for t in synthesized.values()]
    built_by_addons = {part for m in addon_manifests(ROOT) for part, count in m.footprint.items() if count}
    assert set(cost.COUNTED_PARTS) == {f.name for f in dataclasses.fields(cost.Footprint)} - {
        "environments",
        "notes",
    }
    for part in cost.COUNTED_PARTS:
        if part in ADDON_ONLY_PARTS and part not in built_by_addons:
            continue  # nothing in this repository builds it
        assert any(getattr(f, part) for f in footprints), part


# ---- output -----------------------------------------------------------------------------------


def test_quick_start_is_priced_as_the_user_guide_sets_it_up() -> None:
    # mw1.small 0.49 + 2 NAT gateways 0.045 + 2 IPv4 addresses 0.005, 730 h; one worker, no scaling.
    quick = cost.price_footprint(cost.quick_start_footprint(), region="us-east-1", name="MWAA quick start")
    assert quick.monthly_idle == pytest.approx(730 * (0.49 + 2 * 0.045 + 2 * 0.005))  # 430.70
    assert quick.monthly_full == quick.monthly_idle


def test_summary_line_and_table() -> None:
    estimate = cost.estimate_profile(load_profile(PLATFORM, "dev"))
    assert cost.summary_line(estimate) == (
        f"cost: ~$398/month idle, ~$438/month at max scale (us-east-1 list prices of {PRICES['date']})"
    )
    text = cost.format_estimate(estimate)
    lines = text.splitlines()
    assert lines[0] == f"profile dev: monthly estimate, USD, us-east-1 list prices of {PRICES['date']}"
    total = next(line for line in lines if line.strip().startswith("total"))
    assert total.split()[1:] == ["398.20", "438.35"]
    workers = next(line for line in lines if "additional workers" in line)
    assert workers.split()[2:] == ["hour", "0-1", "0.055", "0.00", "40.15"]
