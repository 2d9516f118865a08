"""What the DAG expects from its MWAA environment is what the repository deploys with it."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

from airflow.models.connection import Connection
from movie_list.config import DEFAULT_SOURCE_URL, MovieListConfig

ROOT = Path(__file__).resolve().parents[3]


def _exported(script: Path) -> dict[str, str]:
    exports = {}
    for line in script.read_text().splitlines():
        match = re.match(r"^export ([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if match:
            (value,) = shlex.split(match.group(2))
            exports[match.group(1)] = value
    return exports


def test_startup_script_defines_the_http_connection_the_dag_uses() -> None:
    conn_id = MovieListConfig(data_bucket="bucket-1").http_conn_id
    exports = _exported(ROOT / "runtime" / "startup.sh")
    value = exports[f"AIRFLOW_CONN_{conn_id.upper()}"]
    connection = Connection.from_json(value, conn_id=conn_id)
    source = urlsplit(DEFAULT_SOURCE_URL)
    assert connection.conn_type == "http"
    assert (connection.schema, connection.host) == (source.scheme, source.netloc)
    assert json.loads(value)["host"] == source.netloc


def test_requirements_add_nothing_beyond_the_image() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "runtime" / "mwaa-requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines == [
        '--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-3.0.6/constraints-3.12.txt"'
    ]
