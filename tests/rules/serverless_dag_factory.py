"""Build MWAA Serverless workflow definitions as DAGs with dag-factory 1.1.0 on Airflow 3.3.1.

dag-factory runs in its own virtualenv, ``.venv-dagfactory/`` at the repository root, made once
and reused while ``requirements-dagfactory.txt`` and the interpreter stay the same. It is layered
on the running virtualenv (a ``.pth`` file adds that one's site-packages), so Airflow, its
providers and dag-factory's dependencies are exactly the project's pinned versions; only
dag-factory itself is installed there (see ``requirements-dagfactory.txt`` for why not in
``.venv``). The folder holds a ``.gitignore`` of ``*``: git and ruff leave it alone.

Each load runs in a subprocess with a throw-away ``AIRFLOW_HOME`` and dag-factory's telemetry
off, and returns each DAG's schedule and task graph as JSON.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-dagfactory"
REQUIREMENTS = ROOT / "requirements-dagfactory.txt"

# Run inside the dag-factory virtualenv: load one definition, print its DAGs as JSON.
_LOADER = """
import json, sys
definition, code = sys.argv[1], sys.argv[2]
if code:
    sys.path.insert(0, code)
from airflow.sdk import DAG
from dagfactory import load_yaml_dags
found = {}
load_yaml_dags(globals_dict=found, config_filepath=definition)
dags = {}
for value in found.values():
    if isinstance(value, DAG):
        dags[value.dag_id] = {
            "timetable": type(value.timetable).__name__,
            "expression": getattr(value.timetable, "expression", None),
            "upstream": {t.task_id: sorted(t.upstream_task_ids) for t in value.tasks},
            "operators": {t.task_id: f"{type(t).__module__}.{type(t).__name__}" for t in value.tasks},
        }
print("DAGS=" + json.dumps(dags, sort_keys=True))
"""


def _stamp() -> str:
    """What the virtualenv was made from: the pins and the virtualenv it is layered on."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(sys.prefix.encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def dag_factory_python() -> Path:
    """The interpreter of the dag-factory virtualenv, made first if missing or out of date."""
    python = VENV / "bin" / "python"
    stamp_file = VENV / ".stamp"
    VENV.mkdir(exist_ok=True)
    (VENV / ".gitignore").write_text("*\n")
    with open(VENV / ".lock", "w") as lock:  # pytest-xdist workers build it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and stamp_file.exists() and stamp_file.read_text() == _stamp():
            return python
        subprocess.run(
            [sys.executable, "-m", "venv", "--clear", "--without-pip", str(VENV)],
            check=True,
            capture_output=True,
        )
        (VENV / ".gitignore").write_text("*\n")
        target = Path(
            subprocess.run(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
        base = sysconfig.get_paths()["purelib"]  # the running virtualenv's, with its .pth files
        (target / "project-venv.pth").write_text(f"import site; site.addsitedir({base!r})\n")
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--disable-pip-version-check",
                "--target",
                str(target),
                "-r",
                str(REQUIREMENTS),
            ],
            check=True,
            capture_output=True,
        )
        stamp_file.write_text(_stamp())
    return python


def load_with_dag_factory(definition: Path, code_package: Path | None = None) -> dict[str, Any]:
    """``{dag_id: {timetable, expression, upstream, operators}}`` of the DAGs dag-factory's
    ``load_yaml_dags()`` builds from ``definition``, the code package on ``sys.path``.

    Raises ``AssertionError`` with the loader's output when dag-factory fails."""
    python = dag_factory_python()
    with tempfile.TemporaryDirectory(prefix="dag-factory-home-") as home:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",
            "DO_NOT_TRACK": "1",
            "SCARF_NO_ANALYTICS": "true",
        }
        result = subprocess.run(
            [
                str(python),
                "-c",
                _LOADER,
                str(definition.resolve()),
                str(code_package.resolve() if code_package else ""),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=600,
        )
    lines = [line for line in result.stdout.splitlines() if line.startswith("DAGS=")]
    assert result.returncode == 0 and lines, (
        f"dag-factory could not load {definition}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    )
    return json.loads(lines[-1].removeprefix("DAGS="))
