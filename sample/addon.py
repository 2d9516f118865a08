"""The sample as an add-on of the app: its rules on a profile and its stack (sample/addon.toml)."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from platform_config import Profile
from sample.data_plane import DAG_PACKAGE, DAG_SOURCE
from sample.stack import SampleDataStack
from stacks.addons import Addon, PlatformOutputs


class SampleAddon(Addon):
    """``movie-list-dag`` and its data plane (:class:`~sample.stack.SampleDataStack`), deployed
    by a profile with ``sample_data`` on."""

    def validate(self, profile: Profile) -> list[str]:
        """The DAG downloads MovieLens from the internet (NAT) and reads its HTTP connection
        through Airflow's Secrets Manager backend."""
        setting = self.manifest.enabled_by
        value = self.settings(profile)[setting]
        problems = []
        if profile.network.mode != "nat":
            problems.append(
                f"{setting}: got {value}; the sample data plane needs network.mode 'nat' (its DAG "
                f"downloads MovieLens from the internet), but network.mode is '{profile.network.mode}': "
                f"set {setting} to false or use 'nat'"
            )
        if not profile.secrets_backend.enabled:
            problems.append(
                f"{setting}: got {value}; the sample DAG reads its HTTP connection through the secrets "
                f"backend, but secrets_backend.enabled is false: set {setting} to false or turn the "
                "backend on"
            )
        return problems

    def build(self, scope: Construct, profile: Profile, platform: PlatformOutputs) -> cdk.Stack:
        name = self.stack_name(profile)
        return SampleDataStack(
            scope,
            name,
            stack_name=name,
            description=f"Sample data plane of movie-list-dag on {profile.environment_name}",
            env=platform.env,
            termination_protection=profile.termination_protection,
            tags=dict(profile.tags),
            vpc=platform.vpc,
            subnets=platform.private_subnets,
            client_security_group=platform.security_group,
            dag_bucket=platform.dag_bucket,
            dag_s3_path=profile.dag_s3_path,
            execution_role_arn=platform.execution_role.role_arn,
            name_prefix=profile.environment_name,
            encryption_key=platform.key,
            removal_policy=platform.removal_policy,
            connections_prefix=profile.secrets_backend.connections_prefix,
            dag_folder=self.manifest.dag_folder or DAG_PACKAGE,
            dag_source=self.manifest.dag_source or DAG_SOURCE,
        )


ADDON = SampleAddon
"""The manifest's ``entry``: called with the manifest, it returns the add-on."""
