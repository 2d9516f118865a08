"""Fixtures for a DAG folder's tests, offline: the set-up of the sample's DAG tests
(tests/sample/dags/conftest.py) for any DAG folder, with the folder's ``dag_test.json`` (the
settings ``make dag-test`` uses: tools.dag_folders) as connections, variables and S3 objects.

In the conftest.py of a folder of tests::

    DAGS = REPOSITORY / "teams" / "analytics" / "dags"
    configure_airflow(DAGS)  # before anything imports Airflow

    from tools.dag_testing import dag_bag, dag_test_settings, isolated_aws, s3  # noqa: E402,F401


    @pytest.fixture(scope="session")
    def dag_folder() -> Path:
        return DAGS

- ``dag_folder`` (defined by the conftest): the DAG folder under test.
- ``isolated_aws`` (automatic): fake AWS credentials, no config or credentials file, the
  settings' connections and variables (``AIRFLOW_CONN_*``, ``AIRFLOW_VAR_*``), and no network:
  a test that opens a connection fails at once. moto answers in-process.
- ``s3``: a boto3 S3 client in moto's ``mock_aws``, with the settings' buckets and objects.
- ``dag_bag``: the folder parsed by Airflow's DagBag, as MWAA's DAG processor would.
- ``dag_test_settings``: the settings themselves.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.dag_folders import SETTINGS_FILE, DagTestSettings, load_dag_test_settings

DEFAULT_REGION = "us-east-1"


def configure_airflow(dags_folder: Path) -> None:
    """Prepare the process for Airflow before it is imported (it reads its configuration once):
    a throw-away ``AIRFLOW_HOME`` and SQLite database, no examples, unit-test mode; and put
    ``dags_folder`` on ``sys.path``, as Airflow does before it parses a DAG folder. Settings
    another conftest made first are kept: one pytest process shares one Airflow."""
    folder = dags_folder.resolve()
    if "AIRFLOW_HOME" not in os.environ:
        home = tempfile.mkdtemp(prefix="dag-tests-airflow-home-")
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        os.environ.update(
            {
                "AIRFLOW_HOME": home,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            }
        )
    for key, value in {
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }.items():
        os.environ.setdefault(key, value)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


@pytest.fixture
def dag_test_settings(dag_folder: Path) -> DagTestSettings:
    """The ``dag_test.json`` beside the DAG folder (empty settings without one)."""
    return load_dag_test_settings(dag_folder.parent / SETTINGS_FILE)


@pytest.fixture(autouse=True)
def isolated_aws(monkeypatch: pytest.MonkeyPatch, dag_test_settings: DagTestSettings) -> None:
    """Fake credentials, the settings' connections and variables, and no network: nothing
    reaches AWS or the internet; moto answers in-process."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a test tried to open a network connection: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    region = _region(dag_test_settings)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    connections: dict[str, dict[str, object] | str] = {
        "aws_default": {"conn_type": "aws", "extra": {"region_name": region}}
    }
    settings = DagTestSettings(
        connections=connections | dag_test_settings.connections,
        variables=dag_test_settings.variables,
        s3={},
    )
    for name, value in settings.environ().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3(dag_test_settings: DagTestSettings) -> Iterator[Any]:
    """A mocked S3 holding the settings' buckets and objects; yields a boto3 S3 client."""
    import boto3
    from moto import mock_aws

    region = _region(dag_test_settings)
    with mock_aws():
        client = boto3.client("s3", region_name=region)
        dag_test_settings.create_s3_objects(client, region)
        yield client


@pytest.fixture(scope="module")
def dag_bag(dag_folder: Path) -> Any:
    """The DAG folder as Airflow parses it (``import_errors`` holds what MWAA would report)."""
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3.3 and later
    except ImportError:
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]  # the same class before 3.3

    return DagBag(dag_folder=str(dag_folder), safe_mode=True)


def _region(settings: DagTestSettings) -> str:
    """The region of the settings' ``aws_default`` connection, else us-east-1."""
    connection = settings.connections.get("aws_default")
    extra = connection.get("extra") if isinstance(connection, dict) else None
    region = extra.get("region_name") if isinstance(extra, dict) else None
    return region if isinstance(region, str) else DEFAULT_REGION
