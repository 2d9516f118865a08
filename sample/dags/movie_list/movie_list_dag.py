"""movie-list-dag: MovieLens ratings from the web to Amazon Redshift through S3 and Athena.

The modern form of the sample DAG of the Amazon MWAA launch post. It checks that MovieLens is
reachable, lands ``ml-latest-small`` in the data bucket, exposes its CSVs as Athena tables,
joins movies with their ratings above 4, cleans the result and replaces the rows of a Redshift
Serverless table with it. Its settings come from ``movie_list_config.json`` next to this file;
see ``sample/README.md``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.providers.amazon.aws.hooks.athena import AthenaHook
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator
from airflow.providers.amazon.aws.transfers.http_to_s3 import HttpToS3Operator
from airflow.providers.http.sensors.http import HttpSensor
from airflow.sdk import DAG, TaskGroup, task

from movie_list import sql
from movie_list.config import (
    CONFIG_FILE_NAME,
    MovieListConfig,
    MovieListConfigError,
    load_config,
)
from movie_list.files import clean_high_ratings, land_movielens_zip

try:  # the Task SDK's forms: Airflow 3.3 deprecates AirflowFailException in airflow.exceptions
    from airflow.sdk import CronTriggerTimetable
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # the Task SDK of Airflow 3.0 (MWAA 3.0.6) has neither
    from airflow.exceptions import AirflowFailException
    from airflow.timetables.trigger import CronTriggerTimetable

if TYPE_CHECKING:
    from collections.abc import Callable

    from requests import Response

log = logging.getLogger(__name__)

DAG_ID = "movie-list-dag"
# The stand-in shown while the configuration is missing has an id of its own: Airflow records a
# DAG's paused state the first time it sees the id, so the real DAG, first seen once the
# configuration is deployed, starts unpaused and runs on its first schedule.
UNCONFIGURED_DAG_ID = f"{DAG_ID}-not-configured"
CONFIG_PATH = Path(__file__).resolve().with_name(CONFIG_FILE_NAME)
START_DATE = datetime(2025, 1, 1, tzinfo=UTC)
TAGS = ["movielens", "athena", "redshift"]
DAGRUN_TIMEOUT = timedelta(hours=2)

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-platform",
    "depends_on_past": False,
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    "execution_timeout": timedelta(minutes=30),
}


def source_response_check(expected_host: str) -> Callable[[Response], bool]:
    """Build the sensor's response check: the first response must come from ``source_url``.

    The HTTP connection supplies scheme and host; if it points somewhere else than the
    configured ``source_url``, fail at once rather than download the wrong file.
    """

    def check(response: Response) -> bool:
        first = response.history[0] if response.history else response
        host = urlsplit(first.url).netloc.lower()
        if host != expected_host:
            raise AirflowFailException(
                f"the HTTP connection requested {first.url}, but source_url is on "
                f"{expected_host}; make the connection and movie_list_config.json agree"
            )
        return response.ok

    return check


def _doc_md(config: MovieListConfig) -> str:
    return f"""\
### MovieLens ratings above 4, from the web to Redshift

1. `check_source_available` - HEAD `{config.source_url}` via connection `{config.http_conn_id}`.
2. `files_to_s3` - download the zip to `s3://{config.data_bucket}/{config.raw_zip_key}`, then land
   each CSV in its own folder under `s3://{config.data_bucket}/{config.dataset_prefix}`.
3. `create_athena_*_table` - tables `movies`, `ratings`, `tags` in Athena database
   `{config.athena_database}` (workgroup `{config.athena_workgroup}`), OpenCSVSerde.
4. `join_athena_tables` - movies joined with ratings above {sql.MIN_RATING_EXCLUSIVE}.
5. `clean_up_csv` - validated extract at `s3://{config.data_bucket}/{config.curated_key}`.
6. `create_redshift_table_if_not_exists`, `transfer_to_redshift` - `DELETE` + `COPY` in one
   transaction into `{config.redshift_database}.{config.redshift_qualified_table}` on Redshift
   Serverless workgroup `{config.redshift_workgroup}`.

