"""mwaa_rules.serverless: one refused definition per rule, each with its exact message; schedules;
environment variables; the cost of a run."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from mwaa_rules import serverless
from mwaa_rules.serverless import DefinitionError, check_definition, load_definition, schedule_problem

PYTHON = "airflow.providers.standard.operators.python.PythonOperator"
BASH = "airflow.providers.standard.operators.bash.BashOperator"
ATHENA = "airflow.providers.amazon.aws.operators.athena.AthenaOperator"
TIMEOUT_ALLOWED = (
    "{__type__: datetime.timedelta, seconds: N} with N from 1 to 3600 (Airflow refuses a plain number)"
)
TIMEOUT_600 = {"__type__": "datetime.timedelta", "seconds": 600}

VALID: dict[str, Any] = {
    "etl": {
        "dag_id": "etl",
        "schedule": "30 2 * * *",
        "default_args": {"owner": "data", "start_date": "2025-01-01", "retries": 1, "retry_delay": 60},
        "tasks": {
            "extract": {
                "operator": PYTHON,
                "python_callable": "jobs.extract",
                "execution_timeout": TIMEOUT_600,
                "dependencies": [],
            },
            "query": {
                "operator": ATHENA,
                "query": "SELECT 1",
                "database": "db",
                "output_location": "s3://bucket/results/",
                "dependencies": ["extract"],
            },
            "load.final": {
                "operator": PYTHON,
                "python_callable": "jobs.load",
                "retries": 3,
                "retry_delay": {"__type__": "datetime.timedelta", "minutes": 5},
                "dependencies": ["extract", "query"],
            },
        },
    }
}


@pytest.fixture
def code(tmp_path: Path) -> Path:
    """A code package: module ``jobs`` with ``extract`` and ``load``, package ``ops`` with an
    operator module."""
    package = tmp_path / "code"
    (package / "ops").mkdir(parents=True)
    (package / "jobs.py").write_text("def extract():\n    return 1\n\n\ndef load(**context):\n    return 2\n")
    (package / "ops" / "__init__.py").write_text("")
    (package / "ops" / "custom.py").write_text("class MyOperator:\n    pass\n")
    return package


def write(tmp_path: Path, document: object, name: str = "etl.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def changed(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The valid definition with ``edit`` applied to its DAG."""
    document = copy.deepcopy(VALID)
    edit(document["etl"])
    return document


def test_a_valid_definition_loads_with_its_task_graph(tmp_path: Path, code: Path) -> None:
    definition = load_definition(write(tmp_path, VALID), code_package=code)
    assert definition.dag_id == "etl"
    assert definition.schedule == "30 2 * * *"
    assert definition.upstream() == {
        "extract": frozenset(),
        "query": frozenset({"extract"}),
        "load.final": frozenset({"extract", "query"}),
    }
    assert definition.python_callables() == {"extract": "jobs.extract", "load.final": "jobs.load"}
    assert check_definition(write(tmp_path, VALID), code_package=code) == []


def test_every_problem_is_reported_at_once(tmp_path: Path, code: Path) -> None:
    def edit(dag: dict[str, Any]) -> None:
        dag["tasks"]["extract"]["retries"] = 9
        dag["tasks"]["query"]["dependencies"] = ["nope"]

    path = write(tmp_path, changed(edit))
    with pytest.raises(DefinitionError) as raised:
        load_definition(path, code_package=code)
    assert raised.value.problems == (
        f"{path}: task 'extract': retries: got 9; an integer from 0 to 3",
        f"{path}: task 'query': dependencies: got 'nope'; no such task in this DAG "
        "(tasks: extract, load.final, query)",
    )
    assert str(raised.value).startswith(f"workflow definition {path}:\n  - {path}: task 'extract'")


# ---- the file and its shape -------------------------------------------------------------------


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    assert check_definition(path) == [f"{path}: no such file"]


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("etl:\n  tasks: [a, b\n")
    assert check_definition(path) == [
        f"{path}: line 3: not valid YAML (expected ',' or ']', but got '<stream end>')"
    ]


def test_the_top_level_is_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, ["etl"])
    assert check_definition(path) == [
        f"{path}: top level: got ['etl']; expected a mapping {{dag_id: {{dag_id, schedule, tasks, ...}}}}"
    ]


