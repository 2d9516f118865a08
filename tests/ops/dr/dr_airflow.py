"""A real local Airflow 3 (api-server, scheduler, dag-processor) for the disaster-recovery tests.

Each instance has its own ``AIRFLOW_HOME`` with a SQLite database, a free port, the
SimpleAuthManager with one known admin user (its password file is written before start, so
Airflow does not generate one), and the LocalExecutor: Airflow 3.3.1 has no SequentialExecutor,
and ``airflow standalone`` itself runs the LocalExecutor on SQLite
(``airflow/cli/commands/standalone_command.py``), so tasks really execute, one process each.

Every process is started with :class:`subprocess.Popen` in a process group of its own and is
stopped through that group's id (its PID): SIGTERM, then SIGKILL after a grace period, so
that LocalExecutor workers and task processes end with their parent.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VENV_BIN = Path(sys.executable).parent
AIRFLOW = str(VENV_BIN / "airflow")
USER = "admin"
PASSWORD = "dr-test-password"
COMPONENTS = ("api-server", "scheduler", "dag-processor")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalAirflow:
    """One local Airflow: its home, port and processes."""

    root: Path
    dags_folder: Path
    plugins_folder: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        home = self.home
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("AIRFLOW") and key not in {"PYTEST_CURRENT_TEST"}
        }
        env.update(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.plugins_folder or home / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
                # SQLite's default 5 s lock wait is too short for four processes on a busy
                # machine: a scheduler that meets "database is locked" exits.
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "dr_sqlite_settings.CONNECT_ARGS",
                "PYTHONPATH": str(home),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API_AUTH__JWT_SECRET": f"dr-tests-{self.port}-jwt-secret-0123456789abcdef",
                "AIRFLOW__API_AUTH__JWT_EXPIRATION_TIME": "86400",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC": "2",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def prepare(self) -> None:
        """Write the password file and create the metadata database (``airflow db migrate``)."""
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
        (self.home / "dr_sqlite_settings.py").write_text('CONNECT_ARGS = {"timeout": 120}\n')
        result = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=self.env(), capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        # Write-ahead logging: readers (the REST API a backup or restore reads through) no longer
        # wait for the scheduler's and the task processes' writes, nor block them, as they do in
        # SQLite's default rollback journal, where a read meeting a write lock under load could
        # wait out the whole lock timeout. The mode is stored in the database file.
        with contextlib.closing(sqlite3.connect(self.home / "airflow.db")) as db:
            (mode,) = db.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode != "wal":
            raise RuntimeError(f"SQLite refused write-ahead logging (journal_mode {mode})")

    def start(self, *components: str) -> None:
        """Start the components (default: all three), each in its own process group."""
        for name in components or COMPONENTS:
            if name in self.processes and self.processes[name].poll() is None:
                continue
            log = (self.root / f"{name}.log").open("ab")
            self.processes[name] = subprocess.Popen(
                [AIRFLOW, name],
                env=self.env(),
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()

    def stop(self, *components: str, grace: float = 10.0) -> None:
        """Stop the components (default: all) by their process group: SIGTERM, then SIGKILL."""
        names = [n for n in (components or tuple(self.processes)) if n in self.processes]
        for name in names:
            _signal_group(self.processes[name].pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name in names:
            process = self.processes[name]
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            # Whatever is left in the group (the process, or task processes it started) ends now.
            _signal_group(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            del self.processes[name]

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.root / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- REST calls the tests use to fill and inspect an environment -------------------------

    def token(self) -> str:
        response = self._http("POST", "/auth/token", {"username": USER, "password": PASSWORD}, token=None)
        return str(response["access_token"])

    def api(self, method: str, path: str, body: Any = None, *, query: str = "") -> Any:
        return self._http(method, f"/api/v2{path}{query}", body, token=self._cached_token())

    def _cached_token(self) -> str:
        cached = getattr(self, "_token", None)
        if cached is None:
            cached = self.token()
            self._token = cached
        return cached

    def _http(self, method: str, path: str, body: Any, *, token: str | None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def wait_until(
        self, condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.5
    ) -> None:
        """Poll ``condition`` until it holds; fail with the component logs after ``timeout``."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited ({process.returncode}):\n{self.log_tail(name)}")
            try:
                if condition():
                    return
            except (urllib.error.URLError, ConnectionError, OSError, KeyError, ValueError) as error:
                last_error = error
            time.sleep(interval)
        logs = "\n".join(f"--- {n} ---\n{self.log_tail(n)}" for n in self.processes)
        raise TimeoutError(f"{what}: not within {timeout:.0f} s (last error: {last_error})\n{logs}")

    def wait_healthy(self, *, timeout: float = 300.0) -> None:
        """Wait until the API answers and the scheduler and DAG processor report healthy."""

        def healthy() -> bool:
            health = self._http("GET", "/api/v2/monitor/health", None, token=None)
            wanted = [c.replace("-", "_") for c in self.processes if c != "api-server"]
            return all(health.get(c, {}).get("status") == "healthy" for c in wanted)

        self.wait_until(healthy, timeout=timeout, what=f"Airflow at {self.url} healthy")

    def wait_for_dags(self, dag_ids: set[str], *, timeout: float = 300.0) -> None:
        def parsed() -> bool:
            dags = self.api("GET", "/dags", query="?limit=100")["dags"]
            return dag_ids <= {d["dag_id"] for d in dags}

        self.wait_until(parsed, timeout=timeout, what=f"DAGs {sorted(dag_ids)} parsed")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
