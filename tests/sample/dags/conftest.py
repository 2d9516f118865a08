"""Shared set-up of the DAG tests.

Airflow reads its configuration when it is first imported, so the environment is prepared at
import time of this file, before any test module of this folder imports Airflow. Only
``AIRFLOW_*`` variables (read by nothing else) and two ``sys.path`` entries (the DAG folder and
this folder, for uniquely named modules) are set process-wide; AWS credentials, connections
and the network guard are set per test and undone afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_HERE = Path(__file__).resolve().parent
_DAGS_FOLDER = _HERE.parents[2] / "sample" / "dags"

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="movie-list-airflow-home-")
os.environ.update(
    {
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(_DAGS_FOLDER),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
)
# Airflow 3 puts the DAG bundle root on sys.path before parsing; do the same. The shared
# module of these tests is importable whatever pytest's import mode.
for _path in (_DAGS_FOLDER, _HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from movie_list_testing import (  # noqa: E402 - needs the path above
    DATA_BUCKET,
    FULL_CONFIG,
    REGION,
    RESULTS_BUCKET,
    SOURCE_HOST,
    build_movielens_zip,
    make_dag_folder,
)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and connections, and no network: nothing reaches AWS or the internet.

    moto and ``responses`` answer in-process; any request they do not intercept fails at once.
    """

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a test tried to open a network connection: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "extra": {"region_name": REGION}}),
    )
    # The connection the secrets backend serves on MWAA (test_movie_list_environment checks it).
    monkeypatch.setenv(
        "AIRFLOW_CONN_MOVIELENS_HTTP",
        json.dumps({"conn_type": "http", "host": SOURCE_HOST, "schema": "https"}),
    )


@pytest.fixture(scope="session")
def movielens_zip() -> bytes:
    return build_movielens_zip()


@pytest.fixture(scope="session")
def configured_dagbag(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from airflow.models.dagbag import DagBag

    folder = make_dag_folder(tmp_path_factory.mktemp("configured"), FULL_CONFIG)
    return DagBag(dag_folder=str(folder), include_examples=False, safe_mode=True)


@pytest.fixture(scope="session")
def configured_dag(configured_dagbag: Any) -> Any:
    return configured_dagbag.dags["movie-list-dag"]


@pytest.fixture
def s3_bucket() -> Iterator[Any]:
    """A mocked S3 (and Athena) with the data bucket created; yields a boto3 S3 client."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        for bucket in (DATA_BUCKET, RESULTS_BUCKET):
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client
