"""docs/operations.md has one exit-code table for every ``mwaa-ops`` command, and it holds exactly
the codes the command ends with: those of ``mwaa_ops.errors.ExitCode`` and 130 for an interrupt,
the same codes ``mwaa-ops --help`` lists."""

from __future__ import annotations

import re
from pathlib import Path

from mwaa_ops import cli
from mwaa_ops.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
INTERRUPTED = 130


def _table_codes(markdown: str) -> list[int]:
    section = markdown[markdown.index("### Exit codes") :]
    section = section[: section.index("\n### ", 1)]
    return [int(code) for code in re.findall(r"^\| (\d+) \|", section, re.M)]


def test_the_one_table_holds_exactly_the_codes_of_mwaa_ops() -> None:
    page = (ROOT / "docs" / "operations.md").read_text()
    assert page.count("### Exit codes") == 1
    assert _table_codes(page) == sorted([*(int(code) for code in ExitCode), INTERRUPTED])


def test_the_help_lists_the_same_codes() -> None:
    listed = [int(code) for code in re.findall(r"^  (\d+) ", cli.EPILOG.split("exit codes:", 1)[1], re.M)]
    assert listed == _table_codes((ROOT / "docs" / "operations.md").read_text())


def test_the_other_pages_point_at_the_table_instead_of_repeating_it() -> None:
    for name in ("cost.md", "delivery.md"):
        assert "operations.md#exit-codes" in (ROOT / "docs" / name).read_text(), name
