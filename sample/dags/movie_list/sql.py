"""Every SQL statement of ``movie-list-dag``, built from :class:`MovieListConfig`.

Athena (Trino) statements use Hive DDL for the tables and ANSI double-quoted identifiers in the
query; Redshift statements only use identifiers the configuration loader has already checked
to be plain lowercase names, so nothing here needs quoting beyond literals.
"""

from __future__ import annotations

from dataclasses import dataclass

from movie_list.config import MovieListConfig

OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
CSV_SEPARATOR = ","
CSV_QUOTE = '"'
CSV_ESCAPE = "\\"


@dataclass(frozen=True, kw_only=True)
class AthenaTable:
    """One MovieLens CSV exposed as an Athena table.

    ``source_header`` is the header line MovieLens ships; the landing step refuses a file whose
    header differs, because OpenCSVSerde maps columns by position, not by name.
    """

    name: str
    source_header: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"


MOVIES = AthenaTable(
    name="movies",
    source_header=("movieId", "title", "genres"),
    columns=(("movie_id", "int"), ("title", "string"), ("genres", "string")),
)
RATINGS = AthenaTable(
    name="ratings",
    source_header=("userId", "movieId", "rating", "timestamp"),
    # Ratings are half stars from 0.5 to 5.0: an int column would truncate or reject them.
    columns=(("user_id", "int"), ("movie_id", "int"), ("rating", "double"), ("rated_at", "bigint")),
)
TAGS = AthenaTable(
    name="tags",
    source_header=("userId", "movieId", "tag", "timestamp"),
    # Tags are free text.
    columns=(("user_id", "int"), ("movie_id", "int"), ("tag", "string"), ("tagged_at", "bigint")),
)
ATHENA_TABLES: tuple[AthenaTable, ...] = (MOVIES, RATINGS, TAGS)

LINKS_FILE_HEADER = ("movieId", "imdbId", "tmdbId")
"""``links.csv`` is landed with the others (as the original DAG did) but has no table."""

HIGH_RATINGS_COLUMNS: tuple[str, ...] = ("user_id", "movie_id", "title", "rating")
"""Columns of the join result, of the cleaned extract and of the Redshift table, in order."""

MIN_RATING_EXCLUSIVE = 4
"""The join keeps ratings strictly above this value, i.e. 4.5 and 5.0."""


def _hive_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def create_athena_table(config: MovieListConfig, table: AthenaTable) -> str:
    """``CREATE EXTERNAL TABLE IF NOT EXISTS`` over the table's own S3 folder.

    OpenCSVSerde honours quotes, so ``"American President, The (1995)"`` stays one field and
    no ``REPLACE(title, '"', '')`` is needed downstream.
    """
    columns = ",\n".join(f"  `{name}` {type_}" for name, type_ in table.columns)
    location = f"s3://{config.data_bucket}/{config.table_prefix(table.name)}"
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{config.athena_database}`.`{table.name}` (\n"
        f"{columns}\n"
        ")\n"
        f"ROW FORMAT SERDE '{OPEN_CSV_SERDE}'\n"
        "WITH SERDEPROPERTIES (\n"
        f"  'separatorChar' = {_hive_literal(CSV_SEPARATOR)},\n"
        f"  'quoteChar' = {_hive_literal(CSV_QUOTE)},\n"
        f"  'escapeChar' = {_hive_literal(CSV_ESCAPE)}\n"
        ")\n"
        "STORED AS TEXTFILE\n"
        f"LOCATION '{location}'\n"
        "TBLPROPERTIES ('skip.header.line.count' = '1')"
    )


def join_high_ratings(config: MovieListConfig) -> str:
    """Movies joined with their ratings above 4, one row per (user, movie)."""
    database = config.athena_database
    return (
        "SELECT r.user_id, r.movie_id, m.title, r.rating\n"
        f'FROM "{database}"."{RATINGS.name}" AS r\n'
        f'JOIN "{database}"."{MOVIES.name}" AS m ON m.movie_id = r.movie_id\n'
        f"WHERE r.rating > {MIN_RATING_EXCLUSIVE}\n"
        "ORDER BY r.user_id, r.movie_id"
    )


def create_redshift_table(config: MovieListConfig) -> str:
    """Target table; ``(user_id, movie_id)`` identifies a row, so duplicates are detectable."""
    return (
        f"CREATE TABLE IF NOT EXISTS {config.redshift_qualified_table} (\n"
        "    user_id INTEGER NOT NULL,\n"
        "    movie_id INTEGER NOT NULL,\n"
        "    title VARCHAR(1024) NOT NULL,\n"
        "    rating DECIMAL(2, 1) NOT NULL,\n"
        "    PRIMARY KEY (user_id, movie_id)\n"
        ")"
    )


def copy_high_ratings(config: MovieListConfig) -> str:
    """COPY of the cleaned extract, authorised by an IAM role rather than access keys."""
    return (
        f"COPY {config.redshift_qualified_table} ({', '.join(HIGH_RATINGS_COLUMNS)})\n"
        f"FROM 's3://{config.data_bucket}/{config.curated_key}'\n"
        f"{config.redshift_iam_role_clause}\n"
        "FORMAT AS CSV\n"
        "IGNOREHEADER 1\n"
        "ENCODING UTF8"
    )


def replace_high_ratings(config: MovieListConfig) -> list[str]:
    """Statements of the load, run as one Redshift Data API batch, i.e. one transaction.

    ``DELETE`` rather than ``TRUNCATE``: ``TRUNCATE`` commits immediately in Redshift, which
    would leave the table empty if the COPY failed. With the batch, a re-run or retry replaces
    the rows instead of appending a second copy.
    """
    return [f"DELETE FROM {config.redshift_qualified_table}", copy_high_ratings(config)]
