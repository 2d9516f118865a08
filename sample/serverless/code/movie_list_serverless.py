"""The Python tasks of ``movie-list-dag`` on Amazon MWAA Serverless (``movie_list.yaml``).

Every step of the Python DAG (``sample/dags/movie_list/movie_list_dag.py``) is a
``PythonOperator`` here, calling one function of this module, and each function reuses the
DAG's own code: the configuration (``movie_list.config``), every SQL statement
(``movie_list.sql``) and both file steps (``movie_list.files``). The code package holds this
module and the ``movie_list`` package; the service unpacks it at the root of the DAG folder, so
both import by name.

Why no provider operators: the settings (bucket, Athena database and workgroup, Redshift
workgroup, COPY role) exist only once the data plane is deployed, and a workflow definition is a
static file. They reach the tasks as the workflow's environment variables, ``MOVIE_LIST_<KEY>``
for each key of ``movie_list_config.json`` (written by ``sample/serverless/workflow.py``), which a
function can read and a YAML operator argument cannot. The HTTP provider (``HttpSensor``,
``HttpToS3Operator``'s hook) is not installed on MWAA Serverless either: the source is fetched
with ``requests``, which Airflow itself depends on.

The download needs a route to the internet: the workflow runs in the platform's private subnets,
whose NAT gateways give it one (``sample/serverless/README.md``).

Airflow is imported inside the functions, as the service's worker provides it: the module imports
without Airflow, for its tests.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from movie_list import sql
from movie_list.config import MovieListConfig, MovieListConfigError
from movie_list.files import clean_high_ratings, land_movielens_zip

if TYPE_CHECKING:
    from airflow.sdk.types import RuntimeTaskInstanceProtocol

log = logging.getLogger(__name__)

ENVIRONMENT_PREFIX = "MOVIE_LIST_"
SOURCE_TIMEOUT_SECONDS = 30
DOWNLOAD_TIMEOUT_SECONDS = 300
DOWNLOAD_CHUNK_BYTES = 1024 * 1024
ATHENA_POLL_SECONDS = 5
REDSHIFT_POLL_SECONDS = 5
ATHENA_TABLES = {table.name: table for table in (sql.MOVIES, sql.RATINGS, sql.TAGS)}
JOIN_TASK_ID = "join_athena_tables"


class SourceUnavailableError(RuntimeError):
    """The MovieLens zip did not answer: the task fails and Airflow retries it."""


class QueryFailedError(RuntimeError):
    """An Athena query ended in another state than SUCCEEDED."""


DAG_ID = "movie-list-dag"


def load_config(environ: Mapping[str, str] | None = None) -> MovieListConfig:
    """The DAG's configuration from ``MOVIE_LIST_<KEY>`` environment variables, validated as the
    Python DAG validates its JSON file (an unknown key or a bad value names itself)."""
    environ = os.environ if environ is None else environ
    data = {
        name[len(ENVIRONMENT_PREFIX) :].lower(): value
        for name, value in environ.items()
        if name.startswith(ENVIRONMENT_PREFIX)
    }
    try:
        return MovieListConfig.from_mapping(data)
    except MovieListConfigError as error:
        names = ", ".join(sorted(n for n in environ if n.startswith(ENVIRONMENT_PREFIX))) or "none"
        raise MovieListConfigError(
            f"the workflow's environment variables do not configure movie-list-dag ({error}); "
            f"{ENVIRONMENT_PREFIX}* variables set: {names}"
        ) from None


def check_source_available() -> str:
    """HEAD the MovieLens zip; fail (and retry) unless it answers 2xx or 3xx.

    The Python DAG waits up to an hour with a rescheduling sensor; here the task's retries (at
    most 3, 300 s apart on MWAA Serverless) give the source about 15 minutes to come back."""
    import requests

    config = load_config()
    response = requests.head(config.source_url, timeout=SOURCE_TIMEOUT_SECONDS, allow_redirects=True)
    if not response.ok:
        raise SourceUnavailableError(f"{config.source_url} answered HTTP {response.status_code}")
    return config.source_url


def download_zip() -> str:
    """Download the zip to ``s3://<data_bucket>/<data_prefix>raw/``, replacing the last one."""
    import requests
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    config = load_config()
    with (
        requests.get(config.source_url, timeout=DOWNLOAD_TIMEOUT_SECONDS, stream=True) as response,
        tempfile.TemporaryFile() as buffer,
    ):
        response.raise_for_status()
        for chunk in response.iter_content(chunk_size=DOWNLOAD_CHUNK_BYTES):
            buffer.write(chunk)
        buffer.seek(0)
        S3Hook(aws_conn_id=config.aws_conn_id).load_file_obj(
            buffer, key=config.raw_zip_key, bucket_name=config.data_bucket, replace=True
        )
    return f"s3://{config.data_bucket}/{config.raw_zip_key}"


