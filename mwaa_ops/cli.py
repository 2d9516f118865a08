"""``mwaa-ops``: operate the MWAA environment of a cdk.json profile from the command line.

Commands find the environment through the profile's platform stack (or ``--environment``),
call AWS with the standard credential chain, print plain text for people or one JSON
document with ``--json``, and end with the exit codes of :class:`mwaa_ops.errors.ExitCode`.
Everything outside the process (AWS clients, clock, sleep, output streams) comes from a
:class:`Runtime`, which tests replace.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, TypedDict

from botocore.exceptions import BotoCoreError, ClientError

from mwaa_ops.airflow_api import AirflowApi, Backoff, RunFailed
from mwaa_ops.aws import AwsClients, AwsSettings
from mwaa_ops.dr import cli as dr_cli
from mwaa_ops.environment import (
    STABLE,
    EnvironmentStatus,
    Target,
    find_target,
    format_duration,
    get_status,
    wait_until_settled,
)
from mwaa_ops.errors import AwsError, ExitCode, OpsError, UsageError, WaitTimeout, translate_botocore_error
from mwaa_ops.task_logs import read_task_logs, render_event
from platform_config import DEFAULT_PROFILE, Profile, ProfileError, load_profile, read_cdk_profiles

PROG = "mwaa-ops"

EPILOG = f"""\
finding the environment:
  --profile NAME is a profile of cdk.json (default '{DEFAULT_PROFILE}', as in `make deploy PROFILE=NAME`),
  not an AWS named profile: the environment's name is read from the outputs of the profile's
  platform stack. --environment NAME skips cdk.json and the stack.
  AWS credentials, region and endpoints come from the standard AWS chain (AWS_PROFILE,
  AWS_REGION, AWS_ENDPOINT_URL_MWAA, ...); --aws-profile selects an AWS named profile, and the
  region is --region, else the cdk.json profile's `region`, else the AWS chain's.
  `cost` and `review` take their own options after the command name (`mwaa-ops cost --help`);
  their --profile NAME[,NAME...] also names cdk.json profiles, and neither calls AWS.

exit codes: the same for every command, cost and review included
  0    success
  1    a check failed: environment update or DAG run failed, smoke check failed, no task logs;
       review: an environment verdict reached --fail-on
  2    usage or configuration error: arguments, cdk.json, profile; review: not run from a
       checkout, unknown git ref, a synth that failed
  3    AWS error: no credentials or region, access denied, stack or environment not found,
       Airflow REST API error
  4    timeout: a wait ended before the outcome was known
  130  interrupted (Ctrl-C)
"""


@dataclass(kw_only=True)
class Runtime:
    """Everything a command touches outside the process; tests pass their own."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    clients: Callable[[AwsSettings], AwsClients] = AwsClients
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    backoff: Backoff = field(default_factory=Backoff)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class Result:
    """What a command produced: text for people, data for ``--json``, and its exit code."""

    text: str
    data: Any
    exit_code: ExitCode = ExitCode.OK


@dataclass(kw_only=True)
class Context:
    """A command's arguments, AWS clients, target environment and output."""

    args: argparse.Namespace
    runtime: Runtime
    clients: AwsClients
    target: Target

    def progress(self, line: str) -> None:
        """Progress goes to stderr, so that stdout holds only the result (text or JSON)."""
        print(line, file=self.runtime.stderr, flush=True)

    def status(self) -> EnvironmentStatus:
        return get_status(self.clients, self.target.environment_name)

    def api(self, status: EnvironmentStatus | None = None) -> AirflowApi:
        status = status or self.status()
        return AirflowApi(
            self.clients,
            self.target.environment_name,
            airflow_major=status.airflow_major,
            backoff=self.runtime.backoff,
            now=self.runtime.now,
        )


# ---------------------------------------------------------------------------------- commands


def cmd_status(ctx: Context) -> Result:
    status = ctx.status()
    return Result(
        text=_status_text(ctx.target, status), data={**status.to_json(), **_target_json(ctx.target)}
    )


