"""Add-on manifests (``platform_config.addons``) and the settings they give a profile: discovery,
the checks of a manifest, an add-on's settings read, type-checked and defaulted like the
platform's own, and the rules over a whole profile (``checks``). Fixture add-ons are written into
a temporary repository by each test: nothing here depends on an add-on of this repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from platform_config import ProfileError, load_profile, load_profiles
from platform_config.addons import AddonError, AddonManifest, check_value
from platform_config.profile import Profile, addon_manifests

PROFILE = "test"
BASE: dict[str, Any] = {"environment_name": "mwaa-test", "airflow_version": "3.3.1"}

TEMPLATE = """\
name = "NAME"
description = "a report generator"
entry = "NAME.addon:ADDON"
enabled_by = "NAME"
stack_suffix = "NAME"

[dags]
folder = "NAME"
source = "dags"

[network]
availability_zones = 3

[footprint]
secrets = 1

[settings.NAME]
schema = { type = "boolean" }
default = false
description = "deploy the reports"

[settings.NAME_format]
schema = { type = "string", enum = ["csv", "parquet"] }
default = "csv"
description = "the format of the reports"

[settings.NAME_days]
schema = { type = "integer", minimum = 1, maximum = 31 }
default = 7
description = "days per report"
impact = "none"
"""


def manifest(name: str) -> str:
    """A valid manifest of an add-on ``name`` with the settings ``name``, ``name_format`` and
    ``name_days``."""
    return TEMPLATE.replace("NAME", name)


REPORTS = manifest("reports")


def write_addon(root: Path, folder: str, manifest: str, *, dags: bool = True) -> Path:
    (root / folder).mkdir(parents=True)
    if dags:
        (root / folder / "dags").mkdir()
    (root / folder / "addon.toml").write_text(manifest)
    return root / folder


@pytest.fixture
def reports(tmp_path: Path) -> list[AddonManifest]:
    write_addon(tmp_path, "reports", REPORTS)
    return addon_manifests(tmp_path)


def load(manifests: list[AddonManifest], **overrides: Any) -> Profile:
    return load_profile({PROFILE: {**BASE, **overrides}}, PROFILE, manifests=manifests)


def problems(manifests: list[AddonManifest], **overrides: Any) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        load(manifests, **overrides)
    return caught.value.problems


def manifest_problems(root: Path) -> list[str]:
    with pytest.raises(AddonError) as caught:
        addon_manifests(root)
    return caught.value.problems


# --- discovery ----------------------------------------------------------------------------------


def test_discovery_reads_every_top_level_manifest_sorted_by_folder(tmp_path: Path) -> None:
    write_addon(tmp_path, "zeta", manifest("zeta"))
    write_addon(tmp_path, "reports", REPORTS)
    (tmp_path / "not_an_addon").mkdir()
    (tmp_path / "deep" / "nested").mkdir(parents=True)
    (tmp_path / "deep" / "nested" / "addon.toml").write_text(REPORTS)  # not a top-level folder
    found = addon_manifests(tmp_path)
    assert [m.name for m in found] == ["reports", "zeta"]
    assert found == addon_manifests(tmp_path)  # the same on every call
    (reports,) = found[:1]
    assert reports.folder == tmp_path / "reports"
    assert reports.dag_source == (tmp_path / "reports" / "dags").resolve()
    assert reports.setting_keys == ("reports", "reports_format", "reports_days")
    assert reports.defaults() == {"reports": False, "reports_format": "csv", "reports_days": 7}


def test_a_repository_without_add_ons_has_none(tmp_path: Path) -> None:
    assert addon_manifests(tmp_path) == []
    profile = load([])
    assert (profile.addons, profile.enabled_addons, profile.stack_names) == ({}, (), ("mwaa-test-platform",))


# --- a manifest is checked ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            ('name = "reports"', 'name = "Reports!"'),
            "reports/addon.toml: name: got 'Reports!'; expected a value matching ^[a-z][a-z0-9_]{0,39}$",
            id="name",
        ),
        pytest.param(
            ('entry = "reports.addon:ADDON"', 'entry = "stacks.platform_stack:MwaaPlatformStack"'),
            "reports/addon.toml: entry: got 'stacks.platform_stack:MwaaPlatformStack'; expected a module of "
            "the add-on's own package 'reports'",
            id="entry-outside-its-package",
        ),
        pytest.param(
            ('enabled_by = "reports"', 'enabled_by = "reports_format"'),
            "reports/addon.toml: enabled_by: got 'reports_format'; expected a setting of type boolean",
            id="enabled-by-not-boolean",
        ),
        pytest.param(
            ("secrets = 1", "lambdas = 1"),
            "reports/addon.toml: footprint.lambdas: unknown part; allowed parts are nat_gateways, "
            "public_ipv4_addresses, interface_endpoint_azs, kms_keys, secrets, alarms, dashboards, "
            "redshift_serverless_workgroups",
            id="footprint-part",
        ),
        pytest.param(
            ("default = 7", "default = 40"),
            "reports/addon.toml: settings.reports_days.default: got 40; expected 1 to 31",
            id="default-breaks-its-schema",
        ),
        pytest.param(
            ("availability_zones = 3", "availability_zones = 6"),
            "reports/addon.toml: network.availability_zones: got 6; expected one of 2, 3",
            id="zones",
        ),
        pytest.param(
            ('stack_suffix = "reports"', 'stack_suffix = "platform"'),
            "reports/addon.toml: stack_suffix 'platform' is taken (the platform stack)",
            id="stack-suffix-of-the-platform",
        ),
        pytest.param(
            ('source = "dags"', 'source = "../outside"'),
            "reports/addon.toml: dags.source: got '../outside'; expected a folder inside the add-on's folder",
            id="dag-source-outside",
        ),
        pytest.param(
            ('impact = "none"', 'impact = "restart"'),
            "reports/addon.toml: settings.reports_days.impact: got 'restart'; allowed values are none, "
            "environment update, replacement",
            id="impact",
        ),
        pytest.param(
            ('schema = { type = "boolean" }', 'schema = { type = "boolean", format = "x" }'),
            "reports/addon.toml: settings.reports.schema.format: unsupported keyword; supported are type, "
            "enum, minimum, maximum, pattern",
            id="schema-keyword",
        ),
    ],
)
def test_a_malformed_manifest_names_its_file_and_key(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in REPORTS
    write_addon(tmp_path, "reports", REPORTS.replace(old, new, 1))
    assert expected in manifest_problems(tmp_path)


def test_an_add_on_may_not_own_a_platform_setting_or_another_add_ons(tmp_path: Path) -> None:
    write_addon(tmp_path, "reports", REPORTS.replace("[settings.reports_days]", "[settings.max_workers]"))
    write_addon(
        tmp_path, "other", manifest("other").replace("[settings.other_days]", "[settings.reports_format]")
    )
    found = manifest_problems(tmp_path)
    assert "reports/addon.toml: settings.max_workers: a setting of the platform; give it another key" in found
    # Sorted by folder: "other" claims the key first.
    assert (
        "reports/addon.toml: settings.reports_format: a setting of add-on 'other'; give it another key"
        in found
    )


def test_a_malformed_manifest_stops_loading_as_a_profile_error(tmp_path: Path) -> None:
    write_addon(tmp_path, "reports", "name = ")
    with pytest.raises(ProfileError) as caught:
        load_profiles({PROFILE: BASE}, PROFILE, manifests=addon_manifests(tmp_path))
    assert str(caught.value).startswith("add-on manifests are invalid:\n  - reports/addon.toml: invalid TOML")


# --- an add-on's settings in a profile --------------------------------------------------------


def test_the_settings_default_to_the_manifest_and_enable_the_add_on(reports: list[AddonManifest]) -> None:
    off = load(reports)
    assert off.addons == {"reports": {"reports": False, "reports_format": "csv", "reports_days": 7}}
    assert (off.enabled_addons, off.availability_zones, off.addon_footprints) == ((), 2, ())
    on = load(reports, reports=True, reports_format="parquet")
    assert on.addons["reports"] == {"reports": True, "reports_format": "parquet", "reports_days": 7}
    (manifest,) = on.enabled_addons
    assert on.stack_names == ("mwaa-test-platform", "mwaa-test-reports")
    assert on.addon_stack_name(manifest) == "mwaa-test-reports"
    # The zones and the footprint the manifest declares, for the network and the cost model.
    assert (on.availability_zones, on.addon_footprints) == (3, ({"secrets": 1},))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"reports": "yes"}, "reports: got 'yes'; expected bool"),
        ({"reports": 1}, "reports: got 1; expected bool"),
        ({"reports_format": "xml"}, "reports_format: got 'xml'; allowed values are 'csv', 'parquet'"),
        ({"reports_days": 0}, "reports_days: got 0; expected 1 to 31"),
        ({"reports_days": True}, "reports_days: got True; expected int"),
    ],
)
def test_the_settings_are_checked_against_the_manifest(
    reports: list[AddonManifest], overrides: dict[str, Any], expected: str
) -> None:
    assert problems(reports, **overrides) == [expected]


def test_an_unknown_key_suggests_an_add_on_setting_and_lists_it(reports: list[AddonManifest]) -> None:
    (line,) = problems(reports, reports_fromat="csv")
    assert line.startswith(
        "reports_fromat: unknown setting; did you mean 'reports_format'? allowed settings are "
    )
    listed = line.split("allowed settings are ")[1].split(", ")
    assert listed[:2] == ["account", "region"]
    assert listed[-3:] == ["reports", "reports_format", "reports_days"]


def test_without_the_manifest_the_setting_is_unknown() -> None:
    (line,) = problems([], reports=True)
    assert line.startswith("reports: unknown setting; ")


def test_checks_run_on_a_valid_profile_and_report_with_its_problems(reports: list[AddonManifest]) -> None:
    seen: list[str] = []

    def needs_nat(profile: Profile) -> list[str]:
        seen.append(profile.name)
        on = profile.addons["reports"]["reports"]
        return (
            [f"reports: got {on}; needs network.mode 'nat'"] if on and profile.network.mode != "nat" else []
        )

    raw = {PROFILE: {**BASE, "reports": True, "network": {"mode": "isolated"}}}
    with pytest.raises(ProfileError) as caught:
        load_profile(raw, PROFILE, manifests=reports, checks=[needs_nat])
    assert caught.value.problems == ["reports: got True; needs network.mode 'nat'"]
    # A profile with problems of its own is not judged by the checks (a default may stand in).
    raw[PROFILE]["max_workers"] = "many"
    with pytest.raises(ProfileError) as caught:
        load_profile(raw, PROFILE, manifests=reports, checks=[needs_nat])
    assert caught.value.problems == ["max_workers: got 'many'; expected int"]
    assert seen == [PROFILE]


def test_check_value_speaks_the_profile_s_language() -> None:
    assert (
        check_value({"type": "string", "pattern": "^[a-z]+$"}, "ABC") == "expected a value matching ^[a-z]+$"
    )
    assert check_value({"type": "number", "minimum": 0.5}, 0.1) == "expected at least 0.5"
    assert check_value({"type": "integer", "maximum": 3}, 2) is None
    assert check_value({"type": "array"}, {}) == "expected list"
