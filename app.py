#!/usr/bin/env python3
"""CDK app: reads the selected profile from cdk.json, builds its stacks, checks them with cdk-nag.

npx cdk synth                 # profile "dev"
npx cdk synth -c profile=prod
"""

from __future__ import annotations

import sys

import aws_cdk as cdk

from mwaa_constructs import ArtifactError
from platform_config import ProfileError, load_profile
from stacks import MwaaPlatformStack
from stacks.compliance import add_compliance_checks
from stacks.data_plane_stack import SampleDataStack
from stacks.layout import artifact_sources, print_summary


def build_app(app: cdk.App) -> MwaaPlatformStack:
    """Build every stack of the profile selected by the ``profile`` context value.

    Returns the platform stack; with ``sample_data`` on, a ``SampleDataStack`` that depends on
    it is added to the app as well."""
    profile = load_profile(app.node.try_get_context("profiles"), app.node.try_get_context("profile"))
    # Neither set: an environment-agnostic synth that deploys to the credentials' account.
    env = (
        cdk.Environment(account=profile.account, region=profile.region)
        if profile.account or profile.region
        else None
    )
    stack = MwaaPlatformStack(
        app,
        "MwaaPlatform",
        stack_name=f"{profile.environment_name}-platform",
        description=f"Amazon MWAA environment {profile.environment_name} (profile {profile.name})",
        env=env,
        profile=profile,
        sources=artifact_sources(),
    )
    stacks: list[cdk.Stack] = [stack]
    if profile.sample_data:
        data_stack = SampleDataStack(
            app,
            "MwaaSampleData",
            stack_name=f"{profile.environment_name}-sample-data",
            description=f"Sample data plane of movie-list-dag on {profile.environment_name}",
            env=env,
            termination_protection=profile.termination_protection,
            tags=dict(profile.tags),
            vpc=stack.network.vpc,
            subnets=stack.network.private_subnets,
            client_security_group=stack.network.security_group,
            dag_bucket=stack.dag_bucket.bucket,
            dag_s3_path=profile.dag_s3_path,
            execution_role_arn=stack.airflow_environment.role.role_arn,
            name_prefix=profile.environment_name,
            encryption_key=stack.key,
            removal_policy=stack.removal_policy,
        )
        stacks.append(data_stack)
    # AwsSolutions and the profile's compliance packs, over this profile's stacks only.
    add_compliance_checks(stacks, profile.compliance)
    return stack


def main() -> int:
    # CDK's built-in CloudFormation schema validation takes about 3 s of every synth; `make test`
    # runs cfn-lint over every template of every shipped profile instead, which checks the same
    # schemas and more. cdk-nag still runs on every synth.
    app = cdk.App(builtin_cloud_formation_validation=False)
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
