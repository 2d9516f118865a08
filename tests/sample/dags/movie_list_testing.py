"""Constants and functions shared by the DAG tests (fixtures are in conftest)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
DAGS_FOLDER = REPO_ROOT / "sample" / "dags"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MOVIELENS_FIXTURE = FIXTURES / "ml-latest-small"

DATA_BUCKET = "movie-list-test-data"
RESULTS_BUCKET = "movie-list-test-results"
REGION = "eu-west-1"
SOURCE_HOST = "files.grouplens.org"
SOURCE_URL = f"https://{SOURCE_HOST}/datasets/movielens/ml-latest-small.zip"

FULL_CONFIG: dict[str, Any] = {
    "data_bucket": DATA_BUCKET,
    "data_prefix": "movielens/",
    "source_url": SOURCE_URL,
    "http_conn_id": "movielens_http",
    "aws_conn_id": "aws_default",
    "athena_database": "movielens_test",
    "athena_workgroup": "movie-list-wg",
    "athena_output_location": f"s3://{RESULTS_BUCKET}/athena/",
    "redshift_workgroup": "movie-list-rs",
    "redshift_database": "analytics",
    "redshift_schema": "demo",
    "redshift_table": "high_ratings",
    "redshift_secret_arn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:movie-list-admin-AbCdEf",
    "redshift_copy_role_arn": "arn:aws:iam::111122223333:role/movie-list-copy",
    "schedule": "@daily",
}


def build_movielens_zip(files: dict[str, bytes] | None = None, *, folder: str = "ml-latest-small") -> bytes:
    """A zip shaped like ``ml-latest-small.zip``: one folder with the CSVs and a README."""
    if files is None:
        files = {path.name: path.read_bytes() for path in sorted(MOVIELENS_FIXTURE.iterdir())}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{folder}/", b"")
        for name, content in files.items():
            archive.writestr(f"{folder}/{name}", content)
    return buffer.getvalue()


def make_dag_folder(root: Path, config: dict[str, Any] | str | None) -> Path:
    """Copy of the sample's DAG folder as the deployment ships it, with ``config`` as its JSON
    file next to the DAG file.

    ``None`` leaves the file out; a ``str`` is written verbatim (to test broken files).
    """
    folder = root / "dags"
    shutil.copytree(
        DAGS_FOLDER,
        folder,
        ignore=shutil.ignore_patterns("__pycache__", "movie_list_config.json"),
    )
    if config is not None:
        text = config if isinstance(config, str) else json.dumps(config, indent=2)
        (folder / "movie_list" / "movie_list_config.json").write_text(text, encoding="utf-8")
    return folder


def list_keys(client: Any, bucket: str = DATA_BUCKET, prefix: str = "") -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


# ---- a reference reader of the Athena table definitions ----------------------------------

# Types Athena's OpenCSVSerDe converts from text (others are read as strings or fail).
OPEN_CSV_SERDE_CASTS: dict[str, Callable[[str], Any]] = {
    "string": str,
    "int": int,
    "bigint": int,
    "double": float,
    "boolean": lambda text: {"true": True, "false": False}[text.lower()],
}


@dataclass(frozen=True)
class ParsedTable:
    database: str
    name: str
    columns: list[tuple[str, str]]
    serde: str
    serde_properties: dict[str, str]
    location: str
    table_properties: dict[str, str]

    def dialect(self) -> dict[str, Any]:
        """Python csv settings equivalent to the serde properties."""
        return {
            "delimiter": self.serde_properties["separatorChar"],
            "quotechar": self.serde_properties["quoteChar"],
            "escapechar": self.serde_properties["escapeChar"],
            "doublequote": True,  # opencsv reads "" inside quotes as one quote
            "strict": True,
        }


def _hive_string(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal)


def _properties(block: str) -> dict[str, str]:
    pairs = re.findall(r"'((?:[^'\\]|\\.)*)'\s*=\s*'((?:[^'\\]|\\.)*)'", block)
    return {_hive_string(key): _hive_string(value) for key, value in pairs}


def parse_create_table(ddl: str) -> ParsedTable:
    """Read back the parts of a Hive CREATE EXTERNAL TABLE that decide how rows are read."""
    header = re.match(r"CREATE EXTERNAL TABLE IF NOT EXISTS `(\w+)`\.`(\w+)` \((.*?)\n\)\n", ddl, re.DOTALL)
    assert header, ddl
    columns = re.findall(r"^\s*`(\w+)` (\w+),?$", header.group(3), re.MULTILINE)
    serde = re.search(r"ROW FORMAT SERDE '([\w.]+)'", ddl)
    serde_block = re.search(r"WITH SERDEPROPERTIES \((.*?)\n\)", ddl, re.DOTALL)
    location = re.search(r"LOCATION '([^']+)'", ddl)
    table_block = re.search(r"TBLPROPERTIES \((.*?)\)$", ddl, re.DOTALL)
    assert serde and serde_block and location and table_block, ddl
    return ParsedTable(
        database=header.group(1),
        name=header.group(2),
        columns=[(name, type_.lower()) for name, type_ in columns],
        serde=serde.group(1),
        serde_properties=_properties(serde_block.group(1)),
        location=location.group(1),
        table_properties=_properties(table_block.group(1)),
    )


def read_as_athena(table: ParsedTable, path: Path) -> list[tuple[Any, ...]]:
    """Rows of ``path`` as the table definition makes Athena read them, cast to column types."""
    return read_text_as_athena(table, path.read_text(encoding="utf-8"), path.name)


def read_text_as_athena(table: ParsedTable, content: str, source: str) -> list[tuple[Any, ...]]:
    """Same as :func:`read_as_athena` for the content of one file."""
    rows = list(csv.reader(io.StringIO(content, newline=""), **table.dialect()))
    skipped = int(table.table_properties.get("skip.header.line.count", "0"))
    typed = []
    for number, row in enumerate(rows[skipped:], start=skipped + 1):
        assert len(row) == len(table.columns), f"{source}:{number} has {len(row)} fields"
        values = []
        for (name, type_), text in zip(table.columns, row, strict=True):
            assert "\n" not in text, f"{source}:{number} {name}: OpenCSVSerDe splits lines"
            if type_ != "string":
                assert text != "", f"{source}:{number} {name}: empty {type_} is a HIVE_BAD_DATA"
            values.append(OPEN_CSV_SERDE_CASTS[type_](text))
        typed.append(tuple(values))
    return typed
