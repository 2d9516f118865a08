"""A copy of the repository to change in a test: its files (tracked, and new ones git does not
ignore), with the installed .venv and node_modules shared by links.

The links are per entry, inside folders of the copy's own, with fresh install markers: make then
finds both installs current and never reinstalls into them (an editable install from the copy,
or ``npm ci`` emptying the shared node_modules, would change the repository's own)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_SHARED = {".venv": (".app-installed", ".dev-installed"), "node_modules": (".installed",)}


def copy_repository(target: Path) -> Path:
    """Copy the repository to ``target`` (created); returns it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file():  # a tracked file may have been deleted in the working tree
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    for folder, markers in _SHARED.items():
        (target / folder).mkdir(parents=True)
        for entry in (ROOT / folder).iterdir():
            if entry.name not in markers:
                (target / folder / entry.name).symlink_to(entry)
        for marker in markers:
            (target / folder / marker).touch()
    return target


def make(copy: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` in ``copy``, as a developer runs it there (not inside the make of the
    test run)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=timeout,
    )
