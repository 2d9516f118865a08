#!/usr/bin/env python3
"""CDK app of the AWS-native delivery pipeline (CDK Pipelines): one stage per profile.

npx cdk deploy --app "python3 pipeline_app.py" \\
    -c pipeline_connection_arn=ARN -c pipeline_repository=OWNER/NAME
(settings: platform_config/delivery.py, load_pipeline; profiles: cdk.json)
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from mwaa_constructs import ArtifactError
from platform_config import ProfileError, load_profiles, synth_profiles
from platform_config.delivery import SettingsError, load_pipeline
from stacks.compliance import add_compliance_checks
from stacks.layout import ROOT
from stacks.pipeline_stack import MwaaPipelineStack

STACK_NAME = "mwaa-platform-pipeline"
# The file the CDK CLI read the context from: it runs the app in the folder of cdk.json.
CDK_JSON = Path("cdk.json")


def build_app(app: cdk.App, *, cdk_json: Path = CDK_JSON) -> MwaaPipelineStack:
    """The pipeline stack and its stages. Profiles are read as app.py reads them: from
    ``cdk_json`` itself (where null keeps its meaning) and checked against every profile there."""
    profiles_context = synth_profiles(cdk_json, app.node.try_get_context("profiles")) or {}
    settings = load_pipeline(app.node.try_get_context, set(profiles_context))
    profiles = load_profiles(profiles_context, ",".join(settings.profiles), root=ROOT)
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
