"""`make new-team`: a team is data. The scaffold's rules (a name, a VPC range of its own, the
profile inserted into cdk.json as text), and, on a copy of the repository, that a team added
with `make new-team NAME=analytics REGION=eu-west-1` synthesizes and keeps the tests that iterate
over the profiles of cdk.json green, with no other edit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from platform_config import load_profiles, read_cdk_profiles
from tests.tools.repository_copy import ROOT, copy_repository, make
from tools.new_team import TeamError, free_vpc_range, insert_profile, plan

# The test modules that iterate over the profiles of cdk.json, run on the copy with the new team:
# every profile valid; the deploy workflow generated for every profile; every profile's DAG folder
# imports; the team's own DAG tests; the committed IAM policies current, and the team's operator
# policy meeting the permission contract; the team's stacks pass cfn-lint and every cdk-nag pack.
# (About two minutes on two cores; the rest of `make test` checks the shipped profiles.)
PROFILE_SUITE = [
    "tests/config/test_profile.py",
    "tests/config/test_profiles.py",
    "tests/ci/test_workflows.py",
    "tests/dags/test_dag_folders.py",
    "tests/teams/analytics",
    "tests/permissions/test_generated_policies.py::test_the_committed_policies_are_current",
    "tests/permissions/test_contract.py::test_every_actor_can_do_its_job_and_nothing_it_must_not[analytics]",
    "tests/infra/test_app.py::test_profiles_synthesize_their_stacks[analytics]",
    "tests/infra/test_app.py::test_cfn_lint_reports_nothing[analytics]",
    "tests/infra/test_app.py::test_every_pack_has_no_unacknowledged_finding[analytics]",
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """cdk.json as shipped, in a folder of its own, with the repository's DAG folder."""
    shutil.copy(ROOT / "cdk.json", tmp_path / "cdk.json")
    shutil.copytree(ROOT / "dags", tmp_path / "dags", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_profile_has_safe_defaults_and_a_range_and_names_of_its_own(repo: Path) -> None:
    scaffold = plan(repo, "analytics", region="eu-west-1")
    document = json.loads(scaffold.files["cdk.json"])
    profiles = document["context"]["profiles"]
    team = profiles["analytics"]
    assert list(profiles)[-1] == "analytics"
    assert (team["environment_name"], team["region"]) == ("mwaa-analytics", "eu-west-1")
    assert team["webserver_access_mode"] == "PRIVATE_ONLY"
    assert (team["encryption"], team["removal_policy"], team["termination_protection"]) == (
        "customer_managed",
        "retain",
        True,
    )
    assert team["alarms"]["enabled"] is True
    assert team["artifacts"] == {
        "dags": "teams/analytics/dags",
        "requirements": "teams/analytics/requirements.txt",
        "plugins": None,
        "startup_script": None,
    }
    # The next /16 after the shipped profiles' 10.192 and 10.193.
    assert team["network"] == {"mode": "nat", "nat_gateways": 1, "vpc_cidr": "10.194.0.0/16"}
    # Every profile of the new cdk.json, checked together (names, stacks, ranges).
    assert len(load_profiles(profiles, ",".join(profiles))) == len(profiles)


def test_the_rest_of_cdk_json_stays_as_written(repo: Path) -> None:
    before = (repo / "cdk.json").read_text()
    after = plan(repo, "analytics").files["cdk.json"]
    # One insertion after the last profile; every other character as it was.
    start = next(i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b)
    inserted = after[start : start + len(after) - len(before)]
    assert after[start + len(inserted) :] == before[start:]
    assert inserted.startswith(',\n      "analytics": {\n        "environment_name": "mwaa-analytics",\n')
    assert (
        '        "network": { "mode": "nat", "nat_gateways": 1, "vpc_cidr": "10.194.0.0/16" },\n' in inserted
    )
    old = json.loads(before)["context"]["profiles"]
    new = json.loads(after)["context"]["profiles"]
    assert {k: v for k, v in new.items() if k != "analytics"} == old


def test_a_profile_is_inserted_into_an_empty_profiles_object() -> None:
    text = '{\n  "context": {\n    "profiles": {}\n  }\n}\n'
    assert json.loads(insert_profile(text, "t", {"environment_name": "mwaa-t"}))["context"]["profiles"] == {
        "t": {"environment_name": "mwaa-t"}
    }


def test_the_vpc_range_skips_every_overlap_of_the_account_only() -> None:
    profiles: dict[str, Any] = {
        "a": {},  # the default range, 10.192.0.0/16
        "b": {"network": {"vpc_cidr": "10.193.128.0/24"}},
        "c": {"network": {"mode": "existing", "vpc_cidr": "10.194.0.0/16"}},  # creates no VPC
        "d": {"account": "111122223333", "network": {"vpc_cidr": "10.194.0.0/16"}},  # another account
    }
    assert free_vpc_range(profiles, account=None) == "10.194.0.0/16"
    assert free_vpc_range(profiles, account="111122223333") == "10.192.0.0/16"
    every = {f"p{i}": {"network": {"vpc_cidr": f"10.{i}.0.0/16"}} for i in range(192, 256)}
    assert free_vpc_range(every, account=None) == "10.0.0.0/16"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Analytics", "NAME: got 'Analytics'; expected up to 40 lower-case letters"),
        ("data_eng", "NAME: got 'data_eng'"),
        ("-x", "NAME: got '-x'"),
        ("dev", "NAME: cdk.json already has a profile 'dev'; choose another name"),
    ],
)
def test_a_name_that_cannot_name_everything_is_refused(repo: Path, name: str, message: str) -> None:
    with pytest.raises(TeamError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        plan(repo, name)


def test_a_team_that_would_collide_is_refused_before_anything_is_written(repo: Path) -> None:
    document = json.loads((repo / "cdk.json").read_text())
    document["context"]["profiles"]["other"] = {
        **document["context"]["profiles"]["prod"],
        "environment_name": "mwaa-analytics",
        "network": {"vpc_cidr": "10.200.0.0/16"},
    }
    (repo / "cdk.json").write_text(json.dumps(document))
    with pytest.raises(TeamError, match="both set environment_name 'mwaa-analytics'"):
        plan(repo, "analytics")
    with pytest.raises(TeamError, match="region: got 'europe'; expected a region code"):
        plan(repo, "finance", region="europe")
    with pytest.raises(TeamError, match="OWNERS: got 'analytics-team'"):
        plan(repo, "finance", owners=("analytics-team",))


def test_owners_get_codeowners_lines_for_the_team_folders(repo: Path) -> None:
    files = plan(repo, "data-eng", owners=("@example-org/data-eng", "lead@example.com")).files
    assert files[".github/CODEOWNERS"].endswith(
        "/teams/data-eng/ @example-org/data-eng lead@example.com\n"
        "/tests/teams/data-eng/ @example-org/data-eng lead@example.com\n"
    )
    # A name with '-' is a Python identifier with '_' where DAGs and modules need one.
    assert "teams/data-eng/dags/data_eng_example.py" in files
    assert 'dag_id="data_eng_example"' in files["teams/data-eng/dags/data_eng_example.py"]


def test_the_requirements_file_holds_the_constraint_line_of_the_profiles_version(repo: Path) -> None:
    files = plan(repo, "analytics").files
    airflow = json.loads(files["cdk.json"])["context"]["profiles"]["analytics"]["airflow_version"]
    assert files["teams/analytics/requirements.txt"].splitlines()[-1] == (
        f'--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-{airflow}/'
        'constraints-3.12.txt"'
    )


def test_the_team_docs_show_the_tests_make_new_team_writes(repo: Path) -> None:
    docs = (ROOT / "docs" / "teams.md").read_text()
    files = plan(repo, "analytics").files
    for path in ("tests/teams/analytics/conftest.py", "tests/teams/analytics/test_analytics_example.py"):
        marker = f"<!-- scaffold: {path} -->\n```python\n"
        start = docs.index(marker) + len(marker)
        assert docs[start : docs.index("```\n", start)] == files[path], (
            f"docs/teams.md: {path} is not current"
        )


# -- On a copy of the repository ----------------------------------------------------------------


def test_a_team_added_on_a_copy_synthesizes_and_keeps_the_profile_tests_green(tmp_path: Path) -> None:
    copy = copy_repository(tmp_path / "copy")
    added = make(copy, "new-team", "NAME=analytics", "REGION=eu-west-1", "OWNERS=@example-org/analytics")
    assert added.returncode == 0, added.stdout[-3000:] + added.stderr[-3000:]
    assert "team analytics added" in added.stdout
    profiles = read_cdk_profiles(copy / "cdk.json")
    assert list(profiles)[-1] == "analytics"
    assert (copy / "policies" / "operator-analytics.json").is_file()
    assert (
        "  analytics:\n    name: deploy analytics\n    needs: dev\n"
        in (copy / ".github" / "workflows" / "deploy.yml").read_text()
    )
    # What it wrote reads as the repository's code does (make test lints the whole tree).
    ruff = str(Path(sys.executable).with_name("ruff"))
    for command in (["check"], ["format", "--check"]):
        lint = subprocess.run(
            [ruff, *command, "teams", "tests/teams"], cwd=copy, capture_output=True, text=True
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr
    # Nothing else to do: the same name twice is refused, and nothing changes.
    again = make(copy, "new-team", "NAME=analytics")
    assert again.returncode != 0 and "already has a profile 'analytics'" in again.stderr

    synth = make(copy, "synth", "PROFILE=analytics")
    assert synth.returncode == 0, synth.stdout[-3000:] + synth.stderr[-3000:]
    assert "profile analytics: stacks mwaa-analytics-platform" in synth.stderr
    assert "DAG files from teams/analytics/dags/ (1): analytics_example.py" in synth.stderr
    manifest = json.loads((copy / "cdk.out" / "manifest.json").read_text())
    assert manifest["artifacts"]["mwaa-analytics-platform"]["environment"].endswith("/eu-west-1")

    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", *PROFILE_SUITE],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert suite.returncode == 0, suite.stdout[-6000:]
    summary = suite.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary


def test_a_broken_dag_fails_synth_with_its_line_and_deploy_before_any_stack_changes(tmp_path: Path) -> None:
    copy = copy_repository(tmp_path / "copy")
    fake_cdk = "CDK=echo the CDK CLI was called"
    (copy / "dags" / "broken_report.py").write_text("from airflow.sdk import dag\n\nrows = sum((1, 2)\n")
    synth = make(copy, "synth", "PROFILE=prod")
    assert synth.returncode != 0
    assert "dags/broken_report.py:3: SyntaxError: '(' was never closed" in synth.stderr
    deploy = make(copy, "deploy", "PROFILE=prod", fake_cdk)
    assert deploy.returncode != 0
    assert "ERROR dags/broken_report.py:3: SyntaxError: '(' was never closed" in deploy.stdout
    assert "the CDK CLI was called" not in deploy.stdout

    # An impossible schedule compiles: synth passes it, the deploy's import check stops it.
    smoke = (ROOT / "dags" / "mwaa_platform_smoke.py").read_text()
    nightly = smoke.replace("schedule=None", 'schedule="0 25 * * *"').replace(
        "dag_id=DAG_ID", 'dag_id="nightly"'
    )
    (copy / "dags" / "broken_report.py").write_text(nightly)
    deploy = make(copy, "deploy", "PROFILE=prod", fake_cdk)
    assert deploy.returncode != 0
    assert "ERROR dags/broken_report.py: AirflowTimetableInvalid: [0 25 * * *]" in deploy.stdout
    assert "the CDK CLI was called" not in deploy.stdout
    (copy / "dags" / "broken_report.py").unlink()
    deploy = make(copy, "deploy", "PROFILE=prod", fake_cdk)
    assert deploy.returncode == 0, deploy.stdout[-2000:] + deploy.stderr[-2000:]
    assert "the CDK CLI was called deploy --all -c profile=prod" in deploy.stdout