def cmd_wait(ctx: Context) -> Result:
    status = wait_until_settled(
        ctx.clients,
        ctx.target.environment_name,
        timeout=ctx.args.timeout,
        interval=ctx.args.interval,
        sleep=ctx.runtime.sleep,
        clock=ctx.runtime.clock,
        progress=ctx.progress,
    )
    return Result(
        text=f"{status.name} is {status.status}", data={**status.to_json(), **_target_json(ctx.target)}
    )


class _DagLine(TypedDict):
    """One DAG of ``dags``: the REST API's id and paused state as given, its tag names."""

    dag_id: Any
    is_paused: Any
    tags: list[str]


def cmd_dags(ctx: Context) -> Result:
    api = ctx.api()
    dags: list[_DagLine] = [
        {
            "dag_id": d.get("dag_id"),
            "is_paused": d.get("is_paused"),
            "tags": sorted(str(t.get("name")) for t in d.get("tags") or [] if isinstance(t, dict)),
        }
        for d in api.list_dags()
    ]
    errors = [
        {"filename": e.get("filename"), "timestamp": e.get("timestamp"), "stack_trace": e.get("stack_trace")}
        for e in api.import_errors()
    ]
    lines = _table(
        ["DAG", "STATE", "TAGS"], [[d["dag_id"], _paused(d["is_paused"]), ",".join(d["tags"])] for d in dags]
    )
    paused = sum(1 for d in dags if d["is_paused"])
    lines.append(f"{_count(len(dags), 'DAG')}, {paused} paused")
    lines.append("")
    if not errors:
        lines.append("import errors: none")
    else:
        lines.append(f"{_count(len(errors), 'import error')}:")
        for error in errors:
            lines.append(f"{error['filename']} ({error['timestamp']})")
            lines.extend("    " + line for line in str(error["stack_trace"] or "").rstrip().splitlines())
    data = {"environment": ctx.target.environment_name, "dags": dags, "import_errors": errors}
    return Result(text="\n".join(lines), data=data)


def cmd_trigger(ctx: Context) -> Result:
    conf = _parse_conf(ctx.args.conf)
    api = ctx.api()
    run = api.trigger(ctx.args.dag_id, conf=conf, run_id=ctx.args.run_id)
    run_id = str(run.get("dag_run_id"))
    text = f"triggered {ctx.args.dag_id} run {run_id}: {run.get('state')}"
    if not ctx.args.wait:
        return Result(text=text, data=run)
    ctx.progress(text)
    try:
        run = _wait_for_run(ctx, api, ctx.args.dag_id, run_id)
    except RunFailed as failed:
        return Result(text=failed.message, data=failed.run, exit_code=ExitCode.FAILED)
    return Result(text=f"run {run_id} of {ctx.args.dag_id}: {run.get('state')}", data=run)


def cmd_runs(ctx: Context) -> Result:
    runs = ctx.api().list_runs(ctx.args.dag_id, limit=ctx.args.limit)
    rows = [
        [
            r.get("dag_run_id"),
            r.get("state"),
            r.get("run_type"),
            _time(r.get("start_date")),
            _time(r.get("end_date")),
        ]
        for r in runs
    ]
    lines = _table(["RUN ID", "STATE", "TYPE", "STARTED", "ENDED"], rows) if runs else []
    lines.append(f"{_count(len(runs), 'run')} of {ctx.args.dag_id}")
    return Result(text="\n".join(lines), data={"dag_id": ctx.args.dag_id, "dag_runs": runs})


def cmd_logs(ctx: Context) -> Result:
    log_group = ctx.target.task_log_group
    logs = read_task_logs(
        ctx.clients,
        log_group=log_group,
        dag_id=ctx.args.dag_id,
        run_id=ctx.args.run_id,
        task_id=ctx.args.task_id,
    )
    lines: list[str] = []
    for log in logs:
        lines.append(f"==> {log.stream} <==")
        lines.extend(render_event(event) for event in log.events)
        lines.append("")
    data = {"log_group": log_group, "streams": [log.to_json() for log in logs]}
    return Result(text="\n".join(lines).rstrip("\n"), data=data)


