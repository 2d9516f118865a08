"""Artifact sources per profile, several profiles per synth, and reading cdk.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platform_config import (
    ArtifactSettings,
    ProfileError,
    ProfilesError,
    load_profile,
    load_profiles,
    read_cdk_profiles,
)

BASE: dict[str, Any] = {"environment_name": "mwaa-a", "airflow_version": "3.0.6"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with the default artifact layout and a team folder."""
    (tmp_path / "dags").mkdir()
    (tmp_path / "runtime" / "plugins").mkdir(parents=True)
    (tmp_path / "runtime" / "mwaa-requirements.txt").write_text("")
    (tmp_path / "runtime" / "startup.sh").write_text("#!/bin/bash\n")
    (tmp_path / "teams" / "finance" / "dags").mkdir(parents=True)
    (tmp_path / "teams" / "finance" / "requirements.txt").write_text("")
    return tmp_path


def problems(repo: Path, artifacts: Any) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        load_profile({"team": {**BASE, "artifacts": artifacts}}, "team", root=repo)
    assert str(caught.value).startswith("profile 'team' is invalid:")
    return caught.value.problems


def test_artifacts_default_to_the_repository_layout(repo: Path) -> None:
    profile = load_profile({"team": BASE}, "team", root=repo)
    assert profile.artifacts == ArtifactSettings(
        dags="dags",
        plugins="runtime/plugins",
        requirements="runtime/mwaa-requirements.txt",
        startup_script="runtime/startup.sh",
    )


def test_a_team_sets_its_own_sources_and_drops_the_others(repo: Path) -> None:
    artifacts = {
        "dags": "teams/finance/dags",
        "requirements": "teams/finance/requirements.txt",
        "plugins": None,
        "startup_script": None,
    }
    profile = load_profile({"team": {**BASE, "artifacts": artifacts}}, "team", root=repo)
    assert profile.artifacts == ArtifactSettings(
        dags="teams/finance/dags",
        plugins=None,
        requirements="teams/finance/requirements.txt",
        startup_script=None,
    )


@pytest.mark.parametrize(
    ("artifacts", "expected"),
    [
        (
            {"dags": "teams/sales/dags"},
            "artifacts.dags: got 'teams/sales/dags'; no such folder in the repository",
        ),
        (
            {"dags": None},
            "artifacts.dags: got None; expected the folder of the DAGs, relative to the repository",
        ),
        (
            {"dags": "runtime/startup.sh"},
            "artifacts.dags: got 'runtime/startup.sh'; expected a folder, found a file",
        ),
        (
            {"requirements": "runtime/plugins"},
            "artifacts.requirements: got 'runtime/plugins'; expected a file, found a folder",
        ),
        (
            {"plugins": "/etc"},
            "artifacts.plugins: got '/etc'; expected a folder path relative to the repository, without '..'",
        ),
        (
            {"startup_script": "../outside.sh"},
            "artifacts.startup_script: got '../outside.sh'; expected a file path relative to the "
            "repository, without '..'",
        ),
        (
            {"requirements": 3},
            "artifacts.requirements: got 3; expected a file path relative to the repository, or null",
        ),
        (
            "dags",
            "artifacts: got 'dags'; expected an object with dags, plugins, requirements, startup_script",
        ),
    ],
)
def test_bad_artifact_paths_are_named_with_the_profile(repo: Path, artifacts: Any, expected: str) -> None:
    assert problems(repo, artifacts) == [expected]


