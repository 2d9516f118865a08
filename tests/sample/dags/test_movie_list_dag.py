"""The DAG folder parses cleanly and quickly, and the DAG is shaped as the documentation says."""

from __future__ import annotations

import json
import re
import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow.exceptions import AirflowFailException
from airflow.models.dagbag import DagBag
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator
from airflow.providers.amazon.aws.transfers.http_to_s3 import HttpToS3Operator
from airflow.providers.http.sensors.http import HttpSensor
from airflow.timetables.trigger import CronTriggerTimetable
from movie_list import sql
from movie_list.config import MovieListConfig
from movie_list_testing import DAGS_FOLDER, DATA_BUCKET, FULL_CONFIG, RESULTS_BUCKET, make_dag_folder

DAG_ID = "movie-list-dag"
# MWAA's default [core] dagbag_import_timeout; parsing must stay far below it.
MWAA_IMPORT_TIMEOUT_SECONDS = 30.0

# The dependency lines of the original DAG, verbatim in meaning.
SEED_EDGES = {
    ("check_s3_for_key", "files_to_s3"),
    ("files_to_s3", "create_athena_movie_table"),
    ("create_athena_movie_table", "join_athena_tables"),
    ("join_athena_tables", "clean_up_csv"),
    ("clean_up_csv", "transfer_to_redshift"),
    ("files_to_s3", "create_athena_ratings_table"),
    ("create_athena_ratings_table", "join_athena_tables"),
    ("files_to_s3", "create_athena_tags_table"),
    ("create_athena_tags_table", "join_athena_tables"),
    ("files_to_s3", "create_redshift_table_if_not_exists"),
    ("create_redshift_table_if_not_exists", "transfer_to_redshift"),
}
# New task id -> the original task it stands for (the README explains each change).
SEED_NODE = {
    "check_source_available": "check_s3_for_key",
    "files_to_s3.download_zip": "files_to_s3",
    "files_to_s3.land_csvs": "files_to_s3",
}

EXPECTED_EDGES = {
    ("check_source_available", "files_to_s3.download_zip"),
    ("files_to_s3.download_zip", "files_to_s3.land_csvs"),
    ("files_to_s3.land_csvs", "create_athena_movie_table"),
    ("files_to_s3.land_csvs", "create_athena_ratings_table"),
    ("files_to_s3.land_csvs", "create_athena_tags_table"),
    ("files_to_s3.land_csvs", "create_redshift_table_if_not_exists"),
    ("create_athena_movie_table", "join_athena_tables"),
    ("create_athena_ratings_table", "join_athena_tables"),
    ("create_athena_tags_table", "join_athena_tables"),
    ("join_athena_tables", "clean_up_csv"),
    ("clean_up_csv", "transfer_to_redshift"),
    ("create_redshift_table_if_not_exists", "transfer_to_redshift"),
}


def edges(dag: Any) -> set[tuple[str, str]]:
    return {(up, task.task_id) for task in dag.tasks for up in task.upstream_task_ids}


def parse(folder: Path) -> DagBag:
    return DagBag(dag_folder=str(folder), include_examples=False, safe_mode=True)


# ---- import ------------------------------------------------------------------------------


def test_dag_folder_imports_without_errors_warnings_or_network(tmp_path: Path) -> None:
    """Parsing is fast and offline (conftest refuses any connection) and finds one DAG."""
    folder = make_dag_folder(tmp_path, FULL_CONFIG)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started = time.perf_counter()
        dagbag = parse(folder)
        elapsed = time.perf_counter() - started

    assert dagbag.import_errors == {}
    assert len(dagbag.dags) == 1
    assert next(iter(dagbag.dags)) in (DAG_ID, f"{DAG_ID}-not-configured")
    # The support package is excluded by .airflowignore: only the DAG file is parsed.
    assert [Path(stat.file).name for stat in dagbag.dagbag_stats] == ["movie_list_dag.py"]
    assert all(stat.warning_num == 0 for stat in dagbag.dagbag_stats)
    ours = [w for w in caught if str(folder) in str(w.filename) or "movie_list" in w.filename]
    assert ours == [], [str(w.message) for w in ours]
    assert elapsed < MWAA_IMPORT_TIMEOUT_SECONDS / 3, f"parsing took {elapsed:.1f} s"


