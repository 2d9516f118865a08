"""Errors of ``mwaa-ops`` and the exit code each one ends the command with.

Every failure a person can act on becomes an :class:`OpsError` whose message fits in one or
two lines and says what to do; the command-line layer prints it without a traceback. AWS
errors (botocore's ``ClientError`` and friends) are translated here, in one place, so that
every command names the IAM action and the grant that fixes an access denial the same way.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)


class ExitCode(IntEnum):
    """Exit codes of every command, documented in ``--help`` and docs/operations.md."""

    OK = 0
    FAILED = 1  # a check failed, a DAG run failed, an environment update failed
    USAGE = 2  # bad arguments, cdk.json or profile problems (argparse also exits with 2)
    AWS = 3  # AWS refused or could not be reached: credentials, region, access, not found
    TIMEOUT = 4  # a wait ran out of time before the outcome was known


class OpsError(Exception):
    """A failure with a message for people and the exit code it maps to."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(OpsError):
    """Arguments, cdk.json or the profile cannot be used as given."""

    exit_code = ExitCode.USAGE


class AwsError(OpsError):
    """AWS answered with an error, or could not be called at all."""

    exit_code = ExitCode.AWS

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class CheckFailed(OpsError):
    """The environment, a DAG run or a smoke check is not in the state asked for."""

    exit_code = ExitCode.FAILED


class WaitTimeout(OpsError):
    """A wait ended before the environment or the DAG run reached a final state."""

    exit_code = ExitCode.TIMEOUT


# IAM action prefix of each boto3 service name used here.
_IAM_PREFIX = {
    "mwaa": "airflow",
    "mwaa-serverless": "airflow-serverless",
    "cloudformation": "cloudformation",
    "logs": "logs",
}

# How to obtain the permission each operation needs. The grant_* methods belong to
# mwaa_constructs.AirflowEnvironment (grant_start_run to ServerlessWorkflow); the access.* keys
# are the profile settings that call them.
_GRANT_HINTS = {
    "CreateWebLoginToken": "grant it with AirflowEnvironment.grant_web_login() or the profile setting "
    "access.web_login",
    "InvokeRestApi": "grant it with AirflowEnvironment.grant_rest_api() or the profile setting "
    "access.rest_api",
    "CreateCliToken": "grant it with AirflowEnvironment.grant_cli_token() or the profile setting access.cli",
    "GetEnvironment": "allow airflow:GetEnvironment on the environment's ARN",
    "FilterLogEvents": "allow logs:FilterLogEvents on the environment's Task log group",
    "DescribeStacks": "allow cloudformation:DescribeStacks on the platform stack",
    "StartWorkflowRun": "grant it with ServerlessWorkflow.grant_start_run()",
}

_NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE (or pass --aws-profile), or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, or run `aws sso login`"
)
_NO_REGION = "no AWS region: pass --region, set AWS_REGION, or set `region` in the cdk.json profile"


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorizes ``operation`` of boto3 ``service``, e.g. ``airflow:GetEnvironment``."""
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


def translate_botocore_error(
    error: Exception, *, service: str, target: str, hint: str | None = None
) -> OpsError:
    """A short, actionable :class:`OpsError` for an exception raised by a boto3 call.

    ``target`` names what was called (an environment, a stack, a log group) so that the
    message says which resource AWS refused; ``hint``, when given, replaces the table's advice
    on an access denial (the caller knows the resource better). Errors that are not botocore's
    are returned as a generic AWS error rather than re-raised, so that no traceback reaches the
    terminal."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return AwsError(_NO_CREDENTIALS, code="NoCredentials")
    if isinstance(error, NoRegionError):
        return AwsError(_NO_REGION, code="NoRegion")
    if isinstance(error, ProfileNotFound):
        return AwsError(
            f"{error}: check --aws-profile / AWS_PROFILE against ~/.aws/config", code="ProfileNotFound"
        )
    if isinstance(error, EndpointConnectionError):
        return AwsError(f"cannot reach AWS: {error}", code="EndpointConnectionError")
    if not isinstance(error, ClientError):
        return AwsError(f"AWS call failed: {error}")

    info: dict[str, Any] = error.response.get("Error", {})
    code = str(info.get("Code", "Unknown"))
    message = str(info.get("Message", "")).strip()
    operation = error.operation_name
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        action = iam_action(service, operation)
        hint = hint or _GRANT_HINTS.get(operation, f"allow {action}")
        return AwsError(
            f"access denied: {action} on {target} is not allowed for these credentials; {hint}",
            code=code,
        )
    if code in {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }:
        return AwsError(
            f"AWS rejected the credentials ({code}): {message}; refresh them and retry", code=code
        )
    if code == "ResourceNotFoundException":
        return AwsError(f"{target} not found in this account and region: {message}", code=code)
    if code in {"RestApiClientException", "RestApiServerException"}:
        return rest_api_error(error, target=target)
    return AwsError(f"{operation} on {target} failed ({code}): {message}", code=code)


def rest_api_error(error: ClientError, *, target: str) -> AwsError:
    """The Airflow REST API's own answer (status and detail) for a failed ``InvokeRestApi``.

    MWAA reports Airflow's 4xx answers as ``RestApiClientException`` and 5xx answers as
    ``RestApiServerException``, with Airflow's status code and body beside the error."""
    status = error.response.get("RestApiStatusCode")
    body = error.response.get("RestApiResponse")
    detail = rest_error_detail(body) or str(error.response.get("Error", {}).get("Message", "")).strip()
    code = str(error.response.get("Error", {}).get("Code", "RestApiException"))
    side = "server error" if code == "RestApiServerException" else "rejected the request"
    status_text = f" (HTTP {status})" if status is not None else ""
    return AwsError(f"Airflow REST API of {target} {side}{status_text}: {detail}", code=code)


def rest_error_detail(body: object, *, limit: int | None = None) -> str:
    """Airflow's error text: ``detail`` (API v2) or ``title``/``detail`` (API v1 problem JSON);
    any other body as text, cut at ``limit`` characters when given."""
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, list):  # API v2 validation errors: a list of {loc, msg, type}
            return "; ".join(
                f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg')}"
                if isinstance(item, dict)
                else str(item)
                for item in detail
            )
        if detail:
            return str(detail)
        if body.get("title"):
            return str(body["title"])
    return "" if body is None else str(body)[:limit]