def test_a_link_out_of_the_repository_is_rejected(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (repo / "linked").symlink_to(outside, target_is_directory=True)
    assert problems(repo, {"dags": "linked"}) == [
        "artifacts.dags: got 'linked'; must lie inside the repository (it resolves outside through a link)"
    ]


def test_without_a_root_only_the_form_of_the_paths_is_checked() -> None:
    profile = load_profile({"team": {**BASE, "artifacts": {"dags": "not/checked"}}}, "team")
    assert profile.artifacts.dags == "not/checked"


# --- several profiles -------------------------------------------------------------------------

PROFILES: dict[str, Any] = {
    "dev": {**BASE, "environment_name": "mwaa-dev", "network": {"vpc_cidr": "10.1.0.0/16"}},
    "prod": {**BASE, "environment_name": "mwaa-prod", "network": {"vpc_cidr": "10.2.0.0/16"}},
    "staging": {**BASE, "environment_name": "mwaa-staging", "network": {"vpc_cidr": "10.3.0.0/16"}},
}


def test_profiles_are_selected_by_a_comma_separated_list_in_order() -> None:
    loaded = load_profiles(PROFILES, "prod, dev,prod")
    assert [p.name for p in loaded] == ["prod", "dev"]
    assert [p.name for p in load_profiles(PROFILES, None)] == ["dev"]


@pytest.mark.parametrize("names", ["", ",", " , "])
def test_an_empty_selection_is_an_error(names: str) -> None:
    with pytest.raises(
        ProfileError, match=r"profile: got an empty name; name one of 'dev', 'prod', 'staging'"
    ):
        load_profiles(PROFILES, names)


def test_every_invalid_profile_is_reported() -> None:
    broken = {**PROFILES, "prod": {**PROFILES["prod"], "max_workers": 40}}
    with pytest.raises(ProfilesError) as caught:
        load_profiles(broken, "prod,qa")
    message = str(caught.value)
    assert "profile 'prod' is invalid:\n  - max_workers: got 40;" in message
    assert "profile 'qa' not found in cdk.json" in message


def test_profiles_with_one_environment_name_collide() -> None:
    twins = {**PROFILES, "staging": {**PROFILES["staging"], "environment_name": "mwaa-dev"}}
    with pytest.raises(ProfilesError) as caught:
        load_profiles(twins, "dev,staging")
    assert caught.value.problems == [
        "profiles 'dev', 'staging' collide:\n  - profiles 'dev' and 'staging' both set environment_name "
        "'mwaa-dev': it names the environment, its stacks, log groups and DAG bucket; "
        "give each profile its own"
    ]


def test_one_vpc_range_in_one_account_collides_but_not_across_accounts() -> None:
    same = {
        "a": {**PROFILES["dev"], "account": "111122223333"},
        "b": {**PROFILES["prod"], "account": "111122223333", "network": {"vpc_cidr": "10.1.0.0/16"}},
        "c": {**PROFILES["staging"], "account": "444455556666", "network": {"vpc_cidr": "10.1.0.0/16"}},
    }
    with pytest.raises(
        ProfilesError,
        match=r"profiles 'a' and 'b' both set network.vpc_cidr '10\.1\.0\.0/16' in account 111122223333",
    ):
        load_profiles(same, "a,b")
    assert [p.name for p in load_profiles(same, "a,c")] == ["a", "c"]


def test_an_existing_network_has_no_range_to_collide() -> None:
    existing = {
        "mode": "existing",
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
    }
    shared = {"dev": PROFILES["dev"], "team": {**BASE, "environment_name": "mwaa-team", "network": existing}}
    shared["dev"] = {**shared["dev"], "network": {"vpc_cidr": "10.192.0.0/16"}}
    assert len(load_profiles(shared, "dev,team")) == 2


# --- cdk.json -------------------------------------------------------------------------------


def test_malformed_cdk_json_points_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cdk.json"
    path.write_text('{\n  "context": {\n    "profiles": {,}\n  }\n}\n')
    with pytest.raises(ProfileError) as caught:
        read_cdk_profiles(path)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}, line 3, column 18: invalid JSON")


def test_cdk_json_without_profiles_says_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"app": "python3 app.py", "context": {}}))
    with pytest.raises(ProfileError, match=r"no 'context.profiles' object"):
        read_cdk_profiles(path)


def test_the_shipped_cdk_json_holds_dev_and_prod() -> None:
    profiles = read_cdk_profiles(Path(__file__).resolve().parents[2] / "cdk.json")
    assert {"dev", "prod"} <= set(profiles)


def test_the_cdk_json_check_of_make_synth_names_the_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "cdk.json"
    path.write_text('{\n  "context": {\n    "profiles": {"dev": {},}\n  }\n}\n')
    result = subprocess.run(
        [sys.executable, "-m", "platform_config", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path}, line 3, column 28: invalid JSON")
    assert "Traceback" not in result.stderr
