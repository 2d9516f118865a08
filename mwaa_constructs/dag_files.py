"""Which files of a DAG folder are deployed (no aws-cdk-lib import: DAG tools use it too)."""

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
