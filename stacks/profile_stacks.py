"""The stacks of one profile, built the same way by the CDK app and by the pipeline's stages."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from platform_config import Profile
from stacks.data_plane_stack import SampleDataStack
from stacks.platform_stack import ArtifactSources, MwaaPlatformStack


def build_profile_stacks(
    scope: Construct, profile: Profile, *, sources: ArtifactSources, env: cdk.Environment | None = None
) -> MwaaPlatformStack:
    """The platform stack of ``profile`` in ``scope`` (an app or a stage), and its sample data stack
    when ``sample_data`` is on. Construct ids are the stack names. ``env``: default, the profile's
    account and region (an environment-agnostic stack when it has neither)."""
    if env is None and (profile.account or profile.region):
        env = cdk.Environment(account=profile.account, region=profile.region)
    stack = MwaaPlatformStack(
        scope,
        profile.platform_stack_name,
        stack_name=profile.platform_stack_name,
        description=f"Amazon MWAA environment {profile.environment_name} (profile {profile.name})",
        env=env,
        profile=profile,
        sources=sources,
    )
    if profile.sample_data:
        SampleDataStack(
            scope,
            profile.sample_data_stack_name,
            stack_name=profile.sample_data_stack_name,
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
    return stack
