#!/usr/bin/env python3
"""CDK app: reads the selected profile from cdk.json, builds its stacks, checks them with cdk-nag.

npx cdk synth                 # profile "dev"
npx cdk synth -c profile=prod
"""

from __future__ import annotations

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from mwaa_constructs import ArtifactError
from platform_config import ProfileError, load_profile
from stacks import MwaaPlatformStack
from stacks.layout import artifact_sources, print_summary


def build_app(app: cdk.App) -> MwaaPlatformStack:
    """Build every stack of the profile selected by the ``profile`` context value."""
    profile = load_profile(app.node.try_get_context("profiles"), app.node.try_get_context("profile"))
    env = cdk.Environment(account=profile.account, region=profile.region)
    stack = MwaaPlatformStack(
        app,
        "MwaaPlatform",
        stack_name=f"{profile.environment_name}-platform",
        description=f"Amazon MWAA environment {profile.environment_name} (profile {profile.name})",
        env=env if profile.account or profile.region else None,
        profile=profile,
        sources=artifact_sources(),
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


def main() -> int:
    app = cdk.App()
    try:
        stack = build_app(app)
    except (ProfileError, ArtifactError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    app.synth()
    print_summary(stack, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
