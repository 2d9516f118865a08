"""The two sides of a review: the working tree, and BASE checked out in a temporary git worktree;
each profile synthesized in both with the pinned CDK CLI and read back from the cloud assembly's
``manifest.json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.review.model import ReviewError, StackTemplate


def read_assembly(outdir: Path) -> list[StackTemplate]:
    """The stacks of a cloud assembly (``manifest.json``), nested stage assemblies included."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks: list[StackTemplate] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        properties = artifact.get("properties", {})
        if artifact.get("type") == "aws:cloudformation:stack":
            name = properties.get("stackName") or artifact.get("displayName") or artifact_id
            template = json.loads((outdir / properties["templateFile"]).read_text())
            stacks.append(
                StackTemplate(name, artifact_id, _region_of(artifact.get("environment", "")), template)
            )
        elif artifact.get("type") == "cdk:cloud-assembly" and "directoryName" in properties:
            stacks.extend(read_assembly(outdir / properties["directoryName"]))
    return stacks


def _region_of(environment: str) -> str | None:
    # "aws://<account>/<region>", with "unknown-region" in an environment-agnostic synth.
    region = environment.rsplit("/", 1)[-1] if environment.startswith("aws://") else ""
    return None if not region or region.startswith("unknown-") else region


def synthesize(tree: Path, profile: str, outdir: Path) -> list[StackTemplate]:
    """``npx cdk synth -c profile=<profile>`` in ``tree`` into ``outdir``, with this Python on PATH."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    command = [
        "npx",
        "--no-install",
        "cdk",
        "synth",
        "--quiet",
        "-c",
        f"profile={profile}",
        "-o",
        str(outdir),
    ]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise ReviewError(f"synth of profile {profile} in {tree.name} failed:\n{tail}")
    return read_assembly(outdir)


def profiles_of(tree: Path) -> list[str]:
    """The profile names of ``tree``'s cdk.json (context key ``profiles``), in file order."""
    path = tree / "cdk.json"
    if not path.is_file():
        return []
    try:
        return list(json.loads(path.read_text()).get("context", {}).get("profiles", {}))
    except ValueError as error:
        raise ReviewError(f"{path.name} of {tree.name}: invalid JSON ({error})") from None


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReviewError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def resolve_commit(repo: Path, ref: str) -> str:
    """The commit ``ref`` names in ``repo``; a ReviewError when it names none."""
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        detail = result.stderr.strip() or "not a commit of this repository (a remote branch: git fetch first)"
        raise ReviewError(f"git rev-parse {ref}: {detail}")
    return result.stdout.strip()


@contextmanager
def base_worktree(repo: Path, commit: str) -> Iterator[tuple[Path, Path]]:
    """``(worktree, scratch)``: ``commit`` checked out (detached) in a temporary git worktree that
    shares ``repo``'s node_modules, and a scratch folder beside it for the assemblies; both
    removed afterwards, the worktree's registration in ``repo`` too."""
    with tempfile.TemporaryDirectory(prefix="mwaa-review-") as scratch:
        worktree = Path(scratch) / "base"
        git("worktree", "add", "--detach", "--quiet", str(worktree), commit, cwd=repo)
        try:
            if (repo / "node_modules").is_dir():
                (worktree / "node_modules").symlink_to(repo / "node_modules", target_is_directory=True)
            yield worktree, Path(scratch)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=repo,
                capture_output=True,
                check=False,
            )
