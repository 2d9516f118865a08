"""The cdk-nag compliance packs a profile may add to AwsSolutions, which always runs.

One list for the profile model (``platform_config``, which validates the ``compliance``
setting), the app (``stacks/compliance.py``, which runs the packs a profile selects) and the
constructs (``mwaa_constructs/nag.py``, which acknowledge a finding in every pack that has the
rule). Each pack is named here by its cdk-nag class and the prefix of its rule ids, as strings:
this package does not import cdk-nag.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CompliancePack:
    """One cdk-nag rule pack a profile can select."""

    #: The name a profile's ``compliance`` setting lists.
    name: str
    #: The cdk-nag class that implements the pack.
    nag_pack: str
    #: The prefix of the pack's rule ids (``<prefix>-<rule>``), in findings and acknowledgments.
    rule_prefix: str
    #: Rules the other packs have and this one does not (cdk-nag 3.0): an acknowledgment of one
    #: of them is not recorded for this pack.
    rules_not_in_pack: frozenset[str] = field(default=frozenset())


PACKS: tuple[CompliancePack, ...] = (
    CompliancePack("nist-800-53-r5", "NIST80053R5Checks", "NIST.800.53.R5"),
    CompliancePack("hipaa", "HIPAASecurityChecks", "HIPAA.Security"),
    CompliancePack(
        "pci-dss-3.2.1",
        "PCIDSS321Checks",
        "PCI.DSS.321",
        frozenset({"LambdaConcurrency", "LambdaDLQ", "SecretsManagerRotationEnabled"}),
    ),
)

COMPLIANCE_PACKS: tuple[str, ...] = tuple(pack.name for pack in PACKS)
"""The names a profile's ``compliance`` setting may list."""
