"""tools/acknowledgments.py: the acknowledgment tables of docs/security.md are generated from
what the code records and are current; rows merge what is the same; a cfn-lint skip without an
explanation in the code stops the generator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

from mwaa_constructs.nag import acknowledge_compliance
from tools import acknowledgments


def test_the_committed_tables_are_current() -> None:
    assert acknowledgments.main(["--check"]) == 0, "run: python -m tools.acknowledgments"


def _tiny_app(label: str, *, with_logs: bool) -> acknowledgments.Built:
    app = cdk.App()
    stack = cdk.Stack(app, "mwaa-team-platform")
    data = s3.Bucket(stack, "Data")
    logs = s3.Bucket(stack, "Logs")
    reason = "Replication needs a second region this <stack> does not own: a *reason*."
    acknowledge_compliance(data, {"S3BucketReplicationEnabled": reason})
    if with_logs:
        acknowledge_compliance(logs, {"S3BucketReplicationEnabled": reason})
    cdk.Validations.of(data).acknowledge(cdk.Acknowledgment(id="AwsSolutions-S1", reason="Logged elsewhere."))
    cdk.Validations.of(data).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions-IAM5[Resource::arn:aws:s3:::team-data/*]", reason="Its own objects."
        )
    )
    logs.node.default_child.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})  # type: ignore[union-attr]
    return acknowledgments._collect(
        [stack], label=label, kind="profiles", replace={"mwaa-team": "<environment>"}
    )


def test_rows_merge_packs_and_constructs_and_name_the_deployments() -> None:
    apps = [_tiny_app("team", with_logs=True), _tiny_app("team+other", with_logs=False)]
    rows = [line for line in acknowledgments.nag_tables(apps) if line.startswith("| `")]
    assert rows == [
        "| `IAM5[Resource::arn:aws:s3:::team-data/*]` | AwsSolutions | `Data` | all | Its own objects. |",
        "| `S1` | AwsSolutions | `Data` | all | Logged elsewhere. |",
        # One rule that every pack having it acknowledges with one reason: one row per construct
        # set and deployments, naming the packs once; ``<`` and ``*`` shown as written.
        "| `S3BucketReplicationEnabled` | NIST.800.53.R5, HIPAA.Security, PCI.DSS.321 | `Data` | all | "
        "Replication needs a second region this &lt;stack> does not own: a \\*reason\\*. |",
        "| `S3BucketReplicationEnabled` | NIST.800.53.R5, HIPAA.Security, PCI.DSS.321 | `Logs` | team | "
        "Replication needs a second region this &lt;stack> does not own: a \\*reason\\*. |",
    ]
    assert "#### `<environment>-platform`" in acknowledgments.nag_tables(apps)
    skipped = [line for line in acknowledgments.cfn_lint_tables(apps, []) if "Logs/Resource" in line]
    assert skipped == ["| `W3005` | `<environment>-platform` | `Logs/Resource` | all |"]


def _source(root: Path, text: str) -> None:
    (root / "mwaa_constructs").mkdir(parents=True, exist_ok=True)
    (root / "mwaa_constructs" / "probe.py").write_text(text)


def test_each_skipped_check_is_explained_by_the_comment_that_names_it(tmp_path: Path) -> None:
    _source(
        tmp_path,
        "def build(resource):\n"
        '    """Build it.\n\n    The handler skips E1001 because the docstring says so."""\n'
        "    # An unrelated comment.\n"
        "    x = 1\n"
        "    # cfn-lint W3005: the role is referenced already.\n"
        "    # cfn-lint E3703 (1.58) depends on key order.\n"
        '    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005", "E3703", "E1001"]}})\n',
    )
    found = {(d.check, d.function, d.reason) for d in acknowledgments.declared(tmp_path)}
    assert found == {
        ("W3005", "build", "cfn-lint W3005: the role is referenced already."),
        ("E3703", "build", "cfn-lint E3703 (1.58) depends on key order."),
        ("E1001", "build", "The handler skips E1001 because the docstring says so."),
    }


def test_a_skip_that_nothing_explains_stops_the_generator(tmp_path: Path) -> None:
    _source(
        tmp_path,
        "def build(resource):\n"
        "    # Skips a check.\n"
        '    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})\n',
    )
    with pytest.raises(ValueError, match=r"mwaa_constructs/probe\.py:3: cfn-lint is told to skip W3005"):
        acknowledgments.declared(tmp_path)