def cmd_login(ctx: Context) -> Result:
    name = ctx.target.environment_name
    try:
        token = ctx.clients.client("mwaa").create_web_login_token(Name=name)
    except (BotoCoreError, ClientError) as error:
        raise translate_botocore_error(error, service="mwaa", target=f"environment {name}") from error
    url = f"https://{token['WebServerHostname']}/aws_mwaa/aws-console-sso?login=true#{token['WebToken']}"
    ctx.progress("open this URL within a minute; it logs in once and then expires")
    access_mode = _access_mode(ctx)
    if access_mode == "PRIVATE_ONLY":
        # The hostname is the web server's VPC endpoint: a browser elsewhere times out.
        ctx.progress(
            "the web server is private (PRIVATE_ONLY): the URL loads only from a network that its "
            "security group admits on TCP 443 (profile setting webserver_access; see docs/operations.md, "
            "Reaching a private web server)"
        )
    data = {
        "url": url,
        "web_server_hostname": token["WebServerHostname"],
        "webserver_access_mode": access_mode,
        "iam_identity": token.get("IamIdentity"),
        "airflow_identity": token.get("AirflowIdentity"),
    }
    return Result(text=url, data=data)


def _access_mode(ctx: Context) -> str | None:
    """The environment's web server access mode, or None when the caller may not read the
    environment: a role granted only the web login (access.web_login) still gets its URL."""
    try:
        return ctx.status().webserver_access_mode
    except AwsError:
        return None


def cmd_smoke(ctx: Context) -> Result:
    """The post-deploy check: AVAILABLE, no import errors, and optionally one successful run.

    Prints PASS/FAIL lines as it goes (stderr with --json), so a pipeline log shows how far
    it got; stops at the first failure, since later checks depend on earlier ones."""
    checks: list[dict[str, Any]] = []
    exit_code = ExitCode.OK

    def record(name: str, passed: bool, detail: str) -> bool:
        checks.append({"check": name, "passed": passed, "detail": detail})
        line = f"{'PASS' if passed else 'FAIL'} {name}: {detail}"
        if ctx.args.json:
            ctx.progress(line)
        else:
            print(line, file=ctx.runtime.stdout, flush=True)
        return passed

    def result() -> Result:
        passed = all(c["passed"] for c in checks)
        failed = sum(1 for c in checks if not c["passed"])
        summary = f"smoke {ctx.target.environment_name}: " + (
            f"PASS ({_count(len(checks), 'check')})"
            if passed
            else f"FAIL ({failed} of {_count(len(checks), 'check')})"
        )
        data = {"environment": ctx.target.environment_name, "passed": passed, "checks": checks}
        return Result(text=summary, data=data, exit_code=exit_code if not passed else ExitCode.OK)

    status = ctx.status()
    if not record(
        "environment",
        status.status == STABLE,
        f"{status.name} is {status.status} (Airflow {status.airflow_version}, {status.environment_class})",
    ):
        exit_code = ExitCode.FAILED
        return result()

    api = ctx.api(status)
    errors = api.import_errors()
    files = ", ".join(sorted(str(e.get("filename")) for e in errors))
    if not record(
        "import errors",
        not errors,
        "none" if not errors else f"{_count(len(errors), 'file')} failed to import: {files}",
    ):
        exit_code = ExitCode.FAILED
        return result()

    dag_id = ctx.args.dag
    if dag_id is None:
        return result()
    dag = api.get_dag(dag_id)
    if not record(
        "dag",
        not dag.get("is_paused"),
        f"{dag_id} is paused: a triggered run would stay queued; unpause it first"
        if dag.get("is_paused")
        else f"{dag_id} is active",
    ):
        exit_code = ExitCode.FAILED
        return result()

    run_id = str(api.trigger(dag_id, conf={}).get("dag_run_id"))
    ctx.progress(f"triggered {dag_id} run {run_id}")
    start = ctx.runtime.clock()
    try:
        _wait_for_run(ctx, api, dag_id, run_id)
    except RunFailed as failed:
        record("run", False, failed.message)
        exit_code = ExitCode.FAILED
    except WaitTimeout as timeout:
        record("run", False, timeout.message)
        exit_code = ExitCode.TIMEOUT
    else:
        elapsed = format_duration(ctx.runtime.clock() - start)
        record("run", True, f"{run_id} of {dag_id} succeeded in {elapsed}")
    return result()


