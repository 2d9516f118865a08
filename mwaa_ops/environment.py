"""Which MWAA environment a command operates, and its state.

A cdk.json profile names the platform stack (``Profile.platform_stack_name``); the stack's
outputs name the environment. Reading the outputs instead of recomputing the name keeps the
tool right for any app that deploys the same stack, whatever it names the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mwaa_ops.aws import AwsClients
from mwaa_ops.errors import AwsError, CheckFailed, WaitTimeout, translate_botocore_error
from mwaa_rules import rules

# Status values of GetEnvironment, grouped by what a waiting caller does with them.
STABLE = "AVAILABLE"
FAILED_STATES = frozenset({"CREATE_FAILED", "UPDATE_FAILED", "DELETING", "DELETED", "UNAVAILABLE"})
# Everything else (CREATING, UPDATING, ROLLING_BACK, PENDING, MAINTENANCE, CREATING_SNAPSHOT,
# and states MWAA may add) is transitional: keep waiting.


@dataclass(frozen=True, kw_only=True)
class Target:
    """The environment a command operates, and where its name came from."""

    environment_name: str
    stack_name: str | None = None
    profile_name: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def task_log_group(self) -> str:
        """CloudWatch log group of task logs: from the stack output when known, else MWAA's name."""
        suffix = f"-{rules.LOG_COMPONENTS['task'][1]}"
        for name in self.outputs.get("LogGroupNames", "").split(","):
            if name.strip().endswith(suffix):
                return name.strip()
        return rules.log_group_name(self.environment_name, "task")


def find_target(clients: AwsClients, *, stack_name: str, profile_name: str) -> Target:
    """The environment of the platform stack ``stack_name``, from its ``EnvironmentName`` output."""
    try:
        response = clients.client("cloudformation").describe_stacks(StackName=stack_name)
    except ClientError as error:
        info = error.response.get("Error", {})
        if info.get("Code") == "ValidationError" and "does not exist" in str(info.get("Message", "")):
            where = f" in {clients.region}" if clients.region else ""
            raise AwsError(
                f"stack {stack_name} of profile '{profile_name}' is not deployed{where}: run "
                f"`make deploy PROFILE={profile_name}` first, or pass --environment NAME",
                code="StackNotFound",
            ) from error
        raise translate_botocore_error(
            error, service="cloudformation", target=f"stack {stack_name}"
        ) from error
    except BotoCoreError as error:
        raise translate_botocore_error(
            error, service="cloudformation", target=f"stack {stack_name}"
        ) from error

    stack = response["Stacks"][0]
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    name = outputs.get("EnvironmentName")
    if not name:
        raise AwsError(
            f"stack {stack_name} ({stack.get('StackStatus', 'status unknown')}) has no EnvironmentName "
            f"output: deploy it with `make deploy PROFILE={profile_name}`, or pass --environment NAME",
            code="NoEnvironmentOutput",
        )
    return Target(environment_name=name, stack_name=stack_name, profile_name=profile_name, outputs=outputs)


@dataclass(frozen=True, kw_only=True)
class LastUpdate:
    """The most recent create or update of the environment (``LastUpdate`` of GetEnvironment)."""

    status: str | None
    created_at: datetime | None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "FAILED"


@dataclass(frozen=True, kw_only=True)
class EnvironmentStatus:
    """What people ask about an environment first: is it up, which version and size, how did it change."""

    name: str
    status: str
    airflow_version: str
    environment_class: str | None
    min_workers: int | None
    max_workers: int | None
    schedulers: int | None
    webserver_url: str | None
    webserver_access_mode: str | None
    last_update: LastUpdate | None

    @property
    def airflow_major(self) -> int:
        """Major Airflow version: 3 selects REST API v2 field names and request bodies."""
        head = self.airflow_version.split(".", 1)[0]
        return int(head) if head.isdigit() else 3

    @classmethod
    def from_response(cls, environment: dict[str, Any]) -> EnvironmentStatus:
        update = environment.get("LastUpdate")
        last_update = None
        if update:
            error = update.get("Error") or {}
            last_update = LastUpdate(
                status=update.get("Status"),
                created_at=update.get("CreatedAt"),
                error_code=error.get("ErrorCode"),
                error_message=error.get("ErrorMessage"),
            )
        return cls(
            name=environment["Name"],
            status=environment.get("Status", "UNKNOWN"),
            airflow_version=environment.get("AirflowVersion", ""),
            environment_class=environment.get("EnvironmentClass"),
            min_workers=environment.get("MinWorkers"),
            max_workers=environment.get("MaxWorkers"),
            schedulers=environment.get("Schedulers"),
            webserver_url=environment.get("WebserverUrl"),
            webserver_access_mode=environment.get("WebserverAccessMode"),
            last_update=last_update,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON object with stable, snake_case keys for scripts."""
        update = self.last_update
        return {
            "name": self.name,
            "status": self.status,
            "airflow_version": self.airflow_version,
            "environment_class": self.environment_class,
            "min_workers": self.min_workers,
            "max_workers": self.max_workers,
            "schedulers": self.schedulers,
            "webserver_url": f"https://{self.webserver_url}" if self.webserver_url else None,
            "webserver_access_mode": self.webserver_access_mode,
            "last_update": None
            if update is None
            else {
                "status": update.status,
                "created_at": update.created_at.isoformat() if update.created_at else None,
                "error_code": update.error_code,
                "error_message": update.error_message,
            },
        }


def get_status(clients: AwsClients, environment_name: str) -> EnvironmentStatus:
    """GetEnvironment, reduced to :class:`EnvironmentStatus`."""
    try:
        response = clients.client("mwaa").get_environment(Name=environment_name)
    except (BotoCoreError, ClientError) as error:
        raise translate_botocore_error(
            error, service="mwaa", target=f"environment {environment_name}"
        ) from error
    return EnvironmentStatus.from_response(response["Environment"])


def wait_until_settled(
    clients: AwsClients,
    environment_name: str,
    *,
    timeout: float,
    interval: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Callable[[str], None],
) -> EnvironmentStatus:
    """Poll until the environment is AVAILABLE, or raise why it never will be.

    Raises :class:`CheckFailed` on a failed state, and when an update that was running ends
    rolled back (AVAILABLE again, but ``LastUpdate`` FAILED: the old version keeps running).
    Raises :class:`WaitTimeout` when ``timeout`` seconds pass first."""
    start = clock()
    saw_transition = False
    while True:
        status = get_status(clients, environment_name)
        elapsed = clock() - start
        progress(f"{environment_name}: {status.status} ({format_duration(elapsed)} elapsed)")
        if status.status == STABLE:
            update = status.last_update
            if saw_transition and update is not None and update.failed:
                raise CheckFailed(
                    f"{environment_name}: the update failed and was rolled back: {_update_error(update)}"
                )
            return status
        if status.status in FAILED_STATES:
            detail = f": {_update_error(status.last_update)}" if status.last_update else ""
            raise CheckFailed(f"{environment_name} is {status.status}{detail}")
        saw_transition = True
        if elapsed >= timeout:
            raise WaitTimeout(
                f"{environment_name} is still {status.status} after {format_duration(elapsed)} "
                f"(--timeout {format_duration(timeout)})"
            )
        sleep(min(interval, timeout - elapsed))


def _update_error(update: LastUpdate | None) -> str:
    if update is None or not (update.error_code or update.error_message):
        return "no error detail from MWAA"
    return f"{update.error_code or 'error'}: {update.error_message or ''}".rstrip(": ")


def format_duration(seconds: float) -> str:
    """``1h02m``, ``4m30s``, ``12s``: short enough for progress lines."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
