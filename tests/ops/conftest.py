"""Fixtures of the ``mwaa-ops`` tests: stubbed AWS clients, a fake clock and a CLI runner."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from ops_testing import CDK_JSON, NOW, Aws, FakeTime, Outcome

from mwaa_ops.airflow_api import Backoff
from mwaa_ops.cli import Runtime, main


@pytest.fixture
def aws() -> Iterator[Aws]:
    stubbed = Aws()
    yield stubbed
    for stub in stubbed.stubs.values():
        stub.deactivate()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def cli(aws: Aws, fake_time: FakeTime) -> Callable[..., Outcome]:
    """Run ``mwaa-ops`` with the stubbed clients; returns exit code, stdout and stderr."""

    def run(*argv: str, use_cdk_json: bool = True) -> Outcome:
        stdout, stderr = io.StringIO(), io.StringIO()
        runtime = Runtime(
            stdout=stdout,
            stderr=stderr,
            clients=aws.factory,
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            backoff=Backoff(sleep=fake_time.backoff_sleeps.append, uniform=lambda low, high: high),
            now=lambda: NOW,
        )
        args = list(argv)
        if use_cdk_json and "--cdk-json" not in args:
            args += ["--cdk-json", str(CDK_JSON)]
        code = main(args, runtime=runtime)
        return Outcome(code=code, stdout=stdout.getvalue(), stderr=stderr.getvalue())

    return run
