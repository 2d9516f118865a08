"""The ``backup`` and ``standby`` settings: what loads, and the problem line of each bad value
(the setting, the value received, what is allowed). Expected texts are written out here."""

from __future__ import annotations

from typing import Any

import pytest

from platform_config import ProfileError, load_profile

BASE: dict[str, Any] = {"environment_name": "mwaa-test", "region": "eu-west-1"}
ON = {"enabled": True}


def load(profiles: dict[str, Any] | None = None, name: str = "test", **overrides: Any) -> Any:
    return load_profile(profiles or {name: {**BASE, **overrides}}, name)


def problems(profiles: dict[str, Any] | None = None, name: str = "test", **overrides: Any) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        load(profiles, name, **overrides)
    assert caught.value.profile == name
    return caught.value.problems


def test_backups_are_off_by_default_and_on_with_defaults() -> None:
    assert load().backup.enabled is False
    backup = load(backup=ON).backup
    assert (backup.schedule, backup.retention_days, backup.window_days, backup.xcom) == (
        "cron(0 2 * * ? *)", 35, 30, False
    )  # fmt: skip
    assert backup.object_lock_days is None and backup.replica_region is None
    assert backup.schedule_interval_seconds == 86400


@pytest.mark.parametrize(
    ("schedule", "interval"),
    [
        ("cron(0 2 * * ? *)", 24 * 3600),
        ("cron(30 */6 * * ? *)", 6 * 3600),
        ("cron(15 2,14 * * ? *)", 12 * 3600),
        ("cron(0 1,2,20 * * ? *)", 18 * 3600),  # the longest gap: 02:00 to 20:00
        ("rate(1 hour)", 3600),
        ("rate(12 hours)", 12 * 3600),
        ("rate(6 days)", 6 * 86400),
    ],
)
def test_schedules_the_alarm_can_watch(schedule: str, interval: int) -> None:
    assert load(backup={**ON, "schedule": schedule}).backup.schedule_interval_seconds == interval


@pytest.mark.parametrize(
    "schedule",
    [
        "rate(30 minutes)",  # more often than the hourly alarm can see
        "rate(7 days)",  # longer than the alarm's 7-day window less the grace hour
        "rate(1 hours)",  # Scheduler writes "1 hour"
        "cron(0 2 ? * MON *)",  # weekly: no calendar here
        "cron(0 25 * * ? *)",
        "0 2 * * *",
        "at(2026-12-24T00:00:00)",
    ],
)
def test_a_schedule_outside_the_accepted_forms_is_refused(schedule: str) -> None:
    assert problems(backup={**ON, "schedule": schedule}) == [
        f"backup.schedule: got '{schedule}'; expected an EventBridge Scheduler expression "
        "'rate(<n> minutes|hours|days)' or a daily 'cron(<minute> <hours> * * ? *)' (hours a number, a "
        "list such as '2,14' or '*/6'), in UTC, at most every hour and at least every 167 hours"
    ]


@pytest.mark.parametrize(
    ("setting", "value", "allowed"),
    [
        ("retention_days", 0, "expected 1 to 3650 days"),
        ("retention_days", 3651, "expected 1 to 3650 days"),
        ("window_days", 366, "expected 1 to 365 days"),
        ("object_lock_days", 0, "expected 1 to 3650 days, at most backup.retention_days"),
        ("replica_region", "Europe", "expected a region code like 'eu-west-1' (not the profile's region)"),
    ],
)
def test_a_value_out_of_range_names_the_setting_the_value_and_the_range(
    setting: str, value: object, allowed: str
) -> None:
    shown = f"'{value}'" if isinstance(value, str) else repr(value)
    assert problems(backup={**ON, setting: value}) == [f"backup.{setting}: got {shown}; {allowed}"]


def test_types_and_unknown_keys_are_refused() -> None:
    assert problems(backup={**ON, "xcom": "yes", "retention": 10}) == [
        "backup.retention: unknown setting; did you mean 'retention_days'? allowed settings are enabled, "
        "schedule, retention_days, window_days, xcom, object_lock_days, replica_region",
        "backup.xcom: got 'yes'; expected bool",
    ]
    assert problems(backup="daily") == [
        'backup: got \'daily\'; expected an object such as {"enabled": true, "schedule": "cron(0 2 * * ? *)"}'
    ]


