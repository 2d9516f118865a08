"""``make dag-test DAG=<dag_id> [PROFILE=<profile>] [AWS=1] [TIMEOUT=<seconds>]``: run one DAG
locally, once, and print one line per task.

    python -m tools.dag_test DAG_ID [--profile NAME | --folder PATH] [--aws] [--timeout SECONDS]

What the run meets:
- The DAG folder the profile deploys (tools.dag_folders: with the files of the add-ons the
  profile enables), in a throw-away ``AIRFLOW_HOME`` with a SQLite database, deleted
  afterwards. Without ``--profile`` the first profile of cdk.json whose DAG files name the DAG.
- AWS: by default a local moto server, started for the run. Every AWS SDK call of the run goes
  to it (``AWS_ENDPOINT_URL``) with fake credentials, and the standard credential chain (named
  profiles, SSO, instance roles) is cut off, so nothing reaches an AWS account. ``--aws`` runs
  against real AWS with the credentials of the environment instead (the DAG then needs what
  the execution role would give it).
- Connections, variables and S3 objects from ``dag_test.json`` beside the DAG folder
  (``<dags>/../dag_test.json``; format in docs/teams.md). Its ``s3`` buckets are created in the
  moto server only, never with ``--aws``. Without an ``aws_default`` there, one for the
  profile's region is used.
- No retries and no retry delay; every task, sensors included, stops after ``--timeout``
  (default 300 s), and so does the whole run (with two more minutes for Airflow's start-up);
  sensors poke every 5 s at most.

Prints, per task: state, duration and the first line of its error; the run's full log is kept
in a file whose path is printed. Exit codes: 0 the run succeeded, 1 it failed, 2 a usage or
settings error, 3 the DAG was not found or its folder does not import, 4 the time limit ended
the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from platform_config import DEFAULT_PROFILE, Profile, ProfileError
from tools.dag_folders import (
    ROOT,
    SETTINGS_FILE,
    DagTestSettings,
    DagTree,
    SettingsFileError,
    dag_tree,
    load_dag_test_settings,
    settings_files,
    shipped_profiles,
)

DEFAULT_TIMEOUT_SECONDS = 300.0
SENSOR_POKE_SECONDS = 5.0
# A sensor's execution timeout comes this long after its own timeout: only a hung poke meets it.
HUNG_POKE_SECONDS = 60.0
# What the whole run may take beyond the time limit: Airflow's start-up (database, parsing, the
# in-process execution API), slow on a loaded machine.
STARTUP_SECONDS = 120.0
DEFAULT_REGION = "us-east-1"
# What the AWS SDKs read before they look for credentials, cut off for an offline run.
_AWS_CHAIN_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)
_OK, _FAILED, _USAGE, _NOT_FOUND, _TIME_LIMIT = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class TaskResult:
    """One task instance of the run, as the summary shows it."""

    task: str
    state: str
    seconds: float | None
    error: str | None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.dag_test",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dag_id", nargs="?", default="")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--profile", help="the cdk.json profile (not an AWS named profile) whose DAG folder is used"
    )
    where.add_argument("--folder", type=Path, help="a DAG folder to use as it is, instead of a profile's")
    parser.add_argument("--aws", action="store_true", help="call real AWS with the environment's credentials")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"seconds for the whole run and for each task (default {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument(
        "--log", type=Path, help="where to keep the run's full log (default: a temporary file)"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(json.loads(args.child.read_text()))
    if not args.dag_id:
        print("error: DAG: give a DAG id, e.g. make dag-test DAG=mwaa_platform_smoke", file=sys.stderr)
        return _USAGE
    if args.timeout <= 0:
        print(f"error: --timeout: got {args.timeout:g}; expected seconds above 0", file=sys.stderr)
        return _USAGE
    try:
        tree, settings, region, label = _resolve(args)
    except (SettingsFileError, LookupError, ProfileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return _USAGE
    log = (
        args.log
        or Path(tempfile.gettempdir()) / f"dag-test-{re.sub(r'[^A-Za-z0-9_.-]', '_', args.dag_id)}.log"
    )
    with tempfile.TemporaryDirectory(prefix="dag-test-") as scratch:
        return _run(args.dag_id, tree, settings, region, label, Path(scratch), log, args.aws, args.timeout)


def _resolve(args: argparse.Namespace) -> tuple[DagTree, DagTestSettings, str, str]:
    """The DAG tree, merged local settings, AWS region and a label for the run."""
    if args.folder is not None:
        folder = args.folder.resolve()
        if not folder.is_dir():
            raise LookupError(f"--folder: {args.folder} is not a folder")
        from mwaa_constructs.dag_files import list_dag_files

        files = {name: folder / name for name in list_dag_files(folder)}
        tree = DagTree(profile="", files=files, import_timeout=0)
        settings = load_dag_test_settings(folder.parent / SETTINGS_FILE)
        return tree, settings, os.environ.get("AWS_DEFAULT_REGION", DEFAULT_REGION), f"folder {args.folder}"
    if args.profile is not None:
        (profile,) = shipped_profiles(names=args.profile)
    else:
        profile = _profile_naming(args.dag_id)
    settings = DagTestSettings(connections={}, variables={}, s3={})
    for path in settings_files(profile):
        settings = settings.merged(load_dag_test_settings(path))
    region = profile.region or os.environ.get("AWS_DEFAULT_REGION", DEFAULT_REGION)
    return dag_tree(profile), settings, region, f"profile {profile.name}"


def _profile_naming(dag_id: str) -> Profile:
    """The first profile of cdk.json whose DAG files hold ``dag_id`` as a string literal, else
    the default profile (dev), whose run then says which DAGs it has."""
    literal = re.compile(rf"""["']{re.escape(dag_id)}["']""")
    profiles = shipped_profiles()
    for profile in profiles:
        for source in dag_tree(profile).files.values():
            if source.suffix == ".py" and literal.search(
                source.read_text(encoding="utf-8", errors="replace")
            ):
                return profile
    return next((p for p in profiles if p.name == DEFAULT_PROFILE), profiles[0])


def _run(
    dag_id: str,
    tree: DagTree,
    settings: DagTestSettings,
    region: str,
    label: str,
    scratch: Path,
    log: Path,
    real_aws: bool,
    limit: float,
) -> int:
    home = scratch / "airflow-home"
    home.mkdir()
    folder = tree.materialize(scratch / "dags")
    errors_file = scratch / "errors.jsonl"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    connections = dict(settings.connections)
    connections.setdefault("aws_default", {"conn_type": "aws", "extra": {"region_name": region}})
    env |= DagTestSettings(connections=connections, variables=settings.variables, s3={}).environ()
    server = None
    if real_aws:
        where = "real AWS (credentials from the environment)"
        if settings.s3:
            print("dag-test: --aws: the s3 objects of dag_test.json are not created", file=sys.stderr)
    else:
        server, endpoint = _start_moto(settings, region)
        env = {k: v for k, v in env.items() if k not in _AWS_CHAIN_VARIABLES} | _offline_aws(endpoint, region)
        where = f"offline: AWS calls go to a local moto server at {endpoint}"
    print(f"dag-test: {dag_id} ({label}; {where}; time limit {limit:g} s)", flush=True)
    message_file = scratch / "message.txt"
    spec = {
        "folder": str(folder),
        "dag_id": dag_id,
        "limit": limit,
        "errors_file": str(errors_file),
        "message_file": str(message_file),
    }
    (scratch / "spec.json").write_text(json.dumps(spec))
    command = [sys.executable, "-m", "tools.dag_test", "--child", str(scratch / "spec.json")]
    started = time.monotonic()
    timed_out = False
    try:
        with log.open("w", encoding="utf-8") as output:
            child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
            try:
                # Room for Airflow's own start-up (database, parsing) on top of the DAG's time.
                code = child.wait(timeout=limit + STARTUP_SECONDS)
            except subprocess.TimeoutExpired:
                timed_out = True
                child.kill()
                code = child.wait()
    finally:
        if server is not None:
            server.stop()
    elapsed = time.monotonic() - started
    if code == _NOT_FOUND and message_file.exists():
        print(message_file.read_text(encoding="utf-8").rstrip(), file=sys.stderr)
        return _NOT_FOUND
    results = _results(home / "airflow.db", dag_id, errors_file, tree, folder)
    _print(results, timed_out)
    state = _run_state(home / "airflow.db", dag_id)
    if timed_out:
        print(f"dag-test: {dag_id} stopped at the time limit of {limit:g} s; full log: {log}")
        return _TIME_LIMIT
    if not results and code != 0:
        print(_last_lines(log), file=sys.stderr)
    outcome = state if results else "no run"
    print(f"dag-test: {dag_id} finished: {outcome} in {elapsed:.0f} s; full log: {log}")
    return _OK if state == "success" and code == 0 else _FAILED


def _start_moto(settings: DagTestSettings, region: str) -> tuple[Any, str]:
    """A moto server on a free local port, with the settings' S3 objects in it."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    # The server's request log would interleave with the summary.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    settings.create_s3_objects(client, region)
    return server, endpoint


def _offline_aws(endpoint: str, region: str) -> dict[str, str]:
    """Environment of an offline run: every SDK client to ``endpoint``, fake keys, and no
    config or credentials file, nor instance metadata (the caller's other credential settings,
    :data:`_AWS_CHAIN_VARIABLES`, are removed)."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _results(database: Path, dag_id: str, errors_file: Path, tree: DagTree, folder: Path) -> list[TaskResult]:
    """Every task instance of the run from the throw-away database, in the order they ran."""
    errors: dict[str, dict[str, str]] = {}
    if errors_file.exists():
        for line in errors_file.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            errors[record["task"]] = record
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        try:
            rows = connection.execute(
                "SELECT task_id, map_index, state, start_date, end_date, duration FROM task_instance "
                "WHERE dag_id = ? ORDER BY start_date IS NULL, start_date, task_id, map_index",
                (dag_id,),
            ).fetchall()
        except sqlite3.Error:
            return []
    results = []
    for task_id, map_index, state, start, end, duration in rows:
        task = task_id if map_index is None or map_index < 0 else f"{task_id}[{map_index}]"
        seconds = duration
        if seconds is None and start is not None:
            seconds = (
                (_parse(end) if end else datetime.now(_parse(start).tzinfo)) - _parse(start)
            ).total_seconds()
        record = errors.get(task)
        error = None
        if record is not None:
            where = record.get("where")
            shown = tree.source_of(folder, str(folder / where.rsplit(":", 1)[0])) if where else None
            error = record["error"] + (f" ({shown}:{where.rsplit(':', 1)[1]})" if shown and where else "")
        results.append(TaskResult(task=task, state=state or "none", seconds=seconds, error=error))
    return results


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _run_state(database: Path, dag_id: str) -> str:
    """State of the run, read from the throw-away database."""
    if not database.exists():
        return "no run"
    with sqlite3.connect(database) as connection:
        try:
            row = connection.execute(
                "SELECT state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
            ).fetchone()
        except sqlite3.Error:
            return "no run"
    return str(row[0]) if row else "no run"


def _print(results: list[TaskResult], timed_out: bool) -> None:
    width = max([len(r.state) for r in results] + [7])
    for result in results:
        seconds = f"{result.seconds:7.1f} s" if result.seconds is not None else "      - "
        note = result.error or (
            "stopped at the time limit" if timed_out and result.state == "running" else ""
        )
        print(f"  {result.state:<{width}} {seconds}  {result.task}{'  ' + note if note else ''}")


def _last_lines(log: Path, count: int = 15) -> str:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    return "\n".join(lines[-count:])


# -- The run itself, in a process of its own: Airflow reads its settings at import --------------


def _child(spec: dict[str, Any]) -> int:
    """Parse the folder, take retries off and cap the time of every task, run the DAG once
    with ``DAG.test`` (tasks in this process, no scheduler); each task's error goes to the
    errors file as one line."""
    folder = Path(spec["folder"])
    limit = float(spec["limit"])
    from airflow.utils import db

    db.initdb()
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3.3 and later
    except ImportError:
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]  # the same class before 3.3
    from tools.check_dags import line_in, one_line

    bag = DagBag(dag_folder=str(folder), safe_mode=True)
    dag = bag.dags.get(spec["dag_id"])
    if dag is None:
        lines = [f"error: no DAG '{spec['dag_id']}' in the DAG folder"]
        lines.append(f"  DAGs there: {', '.join(sorted(bag.dags)) or 'none'}")
        for path, error in sorted(bag.import_errors.items()):
            line = line_in(error, path)
            shown = Path(path).relative_to(folder).as_posix() + (f":{line}" if line else "")
            lines.append(f"  import error {shown}: {one_line(error)}")
        Path(spec["message_file"]).write_text("\n".join(lines) + "\n", encoding="utf-8")
        return _NOT_FOUND
    _prepare(dag, limit, folder, Path(spec["errors_file"]))
    run = dag.test()
    return _OK if run is not None and str(run.state) in ("success", "DagRunState.SUCCESS") else _FAILED