def _wait_for_run(ctx: Context, api: AirflowApi, dag_id: str, run_id: str) -> dict[str, Any]:
    return api.wait_for_run(
        dag_id,
        run_id,
        timeout=ctx.args.timeout,
        interval=ctx.args.interval,
        sleep=ctx.runtime.sleep,
        clock=ctx.runtime.clock,
        progress=ctx.progress,
    )


def run_cost(argv: Sequence[str], runtime: Runtime) -> int:
    """``mwaa-ops cost``: the cost estimate's own command line (``python -m mwaa_ops.cost``)."""
    from mwaa_ops import cost

    return cost.main(list(argv))


def run_review(argv: Sequence[str], runtime: Runtime) -> int:
    """``mwaa-ops review``: the change review of this repository (``python -m tools.review``).

    It synthesizes two commits of the repository, so it runs from the top folder of a checkout,
    whose ``tools/review`` it imports; an installed wheel has no such folder."""
    root = Path.cwd()
    if not (root / "tools" / "review" / "__init__.py").is_file() or not (root / "cdk.json").is_file():
        print(
            f"{PROG}: error: review compares commits of the mwaa-platform repository: run it from "
            "the top folder of a checkout (where cdk.json and tools/review/ are)",
            file=runtime.stderr,
        )
        return int(ExitCode.USAGE)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    review_cli = importlib.import_module("tools.review.cli")
    return int(review_cli.main(list(argv), prog=f"{PROG} review"))


def run_serverless(argv: Sequence[str], runtime: Runtime) -> int:
    """``mwaa-ops serverless``: Amazon MWAA Serverless workflows (:mod:`mwaa_ops.serverless`), which
    have no environment or platform stack to resolve, hence their own options."""
    from mwaa_ops import serverless

    return serverless.main(argv, runtime=runtime)


DELEGATED: dict[str, Callable[[Sequence[str], Runtime], int]] = {
    "cost": run_cost,
    "review": run_review,
    "serverless": run_serverless,
}
DELEGATED_HELP = {
    "cost": "monthly cost estimate of cdk.json profiles, before deploy; no AWS call (mwaa-ops cost --help)",
    "review": "offline change review of the working tree against a git ref, from a checkout of this "
    "repository (mwaa-ops review --help)",
    "serverless": "Amazon MWAA Serverless workflows: list, run [--wait], status, tasks, logs "
    "(mwaa-ops serverless --help)",
}

COMMANDS: dict[str, Callable[[Context], Result]] = {
    "status": cmd_status,
    "wait": cmd_wait,
    "dags": cmd_dags,
    "trigger": cmd_trigger,
    "runs": cmd_runs,
    "logs": cmd_logs,
    "login": cmd_login,
    "smoke": cmd_smoke,
    "backup": dr_cli.cmd_backup,
    "restore": dr_cli.cmd_restore,
}


# ---------------------------------------------------------------------------------- parsing


