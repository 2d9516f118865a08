"""What the DAG expects from its MWAA environment is what the repository deploys with it."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

from airflow.models.connection import Connection
from movie_list.config import DEFAULT_SOURCE_URL, MovieListConfig
from movie_list_testing import REGION

ROOT = Path(__file__).resolve().parents[3]


def _exported(script: Path) -> dict[str, str]:
    exports = {}
    for line in script.read_text().splitlines():
        match = re.match(r"^export ([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if match:
            (value,) = shlex.split(match.group(2))
            exports[match.group(1)] = value
    return exports


def test_the_secrets_backend_serves_the_http_connection_the_dag_uses() -> None:
    """The connection secret the sample data plane deploys, read back the way MWAA's Airflow
    reads it: through the Secrets Manager backend under the default connections prefix."""
    import boto3
    from airflow.providers.amazon.aws.secrets.secrets_manager import SecretsManagerBackend
    from moto import mock_aws

    from sample.data_plane import MOVIELENS_HTTP_CONN_ID, MOVIELENS_HTTP_CONNECTION

    conn_id = MovieListConfig(data_bucket="bucket-1").http_conn_id
    assert conn_id == MOVIELENS_HTTP_CONN_ID
    with mock_aws():
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=f"airflow/connections/{conn_id}",
            SecretString=json.dumps(MOVIELENS_HTTP_CONNECTION, sort_keys=True),
        )
        backend = SecretsManagerBackend(
            connections_prefix="airflow/connections", variables_prefix="airflow/variables"
        )
        connection = backend.get_connection(conn_id)
    assert connection is not None
    source = urlsplit(DEFAULT_SOURCE_URL)
    assert connection.conn_type == "http"
    assert (connection.schema, connection.host) == (source.scheme, source.netloc)
    # The DAG tests stand the same connection in through an environment variable.
    stand_in = Connection.from_json(os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"], conn_id=conn_id)
    assert (stand_in.conn_type, stand_in.schema, stand_in.host) == ("http", source.scheme, source.netloc)


def test_the_startup_script_defines_no_connection() -> None:
    exports = _exported(ROOT / "runtime" / "startup.sh")
    assert not [name for name in exports if name.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))]


def test_requirements_add_nothing_beyond_the_image() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "runtime" / "mwaa-requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines == [
        '--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-3.3.1/constraints-3.12.txt"'
    ]
