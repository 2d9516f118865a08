"""The ``backup`` and ``restore`` commands of ``mwaa-ops`` (registered by :mod:`mwaa_ops.cli`).

This module does not import :mod:`mwaa_ops.cli` at load time (that module imports this one);
the command handlers take its ``Context`` and return its ``Result``.
"""

from __future__ import annotations

import argparse
import os
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mwaa_ops.dr import archive
from mwaa_ops.dr.backup import BackupOptions, backup, list_secrets_backend
from mwaa_ops.dr.client import AirflowClient
from mwaa_ops.dr.restore import SECTION_ORDER, RestoreOptions, RestoreReport, restore
from mwaa_ops.dr.transport import RestApiTransport, Transport, UrlTransport, WebLoginTransport
from mwaa_ops.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from mwaa_ops.cli import Context, Result

TOKEN_ENV = "AIRFLOW_API_TOKEN"
PASSWORD_ENV = "AIRFLOW_PASSWORD"

TRANSPORT_HELP = f"""\
transports:
  rest-api   (default) MWAA's InvokeRestApi: IAM credentials only; paths of at most 64 characters,
             6 MB answers, about 10 requests a second (paced and retried). XComs of most runs
             are out of its reach (their paths are longer).
  web-login  an MWAA web-login session (airflow:CreateWebLoginToken): the web server's own
             /api/v2, without InvokeRestApi's limits; needs a route to the web server.
  --url URL  a plain Airflow (no AWS call): the token from {TOKEN_ENV}, or --username NAME with
             the password in {PASSWORD_ENV}. --environment names it in the archive (default: the
             URL's host and port).
"""


class _UrlAction(argparse.Action):
    """``--url`` also names the environment (unless ``--environment`` does), so that no AWS
    lookup runs for a plain Airflow."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        url = str(values).rstrip("/")
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            parser.error(f"--url: got {values!r}; expected http(s)://HOST[:PORT]")
        setattr(namespace, self.dest, url)
        if getattr(namespace, "environment", None) is None:
            namespace.environment = parsed.netloc.replace(":", "-")


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"got {text!r}; expected an ISO 8601 time such as 2026-11-01T00:00:00Z"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"got {text}; expected a number of seconds above 0")
    return value


def add_parsers(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Add ``backup`` and ``restore`` through the CLI's ``command(name, help)`` factory."""
    backup_parser = command(
        "backup",
        "back up pools, variables, connections (without secrets), DAG pause states, DAG runs with "
        "their task states and optionally XComs into one archive",
    )
    backup_parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        metavar="FILE",
        help="archive to write (.json or .json.gz)",
    )
    backup_parser.add_argument(
        "--since", type=_timestamp, metavar="TIME", help="only runs whose run_after is at or after TIME"
    )
    backup_parser.add_argument(
        "--until",
        type=_timestamp,
        metavar="TIME",
        help="only runs whose run_after is before TIME (default: now)",
    )
    backup_parser.add_argument("--xcom", action="store_true", help="also back up the runs' XComs")
    _transport_options(backup_parser)

    restore_parser = command(
        "restore",
        "restore an archive without re-running anything: pools, variables, connections, DAG runs and "
        "task states, then the pause states",
    )
    restore_parser.add_argument("archive", type=Path, metavar="ARCHIVE")
    restore_parser.add_argument("--dry-run", action="store_true", help="print the plan; write nothing")
    restore_parser.add_argument(
        "--allow-gaps",
        action="store_true",
        help="restore even if catchup would run the intervals between the newest restored run and now",
    )
    restore_parser.add_argument(
        "--keep-paused", action="store_true", help="leave every restored DAG paused (unpause them yourself)"
    )
    restore_parser.add_argument(
        "--parse-timeout",
        type=_positive,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the DAG processor before unpausing a DAG (default: 300)",
    )
    _transport_options(restore_parser)


def _transport_options(parser: argparse.ArgumentParser) -> None:
    parser.epilog = TRANSPORT_HELP + "\n" + (parser.epilog or "")
    group = parser.add_argument_group("transport")
    group.add_argument(
        "--transport",
        choices=["rest-api", "web-login"],
        default="rest-api",
        help="for MWAA (default: rest-api)",
    )
    group.add_argument("--url", action=_UrlAction, metavar="URL", help="a plain Airflow instead of MWAA")
    group.add_argument(
        "--username", metavar="NAME", help=f"with --url: log in (password from {PASSWORD_ENV})"
    )


def make_transport(ctx: Context) -> Transport:
    args, runtime = ctx.args, ctx.runtime
    url = getattr(args, "url", None)
    if url:
        if args.username:
            password = os.environ.get(PASSWORD_ENV)
            if not password:
                raise UsageError(f"--username {args.username}: set the password in {PASSWORD_ENV}")
            return UrlTransport.with_password(url, args.username, password, backoff=runtime.backoff)
        token = os.environ.get(TOKEN_ENV)
        if not token:
            raise UsageError(f"--url {url}: set a token in {TOKEN_ENV}, or pass --username NAME")
        return UrlTransport.with_token(url, token, backoff=runtime.backoff)
    if args.username:
        raise UsageError("--username applies to --url only; MWAA transports use AWS credentials")
    name = ctx.target.environment_name
    if args.transport == "web-login":
        return WebLoginTransport(ctx.clients, name, backoff=runtime.backoff)
    return RestApiTransport(
        ctx.clients, name, backoff=runtime.backoff, clock=runtime.clock, sleep=runtime.sleep
    )