def test_repository_dag_folder_imports_as_checked_in() -> None:
    """Whatever state the working tree's config is in, the folder never has import errors."""
    dagbag = parse(DAGS_FOLDER)

    assert dagbag.import_errors == {}
    assert len(dagbag.dags) == 1
    assert next(iter(dagbag.dags)) in (DAG_ID, f"{DAG_ID}-not-configured")


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (None, "movie_list_config.json was not found next to the DAG file"),
        ('{"data_bucket": "b-1", "cluster": "x"}', r"unknown key\(s\) cluster"),
        ("{oops", "is not valid JSON"),
    ],
)
def test_without_usable_configuration_the_dag_imports_paused_and_says_why(
    tmp_path: Path, config: str | None, reason: str
) -> None:
    dagbag = parse(make_dag_folder(tmp_path, config))

    assert dagbag.import_errors == {}
    assert DAG_ID not in dagbag.dags  # the real id is first seen with its configuration
    dag = dagbag.dags[f"{DAG_ID}-not-configured"]
    assert dag.is_paused_upon_creation is True
    assert dag.timetable.summary == "None"
    assert "not-configured" in dag.tags
    assert re.search(reason, dag.doc_md)
    assert [task.task_id for task in dag.tasks] == ["check_configuration"]
    only_task = dag.get_task("check_configuration")
    assert only_task.retries == 0
    with pytest.raises(AirflowFailException, match=reason):
        only_task.python_callable()


# ---- shape -------------------------------------------------------------------------------


def test_task_graph_is_the_documented_one(configured_dag: Any) -> None:
    assert edges(configured_dag) == EXPECTED_EDGES
    assert {task.task_id for task in configured_dag.roots} == {"check_source_available"}
    assert {task.task_id for task in configured_dag.leaves} == {"transfer_to_redshift"}


def test_task_graph_is_equivalent_to_the_original(configured_dag: Any) -> None:
    collapsed = {(SEED_NODE.get(up, up), SEED_NODE.get(down, down)) for up, down in edges(configured_dag)}
    collapsed = {(up, down) for up, down in collapsed if up != down}

    assert collapsed == SEED_EDGES
    group = configured_dag.task_group.get_child_by_label("files_to_s3")
    assert sorted(group.children) == ["files_to_s3.download_zip", "files_to_s3.land_csvs"]


def test_first_task_checks_the_source_not_the_empty_bucket(configured_dag: Any) -> None:
    (first,) = configured_dag.roots

    assert isinstance(first, HttpSensor)
    assert first.http_conn_id == "movielens_http"
    assert first.endpoint == "/datasets/movielens/ml-latest-small.zip"
    assert first.method == "HEAD"
    assert first.mode == "reschedule"
    assert first.timeout == timedelta(hours=1).total_seconds()


def test_dag_settings_are_the_documented_ones(configured_dag: Any) -> None:
    dag = configured_dag

    assert dag.dag_id == DAG_ID
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert dag.timetable.summary == "0 0 * * *"  # @daily
    assert dag.timetable._timezone.name == "UTC"
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.dagrun_timeout == timedelta(hours=2)
    assert sorted(dag.tags) == ["athena", "movielens", "redshift"]
    assert "MovieLens" in dag.doc_md
    assert DATA_BUCKET in dag.doc_md
    assert dag.is_paused_upon_creation is False  # runs on its first schedule after deploy


def test_every_task_retries_with_backoff_and_has_a_timeout(configured_dag: Any) -> None:
    for task in configured_dag.tasks:
        assert task.owner == "data-platform"
        assert task.retries == 2, task.task_id
        assert task.retry_delay == timedelta(minutes=2), task.task_id
        assert task.retry_exponential_backoff is True, task.task_id
        assert task.execution_timeout is not None, task.task_id
        assert task.execution_timeout <= timedelta(minutes=30), task.task_id


