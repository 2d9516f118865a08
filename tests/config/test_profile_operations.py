"""Profile settings for operating an environment: ``alarms``, ``secrets_backend``, ``access``."""

from __future__ import annotations

from typing import Any

import pytest

from platform_config import load_profile, read_cdk_profiles
from platform_config.profile import AlarmSettings, RoleAccess, SecretsBackendSettings
from tests.config.test_profile import REPO_ROOT, assert_rejected, load, problems_for

ANALYST = "arn:aws:iam::111122223333:role/analyst"
ENGINEER = "arn:aws:iam::111122223333:role/teams/data/data-engineer"
TOPIC = "arn:aws:sns:eu-west-1:111122223333:mwaa-alarms"
ROLES = "allowed roles are 'Admin', 'Op', 'User', 'Viewer', 'Public'"
ARN_FORM = "expected an IAM role ARN arn:<partition>:iam::<12 digits>:role/<path/name>"


# --- alarms -----------------------------------------------------------------------------------


def test_alarms_are_on_by_default_with_a_topic_of_their_own() -> None:
    assert load().alarms == AlarmSettings(enabled=True, email=(), topic_arn=None)


def test_alarm_settings_are_read() -> None:
    profile = load(alarms={"enabled": True, "email": ["ops@example.com", "oncall@example.org"]})
    assert profile.alarms.email == ("ops@example.com", "oncall@example.org")
    assert load(alarms={"topic_arn": TOPIC}).alarms.topic_arn == TOPIC
    assert load(alarms={"enabled": False}).alarms.enabled is False


@pytest.mark.parametrize(
    ("alarms", "setting", "value", "allowed"),
    [
        ({"enabled": "yes"}, "alarms.enabled", "yes", "expected bool"),
        ({"email": "ops@example.com"}, "alarms.email", "ops@example.com", "expected a list of e-mail"),
        ({"email": ["ops"]}, "alarms.email[0]", "ops", "expected an e-mail address such as"),
        ({"email": ["a@example.com", "A@example.com"]}, "alarms.email[1]", "A@example.com", "listed twice"),
        ({"topic_arn": "arn:aws:sns:eu-west-1:1111:x"}, "alarms.topic_arn", "arn:aws:sns:eu-west-1:1111:x",
         "expected a standard SNS topic ARN such as 'arn:aws:sns:eu-west-1:111122223333:mwaa-alarms'"),
        ({"topic_arn": f"{TOPIC}.fifo"}, "alarms.topic_arn", f"{TOPIC}.fifo", "standard SNS topic ARN"),
        ({"topic_arn": TOPIC, "email": ["ops@example.com"]}, "alarms.email", ["ops@example.com"],
         "not together with alarms.topic_arn: subscribe the addresses where that topic is managed"),
        ({"emails": []}, "alarms.emails", None, ""),
    ],
)  # fmt: skip
def test_bad_alarm_settings_are_rejected(
    alarms: dict[str, Any], setting: str, value: object, allowed: str
) -> None:
    if value is None:
        expected = f"{setting}: unknown setting; did you mean 'email'? allowed settings are "
        expected += "enabled, email, topic_arn"
        assert expected in problems_for(alarms=alarms)
    else:
        assert_rejected({"alarms": alarms}, setting, value, allowed)


def test_alarms_must_be_an_object() -> None:
    assert_rejected({"alarms": True}, "alarms", True, "expected an object with 'enabled', 'email'")


# --- secrets backend --------------------------------------------------------------------------


def test_secrets_backend_is_on_by_default_with_the_documented_prefixes() -> None:
    assert load().secrets_backend == SecretsBackendSettings(
        enabled=True, connections_prefix="airflow/connections", variables_prefix="airflow/variables"
    )


def test_secrets_backend_prefixes_and_switch_are_read() -> None:
    backend = load(secrets_backend={"connections_prefix": "team/conn", "variables_prefix": "team/var"})
    assert (backend.secrets_backend.connections_prefix, backend.secrets_backend.variables_prefix) == (
        "team/conn",
        "team/var",
    )
    off = load(secrets_backend={"enabled": False}, airflow_configuration_options={"secrets.backend": "x.Y"})
    assert off.secrets_backend.enabled is False
    assert off.airflow_configuration_options == {"secrets.backend": "x.Y"}


@pytest.mark.parametrize(
    ("backend", "setting", "value", "allowed"),
    [
        (False, "secrets_backend", False, 'write {"enabled": false} to turn the backend off'),
        ({"connections_prefix": "airflow/connections/"}, "secrets_backend.connections_prefix",
         "airflow/connections/", "no '/' at either end"),
        ({"variables_prefix": "my vars"}, "secrets_backend.variables_prefix", "my vars",
         "letters, digits and _+=.@-"),
        ({"variables_prefix": "airflow/connections"}, "secrets_backend.variables_prefix",
         "airflow/connections", "must differ from secrets_backend.connections_prefix"),
        ({"enabled": 0}, "secrets_backend.enabled", 0, "expected bool"),
    ],
)  # fmt: skip
def test_bad_secrets_backend_settings_are_rejected(
    backend: object, setting: str, value: object, allowed: str
) -> None:
    assert_rejected({"secrets_backend": backend}, setting, value, allowed)


