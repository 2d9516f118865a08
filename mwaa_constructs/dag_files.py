"""Which files of a DAG folder are deployed, and whether they compile (no aws-cdk-lib import:
the DAG tools use it too)."""

from __future__ import annotations

from pathlib import Path

# Never deployed: byte-code caches, test files and editor/OS litter.
DAG_EXCLUDES = (
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    "tests",
    "test_*.py",
    "*_test.py",
    "conftest.py",
    ".DS_Store",
    ".ruff_cache",
    ".mypy_cache",
)


def _excluded(relative: Path) -> bool:
    return any(
        part == "__pycache__" or part.startswith(".") or part == "tests" for part in relative.parts[:-1]
    ) or any(Path(relative.name).match(pattern) for pattern in DAG_EXCLUDES)


def list_dag_files(dags_dir: Path) -> list[str]:
    """Files of ``dags_dir`` that are deployed, as sorted relative POSIX paths."""
    files = []
    for path in dags_dir.rglob("*"):
        relative = path.relative_to(dags_dir)
        if path.is_file() and not _excluded(relative):
            files.append(relative.as_posix())
    return sorted(files)


def compile_dag_files(dags_dir: Path, *, shown_as: str | None = None) -> list[str]:
    """Byte-compile every deployed Python file of ``dags_dir`` with :func:`compile`; one line per
    file that does not compile: ``<shown_as>/<file>:<line>: <error>: <message>``.

    Why at synth: MWAA loads a DAG file only after the environment has synced it, and a file
    that does not compile is then an import error in the UI, found minutes after the deployment
    finished (or, for a support module, at the import of every DAG that uses it). Compiling
    needs neither Airflow nor the file's imports, so every synth can afford it; the full import
    check (cycles, schedules, duplicate ids, parse time) is ``tools.check_dags``, which needs
    Airflow. The interpreter running the synth compiles: keep it on the Python of the profile's
    image (3.12 for Airflow 2.11 and 3.x), as ``make`` does.
    """
    prefix = shown_as if shown_as is not None else str(dags_dir)
    problems = []
    for name in list_dag_files(dags_dir):
        if not name.endswith(".py"):
            continue
        shown = f"{prefix}/{name}" if prefix else name
        try:
            compile((dags_dir / name).read_bytes(), shown, "exec", dont_inherit=True)
        except SyntaxError as error:  # IndentationError and TabError too
            line = f":{error.lineno}" if error.lineno else ""
            problems.append(f"{shown}{line}: {type(error).__name__}: {error.msg}")
        except ValueError as error:  # e.g. an undecodable or NUL-holding source on older Pythons
            problems.append(f"{shown}: {type(error).__name__}: {error}")
    return problems
