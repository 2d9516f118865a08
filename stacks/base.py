"""What every stack of this app shares."""

from __future__ import annotations

import aws_cdk as cdk

# Zones a stack may use: MWAA takes two, an add-on at most three (platform_config.addons).
_ZONES = 3


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
