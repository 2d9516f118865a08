"""How mwaa-ops finds the environment: cdk.json profile -> platform stack -> EnvironmentName
output, ``--environment``, region and AWS profile selection, and the errors on the way."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ops_testing import ENV, REGION, ROOT, STACK, Aws, environment

from mwaa_ops.aws import AwsSettings
from mwaa_ops.cli import Runtime, main


def test_profile_resolves_to_the_environment_named_by_its_stack_output(aws: Aws, cli) -> None:
    aws.describe_stacks(outputs={"EnvironmentName": "renamed-env"})
    aws.mwaa.add_response("get_environment", _renamed(), {"Name": "renamed-env"})

    result = cli("status", "--profile", "dev", "--json")

    assert result.code == 0, result.stderr
    assert result.json["name"] == "renamed-env"
    assert result.json["stack"] == STACK
    assert result.json["profile"] == "dev"
    aws.assert_done()


def test_profile_defaults_to_dev(aws: Aws, cli) -> None:
    aws.describe_stacks()  # expects StackName mwaa-dev-platform
    aws.get_environment()

    assert cli("status").code == 0
    aws.assert_done()


def test_prod_profile_reads_the_prod_stack(aws: Aws, cli) -> None:
    aws.cfn.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id mwaa-prod-platform does not exist",
        expected_params={"StackName": "mwaa-prod-platform"},
    )

    result = cli("status", "--profile", "prod")

    assert result.code == 3
    assert "mwaa-prod-platform" in result.stderr
    aws.assert_done()


def test_environment_option_skips_cdk_json_and_the_stack(aws: Aws, cli, tmp_path: Path) -> None:
    aws.get_environment()

    result = cli("status", "--environment", ENV, "--cdk-json", str(tmp_path / "missing.json"))

    assert result.code == 0, result.stderr
    assert aws.settings == [AwsSettings(aws_profile=None, region=None)]
    aws.assert_done()  # no DescribeStacks was queued, and none was called


def test_stack_not_deployed_names_the_stack_and_the_deploy_command(aws: Aws, cli) -> None:
    aws.cfn.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {STACK} does not exist",
    )

    result = cli("status", "--profile", "dev", "--region", REGION)

    assert result.code == 3
    assert result.stderr == (
        f"mwaa-ops: error: stack {STACK} of profile 'dev' is not deployed in {REGION}: run "
        "`make deploy PROFILE=dev` first, or pass --environment NAME\n"
    )
    assert "Traceback" not in result.stderr


def test_stack_without_environment_output_says_so(aws: Aws, cli) -> None:
    aws.describe_stacks(outputs={}, status="CREATE_IN_PROGRESS")

    result = cli("status")

    assert result.code == 3
    assert f"stack {STACK} (CREATE_IN_PROGRESS) has no EnvironmentName output" in result.stderr


def test_describe_stacks_access_denied_names_the_action(aws: Aws, cli) -> None:
    aws.cfn.add_client_error(
        "describe_stacks",
        service_error_code="AccessDenied",
        service_message="not authorized",
        http_status_code=403,
    )

    result = cli("status")

    assert result.code == 3
    assert "access denied: cloudformation:DescribeStacks on stack mwaa-dev-platform" in result.stderr


def _cdk_json(tmp_path: Path, **dev: object) -> Path:
    path = tmp_path / "cdk.json"
    path.write_text(
        json.dumps({"context": {"profiles": {"dev": dev, "qa": {"environment_name": "mwaa-qa"}}}})
    )
    return path


def test_region_comes_from_the_profile_unless_given(aws: Aws, cli, tmp_path: Path) -> None:
    cdk_json = _cdk_json(tmp_path, region="eu-west-1")
    for _ in range(2):
        aws.describe_stacks()
        aws.get_environment()

    assert cli("status", "--cdk-json", str(cdk_json)).code == 0
    assert (
        cli("status", "--cdk-json", str(cdk_json), "--region", "eu-central-1", "--aws-profile", "ops").code
        == 0
    )

    assert aws.settings == [
        AwsSettings(aws_profile=None, region="eu-west-1"),
        AwsSettings(aws_profile="ops", region="eu-central-1"),
    ]


def test_environment_with_explicit_profile_still_uses_the_profile_region(
    aws: Aws, cli, tmp_path: Path
) -> None:
    cdk_json = _cdk_json(tmp_path, region="eu-west-1")
    aws.get_environment()

    assert cli("status", "--cdk-json", str(cdk_json), "--profile", "dev", "--environment", ENV).code == 0
    assert aws.settings == [AwsSettings(aws_profile=None, region="eu-west-1")]


def test_missing_cdk_json_is_a_usage_error(cli, tmp_path: Path) -> None:
    result = cli("status", "--cdk-json", str(tmp_path / "cdk.json"))

    assert result.code == 2
    assert "cdk.json not found: run mwaa-ops in the project directory" in result.stderr


def test_unknown_profile_lists_the_defined_ones(cli, tmp_path: Path) -> None:
    result = cli("status", "--cdk-json", str(_cdk_json(tmp_path)), "--profile", "staging")

    assert result.code == 2
    assert "profile 'staging' not found in cdk.json; profiles there:" in result.stderr
    assert "'dev'" in result.stderr and "'qa'" in result.stderr


def test_invalid_profile_reports_the_setting(cli, tmp_path: Path) -> None:
    result = cli("status", "--cdk-json", str(_cdk_json(tmp_path, max_workers=40)))

    assert result.code == 2
    assert "max_workers: got 40" in result.stderr


def test_usage_errors_exit_2(cli) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli("runs", "some_dag", "--limit", "0")
    assert exit_info.value.code == 2


def test_json_errors_are_json_on_stdout(aws: Aws, cli) -> None:
    aws.cfn.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {STACK} does not exist",
    )

    result = cli("status", "--json")

    assert result.code == 3
    assert result.json["error"]["exit_code"] == 3
    assert result.json["error"]["code"] == "StackNotFound"
    assert "make deploy PROFILE=dev" in result.json["error"]["message"]


# -- the real boto3 path: no credentials, no region, unknown AWS profile. Nothing can reach AWS:
# -- botocore fails before sending (signing needs credentials; a client needs a region).


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An environment with no AWS configuration at all, and no instance metadata lookups."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _run_real(*argv: str) -> tuple[int, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(argv), runtime=Runtime(stdout=stdout, stderr=stderr))
    return code, stderr.getvalue()


@pytest.mark.usefixtures("bare_environment")
def test_no_credentials_is_a_one_line_aws_error() -> None:
    code, stderr = _run_real("status", "--environment", ENV, "--region", REGION)

    assert code == 3
    assert stderr.startswith("mwaa-ops: error: no AWS credentials found: set AWS_PROFILE")
    assert stderr.count("\n") == 1


@pytest.mark.usefixtures("bare_environment")
def test_no_region_says_how_to_set_one() -> None:
    code, stderr = _run_real("status", "--environment", ENV)

    assert code == 3
    assert "no AWS region: pass --region, set AWS_REGION" in stderr


@pytest.mark.usefixtures("bare_environment")
def test_unknown_aws_profile_is_reported() -> None:
    code, stderr = _run_real("status", "--environment", ENV, "--aws-profile", "nope", "--region", REGION)

    assert code == 3
    assert "nope" in stderr and "--aws-profile" in stderr


def test_cli_start_up_does_not_load_aws_cdk() -> None:
    script = (
        "import sys, mwaa_ops.cli; print(sorted(m for m in sys.modules if m.startswith(('aws_cdk', 'jsii'))))"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_python_m_mwaa_ops_lists_the_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mwaa_ops", "--help"], check=True, capture_output=True, text=True, cwd=ROOT
    )
    for command in ("status", "wait", "dags", "trigger", "runs", "logs", "login", "smoke"):
        assert f"    {command}" in out.stdout
    assert "exit codes:" in out.stdout
    assert "not an AWS named profile" in out.stdout


def _renamed() -> dict[str, object]:
    response = environment()
    response["Environment"]["Name"] = "renamed-env"
    return response


def test_common_options_may_stand_before_the_command(aws: Aws, cli) -> None:
    aws.get_environment()

    result = cli("--environment", ENV, "--json", "--region", "eu-west-1", "status")

    assert result.code == 0
    assert result.json["name"] == ENV
    assert aws.settings == [AwsSettings(aws_profile=None, region="eu-west-1")]
