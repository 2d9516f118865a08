"""The stacks of one profile: the platform, and the sample's data plane when the profile asks
for it. Used by ``app.py`` and by anything else that deploys profiles (a pipeline stage)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from mwaa_constructs import ArtifactError
from platform_config import Profile
from stacks.layout import ROOT, artifact_sources
from stacks.platform_stack import MwaaPlatformStack


@dataclass(frozen=True)
class ProfileStacks:
    """What :func:`build_profile_stacks` created for one profile."""

    profile: Profile
    platform: MwaaPlatformStack
    sample_data: cdk.Stack | None

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [self.platform, *([self.sample_data] if self.sample_data else [])]


def build_profile_stacks(scope: Construct, profile: Profile, *, root: Path = ROOT) -> ProfileStacks:
    """Create the profile's stacks in ``scope`` (an app or a stage), each with its stack name as
    construct id (``mwaa-dev-platform``), so the CLI, ``cdk.out/`` and CloudFormation use one
    name. Raises :class:`ArtifactError` for artifacts MWAA would reject."""
    # Neither set: an environment-agnostic synth that deploys to the credentials' account.
    env = (
        cdk.Environment(account=profile.account, region=profile.region)
        if profile.account or profile.region
        else None
    )
    keep: tuple[str, ...] = ()
    if profile.sample_data:
        # Imported only when used: a profile without the sample never loads its code.
        from sample.data_plane import DAG_PACKAGE

        own = root / profile.artifacts.dags / DAG_PACKAGE
        if own.exists():
            raise ArtifactError(
                f"profile '{profile.name}': artifacts.dags '{profile.artifacts.dags}' has a "
                f"'{DAG_PACKAGE}' folder, which the sample (sample_data) deploys into the same DAG "
                f"folder; rename it or set sample_data to false"
            )
        keep = (f"{DAG_PACKAGE}/*",)
    platform = MwaaPlatformStack(
        scope,
        profile.platform_stack_name,
        stack_name=profile.platform_stack_name,
        description=f"Amazon MWAA environment {profile.environment_name} (profile {profile.name})",
        env=env,
        profile=profile,
        sources=artifact_sources(profile, root, keep_in_dag_folder=keep),
    )
    sample_stack = None
    if profile.sample_data:
        from sample.stack import SampleDataStack

        sample_stack = SampleDataStack(
            scope,
            profile.sample_data_stack_name,
            stack_name=profile.sample_data_stack_name,
            description=f"Sample data plane of movie-list-dag on {profile.environment_name}",
            env=env,
            termination_protection=profile.termination_protection,
            tags=dict(profile.tags),
            vpc=platform.network.vpc,
            subnets=platform.network.private_subnets,
            client_security_group=platform.network.security_group,
            dag_bucket=platform.dag_bucket.bucket,
            dag_s3_path=profile.dag_s3_path,
            execution_role_arn=platform.airflow_environment.role.role_arn,
            name_prefix=profile.environment_name,
            encryption_key=platform.key,
            removal_policy=platform.removal_policy,
            connections_prefix=profile.secrets_backend.connections_prefix,
        )
    return ProfileStacks(profile=profile, platform=platform, sample_data=sample_stack)
