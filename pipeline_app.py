#!/usr/bin/env python3
"""CDK app of the AWS-native delivery pipeline (CDK Pipelines): one stage per profile.

npx cdk deploy --app "python3 pipeline_app.py" \\
    -c pipeline_connection_arn=ARN -c pipeline_repository=OWNER/NAME
(settings: platform_config/delivery.py, load_pipeline; profiles: cdk.json)
"""

from __future__ import annotations

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from mwaa_constructs import ArtifactError
from platform_config import ProfileError, load_profile
from platform_config.delivery import SettingsError, load_pipeline
from stacks.compliance import add_compliance_checks
from stacks.layout import ROOT
from stacks.pipeline_stack import MwaaPipelineStack

STACK_NAME = "mwaa-platform-pipeline"


def build_app(app: cdk.App) -> MwaaPipelineStack:
    profiles_context = app.node.try_get_context("profiles") or {}
    settings = load_pipeline(app.node.try_get_context, set(profiles_context))
    profiles = [load_profile(profiles_context, name, root=ROOT) for name in settings.profiles]
    env = (
        cdk.Environment(account=settings.account, region=settings.region)
        if settings.account or settings.region
        else None
    )
    stack = MwaaPipelineStack(
        app,
        STACK_NAME,
        description=f"Delivery pipeline of {settings.repository} ({' -> '.join(settings.profiles)})",
        env=env,
        settings=settings,
        profiles=profiles,
    )
    stack.build()
    # AwsSolutions over everything (the pipeline and its stages); each stage's stacks also get
    # the compliance packs of their profile, as app.py checks them.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    for stage in stack.stages:
        add_compliance_checks(stage.profile_stacks.stacks, stage.profile.compliance, aws_solutions=False)
    return stack


def main() -> int:
    app = cdk.App(builtin_cloud_formation_validation=False)
    try:
        build_app(app)
    except (SettingsError, ProfileError, ArtifactError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
