#!/usr/bin/env python3
"""CDK app of the GitHub Actions deployment access: deploy once per account, before the workflows.

npx cdk deploy --app "python3 deploy_access_app.py" -c github_repository=OWNER/NAME
(settings: platform_config/delivery.py, load_deploy_access; profiles: cdk.json)
"""

from __future__ import annotations

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from platform_config import ProfileError, load_profile, read_cdk_profiles
from platform_config.delivery import SettingsError, load_deploy_access
from stacks.deploy_access_stack import DeployAccessStack
from stacks.layout import ROOT

STACK_NAME = "mwaa-platform-deploy-access"


def build_app(app: cdk.App) -> DeployAccessStack:
    # The CDK CLI passes cdk.json's context; an app built in-process without it reads cdk.json.
    profiles_context = app.node.try_get_context("profiles") or read_cdk_profiles(ROOT / "cdk.json")
    # In cdk.json's order: one GitHub environment per profile by default, in that order.
    settings = load_deploy_access(app.node.try_get_context, list(profiles_context))
    stack = DeployAccessStack(
        app,
        STACK_NAME,
        description=f"GitHub Actions deployment access for {settings.repository}",
        settings=settings,
        profiles=[load_profile(profiles_context, name, root=ROOT) for name in settings.profiles],
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


def main() -> int:
    app = cdk.App()
    try:
        build_app(app)
    except (SettingsError, ProfileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
