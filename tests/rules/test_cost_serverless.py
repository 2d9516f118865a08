"""Classic or serverless (mwaa_rules.cost.compare_serverless, ``make cost``): the arithmetic against
numbers worked out here, the usage a definition implies, the prices as data, what is unpriced,
and the footprint of a profile without a classic environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mwaa_rules import cost, serverless
from platform_config import load_profile
from platform_config.profile import addon_manifests

ROOT = Path(__file__).resolve().parents[2]
# Every add-on off: the platform alone.
ADDONS_OFF = {manifest.enabled_by: False for manifest in addon_manifests(ROOT)}
SMALL = cost.EnvironmentFootprint(
    name="env", environment_class="mw1.small", min_workers=1, max_workers=3, schedulers=2,
    min_webservers=2, max_webservers=2,
)  # fmt: skip
# A price table of the test's own: 0.50 an environment hour, 0.10 a task-hour.
TABLE: dict[str, Any] = {
    "region": "xx-test-1",
    "hours_per_month": 730,
    "date": "2026-01-01",
    "mwaa": {
        "classes": {
            "mw1.small": {
                "environment_hour": 0.5,
                "additional_worker_hour": 0.05,
                "additional_scheduler_hour": 0.05,
                "additional_webserver_hour": 0.02,
            }
        }
    },
    "mwaa_serverless": {"task_hour": 0.1},
    "provenance": [
        {"source": "https://example.com/prices", "date": "2026-01-01", "kind": "primary",
         "figures": ["mwaa_serverless/task_hour"]},
    ],
}  # fmt: skip


def _usage(seconds: tuple[float, ...], runs: float) -> cost.WorkflowUsage:
    return cost.WorkflowUsage(name="wf", runs_per_month=runs, task_seconds=seconds, basis="test")


def test_the_comparison_adds_up() -> None:
    # Tasks of 30 s, 90 s and 600 s bill 60 + 90 + 600 = 750 s a run (a minute at least per task).
    comparison = cost.compare_serverless(SMALL, [_usage((30, 90, 600), 30)], region="xx-test-1", prices=TABLE)
    assert comparison.classic_monthly == pytest.approx(0.5 * 730)  # nothing beyond what is included
    (workflow,) = comparison.workflows
    assert workflow.billed_task_seconds_per_run == 750
    assert workflow.per_run == pytest.approx(750 / 3600 * 0.1)
    assert workflow.monthly == pytest.approx(30 * 750 / 3600 * 0.1)
    assert workflow.break_even_runs == pytest.approx(365 / (750 / 3600 * 0.1))  # 17,520 runs
    assert comparison.serverless_monthly == pytest.approx(0.625)
    assert comparison.break_even_factor == pytest.approx(365 / 0.625)  # 584 times the usage
    assert comparison.price is not None and comparison.price.source == "https://example.com/prices (primary)"


def test_extra_workers_count_on_the_classic_side_and_workflows_add_up() -> None:
    two_workers = cost.EnvironmentFootprint(**{**SMALL.__dict__, "min_workers": 2})
    comparison = cost.compare_serverless(
        two_workers, [_usage((60,), 10), _usage((120, 120), 5)], region="xx-test-1", prices=TABLE
    )
    assert comparison.classic_monthly == pytest.approx((0.5 + 0.05) * 730)
    # 10 runs of 60 s and 5 runs of 240 s: 600 + 1200 task-seconds.
    assert comparison.serverless_monthly == pytest.approx(1800 / 3600 * 0.1)


def test_a_missing_task_hour_price_is_said_not_guessed() -> None:
    comparison = cost.compare_serverless(SMALL, [_usage((60,), 30)], region="us-east-1")
    assert comparison.classic_monthly == pytest.approx(0.49 * 730)
    assert comparison.price is None and comparison.serverless_monthly is None
    assert comparison.workflows[0].per_run is None and comparison.workflows[0].break_even_runs is None
    assert any(
        n.startswith("the MWAA Serverless task-hour price is unpriced in us-east-1: no sourced list price")
        for n in comparison.notes
    )
    assert "unpriced" in cost.format_comparison(comparison)


def test_an_unpriced_class_leaves_the_classic_side_open() -> None:
    micro = cost.EnvironmentFootprint(
        name="env", environment_class="mw1.micro", min_workers=1, max_workers=1, schedulers=1,
        min_webservers=1, max_webservers=1,
    )  # fmt: skip
    comparison = cost.compare_serverless(micro, [_usage((60,), 30)], region="ap-northeast-1")
    assert comparison.classic_monthly is None and comparison.break_even_factor is None
    assert comparison.serverless_monthly == pytest.approx(30 * 60 / 3600 * 0.104)
    assert any("environment class mw1.micro is unpriced in ap-northeast-1" in n for n in comparison.notes)


def test_the_task_hour_price_is_data_with_its_source_and_date() -> None:
    tokyo = cost.task_hour_price("ap-northeast-1")
    assert tokyo is not None and tokyo.usd_per_task_hour == 0.104 and tokyo.as_of == "2025-11-30"
    assert tokyo.source.startswith("https://dev.classmethod.jp/") and tokyo.source.endswith("(secondary)")
    assert cost.task_hour_price("us-east-1") is None
    assert cost.task_hour_price("eu-west-1") is None
    assert cost.task_hour_price_missing("eu-west-1").startswith("no price table for region eu-west-1")


def _definition(tmp_path: Path, body: str) -> serverless.WorkflowDefinition:
    path = tmp_path / "wf.yaml"
    path.write_text(body)
    return serverless.load_definition(path)


WEEKDAYS = """
wf:
  dag_id: wf
  schedule: "30 6 * * 1-5"
  default_args: {start_date: "2025-01-01", execution_timeout: {__type__: datetime.timedelta, seconds: 300}}
  tasks:
    a: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: []}
    b:
      operator: airflow.providers.standard.operators.empty.EmptyOperator
      execution_timeout: {__type__: datetime.timedelta, minutes: 20}
      dependencies: [a]
