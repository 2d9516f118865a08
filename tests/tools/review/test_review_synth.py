"""Reading cloud assemblies, and BASE in a temporary git worktree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from review_testing import template

from tools.review.model import ReviewError
from tools.review.synth import base_worktree, profiles_of, read_assembly, resolve_commit


def test_read_assembly_follows_the_manifest_and_nested_assemblies(tmp_path: Path) -> None:
    (tmp_path / "stage").mkdir()
    (tmp_path / "a.template.json").write_text(json.dumps(template()))
    (tmp_path / "stage" / "b.template.json").write_text(json.dumps({"Resources": {}}))

    def stack(name: str, file: str, env: str) -> dict[str, object]:
        return {
            "type": "aws:cloudformation:stack",
            "environment": env,
            "displayName": name,
            "properties": {"templateFile": file, "stackName": name},
        }

    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "MwaaPlatform": stack(
                        "mwaa-dev-platform", "a.template.json", "aws://unknown-account/unknown-region"
                    ),
                    "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
                    "Stage": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "stage"}},
                }
            }
        )
    )
    (tmp_path / "stage" / "manifest.json").write_text(
        json.dumps(
            {"artifacts": {"StageB": stack("prod-b", "b.template.json", "aws://111122223333/eu-west-1")}}
        )
    )
    stacks = read_assembly(tmp_path)
    assert [(s.name, s.artifact_id, s.region) for s in stacks] == [
        ("mwaa-dev-platform", "MwaaPlatform", None),
        ("prod-b", "StageB", "eu-west-1"),
    ]
    assert stacks[0].template == template()


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def test_base_worktree_checks_out_the_commit_and_removes_itself(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "--quiet", "-b", "main")
    _git(repo, "config", "user.email", "review@example.com")
    _git(repo, "config", "user.name", "review")
    (repo / "cdk.json").write_text(json.dumps({"context": {"profiles": {"dev": {}, "prod": {}}}}))
    (repo / "node_modules").mkdir()
    _git(repo, "add", "cdk.json")
    _git(repo, "commit", "--quiet", "-m", "base")
    (repo / "cdk.json").write_text(json.dumps({"context": {"profiles": {"dev": {}}}}))
    commit = resolve_commit(repo, "main")
    with base_worktree(repo, commit) as (worktree, scratch):
        assert profiles_of(worktree) == ["dev", "prod"]  # the commit, not the working tree
        assert (worktree / "node_modules").resolve() == (repo / "node_modules").resolve()
        assert scratch.is_dir() and worktree.parent == scratch
    assert not worktree.exists()
    assert len(_git(repo, "worktree", "list").splitlines()) == 1
    with pytest.raises(ReviewError, match="git rev-parse no-such-ref"):
        resolve_commit(repo, "no-such-ref")
