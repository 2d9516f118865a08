"""What every stack of this app shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

import aws_cdk as cdk

# Zones a stack may use: MWAA takes two, an add-on at most three (platform_config.addons).
_ZONES = 3


class ProfileStackOptions(TypedDict, total=False):
    """The keyword arguments of ``cdk.Stack`` except ``termination_protection``, which a
    profile's stack takes from the profile."""

    analytics_reporting: bool | None
    cross_region_references: bool | None
    description: str | None
    env: cdk.Environment | None
    notification_arns: Sequence[str] | None
    permissions_boundary: cdk.PermissionsBoundary | None
    property_injectors: Sequence[cdk.IPropertyInjector] | None
    stack_name: str | None
    suppress_template_indentation: bool | None
    synthesizer: cdk.IStackSynthesizer | None
    tags: Mapping[str, str] | None


class StackOptions(ProfileStackOptions, total=False):
    """The keyword arguments of ``cdk.Stack``."""

    termination_protection: bool | None


class StageOptions(TypedDict, total=False):
    """The keyword arguments of ``cdk.Stage``."""

    env: cdk.Environment | None
    outdir: str | None
    permissions_boundary: cdk.PermissionsBoundary | None
    policy_validation_beta1: Sequence[cdk.IPolicyValidationPluginBeta1] | None
    property_injectors: Sequence[cdk.IPropertyInjector] | None
    stage_name: str | None


class LookupFreeStack(cdk.Stack):
    """A stack that synthesizes without AWS credentials even when its account and region are set.

    CDK looks up the availability zones of an environment-specific stack at synth (a call that
    needs credentials, cached in cdk.context.json). Here they are ``Fn::Select`` over
    ``Fn::GetAZs`` instead, resolved by CloudFormation at deploy time: the same template with or
    without an account, and no lookup.
    """

    @property
    def availability_zones(self) -> list[str]:
        return [cdk.Fn.select(index, cdk.Fn.get_azs()) for index in range(_ZONES)]
