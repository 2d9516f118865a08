"""``mwaa-ops backup`` and ``restore``: arguments, and the errors that stop them before any call.

The commands' work against a real Airflow is tested in test_dr_roundtrip.py; here the AWS
clients are Stubber'd with nothing queued, so any AWS call would fail the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from ops_testing import Aws, Outcome
from test_dr_archive import sample

from mwaa_ops.cli import parse_args
from mwaa_ops.dr import archive


@pytest.mark.parametrize(
    ("argv", "environment"),
    [
        (["backup", "-o", "x.json", "--url", "http://localhost:8080"], "localhost-8080"),
        (["backup", "-o", "x.json", "--url", "http://localhost:8080", "--environment", "local"], "local"),
        (["backup", "-o", "x.json", "--environment", "local", "--url", "https://airflow.example/"], "local"),
        (["restore", "a.json", "--url", "https://airflow.example/"], "airflow.example"),
    ],
)
def test_url_names_the_environment_so_that_no_stack_is_looked_up(argv: list[str], environment: str) -> None:
    args = parse_args(argv)
    assert args.environment == environment
    assert args.url.startswith("http") and not args.url.endswith("/")


def test_a_url_that_is_not_http_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["backup", "-o", "x.json", "--url", "localhost:8080"])
    assert exited.value.code == 2
    assert "expected http(s)://HOST[:PORT]" in capsys.readouterr().err


def test_url_without_a_token_stops_before_any_call(
    cli: Callable[..., Outcome], aws: Aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AIRFLOW_API_TOKEN", raising=False)
    out = cli("backup", "--url", "http://127.0.0.1:9", "-o", str(tmp_path / "b.json"), use_cdk_json=False)
    assert out.code == 2
    assert "set a token in AIRFLOW_API_TOKEN, or pass --username NAME" in out.stderr
    assert not (tmp_path / "b.json").exists()
    aws.assert_done()


def test_username_without_a_password_and_username_for_mwaa_are_usage_errors(
    cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AIRFLOW_PASSWORD", raising=False)
    out = cli("backup", "--url", "http://127.0.0.1:9", "--username", "admin", "-o", str(tmp_path / "b.json"))
    assert out.code == 2 and "set the password in AIRFLOW_PASSWORD" in out.stderr
    out = cli("backup", "--environment", "mwaa-dev", "--username", "admin", "-o", str(tmp_path / "b.json"))
    assert out.code == 2 and "--username applies to --url only" in out.stderr


def test_since_after_until_is_a_usage_error(cli: Callable[..., Outcome], tmp_path: Path) -> None:
    out = cli(
        "backup",
        "--environment",
        "mwaa-dev",
        "-o",
        str(tmp_path / "b.json"),
        "--since",
        "2026-11-02T00:00:00Z",
        "--until",
        "2026-11-01",
        "--json",
        use_cdk_json=False,
    )
    assert out.code == 2
    assert "is not before --until 2026-11-01T00:00:00+00:00" in out.stderr
    assert json.loads(out.stdout)["error"]["exit_code"] == 2


def test_a_damaged_archive_is_refused_before_any_call(
    cli: Callable[..., Outcome], aws: Aws, tmp_path: Path
) -> None:
    data = sample()
    data["sections"]["dag_runs"]["items"][0]["state"] = "failed"
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(data))
    out = cli("restore", str(path), "--environment", "mwaa-dev", "--dry-run", use_cdk_json=False)
    assert out.code == 2
    assert out.stderr.strip() == (
        f"mwaa-ops: error: {path}: section dag_runs does not match its checksum: "
        "the file is damaged or was edited"
    )
    aws.assert_done()


def test_an_intact_archive_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "ok.json.gz"
    archive.write(sample(), path)
    assert archive.read(path).items("dag_runs")[0]["state"] == "success"