Re-running a run replaces the same S3 objects and the same table rows. Settings come from
`{CONFIG_FILE_NAME}` next to the DAG file.
"""


def build_dag(config: MovieListConfig) -> DAG:
    """The DAG with every task wired as in the original sample, settings from ``config``."""
    aws = {"aws_conn_id": config.aws_conn_id}
    athena = {
        **aws,
        "database": config.athena_database,
        "workgroup": config.athena_workgroup,
        "output_location": config.athena_output_uri,
        "sleep_time": 5,
    }
    redshift = {
        **aws,
        "workgroup_name": config.redshift_workgroup,
        "database": config.redshift_database,
        "secret_arn": config.redshift_secret_arn or None,
        "poll_interval": 5,
    }

    with DAG(
        dag_id=DAG_ID,
        description="MovieLens ratings above 4 into Redshift, through S3 and Athena",
        doc_md=_doc_md(config),
        # A trigger timetable: the run starts at the cron time and covers no data interval,
        # which fits a DAG that always fetches the latest release.
        schedule=(CronTriggerTimetable(config.schedule, timezone="UTC") if config.schedule else None),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # runs write the same S3 keys and replace the same table rows
        # The sample is meant to run right after `cdk deploy`; a DAG of your own may keep
        # the environment's default (dags_are_paused_at_creation).
        is_paused_upon_creation=False,
        dagrun_timeout=DAGRUN_TIMEOUT,
        default_args=DEFAULT_ARGS,
        tags=TAGS,
    ) as dag:
        check_source_available = HttpSensor(
            task_id="check_source_available",
            http_conn_id=config.http_conn_id,
            endpoint=config.source_endpoint,
            method="HEAD",
            response_check=source_response_check(config.source_host),
            extra_options={"timeout": 30},
            mode="reschedule",
            poke_interval=timedelta(minutes=5),
            exponential_backoff=True,
            timeout=timedelta(hours=1),
            execution_timeout=timedelta(minutes=5),
        )

        with TaskGroup(group_id="files_to_s3", tooltip="Download the zip, land its CSVs") as files_to_s3:
            download_zip = HttpToS3Operator(
                task_id="download_zip",
                http_conn_id=config.http_conn_id,
                endpoint=config.source_endpoint,
                extra_options={"timeout": 300},
                s3_bucket=config.data_bucket,
                s3_key=config.raw_zip_key,
                replace=True,
                execution_timeout=timedelta(minutes=15),
                **aws,
            )

            @task(task_id="land_csvs", execution_timeout=timedelta(minutes=15))
            def land_csvs() -> dict[str, str]:
                """Extract movies, ratings, tags and links into one S3 folder each."""
                return land_movielens_zip(S3Hook(**aws), config)

            download_zip >> land_csvs()

        create_athena_tables = [
            AthenaOperator(
                task_id=task_id,
                query=sql.create_athena_table(config, table),
                execution_timeout=timedelta(minutes=10),
                **athena,
            )
            for task_id, table in (
                ("create_athena_movie_table", sql.MOVIES),
                ("create_athena_ratings_table", sql.RATINGS),
                ("create_athena_tags_table", sql.TAGS),
            )
        ]

        join_athena_tables = AthenaOperator(
            task_id="join_athena_tables",
            query=sql.join_high_ratings(config),
            execution_timeout=timedelta(minutes=20),
            **athena,
        )

        @task(task_id="clean_up_csv", execution_timeout=timedelta(minutes=15))
        def clean_up_csv(query_execution_id: str) -> dict[str, Any]:
            """Validate the join result and write the extract that COPY loads."""
            source_uri = AthenaHook(**aws).get_output_location(query_execution_id)
            summary = clean_high_ratings(
                S3Hook(**aws),
                source_uri=source_uri,
                bucket=config.data_bucket,
                key=config.curated_key,
            )
            return summary.as_dict()

        create_redshift_table_if_not_exists = RedshiftDataOperator(
            task_id="create_redshift_table_if_not_exists",
            sql=sql.create_redshift_table(config),
            statement_name=f"{DAG_ID}.create_table",
            execution_timeout=timedelta(minutes=10),
            **redshift,
        )

        transfer_to_redshift = RedshiftDataOperator(
            task_id="transfer_to_redshift",
            # A list runs as one Data API batch, i.e. one transaction: DELETE then COPY.
            sql=sql.replace_high_ratings(config),
            statement_name=f"{DAG_ID}.load",
            execution_timeout=timedelta(minutes=20),
            **redshift,
        )

        cleaned = clean_up_csv(join_athena_tables.output)
        check_source_available >> files_to_s3 >> create_athena_tables
        create_athena_tables >> join_athena_tables
        cleaned >> transfer_to_redshift
        files_to_s3 >> create_redshift_table_if_not_exists >> transfer_to_redshift
    return dag


def build_unconfigured_dag(reason: str) -> DAG:
    """A paused stand-in that says why the DAG cannot run, instead of an import error."""
    with DAG(
        dag_id=UNCONFIGURED_DAG_ID,
        description="Not configured: see the DAG docs",
        doc_md=(
            "### movie-list-dag is not configured\n\n"
            f"```\n{reason}\n```\n\n"
            f"The DAG reads its settings from `{CONFIG_FILE_NAME}` in the DAG folder, written "
            "by the sample data plane (profile setting `sample_data`). Once it is deployed, "
            f"`{DAG_ID}` replaces this stand-in and runs on its schedule."
        ),
        schedule=None,
        start_date=START_DATE,
        catchup=False,
        is_paused_upon_creation=True,
        tags=[*TAGS, "not-configured"],
    ) as dag:

        @task(task_id="check_configuration", retries=0)
        def check_configuration() -> None:
            raise AirflowFailException(f"movie-list-dag is not configured: {reason}")

        check_configuration()
    return dag


try:
    CONFIG: MovieListConfig | None = load_config(CONFIG_PATH)
    CONFIG_ERROR: str | None = None
except MovieListConfigError as error:
    CONFIG, CONFIG_ERROR = None, str(error)
    log.warning("movie-list-dag is not configured: %s", CONFIG_ERROR)

dag = build_dag(CONFIG) if CONFIG is not None else build_unconfigured_dag(str(CONFIG_ERROR))
