"""The configuration loader: defaults, validation messages and the derived S3 layout."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from movie_list.config import (
    CONFIG_FILE_NAME,
    DEFAULT_SOURCE_URL,
    MovieListConfig,
    MovieListConfigError,
    load_config,
)
from movie_list_testing import FULL_CONFIG, REPO_ROOT

DOC = REPO_ROOT / "sample" / "README.md"


def write_config(tmp_path: Path, content: dict[str, Any] | str) -> Path:
    path = tmp_path / CONFIG_FILE_NAME
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_minimal_file_takes_every_documented_default(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, {"data_bucket": "my-data"}))

    assert dataclasses.asdict(config) == {
        "data_bucket": "my-data",
        "data_prefix": "movielens/",
        "source_url": "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
        "http_conn_id": "movielens_http",
        "aws_conn_id": "aws_default",
        "athena_database": "movielens",
        "athena_workgroup": "primary",
        "athena_output_location": "",
        "redshift_workgroup": "movielens",
        "redshift_database": "dev",
        "redshift_schema": "public",
        "redshift_table": "movie_demo",
        "redshift_secret_arn": "",
        "redshift_copy_role_arn": "",
        "schedule": "@daily",
    }


def documented_keys() -> dict[str, str]:
    """Key -> default cell of the configuration table in sample/README.md."""
    section = DOC.read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1].split("\n## ")[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]*) \|", section, flags=re.MULTILINE)
    return {key: default.strip() for key, default in rows}


def test_documentation_lists_every_key_with_its_default() -> None:
    documented = documented_keys()
    fields = {f.name: f for f in dataclasses.fields(MovieListConfig)}

    assert set(documented) == set(fields)
    for name, field in fields.items():
        if field.default is dataclasses.MISSING:
            assert documented[name] == "required", name
        elif field.default is None:
            assert documented[name] == "`null`", name
        elif field.default == "":
            assert documented[name].startswith("empty"), name
        else:
            assert documented[name] == f"`{field.default}`", name


def test_full_file_round_trips(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, FULL_CONFIG))

    assert dataclasses.asdict(config) == FULL_CONFIG


def test_missing_file_says_which_file_and_why(tmp_path: Path) -> None:
    with pytest.raises(MovieListConfigError, match=f"{CONFIG_FILE_NAME} was not found"):
        load_config(tmp_path / CONFIG_FILE_NAME)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('["data_bucket"]', "must hold a JSON object, got list"),
        ({}, "required key data_bucket is missing"),
        (
            {"data_bucket": "b-1", "redshift_cluster": "x", "dbuser": "awsuser"},
            r"unknown key\(s\) dbuser, redshift_cluster; allowed keys are: athena_database",
        ),
        ({"data_bucket": "b-1", "redshift_table": 7}, r"redshift_table: got 7 \(int\)"),
        ({"data_bucket": "b-1", "athena_database": None}, "expected a string$"),
    ],
)
def test_malformed_file_is_rejected_with_a_clear_message(
    tmp_path: Path, content: dict[str, Any] | str, message: str
) -> None:
    with pytest.raises(MovieListConfigError, match=message):
        load_config(write_config(tmp_path, content))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("data_bucket", "My_Bucket"),
        ("data_bucket", "s3://my-bucket"),
        ("data_prefix", "/"),
        ("data_prefix", "a b/"),
        ("source_url", "ftp://files.grouplens.org/ml-latest-small.zip"),
        ("source_url", "https://files.grouplens.org/datasets/movielens/"),
        ("http_conn_id", "has space"),
        ("athena_database", "Demo-DB"),
        ("athena_workgroup", "work group"),
        ("athena_output_location", "my-bucket/results/"),
        ("redshift_workgroup", "WG"),
        ("redshift_database", "dev; drop table x"),
        ("redshift_schema", "Public"),
        ("redshift_table", "movie-demo"),
        ("redshift_secret_arn", "my-secret"),
        ("redshift_copy_role_arn", "arn:aws:iam::163919838948:user/someone"),
        ("schedule", "every ten minutes"),
        ("schedule", "*/10 * * *"),
        ("schedule", "61 * * * *"),
    ],
)
def test_invalid_value_names_field_value_and_expectation(key: str, value: str) -> None:
    with pytest.raises(MovieListConfigError) as raised:
        MovieListConfig(**{"data_bucket": "my-data", key: value})

    assert f"{key}: got {value!r}, expected " in str(raised.value)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(MovieListConfigError) as raised:
        MovieListConfig(data_bucket="BAD", redshift_table="Bad-Table")

    assert "data_bucket: got 'BAD'" in str(raised.value)
    assert "redshift_table: got 'Bad-Table'" in str(raised.value)


@pytest.mark.parametrize("schedule", [None, "@weekly", "*/10 * * * *", "0 3 * * MON"])
def test_schedule_accepts_null_presets_and_cron(schedule: str | None) -> None:
    assert MovieListConfig(data_bucket="my-data", schedule=schedule).schedule == schedule


@pytest.mark.parametrize(
    ("prefix", "normalised"),
    [("movielens/", "movielens/"), ("movielens", "movielens/"), ("/team/ml/", "team/ml/")],
)
def test_prefix_is_normalised_to_one_trailing_slash(prefix: str, normalised: str) -> None:
    assert MovieListConfig(data_bucket="my-data", data_prefix=prefix).data_prefix == normalised


def test_s3_layout_is_derived_from_bucket_prefix_and_source() -> None:
    config = MovieListConfig(data_bucket="my-data", data_prefix="team/ml")

    assert config.raw_zip_key == "team/ml/raw/ml-latest-small.zip"
    assert config.table_prefix("movies") == "team/ml/ml-latest-small/movies/"
    assert config.table_key("ratings") == "team/ml/ml-latest-small/ratings/ratings.csv"
    assert config.curated_key == "team/ml/curated/high_ratings/high_ratings.csv"
    assert config.athena_output_uri == "s3://my-data/team/ml/athena-results/"
    explicit = dataclasses.replace(config, athena_output_location="s3://results/athena/")
    assert explicit.athena_output_uri == "s3://results/athena/"


def test_source_url_splits_into_connection_host_and_endpoint() -> None:
    config = MovieListConfig(data_bucket="my-data")

    assert config.source_url == DEFAULT_SOURCE_URL
    assert config.source_host == "files.grouplens.org"
    assert config.source_endpoint == "/datasets/movielens/ml-latest-small.zip"
    other = MovieListConfig(data_bucket="my-data", source_url="https://Mirror.example.com/ml/ml-25m.zip?x=1")
    assert (other.source_host, other.source_endpoint) == ("mirror.example.com", "/ml/ml-25m.zip?x=1")
    assert other.dataset_prefix == "movielens/ml-25m/"


def test_copy_role_defaults_to_the_namespace_default_role() -> None:
    assert MovieListConfig(data_bucket="b-1").redshift_iam_role_clause == "IAM_ROLE default"
    role = "arn:aws:iam::111122223333:role/movie-list-copy"
    configured = MovieListConfig(data_bucket="b-1", redshift_copy_role_arn=role)
    assert configured.redshift_iam_role_clause == f"IAM_ROLE '{role}'"


def test_config_is_immutable() -> None:
    config = MovieListConfig(data_bucket="my-data")

    with pytest.raises(dataclasses.FrozenInstanceError):
        config.data_bucket = "other"  # type: ignore[misc]
