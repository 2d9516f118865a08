"""The review's command line: which profiles are synthesized where, the report, the exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from review_testing import STACK, stack, template, with_

from tools.review import cli, render, verdicts
from tools.review.model import Review, ReviewError, StackTemplate


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose BASE has profiles dev and old; the working tree has dev and prod."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "--quiet", "-b", "main")
    _git(root, "config", "user.email", "review@example.com")
    _git(root, "config", "user.name", "review")
    context: dict[str, Any] = {
        "context": {"profiles": {"dev": {"max_workers": 2}, "old": {"max_workers": 1}}}
    }
    (root / "cdk.json").write_text(json.dumps(context))
    _git(root, "add", "cdk.json")
    _git(root, "commit", "--quiet", "-m", "base")
    context["context"]["profiles"] = {"dev": {"max_workers": 4}, "prod": {"max_workers": 1}}
    (root / "cdk.json").write_text(json.dumps(context))
    return root


def _synth(calls: list[tuple[str, str]]):
    def synth(tree: Path, profile: str, outdir: Path) -> list[StackTemplate]:
        calls.append((tree.name, profile))
        workers = json.loads((tree / "cdk.json").read_text())["context"]["profiles"][profile]["max_workers"]
        return [stack(f"{profile}-platform", with_(template(), "Environment.Properties.MaxWorkers", workers))]

    return synth


def test_every_profile_of_either_side_is_reviewed_by_default(repo: Path) -> None:
    calls: list[tuple[str, str]] = []
    review = cli.make_review(repo, "main", None, synth=_synth(calls))
    assert sorted(calls) == [("base", "dev"), ("base", "old"), ("repo", "dev"), ("repo", "prod")]
    assert [(p.profile, p.status, [e.verdict for e in p.environments]) for p in review.profiles] == [
        ("dev", "changed", ["update"]),
        ("prod", "new", ["added"]),
        ("old", "removed", ["removed"]),
    ]
    assert review.profiles[0].environments[0].reasons == ("MaxWorkers: 2 → 4",)
    assert review.base.startswith("main (")
    assert len(_git(repo, "worktree", "list").splitlines()) == 1


def test_named_profiles_only_and_unknown_ones_refused(repo: Path) -> None:
    calls: list[tuple[str, str]] = []
    review = cli.make_review(repo, "main", ["prod"], synth=_synth(calls))
    assert calls == [("repo", "prod")] and [p.profile for p in review.profiles] == ["prod"]
    with pytest.raises(
        ReviewError, match=r"profile staging: not in cdk.json .* \(profiles: dev, prod, old\)"
    ):
        cli.make_review(repo, "main", ["staging"], synth=_synth(calls))
    with pytest.raises(ReviewError, match="git rev-parse no-such-ref"):
        cli.make_review(repo, "no-such-ref", None, synth=_synth(calls))
    with pytest.raises(ReviewError, match=r"no cdk\.json"):
        cli.make_review(repo.parent, "main", None, synth=_synth(calls))


def test_main_writes_the_report_and_sets_the_exit_code(monkeypatch, tmp_path: Path, capsys) -> None:
    base = template()
    profile = verdicts.review_profile(
        "dev", [stack(STACK, base)], [stack(STACK, with_(base, "Environment.Properties.MaxWorkers", 3))]
    )
    seen: list[tuple[str, list[str]]] = []

    def fake_review(repo: Path, base_ref: str, profiles: list[str], **kwargs: Any) -> Review:
        seen.append((base_ref, profiles))
        return Review(base_ref, "working tree", [profile])

    monkeypatch.setattr(cli, "make_review", fake_review)
    output = tmp_path / "review.md"
    assert cli.main(["--base", "origin/main", "--profile", "dev, prod", "--output", str(output)]) == 0
    assert output.read_text().startswith(render.MARKER)
    assert cli.main(["--base", "origin/main", "--fail-on", "replacement", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["worst"] == "update"
    assert cli.main(["--base", "origin/main", "--fail-on", "update", "--json"]) == 1
    assert "reaches --fail-on update (update)" in capsys.readouterr().err
    assert seen[0] == ("origin/main", ["dev", "prod"]) and seen[1] == ("origin/main", [])

    def failing(*args: Any, **kwargs: Any) -> Review:
        raise ReviewError("synth of profile dev in base failed:\nerror: bad")

    monkeypatch.setattr(cli, "make_review", failing)
    assert cli.main(["--base", "x"]) == 2
    assert capsys.readouterr().err == "error: synth of profile dev in base failed:\nerror: bad\n"
    with pytest.raises(SystemExit) as usage:
        cli.main([])  # --base is required
    assert usage.value.code == 2