def land_csvs() -> dict[str, str]:
    """Extract movies, ratings, tags and links into one S3 folder each (``movie_list.files``)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    config = load_config()
    return land_movielens_zip(S3Hook(aws_conn_id=config.aws_conn_id), config)


def _run_athena(config: MovieListConfig, query: str) -> str:
    """Run ``query`` in the configured workgroup and database; the query id once it succeeded."""
    from airflow.providers.amazon.aws.hooks.athena import AthenaHook

    hook = AthenaHook(aws_conn_id=config.aws_conn_id)
    query_id = hook.run_query(
        query,
        query_context={"Database": config.athena_database},
        result_configuration={"OutputLocation": config.athena_output_uri},
        workgroup=config.athena_workgroup,
    )
    state = hook.poll_query_status(query_id, sleep_time=ATHENA_POLL_SECONDS)
    if state != "SUCCEEDED":
        reason = hook.get_state_change_reason(query_id)
        raise QueryFailedError(f"Athena query {query_id} ended {state}: {reason}")
    return query_id


def create_athena_table(table: str) -> str:
    """Create (or keep) the Athena table ``table`` (``movies``, ``ratings`` or ``tags``)."""
    if table not in ATHENA_TABLES:
        raise ValueError(f"table: got {table!r}; expected one of {', '.join(ATHENA_TABLES)}")
    config = load_config()
    return _run_athena(config, sql.create_athena_table(config, ATHENA_TABLES[table]))


def join_athena_tables() -> str:
    """Movies joined with their ratings above 4; the query id is the task's XCom."""
    config = load_config()
    return _run_athena(config, sql.join_high_ratings(config))


def clean_up_csv(ti: RuntimeTaskInstanceProtocol) -> dict[str, Any]:
    """Validate the join result and write the extract that COPY loads (``movie_list.files``)."""
    from airflow.providers.amazon.aws.hooks.athena import AthenaHook
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    config = load_config()
    query_id = ti.xcom_pull(task_ids=JOIN_TASK_ID)
    if not query_id:
        raise ValueError(f"no query id from {JOIN_TASK_ID}: it must run first")
    source_uri = AthenaHook(aws_conn_id=config.aws_conn_id).get_output_location(query_id)
    summary = clean_high_ratings(
        S3Hook(aws_conn_id=config.aws_conn_id),
        source_uri=source_uri,
        bucket=config.data_bucket,
        key=config.curated_key,
    )
    return summary.as_dict()


def _run_redshift(config: MovieListConfig, statements: str | list[str], name: str) -> str:
    from airflow.providers.amazon.aws.hooks.redshift_data import RedshiftDataHook

    started = time.monotonic()
    output = RedshiftDataHook(aws_conn_id=config.aws_conn_id).execute_query(
        sql=statements,
        database=config.redshift_database,
        workgroup_name=config.redshift_workgroup,
        secret_arn=config.redshift_secret_arn or None,
        statement_name=f"{DAG_ID}.{name}",
        wait_for_completion=True,
        poll_interval=REDSHIFT_POLL_SECONDS,
    )
    log.info("Redshift %s finished in %.0f s", name, time.monotonic() - started)
    return output.statement_id


def create_redshift_table_if_not_exists() -> str:
    """The target table, created once (``CREATE TABLE IF NOT EXISTS``)."""
    config = load_config()
    return _run_redshift(config, sql.create_redshift_table(config), "create_table")


def transfer_to_redshift() -> str:
    """``DELETE`` then ``COPY`` in one Data API batch, i.e. one transaction: a re-run replaces
    the rows instead of appending them."""
    config = load_config()
    return _run_redshift(config, sql.replace_high_ratings(config), "load")