"""


def test_usage_comes_from_the_definition_unless_stated(tmp_path: Path) -> None:
    definition = _definition(tmp_path, WEEKDAYS)
    usage = cost.WorkflowUsage.of(definition)
    # 2025 has 261 weekdays: 261 / 12 runs a month; task a the default 300 s, b its own 20 minutes.
    assert usage.runs_per_month == pytest.approx(261 / 12)
    assert usage.task_seconds == (300.0, 1200.0)
    assert "execution_timeout (an upper bound)" in usage.basis
    stated = cost.WorkflowUsage.of(definition, runs_per_month=100, task_seconds=45)
    assert stated.runs_per_month == 100 and stated.task_seconds == (45.0, 45.0)
    assert "(stated)" in stated.basis


def test_a_task_without_any_timeout_counts_the_services_limit(tmp_path: Path) -> None:
    body = WEEKDAYS.replace(", execution_timeout: {__type__: datetime.timedelta, seconds: 300}", "")
    usage = cost.WorkflowUsage.of(_definition(tmp_path, body))
    assert usage.task_seconds == (float(serverless.MAX_EXECUTION_TIMEOUT_SECONDS), 1200.0)


def _profile(**settings: Any):
    base = {"environment_name": "mwaa-wf", "encryption": "customer_managed", **ADDONS_OFF}
    return load_profile({"wf": {**base, **settings}}, "wf")


def test_a_workflows_only_profile_bills_only_its_key() -> None:
    footprint = cost.footprint_from_profile(
        _profile(classic_environment=False, serverless={"workflows": "workflows"})
    )
    assert footprint.environments == ()
    billed = (
        footprint.nat_gateways,
        footprint.interface_endpoint_azs,
        footprint.alarms,
        footprint.dashboards,
    )
    assert billed == (0, 0, 0, 0)
    assert footprint.kms_keys == 1


def test_private_workflows_alone_keep_the_nat_they_need() -> None:
    footprint = cost.footprint_from_profile(
        _profile(
            classic_environment=False,
            serverless={"workflows": "workflows", "network": "private"},
            network={"mode": "nat", "nat_gateways": 1},
        )
    )
    assert footprint.environments == () and footprint.nat_gateways == 1 and footprint.alarms == 0


def test_make_cost_prints_the_comparison(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "daily.yaml").write_text(WEEKDAYS)
    document = {
        "context": {
            "profiles": {
                "wf": {
                    "environment_name": "mwaa-wf",
                    **ADDONS_OFF,
                    "classic_environment": False,
                    "serverless": {"workflows": "flows"},
                }
            }
        }
    }
    (tmp_path / "cdk.json").write_text(json.dumps(document))
    command = [sys.executable, "-m", "mwaa_ops.cost", "--cdk-json", str(tmp_path / "cdk.json")]
    run = subprocess.run(
        [*command, "--region", "ap-northeast-1", "--runs-per-month", "10", "--json"],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (estimate,) = json.loads(run.stdout)
    comparison = estimate["serverless_comparison"]
    (workflow,) = comparison["workflows"]
    # 10 runs of 300 s + 1200 s at 0.104 a task-hour; mw1.small's 0.49 for 730 hours on the other side.
    assert workflow["monthly"] == round(10 * 1500 / 3600 * 0.104, 2)
    assert comparison["classic_monthly"] == round(0.49 * 730, 2)
    assert workflow["break_even_runs"] == pytest.approx(0.49 * 730 / (1500 / 3600 * 0.104))
    text = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    assert text.returncode == 0, text.stderr
    assert "profile wf: classic or serverless, USD a month, us-east-1" in text.stdout
    assert "serverless, all workflows: unpriced" in text.stdout


def test_make_cost_names_a_bad_definition(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(WEEKDAYS.replace("dependencies: [a]", "dependencies: [zz]"))
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"profiles": {"p": ADDONS_OFF}}}))
    run = subprocess.run(
        [sys.executable, "-m", "mwaa_ops.cost", "--cdk-json", str(tmp_path / "cdk.json"),
         "--workflow", str(tmp_path / "bad.yaml")],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 2
    assert "bad.yaml: task 'b': dependencies: got 'zz'; no such task in this DAG" in run.stderr


def test_make_cost_refuses_a_negative_usage() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mwaa_ops.cost", "--cdk-json", str(ROOT / "cdk.json"), "--task-seconds", "-1"],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 2
    assert "argument --task-seconds: got '-1'; expected 0 or more" in run.stderr
