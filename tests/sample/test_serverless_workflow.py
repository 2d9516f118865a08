"""The sample on MWAA Serverless: its task graph is the Python DAG's, its configuration is the
data plane's, and its definition passes the service's rules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mwaa_rules.serverless import PYTHON_OPERATORS, load_definition
from sample.serverless.workflow import CODE, DEFINITION, environment_variables

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "sample" / "dags"

# Loads the Python DAG with Airflow's DagBag and prints its id and task graph as JSON.
_DAGBAG = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], safe_mode=True)
assert not bag.import_errors, bag.import_errors
print("GRAPH=" + json.dumps({
    dag_id: {task.task_id: sorted(task.upstream_task_ids) for task in dag.tasks}
    for dag_id, dag in bag.dags.items()
}))
"""


@pytest.fixture(scope="module")
def python_dag_graph(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[str]]]:
    """The configured Python DAG's task graph, as Airflow 3.3.1's DagBag loads it (in a
    subprocess with its own AIRFLOW_HOME: Airflow reads its configuration once per process)."""
    root = tmp_path_factory.mktemp("python-dag")
    dags = root / "dags"
    shutil.copytree(DAGS, dags, ignore=shutil.ignore_patterns("__pycache__", "movie_list_config.json"))
    (dags / "movie_list" / "movie_list_config.json").write_text(json.dumps({"data_bucket": "sample-data"}))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(root / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{root}/airflow.db",
        "PYTHONPATH": str(dags),
    }
    result = subprocess.run(
        [sys.executable, "-c", _DAGBAG, str(dags)], capture_output=True, text=True, env=env, check=False
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("GRAPH=")]
    assert result.returncode == 0 and lines, result.stderr[-4000:]
    return json.loads(lines[-1].removeprefix("GRAPH="))


def test_the_task_graph_is_the_python_dags(python_dag_graph: dict[str, dict[str, list[str]]]) -> None:
    definition = load_definition(DEFINITION, code_package=CODE)
    assert set(python_dag_graph) == {definition.dag_id}
    python_graph = {task: frozenset(up) for task, up in python_dag_graph[definition.dag_id].items()}
    assert definition.upstream() == python_graph


def test_every_task_runs_a_function_of_the_code_package() -> None:
    definition = load_definition(DEFINITION, code_package=CODE)
    assert {task.operator for task in definition.tasks.values()} == {PYTHON_OPERATORS[0]}
    assert set(definition.python_callables()) == set(definition.tasks)


def test_the_schedule_is_the_python_dags_default_in_five_fields() -> None:
    assert load_definition(DEFINITION, code_package=CODE).schedule == "0 0 * * *"


@pytest.fixture
def serverless_module(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.syspath_prepend(str(CODE))
    import movie_list_serverless

    return movie_list_serverless


def test_the_configuration_travels_as_environment_variables(serverless_module: object) -> None:
    """The data plane's DAG configuration, as the workflow's environment variables, is read back
    into the same configuration the Python DAG gets from its JSON file."""
    from movie_list.config import MovieListConfig

    dag_config = {
        "data_bucket": "sample-data",
        "data_prefix": "movielens/",
        "athena_database": "movielens_dev",
        "athena_workgroup": "movielens-dev",
        "athena_output_location": "s3://sample-data/athena-results/",
        "redshift_workgroup": "movielens-dev",
        "redshift_database": "dev",
        "redshift_copy_role_arn": "arn:aws:iam::111122223333:role/copy",
    }
    environment = environment_variables(dag_config)
    assert environment["MOVIE_LIST_DATA_BUCKET"] == "sample-data"
    assert all(len(value) <= 255 for value in environment.values())
    loaded = serverless_module.load_config({**environment, "PATH": "/usr/bin"})  # type: ignore[attr-defined]
    assert loaded == MovieListConfig.from_mapping(dag_config)


def test_a_missing_setting_names_the_variables(serverless_module: object) -> None:
    from movie_list.config import MovieListConfigError

    with pytest.raises(MovieListConfigError) as raised:
        serverless_module.load_config({"MOVIE_LIST_DATA_PREFIX": "x/"})  # type: ignore[attr-defined]
    assert str(raised.value) == (
        "the workflow's environment variables do not configure movie-list-dag (required key "
        "data_bucket is missing); MOVIE_LIST_* variables set: MOVIE_LIST_DATA_PREFIX"
    )


def test_an_unknown_table_is_refused(serverless_module: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIE_LIST_DATA_BUCKET", "sample-data")
    with pytest.raises(ValueError, match="table: got 'links'; expected one of movies, ratings, tags"):
        serverless_module.create_athena_table("links")  # type: ignore[attr-defined]
