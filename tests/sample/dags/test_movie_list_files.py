"""The two Python task bodies against a mocked S3: landing the zip and cleaning the result."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from movie_list.config import MovieListConfig
from movie_list.files import (
    CleanSummary,
    SourceFormatError,
    clean_high_ratings,
    clean_rows,
    land_movielens_zip,
)
from movie_list_testing import (
    DATA_BUCKET,
    MOVIELENS_FIXTURE,
    build_movielens_zip,
    list_keys,
)

CONFIG = MovieListConfig(data_bucket=DATA_BUCKET)
TABLE_KEYS = {
    "links": "movielens/ml-latest-small/links/links.csv",
    "movies": "movielens/ml-latest-small/movies/movies.csv",
    "ratings": "movielens/ml-latest-small/ratings/ratings.csv",
    "tags": "movielens/ml-latest-small/tags/tags.csv",
}


def fixture_files() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(MOVIELENS_FIXTURE.iterdir())}


def put_zip(s3: Any, content: bytes) -> None:
    s3.put_object(Bucket=DATA_BUCKET, Key=CONFIG.raw_zip_key, Body=content)


def body(s3: Any, key: str, bucket: str = DATA_BUCKET) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


# ---- landing -----------------------------------------------------------------------------


def test_each_csv_lands_alone_in_its_table_folder(s3_bucket: Any, movielens_zip: bytes) -> None:
    put_zip(s3_bucket, movielens_zip)

    landed = land_movielens_zip(S3Hook(), CONFIG)

    assert landed == TABLE_KEYS
    assert list_keys(s3_bucket) == sorted([CONFIG.raw_zip_key, *TABLE_KEYS.values()])
    files = fixture_files()
    for table, key in TABLE_KEYS.items():
        assert body(s3_bucket, key) == files[f"{table}.csv"]  # byte for byte, quotes included


def test_landing_twice_leaves_the_same_objects(s3_bucket: Any, movielens_zip: bytes) -> None:
    put_zip(s3_bucket, movielens_zip)
    land_movielens_zip(S3Hook(), CONFIG)
    first = {key: body(s3_bucket, key) for key in list_keys(s3_bucket)}

    land_movielens_zip(S3Hook(), CONFIG)

    assert {key: body(s3_bucket, key) for key in list_keys(s3_bucket)} == first


def test_landing_removes_stale_files_from_table_folders(s3_bucket: Any, movielens_zip: bytes) -> None:
    put_zip(s3_bucket, movielens_zip)
    stale = [
        "movielens/ml-latest-small/ratings/ratings.csv/ml-latest-small/ratings.csv",
        "movielens/ml-latest-small/movies/old-copy.csv",
    ]
    unrelated = "movielens/other/keep-me.csv"
    for key in [*stale, unrelated]:
        s3_bucket.put_object(Bucket=DATA_BUCKET, Key=key, Body=b"x")

    land_movielens_zip(S3Hook(), CONFIG)

    keys = list_keys(s3_bucket)
    assert not set(stale) & set(keys)
    assert unrelated in keys


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda files: files.pop("ratings.csv"), "the archive lacks ratings.csv"),
        (
            lambda files: files.update({"tags.csv": b"userId,movieId,tag\n1,2,x\n"}),
            "tags.csv has header userId,movieId,tag, expected userId,movieId,tag,timestamp",
        ),
        (
            lambda files: files.update({"movies.csv": b"id,name,genres\n1,x,y\n"}),
            "movies.csv has header id,name,genres",
        ),
    ],
)
def test_unexpected_archive_fails_before_writing_anything(s3_bucket: Any, change: Any, message: str) -> None:
    files = fixture_files()
    change(files)
    put_zip(s3_bucket, build_movielens_zip(files))

    with pytest.raises(SourceFormatError, match=message):
        land_movielens_zip(S3Hook(), CONFIG)

    assert list_keys(s3_bucket) == [CONFIG.raw_zip_key]


def test_a_file_twice_in_the_archive_is_refused(s3_bucket: Any) -> None:
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in fixture_files().items():
            archive.writestr(f"ml-latest-small/{name}", content)
        archive.writestr("extra/movies.csv", fixture_files()["movies.csv"])
    put_zip(s3_bucket, buffer.getvalue())

    with pytest.raises(SourceFormatError, match=r"movies\.csv appears twice"):
        land_movielens_zip(S3Hook(), CONFIG)
    assert list_keys(s3_bucket) == [CONFIG.raw_zip_key]


# ---- cleaning ----------------------------------------------------------------------------

HEADER = ["user_id", "movie_id", "title", "rating"]


def run_clean(rows: list[list[str]]) -> tuple[list[tuple[int, int, str, str]], CleanSummary]:
    summary = CleanSummary()
    return list(clean_rows(rows, summary)), summary


def test_clean_rows_normalises_and_keeps_valid_rows() -> None:
    kept, summary = run_clean(
        [
            HEADER,
            ["1", "11", "  American President, The (1995) ", "4.5"],
            ["2", "7065", '"Great Performances" Cats (1998)', "5"],
        ]
    )

    assert kept == [
        (1, 11, "American President, The (1995)", "4.5"),
        (2, 7065, '"Great Performances" Cats (1998)', "5.0"),
    ]
    assert summary.as_dict() == {"rows_read": 2, "rows_written": 2, "dropped": {}}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["1", "2", "Title"], "wrong_field_count"),
        (["1", "2", "   ", "4.5"], "empty_title"),
        (["1", "2", "x" * 1025, "4.5"], "title_too_long"),
        (["1", "", "Title", "4.5"], "not_a_number"),
        (["1", "2", "Title", ""], "not_a_number"),
        (["1", "2", "Title", "NaN"], "not_a_number"),
        (["one", "2", "Title", "4.5"], "not_a_number"),
        (["1", "2", "Title", "4.0"], "rating_out_of_range"),
        (["1", "2", "Title", "5.5"], "rating_out_of_range"),
        (["1", "2", "Title", "4.7"], "rating_out_of_range"),
    ],
)
def test_clean_rows_drops_and_counts_bad_rows(row: list[str], reason: str) -> None:
    kept, summary = run_clean([HEADER, row, ["9", "9", "Kept (2000)", "4.5"]])

    assert kept == [(9, 9, "Kept (2000)", "4.5")]
    assert summary.dropped == {reason: 1}


def test_clean_rows_keeps_one_row_per_user_and_movie() -> None:
    kept, summary = run_clean([HEADER, ["1", "2", "A", "4.5"], ["1", "2", "A", "5.0"]])

    assert kept == [(1, 2, "A", "4.5")]
    assert summary.dropped == {"duplicate": 1}


def test_clean_rows_refuses_an_unexpected_header() -> None:
    with pytest.raises(ValueError, match="header is title,rating, expected user_id,movie_id"):
        run_clean([["title", "rating"], ["A", "4.5"]])


def athena_result(rows: list[tuple[Any, ...]]) -> bytes:
    """CSV as Athena writes it: header and every value in double quotes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_clean_writes_the_extract_copy_reads(s3_bucket: Any) -> None:
    source_key = "movielens/athena-results/abc.csv"
    s3_bucket.put_object(
        Bucket=DATA_BUCKET,
        Key=source_key,
        Body=athena_result(
            [
                (1, 11, "American President, The (1995)", "4.5"),
                (2, 7065, '"Great Performances" Cats (1998)', "5.0"),
                (3, 5, "", "5.0"),
            ]
        ),
    )

    summary = clean_high_ratings(
        S3Hook(),
        source_uri=f"s3://{DATA_BUCKET}/{source_key}",
        bucket=DATA_BUCKET,
        key=CONFIG.curated_key,
    )

    assert body(s3_bucket, CONFIG.curated_key).decode() == (
        "user_id,movie_id,title,rating\n"
        '1,11,"American President, The (1995)",4.5\n'
        '2,7065,"""Great Performances"" Cats (1998)",5.0\n'
    )
    assert summary.as_dict() == {"rows_read": 3, "rows_written": 2, "dropped": {"empty_title": 1}}


def test_clean_keeps_the_previous_extract_when_nothing_is_usable(s3_bucket: Any) -> None:
    s3_bucket.put_object(Bucket=DATA_BUCKET, Key=CONFIG.curated_key, Body=b"previous")
    s3_bucket.put_object(Bucket=DATA_BUCKET, Key="r/empty.csv", Body=athena_result([]))

    with pytest.raises(ValueError, match="no usable row"):
        clean_high_ratings(
            S3Hook(),
            source_uri=f"s3://{DATA_BUCKET}/r/empty.csv",
            bucket=DATA_BUCKET,
            key=CONFIG.curated_key,
        )
    assert body(s3_bucket, CONFIG.curated_key) == b"previous"