def test_provider_operators_do_the_work(configured_dag: Any) -> None:
    kinds = {task.task_id: type(task) for task in configured_dag.tasks}

    assert kinds["check_source_available"] is HttpSensor
    assert kinds["files_to_s3.download_zip"] is HttpToS3Operator
    for task_id in (
        "create_athena_movie_table",
        "create_athena_ratings_table",
        "create_athena_tags_table",
        "join_athena_tables",
    ):
        assert kinds[task_id] is AthenaOperator
    assert kinds["create_redshift_table_if_not_exists"] is RedshiftDataOperator
    assert kinds["transfer_to_redshift"] is RedshiftDataOperator
    python_tasks = {t for t, k in kinds.items() if k.__name__ == "_PythonDecoratedOperator"}
    assert python_tasks == {"files_to_s3.land_csvs", "clean_up_csv"}


# ---- configuration reaches every task ----------------------------------------------------


def test_download_lands_in_the_data_bucket(configured_dag: Any) -> None:
    download = configured_dag.get_task("files_to_s3.download_zip")

    assert download.http_conn_id == "movielens_http"
    assert download.endpoint == "/datasets/movielens/ml-latest-small.zip"
    assert (download.s3_bucket, download.s3_key) == (DATA_BUCKET, "movielens/raw/ml-latest-small.zip")
    assert download.replace is True  # a re-run overwrites instead of failing on the key


def test_athena_tasks_use_configured_database_workgroup_and_results(configured_dag: Any) -> None:
    config = MovieListConfig(**FULL_CONFIG)
    expected_queries = {
        "create_athena_movie_table": sql.create_athena_table(config, sql.MOVIES),
        "create_athena_ratings_table": sql.create_athena_table(config, sql.RATINGS),
        "create_athena_tags_table": sql.create_athena_table(config, sql.TAGS),
        "join_athena_tables": sql.join_high_ratings(config),
    }
    for task_id, query in expected_queries.items():
        task = configured_dag.get_task(task_id)
        assert task.query == query
        assert task.database == "movielens_test"
        assert task.workgroup == "movie-list-wg"
        assert task.output_location == f"s3://{RESULTS_BUCKET}/athena/"
        assert task.aws_conn_id == "aws_default"


def test_redshift_tasks_use_the_serverless_workgroup_through_the_data_api(
    configured_dag: Any,
) -> None:
    config = MovieListConfig(**FULL_CONFIG)
    create = configured_dag.get_task("create_redshift_table_if_not_exists")
    load = configured_dag.get_task("transfer_to_redshift")

    assert create.sql == sql.create_redshift_table(config)
    # A list is sent as one BatchExecuteStatement: DELETE and COPY commit together.
    assert load.sql == sql.replace_high_ratings(config)
    for task in (create, load):
        assert task.workgroup_name == "movie-list-rs"
        assert task.cluster_identifier is None
        assert task.db_user is None
        assert task.database == "analytics"
        assert task.secret_arn == FULL_CONFIG["redshift_secret_arn"]
        assert task.wait_for_completion is True


def test_nothing_is_hard_coded(tmp_path: Path) -> None:
    """Two deployments with different settings share no bucket, database or account."""
    other = {
        "data_bucket": "another-team-data",
        "data_prefix": "x/",
        "athena_database": "other_db",
        "athena_workgroup": "other-wg",
        "redshift_workgroup": "other-rs",
        "redshift_database": "otherdb",
        "redshift_table": "other_table",
        "schedule": None,
    }
    dag = parse(make_dag_folder(tmp_path, other)).dags[DAG_ID]
    rendered = json.dumps(
        {task.task_id: {name: getattr(task, name) for name in task.template_fields} for task in dag.tasks},
        default=str,
    )

    for value in (DATA_BUCKET, RESULTS_BUCKET, "movielens_test", "movie-list-wg", "analytics"):
        assert value not in rendered
    assert "another-team-data" in rendered and "other_db" in rendered
    assert not re.search(r"\b\d{12}\b", rendered), "an account id leaked into the DAG"
    assert "IAM_ROLE default" in rendered
    assert dag.timetable.summary == "None"
    assert dag.get_task("transfer_to_redshift").secret_arn is None