def test_the_object_lock_fits_in_the_retention_and_a_retained_bucket() -> None:
    assert problems(backup={**ON, "retention_days": 30, "object_lock_days": 31}) == [
        "backup.object_lock_days: got 31; must not exceed backup.retention_days (30): "
        "the archives expire then"
    ]
    assert problems(backup={**ON, "object_lock_days": 7}, removal_policy="destroy") == [
        "backup.object_lock_days: got 7; not with removal_policy 'destroy': locked archives cannot be "
        "emptied out of the bucket"
    ]
    assert load(backup={**ON, "object_lock_days": 35}).backup.object_lock_days == 35


def test_the_replica_region_is_another_region_of_a_profile_with_a_region() -> None:
    assert problems(backup={**ON, "replica_region": "eu-west-1"}) == [
        "backup.replica_region: got 'eu-west-1'; must differ from the profile's region 'eu-west-1'"
    ]
    raw = {"environment_name": "mwaa-test", "backup": {**ON, "replica_region": "eu-central-1"}}
    assert problems({"test": raw}) == [
        "backup.replica_region: got 'eu-central-1'; needs the profile's region set: the replication rules "
        "and the replica stack name each other's region"
    ]
    profile = load(backup={**ON, "replica_region": "eu-central-1"})
    assert profile.replica_stack_name == "mwaa-test-replica"
    # Deployed first: the platform's replication rules name its buckets.
    assert profile.stack_names[:2] == ("mwaa-test-replica", "mwaa-test-platform")


def test_settings_without_enabled_are_a_mistake_not_a_silent_no_op() -> None:
    assert problems(backup={"schedule": "rate(6 hours)"}) == [
        "backup: got {'schedule': 'rate(6 hours)'}; the settings apply only with \"enabled\": true; set it, "
        "or remove the other keys"
    ]
    assert load(backup={"enabled": False}).backup.enabled is False


def _pair(primary: dict[str, Any], standby: dict[str, Any]) -> dict[str, Any]:
    return {
        "prod": {"environment_name": "mwaa-prod", "region": "eu-west-1",
                 "network": {"vpc_cidr": "10.10.0.0/16"}, **primary},
        "prod-dr": {"environment_name": "mwaa-prod-dr", "network": {"vpc_cidr": "10.20.0.0/16"}, **standby},
    }  # fmt: skip


REPLICATED = {"backup": {**ON, "replica_region": "eu-central-1"}, "standby": "prod-dr"}


def test_a_standby_in_the_replica_region_loads() -> None:
    profile = load(_pair(REPLICATED, {"region": "eu-central-1"}), "prod")
    assert profile.standby == "prod-dr"


@pytest.mark.parametrize(
    ("primary", "standby", "line"),
    [
        ({"standby": "prod-west"}, {"region": "eu-central-1"},
         "standby: got 'prod-west'; expected another profile of cdk.json: 'prod-dr'"),
        ({"standby": "prod"}, {"region": "eu-central-1"},
         "standby: got 'prod'; expected another profile of cdk.json: 'prod-dr'"),
        (REPLICATED, {}, "standby: got 'prod-dr'; that profile sets no region (a standby needs its own)"),
        (REPLICATED, {"region": "eu-west-1"},
         "standby: got 'prod-dr'; it runs in this profile's region eu-west-1 too"),
        ({"standby": "prod-dr"}, {"region": "eu-central-1"},
         "standby: got 'prod-dr' (region eu-central-1); this profile's backups are not replicated "
         "(backup.replica_region unset): set backup.enabled and backup.replica_region to 'eu-central-1'"),
        ({**REPLICATED, "backup": {**ON, "replica_region": "us-east-1"}}, {"region": "eu-central-1"},
         "standby: got 'prod-dr' (region eu-central-1); this profile's backups are replicated to us-east-1: "
         "set backup.enabled and backup.replica_region to 'eu-central-1'"),
    ],
)  # fmt: skip
def test_a_standby_must_exist_elsewhere_and_receive_the_replicas(
    primary: dict[str, Any], standby: dict[str, Any], line: str
) -> None:
    assert problems(_pair(primary, standby), "prod") == [line]


def test_backups_need_the_environment_they_back_up() -> None:
    assert "backup.enabled: got True; backs up the MWAA environment, and classic_environment is false" in (
        problems(backup=ON, classic_environment=False)
    )
