"""The sample as an add-on: its manifest (sample/addon.toml) as the platform reads it, its setting
and its rules on a profile, its stack names, its DAG folder and its cost footprint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from mwaa_constructs import ArtifactError
from mwaa_rules import cost
from platform_config import Profile, ProfileError, load_profile, load_profiles, read_cdk_profiles
from platform_config.profile import addon_manifests
from sample.data_plane import DAG_PACKAGE, DAG_SOURCE
from stacks import build_profile_stacks
from stacks.addons import addon_problems, load_addons
from tests.infra.conftest import ROOT, cdk_context, copy_sources

PROFILE = "test"
BASE: dict[str, Any] = {"environment_name": "mwaa-test", "airflow_version": "3.3.1"}
EXISTING = {
    "mode": "existing",
    "vpc_id": "vpc-0123456789abcdef0",
    "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
}


def load(**overrides: Any) -> Profile:
    """A profile read as the app reads it: with the add-ons' own rules."""
    return load_profile({PROFILE: {**BASE, **overrides}}, PROFILE, checks=[addon_problems])


def rejected(**overrides: Any) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        load(**overrides)
    assert caught.value.profile == PROFILE
    return caught.value.problems


def test_the_manifest_names_what_the_data_plane_deploys() -> None:
    (manifest,) = [m for m in addon_manifests() if m.name == "sample"]
    assert manifest.folder == ROOT / "sample"
    assert (manifest.dag_folder, manifest.dag_source) == (DAG_PACKAGE, DAG_SOURCE)
    assert manifest.contract == ROOT / "sample" / "permissions.toml"
    assert manifest.enabled_by == "sample_data"
    # Redshift Serverless needs three zones; the data plane refuses fewer subnets.
    assert manifest.availability_zones == 3


def test_sample_data_is_off_by_default_and_a_boolean() -> None:
    profile = load()
    assert profile.addons["sample"] == {"sample_data": False}
    assert profile.enabled_addons == ()
    assert rejected(sample_data=1) == ["sample_data: got 1; expected bool"]


def test_sample_data_is_a_known_setting_with_a_suggestion() -> None:
    (line,) = [p for p in rejected(sample_dat=True) if p.startswith("sample_dat:")]
    assert line.startswith("sample_dat: unknown setting; did you mean 'sample_data'? allowed settings are ")
    assert "sample_data" in line.split("allowed settings are ")[1].split(", ")


@pytest.mark.parametrize("network", [{"mode": "isolated"}, EXISTING], ids=lambda n: n["mode"])
def test_sample_data_needs_nat(network: dict[str, Any]) -> None:
    assert rejected(sample_data=True, network=network) == [
        "sample_data: got True; the sample data plane needs network.mode 'nat' (its DAG downloads "
        f"MovieLens from the internet), but network.mode is '{network['mode']}': set sample_data to "
        "false or use 'nat'"
    ]


def test_the_sample_needs_the_secrets_backend() -> None:
    assert rejected(sample_data=True, secrets_backend={"enabled": False}) == [
        "sample_data: got True; the sample DAG reads its HTTP connection through the secrets backend, but "
        "secrets_backend.enabled is false: set sample_data to false or turn the backend on"
    ]


def test_sample_data_with_nat_accepted_and_off_is_fine_in_isolated_mode() -> None:
    on = load(sample_data=True, network={"mode": "nat"})
    assert [m.name for m in on.enabled_addons] == ["sample"]
    assert on.availability_zones == 3
    off = load(sample_data=False, network={"mode": "isolated"})
    assert (off.enabled_addons, off.availability_zones) == ((), 2)


def test_the_rules_wait_for_valid_platform_settings() -> None:
    # A rejected network mode is reported once, not again through the sample's rule.
    problems = rejected(sample_data=True, network={"mode": "vpn"})
    assert problems == ["network.mode: got 'vpn'; allowed values are 'nat', 'isolated', 'existing'"]


@pytest.mark.parametrize(
    ("name", "platform", "sample"),
    [
        ("mwaa_analytics", "mwaa-analytics-platform", "mwaa-analytics-sample-data"),
        ("Mwaa_Dev-2", "Mwaa-Dev-2-platform", "Mwaa-Dev-2-sample-data"),
        ("mwaa-dev", "mwaa-dev-platform", "mwaa-dev-sample-data"),
    ],
)
def test_the_sample_stack_is_named_after_the_environment(name: str, platform: str, sample: str) -> None:
    profile = load(environment_name=name, sample_data=True)
    (manifest,) = profile.enabled_addons
    assert profile.addon_stack_name(manifest) == sample
    assert profile.stack_names == (platform, sample)
    assert load(environment_name=name).stack_names == (platform,)


def test_the_longest_environment_name_gives_a_sample_stack_name_cloudformation_accepts() -> None:
    import re

    profile = load(environment_name="m_" + "x" * 78, sample_data=True)
    assert len(profile.stack_names) == 2
    for stack in profile.stack_names:
        # CloudFormation CreateStack: letters, digits and '-', a letter first, 1-128 characters.
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", stack), stack


def test_dev_deploys_the_sample_and_prod_does_not() -> None:
    shipped = read_cdk_profiles(ROOT / "cdk.json")
    dev, prod = load_profiles(shipped, "dev,prod", root=ROOT, checks=[addon_problems])
    assert [m.name for m in dev.enabled_addons] == ["sample"]
    assert prod.enabled_addons == ()
    assert [type(addon).__name__ for addon in load_addons(dev)] == ["SampleAddon"]


def test_the_cost_model_counts_the_sample_from_its_manifest() -> None:
    on = load(sample_data=True, region="us-east-1")
    off = load(region="us-east-1")
    footprint_on, footprint_off = cost.footprint_from_profile(on), cost.footprint_from_profile(off)
    # The Redshift admin secret and the movielens_http connection; one Redshift workgroup.
    assert footprint_on.secrets - footprint_off.secrets == 2
    assert footprint_on.redshift_serverless_workgroups == 1
    assert footprint_off.redshift_serverless_workgroups == 0
    estimate_on, estimate_off = cost.estimate_profile(on), cost.estimate_profile(off)
    # Secrets Manager $0.40 a secret-month; the workgroup bills only while queries run.
    assert estimate_on.monthly_idle - estimate_off.monthly_idle == pytest.approx(2 * 0.40)
    assert any("costs $0 idle" in note for note in estimate_on.notes)


def test_the_sample_refuses_a_team_folder_of_the_same_name(tmp_path: Path) -> None:
    root = copy_sources(tmp_path / "repo")
    (root / "dags" / "movie_list").mkdir()
    context = cdk_context()
    (profile,) = load_profiles(context["profiles"], "dev", root=root)
    app = cdk.App(context={k: v for k, v in context.items() if k != "profiles"}, outdir=str(tmp_path / "out"))
    with pytest.raises(
        ArtifactError,
        match=r"artifacts.dags 'dags' has a 'movie_list' folder, which the add-on 'sample' \(sample_data\)",
    ):
        build_profile_stacks(app, profile, root=root)


def test_building_a_profile_refuses_what_the_sample_refuses(tmp_path: Path) -> None:
    # Whoever builds the stacks (the pipeline, the permission tools) gets the add-on's rules too.
    profile = load_profile({PROFILE: {**BASE, "sample_data": True, "network": {"mode": "isolated"}}}, PROFILE)
    app = cdk.App(outdir=str(tmp_path / "out"))
    with pytest.raises(ProfileError, match=r"sample_data: got True; the sample data plane needs network"):
        build_profile_stacks(app, profile, root=copy_sources(tmp_path / "repo"))
    assert not app.node.children
