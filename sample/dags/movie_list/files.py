"""Bodies of the two Python tasks: land the MovieLens CSVs, and clean the Athena result.

Both take an ``S3Hook`` so that tests can run them against a mocked S3. Both validate their
whole input before the first write and then write each object with a single PUT, so a failed
or repeated run never leaves a half-written table folder or extract behind.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from movie_list.config import MovieListConfig
from movie_list.sql import (
    ATHENA_TABLES,
    HIGH_RATINGS_COLUMNS,
    LINKS_FILE_HEADER,
    MIN_RATING_EXCLUSIVE,
)

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

log = logging.getLogger(__name__)

EXPECTED_HEADERS: Mapping[str, tuple[str, ...]] = {
    **{table.file_name: table.source_header for table in ATHENA_TABLES},
    "links.csv": LINKS_FILE_HEADER,
}
REQUIRED_FILES = frozenset(table.file_name for table in ATHENA_TABLES)
MAX_TITLE_BYTES = 1024
"""Matches ``VARCHAR(1024)`` of the Redshift table (Redshift counts bytes, not characters)."""


class SourceFormatError(ValueError):
    """The downloaded archive does not look like a MovieLens release."""


def _download(s3_hook: S3Hook, bucket: str, key: str, target: Path) -> Path:
    """Stream an object to ``target``, closed and complete when this returns."""
    # S3Hook.download_file leaves its file object open, so its content may not be flushed yet.
    with open(target, "wb") as handle:
        s3_hook.get_key(key, bucket).download_fileobj(handle)
    return target


# ---- landing -----------------------------------------------------------------------------


def find_csv_members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Map each expected CSV file name to its entry, wherever it sits in the archive.

    Raises:
        SourceFormatError: a required file is missing, appears twice, or has another header.
    """
    found: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = PurePosixPath(info.filename).name
        if info.is_dir() or name not in EXPECTED_HEADERS:
            continue
        if name in found:
            raise SourceFormatError(
                f"{name} appears twice in the archive: {found[name].filename}, {info.filename}"
            )
        found[name] = info
    missing = sorted(REQUIRED_FILES - set(found))
    if missing:
        raise SourceFormatError(
            f"the archive lacks {', '.join(missing)}; it holds "
            f"{', '.join(sorted(i.filename for i in archive.infolist())) or 'nothing'}"
        )
    for name, info in found.items():
        header = _read_header(archive, info)
        if header != EXPECTED_HEADERS[name]:
            raise SourceFormatError(
                f"{info.filename} has header {','.join(header)}, expected {','.join(EXPECTED_HEADERS[name])}"
            )
    return found


def _read_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, ...]:
    with archive.open(info) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        return tuple(next(csv.reader(text), []))


def land_movielens_zip(s3_hook: S3Hook, config: MovieListConfig) -> dict[str, str]:
    """Extract the CSVs of the downloaded zip into one S3 folder per table.

    ``movies.csv`` goes to ``{data_prefix}ml-latest-small/movies/movies.csv`` and so on: each
    Athena table's ``LOCATION`` then holds exactly one file. Anything else in a table folder
    (an older layout, a stray copy) is deleted after the new file is in place, so Athena never
    reads a file twice and the folder is never empty.

    Returns:
        Table name to S3 key of every landed file.
    """
    bucket = config.data_bucket
    with tempfile.TemporaryDirectory(prefix="movie_list_") as workdir:
        local_zip = _download(s3_hook, bucket, config.raw_zip_key, Path(workdir, "source.zip"))
        with zipfile.ZipFile(local_zip) as archive:
            corrupt = archive.testzip()
            if corrupt is not None:
                raise SourceFormatError(f"{corrupt} in {config.raw_zip_key} fails its CRC check")
            members = find_csv_members(archive)
            landed: dict[str, str] = {}
            for file_name, info in sorted(members.items()):
                table = file_name.removesuffix(".csv")
                key = config.table_key(table)
                with archive.open(info) as stream:
                    s3_hook.load_file_obj(stream, key=key, bucket_name=bucket, replace=True)
                stale = [
                    k
                    for k in s3_hook.list_keys(bucket_name=bucket, prefix=config.table_prefix(table))
                    if k != key
                ]
                if stale:
                    log.info("Removing %d stale object(s) next to %s: %s", len(stale), key, stale)
                    s3_hook.delete_objects(bucket=bucket, keys=stale)
                landed[table] = key
                log.info("Landed %s (%d bytes) at s3://%s/%s", info.filename, info.file_size, bucket, key)
    return landed


