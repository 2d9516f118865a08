"""Every SQL statement, checked against MovieLens-shaped fixture rows.

Athena and Redshift cannot run here, so the Athena DDL is read back by a small reference
parser: the serde and its separator/quote/escape characters drive Python's ``csv`` module over
the fixture files, and every row must yield the declared column count and castable values. The
join runs on SQLite over those typed rows; the Redshift table DDL runs on SQLite as well.
"""

from __future__ import annotations

import sqlite3

import pytest
from movie_list import sql
from movie_list.config import MovieListConfig
from movie_list_testing import (
    FULL_CONFIG,
    MOVIELENS_FIXTURE,
    OPEN_CSV_SERDE_CASTS,
    ParsedTable,
    parse_create_table,
    read_as_athena,
)

CONFIG = MovieListConfig(**FULL_CONFIG)
DEFAULT_ROLE_CONFIG = MovieListConfig(data_bucket="my-data")


def ddl_of(table: sql.AthenaTable) -> ParsedTable:
    return parse_create_table(sql.create_athena_table(CONFIG, table))


# ---- Athena table definitions ------------------------------------------------------------


@pytest.mark.parametrize("table", sql.ATHENA_TABLES, ids=lambda t: t.name)
def test_table_uses_open_csv_serde_over_its_own_folder(table: sql.AthenaTable) -> None:
    parsed = ddl_of(table)

    assert (parsed.database, parsed.name) == ("movielens_test", table.name)
    assert parsed.serde == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert parsed.serde_properties == {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"}
    assert parsed.table_properties == {"skip.header.line.count": "1"}
    assert parsed.location == f"s3://{CONFIG.data_bucket}/{CONFIG.table_prefix(table.name)}"
    assert parsed.location.endswith(f"/ml-latest-small/{table.name}/")
    assert {type_ for _, type_ in parsed.columns} <= set(OPEN_CSV_SERDE_CASTS)
    assert len(parsed.columns) == len(table.source_header)


def test_column_types_fit_movielens() -> None:
    assert ddl_of(sql.MOVIES).columns == [
        ("movie_id", "int"),
        ("title", "string"),
        ("genres", "string"),
    ]
    assert ddl_of(sql.RATINGS).columns == [
        ("user_id", "int"),
        ("movie_id", "int"),
        ("rating", "double"),
        ("rated_at", "bigint"),
    ]
    assert ddl_of(sql.TAGS).columns == [
        ("user_id", "int"),
        ("movie_id", "int"),
        ("tag", "string"),
        ("tagged_at", "bigint"),
    ]


def test_fixture_holds_the_cases_the_original_dag_got_wrong() -> None:
    """Guard against a fixture that would let the table tests pass vacuously."""
    movies = (MOVIELENS_FIXTURE / "movies.csv").read_text(encoding="utf-8").splitlines()[1:]
    tags = (MOVIELENS_FIXTURE / "tags.csv").read_text(encoding="utf-8").splitlines()[1:]
    ratings = (MOVIELENS_FIXTURE / "ratings.csv").read_text(encoding="utf-8").splitlines()[1:]

    # LazySimpleSerDe splits on every comma: quoted titles break into extra columns.
    assert any(len(line.split(",")) != 3 for line in movies)
    assert any('""' in line for line in movies)  # quotes inside a quoted title
    assert any(not line.split(",")[2].strip('"').isdigit() for line in tags)  # text tags
    assert any(len(line.split(",")) != 4 for line in tags)  # a tag with a comma
    assert {line.split(",")[2] for line in ratings} >= {"0.5", "3.5", "4.5"}  # half stars


@pytest.mark.parametrize("table", sql.ATHENA_TABLES, ids=lambda t: t.name)
def test_every_fixture_row_reads_into_the_declared_columns(table: sql.AthenaTable) -> None:
    rows = read_as_athena(ddl_of(table), MOVIELENS_FIXTURE / table.file_name)

    assert rows
    with open(MOVIELENS_FIXTURE / table.file_name, encoding="utf-8") as handle:
        assert len(rows) == sum(1 for _ in handle) - 1


def test_quoted_titles_half_stars_and_text_tags_survive() -> None:
    movies = {row[0]: row[1] for row in read_as_athena(ddl_of(sql.MOVIES), MOVIELENS_FIXTURE / "movies.csv")}
    ratings = read_as_athena(ddl_of(sql.RATINGS), MOVIELENS_FIXTURE / "ratings.csv")
    tags = read_as_athena(ddl_of(sql.TAGS), MOVIELENS_FIXTURE / "tags.csv")

    assert movies[11] == "American President, The (1995)"  # no REPLACE(title, '"', '') needed
    assert movies[7065] == '"Great Performances" Cats (1998)'
    assert movies[4973] == "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)"
    assert {rating for _, _, rating, _ in ratings} >= {0.5, 3.5, 4.5, 5.0}
    assert (2, 4973, "quirky, romantic", 1445715051) in tags
    assert (4, 7065, '"cats" musical', 986935300) in tags


# ---- the join ----------------------------------------------------------------------------


def athena_on_sqlite() -> sqlite3.Connection:
    """SQLite with the fixture tables, under the Athena database name the query uses."""
    connection = sqlite3.connect(":memory:")
    connection.execute(f"ATTACH DATABASE ':memory:' AS {CONFIG.athena_database}")
    sqlite_types = {"string": "TEXT", "int": "INTEGER", "bigint": "INTEGER", "double": "REAL"}
    for table in sql.ATHENA_TABLES:
        parsed = ddl_of(table)
        columns = ", ".join(f"{name} {sqlite_types[type_]}" for name, type_ in parsed.columns)
        connection.execute(f"CREATE TABLE {parsed.database}.{parsed.name} ({columns})")
        rows = read_as_athena(parsed, MOVIELENS_FIXTURE / table.file_name)
        marks = ", ".join("?" for _ in parsed.columns)
        connection.executemany(f"INSERT INTO {parsed.database}.{parsed.name} VALUES ({marks})", rows)
    return connection


EXPECTED_HIGH_RATINGS = [
    (1, 11, "American President, The (1995)", 4.5),
    (1, 260, "Star Wars: Episode IV - A New Hope (1977)", 5.0),
    (2, 4973, "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", 4.5),
    (2, 7065, '"Great Performances" Cats (1998)', 5.0),
    (3, 99999, "Good, the Bad and the Ugly, The (1966)", 4.5),
    (4, 1, "Toy Story (1995)", 5.0),
]


def test_join_keeps_ratings_above_four_with_their_titles() -> None:
    cursor = athena_on_sqlite().execute(sql.join_high_ratings(CONFIG))

    assert tuple(d[0] for d in cursor.description) == sql.HIGH_RATINGS_COLUMNS
    rows = cursor.fetchall()
    assert rows == EXPECTED_HIGH_RATINGS
    # 4.0 is not above 4; a rating of an unknown movie has no title to join.
    assert (1, 1, "Toy Story (1995)", 4.0) not in rows
    assert all(movie_id != 31337 for _, movie_id, _, _ in rows)


def test_join_names_the_configured_database() -> None:
    query = sql.join_high_ratings(CONFIG)

    assert '"movielens_test"."ratings"' in query and '"movielens_test"."movies"' in query
    assert "REPLACE" not in query.upper()


# ---- Redshift ----------------------------------------------------------------------------


def test_redshift_table_matches_the_extract_columns() -> None:
    ddl = sql.create_redshift_table(CONFIG)
    connection = sqlite3.connect(":memory:")
    connection.execute("ATTACH DATABASE ':memory:' AS demo")
    connection.execute(ddl)
    columns = connection.execute("PRAGMA demo.table_info(high_ratings)").fetchall()

    assert ddl.startswith("CREATE TABLE IF NOT EXISTS demo.high_ratings (")
    assert tuple(c[1] for c in columns) == sql.HIGH_RATINGS_COLUMNS
    assert [c[2] for c in columns] == ["INTEGER", "INTEGER", "VARCHAR(1024)", "DECIMAL(2, 1)"]
    assert all(c[3] == 1 for c in columns)  # NOT NULL
    connection.execute(ddl)  # IF NOT EXISTS: running it again is harmless


def test_copy_statement_is_built_from_configuration() -> None:
    assert sql.copy_high_ratings(CONFIG) == (
        "COPY demo.high_ratings (user_id, movie_id, title, rating)\n"
        "FROM 's3://movie-list-test-data/movielens/curated/high_ratings/high_ratings.csv'\n"
        "IAM_ROLE 'arn:aws:iam::111122223333:role/movie-list-copy'\n"
        "FORMAT AS CSV\n"
        "IGNOREHEADER 1\n"
        "ENCODING UTF8"
    )
    assert sql.copy_high_ratings(DEFAULT_ROLE_CONFIG) == (
        "COPY public.movie_demo (user_id, movie_id, title, rating)\n"
        "FROM 's3://my-data/movielens/curated/high_ratings/high_ratings.csv'\n"
        "IAM_ROLE default\n"
        "FORMAT AS CSV\n"
        "IGNOREHEADER 1\n"
        "ENCODING UTF8"
    )


def test_load_replaces_rows_in_one_transaction_without_credentials_in_sql() -> None:
    statements = sql.replace_high_ratings(CONFIG)

    assert statements == ["DELETE FROM demo.high_ratings", sql.copy_high_ratings(CONFIG)]
    text = "\n".join(statements).upper()
    # TRUNCATE would commit on its own; credentials never belong in SQL text.
    for forbidden in ("TRUNCATE", "CREDENTIALS", "ACCESS_KEY", "SECRET", "BEGIN", "COMMIT"):
        assert forbidden not in text
