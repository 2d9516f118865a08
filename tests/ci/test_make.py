"""The Makefile's CI behaviour: non-interactive deploys, and how `make review` is called."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _dry_run(*args: str) -> str:
    # A make of its own: not the variables or directory messages of a `make test` around it.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return result.stdout


def _command(output: str, program: str) -> str:
    (line,) = [line for line in output.replace("\\\n", " ").splitlines() if program in line]
    return " ".join(line.split())


def test_deploy_in_ci_never_prompts_and_writes_the_outputs() -> None:
    assert _command(_dry_run("deploy", "PROFILE=prod", "CI=true"), "cdk deploy") == (
        "npx --no-install cdk deploy --all -c profile=prod --require-approval never "
        "--outputs-file cdk-outputs-prod.json"
    )
    assert _command(_dry_run("deploy", "PROFILE=prod", "CI="), "cdk deploy") == (
        "npx --no-install cdk deploy --all -c profile=prod"
    )


def test_review_passes_only_what_was_given() -> None:
    assert _command(_dry_run("review", "BASE=origin/main"), "tools.review") == (
        'python -m tools.review --base "origin/main" --format markdown'
    )
    given = _dry_run(
        "review", "BASE=abc", "PROFILE=dev,prod", "FORMAT=json", "FAIL_ON=update", "OUTPUT=r.json"
    )
    assert _command(given, "tools.review") == (
        'python -m tools.review --base "abc" --format json --profile "dev,prod" '
        '--fail-on update --output "r.json"'
    )


def test_outputs_files_are_ignored_by_git() -> None:
    result = subprocess.run(
        ["git", "check-ignore", "cdk-outputs-dev.json", "pipeline.out/x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == ["cdk-outputs-dev.json", "pipeline.out/x"]
