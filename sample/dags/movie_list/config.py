"""Typed configuration of the ``movie-list-dag`` DAG.

The single source of configuration is ``movie_list_config.json``, a JSON object written by the
infrastructure at deploy time next to ``movie_list_dag.py``. Every key is documented on
:class:`MovieListConfig` and in ``sample/README.md``. Only ``data_bucket`` is required.

This module has no Airflow import so that it parses in milliseconds and can be unit tested on
its own.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CONFIG_FILE_NAME = "movie_list_config.json"
"""File name the DAG looks for in its own folder."""

DEFAULT_SOURCE_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"

SCHEDULE_PRESETS = frozenset({"@hourly", "@daily", "@weekly", "@monthly", "@yearly"})

_BUCKET_RE = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_SEGMENT_RE = re.compile(r"^[A-Za-z0-9!_.*'()=-]+$")
_CONN_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")
_ATHENA_DATABASE_RE = re.compile(r"^[a-z0-9_]{1,255}$")
_ATHENA_WORKGROUP_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_REDSHIFT_WORKGROUP_RE = re.compile(r"^[a-z0-9-]{3,64}$")
# Unquoted Redshift identifier, kept lower case so that it never needs quoting in SQL.
_REDSHIFT_IDENTIFIER_RE = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")
_SECRET_ARN_RE = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$")
_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_CRON_RE = re.compile(r"^\S+(\s+\S+){4}$")


class MovieListConfigError(ValueError):
    """The configuration file is missing or holds a value the DAG cannot use."""


@dataclass(frozen=True, kw_only=True)
class MovieListConfig:
    """Settings of the ``movie-list-dag`` DAG, one attribute per key of the JSON file.

    Attributes:
        data_bucket: S3 bucket that receives the MovieLens files, the Athena results and the
            cleaned extract. Required. Not the DAG bucket.
        data_prefix: key prefix for everything the DAG writes in ``data_bucket``.
            Default: ``movielens/``.
        source_url: the MovieLens zip to download. Its path is requested through the HTTP
            connection ``http_conn_id``, whose scheme and host must match this URL.
            Default: the ``ml-latest-small.zip`` URL on files.grouplens.org.
        http_conn_id: Airflow HTTP connection to the MovieLens host. Default: ``movielens_http``.
        aws_conn_id: Airflow AWS connection used by every AWS call. Default: ``aws_default``
            (on MWAA: the environment's execution role).
        athena_database: Glue/Athena database that holds the three tables; it must exist.
            Default: ``movielens``.
        athena_workgroup: Athena workgroup the queries run in. Default: ``primary``.
        athena_output_location: ``s3://`` URI for Athena query results. Default: empty, meaning
            ``s3://{data_bucket}/{data_prefix}athena-results/``. A workgroup that enforces its
            own result location overrides it.
        redshift_workgroup: Redshift Serverless workgroup reached through the Redshift Data API.
            Default: ``movielens``.
        redshift_database: database in that workgroup. Default: ``dev``.
        redshift_schema: schema of the target table. Default: ``public``.
        redshift_table: target table. Default: ``movie_demo``.
        redshift_secret_arn: Secrets Manager secret with database credentials for the Data API.
            Default: empty, meaning the Data API authenticates with the caller's IAM identity.
        redshift_copy_role_arn: IAM role Redshift assumes to read the extract during COPY.
            Default: empty, meaning ``IAM_ROLE default`` (the namespace's default role).
        schedule: cron expression or preset (``@daily`` ...) of the DAG, or ``null`` for manual
            runs only. Default: ``@daily``.
    """

    data_bucket: str
    data_prefix: str = "movielens/"
    source_url: str = DEFAULT_SOURCE_URL
    http_conn_id: str = "movielens_http"
    aws_conn_id: str = "aws_default"
    athena_database: str = "movielens"
    athena_workgroup: str = "primary"
    athena_output_location: str = ""
    redshift_workgroup: str = "movielens"
    redshift_database: str = "dev"
    redshift_schema: str = "public"
    redshift_table: str = "movie_demo"
    redshift_secret_arn: str = ""
    redshift_copy_role_arn: str = ""
    schedule: str | None = "@daily"

    def __post_init__(self) -> None:
        # A prefix always ends with exactly one "/" so that keys can be joined without care.
        object.__setattr__(self, "data_prefix", self.data_prefix.strip("/") + "/")
        problems = list(_validate(self))
        if problems:
            raise MovieListConfigError(
                "invalid movie-list-dag configuration:\n  - " + "\n  - ".join(problems)
            )

    # ---- S3 layout, derived in one place -------------------------------------------------

    @property
    def raw_zip_key(self) -> str:
        """Key of the downloaded zip, overwritten by every run."""
        return f"{self.data_prefix}raw/{self.source_file_name}"

    @property
    def dataset_prefix(self) -> str:
        """Prefix under which each CSV gets its own table folder."""
        return f"{self.data_prefix}{self.source_file_name.removesuffix('.zip')}/"

    def table_prefix(self, table: str) -> str:
        """Folder of one table: the Athena ``LOCATION`` holds exactly one CSV."""
        return f"{self.dataset_prefix}{table}/"

    def table_key(self, table: str) -> str:
        return f"{self.table_prefix(table)}{table}.csv"

    @property
    def curated_key(self) -> str:
        """Key of the cleaned extract that COPY loads, overwritten by every run."""
        return f"{self.data_prefix}curated/high_ratings/high_ratings.csv"

    @property
    def athena_output_uri(self) -> str:
        return self.athena_output_location or f"s3://{self.data_bucket}/{self.data_prefix}athena-results/"

    # ---- source --------------------------------------------------------------------------

    @property
    def source_endpoint(self) -> str:
        """Path (and query) of ``source_url``, requested through ``http_conn_id``."""
        parts = urlsplit(self.source_url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @property
    def source_host(self) -> str:
        return urlsplit(self.source_url).netloc.lower()

    @property
    def source_file_name(self) -> str:
        return urlsplit(self.source_url).path.rsplit("/", 1)[-1]

    # ---- Redshift ------------------------------------------------------------------------

    @property
    def redshift_qualified_table(self) -> str:
        return f"{self.redshift_schema}.{self.redshift_table}"

    @property
    def redshift_iam_role_clause(self) -> str:
        """The ``IAM_ROLE`` clause of COPY."""
        if self.redshift_copy_role_arn:
            return f"IAM_ROLE '{self.redshift_copy_role_arn}'"
        return "IAM_ROLE default"

    # ---- loading -------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MovieListConfig:
        """Build from parsed JSON, rejecting unknown keys and values of the wrong JSON type."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise MovieListConfigError(
                f"unknown key(s) {', '.join(unknown)}; allowed keys are: {', '.join(sorted(known))}"
            )
        if "data_bucket" not in data:
            raise MovieListConfigError("required key data_bucket is missing")
        for name, value in data.items():
            nullable = name == "schedule"
            if not (isinstance(value, str) or (nullable and value is None)):
                expected = "a string or null" if nullable else "a string"
                raise MovieListConfigError(
                    f"{name}: got {value!r} ({type(value).__name__}), expected {expected}"
                )
        return cls(**data)


def load_config(path: Path) -> MovieListConfig:
    """Read and validate the configuration file at ``path``.

    Raises:
        MovieListConfigError: the file is missing, is not a JSON object, or holds an unknown
            key or an invalid value. The message says which and why.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MovieListConfigError(
            f"configuration file {path.name} was not found next to the DAG file. The "
            "infrastructure deployment writes it into the DAG folder; until it exists the DAG "
            "does not know its data bucket, Athena database or Redshift workgroup."
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise MovieListConfigError(f"{path.name} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise MovieListConfigError(f"{path.name} must hold a JSON object, got {type(data).__name__}")
    try:
        return MovieListConfig.from_mapping(data)
    except MovieListConfigError as error:
        raise MovieListConfigError(f"{path.name}: {error}") from None


def _validate(config: MovieListConfig) -> list[str]:
    problems: list[str] = []

    def check(name: str, ok: bool, expected: str) -> None:
        if not ok:
            problems.append(f"{name}: got {getattr(config, name)!r}, expected {expected}")

    check(
        "data_bucket",
        bool(_BUCKET_RE.match(config.data_bucket)),
        "an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)",
    )
    segments = config.data_prefix.rstrip("/").split("/")
    check(
        "data_prefix",
        config.data_prefix != "/" and all(_PREFIX_SEGMENT_RE.match(s) for s in segments),
        "a non-empty key prefix such as 'movielens/' (letters, digits and !_.*'()=- between '/')",
    )
    source = urlsplit(config.source_url)
    check(
        "source_url",
        source.scheme in {"http", "https"} and bool(source.netloc) and source.path.endswith(".zip"),
        "an http(s) URL of a .zip file",
    )
    for name in ("http_conn_id", "aws_conn_id"):
        check(name, bool(_CONN_ID_RE.match(getattr(config, name))), "an Airflow connection id")
    check(
        "athena_database",
        bool(_ATHENA_DATABASE_RE.match(config.athena_database)),
        "a Glue database name (lowercase letters, digits and underscores)",
    )
    check(
        "athena_workgroup",
        bool(_ATHENA_WORKGROUP_RE.match(config.athena_workgroup)),
        "an Athena workgroup name (letters, digits, '.', '_' and '-', up to 128)",
    )
    check(
        "athena_output_location",
        config.athena_output_location == ""
        or (
            config.athena_output_location.startswith("s3://")
            and len(config.athena_output_location) > len("s3://")
        ),
        "empty or an s3:// URI",
    )
    check(
        "redshift_workgroup",
        bool(_REDSHIFT_WORKGROUP_RE.match(config.redshift_workgroup)),
        "a Redshift Serverless workgroup name (3-64 lowercase letters, digits and hyphens)",
    )
    for name in ("redshift_database", "redshift_schema", "redshift_table"):
        check(
            name,
            bool(_REDSHIFT_IDENTIFIER_RE.match(getattr(config, name))),
            "a lowercase Redshift identifier (letter or underscore, then letters, digits, '_')",
        )
    check(
        "redshift_secret_arn",
        config.redshift_secret_arn == "" or bool(_SECRET_ARN_RE.match(config.redshift_secret_arn)),
        "empty or a Secrets Manager secret ARN",
    )
    check(
        "redshift_copy_role_arn",
        config.redshift_copy_role_arn == "" or bool(_ROLE_ARN_RE.match(config.redshift_copy_role_arn)),
        "empty (IAM_ROLE default) or an IAM role ARN",
    )
    check(
        "schedule",
        config.schedule is None or config.schedule in SCHEDULE_PRESETS or _is_cron(config.schedule),
        f"null, one of {', '.join(sorted(SCHEDULE_PRESETS))} or a five-field cron expression",
    )
    return problems


def _is_cron(expression: str) -> bool:
    # croniter ships with Airflow; imported here so that the rest of the module stays light.
    from croniter import croniter

    return bool(_CRON_RE.match(expression)) and bool(croniter.is_valid(expression))
