"""Which values the review masks: names that suggest a secret, dynamic references, URL passwords."""

from __future__ import annotations

import pytest

from tools.review.masking import MASK, is_secret_key, mask


@pytest.mark.parametrize(
    "key",
    [
        "MasterUserPassword",
        "SecretString",
        "webserver.secret_key",
        "API_TOKEN",
        "DB_PASS",
        "PrivateKey",
        "OAuthToken",
    ],
)
def test_names_that_suggest_a_secret_are_masked(key: str) -> None:
    assert is_secret_key(key)
    assert mask(("Environment", "Variables", key), "value") == MASK


@pytest.mark.parametrize(
    "key",
    [
        "SecretArn",
        "SecretId",
        "SecretsManagerSecretId",
        "secrets.backend_kwargs",
        "ServiceToken",
        "MaxWorkers",
    ],
)
def test_names_that_point_at_a_secret_are_shown(key: str) -> None:
    assert not is_secret_key(key)
    assert mask((key,), "arn:aws:secretsmanager:eu-west-1:111122223333:secret:x") == (
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:x"
    )


def test_dynamic_references_to_secrets_are_masked_where_they_stand() -> None:
    value = (
        "host={{resolve:ssm:/db/host}} password="
        "{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:111122223333:secret:db"
        ":SecretString:password}} "
        "key={{resolve:ssm-secure:/db/key:1}}"
    )
    assert mask(("Options",), value) == "host={{resolve:ssm:/db/host}} password=*** key=***"


def test_the_password_of_a_url_is_masked() -> None:
    assert (
        mask(("Uri",), "postgresql://airflow:hunter2@db:5432/airflow")
        == "postgresql://airflow:***@db:5432/airflow"
    )
    assert mask(("Uri",), "https://example.com/a:b@c") == "https://example.com/a:b@c"  # no credentials
