"""Validation of deployment profiles (``platform_config.profile``), without synthesis.

Each rule has cases that must load and cases that must fail. A failing case checks the exact
problem line: it names the setting, the value received and what is allowed, and the error names
the profile. Expected values are written out here (not read from ``mwaa_rules.rules``) so
that a rule dropped or loosened in the code makes a test fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platform_config import Profile, ProfileError, load_profile

REPO_ROOT = Path(__file__).resolve().parents[2]
PROFILE = "test"
BASE: dict[str, Any] = {
    "environment_name": "mwaa-test",
    "airflow_version": "3.3.1",
    "environment_class": "mw1.small",
}
VPC_ID = "vpc-0123456789abcdef0"
SUBNET_A = "subnet-0123456789abcdef0"
SUBNET_B = "subnet-0fedcba9876543210"
EXISTING = {"mode": "existing", "vpc_id": VPC_ID, "subnet_ids": [SUBNET_A, SUBNET_B]}


def settings(**overrides: Any) -> dict[str, Any]:
    """The valid base profile with ``overrides`` applied (top-level keys replace whole values)."""
    return {**BASE, **overrides}


def load(**overrides: Any) -> Profile:
    return load_profile({PROFILE: settings(**overrides)}, PROFILE)


def profile_error(**overrides: Any) -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        load(**overrides)
    error = caught.value
    assert error.profile == PROFILE
    assert str(error).startswith(f"profile '{PROFILE}' is invalid:")
    return error


def problems_for(**overrides: Any) -> list[str]:
    return profile_error(**overrides).problems


def shown(value: object) -> str:
    """How a problem line quotes the value received."""
    return f"'{value}'" if isinstance(value, str) else repr(value)


def assert_rejected(overrides: dict[str, Any], setting: str, value: object, allowed: str) -> str:
    """The profile fails with a line ``<setting>: got <value>; ...<allowed>...``; returns it."""
    error = profile_error(**overrides)
    prefix = f"{setting}: got {shown(value)}; "
    lines = [p for p in error.problems if p.startswith(prefix)]
    assert lines, f"no problem starting with {prefix!r} in {error.problems}"
    assert any(allowed in line for line in lines), f"{allowed!r} not in {lines}"
    assert f"  - {lines[0]}" in str(error)
    return lines[0]


# --- profiles and profile names ---------------------------------------------------------------


@pytest.mark.parametrize("profiles", [None, {}, []], ids=["none", "empty", "not-an-object"])
def test_missing_profiles_object_fails(profiles: Any) -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile(profiles, "dev")
    assert caught.value.profile == "dev"
    assert caught.value.problems == ["no 'profiles' object found in the cdk.json context"]


def test_unknown_profile_name_lists_defined_profiles() -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile({"prod": BASE, "dev": BASE}, "staging")
    assert caught.value.profile == "staging"
    assert caught.value.problems == ["profile 'staging' not found in cdk.json; profiles there: 'prod', 'dev'"]


def test_a_misspelt_profile_name_gets_the_closest_one() -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile({"prod": BASE, "dev": BASE}, "prd")
    assert caught.value.problems == [
        "profile 'prd' not found in cdk.json; did you mean 'prod'? profiles there: 'prod', 'dev'"
    ]


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_profile_name_is_an_error_not_the_default(name: str) -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile({"prod": BASE, "dev": BASE}, name)
    assert caught.value.problems == [
        "profile: got an empty name; name one of 'prod', 'dev' (e.g. -c profile=dev)"
    ]


def test_profile_that_is_not_an_object_fails() -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile({PROFILE: "mw1.small"}, PROFILE)
    assert caught.value.problems == ["profile: got 'mw1.small'; expected an object of settings"]


def test_no_name_selects_the_dev_profile() -> None:
    profile = load_profile({"dev": settings(environment_name="mwaa-dev"), "prod": BASE}, None)
    assert profile.name == "dev"
    assert profile.environment_name == "mwaa-dev"


# --- unknown keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "setting", "suggested", "listed"),
    [
        pytest.param({"max_worker": 5}, "max_worker", "max_workers", "max_workers", id="top-level-typo"),
        pytest.param({"vpc": {}}, "vpc", None, "network", id="top-level-unknown"),
        pytest.param(
            {"network": {"cidr": "10.0.0.0/16"}}, "network.cidr", "vpc_cidr", "vpc_cidr", id="network-key"
        ),
        pytest.param(
            {"network": {"nat_gateway": 1}},
            "network.nat_gateway",
            "nat_gateways",
            "nat_gateways",
            id="network-typo",
        ),
        pytest.param(
            {"artifacts": {"dag": "dags"}}, "artifacts.dag", "dags", "startup_script", id="artifacts-typo"
        ),
    ],
)
def test_unknown_setting_suggests_the_closest_and_lists_the_allowed_ones(
    overrides: dict[str, Any], setting: str, suggested: str | None, listed: str
) -> None:
    problems = problems_for(**overrides)
    hint = f"did you mean '{suggested}'? " if suggested else ""
    line = f"{setting}: unknown setting; {hint}allowed settings are "
    matching = [p for p in problems if p.startswith(line)]
    assert len(matching) == 1, problems
    assert listed in matching[0].removeprefix(line).split(", ")


@pytest.mark.parametrize("component", ["triggerer", "Task", "dag_processor"])
def test_unknown_logging_component_fails(component: str) -> None:
    line = assert_rejected(
        {"logging": {component: "INFO"}}, f"logging.{component}", "INFO", "unknown component"
    )
    assert line.endswith("allowed components are dag_processing, scheduler, task, webserver, worker")


def test_every_known_setting_is_accepted() -> None:
    profile = load(
        account="123456789012",
        region="eu-west-1",
        min_workers=2,
        max_workers=4,
        schedulers=3,
        min_webservers=2,
        max_webservers=3,
        webserver_access_mode="PUBLIC_ONLY",
        endpoint_management="CUSTOMER",
        network={"mode": "nat", "nat_gateways": 2, "vpc_cidr": "10.10.0.0/16"},
        encryption="aws_owned",
        logging={"task": "DEBUG"},
        log_retention_days=60,
        airflow_configuration_options={"core.default_task_retries": "1"},
        weekly_maintenance_window_start="WED:22:30",
        worker_replacement_strategy="FORCED",
        dag_s3_path="airflow/dags",
        noncurrent_version_expiration_days=30,
        removal_policy="destroy",
        termination_protection=True,
        tags={"team": "data"},
    )
    assert (profile.account, profile.region, profile.schedulers) == ("123456789012", "eu-west-1", 3)
    assert (profile.min_workers, profile.max_workers) == (2, 4)
    assert (profile.min_webservers, profile.max_webservers) == (2, 3)
    assert profile.network.nat_gateways == 2
    assert profile.network.vpc_cidr == "10.10.0.0/16"
    assert profile.termination_protection is True


# --- types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "setting", "value", "expected"),
    [
        pytest.param({"max_workers": "10"}, "max_workers", "10", "int", id="str-for-int"),
        pytest.param({"max_workers": True}, "max_workers", True, "int", id="bool-for-int"),
        pytest.param({"log_retention_days": 30.0}, "log_retention_days", 30.0, "int", id="float-for-int"),
        pytest.param({"environment_name": 42}, "environment_name", 42, "str", id="int-for-str"),
        pytest.param({"account": 123456789012}, "account", 123456789012, "str", id="int-account"),
        pytest.param(
            {"termination_protection": "true"}, "termination_protection", "true", "bool", id="str-for-bool"
        ),
        pytest.param({"alarms": {"enabled": 1}}, "alarms.enabled", 1, "bool", id="int-for-bool"),
        pytest.param(
            {"network": {"nat_gateways": "2"}},
            "network.nat_gateways",
            "2",
            "int",
            id="str-for-int-in-network",
        ),
        pytest.param(
            {"network": {"vpc_cidr": 16}}, "network.vpc_cidr", 16, "str", id="int-for-str-in-network"
        ),
    ],
)
def test_wrong_type_fails(overrides: dict[str, Any], setting: str, value: object, expected: str) -> None:
    line = assert_rejected(overrides, setting, value, f"expected {expected}")
    assert line == f"{setting}: got {shown(value)}; expected {expected}"


@pytest.mark.parametrize(
    ("overrides", "setting", "value"),
    [
        pytest.param({"network": "nat"}, "network", "nat", id="network"),
        pytest.param({"logging": "INFO"}, "logging", "INFO", id="logging"),
        pytest.param(
            {"airflow_configuration_options": ["core.x=1"]},
            "airflow_configuration_options",
            ["core.x=1"],
            id="airflow_configuration_options",
        ),
        pytest.param({"tags": ["team"]}, "tags", ["team"], id="tags"),
    ],
)
def test_section_that_is_not_an_object_fails(overrides: dict[str, Any], setting: str, value: object) -> None:
    assert_rejected(overrides, setting, value, "expected an object")


# --- environment_name, airflow_version, environment_class -------------------------------------


@pytest.mark.parametrize(
    "name", ["a", "mwaa_dev", "mwaa-dev", "Mwaa_Dev-2", "m" + "x" * 79], ids=lambda n: f"{n[:12]}({len(n)})"
)
def test_environment_name_accepted(name: str) -> None:
    assert load(environment_name=name).environment_name == name


@pytest.mark.parametrize(
    "name",
    ["m" + "x" * 80, "1mwaa", "-mwaa", "_mwaa", "", "mwaa dev", "mwaa.dev"],
    ids=lambda n: f"{n[:12]}({len(n)})",
)
def test_environment_name_rejected(name: str) -> None:
    assert_rejected({"environment_name": name}, "environment_name", name, "expected 1-80 characters")


def test_environment_name_defaults_to_the_profile_name() -> None:
    raw = dict(BASE)
    del raw["environment_name"]
    assert load_profile({"qa": raw}, "qa").environment_name == "mwaa-qa"


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("mwaa_analytics", "mwaa-analytics-platform"),
        ("Mwaa_Dev-2", "Mwaa-Dev-2-platform"),
        ("mwaa-dev", "mwaa-dev-platform"),
    ],
)
def test_stack_names_replace_underscores_which_cloudformation_refuses(name: str, platform: str) -> None:
    profile = load(environment_name=name)
    assert profile.platform_stack_name == platform
    assert profile.stack_names == (platform,)


def test_the_longest_environment_name_gives_stack_names_cloudformation_accepts() -> None:
    import re

    profile = load(environment_name="m_" + "x" * 78)
    for stack in profile.stack_names:
        # CloudFormation CreateStack: letters, digits and '-', a letter first, 1-128 characters.
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", stack), stack


AIRFLOW_PYTHON = {
    "2.7.2": "3.11",
    "2.8.1": "3.11",
    "2.9.2": "3.11",
    "2.10.1": "3.11",
    "2.10.3": "3.11",
    "2.11.0": "3.12",
    "2.11.2": "3.12",
    "3.0.6": "3.12",
    "3.2.1": "3.12",
    "3.3.1": "3.12",
}
SUPPORTED = (
    "supported versions are '2.7.2', '2.8.1', '2.9.2', '2.10.1', '2.10.3', '2.11.0', '2.11.2', "
    "'3.0.6', '3.2.1', '3.3.1'"
)


@pytest.mark.parametrize(("version", "python"), AIRFLOW_PYTHON.items())
def test_supported_airflow_version_and_its_python(version: str, python: str) -> None:
    profile = load(airflow_version=version)
    assert profile.airflow_version == version
    assert profile.python_version == python


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        ("2.6.3", "MWAA ended support for 2.6.3 on 2025-12-30; "),
        ("2.5.1", "MWAA ended support for 2.5.1 on 2025-12-30; "),
        ("2.4.3", "MWAA ended support for 2.4.3 on 2025-12-30; "),
        ("2.2.2", "MWAA ended support for 2.2.2 in 2024; "),
        ("2.0.2", "MWAA ended support for 2.0.2 in 2024; "),
        ("1.10.12", "MWAA ended support for 1.10.12 in 2024; "),
        ("3.1.0", "MWAA never offered Airflow 3.1.x; "),
        ("3.1.5", "MWAA never offered Airflow 3.1.x; "),
        ("3.0", ""),
        ("2.10", ""),
        ("v3.3.1", ""),
        ("3.4.0", ""),
    ],
)
def test_unsupported_airflow_version_rejected(version: str, reason: str) -> None:
    line = assert_rejected({"airflow_version": version}, "airflow_version", version, SUPPORTED)
    assert line == f"airflow_version: got '{version}'; {reason}{SUPPORTED}"


def test_airflow_version_defaults_to_3_3_1() -> None:
    raw = dict(BASE)
    del raw["airflow_version"]
    profile = load_profile({PROFILE: raw}, PROFILE)
    assert profile.airflow_version == "3.3.1"
    assert profile.python_version == "3.12"


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("3.3.1", "3.3.1"),
        ("3.0.6", "3.3.1"),
        ("3.3.1", "3.2.1"),
        ("2.11.2", "3.3.1"),
        ("2.11.0", "3.0.6"),
        ("3.3.1", "2.11.2"),
        ("2.10.3", "2.11.2"),
        ("2.6.3", "2.11.2"),
        ("2.11.2", "2.7.2"),
    ],
)
def test_upgrade_from_an_in_place_path_is_accepted(source: str, target: str) -> None:
    assert load(upgrade_from=source, airflow_version=target).upgrade_from == source


@pytest.mark.parametrize(
    ("source", "target", "reason"),
    [
        (
            "2.10.3",
            "3.3.1",
            "MWAA upgrades to Airflow 3 in place only from 2.11.x: upgrade to 2.11.2 first (in place), "
            "then to 3.3.1, or create a new environment with another name on 3.3.1",
        ),
        (
            "3.3.1",
            "2.10.3",
            "the only downgrade from Airflow 3 that MWAA makes in place is to 2.11.x; create a new "
            "environment with another name on 2.10.3",
        ),
        (
            "1.10.12",
            "2.11.2",
            "MWAA cannot change Airflow 1 to 2 in place; "
            "create a new environment with another name on 2.11.2",
        ),
    ],
)
def test_upgrade_from_an_impossible_path_is_rejected(source: str, target: str, reason: str) -> None:
    line = assert_rejected(
        {"upgrade_from": source, "airflow_version": target}, "upgrade_from", source, reason
    )
    assert line == (
        f"upgrade_from: got '{source}'; the environment cannot move to airflow_version {target} in place "
        f"({reason}); for a new environment set a new environment_name and remove upgrade_from"
    )


def test_upgrade_from_must_be_a_version_mwaa_ran() -> None:
    line = assert_rejected({"upgrade_from": "3.1.0"}, "upgrade_from", "3.1.0", "expected a version")
    assert line == (
        "upgrade_from: got '3.1.0'; expected a version MWAA runs or ran: '1.10.12', '2.0.2', '2.2.2', "
        "'2.4.3', '2.5.1', '2.6.3', '2.7.2', '2.8.1', '2.9.2', '2.10.1', '2.10.3', '2.11.0', '2.11.2', "
        "'3.0.6', '3.2.1', '3.3.1'"
    )


def test_upgrade_from_defaults_to_unset_and_is_not_checked_against_a_bad_version() -> None:
    assert load().upgrade_from is None
    assert [p.split(";")[0] for p in problems_for(upgrade_from="2.10.3", airflow_version="3.1.0")] == [
        "airflow_version: got '3.1.0'"
    ]


@pytest.mark.parametrize(
    "environment_class", ["mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge"]
)
def test_environment_class_accepted(environment_class: str) -> None:
    assert load(environment_class=environment_class).environment_class == environment_class


@pytest.mark.parametrize("environment_class", ["mw1.xxl", "mw1.Small", "mw2.small", "small"])
def test_environment_class_rejected(environment_class: str) -> None:
    line = assert_rejected(
        {"environment_class": environment_class},
        "environment_class",
        environment_class,
        "allowed classes are",
    )
    assert "'mw1.micro'" in line
    assert "'mw1.2xlarge'" in line


# --- sizing per class -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment_class", "schedulers", "webservers", "max_workers"),
    [
        ("mw1.micro", 1, 1, 1),
        ("mw1.small", 2, 2, 10),
        ("mw1.medium", 2, 2, 10),
        ("mw1.2xlarge", 2, 2, 10),
    ],
)
def test_sizing_defaults_per_class(
    environment_class: str, schedulers: int, webservers: int, max_workers: int
) -> None:
    profile = load(environment_class=environment_class)
    assert profile.schedulers == schedulers
    assert (profile.min_webservers, profile.max_webservers) == (webservers, webservers)
    assert (profile.min_workers, profile.max_workers) == (1, max_workers)


def test_micro_accepts_one_of_each() -> None:
    sizing = {"schedulers": 1, "min_webservers": 1, "max_webservers": 1, "min_workers": 1, "max_workers": 1}
    profile = load(environment_class="mw1.micro", **sizing)
    for setting, value in sizing.items():
        assert getattr(profile, setting) == value


@pytest.mark.parametrize(
    ("setting", "value", "allowed"),
    [
        ("schedulers", 2, "mw1.micro allows 1 to 1 schedulers"),
        ("schedulers", 0, "mw1.micro allows 1 to 1 schedulers"),
        ("min_webservers", 2, "mw1.micro allows 1 to 1"),
        ("max_webservers", 2, "mw1.micro allows 1 to 1"),
        ("min_workers", 2, "mw1.micro allows 1 to 1"),
        ("max_workers", 2, "mw1.micro allows 1 to 1"),
    ],
)
def test_micro_rejects_more_than_one(setting: str, value: int, allowed: str) -> None:
    assert_rejected({"environment_class": "mw1.micro", setting: value}, setting, value, allowed)


@pytest.mark.parametrize(
    "sizing",
    [
        {"schedulers": 2},
        {"schedulers": 5},
        {"min_webservers": 2, "max_webservers": 5},
        {"min_webservers": 5, "max_webservers": 5},
        {"min_workers": 1, "max_workers": 1},
        {"min_workers": 25, "max_workers": 25},
    ],
    ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()),
)
@pytest.mark.parametrize("environment_class", ["mw1.small", "mw1.xlarge"])
def test_standard_class_accepts_bounds(environment_class: str, sizing: dict[str, int]) -> None:
    profile = load(environment_class=environment_class, **sizing)
    for setting, value in sizing.items():
        assert getattr(profile, setting) == value


@pytest.mark.parametrize(
    ("sizing", "setting", "value", "allowed"),
    [
        ({"schedulers": 1}, "schedulers", 1, "mw1.small allows 2 to 5 schedulers"),
        ({"schedulers": 6}, "schedulers", 6, "mw1.small allows 2 to 5 schedulers"),
        ({"min_webservers": 1}, "min_webservers", 1, "mw1.small allows 2 to 5"),
        ({"max_webservers": 6}, "max_webservers", 6, "mw1.small allows 2 to 5"),
        ({"min_workers": 0}, "min_workers", 0, "mw1.small allows 1 to 25"),
        ({"max_workers": 0}, "max_workers", 0, "mw1.small allows 1 to 25"),
        ({"max_workers": 26}, "max_workers", 26, "mw1.small allows 1 to 25"),
        ({"min_workers": 5, "max_workers": 3}, "min_workers", 5, "must not exceed max_workers (3)"),
        (
            {"min_webservers": 4, "max_webservers": 3},
            "min_webservers",
            4,
            "must not exceed max_webservers (3)",
        ),
    ],
    ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else None,
)
def test_standard_class_rejects_out_of_range(
    sizing: dict[str, int], setting: str, value: int, allowed: str
) -> None:
    assert_rejected({"environment_class": "mw1.small", **sizing}, setting, value, allowed)


# --- settings with a fixed set of values ------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("webserver_access_mode", "PUBLIC_ONLY"),
        ("webserver_access_mode", "PRIVATE_ONLY"),
        ("webserver_access_mode", "PUBLIC_AND_PRIVATE"),
        ("endpoint_management", "SERVICE"),
        ("endpoint_management", "CUSTOMER"),
        ("worker_replacement_strategy", "FORCED"),
        ("worker_replacement_strategy", "GRACEFUL"),
        ("encryption", "customer_managed"),
        ("encryption", "aws_owned"),
        ("removal_policy", "retain"),
        ("removal_policy", "destroy"),
    ],
)
def test_choice_accepted(setting: str, value: str) -> None:
    assert getattr(load(**{setting: value}), setting) == value


@pytest.mark.parametrize(
    ("setting", "value", "allowed"),
    [
        (
            "webserver_access_mode",
            "PUBLIC",
            "allowed values are 'PUBLIC_ONLY', 'PRIVATE_ONLY', 'PUBLIC_AND_PRIVATE'",
        ),
        (
            "webserver_access_mode",
            "private_only",
            "allowed values are 'PUBLIC_ONLY', 'PRIVATE_ONLY', 'PUBLIC_AND_PRIVATE'",
        ),
        ("endpoint_management", "customer", "allowed values are 'SERVICE', 'CUSTOMER'"),
        ("endpoint_management", "SELF", "allowed values are 'SERVICE', 'CUSTOMER'"),
        ("worker_replacement_strategy", "graceful", "allowed values are 'FORCED', 'GRACEFUL'"),
        ("worker_replacement_strategy", "ROLLING", "allowed values are 'FORCED', 'GRACEFUL'"),
        ("encryption", "kms", "allowed values are 'customer_managed', 'aws_owned'"),
        ("removal_policy", "Retain", "allowed values are 'retain', 'destroy'"),
        ("removal_policy", "delete", "allowed values are 'retain', 'destroy'"),
    ],
)
def test_choice_rejected(setting: str, value: str, allowed: str) -> None:
    line = assert_rejected({setting: value}, setting, value, allowed)
    assert line == f"{setting}: got '{value}'; {allowed}"


@pytest.mark.parametrize("region", ["ca-west-1", "ap-southeast-5"])
def test_graceful_replacement_refused_where_mwaa_does_not_offer_it(region: str) -> None:
    line = assert_rejected(
        {"worker_replacement_strategy": "GRACEFUL", "region": region},
        "worker_replacement_strategy",
        "GRACEFUL",
        f"MWAA offers no GRACEFUL worker replacement in {region}",
    )
    assert line.endswith("use 'FORCED' or leave it unset")
    assert load(worker_replacement_strategy="FORCED", region=region).region == region
    assert load(worker_replacement_strategy="GRACEFUL", region="ca-central-1").region == "ca-central-1"


@pytest.mark.parametrize("version", ["3.2.1", "3.3.1"])
def test_public_and_private_access_from_airflow_3_2(version: str) -> None:
    profile = load(webserver_access_mode="PUBLIC_AND_PRIVATE", airflow_version=version)
    assert profile.webserver_access_mode == "PUBLIC_AND_PRIVATE"


@pytest.mark.parametrize("version", ["3.0.6", "2.11.2", "2.7.2"])
def test_public_and_private_access_rejected_before_airflow_3_2(version: str) -> None:
    line = assert_rejected(
        {"webserver_access_mode": "PUBLIC_AND_PRIVATE", "airflow_version": version},
        "webserver_access_mode",
        "PUBLIC_AND_PRIVATE",
        "needs Airflow 3.2.1",
    )
    assert line == (
        "webserver_access_mode: got 'PUBLIC_AND_PRIVATE'; PUBLIC_AND_PRIVATE needs Airflow 3.2.1 or later: "
        "the private endpoint that carries worker-to-web-server Task API traffic exists on MWAA only "
        f"from Airflow 3.2; with Airflow {version} use 'PUBLIC_ONLY' or 'PRIVATE_ONLY'"
    )


def test_choice_defaults() -> None:
    profile = load()
    assert profile.webserver_access_mode == "PRIVATE_ONLY"
    assert profile.endpoint_management == "SERVICE"
    assert profile.worker_replacement_strategy is None
    assert profile.encryption == "customer_managed"
    assert profile.removal_policy == "retain"
    assert profile.termination_protection is False


# --- maintenance window -----------------------------------------------------------------------


@pytest.mark.parametrize("window", ["TUE:03:30", "MON:00:00", "SUN:23:30", "FRI:12:00"])
def test_maintenance_window_accepted(window: str) -> None:
    assert load(weekly_maintenance_window_start=window).weekly_maintenance_window_start == window


@pytest.mark.parametrize(
    "window", ["TUE:03:15", "tue:03:00", "TUE:24:00", "TUE:3:00", "TUESDAY:03:00", "TUE 03:00", "TUE:03"]
)
def test_maintenance_window_rejected(window: str) -> None:
    assert_rejected(
        {"weekly_maintenance_window_start": window},
        "weekly_maintenance_window_start",
        window,
        "expected DAY:HH:MM in UTC with DAY in MON..SUN and minutes 00 or 30",
    )


# --- network ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "10.0.1.0/24", "172.16.0.0/20", "192.168.0.0/16"])
def test_vpc_cidr_accepted(cidr: str) -> None:
    assert load(network={"vpc_cidr": cidr}).network.vpc_cidr == cidr


@pytest.mark.parametrize(
    ("cidr", "allowed"),
    [
        ("not-a-cidr", "expected an IPv4 network such as '10.192.0.0/16'"),
        ("10.0.0.1/16", "expected an IPv4 network such as '10.192.0.0/16'"),
        ("10.0.0.0/33", "expected an IPv4 network such as '10.192.0.0/16'"),
        ("fd00::/64", "expected an IPv4 network such as '10.192.0.0/16'"),
        ("10.0.0.0/8", "expected a prefix length from /16 to /24"),
        ("10.0.0.0/15", "expected a prefix length from /16 to /24"),
        ("10.0.0.0/25", "expected a prefix length from /16 to /24"),
        ("10.0.0.0/28", "expected a prefix length from /16 to /24"),
        ("10.0.0.0", "expected a prefix length from /16 to /24"),
        # A netmask is not a prefix length: CDK's Vpc fails on it at synthesis
        # ("x.x.x.x/Infinity is not a valid VPC CIDR range"), so the profile must reject it.
        ("10.0.0.0/255.255.0.0", "expected"),
    ],
)
def test_vpc_cidr_rejected(cidr: str, allowed: str) -> None:
    assert_rejected({"network": {"vpc_cidr": cidr}}, "network.vpc_cidr", cidr, allowed)


@pytest.mark.parametrize("nat_gateways", [1, 2])
def test_nat_gateways_accepted_in_nat_mode(nat_gateways: int) -> None:
    network = load(network={"mode": "nat", "nat_gateways": nat_gateways}).network
    assert (network.mode, network.nat_gateways) == ("nat", nat_gateways)


@pytest.mark.parametrize("nat_gateways", [0, 3])
def test_nat_gateways_out_of_range_rejected(nat_gateways: int) -> None:
    assert_rejected(
        {"network": {"mode": "nat", "nat_gateways": nat_gateways}},
        "network.nat_gateways",
        nat_gateways,
        "expected 1 (one shared NAT gateway) or 2 (one per availability zone)",
    )


@pytest.mark.parametrize(
    "network",
    [{"mode": "isolated", "nat_gateways": 1}, {**EXISTING, "nat_gateways": 2}],
    ids=["isolated", "existing"],
)
def test_nat_gateways_outside_nat_mode_rejected(network: dict[str, Any]) -> None:
    assert_rejected(
        {"network": network},
        "network.nat_gateways",
        network["nat_gateways"],
        f"only applies to mode 'nat', not '{network['mode']}'",
    )


def test_network_defaults_and_isolated_mode() -> None:
    assert load().network.mode == "nat"
    assert load().network.nat_gateways == 1
    assert load().network.vpc_cidr == "10.192.0.0/16"
    isolated = load(network={"mode": "isolated"}).network
    assert (isolated.mode, isolated.nat_gateways, isolated.vpc_id, isolated.subnet_ids) == (
        "isolated",
        0,
        None,
        (),
    )


@pytest.mark.parametrize("mode", ["public", "NAT", "private"])
def test_network_mode_rejected(mode: str) -> None:
    assert_rejected(
        {"network": {"mode": mode}}, "network.mode", mode, "allowed values are 'nat', 'isolated', 'existing'"
    )


@pytest.mark.parametrize("vpc_id", [VPC_ID, "vpc-1a2b3c4d"])
def test_existing_network_accepted(vpc_id: str) -> None:
    network = load(network={**EXISTING, "vpc_id": vpc_id}).network
    assert network.mode == "existing"
    assert network.vpc_id == vpc_id
    assert network.subnet_ids == (SUBNET_A, SUBNET_B)
    assert network.nat_gateways == 0


@pytest.mark.parametrize(
    ("network", "setting", "value", "allowed"),
    [
        pytest.param(
            {"mode": "existing", "subnet_ids": [SUBNET_A, SUBNET_B]},
            "network.vpc_id",
            None,
            "mode 'existing' needs a VPC id: 'vpc-' and 8 or 17 lower-case hex digits, "
            "e.g. 'vpc-0123456789abcdef0'",
            id="vpc_id-missing",
        ),
        pytest.param(
            {**EXISTING, "vpc_id": "vpc-XYZ"},
            "network.vpc_id",
            "vpc-XYZ",
            "mode 'existing' needs a VPC id",
            id="vpc_id-bad",
        ),
        pytest.param(
            {**EXISTING, "vpc_id": "vpc-123"},
            "network.vpc_id",
            "vpc-123",
            "mode 'existing' needs a VPC id",
            id="vpc_id-short",
        ),
        pytest.param(
            {**EXISTING, "vpc_id": "0123456789abcdef0"},
            "network.vpc_id",
            "0123456789abcdef0",
            "mode 'existing' needs a VPC id",
            id="vpc_id-no-prefix",
        ),
        pytest.param(
            {**EXISTING, "subnet_ids": [SUBNET_A]},
            "network.subnet_ids",
            [SUBNET_A],
            "mode 'existing' needs exactly 2 private subnet ids in different AZs",
            id="one-subnet",
        ),
        pytest.param(
            {**EXISTING, "subnet_ids": [SUBNET_A, SUBNET_B, "subnet-1a2b3c4d"]},
            "network.subnet_ids",
            [SUBNET_A, SUBNET_B, "subnet-1a2b3c4d"],
            "mode 'existing' needs exactly 2 private subnet ids",
            id="three-subnets",
        ),
        pytest.param(
            {"mode": "existing", "vpc_id": VPC_ID},
            "network.subnet_ids",
            [],
            "mode 'existing' needs exactly 2",
            id="no-subnets",
        ),
        pytest.param(
            {**EXISTING, "subnet_ids": SUBNET_A},
            "network.subnet_ids",
            SUBNET_A,
            "mode 'existing' needs exactly 2",
            id="subnets-not-a-list",
        ),
        pytest.param(
            {**EXISTING, "subnet_ids": [SUBNET_A, SUBNET_A]},
            "network.subnet_ids",
            [SUBNET_A, SUBNET_A],
            "the two subnets must differ",
            id="duplicate-subnets",
        ),
        pytest.param(
            {**EXISTING, "subnet_ids": [SUBNET_A, "sn-12345678"]},
            "network.subnet_ids",
            ["sn-12345678"],
            "expected subnet ids: 'subnet-' and 8 or 17 lower-case hex digits, "
            "e.g. 'subnet-0123456789abcdef0'",
            id="bad-subnet-id",
        ),
        pytest.param(
            {**EXISTING, "subnet_ids": [SUBNET_A, "subnet-XYZ12345"]},
            "network.subnet_ids",
            ["subnet-XYZ12345"],
            "expected subnet ids: 'subnet-' and 8 or 17 lower-case hex digits",
            id="subnet-id-not-hex",
        ),
        pytest.param(
            {**EXISTING, "subnet_ids": [SUBNET_A, 7]},
            "network.subnet_ids",
            [7],
            "expected subnet ids: 'subnet-' and 8 or 17 lower-case hex digits",
            id="subnet-id-not-a-string",
        ),
        pytest.param(
            {"mode": "nat", "vpc_id": VPC_ID},
            "network.vpc_id",
            VPC_ID,
            "only applies to mode 'existing', not 'nat'",
            id="vpc_id-with-nat",
        ),
        pytest.param(
            {"mode": "isolated", "subnet_ids": [SUBNET_A, SUBNET_B]},
            "network.subnet_ids",
            [SUBNET_A, SUBNET_B],
            "only applies to mode 'existing', not 'isolated'",
            id="subnets-with-isolated",
        ),
    ],
)
def test_existing_network_rejected(
    network: dict[str, Any], setting: str, value: object, allowed: str
) -> None:
    assert_rejected({"network": network}, setting, value, allowed)


# --- logging ----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"])
@pytest.mark.parametrize("component", ["dag_processing", "scheduler", "task", "webserver", "worker"])
def test_log_level_accepted(component: str, level: str) -> None:
    assert load(logging={component: level}).logging[component] == level


@pytest.mark.parametrize("level", ["info", "Warning", "disabled", "TRACE", None, 20])
def test_log_level_rejected(level: object) -> None:
    line = assert_rejected({"logging": {"task": level}}, "logging.task", level, "allowed levels are")
    assert line.endswith("'CRITICAL', 'ERROR', 'WARNING', 'INFO', 'DEBUG' or 'DISABLED'")


def test_disabled_log_level_turns_the_component_off() -> None:
    logging = load(logging={"worker": "DISABLED", "scheduler": "ERROR"}).logging
    assert logging == {
        "dag_processing": "WARNING",
        "scheduler": "ERROR",
        "task": "INFO",
        "webserver": "WARNING",
        "worker": None,
    }


@pytest.mark.parametrize("days", [1, 14, 30, 365, 3653])
def test_log_retention_accepted(days: int) -> None:
    assert load(log_retention_days=days).log_retention_days == days


@pytest.mark.parametrize("days", [15, 0, -1, 366, 3650])
def test_log_retention_rejected(days: int) -> None:
    line = assert_rejected(
        {"log_retention_days": days}, "log_retention_days", days, "CloudWatch Logs accepts"
    )
    assert "14, 30" in line


# --- airflow_configuration_options ------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"core.default_task_retries": "3", "core.load_examples": "False"},
        {"celery.worker_autoscale": "5,5"},
        {"c." + "x" * 62: "1"},
        {},
    ],
    ids=["core", "celery", "64-chars", "empty"],
)
def test_configuration_options_accepted(options: dict[str, str]) -> None:
    assert load(airflow_configuration_options=options).airflow_configuration_options == options


@pytest.mark.parametrize(
    ("key", "allowed"),
    [
        pytest.param(
            "load_examples", "keys are 'section.option', e.g. 'core.default_task_retries'", id="no-section"
        ),
        pytest.param("Core.Load_Examples", "keys are 'section.option' in lower case", id="uppercase"),
        pytest.param("core." + "x" * 60, "at most 64 characters", id="65-chars"),
        pytest.param("core.", "keys are 'section.option' in lower case", id="trailing-dot"),
        pytest.param("core.load-examples", "keys are 'section.option' in lower case", id="dash"),
    ],
)
def test_configuration_option_key_rejected(key: str, allowed: str) -> None:
    assert_rejected(
        {"airflow_configuration_options": {key: "1"}}, f"airflow_configuration_options.{key}", key, allowed
    )


@pytest.mark.parametrize(
    ("value", "quoted"), [(3, '"3"'), (True, '"true"'), (False, '"false"'), (0.5, '"0.5"')]
)
def test_configuration_option_value_must_be_a_string(value: object, quoted: str) -> None:
    key = "core.default_task_retries"
    line = assert_rejected(
        {"airflow_configuration_options": {key: value}}, f"airflow_configuration_options.{key}", value, ""
    )
    assert (
        line == f"airflow_configuration_options.{key}: got {value!r}; MWAA takes strings only: write {quoted}"
    )


# --- tags -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tags",
    [
        {"project": "mwaa-platform", "cost-center": "data:42", "Owner Team": "a.b@example.com"},
        {"empty": ""},
        {f"k{i}": "v" for i in range(45)},
        {"k" * 128: "v" * 256},
    ],
    ids=["common", "empty-value", "45-tags", "longest"],
)
def test_tags_accepted(tags: dict[str, str]) -> None:
    assert load(tags=tags).tags == tags


@pytest.mark.parametrize(
    "key", ["aws:owner", "AWS:owner", "bad#key", "", "k" * 129, "a,b"], ids=lambda k: f"{k[:10]}({len(k)})"
)
def test_tag_key_rejected(key: str) -> None:
    assert_rejected({"tags": {key: "x"}}, f"tags.{key}", key, "must not start with 'aws:'")


@pytest.mark.parametrize("value", [5, True, None, "v" * 257, "a;b"], ids=lambda v: repr(v)[:10])
def test_tag_value_rejected(value: object) -> None:
    assert_rejected({"tags": {"cost": value}}, "tags.cost", value, "values are strings of 0-256")


def test_more_than_50_tags_rejected() -> None:
    line = assert_rejected({"tags": {f"k{i}": "v" for i in range(46)}}, "tags", "46 tags", "at most 45 tags")
    assert line.startswith("tags: got '46 tags'; at most 45 tags (S3's 50 per bucket")


# --- account, region, S3 settings -------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("account", "123456789012"),
        ("account", "000000000001"),
        ("region", "eu-west-1"),
        ("region", "ap-southeast-2"),
        ("region", "us-gov-west-1"),
        ("dag_s3_path", "dags"),
        ("dag_s3_path", "airflow/dags"),
        ("noncurrent_version_expiration_days", 1),
        ("noncurrent_version_expiration_days", 3650),
    ],
)
def test_setting_accepted(setting: str, value: object) -> None:
    assert getattr(load(**{setting: value}), setting) == value


@pytest.mark.parametrize(
    ("setting", "value", "allowed"),
    [
        ("account", "12345678901", "expected a 12-digit AWS account id"),
        ("account", "1234567890123", "expected a 12-digit AWS account id"),
        ("account", "abcdefghijkl", "expected a 12-digit AWS account id"),
        ("account", "", "expected a 12-digit AWS account id"),
        ("region", "EU-WEST-1", "expected a region code like 'eu-west-1'"),
        ("region", "europe", "expected a region code like 'eu-west-1'"),
        ("region", "eu-west", "expected a region code like 'eu-west-1'"),
        ("region", "eu-west-1a", "expected a region code like 'eu-west-1'"),
        ("dag_s3_path", "/dags", "no leading or trailing '/'"),
        ("dag_s3_path", "dags/", "no leading or trailing '/'"),
        ("dag_s3_path", "", "expected a relative S3 prefix such as 'dags'"),
        ("dag_s3_path", "airflow//dags", "expected a relative S3 prefix"),
        ("dag_s3_path", "my dags", "expected a relative S3 prefix"),
        ("noncurrent_version_expiration_days", 0, "expected 1 to 3650 days"),
        ("noncurrent_version_expiration_days", 3651, "expected 1 to 3650 days"),
    ],
)
def test_setting_rejected(setting: str, value: object, allowed: str) -> None:
    assert_rejected({setting: value}, setting, value, allowed)


def test_account_and_region_default_to_none() -> None:
    profile = load()
    assert (profile.account, profile.region) == (None, None)
    assert profile.dag_s3_path == "dags"
    assert profile.noncurrent_version_expiration_days == 90
    assert profile.log_retention_days == 30


# --- cross-setting rules ----------------------------------------------------------------------


def test_all_problems_are_reported_together() -> None:
    error = profile_error(
        max_worker=3,
        max_workers=30,
        region="europe",
        removal_policy="keep",
        logging={"task": "info"},
        network={"mode": "nat", "nat_gateways": 3},
        tags={"aws:owner": "me"},
    )
    expected = [
        "max_worker: unknown setting; ",
        "max_workers: got 30; ",
        "region: got 'europe'; ",
        "removal_policy: got 'keep'; ",
        "logging.task: got 'info'; ",
        "network.nat_gateways: got 3; ",
        "tags.aws:owner: got 'aws:owner'; ",
    ]
    assert len(error.problems) == len(expected), error.problems
    for prefix in expected:
        assert sum(p.startswith(prefix) for p in error.problems) == 1, (prefix, error.problems)
    for problem in error.problems:
        assert f"  - {problem}\n" in f"{error}\n"


# --- wrong values must be reported as received ------------------------------------------------


@pytest.mark.parametrize(
    ("network", "setting", "value"),
    [
        pytest.param(
            {"mode": "isolated", "nat_gateways": "two"},
            "network.nat_gateways",
            "two",
            id="nat_gateways-wrong-type-in-isolated",
        ),
        pytest.param({**EXISTING, "vpc_id": 123}, "network.vpc_id", 123, id="vpc_id-wrong-type-in-existing"),
    ],
)
def test_wrong_type_is_not_reported_as_another_value(
    network: dict[str, Any], setting: str, value: object
) -> None:
    """Every line about a setting quotes what the profile holds, never a default standing in for it."""
    problems = [p for p in problems_for(network=network) if p.startswith(f"{setting}: ")]
    assert problems, "the wrong type must be reported"
    for problem in problems:
        assert problem.startswith(f"{setting}: got {shown(value)}; "), problems


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("environment_name", "mwaa-test\n"),
        ("account", "123456789012\n"),
        ("region", "eu-west-1\n"),
        ("weekly_maintenance_window_start", "TUE:03:30\n"),
        ("dag_s3_path", "dags\n"),
    ],
)
def test_trailing_newline_is_rejected(setting: str, value: str) -> None:
    """A pattern must match the whole value: ``$`` alone also matches before a final newline."""
    assert_rejected({setting: value}, setting, value, "expected")


def test_vpc_id_with_trailing_newline_is_rejected() -> None:
    vpc_id = VPC_ID + "\n"
    assert_rejected({"network": {**EXISTING, "vpc_id": vpc_id}}, "network.vpc_id", vpc_id, "needs a VPC id")


# --- webserver_access -------------------------------------------------------------------------

SG_A = "sg-0123456789abcdef0"
SG_B = "sg-1a2b3c4d"


def test_webserver_access_defaults_to_nobody_outside_the_environment() -> None:
    access = load().webserver_access
    assert (access.cidrs, access.security_groups) == ((), ())


def test_webserver_access_keeps_ranges_and_groups_in_order() -> None:
    access = load(
        webserver_access={"cidrs": ["10.0.0.0/8", "192.168.10.0/24"], "security_groups": [SG_A, SG_B]}
    ).webserver_access
    assert access.cidrs == ("10.0.0.0/8", "192.168.10.0/24")
    assert access.security_groups == (SG_A, SG_B)


@pytest.mark.parametrize(
    ("access", "setting", "value", "expected"),
    [
        pytest.param(
            {"cidrs": ["10.0.0.0/33"]}, "webserver_access.cidrs[0]", "10.0.0.0/33",
            "expected an IPv4 network such as '10.0.0.0/8' or '192.168.10.0/24'", id="prefix-too-long",
        ),
        pytest.param(
            {"cidrs": ["10.0.0.0"]}, "webserver_access.cidrs[0]", "10.0.0.0",
            "expected an IPv4 network such as '10.0.0.0/8' or '192.168.10.0/24'", id="no-prefix",
        ),
        pytest.param(
            {"cidrs": ["10.0.0.0/8", "fd00::/8"]}, "webserver_access.cidrs[1]", "fd00::/8",
            "expected an IPv4 network such as '10.0.0.0/8' or '192.168.10.0/24'", id="ipv6",
        ),
        pytest.param(
            {"cidrs": ["10.1.2.3/16"]}, "webserver_access.cidrs[0]", "10.1.2.3/16",
            "host bits are set: write '10.1.0.0/16'", id="host-bits",
        ),
        pytest.param(
            {"cidrs": ["0.0.0.0/0"]}, "webserver_access.cidrs[0]", "0.0.0.0/0",
            "opens the private web server to every address; name the networks that reach the VPC "
            "(VPN, Direct Connect, peered VPCs), or use webserver_access_mode 'PUBLIC_ONLY'",
            id="the-world",
        ),
        pytest.param(
            {"cidrs": ["10.0.0.0/8", "10.0.0.0/8"]}, "webserver_access.cidrs[1]", "10.0.0.0/8",
            "listed twice", id="duplicate-range",
        ),
        pytest.param(
            {"cidrs": "10.0.0.0/8"}, "webserver_access.cidrs", "10.0.0.0/8",
            "expected a list of IPv4 networks such as '10.0.0.0/8'", id="range-not-a-list",
        ),
        pytest.param(
            {"security_groups": ["sg-123"]}, "webserver_access.security_groups[0]", "sg-123",
            "expected a security group id: 'sg-' and 8 or 17 lower-case hex digits, "
            "e.g. 'sg-0123456789abcdef0'",
            id="short-group-id",
        ),
        pytest.param(
            {"security_groups": [SG_A, "SG-0123456789ABCDEF0"]}, "webserver_access.security_groups[1]",
            "SG-0123456789ABCDEF0",
            "expected a security group id: 'sg-' and 8 or 17 lower-case hex digits, "
            "e.g. 'sg-0123456789abcdef0'",
            id="upper-case-group-id",
        ),
        pytest.param(
            {"security_groups": [SG_B, SG_B]}, "webserver_access.security_groups[1]", SG_B,
            "listed twice", id="duplicate-group",
        ),
        pytest.param(
            {"security_groups": SG_A}, "webserver_access.security_groups", SG_A,
            "expected a list of security group ids", id="group-not-a-list",
        ),
        pytest.param(
            ["10.0.0.0/8"], "webserver_access", ["10.0.0.0/8"],
            'expected an object such as {"cidrs": ["10.0.0.0/8"], "security_groups": '
            '["sg-0123456789abcdef0"]}',
            id="not-an-object",
        ),
    ],
)  # fmt: skip
def test_webserver_access_rejected(access: object, setting: str, value: object, expected: str) -> None:
    line = assert_rejected({"webserver_access": access}, setting, value, expected)
    assert line == f"{setting}: got {shown(value)}; {expected}"


def test_webserver_access_unknown_key_suggests_the_right_one() -> None:
    (line,) = problems_for(webserver_access={"cidr": ["10.0.0.0/8"]})
    assert line == (
        "webserver_access.cidr: unknown setting; did you mean 'cidrs'? allowed settings are cidrs, "
        "security_groups"
    )


@pytest.mark.parametrize("mode", ["PUBLIC_ONLY", "PUBLIC_AND_PRIVATE"])
def test_webserver_access_only_with_a_private_web_server(mode: str) -> None:
    access = {"security_groups": [SG_A]}
    line = assert_rejected(
        {"webserver_access_mode": mode, "webserver_access": access},
        "webserver_access",
        access,
        f"only applies with webserver_access_mode 'PRIVATE_ONLY', not '{mode}'",
    )
    assert line.endswith("remove webserver_access or set webserver_access_mode to 'PRIVATE_ONLY'")


def test_empty_webserver_access_is_accepted_with_a_public_web_server() -> None:
    profile = load(webserver_access_mode="PUBLIC_ONLY", webserver_access={"cidrs": [], "security_groups": []})
    assert profile.webserver_access.cidrs == ()


# --- the shipped profiles ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_profiles() -> dict[str, Any]:
    with (REPO_ROOT / "cdk.json").open(encoding="utf-8") as f:
        return json.load(f)["context"]["profiles"]


def test_dev_and_prod_are_shipped_and_every_profile_of_cdk_json_is_valid(
    shipped_profiles: dict[str, Any],
) -> None:
    # A team added with `make new-team` is one more profile: the two shipped ones stay.
    assert {"dev", "prod"} <= set(shipped_profiles)
    assert next(iter(shipped_profiles)) == "dev"  # the deploy workflow's first profile, deployed first
    for name in shipped_profiles:
        assert load_profile(shipped_profiles, name, root=REPO_ROOT).name == name


def test_shipped_dev_profile(shipped_profiles: dict[str, Any]) -> None:
    dev = load_profile(shipped_profiles, "dev")
    assert dev.name == "dev"
    assert dev.environment_name == "mwaa-dev"
    assert (dev.network.mode, dev.network.nat_gateways) == ("nat", 1)
    assert dev.removal_policy == "destroy"
    assert dev.termination_protection is False


def test_shipped_prod_profile(shipped_profiles: dict[str, Any]) -> None:
    prod = load_profile(shipped_profiles, "prod")
    assert prod.name == "prod"
    assert prod.environment_name == "mwaa-prod"
    assert (prod.network.mode, prod.network.nat_gateways) == ("nat", 2)
    assert prod.encryption == "customer_managed"
    assert prod.removal_policy == "retain"
    assert prod.webserver_access_mode == "PRIVATE_ONLY"
    assert prod.termination_protection is True
    assert prod.weekly_maintenance_window_start == "SUN:03:00"
    assert prod.worker_replacement_strategy == "GRACEFUL"
    assert prod.compliance == ("nist-800-53-r5", "hipaa")


def test_shipped_profiles_differ_where_documented(shipped_profiles: dict[str, Any]) -> None:
    dev = load_profile(shipped_profiles, "dev")
    prod = load_profile(shipped_profiles, "prod")
    assert dev.environment_name != prod.environment_name
    assert dev.network.vpc_cidr != prod.network.vpc_cidr
    assert dev.python_version == prod.python_version == "3.12"


# --- compliance packs -------------------------------------------------------------------------

COMPLIANCE_ALLOWED = "allowed packs are 'nist-800-53-r5', 'hipaa', 'pci-dss-3.2.1'"


def test_compliance_defaults_to_none() -> None:
    assert load().compliance == ()


@pytest.mark.parametrize(
    "packs",
    [["nist-800-53-r5"], ["hipaa", "pci-dss-3.2.1"], ["pci-dss-3.2.1", "nist-800-53-r5", "hipaa"], []],
)
def test_compliance_packs_accepted_in_order(packs: list[str]) -> None:
    assert load(compliance=packs).compliance == tuple(packs)


@pytest.mark.parametrize("pack", ["nist-800-53-r4", "HIPAA", "pci", "AwsSolutions", 3])
def test_unknown_compliance_pack_rejected(pack: object) -> None:
    assert_rejected({"compliance": ["hipaa", pack]}, "compliance", pack, COMPLIANCE_ALLOWED)


def test_duplicate_compliance_pack_rejected() -> None:
    line = assert_rejected(
        {"compliance": ["hipaa", "nist-800-53-r5", "hipaa"]}, "compliance", "hipaa", "listed once"
    )
    assert line == "compliance: got 'hipaa'; each pack may be listed once"


@pytest.mark.parametrize("value", ["hipaa", {"hipaa": True}])
def test_compliance_must_be_a_list(value: object) -> None:
    assert_rejected(
        {"compliance": value},
        "compliance",
        value,
        f"expected a list of compliance packs; {COMPLIANCE_ALLOWED}",
    )