@pytest.mark.parametrize("option", ["secrets.backend", "secrets.backend_kwargs"])
def test_backend_options_set_by_hand_name_both_settings(option: str) -> None:
    line = assert_rejected(
        {"airflow_configuration_options": {option: "x"}},
        f"airflow_configuration_options.{option}",
        "x",
        "secrets_backend sets this option",
    )
    assert line.endswith(
        "remove it here, or set secrets_backend.enabled to false to configure a backend of your own"
    )


# --- access -----------------------------------------------------------------------------------


def test_no_access_is_granted_by_default() -> None:
    access = load().access
    assert (access.web_login, access.rest_api, access.cli) == ((), (), ())


def test_access_settings_are_read() -> None:
    access = load(
        access={
            "web_login": [{"role_arn": ANALYST, "airflow_role": "Viewer"}],
            "rest_api": [{"role_arn": ENGINEER, "airflow_role": "Op"}],
            "cli": [ENGINEER],
        }
    ).access
    assert access.web_login == (RoleAccess(role_arn=ANALYST, airflow_role="Viewer"),)
    assert access.rest_api == (RoleAccess(role_arn=ENGINEER, airflow_role="Op"),)
    assert access.cli == (ENGINEER,)


def test_gov_cloud_and_china_role_arns_are_accepted() -> None:
    for arn in ("arn:aws-us-gov:iam::111122223333:role/x", "arn:aws-cn:iam::111122223333:role/a/b/c"):
        assert load(access={"cli": [arn]}).access.cli == (arn,)


@pytest.mark.parametrize(
    ("access", "setting", "value", "allowed"),
    [
        ({"web_login": [{"role_arn": ANALYST, "airflow_role": "Viewer"},
                        {"role_arn": ENGINEER, "airflow_role": "admin"}]},
         "access.web_login[1].airflow_role", "admin", ROLES),
        ({"rest_api": [{"role_arn": ANALYST}]}, "access.rest_api[0].airflow_role", None, ROLES),
        ({"web_login": [{"role_arn": "arn:aws:iam::111122223333:user/bob", "airflow_role": "User"}]},
         "access.web_login[0].role_arn", "arn:aws:iam::111122223333:user/bob", ARN_FORM),
        ({"cli": ["arn:aws:iam::1111:role/x"]}, "access.cli[0]", "arn:aws:iam::1111:role/x", ARN_FORM),
        ({"cli": [ANALYST, ANALYST]}, "access.cli[1]", ANALYST, "listed twice"),
        ({"web_login": [{"role_arn": ANALYST, "airflow_role": "User"},
                        {"role_arn": ANALYST, "airflow_role": "Op"}]},
         "access.web_login[1].role_arn", ANALYST, "listed twice"),
        ({"web_login": [{"role_arn": ANALYST, "airflow_role": "User"}],
          "cli": ["arn:aws:iam::111122223333:role/other/analyst"]},
         "access.cli[0]", "arn:aws:iam::111122223333:role/other/analyst",
         f"another role named 'analyst' is listed ({ANALYST}); a role name is unique"),
        ({"web_login": "arn"}, "access.web_login", "arn", "expected a list of"),
        ({"cli": ANALYST}, "access.cli", ANALYST, "expected a list of IAM role ARNs"),
        ({"web_login": [ANALYST]}, "access.web_login[0]", ANALYST, ROLES),
        ([], "access", [], "expected an object with 'web_login', 'rest_api' and/or 'cli'"),
    ],
)  # fmt: skip
def test_bad_access_settings_are_rejected(access: Any, setting: str, value: object, allowed: str) -> None:
    assert_rejected({"access": access}, setting, value, allowed)


def test_roles_of_another_account_are_rejected_when_the_account_is_set() -> None:
    assert_rejected(
        {"account": "444455556666", "access": {"cli": [ANALYST]}},
        "access.cli[0]",
        ANALYST,
        "IAM policies can be attached only to roles of the profile's account 444455556666",
    )
    assert load(account="111122223333", access={"cli": [ANALYST]}).access.cli == (ANALYST,)


def test_unknown_access_keys_are_named() -> None:
    problems = problems_for(access={"ui": [], "cli": [{"role_arn": ANALYST, "airflow_role": "User", "x": 1}]})
    assert "access.ui: unknown setting; allowed settings are web_login, rest_api, cli" in problems


# --- shipped profiles -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_shipped_profiles_alarm_read_secrets_and_grant_no_one(name: str) -> None:
    profile = load_profile(read_cdk_profiles(REPO_ROOT / "cdk.json"), name)
    assert profile.alarms == AlarmSettings(enabled=True, email=(), topic_arn=None)
    assert profile.secrets_backend == SecretsBackendSettings()
    assert (profile.access.web_login, profile.access.rest_api, profile.access.cli) == ((), (), ())
