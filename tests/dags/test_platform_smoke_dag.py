"""The platform's smoke DAG: what its tasks check, and one real local run of it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mwaa_platform_smoke_under_test", ROOT / "dags" / "mwaa_platform_smoke.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


smoke = _module()


def test_the_dag_runs_only_when_triggered_and_is_not_paused_at_creation() -> None:
    dag = smoke.mwaa_platform_smoke()
    assert dag.dag_id == "mwaa_platform_smoke"
    assert dag.schedule is None or str(dag.schedule) == "None"
    assert dag.is_paused_upon_creation is False
    assert dag.max_active_runs == 1
    assert dag.get_task("verify").upstream_task_ids == {"runtime"}


def test_the_runtime_report_names_the_installed_versions() -> None:
    report = smoke.runtime_report()
    assert set(report) == {"airflow", "python", "amazon_provider"}
    assert report["python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")


def test_the_check_reports_the_versions_and_the_probe() -> None:
    report = {"airflow": "3.3.1", "python": "3.12.9", "amazon_provider": "9.20.0"}
    line = smoke.check_report(report, None)
    assert line == (
        "Airflow 3.3.1 on Python 3.12.9, amazon provider 9.20.0; variable mwaa_platform_smoke_probe not set"
    )
    assert smoke.check_report(report, "x").endswith("mwaa_platform_smoke_probe set")


def test_the_check_fails_on_an_incomplete_report() -> None:
    with pytest.raises(ValueError, match="lacks python, amazon_provider"):
        smoke.check_report({"airflow": "3.3.1", "python": ""}, None)


def _dag_test(dag_id: str) -> subprocess.CompletedProcess[str]:
    """What `make dag-test DAG=<dag_id> PROFILE=prod` runs."""
    return subprocess.run(
        [sys.executable, "-m", "tools.dag_test", dag_id, "--profile", "prod"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=600,
    )


def test_make_dag_test_runs_it_to_success_in_a_throw_away_home() -> None:
    result = _dag_test("mwaa_platform_smoke")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "dag-test: mwaa_platform_smoke finished: success" in result.stdout


def test_make_dag_test_fails_for_an_unknown_dag() -> None:
    result = _dag_test("no_such_dag")
    assert result.returncode != 0
