"""GitHub Actions deployment access of one account: the OIDC provider and two roles."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from mwaa_constructs.deploy_access import GitHubDeployAccess
from platform_config.delivery import DeployAccessSettings


class DeployAccessStack(cdk.Stack):
    """Wires :class:`GitHubDeployAccess` from the settings and outputs the role ARNs that the
    workflows read from the repository variable ``AWS_DEPLOY_ROLE_ARN``."""

    def __init__(
        self, scope: Construct, id: str, *, settings: DeployAccessSettings, **kwargs: object
    ) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
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
        )
        self.access = access
        cdk.CfnOutput(self, "DeployRoleArn", value=access.deploy_role.role_arn)
        cdk.CfnOutput(self, "ReadOnlyRoleArn", value=access.read_only_role.role_arn)
        cdk.CfnOutput(self, "OidcProviderArn", value=access.provider.oidc_provider_arn)
