"""Every DAG folder a shipped profile deploys imports cleanly on the test Airflow, and the check
that says so catches what MWAA's DAG processor would reject."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

VALID_DAG = """
from datetime import datetime
from airflow.sdk import dag, task

@dag(dag_id="{dag_id}", schedule=None, start_date=datetime(2025, 1, 1))
def make():
    @task
    def one():
        return 1
    one()

make()
"""


def check(*args: str) -> tuple[int, list[dict[str, Any]]]:
    result = subprocess.run(
        [sys.executable, "-m", "tools.check_dags", "--json", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


@pytest.fixture(scope="module")
def shipped() -> tuple[int, dict[str, dict[str, Any]]]:
    code, reports = check()
    return code, {report["name"]: report for report in reports}


def test_every_shipped_profile_is_checked_and_clean(shipped) -> None:
    code, reports = shipped
    profiles = json.loads((ROOT / "cdk.json").read_text())["context"]["profiles"]
    assert sorted(reports) == sorted(f"profile {name}" for name in profiles)
    assert {name: report["errors"] for name, report in reports.items()} == {name: {} for name in reports}
    assert code == 0


def test_each_profile_deploys_at_least_one_dag_and_only_its_own(shipped) -> None:
    _, reports = shipped
    for name, report in reports.items():
        assert any(file["dags"] for file in report["files"]), name
    # The sample's files are checked exactly for the profiles that deploy it.
    profiles = json.loads((ROOT / "cdk.json").read_text())["context"]["profiles"]
    for name, settings in profiles.items():
        files = {file["file"] for file in reports[f"profile {name}"]["files"]}
        assert any(file.startswith("sample/") for file in files) is bool(settings.get("sample_data")), name


def test_parse_time_of_every_file_is_reported(shipped) -> None:
    _, reports = shipped
    for report in reports.values():
        assert report["timeout"] > 0
        assert all(0 <= file["seconds"] < report["timeout"] for file in report["files"])


@pytest.fixture(scope="module")
def fixture_reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, dict[str, Any]]]:
    base = tmp_path_factory.mktemp("folders")
    folders: dict[str, Path] = {}

    def folder(name: str, files: dict[str, str]) -> None:
        path = base / name
        for relative, text in files.items():
            (path / relative).parent.mkdir(parents=True, exist_ok=True)
            (path / relative).write_text(text)
        folders[name] = path

    # A user's new DAG next to the repository's own DAG folder.
    added = base / "added"
    shutil.copytree(ROOT / "dags", added, ignore=shutil.ignore_patterns("__pycache__"))
    (added / "team_report.py").write_text(VALID_DAG.format(dag_id="team_report"))
    folders["added"] = added
    folder(
        "broken",
        {
            "ok.py": VALID_DAG.format(dag_id="fine"),
            "broken.py": "from airflow.sdk import dag\nimport no_such_module_here\n",
        },
    )
    folder(
        "cycle",
        {
            "cycle.py": (
                "from datetime import datetime\n"
                "from airflow.sdk import DAG\n"
                "from airflow.providers.standard.operators.empty import EmptyOperator\n"
                "with DAG('cyclic', schedule=None, start_date=datetime(2025, 1, 1)):\n"
                "    a = EmptyOperator(task_id='a')\n"
                "    b = EmptyOperator(task_id='b')\n"
                "    a >> b >> a\n"
            )
        },
    )
    folder(
        "duplicate",
        {"first.py": VALID_DAG.format(dag_id="twin"), "second.py": VALID_DAG.format(dag_id="twin")},
    )
    folder("slow", {"slow.py": "import time\ntime.sleep(2.5)\n" + VALID_DAG.format(dag_id="slow")})
    folder("syntax", {"report.py": "from airflow.sdk import dag\n\nrows = sum((1, 2)\n"})
    folder("schedule", {"nightly.py": VALID_DAG.format(dag_id="nightly").replace("None", '"0 25 * * *"')})
    args = [arg for path in folders.values() for arg in ("--folder", str(path))]
    code, reports = check("--timeout", "1.5", *args)
    return code, {Path(report["name"]).name: report for report in reports}


def test_a_new_valid_dag_keeps_the_check_green(fixture_reports) -> None:
    _, reports = fixture_reports
    report = reports["added"]
    assert report["errors"] == {}
    assert ["team_report"] in [file["dags"] for file in report["files"]]


def test_the_check_fails_when_any_folder_has_a_problem(fixture_reports) -> None:
    code, reports = fixture_reports
    assert code == 1
    assert [name for name, report in reports.items() if report["ok"]] == ["added"]
    assert len(reports) == 7


def test_an_import_error_names_the_file_its_line_and_the_error(fixture_reports) -> None:
    _, reports = fixture_reports
    assert reports["broken"]["errors"] == {
        "broken.py": "ModuleNotFoundError: No module named 'no_such_module_here'"
    }
    assert reports["broken"]["lines"] == {"broken.py": 2}


def test_a_syntax_error_names_its_line(fixture_reports) -> None:
    _, reports = fixture_reports
    assert reports["syntax"]["errors"] == {"report.py": "SyntaxError: '(' was never closed"}
    assert reports["syntax"]["lines"] == {"report.py": 3}


def test_an_impossible_cron_schedule_is_an_error_of_its_file(fixture_reports) -> None:
    _, reports = fixture_reports
    assert reports["schedule"]["errors"] == {
        "nightly.py": "AirflowTimetableInvalid: [0 25 * * *] is not acceptable, out of range"
    }


def test_the_text_report_shows_file_line_and_error_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "report.py").write_text("from airflow.sdk import dag\n\nrows = sum((1, 2)\n")
    result = subprocess.run(
        [sys.executable, "-m", "tools.check_dags", "--folder", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "  ERROR report.py:3: SyntaxError: '(' was never closed" in result.stdout.splitlines()
    assert "Traceback" not in result.stdout


def test_a_cycle_is_an_error_of_its_file(fixture_reports) -> None:
    _, reports = fixture_reports
    (error,) = reports["cycle"]["errors"].items()
    assert error[0] == "cycle.py"
    assert "cycle" in error[1].lower()


def test_a_duplicate_dag_id_is_an_error_of_the_second_file(fixture_reports) -> None:
    _, reports = fixture_reports
    errors = reports["duplicate"]["errors"]
    assert list(errors) == ["second.py"]
    assert "twin" in errors["second.py"] and "first.py" in errors["second.py"]


def test_a_file_slower_than_the_import_timeout_fails(fixture_reports) -> None:
    _, reports = fixture_reports
    errors = reports["slow"]["errors"]
    assert list(errors) == ["slow.py"]
    assert "1.5" in errors["slow.py"]