# Defaults of the options every command takes. The options themselves default to SUPPRESS, so
# that they may stand before or after the command name (as with the AWS CLI) without the
# subcommand's defaults overwriting a value given before it.
COMMON_DEFAULTS: dict[str, Any] = {
    "profile": None,
    "cdk_json": Path("cdk.json"),
    "environment": None,
    "aws_profile": None,
    "region": None,
    "json": False,
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: a command name, its arguments, and the common options anywhere."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    where = common.add_argument_group("environment selection")
    where.add_argument(
        "--profile",
        metavar="NAME",
        help=f"profile of cdk.json (not an AWS profile; default '{DEFAULT_PROFILE}'): its platform stack "
        "names the environment",
    )
    where.add_argument("--cdk-json", metavar="PATH", type=Path, help="default: ./cdk.json")
    where.add_argument(
        "--environment", metavar="NAME", help="MWAA environment name; skips cdk.json and the stack"
    )
    where.add_argument(
        "--aws-profile", metavar="NAME", help="AWS named profile (default: AWS_PROFILE or default)"
    )
    where.add_argument(
        "--region", metavar="REGION", help="AWS region (default: the cdk.json profile's, else AWS_REGION)"
    )
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Operate the Amazon MWAA environment of a cdk.json profile.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            parents=[common],
            help=help_text,
            description=help_text,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    command("status", "state, Airflow version, size, web server URL and last update of the environment")

    wait = command("wait", "wait until the environment is AVAILABLE or its running update has ended")
    _wait_options(wait, interval=30.0)

    command("dags", "DAGs with their paused state, and current DAG import errors")

    trigger = command("trigger", "trigger a DAG run, optionally follow it to its end")
    trigger.add_argument("dag_id", metavar="DAG_ID")
    trigger.add_argument("--conf", metavar="JSON", help="run configuration, a JSON object (default: {})")
    trigger.add_argument("--run-id", metavar="ID", help="run id (default: ops__<UTC time>)")
    trigger.add_argument(
        "--wait", action="store_true", help="follow the run; exit 0 on success, 1 on failure"
    )
    _wait_options(trigger, interval=15.0)

    runs = command("runs", "recent runs of a DAG and their states, newest first")
    runs.add_argument("dag_id", metavar="DAG_ID")
    runs.add_argument("--limit", type=_positive_int, default=10, help="how many runs (default: 10)")

    logs = command("logs", "task logs of a DAG run from CloudWatch (every task, or one)")
    logs.add_argument("dag_id", metavar="DAG_ID")
    logs.add_argument("run_id", metavar="RUN_ID")
    logs.add_argument("task_id", metavar="TASK_ID", nargs="?")

    command("login", "print a one-time login URL for the Airflow UI")

    smoke = command("smoke", "post-deploy check: AVAILABLE, no import errors, optionally one successful run")
    smoke.add_argument("--dag", metavar="DAG_ID", help="also trigger this DAG and require the run to succeed")
    _wait_options(smoke, interval=15.0)
    dr_cli.add_parsers(command)

    for name, help_text in DELEGATED_HELP.items():
        # Listed here for --help; main() hands their arguments over untouched. A prefix no
        # option uses lets the remainder hold options too.
        delegated = sub.add_parser(name, help=help_text, add_help=False, prefix_chars="\0")
        delegated.add_argument("arguments", nargs=argparse.REMAINDER)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parsed arguments, with the defaults of the common options filled in."""
    args = build_parser().parse_args(argv)
    for name, default in COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


def _wait_options(parser: argparse.ArgumentParser, *, interval: float) -> None:
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=3600.0,
        metavar="SECONDS",
        help="give up after (default: 3600)",
    )
    parser.add_argument(
        "--interval",
        type=_positive_float,
        default=interval,
        metavar="SECONDS",
        help=f"seconds between polls (default: {interval:g})",
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {value}; expected 1 or more")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"got {text}; expected a number of seconds above 0")
    return value


def _parse_conf(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        conf = json.loads(text)
    except ValueError as error:
        raise UsageError(f"--conf: invalid JSON ({error})") from None
    if not isinstance(conf, dict):
        raise UsageError(
            f"--conf: got {type(conf).__name__}; expected a JSON object such as '{{\"key\": 1}}'"
        )
    return conf


# ------------------------------------------------------------------------------ resolution


def load_cli_profile(args: argparse.Namespace) -> Profile | None:
    """The cdk.json profile, or None with ``--environment`` and no explicit ``--profile``."""
    if args.environment and args.profile is None:
        return None
    path: Path = args.cdk_json
    if not path.is_file():
        raise UsageError(
            f"{path} not found: run {PROG} in the project directory, "
            "or pass --cdk-json PATH or --environment NAME"
        )
    try:
        return load_profile(read_cdk_profiles(path), args.profile or DEFAULT_PROFILE)
    except ProfileError as error:
        raise UsageError(f"{path}: {error}") from None


def resolve(args: argparse.Namespace, runtime: Runtime) -> tuple[AwsClients, Target]:
    """AWS clients in the right region, and the environment they operate."""
    profile = load_cli_profile(args)
    region = args.region or (profile.region if profile else None)
    clients = runtime.clients(AwsSettings(aws_profile=args.aws_profile, region=region))
    if args.environment:
        return clients, Target(
            environment_name=args.environment, profile_name=profile.name if profile else None
        )
    assert profile is not None  # load_cli_profile returns one unless --environment is given
    return clients, find_target(clients, stack_name=profile.platform_stack_name, profile_name=profile.name)


# ---------------------------------------------------------------------------------- output


def _status_text(target: Target, status: EnvironmentStatus) -> str:
    sources = []
    if target.stack_name:
        sources.append(f"stack {target.stack_name}")
    if target.profile_name:
        sources.append(f"profile {target.profile_name}")
    source = ", ".join(sources)
    rows = [
        ("environment", status.name + (f" ({source})" if source else "")),
        ("status", status.status),
        ("airflow", status.airflow_version),
        ("class", status.environment_class or "-"),
        ("workers", f"{status.min_workers}-{status.max_workers}"),
        ("schedulers", str(status.schedulers)),
        (
            "web server",
            f"https://{status.webserver_url} ({status.webserver_access_mode})"
            if status.webserver_url
            else "-",
        ),
    ]
    update = status.last_update
    if update is not None:
        when = (
            update.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            if update.created_at
            else "time unknown"
        )
        rows.append(("last update", f"{update.status} at {when}"))
        if update.error_code or update.error_message:
            rows.append(("", f"{update.error_code}: {update.error_message}"))
    return "\n".join(f"{label:<12} {value}".rstrip() for label, value in rows)


def _target_json(target: Target) -> dict[str, Any]:
    return {"stack": target.stack_name, "profile": target.profile_name}


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [headers] + [["-" if c is None or c == "" else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]


def _paused(value: object) -> str:
    return "paused" if value else "active"


def _time(value: object) -> str | None:
    """``2026-11-28T17:49:22.123+00:00`` -> ``2026-11-28 17:49:22``: the API's times are UTC."""
    if not value:
        return None
    return str(value).replace("T", " ")[:19]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _emit_error(error: OpsError, *, json_mode: bool, runtime: Runtime) -> int:
    print(f"{PROG}: error: {error.message}", file=runtime.stderr)
    if json_mode:
        code = error.code if isinstance(error, AwsError) else None
        payload = {"error": {"message": error.message, "exit_code": int(error.exit_code), "code": code}}
        print(json.dumps(payload, indent=2), file=runtime.stdout)
    return int(error.exit_code)


def main(argv: Sequence[str] | None = None, *, runtime: Runtime | None = None) -> int:
    """Run one command and return its exit code (the console script exits with it)."""
    runtime = runtime or Runtime()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in DELEGATED:
        try:
            return DELEGATED[arguments[0]](arguments[1:], runtime)
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=runtime.stderr)
            return 130
    args = parse_args(arguments)
    if args.command in DELEGATED:  # common options before the command name
        return _emit_error(
            UsageError(f"give the options of {args.command} after its name: {PROG} {args.command} --help"),
            json_mode=False,
            runtime=runtime,
        )
    try:
        clients, target = resolve(args, runtime)
        result = COMMANDS[args.command](Context(args=args, runtime=runtime, clients=clients, target=target))
    except OpsError as error:
        return _emit_error(error, json_mode=args.json, runtime=runtime)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=runtime.stderr)
        return 130
    if args.json:
        print(json.dumps(result.data, indent=2, default=str), file=runtime.stdout)
    elif result.text:
        print(result.text, file=runtime.stdout)
    return int(result.exit_code)