def test_one_dag_per_definition(tmp_path: Path) -> None:
    path = write(tmp_path, {**VALID, "other": VALID["etl"]})
    assert check_definition(path) == [
        f"{path}: top level: got ['etl', 'other']; a workflow definition holds exactly one DAG"
    ]


def test_dag_id_equals_the_key(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag.update(dag_id="other")))
    assert check_definition(path, code_package=code) == [
        f"{path}: dag_id: got 'other'; must be present and equal to the top-level key 'etl'"
    ]


def test_dag_id_characters(tmp_path: Path, code: Path) -> None:
    document = {"etl job": {**VALID["etl"], "dag_id": "etl job"}}
    path = write(tmp_path, document)
    assert check_definition(path, code_package=code) == [
        f"{path}: dag_id: got 'etl job'; letters, digits, '_', '.' or '-', at most 250 characters"
    ]


def test_schedule_interval_is_airflow_2(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag.update(schedule_interval="@daily")))
    assert check_definition(path, code_package=code) == [
        f"{path}: schedule_interval: got '@daily'; Airflow 3 has no schedule_interval; use schedule"
    ]


def test_schedule_is_required(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag.pop("schedule")))
    assert check_definition(path, code_package=code) == [
        f"{path}: schedule: missing; a five-field cron expression, or null for manual runs only"
    ]


def test_a_bad_schedule_names_the_field(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag.update(schedule="0 0 * * ? *")))
    assert check_definition(path, code_package=code) == [
        f"{path}: schedule: got '0 0 * * ? *'; six fields is EventBridge Scheduler's form (with a "
        "year), which Airflow reads with seconds; write the five-field form (minute hour "
        "day-of-month month day-of-week)"
    ]


def test_a_null_schedule_means_manual_runs(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag.update(schedule=None)))
    assert load_definition(path, code_package=code).schedule is None


def test_tasks_are_required(tmp_path: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag.update(tasks={})))
    assert check_definition(path) == [
        f"{path}: tasks: got {{}}; expected a mapping {{task_id: {{operator, ..., dependencies}}}} "
        "of one or more"
    ]


def test_default_args_limits_are_checked(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag["default_args"].update(retry_delay=600)))
    assert check_definition(path, code_package=code) == [
        f"{path}: default_args: retry_delay: got 600; seconds (a number or a datetime.timedelta) "
        "from 0 to 300"
    ]


# ---- tasks ------------------------------------------------------------------------------------


def test_task_id_characters(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag["tasks"].update({"bad id": {"operator": ATHENA}})))
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'bad id': task id: got 'bad id'; letters, digits, '_', '.' or '-', at most 250"
    ]


def test_task_id_field_equals_the_key(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag["tasks"]["query"].update(task_id="other")))
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'query': task_id: got 'other'; must equal the task's key 'query'"
    ]


def test_operator_is_required(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag["tasks"]["query"].pop("operator")))
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'query': operator: got None; the operator's full class path, e.g. {PYTHON}"
    ]


def test_an_operator_the_service_does_not_run(tmp_path: Path) -> None:
    operator = "airflow.providers.http.sensors.http.HttpSensor"
    document = {"etl": {"dag_id": "etl", "schedule": None, "tasks": {"ping": {"operator": operator}}}}
    path = write(tmp_path, document)
    assert check_definition(path) == [
        f"{path}: task 'ping': operator: got '{operator}'; not an operator MWAA Serverless runs (see "
        "mwaa_rules.serverless.SUPPORTED_OPERATORS); other operators need a code package that holds "
        "their module"
    ]


def test_an_operator_of_the_code_package(tmp_path: Path, code: Path) -> None:
    document = {
        "etl": {"dag_id": "etl", "schedule": None, "tasks": {"own": {"operator": "ops.custom.MyOperator"}}}
    }
    assert check_definition(write(tmp_path, document), code_package=code) == []
    document["etl"]["tasks"]["own"]["operator"] = "ops.missing.MyOperator"
    path = write(tmp_path, document)
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'own': operator: got 'ops.missing.MyOperator'; neither an operator MWAA "
        f"Serverless runs nor a module of the code package {code}"
    ]


def test_python_callable_is_required(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag["tasks"]["extract"].pop("python_callable")))
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'extract': python_callable: got None; PythonOperator needs 'module.function' "
        "of the code package"
    ]


