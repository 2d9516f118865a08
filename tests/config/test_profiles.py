"""Artifact sources per profile, several profiles per synth, and reading cdk.json."""

from __future__ import annotations

import ipaddress
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
    synth_profiles,
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


COLLIDE = "profiles of cdk.json collide (the selected ones are checked against every profile there):\n"


def collisions(profiles: dict[str, Any], names: str) -> list[str]:
    """The collision lines ``load_profiles`` reports for ``names``."""
    with pytest.raises(ProfilesError) as caught:
        load_profiles(profiles, names)
    (message,) = caught.value.problems
    assert message.startswith(COLLIDE), message
    return [line.removeprefix("  - ") for line in message.removeprefix(COLLIDE).split("\n")]


def test_profiles_with_one_environment_name_collide() -> None:
    twins = {**PROFILES, "staging": {**PROFILES["staging"], "environment_name": "mwaa-dev"}}
    assert collisions(twins, "dev,staging") == [
        "profiles 'dev' and 'staging' both set environment_name 'mwaa-dev': it names the environment, "
        "its stacks, log groups and DAG bucket; give each profile its own"
    ]


def test_a_copied_profile_collides_with_its_original_when_selected_alone(tmp_path: Path) -> None:
    """The copy of a shipped profile (a new profile name, every setting kept) would deploy over
    the original's stacks: synthesizing only the copy fails, naming both and the settings."""
    document = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())
    shipped = document["context"]["profiles"]
    shipped["prod-eu"] = json.loads(json.dumps(shipped["prod"]))
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps(document, indent=2))
    profiles = read_cdk_profiles(path)
    assert collisions(profiles, "prod-eu") == [
        "profiles 'prod-eu' and 'prod' (not selected) both set environment_name 'mwaa-prod': it names "
        "the environment, its stacks, log groups and DAG bucket; give each profile its own",
        "profiles 'prod-eu' and 'prod' (not selected) both set network.vpc_cidr '10.193.0.0/16' in the "
        "deploying account: give each VPC its own range so that they can be peered or routed later",
    ]
    # Given names and ranges of its own, the copy synthesizes alone and with the others.
    shipped["prod-eu"] |= {"environment_name": "mwaa-prod-eu", "network": {"vpc_cidr": _free_range(shipped)}}
    assert [p.name for p in load_profiles(shipped, "prod-eu")] == ["prod-eu"]
    assert len(load_profiles(shipped, ",".join(shipped))) == len(shipped)


def _free_range(profiles: dict[str, Any]) -> str:
    """A /16 that no profile of ``profiles`` uses (cdk.json may hold more than dev and prod)."""
    used = [
        ipaddress.ip_network(p.get("network", {}).get("vpc_cidr", "10.192.0.0/16")) for p in profiles.values()
    ]
    for second in range(256):
        candidate = ipaddress.ip_network(f"10.{second}.0.0/16")
        if not any(candidate.overlaps(other) for other in used):
            return str(candidate)
    raise AssertionError("no free /16 in 10.0.0.0/8")


def test_environment_names_that_differ_only_in_underscores_share_stacks() -> None:
    profiles = {
        "a": {**BASE, "environment_name": "mwaa_analytics", "network": {"vpc_cidr": "10.1.0.0/16"}},
        "b": {**BASE, "environment_name": "mwaa-analytics", "network": {"vpc_cidr": "10.2.0.0/16"}},
    }
    assert collisions(profiles, "b") == [
        "profiles 'b' and 'a' (not selected) set environment_name 'mwaa-analytics' and 'mwaa_analytics', "
        "which deploy the same stack 'mwaa-analytics-platform' (stack names replace '_' by '-'); give "
        "each profile a name that differs in more than '_' and '-'"
    ]


def test_environment_names_collide_across_accounts_too() -> None:
    profiles = {
        "a": {**PROFILES["dev"], "account": "111122223333"},
        "b": {**PROFILES["prod"], "account": "444455556666", "environment_name": "mwaa-dev"},
    }
    (line,) = collisions(profiles, "a")
    assert line.startswith("profiles 'a' and 'b' (not selected) both set environment_name 'mwaa-dev'")


def test_one_vpc_range_in_one_account_collides_in_any_region() -> None:
    account = {"account": "111122223333"}
    same = {
        "a": {**PROFILES["dev"], **account, "region": "eu-west-1"},
        "b": {**PROFILES["prod"], **account, "region": "us-east-1", "network": {"vpc_cidr": "10.1.0.0/16"}},
    }
    assert collisions(same, "a") == [
        "profiles 'a' and 'b' (not selected) both set network.vpc_cidr '10.1.0.0/16' in account "
        "111122223333: give each VPC its own range so that they can be peered or routed later"
    ]


