"""The DAG's own tasks, executed against mocked HTTP and S3, and a whole run played twice.

Athena and Redshift are stood in for by SQLite: the Athena tables are read back through their
DDL with the reference reader, and COPY is interpreted from its statement text, so the run
fails if a location, a key, a column list or a header setting disagrees with what the previous
task wrote.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
import responses
from airflow.exceptions import AirflowFailException
from airflow.providers.amazon.aws.hooks.redshift_data import (
    QueryExecutionOutput,
    RedshiftDataHook,
)
from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator
from movie_list import sql
from movie_list_testing import (
    DATA_BUCKET,
    FULL_CONFIG,
    REGION,
    RESULTS_BUCKET,
    SOURCE_URL,
    list_keys,
    parse_create_table,
    read_text_as_athena,
)


@pytest.fixture
def movielens_site(movielens_zip: bytes) -> Iterator[responses.RequestsMock]:
    """files.grouplens.org, answering HEAD and GET for the zip; AWS calls pass to moto."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as site:
        site.add(responses.HEAD, SOURCE_URL, status=200, content_type="application/zip")
        site.add(responses.GET, SOURCE_URL, body=movielens_zip, content_type="application/zip")
        yield site


def s3_body(s3: Any, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


# ---- source check and download -----------------------------------------------------------


def test_source_check_passes_when_movielens_answers(
    configured_dag: Any, movielens_site: responses.RequestsMock
) -> None:
    assert configured_dag.get_task("check_source_available").poke(context={}) is True
    assert movielens_site.calls[0].request.method == "HEAD"


def test_source_check_keeps_waiting_while_the_file_is_missing(configured_dag: Any) -> None:
    with responses.RequestsMock() as site:
        site.add(responses.HEAD, SOURCE_URL, status=404)

        assert configured_dag.get_task("check_source_available").poke(context={}) is False


def test_source_check_fails_when_the_connection_points_elsewhere(
    configured_dag: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_MOVIELENS_HTTP",
        '{"conn_type": "http", "host": "mirror.example.com", "schema": "https"}',
    )
    with responses.RequestsMock() as site:
        site.add(responses.HEAD, "https://mirror.example.com/datasets/movielens/ml-latest-small.zip")

        with pytest.raises(AirflowFailException, match=r"source_url is on files\.grouplens\.org"):
            configured_dag.get_task("check_source_available").poke(context={})


def test_download_puts_the_zip_in_the_data_bucket(
    configured_dag: Any, s3_bucket: Any, movielens_site: responses.RequestsMock, movielens_zip: bytes
) -> None:
    configured_dag.get_task("files_to_s3.download_zip").execute(context={})
    configured_dag.get_task("files_to_s3.download_zip").execute(context={})  # a retry

    assert s3_body(s3_bucket, DATA_BUCKET, "movielens/raw/ml-latest-small.zip") == movielens_zip
    assert list_keys(s3_bucket) == ["movielens/raw/ml-latest-small.zip"]


# ---- Python tasks ------------------------------------------------------------------------


def test_land_csvs_task_lands_every_table(configured_dag: Any, s3_bucket: Any, movielens_zip: bytes) -> None:
    s3_bucket.put_object(Bucket=DATA_BUCKET, Key="movielens/raw/ml-latest-small.zip", Body=movielens_zip)

    landed = configured_dag.get_task("files_to_s3.land_csvs").python_callable()

    assert sorted(landed) == ["links", "movies", "ratings", "tags"]
    assert set(landed.values()) <= set(list_keys(s3_bucket))


def start_athena_query(query: str) -> str:
    """A query execution in mocked Athena, with its result location as AthenaOperator sets it."""
    athena = boto3.client("athena", region_name=REGION)
    return athena.start_query_execution(
        QueryString=query,
        QueryExecutionContext={"Database": FULL_CONFIG["athena_database"]},
        ResultConfiguration={"OutputLocation": FULL_CONFIG["athena_output_location"]},
    )["QueryExecutionId"]


def write_athena_result(s3: Any, query_execution_id: str, rows: list[tuple[Any, ...]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(sql.HIGH_RATINGS_COLUMNS)
    writer.writerows(rows)
    s3.put_object(Bucket=RESULTS_BUCKET, Key=f"athena/{query_execution_id}.csv", Body=buffer.getvalue())


def test_clean_up_csv_task_finds_the_result_through_athena(configured_dag: Any, s3_bucket: Any) -> None:
    query_execution_id = start_athena_query(sql.join_high_ratings(_config()))
    write_athena_result(s3_bucket, query_execution_id, [(1, 11, "A, B (1995)", 4.5)])

    summary = configured_dag.get_task("clean_up_csv").python_callable(query_execution_id=query_execution_id)

    assert summary == {"rows_read": 1, "rows_written": 1, "dropped": {}}
    extract = s3_body(s3_bucket, DATA_BUCKET, _config().curated_key).decode()
    assert extract == 'user_id,movie_id,title,rating\n1,11,"A, B (1995)",4.5\n'


# ---- Redshift tasks ----------------------------------------------------------------------


@pytest.mark.parametrize("task_id", ["create_redshift_table_if_not_exists", "transfer_to_redshift"])
def test_redshift_tasks_send_their_sql_as_one_data_api_call(
    configured_dag: Any, s3_bucket: Any, task_id: str
) -> None:
    task = configured_dag.get_task(task_id)
    with (
        mock.patch.object(
            RedshiftDataHook,
            "execute_query",
            return_value=QueryExecutionOutput(statement_id="stmt-1", session_id=None),
        ) as execute_query,
        mock.patch.object(RedshiftDataOperator, "get_sql_results", return_value=["stmt-1"]),
    ):
        assert task.execute(context={}) == ["stmt-1"]

    execute_query.assert_called_once()
    kwargs = execute_query.call_args.kwargs
    assert kwargs["sql"] == task.sql
    assert kwargs["workgroup_name"] == "movie-list-rs"
    assert kwargs["database"] == "analytics"
    assert kwargs["secret_arn"] == FULL_CONFIG["redshift_secret_arn"]
    assert kwargs["cluster_identifier"] is None
    assert kwargs["wait_for_completion"] is True


# ---- a whole run, twice ------------------------------------------------------------------


def _config() -> Any:
    from movie_list.config import MovieListConfig

    return MovieListConfig(**FULL_CONFIG)


def play_athena(s3: Any, dag: Any) -> str:
    """Run the three DDL tasks and the join the way Athena would, on SQLite."""
    athena = sqlite3.connect(":memory:")
    sqlite_types = {"string": "TEXT", "int": "INTEGER", "bigint": "INTEGER", "double": "REAL"}
    for task_id in (
        "create_athena_movie_table",
        "create_athena_ratings_table",
        "create_athena_tags_table",
    ):
        table = parse_create_table(dag.get_task(task_id).query)
        if table.database not in {row[1] for row in athena.execute("PRAGMA database_list")}:
            athena.execute(f"ATTACH DATABASE ':memory:' AS {table.database}")
        columns = ", ".join(f"{n} {sqlite_types[t]}" for n, t in table.columns)
        athena.execute(f"CREATE TABLE {table.database}.{table.name} ({columns})")
        bucket, prefix = re.match(r"s3://([^/]+)/(.*)", table.location).groups()
        for key in list_keys(s3, bucket, prefix):  # Athena reads every object under LOCATION
            rows = read_text_as_athena(table, s3_body(s3, bucket, key).decode("utf-8"), key)
            marks = ", ".join("?" for _ in table.columns)
            athena.executemany(f"INSERT INTO {table.database}.{table.name} VALUES ({marks})", rows)
    join = dag.get_task("join_athena_tables")
    query_execution_id = start_athena_query(join.query)
    write_athena_result(s3, query_execution_id, athena.execute(join.query).fetchall())
    return query_execution_id


def run_redshift_sql(s3: Any, redshift: sqlite3.Connection, statement: str) -> None:
    """Execute one statement; COPY is interpreted, with its prefix-matching FROM."""
    copy = re.fullmatch(
        r"COPY (\w+\.\w+) \(([\w, ]+)\)\nFROM 's3://([^/]+)/([^']+)'\n"
        r"IAM_ROLE (default|'arn:[^']+')\nFORMAT AS CSV\nIGNOREHEADER (\d+)\nENCODING UTF8",
        statement,
    )
    if not statement.startswith("COPY"):
        redshift.execute(statement)
        return
    assert copy, statement
    table, columns, bucket, prefix, _, header_lines = copy.groups()
    keys = list_keys(s3, bucket, prefix)
    assert keys, f"COPY would fail: nothing under s3://{bucket}/{prefix}"
    for key in keys:
        reader = csv.reader(io.StringIO(s3_body(s3, bucket, key).decode("utf-8"), newline=""))
        rows = list(reader)[int(header_lines) :]
        marks = ", ".join("?" for _ in columns.split(", "))
        redshift.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def play_run(s3: Any, dag: Any, redshift: sqlite3.Connection) -> None:
    assert dag.get_task("check_source_available").poke(context={}) is True
    dag.get_task("files_to_s3.download_zip").execute(context={})
    dag.get_task("files_to_s3.land_csvs").python_callable()
    query_execution_id = play_athena(s3, dag)
    dag.get_task("clean_up_csv").python_callable(query_execution_id=query_execution_id)
    run_redshift_sql(s3, redshift, dag.get_task("create_redshift_table_if_not_exists").sql)
    with redshift:  # the Data API batch: one transaction
        for statement in dag.get_task("transfer_to_redshift").sql:
            run_redshift_sql(s3, redshift, statement)


def test_a_run_repeated_replaces_rows_and_objects_instead_of_adding(
    configured_dag: Any, s3_bucket: Any, movielens_site: responses.RequestsMock
) -> None:
    redshift = sqlite3.connect(":memory:")
    redshift.execute("ATTACH DATABASE ':memory:' AS demo")

    play_run(s3_bucket, configured_dag, redshift)
    first_rows = redshift.execute("SELECT * FROM demo.high_ratings ORDER BY 1, 2").fetchall()
    first_data_keys = list_keys(s3_bucket)
    play_run(s3_bucket, configured_dag, redshift)

    rows = redshift.execute("SELECT * FROM demo.high_ratings ORDER BY 1, 2").fetchall()
    assert rows == first_rows
    assert rows == [
        (1, 11, "American President, The (1995)", 4.5),
        (1, 260, "Star Wars: Episode IV - A New Hope (1977)", 5),
        (2, 4973, "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", 4.5),
        (2, 7065, '"Great Performances" Cats (1998)', 5),
        (3, 99999, "Good, the Bad and the Ugly, The (1966)", 4.5),
        (4, 1, "Toy Story (1995)", 5),
    ]
    assert list_keys(s3_bucket) == first_data_keys
    assert first_data_keys == [
        "movielens/curated/high_ratings/high_ratings.csv",
        "movielens/ml-latest-small/links/links.csv",
        "movielens/ml-latest-small/movies/movies.csv",
        "movielens/ml-latest-small/ratings/ratings.csv",
        "movielens/ml-latest-small/tags/tags.csv",
        "movielens/raw/ml-latest-small.zip",
    ]
