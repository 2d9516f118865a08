"""Compliance packs: scoped to the stacks that ask for them, and acknowledged per rule."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs

from mwaa_constructs.nag import acknowledge_compliance
from mwaa_rules import compliance
from stacks.compliance import add_compliance_checks, compliance_checks


def _findings(outdir: Path) -> set[tuple[str, str]]:
    """(rule, construct path) of every violation in the synth's validation report."""
    text = (outdir / "validation-report.json").read_text()
    return {
        (violation["ruleName"], resource["constructPath"])
        for plugin in json.loads(text)["pluginReports"]
        for violation in plugin["violations"]
        for resource in violation["violatingConstructs"]
    }


def test_a_pack_checks_only_the_stacks_it_was_added_for(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    checked = cdk.Stack(app, "Checked")
    other = cdk.Stack(app, "Other")
    for stack in (checked, other):
        logs.LogGroup(stack, "Group", retention=logs.RetentionDays.ONE_YEAR)
    add_compliance_checks([checked], ["hipaa"])
    add_compliance_checks([other], [])
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    assert _findings(tmp_path) == {("HIPAA.Security-CloudWatchLogGroupEncrypted", "Checked/Group/Resource")}


def test_an_acknowledgment_silences_the_rule_in_every_pack_that_has_it(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Checked")
    group = logs.LogGroup(stack, "Group", retention=logs.RetentionDays.ONE_YEAR)
    acknowledge_compliance(group, {"CloudWatchLogGroupEncrypted": "a reason"})
    add_compliance_checks(stack, ["nist-800-53-r5", "hipaa", "pci-dss-3.2.1"])
    app.synth()  # raises on any unacknowledged finding
    assert not (tmp_path / "validation-report.json").exists() or _findings(tmp_path) == set()


def test_acknowledgments_are_recorded_only_for_packs_that_have_the_rule() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    acknowledge_compliance(stack, {"LambdaDLQ": "r", "IAMNoInlinePolicy": "r"})
    recorded = {
        key.split("::")[-1]
        for entry in stack.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for key in entry.data
    }
    assert recorded == {
        "NIST.800.53.R5-LambdaDLQ",
        "HIPAA.Security-LambdaDLQ",
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "HIPAA.Security-IAMNoInlinePolicy",
        "PCI.DSS.321-IAMNoInlinePolicy",
    }


def test_awssolutions_always_runs_then_the_selected_packs() -> None:
    assert [pack.name for pack in compliance_checks(["pci-dss-3.2.1", "hipaa"])] == [
        "AwsSolutions",
        "PCI.DSS.321",
        "HIPAA.Security",
    ]
    with pytest.raises(ValueError, match=r"compliance packs: got \['nist'\]; allowed: nist-800-53-r5, hipaa"):
        compliance_checks(["nist"])


@pytest.mark.parametrize("pack", compliance.PACKS, ids=lambda pack: pack.name)
def test_each_selectable_pack_runs_the_cdk_nag_pack_whose_rule_ids_it_acknowledges(
    pack: compliance.CompliancePack,
) -> None:
    # The rule prefix is what acknowledge_compliance writes: a wrong one would leave every
    # finding of that pack unacknowledged, or acknowledge it for a pack that never runs.
    (_, nag_pack) = compliance_checks([pack.name])
    assert type(nag_pack).__name__ == pack.nag_pack
    assert nag_pack.name == pack.rule_prefix