def test_python_callable_needs_a_code_package(tmp_path: Path) -> None:
    document = {
        "etl": {
            "dag_id": "etl",
            "schedule": None,
            "tasks": {"extract": {"operator": PYTHON, "python_callable": "jobs.extract"}},
        }
    }
    path = write(tmp_path, document)
    assert check_definition(path) == [
        f"{path}: task 'extract': python_callable: got 'jobs.extract'; a python_callable needs a code "
        "package that defines it"
    ]


def test_python_callable_module_exists(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag["tasks"]["extract"].update(python_callable="etl.extract")))
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'extract': python_callable: got 'etl.extract'; module 'etl' is not in the code "
        f"package {code}"
    ]


def test_python_callable_function_exists(tmp_path: Path, code: Path) -> None:
    path = write(
        tmp_path, changed(lambda dag: dag["tasks"]["extract"].update(python_callable="jobs.transform"))
    )
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'extract': python_callable: got 'jobs.transform'; jobs.py defines no top-level "
        "function 'transform'"
    ]


def test_python_callable_module_parses(tmp_path: Path, code: Path) -> None:
    (code / "jobs.py").write_text("def extract(:\n")
    path = write(tmp_path, changed(lambda dag: dag["tasks"].pop("load.final")))
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'extract': python_callable: got 'jobs.extract'; jobs.py does not parse: "
        "invalid syntax (line 1)"
    ]


def test_bash_operator_needs_a_command(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag["tasks"].update(run={"operator": BASH})))
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'run': bash_command: got None; BashOperator needs the command to run"
    ]


def test_bash_operator_needs_a_code_package(tmp_path: Path) -> None:
    document = {
        "etl": {
            "dag_id": "etl",
            "schedule": None,
            "tasks": {"run": {"operator": BASH, "bash_command": "run.sh"}},
        }
    }
    path = write(tmp_path, document)
    assert check_definition(path) == [
        f"{path}: task 'run': operator: got '{BASH}'; BashOperator needs a code package"
    ]


# ---- the service's limits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("retries", 4, "an integer from 0 to 3"),
        ("retries", -1, "an integer from 0 to 3"),
        ("retries", True, "an integer from 0 to 3"),
        ("retry_delay", 301, "seconds (a number or a datetime.timedelta) from 0 to 300"),
        (
            "retry_delay",
            {"__type__": "datetime.timedelta", "minutes": 6},
            "seconds (a number or a datetime.timedelta) from 0 to 300",
        ),
        (
            "execution_timeout",
            600,
            TIMEOUT_ALLOWED,
        ),
        (
            "execution_timeout",
            {"__type__": "datetime.timedelta", "hours": 1, "seconds": 1},
            TIMEOUT_ALLOWED,
        ),
    ],
)
def test_task_limits(tmp_path: Path, code: Path, field: str, value: object, allowed: str) -> None:
    path = write(tmp_path, changed(lambda dag: dag["tasks"]["query"].update({field: value})))
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'query': {field}: got {value!r}; {allowed}"
    ]


def test_limits_at_their_maximum_pass(tmp_path: Path, code: Path) -> None:
    limits = {
        "retries": 3,
        "retry_delay": 300,
        "execution_timeout": {"__type__": "datetime.timedelta", "hours": 1},
    }
    path = write(tmp_path, changed(lambda dag: dag["tasks"]["query"].update(limits)))
    assert check_definition(path, code_package=code) == []


# ---- dependencies -----------------------------------------------------------------------------


def test_dependencies_are_a_list(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag["tasks"]["query"].update(dependencies="extract")))
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'query': dependencies: got 'extract'; a list of task ids"
    ]


def test_a_task_cannot_depend_on_itself(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag["tasks"]["query"].update(dependencies=["query"])))
    assert check_definition(path, code_package=code) == [
        f"{path}: task 'query': dependencies: got 'query'; a task cannot depend on itself"
    ]


def test_dependencies_form_no_cycle(tmp_path: Path, code: Path) -> None:
    path = write(tmp_path, changed(lambda dag: dag["tasks"]["extract"].update(dependencies=["load.final"])))
    assert check_definition(path, code_package=code) == [
        f"{path}: dependencies: form a cycle: extract -> load.final -> extract"
    ]


