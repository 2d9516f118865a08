"""``mwaa-ops cost`` and ``mwaa-ops review``: handed to their own command lines, one exit-code table."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from mwaa_ops import cli, cost

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> tuple[int, str]:
    stderr = io.StringIO()
    code = cli.main(list(argv), runtime=cli.Runtime(stdout=io.StringIO(), stderr=stderr))
    return code, stderr.getvalue()


def test_cost_hands_its_arguments_to_the_cost_command_line(capsys) -> None:
    code, _ = _run("cost", "--profile", "dev", "--json", "--cdk-json", str(ROOT / "cdk.json"))
    assert code == 0
    (estimate,) = json.loads(capsys.readouterr().out)
    assert estimate["name"] == "profile dev"


def test_cost_returns_the_cost_command_lines_exit_code(monkeypatch) -> None:
    seen: list[list[str]] = []

    def fake_main(argv: list[str]) -> int:
        seen.append(argv)
        return 2

    monkeypatch.setattr(cost, "main", fake_main)
    assert _run("cost", "--profile", "staging")[0] == 2
    assert seen == [["--profile", "staging"]]


def test_review_runs_the_checkouts_review(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    from tools.review import cli as review_cli

    seen: list[tuple[list[str], str]] = []

    def fake_main(argv: list[str], *, prog: str) -> int:
        seen.append((argv, prog))
        return 1

    monkeypatch.setattr(review_cli, "main", fake_main)
    assert _run("review", "--base", "origin/main", "--fail-on", "update")[0] == 1
    assert seen == [(["--base", "origin/main", "--fail-on", "update"], "mwaa-ops review")]


def test_review_outside_a_checkout_is_a_usage_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cdk.json").write_text("{}")  # another CDK app: no tools/review
    monkeypatch.setattr(sys, "path", [p for p in sys.path if Path(p or ".").resolve() != ROOT])
    code, stderr = _run("review", "--base", "origin/main")
    assert code == 2
    assert stderr.count("\n") == 1 and "run it from the top folder of a checkout" in stderr


def test_options_of_cost_and_review_go_after_the_command_name() -> None:
    code, stderr = _run("--json", "cost", "--profile", "dev")
    assert code == 2
    assert stderr == "mwaa-ops: error: give the options of cost after its name: mwaa-ops cost --help\n"


def test_help_lists_every_command_and_one_exit_code_table(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for command in ("status", "wait", "dags", "trigger", "runs", "logs", "login", "smoke", "cost", "review"):
        assert f"\n    {command} " in text
    table = text.split("exit codes: the same for every command, cost and review included", 1)[1]
    assert "review: an environment verdict reached --fail-on" in table
    assert [line.split()[0] for line in table.splitlines() if line[:6].strip().isdigit()] == [
        "0",
        "1",
        "2",
        "3",
        "4",
        "130",
    ]
