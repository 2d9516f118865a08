"""How AWS errors become one-line messages with the right exit code."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

from mwaa_ops.errors import ExitCode, iam_action, translate_botocore_error


def client_error(code: str, operation: str, message: str = "m", **extra: object) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, **extra}, operation)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("operation", "hint"),
    [
        (
            "CreateWebLoginToken",
            "grant it with AirflowEnvironment.grant_web_login() or the profile setting access.web_login",
        ),
        (
            "InvokeRestApi",
            "grant it with AirflowEnvironment.grant_rest_api() or the profile setting access.rest_api",
        ),
        (
            "CreateCliToken",
            "grant it with AirflowEnvironment.grant_cli_token() or the profile setting access.cli",
        ),
        ("GetEnvironment", "allow airflow:GetEnvironment on the environment's ARN"),
        ("ListEnvironments", "allow airflow:ListEnvironments"),
    ],
)
def test_access_denied_names_action_and_grant(operation: str, hint: str) -> None:
    error = translate_botocore_error(
        client_error("AccessDeniedException", operation), service="mwaa", target="environment e"
    )

    assert error.exit_code == ExitCode.AWS
    assert error.message == (
        f"access denied: airflow:{operation} on environment e is not allowed for these credentials; {hint}"
    )


def test_iam_action_prefixes() -> None:
    assert iam_action("mwaa", "InvokeRestApi") == "airflow:InvokeRestApi"
    assert iam_action("logs", "FilterLogEvents") == "logs:FilterLogEvents"
    assert iam_action("cloudformation", "DescribeStacks") == "cloudformation:DescribeStacks"


def test_expired_credentials() -> None:
    error = translate_botocore_error(
        client_error(
            "ExpiredTokenException", "GetEnvironment", "The security token included in the request is expired"
        ),
        service="mwaa",
        target="environment e",
    )
    assert error.message == (
        "AWS rejected the credentials (ExpiredTokenException): The security token included in the request "
        "is expired; refresh them and retry"
    )


def test_other_client_errors_name_operation_and_code() -> None:
    error = translate_botocore_error(
        client_error("ValidationException", "InvokeRestApi", "Path too long"),
        service="mwaa",
        target="environment e",
    )
    assert error.message == "InvokeRestApi on environment e failed (ValidationException): Path too long"
    assert error.exit_code == ExitCode.AWS


def test_rest_api_error_without_airflow_body_falls_back_to_the_aws_message() -> None:
    error = translate_botocore_error(
        client_error(
            "RestApiServerException", "InvokeRestApi", "Update your environment to use InvokeRestApi"
        ),
        service="mwaa",
        target="environment e",
    )
    assert error.message == (
        "Airflow REST API of environment e server error: Update your environment to use InvokeRestApi"
    )


@pytest.mark.parametrize(
    ("raised", "start"),
    [(NoCredentialsError(), "no AWS credentials found"), (NoRegionError(), "no AWS region")],
)
def test_missing_configuration(raised: Exception, start: str) -> None:
    error = translate_botocore_error(raised, service="mwaa", target="environment e")
    assert error.message.startswith(start)
    assert error.exit_code == ExitCode.AWS
