"""docs/constructs.md: its example, run as written, synthesizes in a fresh CDK app without a
warning; and what the example says the environment does is in the template."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from tests.infra.conftest import FIXTURE_DAGS, ROOT

DOC = ROOT / "docs" / "constructs.md"
SECTION = "## Example: an environment in an existing VPC"


def example_code() -> str:
    """The first Python block of the example section of docs/constructs.md."""
    text = DOC.read_text()
    section = text[text.index(SECTION) :]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block, f"no Python block under {SECTION!r}"
    return block.group(1)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The namespace the example leaves after running in a folder with a ``dags/`` folder, its
    cloud assembly written there too."""
    folder = tmp_path_factory.mktemp("example")
    shutil.copytree(FIXTURE_DAGS, folder / "dags", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("CDK_OUTDIR", str(folder / "cdk.out"))
        namespace: dict[str, Any] = {"__name__": "example_app"}
        # Exactly the documented code, as a user would run it.
        exec(compile(example_code(), str(DOC), "exec"), namespace)
    return namespace


def test_the_example_is_a_fresh_app_that_synthesizes(example: dict[str, Any]) -> None:
    app = example["app"]
    assert isinstance(app, cdk.App)
    assert (Path(app.outdir) / "reporting-airflow.template.json").exists()


def test_the_example_synthesizes_without_a_warning(example: dict[str, Any]) -> None:
    annotations = Annotations.from_stack(example["stack"])
    assert annotations.find_warning("*", Match.any_value()) == []
    assert annotations.find_error("*", Match.any_value()) == []


def test_the_example_prints_no_warning(tmp_path: Path) -> None:
    """What the example prints when run: the messages a synthesis prints itself (CDK's template
    validation, cdk-nag's report). Annotation warnings, which the CDK CLI prints, are checked
    above; jsii's Node version banner is silenced as ``make`` silences it."""
    shutil.copytree(FIXTURE_DAGS, tmp_path / "dags", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (tmp_path / "app.py").write_text(example_code())
    result = subprocess.run(
        [sys.executable, "app.py"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CDK_OUTDIR": str(tmp_path / "cdk.out"),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stdout + result.stderr


def test_the_example_runs_in_the_existing_subnets_with_the_rules_it_describes(
    example: dict[str, Any],
) -> None:
    stack = example["stack"]
    template = Template.from_stack(stack)
    (group,) = example["environment"].security_groups
    group_id = {"Fn::GetAtt": [stack.resolve(stack.get_logical_id(group.node.default_child)), "GroupId"]}
    template.has_resource_properties(
        "AWS::MWAA::Environment",
        {
            "Name": "reporting",
            "EnvironmentClass": "mw1.small",
            "MaxWorkers": 4,
            "WebserverAccessMode": "PRIVATE_ONLY",
            "NetworkConfiguration": {
                "SubnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
                "SecurityGroupIds": [group_id],
            },
        },
    )
    # The existing database admits the environment; the environment admits the VPN on 443.
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"GroupId": "sg-0a1b2c3d4e5f60718", "SourceSecurityGroupId": group_id, "FromPort": 5432},
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "VpcId": "vpc-0a1b2c3d4e5f60718",
            "SecurityGroupIngress": [Match.object_like({"CidrIp": "10.10.0.0/16", "FromPort": 443})],
        },
    )