def _prepare(dag: Any, limit: float, folder: Path, errors_file: Path) -> None:
    """What makes a local run short and its failures readable."""
    from datetime import timedelta

    from airflow.sdk.bases.sensor import BaseSensorOperator

    def record(context: dict[str, Any]) -> None:
        ti = context["ti"]
        exception = context.get("exception")
        task = ti.task_id if getattr(ti, "map_index", -1) in (None, -1) else f"{ti.task_id}[{ti.map_index}]"
        error = _first_error_line(exception)
        timeout = getattr(context.get("task"), "execution_timeout", None)
        if type(exception).__name__ == "AirflowTaskTimeout" and timeout is not None:
            error = f"AirflowTaskTimeout: ran over its time limit of {timeout.total_seconds():g} s"
        entry = {"task": task, "error": error, "where": _where(exception, folder)}
        with errors_file.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")

    cap = timedelta(seconds=limit)
    for task in dag.tasks:
        own = task.execution_timeout
        task.retries = 0
        task.retry_delay = timedelta(0)
        task.execution_timeout = min(own or cap, cap)
        if isinstance(task, BaseSensorOperator):
            # The sensor's own timeout ends it first (AirflowSensorTimeout says what it waited
            # for); the execution timeout only if a poke itself hangs.
            task.timeout = min(float(task.timeout), limit)
            task.poke_interval = min(float(task.poke_interval), SENSOR_POKE_SECONDS)
            sensor_cap = cap + timedelta(seconds=HUNG_POKE_SECONDS)
            task.execution_timeout = min(own or sensor_cap, sensor_cap)
        task.on_failure_callback = [*(_callbacks(task.on_failure_callback)), record]


def _callbacks(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _first_error_line(exception: BaseException | None) -> str:
    if exception is None:
        return "failed (no exception recorded)"
    if isinstance(exception, str):
        return exception.splitlines()[0] if exception else "failed"
    message = str(exception).strip().splitlines()
    return f"{type(exception).__name__}: {message[0]}" if message else type(exception).__name__


def _where(exception: BaseException | None, folder: Path) -> str | None:
    """``file:line`` of the deepest frame of the traceback inside the DAG folder."""
    import traceback

    if not isinstance(exception, BaseException) or exception.__traceback__ is None:
        return None
    inside = str(folder.resolve())
    frames = [f for f in traceback.extract_tb(exception.__traceback__) if f.filename.startswith(inside)]
    if not frames:
        return None
    return (
        f"{Path(frames[-1].filename).resolve().relative_to(folder.resolve()).as_posix()}:{frames[-1].lineno}"
    )


if __name__ == "__main__":
    sys.exit(main())