# ---- cleaning ----------------------------------------------------------------------------


@dataclass
class CleanSummary:
    """Counts of what :func:`clean_rows` kept and why it dropped the rest."""

    rows_read: int = 0
    rows_written: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def clean_rows(rows: Iterable[list[str]], summary: CleanSummary) -> Iterator[tuple[int, int, str, str]]:
    """Validate and normalise the join result, one output row per (user, movie).

    The first row must be the header ``user_id,movie_id,title,rating``. Titles are trimmed;
    ratings are written with one decimal (``4.5``, ``5.0``). Rows without a title, with an id or
    rating that is missing or not a number, a rating outside (4, 5] or off the half-star grid, a
    title too long for the Redshift column, or a repeated (user, movie) pair are dropped and
    counted.

    Raises:
        ValueError: the header is not the expected one (the query and this code disagree).
    """
    iterator = iter(rows)
    header = tuple(next(iterator, ()))
    if header != HIGH_RATINGS_COLUMNS:
        raise ValueError(
            f"Athena result header is {','.join(header) or '(empty)'}, "
            f"expected {','.join(HIGH_RATINGS_COLUMNS)}"
        )
    seen: set[tuple[int, int]] = set()
    for row in iterator:
        summary.rows_read += 1
        if len(row) != len(HIGH_RATINGS_COLUMNS):
            summary.drop("wrong_field_count")
            continue
        user_text, movie_text, title, rating_text = row
        title = title.strip()
        if not title:
            summary.drop("empty_title")
            continue
        if len(title.encode("utf-8")) > MAX_TITLE_BYTES:
            summary.drop("title_too_long")
            continue
        try:
            user_id, movie_id = int(user_text), int(movie_text)
            rating = Decimal(rating_text.strip())
        except (ValueError, InvalidOperation):
            summary.drop("not_a_number")
            continue
        if not rating.is_finite():
            summary.drop("not_a_number")
            continue
        if not (MIN_RATING_EXCLUSIVE < rating <= 5) or (rating * 2) % 1 != 0:
            summary.drop("rating_out_of_range")
            continue
        if (user_id, movie_id) in seen:
            summary.drop("duplicate")
            continue
        seen.add((user_id, movie_id))
        summary.rows_written += 1
        yield user_id, movie_id, title, f"{rating:.1f}"


def clean_high_ratings(s3_hook: S3Hook, *, source_uri: str, bucket: str, key: str) -> CleanSummary:
    """Clean the Athena result at ``source_uri`` into ``s3://{bucket}/{key}`` for COPY.

    The extract is written in full to a local file first and uploaded with one PUT that
    replaces the previous run's extract.

    Raises:
        ValueError: no row survived cleaning. Loading an empty extract would empty the Redshift
            table, so the run stops here instead.
    """
    source_bucket, source_key = s3_hook.parse_s3_url(source_uri)
    summary = CleanSummary()
    with tempfile.TemporaryDirectory(prefix="movie_list_") as workdir:
        local_source = _download(s3_hook, source_bucket, source_key, Path(workdir, "result.csv"))
        local_clean = Path(workdir, "high_ratings.csv")
        with (
            open(local_source, encoding="utf-8", newline="") as source,
            open(local_clean, "w", encoding="utf-8", newline="") as target,
        ):
            writer = csv.writer(target, lineterminator="\n")
            writer.writerow(HIGH_RATINGS_COLUMNS)
            writer.writerows(clean_rows(csv.reader(source), summary))
        if summary.rows_written == 0:
            raise ValueError(
                f"no usable row in {source_uri} ({summary.rows_read} read, dropped "
                f"{summary.dropped or 'none'}); not replacing the extract"
            )
        s3_hook.load_file(str(local_clean), key=key, bucket_name=bucket, replace=True)
    log.info(
        "Wrote %d of %d rows to s3://%s/%s; dropped %s",
        summary.rows_written,
        summary.rows_read,
        bucket,
        key,
        summary.dropped or "none",
    )
    return summary