def test_overlapping_vpc_ranges_in_one_account_collide() -> None:
    overlapping = {
        "a": PROFILES["dev"],  # 10.1.0.0/16
        "b": {**PROFILES["prod"], "network": {"vpc_cidr": "10.1.128.0/20"}},
    }
    assert collisions(overlapping, "b") == [
        "profiles 'b' and 'a' (not selected) set network.vpc_cidr '10.1.128.0/20' and '10.1.0.0/16', "
        "which overlap, in the deploying account: give each VPC a range of its own so that they can be "
        "peered or routed later"
    ]


def test_other_accounts_may_reuse_a_vpc_range() -> None:
    accounts = {
        "a": {**PROFILES["dev"], "account": "111122223333"},
        "c": {**PROFILES["staging"], "account": "444455556666", "network": {"vpc_cidr": "10.1.0.0/16"}},
        # An unset account is the deploying one, which may be any: not the same as a named one.
        "d": {**PROFILES["prod"], "network": {"vpc_cidr": "10.1.0.0/16"}},
    }
    assert [p.name for p in load_profiles(accounts, "a,c")] == ["a", "c"]
    assert [p.name for p in load_profiles(accounts, "d")] == ["d"]


def test_an_existing_network_has_no_range_to_collide() -> None:
    existing = {
        "mode": "existing",
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
    }
    shared = {"dev": PROFILES["dev"], "team": {**BASE, "environment_name": "mwaa-team", "network": existing}}
    shared["dev"] = {**shared["dev"], "network": {"vpc_cidr": "10.192.0.0/16"}}
    assert len(load_profiles(shared, "dev,team")) == 2
    assert len(load_profiles(shared, "team")) == 1


def test_an_invalid_profile_not_selected_is_compared_by_what_it_sets_right() -> None:
    broken = {
        **PROFILES,
        # Invalid (max_workers), but its environment name is valid and taken by 'dev'.
        "copy": {**PROFILES["dev"], "max_workers": 40, "network": {"vpc_cidr": "10.9.0.0/16"}},
        # Invalid environment name and range: nothing to compare, and not reported for 'dev'.
        "draft": {**BASE, "environment_name": 7, "network": {"vpc_cidr": "10.1.0.0/33"}},
    }
    assert collisions(broken, "dev") == [
        "profiles 'dev' and 'copy' (not selected) both set environment_name 'mwaa-dev': it names the "
        "environment, its stacks, log groups and DAG bucket; give each profile its own"
    ]
    del broken["copy"]
    assert [p.name for p in load_profiles(broken, "dev")] == ["dev"]


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


# --- what the CDK app reads -------------------------------------------------------------------

TEAM = {
    **BASE,
    "environment_name": "finance-prod",
    "artifacts": {"dags": "dags", "plugins": None, "startup_script": None},
}


def _write_cdk_json(path: Path, profiles: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"app": "python3 app.py", "context": {"profiles": profiles}}, indent=2))
    return path


def test_the_app_reads_nulls_from_cdk_json_that_the_context_lost(tmp_path: Path) -> None:
    cdk_json = _write_cdk_json(tmp_path / "cdk.json", {"team": TEAM})
    # What a Python CDK app gets from try_get_context: the null members are gone.
    context = {"team": {**BASE, "environment_name": "finance-prod", "artifacts": {"dags": "dags"}}}
    profiles = synth_profiles(cdk_json, context)
    assert profiles is not None and profiles["team"]["artifacts"]["plugins"] is None
    profile = load_profile(profiles, "team")
    assert (profile.artifacts.plugins, profile.artifacts.startup_script) == (None, None)
    assert profile.artifacts.requirements == "runtime/mwaa-requirements.txt"
    # From the context alone the nulls fall back to the defaults: the bug this prevents.
    assert load_profile(context, "team").artifacts.plugins == "runtime/plugins"


def test_context_profiles_that_differ_from_cdk_json_are_refused(tmp_path: Path) -> None:
    cdk_json = _write_cdk_json(tmp_path / "cdk.json", {"team": TEAM})
    overridden = {"team": {**BASE, "environment_name": "other", "artifacts": {"dags": "dags"}}}
    with pytest.raises(ProfileError) as caught:
        synth_profiles(cdk_json, overridden)
    assert caught.value.problems == [
        f"profiles: the CDK context holds profiles that differ from those of {cdk_json} (given with -c, "
        "or in another context file); the app reads profiles from that file only, where null keeps its "
        "meaning: set them there"
    ]
    with pytest.raises(ProfileError, match="differ from those of"):
        synth_profiles(cdk_json, '{"team": {}}')  # -c profiles=... arrives as a string


def test_without_cdk_json_the_app_uses_the_context(tmp_path: Path) -> None:
    assert synth_profiles(tmp_path / "cdk.json", PROFILES) == PROFILES
    assert synth_profiles(tmp_path / "cdk.json", None) is None
