"""`make dag-test` offline: a DAG that reads S3 runs against a local moto server, with the
connections, variables and S3 objects of the dag_test.json beside its folder, no retries, a time
limit, and one line per task instead of a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.dag_folders import SettingsFileError, load_dag_test_settings

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "s3_reader"
SETTINGS = json.loads((FIXTURE / "dag_test.json").read_text())


def _offline_environment() -> dict[str, str]:
    """The caller's environment without any AWS credential: an offline run must need none."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return env | {
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }


def dag_test(*args: str, log: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.dag_test", *args, "--log", str(log)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=_offline_environment(),
        timeout=300,
    )


def _fixture_copy(tmp_path: Path, settings: dict[str, object]) -> Path:
    """The fixture DAG folder with other settings beside it; returns the DAG folder."""
    shutil.copytree(FIXTURE / "dags", tmp_path / "dags", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "dag_test.json").write_text(json.dumps(settings))
    return tmp_path / "dags"


def test_a_dag_that_reads_s3_passes_offline_with_its_settings_file(tmp_path: Path) -> None:
    result = dag_test("s3_reader", "--folder", str(FIXTURE / "dags"), log=tmp_path / "run.log")
    assert result.returncode == 0, result.stdout + result.stderr + (tmp_path / "run.log").read_text()[-3000:]
    first, *tasks, last = result.stdout.strip().splitlines()
    assert "offline: AWS calls go to a local moto server at http://127.0.0.1:" in first
    assert [line.split()[:1] + line.split()[3:] for line in tasks] == [
        ["success", "wait_for_orders"],
        ["success", "count_orders"],
    ]
    assert last.startswith("dag-test: s3_reader finished: success in ")
    # count_orders fails unless it reads the object the settings put into moto (see the next
    # test, where the object holds its header only). The task's own log lines reach run.log only
    # where Airflow's logging is configured to echo them, so they are not asserted here.


def test_a_failing_task_is_one_line_with_its_error_and_no_retry_is_waited_for(tmp_path: Path) -> None:
    # The object holds its header only: the count fails. The DAG asks for 3 retries 5 minutes apart.
    settings = json.loads(json.dumps(SETTINGS))
    settings["s3"]["fixture-orders"]["incoming/orders.csv"] = "order_id,amount\n"
    folder = _fixture_copy(tmp_path, settings)
    started = time.monotonic()
    result = dag_test("s3_reader", "--folder", str(folder), log=tmp_path / "run.log")
    assert time.monotonic() - started < 150
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    (failed,) = [line for line in lines if "count_orders" in line]
    assert failed.split()[0] == "failed"
    error = "ValueError: no orders in s3://fixture-orders/incoming/orders.csv"
    assert failed.endswith(f"count_orders  {error} ({folder}/s3_reader.py:34)")
    assert "Traceback" not in result.stdout + result.stderr
    assert lines[-1].startswith("dag-test: s3_reader finished: failed in ")
    assert f"full log: {tmp_path / 'run.log'}" in lines[-1]
    assert "Traceback" in (tmp_path / "run.log").read_text()  # the wall is kept, in the log


def test_every_task_stops_at_the_time_limit(tmp_path: Path) -> None:
    settings = json.loads(json.dumps(SETTINGS))
    settings["variables"]["orders_key"] = "incoming/never-arrives.csv"
    folder = _fixture_copy(tmp_path, settings)
    result = dag_test("s3_reader", "--folder", str(folder), "--timeout", "4", log=tmp_path / "run.log")
    assert result.returncode == 1
    (sensor,) = [line for line in result.stdout.splitlines() if "wait_for_orders" in line]
    assert sensor.split()[0] == "failed"
    assert "AirflowSensorTimeout: Sensor has timed out" in sensor and "timeout of 4.0" in sensor
    (count,) = [line for line in result.stdout.splitlines() if "count_orders" in line]
    assert count.split()[0] == "upstream_failed"


def test_an_unknown_dag_names_the_dags_of_the_folder(tmp_path: Path) -> None:
    result = dag_test("no_such_dag", "--folder", str(FIXTURE / "dags"), log=tmp_path / "run.log")
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "error: no DAG 'no_such_dag' in the DAG folder",
        "  DAGs there: s3_reader",
    ]


def test_a_broken_settings_file_is_one_line_naming_the_file(tmp_path: Path) -> None:
    folder = _fixture_copy(tmp_path, {})
    (tmp_path / "dag_test.json").write_text('{"connections": {"aws_default": {"extra": {}}}}')
    result = dag_test("s3_reader", "--folder", str(folder), log=tmp_path / "run.log")
    assert result.returncode == 2
    assert result.stderr == (
        f"error: {tmp_path / 'dag_test.json'}: connections.aws_default: no 'conn_type' (e.g. \"aws\")\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"connection": {}}', "unknown key 'connection'; allowed: connections, variables, s3"),
        ('{"s3": {"bucket": {"key": 1}}}', "s3: expected an object of bucket -> {key: text content}"),
        ('{"variables": []}', "variables: expected an object of variable key -> value"),
        ('{"variables": {', "line 1, column 16: invalid JSON"),
    ],
)
def test_settings_files_are_checked(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "dag_test.json"
    path.write_text(text)
    with pytest.raises(SettingsFileError) as caught:
        load_dag_test_settings(path)
    assert str(caught.value).startswith(f"{path}")
    assert message in str(caught.value)


def test_settings_become_airflow_environment_variables() -> None:
    settings = load_dag_test_settings(FIXTURE / "dag_test.json")
    env = settings.environ()
    assert json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"]) == {
        "conn_type": "aws",
        "extra": {"region_name": "eu-west-1"},
    }
    assert env["AIRFLOW_VAR_ORDERS_BUCKET"] == "fixture-orders"
    assert load_dag_test_settings(FIXTURE / "no-such-file.json").environ() == {}


def test_the_make_target_passes_the_options_given_only() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}

    def recipe(*args: str) -> str:
        out = subprocess.run(
            ["make", "--no-print-directory", "-n", "dag-test", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout
        (line,) = [line for line in out.replace("\\\n", " ").splitlines() if "tools.dag_test" in line]
        return " ".join(line.split())

    assert recipe("DAG=x") == 'python -m tools.dag_test "x"'
    assert recipe("DAG=x", "PROFILE=prod", "AWS=1", "TIMEOUT=60") == (
        'python -m tools.dag_test "x" --profile "prod" --aws --timeout "60"'
    )
