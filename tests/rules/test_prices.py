"""The price tables of every Region and the Region list: each figure with its source and date,
the Regions without a table listed with a reason, the nearest priced Region named for them,
partial tables that give no total, and ``make cost`` for a profile in eu-west-1."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from mwaa_ops import cost as cost_cli
from mwaa_rules import cost, price_tables, regions, rules
from platform_config import load_profile, read_cdk_profiles

ROOT = Path(__file__).resolve().parents[2]
PRICES = ROOT / "mwaa_rules" / "data" / "prices"
TABLES = {path.stem: json.loads(path.read_text()) for path in sorted(PRICES.glob("*.json"))}
SHIPPED = read_cdk_profiles(ROOT / "cdk.json")


def _every_part_footprint(environment_class: str) -> cost.Footprint:
    """One of each billed part, and an environment of ``environment_class`` with one of each
    additional instance (mw1.micro has none to add)."""
    more = 0 if environment_class == "mw1.micro" else 1
    environment = cost.EnvironmentFootprint(
        name="every-part",
        environment_class=environment_class,
        min_workers=1,
        max_workers=1 + more,
        schedulers=2 + more,
        min_webservers=2,
        max_webservers=2 + more,
    )
    return cost.with_counts(cost.Footprint(environments=(environment,)), dict.fromkeys(cost.COUNTED_PARTS, 1))


def _component(estimate: cost.Estimate, name: str) -> cost.Component:
    (found,) = [c for c in estimate.components if c.name.strip() == name]
    return found


# ---- every table: a source and a date for each figure -----------------------------------------


@pytest.mark.parametrize("region", sorted(TABLES))
def test_every_figure_of_a_table_has_one_source_and_a_date(region: str) -> None:
    table = TABLES[region]
    assert price_tables.problems(table, region=region) == []
    assert price_tables.figures(table)  # a table prices something
    sources = {entry["source"] for entry in table["provenance"]}
    assert sources == set(table["sources"])  # the header lists the pages the figures come from


@pytest.mark.parametrize("region", sorted(TABLES))
@pytest.mark.parametrize("environment_class", sorted(rules.ENVIRONMENT_CLASSES))
def test_every_gap_of_a_table_is_listed_with_a_reason(region: str, environment_class: str) -> None:
    # Price a footprint with one of every billed part: each component the table cannot price
    # must be one its `missing` section explains, never an unexplained hole.
    estimate = cost.price_footprint(_every_part_footprint(environment_class), region=region)
    assert not any("not in the table" in note for note in estimate.notes), estimate.notes
    gaps = [c for c in estimate.components if c.unit_price is None and "Redshift" not in c.name]
    assert estimate.priced == (not gaps)
    if gaps:
        assert (estimate.monthly_idle, estimate.monthly_full) == (None, None)


def test_a_table_with_a_defect_is_reported() -> None:
    table = copy.deepcopy(TABLES["us-east-1"])
    table["kms_key_month"] = 1.0
    table["provenance"][0]["figures"].append("kms_key_month")  # now named twice
    table["provenance"][1]["date"] = "28 Nov 2026"
    table["provenance"][2]["source"] = "aws.amazon.com/privatelink/pricing/"
    table["provenance"][3]["figures"].append("mwaa/classes/mw1.huge/environment_hour")
    table["secret_month_new"] = 0.5  # a figure with no source
    table["missing"]["nat_gateway_hour"] = "no price"  # yet the table has one
    assert price_tables.problems(table, region="eu-west-1") == [
        "region: expected 'eu-west-1', found 'us-east-1'",
        "provenance[1]: date must be YYYY-MM-DD, found '28 Nov 2026'",
        "provenance[2]: source must be an https URL, found 'aws.amazon.com/privatelink/pricing/'",
        "provenance[3]: mwaa/classes/mw1.huge/environment_hour is not a figure of the table",
        "kms_key_month: named by 2 provenance entries, expected 1",
        "secret_month_new: named by 0 provenance entries, expected 1",
        "missing: nat_gateway_hour has a figure in the table",
    ]


# ---- the Region list ----------------------------------------------------------------------------


def test_every_mwaa_region_has_a_table_or_is_listed_as_a_gap() -> None:
    assert sorted(TABLES) == sorted(regions.PRICE_TABLES) == cost.price_regions()
    assert set(regions.PRICE_TABLES) | set(regions.NO_PRICE_TABLE) == set(regions.REGION_CODES)
    assert not set(regions.PRICE_TABLES) & set(regions.NO_PRICE_TABLE)
    assert all(reason.strip() for reason in regions.NO_PRICE_TABLE.values())
    assert len(regions.REGION_CODES) == len(set(regions.REGION_CODES))


def test_region_list_matches_the_sdk_endpoint_data() -> None:
    # botocore's endpoints.json is the machine-readable form of the endpoint tables the list
    # cites: a Region added there (a botocore upgrade) must be added to the list, and priced or
    # listed as a gap.
    session = botocore.session.get_session()
    sdk = {
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("mwaa", partition_name=partition)
    }
    assert sdk == set(regions.REGION_CODES)
    china = {r.code for r in regions.MWAA_REGIONS if r.partition == "aws-cn"}
    assert china == set(session.get_available_regions("mwaa", partition_name="aws-cn"))


# ---- the nearest priced Region --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "priced", "nearest"),
    [
        ("eu-west-1", {"eu-west-1", "us-east-1"}, "eu-west-1"),  # priced itself
        ("eu-west-2", {"us-east-1", "eu-central-1", "eu-north-1"}, "eu-central-1"),  # same prefix
        ("il-central-1", {"us-east-1", "eu-west-3"}, "eu-west-3"),  # same area
        ("af-south-1", {"ap-northeast-1", "me-central-1"}, "me-central-1"),
        ("sa-east-1", {"ap-northeast-1", "us-west-2"}, "us-west-2"),
        ("eu-west-1", {"ap-northeast-1", "us-east-2"}, "us-east-2"),  # any: the list's order
        ("ap-south-1", {"ap-southeast-1", "ap-northeast-1"}, "ap-northeast-1"),
        ("mx-central-1", {"eu-west-1", "ca-central-1"}, "ca-central-1"),  # not listed: by prefix
        ("xx-nowhere-1", {"ap-southeast-2", "eu-west-1"}, "eu-west-1"),
        ("eu-west-1", set(), None),
    ],
)
def test_nearest_priced_region_is_same_prefix_then_area_then_the_list(
    region: str, priced: set[str], nearest: str | None
) -> None:
    assert regions.nearest_priced_region(region, priced) == nearest
    assert regions.nearest_priced_region(region, sorted(priced, reverse=True)) == nearest


@pytest.mark.parametrize("region", sorted(regions.NO_PRICE_TABLE))
def test_a_region_without_table_says_so_and_names_its_nearest_priced_region(region: str) -> None:
    estimate = cost.estimate_profile(load_profile(SHIPPED, "prod"), region=region)
    nearest = regions.nearest_priced_region(region, cost.price_regions())
    assert nearest in regions.PRICE_TABLES
    assert not estimate.priced and estimate.monthly_idle is None
    assert all(c.monthly_idle is None for c in estimate.components)
    line = cost.summary_line(estimate)
    assert line.startswith(f"cost: not estimated (no price table for region {region} ")
    assert f"nearest priced region: {nearest};" in line


# ---- partial tables: amounts where priced, never a total --------------------------------------------


def test_a_partial_table_prices_what_it_has_and_gives_no_total() -> None:
    tokyo = TABLES["ap-northeast-1"]
    estimate = cost.estimate_profile(load_profile(SHIPPED, "prod"), region="ap-northeast-1")
    medium = tokyo["mwaa"]["classes"]["mw1.medium"]
    environment = _component(estimate, "MWAA mwaa-prod (mw1.medium)")
    assert environment.unit_price == medium["environment_hour"]
    assert environment.monthly_idle == pytest.approx(730 * medium["environment_hour"])
    # us-east-1 prices a NAT gateway; Tokyo's table does not, and nothing is borrowed.
    nat = _component(estimate, "NAT gateways")
    assert (nat.quantity_idle, nat.unit_price, nat.monthly_idle) == (2, None, None)
    assert not estimate.priced
    assert (estimate.monthly_idle, estimate.monthly_full) == (None, None)
    assert any(
        note.startswith("NAT gateways (nat_gateway_hour) is unpriced in ap-northeast-1: ")
        and tokyo["missing"]["nat_gateway_hour"] in note
        for note in estimate.notes
    )
    text = cost.format_estimate(estimate)
    assert text.splitlines()[0] == (
        "profile prod: incomplete monthly estimate, USD, "
        f"ap-northeast-1 list prices of {tokyo['date']}: no total"
    )
    total = next(line for line in text.splitlines() if line.strip().startswith("total"))
    unpriced = sum(c.unit_price is None for c in estimate.components)
    assert (
        total.split(None, 1)[1]
        == f"not estimated: {unpriced} of {len(estimate.components)} components unpriced"
    )
    assert cost.summary_line(estimate).startswith(
        f"cost: no total (ap-northeast-1 list prices of {tokyo['date']} lack NAT gateways, "
    )


def test_an_unpriced_class_gives_the_reason_the_table_records() -> None:
    table = TABLES["us-east-1"]
    (path,) = [p for p in table["missing"] if p.endswith("/mw1.xlarge")]
    estimate = cost.estimate_profile(
        load_profile({"big": {"environment_name": "mwaa-big", "environment_class": "mw1.xlarge"}}, "big"),
        region="us-east-1",
    )
    assert (
        estimate.notes[0]
        == f"environment class mw1.xlarge is unpriced in us-east-1: {table['missing'][path]}"
    )
    assert _component(estimate, "MWAA mwaa-big (mw1.xlarge)").monthly_idle is None
    assert _component(estimate, "NAT gateways").monthly_idle == pytest.approx(730 * table["nat_gateway_hour"])
    assert estimate.monthly_idle is None


def test_an_item_a_table_does_not_name_is_unpriced_not_an_error() -> None:
    table: dict[str, Any] = {
        "mwaa": {"classes": {"mw1.small": TABLES["us-east-1"]["mwaa"]["classes"]["mw1.small"]}}
    }
    estimate = cost.price_footprint(_every_part_footprint("mw1.small"), region="somewhere-1", prices=table)
    assert not estimate.priced
    assert "KMS keys (kms_key_month) is unpriced in somewhere-1: not in the table" in estimate.notes


# ---- make cost for a profile in eu-west-1 ----------------------------------------------------------


def _cdk_json_with_profile_in(tmp_path: Path, region: str) -> Path:
    document = json.loads((ROOT / "cdk.json").read_text())
    profiles = document["context"]["profiles"]
    profiles["analytics"] = {
        **copy.deepcopy(profiles["dev"]),
        "environment_name": "mwaa-analytics",
        "region": region,
        "environment_class": "mw1.medium",
    }
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps(document))
    return path


def test_make_cost_for_a_profile_in_eu_west_1(tmp_path: Path, capsys) -> None:
    cdk_json = str(_cdk_json_with_profile_in(tmp_path, "eu-west-1"))
    assert cost_cli.main(["--cdk-json", cdk_json, "--profile", "analytics"]) == 0
    out = capsys.readouterr().out
    nearest = regions.nearest_priced_region("eu-west-1", cost.price_regions())
    if "eu-west-1" in regions.PRICE_TABLES:
        priced_in = "eu-west-1"
    else:
        # No sourced eu-west-1 prices: the output says so, names the nearest priced Region, and
        # that Region's own prices are one option away, labelled as its own.
        assert out.startswith("profile analytics: no monthly estimate for eu-west-1 (quantities only)")
        assert f"no price table for region eu-west-1 (nearest priced region: {nearest};" in out
        assert "total" not in out
        assert cost_cli.main(["--cdk-json", cdk_json, "--profile", "analytics", "--region", nearest]) == 0
        out = capsys.readouterr().out
        priced_in = nearest
    table = TABLES[priced_in]
    assert out.startswith(
        f"profile analytics: monthly estimate, USD, {priced_in} list prices of {table['date']}"
    )
    environment = next(line for line in out.splitlines() if "MWAA mwaa-analytics (mw1.medium)" in line)
    hourly = table["mwaa"]["classes"]["mw1.medium"]["environment_hour"]
    assert environment.split()[-3:] == [f"{hourly:g}", f"{730 * hourly:,.2f}", f"{730 * hourly:,.2f}"]
    total = next(line for line in out.splitlines() if line.strip().startswith("total"))
    idle, full = (float(amount.replace(",", "")) for amount in total.split()[1:])
    assert 730 * hourly < idle <= full
