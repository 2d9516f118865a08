"""Which cdk-nag rule packs check which stacks at synth.

cdk-nag 3 packs are CDK validation plugins, registered on a Stage or the App. A pack itself
cannot be scoped: CDK hands every plugin the whole app (``appConstruct`` of the validation
context) and cdk-nag's ``NagPack.validate`` walks all of it, whichever Stage the plugin was
registered on. :class:`ScopedChecks` wraps a pack so that it walks only the constructs it was
given (``NagPack.validate_scope`` of each), which lets one app hold the stacks of several
profiles, each checked with the packs its own profile asks for.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
import cdk_nag
import jsii
from cdk_nag import AwsSolutionsChecks, NagPack
from constructs import Construct

from mwaa_rules import compliance

# Profile name of each pack -> its cdk-nag class, both named by mwaa_rules.compliance.PACKS.
PACKS: dict[str, type[NagPack]] = {pack.name: getattr(cdk_nag, pack.nag_pack) for pack in compliance.PACKS}


@jsii.implements(cdk.IPolicyValidationPlugin)
class ScopedChecks:
    """A validation plugin that runs ``pack`` over ``scopes`` only (stacks, usually).

    Its report carries the pack's own name and rule ids, and an acknowledgment made with
    ``cdk.Validations.of(construct).acknowledge(...)`` silences a finding exactly as it does for
    the pack registered on its own."""

    def __init__(self, pack: NagPack, scopes: Sequence[Construct]) -> None:
        self._pack = pack
        self._scopes = list(scopes)

    @property
    def name(self) -> str:
        return self._pack.name

    @property
    def version(self) -> str | None:
        return self._pack.version

    @property
    def rule_ids(self) -> list[str] | None:
        return self._pack.rule_ids

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        violations: list[cdk.PolicyViolation] = []
        for scope in self._scopes:
            violations.extend(self._pack.validate_scope(scope).violations)
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations)


def compliance_checks(packs: Sequence[str]) -> list[NagPack]:
    """AwsSolutions, then each of ``packs`` (profile names, e.g. ``"hipaa"``), in that order."""
    unknown = [pack for pack in packs if pack not in PACKS]
    if unknown:
        raise ValueError(f"compliance packs: got {unknown}; allowed: {', '.join(PACKS)}")
    return [AwsSolutionsChecks(), *(PACKS[pack]() for pack in packs)]


def add_compliance_checks(
    scopes: Construct | Sequence[Construct], packs: Sequence[str], *, aws_solutions: bool = True
) -> None:
    """Check every construct under ``scopes`` (a profile's stacks) with AwsSolutions and each
    of ``packs`` when the app synthesizes. An unacknowledged finding fails synth.

    Call it once per profile with that profile's stacks: packs of one profile never check the
    stacks of another. ``aws_solutions=False`` leaves AwsSolutions out, for stacks that an
    enclosing scope's AwsSolutions check covers already (a pipeline's stages)."""
    scopes = [scopes] if isinstance(scopes, Construct) else list(scopes)
    if not scopes:
        return
    checks = compliance_checks(packs)
    for pack in checks if aws_solutions else checks[1:]:
        cdk.Validations.of(scopes[0]).add_plugins(ScopedChecks(pack, scopes))
