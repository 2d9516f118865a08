"""GitHub Actions deployment access of one account: the OIDC provider and two roles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from mwaa_constructs.deploy_access import GitHubDeployAccess, OperatedEnvironment
from platform_config import Profile
from platform_config.delivery import DEPLOY_ROLE_SESSION_SECONDS, DeployAccessSettings
from stacks.base import StackOptions


class DeployAccessStack(cdk.Stack):
    """Wires :class:`GitHubDeployAccess` from the settings and outputs the role ARNs that the
    workflows read from the repository variable ``AWS_DEPLOY_ROLE_ARN``.

    ``profiles``: the profiles the deploy workflow deploys (``settings.profiles``, read from
    cdk.json): the deploy role may wait for and smoke-test their environments. Its sessions may
    last as long as a GitHub-hosted job (``DEPLOY_ROLE_SESSION_SECONDS``): the deploy workflow
    asks for sessions that outlast its jobs (.github/workflows/deploy.yml)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: DeployAccessSettings,
        profiles: Sequence[Profile] = (),
        **kwargs: Unpack[StackOptions],
    ) -> None:
        super().__init__(scope, id, **kwargs)
        provider = (
            iam.OidcProviderNative.from_oidc_provider_arn(self, "GitHubProvider", settings.oidc_provider_arn)
            if settings.oidc_provider_arn
            else None
        )
        access = GitHubDeployAccess(
            self,
            "GitHubAccess",
            deploy_subjects=settings.deploy_subjects,
            read_only_subjects=settings.read_only_subjects,
            qualifier=settings.qualifier,
            provider=provider,
            regions=settings.regions,
            max_session_duration=cdk.Duration.seconds(DEPLOY_ROLE_SESSION_SECONDS),
            operated_environments=[
                OperatedEnvironment(
                    environment_name=profile.environment_name,
                    stack_name=profile.platform_stack_name,
                    region=profile.region,
                    account=profile.account,
                )
                for profile in profiles
            ],
        )
        self.access = access
        cdk.CfnOutput(self, "DeployRoleArn", value=access.deploy_role.role_arn)
        cdk.CfnOutput(self, "ReadOnlyRoleArn", value=access.read_only_role.role_arn)
        cdk.CfnOutput(self, "OidcProviderArn", value=access.provider.oidc_provider_arn)