# ---- schedules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression", ["0 0 * * *", "*/15 * * * *", "0 6 * * MON-FRI", "5,35 1-3 1 JAN,JUL *"]
)
def test_standard_cron_expressions_pass(expression: str) -> None:
    assert schedule_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("@daily", "presets are not cron expressions; write '0 0 * * *'"),
        ("@once", "presets are not cron expressions; use null for manual runs only"),
        ("0 0 * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("0 0 L * *", "'L' is EventBridge Scheduler syntax, not standard cron; use '*' or numbers"),
        ("0 0 ? * MON", "'?' is EventBridge Scheduler syntax, not standard cron; use '*' or numbers"),
        ("0 0 * * MON#2", "'#' is EventBridge Scheduler syntax, not standard cron; use '*' or numbers"),
        ("60 0 * * *", "minute field '60' is outside 0-59"),
        ("0 0 * 13 *", "month field '13' is outside 1-12"),
        ("0 5-2 * * *", "hour field '5-2' has a range that ends before it starts"),
        ("*/0 * * * *", "minute field '*/0' has a step of 0"),
        (
            "0 0 1 * 1",
            "set day-of-month or day-of-week, not both (standard cron runs on either day, "
            "EventBridge Scheduler refuses both)",
        ),
        (7, "expected a cron expression (a string) or null, got int"),
    ],
)
def test_schedule_problems(expression: object, problem: str) -> None:
    assert schedule_problem(expression) == problem


def test_why_six_fields_are_refused_airflow_reads_seconds() -> None:
    """The converter's ``0 0 * * ? *`` under Airflow 3.3.1's cron library: every second of 00:00."""
    croniter = pytest.importorskip("croniter").croniter
    runs = croniter("0 0 * * ? *", datetime(2026, 1, 1, tzinfo=UTC))
    first, second = runs.get_next(datetime), runs.get_next(datetime)
    assert (second - first).total_seconds() == 1


@pytest.mark.parametrize(
    ("expression", "runs"),
    [(None, 0), ("0 0 * * *", 365 / 12), ("*/15 * * * *", 96 * 365 / 12), ("0 6 * * MON-FRI", 261 / 12)],
)
def test_runs_per_month(expression: str | None, runs: float) -> None:
    assert serverless.runs_per_month(expression) == pytest.approx(runs)


# ---- environment variables ----------------------------------------------------------------------


def test_environment_variables() -> None:
    assert (
        serverless.environment_variables_problems(
            {
                "STAGE": "dev",
                "AIRFLOW__WORKERS__SECRETS_BACKEND": "x",
                "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARG__A": "y",
            }
        )
        == []
    )
    assert serverless.environment_variables_problems(
        {"AWS_REGION": "x", "AIRFLOW__CORE__X": "y", "1ST": "z", "LONG": "v" * 256}
    ) == [
        "'AWS_REGION': names starting with AWS_ or AIRFLOW__ are reserved by the service",
        "'AIRFLOW__CORE__X': names starting with AWS_ or AIRFLOW__ are reserved by the service",
        "'1ST': a name is a letter, then letters, digits or '_' (at most 128)",
        "'LONG': value of 256 characters; at most 255",
    ]
    assert serverless.environment_variables_problems({f"V{i}": "" for i in range(51)}) == [
        "got 51 variables; at most 50"
    ]


# ---- cost ---------------------------------------------------------------------------------------

# A price of the test's own, so that the arithmetic is checked against numbers written here.
TOKYO = serverless.TaskHourPrice(
    region="ap-northeast-1", usd_per_task_hour=0.104, source="test", as_of="2025-11-30"
)


def test_a_task_is_billed_per_second_with_a_minute_minimum() -> None:
    assert serverless.billed_task_seconds(1) == 60
    assert serverless.billed_task_seconds(60.2) == 61
    with pytest.raises(ValueError, match="duration_seconds: got -1; expected 0 or more"):
        serverless.billed_task_seconds(-1)


def test_run_and_monthly_cost() -> None:
    # Ten tasks: nine of 10 s (billed 60 s each) and one of 30 minutes: 2340 s.
    durations = [10.0] * 9 + [1800.0]
    assert serverless.run_cost(durations, price=TOKYO) == pytest.approx(2340 / 3600 * 0.104)
    monthly = serverless.monthly_cost(durations, runs_per_month=30, price=TOKYO)
    assert monthly == pytest.approx(30 * 2340 / 3600 * 0.104)
    assert serverless.break_even_runs(357.7, serverless.run_cost(durations, price=TOKYO)) == pytest.approx(
        357.7 / (2340 / 3600 * 0.104)
    )
