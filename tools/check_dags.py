"""Import every DAG folder a profile deploys on the test Airflow, as MWAA's DAG processor would.

    python -m tools.check_dags                    # every profile of cdk.json
    python -m tools.check_dags --profile dev
    python -m tools.check_dags --folder path/to/dags --timeout 30 [--json]

Fails (exit 1), naming the file, the line where the traceback points into it and the error,
for an import or syntax error, a cycle, a duplicate DAG id, an invalid schedule such as the cron
``0 25 * * *`` (Airflow's DagBag reports each of them per file) or a file whose import takes
longer than the import timeout (``core.dagbag_import_timeout`` of the profile, else Airflow's
30 s). Prints the parse time of every file. ``make deploy`` runs it for the profiles it deploys
before any stack changes. Runs in a process of its own: Airflow reads its configuration once,
at import, and every folder is parsed with a fresh module cache.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tools.dag_folders import DEFAULT_IMPORT_TIMEOUT_SECONDS, DagTree, dag_tree, shipped_profiles


@dataclass
class FileReport:
    file: str
    seconds: float
    dags: list[str]


@dataclass
class FolderReport:
    name: str
    timeout: float
    files: list[FileReport] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    # File -> the line of the error in that file, where the traceback points into it.
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _configure_airflow(home: Path) -> None:
    """Settings Airflow reads at import: a throw-away home and database, no examples."""
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
        }
    )


def check_folder(name: str, folder: Path, timeout: float, tree: DagTree | None = None) -> FolderReport:
    """Parse ``folder`` with Airflow's DagBag; ``tree`` maps its files back to the repository."""
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3.3 and later
    except ImportError:
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]  # the same class before 3.3

    def shown(path: str) -> str:
        return (
            tree.source_of(folder, path)
            if tree
            else Path(path).resolve().relative_to(folder.resolve()).as_posix()
        )

    os.environ["AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT"] = str(timeout)
    # Airflow puts the DAG folder on sys.path before parsing it: support modules import so.
    sys.path.insert(0, str(folder))
    try:
        # Examples are off through AIRFLOW__CORE__LOAD_EXAMPLES (newer DagBags take no argument).
        bag = DagBag(dag_folder=str(folder), safe_mode=True)
    finally:
        sys.path.remove(str(folder))
        # The next folder may hold other modules of the same names.
        inside = str(folder.resolve())
        for module_name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", None) or "").startswith(inside):
                del sys.modules[module_name]
    report = FolderReport(name=name, timeout=timeout)
    for stat in sorted(bag.dagbag_stats, key=lambda s: s.file):
        seconds = stat.duration.total_seconds()
        dags = sorted(stat.dags.strip("[]").replace("'", "").split(", ")) if stat.dags.strip("[]") else []
        file = shown(
            os.path.join(folder, stat.file.lstrip("/")) if not os.path.isabs(stat.file) else stat.file
        )
        report.files.append(FileReport(file=file, seconds=round(seconds, 3), dags=dags))
        if seconds > timeout:
            report.errors[file] = f"parsing took {seconds:.1f} s, over the import timeout of {timeout:g} s"
    for path, error in sorted(bag.import_errors.items()):
        report.errors[shown(path)] = one_line(error)
        line = line_in(error, path)
        if line is not None:
            report.lines[shown(path)] = line
    return report


def line_in(error: str, path: str) -> int | None:
    """The line of ``path`` that the traceback ``error`` names last (where a syntax error is,
    or the import that failed), if it names the file at all."""
    lines = re.findall(rf'File "{re.escape(path)}", line (\d+)', error)
    return int(lines[-1]) if lines else None


def one_line(error: str) -> str:
    """The line of an import error that says what went wrong: the exception of a traceback,
    else the first line (DagBag's own messages come first, followed by advice)."""
    lines = [line for line in error.strip().splitlines() if line.strip()] or ["import error"]
    if not lines[0].startswith("Traceback"):
        return lines[0].strip()
    # The exception line ("Module.Error: message"); its message may go on over more lines.
    raised = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*: ", line)]
    return (raised or lines)[-1].strip()


def _warm_up(folder: Path) -> None:
    """Parse one trivial DAG first, so that the one-off import of Airflow's own modules is not
    counted against the first file of a real folder."""
    folder.mkdir(parents=True)
    (folder / "warm_up_dag.py").write_text(
        "from airflow.sdk import dag, task\n"
        "@dag(schedule=None)\n"
        "def warm_up():\n"
        "    @task\n"
        "    def one():\n"
        "        pass\n"
        "    one()\n"
        "warm_up()\n"
    )
    check_folder("warm-up", folder, DEFAULT_IMPORT_TIMEOUT_SECONDS)


def _print(report: FolderReport) -> None:
    status = "ok" if report.ok else f"{len(report.errors)} problem(s)"
    files = len(report.files)
    print(f"{report.name}: {files} DAG file(s) parsed, import timeout {report.timeout:g} s: {status}")
    for file in report.files:
        print(f"  {file.seconds:7.3f} s  {file.file}  {', '.join(file.dags) or '(no DAG)'}")
    for failed, error in report.errors.items():
        line = f":{report.lines[failed]}" if failed in report.lines else ""
        print(f"  ERROR {failed}{line}: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", help="comma-separated profiles of cdk.json (default: all)")
    parser.add_argument(
        "--folder", action="append", type=Path, default=[], help="a DAG folder to check instead"
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_IMPORT_TIMEOUT_SECONDS, help="with --folder")
    parser.add_argument("--json", action="store_true", help="machine-readable report")
    args = parser.parse_args(argv)

    # Airflow logs to standard output; while parsing, that goes to standard error, so that
    # standard output holds the report alone.
    sys.stdout.flush()
    saved_stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        reports = _check(args)
    finally:
        sys.stdout.flush()
        os.dup2(saved_stdout, 1)
        os.close(saved_stdout)
    if args.json:
        payload: list[dict[str, Any]] = [asdict(r) | {"ok": r.ok} for r in reports]
        print(json.dumps(payload, indent=2))
    else:
        for report in reports:
            _print(report)
    return 0 if all(r.ok for r in reports) else 1


def _check(args: argparse.Namespace) -> list[FolderReport]:
    with tempfile.TemporaryDirectory(prefix="dag-check-") as scratch:
        _configure_airflow(Path(scratch) / "airflow-home")
        _warm_up(Path(scratch) / "warm-up")
        reports: list[FolderReport] = []
        if args.folder:
            for folder in args.folder:
                reports.append(check_folder(str(folder), folder, args.timeout))
        else:
            for profile in shipped_profiles(names=args.profile):
                tree = dag_tree(profile)
                folder = tree.materialize(Path(scratch) / "dags" / profile.name)
                reports.append(check_folder(f"profile {profile.name}", folder, tree.import_timeout, tree))
    return reports


if __name__ == "__main__":
    sys.exit(main())
