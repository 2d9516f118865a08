"""``python -m mwaa_ops.cost`` (``make cost``), the command line over the cost model of
``mwaa_rules.cost`` (tested in ``tests/rules/test_cost.py``): options, output, exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mwaa_ops import cost
from mwaa_rules.cost import estimate_profile
from platform_config import load_profile, read_cdk_profiles

ROOT = Path(__file__).resolve().parents[2]
PRICES = json.loads((ROOT / "mwaa_rules" / "data" / "prices" / "us-east-1.json").read_text())
SHIPPED = read_cdk_profiles(ROOT / "cdk.json")


def test_cli_json_of_several_profiles(capsys) -> None:
    assert cost.main(["--profile", "dev,prod", "--json", "--cdk-json", str(ROOT / "cdk.json")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in out] == ["profile dev", "profile prod"]
    # dev: the model's estimate (its platform's sums are in tests/rules/test_cost.py, the sample's
    # share in tests/sample/test_addon.py); prod has no add-on.
    dev = estimate_profile(load_profile(SHIPPED, "dev")).to_dict()
    assert [(e["monthly_idle"], e["monthly_full"]) for e in out] == [
        (dev["monthly_idle"], dev["monthly_full"]),
        (698.7, 1381.25),
    ]
    assert out[1]["components"][0] == {
        "name": "MWAA mwaa-prod (mw1.medium)",
        "unit": "hour",
        "quantity_idle": 1,
        "quantity_full": 1,
        "unit_price": 0.74,
        "monthly_idle": 540.2,
        "monthly_full": 540.2,
    }
    assert out[0]["prices_sources"] == PRICES["sources"]
    assert out[1]["footprint"] == {
        "environments": [
            {
                "name": "mwaa-prod",
                "environment_class": "mw1.medium",
                "min_workers": 2,
                "max_workers": 10,
                "schedulers": 2,
                "min_webservers": 2,
                "max_webservers": 3,
            }
        ],
        "nat_gateways": 2,
        "public_ipv4_addresses": 2,
        "interface_endpoint_azs": 0,
        "kms_keys": 1,
        "secrets": 0,
        "alarms": 12,  # the recommended 10, and the backups' 2
        "dashboards": 1,
        "redshift_serverless_workgroups": 0,
    }


def test_cli_without_profile_estimates_every_profile_and_the_quick_start(capsys) -> None:
    assert cost.main(["--quick-start", "--cdk-json", str(ROOT / "cdk.json")]) == 0
    out = capsys.readouterr().out
    titles = [line for line in out.splitlines() if line and not line.startswith(" ")]
    estimates = [t for t in titles if "classic or serverless" not in t]
    assert [t.split(":")[0] for t in estimates] == [*(f"profile {n}" for n in SHIPPED), "MWAA quick start"]
    # A profile with serverless workflows gets the comparison after its estimate; one without, none.
    comparisons = [t.split(":")[0] for t in titles if "classic or serverless" in t]
    assert comparisons == [
        f"profile {n}" for n, p in SHIPPED.items() if p.get("serverless", {}).get("workflows")
    ]
    quick = out[out.index("MWAA quick start:") :]
    total = next(line for line in quick.splitlines() if line.strip().startswith("total"))
    assert total.split()[1:] == ["430.70", "430.70"]


def test_cli_region_without_prices_and_unknown_profile(capsys) -> None:
    cdk_json = str(ROOT / "cdk.json")
    assert cost.main(["--profile", "dev", "--region", "eu-west-1", "--json", "--cdk-json", cdk_json]) == 0
    (out,) = json.loads(capsys.readouterr().out)
    assert (out["priced"], out["monthly_idle"], out["region"]) == (False, None, "eu-west-1")

    assert cost.main(["--profile", "staging", "--cdk-json", cdk_json]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: profile 'staging' is invalid:\n"
        "  - profile 'staging' not found in cdk.json; profiles there: "
        + ", ".join(f"'{name}'" for name in SHIPPED)
        + "\n"
    )


def test_module_entry_point_and_make_target_run_without_aws_cdk_lib() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys, mwaa_ops.cost; print('aws_cdk' in sys.modules)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"
    result = subprocess.run(
        [sys.executable, "-m", "mwaa_ops.cost", "--profile", "prod"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("profile prod: monthly estimate")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ([], "python -m mwaa_ops.cost"),
        (["PROFILE=dev,prod"], "python -m mwaa_ops.cost --profile dev,prod"),
    ],
)
def test_make_cost_passes_profile_only_when_given(arguments: list[str], expected: str) -> None:
    # A make of its own: not the variables or directory messages of a `make test` around it.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "cost", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert result.stdout.splitlines()[-1].strip() == expected