def cmd_backup(ctx: Context) -> Result:
    from mwaa_ops.cli import Result

    args = ctx.args
    if args.since and args.until and args.since >= args.until:
        raise UsageError(f"--since {args.since.isoformat()} is not before --until {args.until.isoformat()}")
    transport = make_transport(ctx)
    client = AirflowClient(transport, progress=ctx.progress)
    name = ctx.target.environment_name
    secrets = None if transport.name == "url" else list_secrets_backend(ctx.clients, name)
    data = backup(
        client,
        environment={"name": name, **transport.describe()},
        options=BackupOptions(since=args.since, until=args.until, xcom=args.xcom),
        created_at=ctx.runtime.now(),
        secrets=secrets,
        progress=ctx.progress,
    )
    size = archive.write(data, args.output)
    counts = {section: body["count"] for section, body in data["sections"].items()}
    lines = [f"{'SECTION':<12} ITEMS"] + [f"{section:<12} {count}" for section, count in counts.items()]
    lines += [f"note: {note}" for note in data["notes"]]
    lines.append(f"wrote {args.output} ({size} bytes, Airflow {data['airflow_version']}, {name})")
    summary = {
        "archive": str(args.output),
        "bytes": size,
        "created_at": data["created_at"],
        "airflow_version": data["airflow_version"],
        "environment": data["environment"],
        "window": data["window"],
        "sections": {s: {"count": b["count"], "sha256": b["sha256"]} for s, b in data["sections"].items()},
        "notes": data["notes"],
    }
    return Result(text="\n".join(lines), data=summary)


def cmd_restore(ctx: Context) -> Result:
    from mwaa_ops.cli import Result

    args = ctx.args
    source = archive.read(args.archive)
    client = AirflowClient(make_transport(ctx), progress=ctx.progress)
    report = restore(
        client,
        source,
        options=RestoreOptions(
            dry_run=args.dry_run,
            allow_gaps=args.allow_gaps,
            keep_paused=args.keep_paused,
            parse_timeout=args.parse_timeout,
        ),
        now=ctx.runtime.now,
        sleep=ctx.runtime.sleep,
        clock=ctx.runtime.clock,
        progress=ctx.progress,
    )
    text = render_report(
        report, source=str(args.archive), archive_=source, target=ctx.target.environment_name
    )
    return Result(
        text=text,
        data={"archive": str(args.archive), "environment": ctx.target.environment_name, **report.to_json()},
        exit_code=ExitCode.OK if report.ok else ExitCode.FAILED,
    )


def render_report(report: RestoreReport, *, source: str, archive_: archive.Archive, target: str) -> str:
    """The report for people: one row per section, then skips grouped by reason, gaps, errors."""
    origin = archive_.environment.get("name", "?")
    head = "plan" if report.dry_run else "restore"
    lines = [
        f"{head} of {source} (created {archive_.created_at}, from {origin}, Airflow "
        f"{archive_.airflow_version}) into {target}"
        + (": dry run, nothing written" if report.dry_run else "")
    ]
    rows = [["SECTION", "CREATED", "UPDATED", "UNCHANGED", "SKIPPED", "ERRORS"]]
    for name in SECTION_ORDER:
        s = report.sections[name]
        rows.append(
            [name, str(s.created), str(s.updated), str(s.unchanged), str(len(s.skipped)), str(len(s.errors))]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    skipped = [(name, s) for name, s in report.sections.items() if s.skipped]
    if skipped:
        lines.append("skipped:")
        for name, s in skipped:
            by_reason: dict[str, list[str]] = {}
            for entry in s.skipped:
                by_reason.setdefault(entry["reason"], []).append(entry["item"])
            for reason, items in by_reason.items():
                shown = ", ".join(items[:3]) + (f", ... ({len(items)} in all)" if len(items) > 3 else "")
                lines.append(f"  {name}: {shown}: {reason}")
    if report.gaps:
        lines.append("gaps (intervals catchup would run at unpause):")
        for gap in report.gaps:
            count = gap["intervals"] if gap["intervals"] is not None else "many"
            span = f" to {gap['last']}" if gap.get("last") else " on"
            lines.append(f"  {gap['dag_id']}: {count} intervals from {gap['first']}{span}")
    lines += [f"note: {note}" for note in report.notes]
    lines += [f"error: {error}" for error in report.errors]
    if report.refused:
        lines.append(f"refused: {report.refused}")
    elif not report.dry_run:
        lines.append(
            f"{report.writes} writes" + ("" if report.ok else "; errors above: restore again to resume")
        )
    return "\n".join(lines)
