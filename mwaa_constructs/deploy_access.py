"""GitHub Actions access to an AWS account over OpenID Connect, limited to the CDK bootstrap roles."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
# The roles `cdk bootstrap` creates, as cdk-<qualifier>-<kind>-<account>-<region>.
DEPLOY_KINDS = ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")


class GitHubDeployAccess(Construct):
    """Two roles that GitHub Actions workflows of one repository assume with their OIDC token.

    - :attr:`deploy_role`: for tokens whose subject is one of ``deploy_subjects`` (e.g.
      ``repo:OWNER/NAME:ref:refs/heads/main``, ``repo:OWNER/NAME:environment:prod``). It may only
      assume this account's CDK bootstrap roles (deploy, file and image publishing, lookup), so
      what it deploys is decided by the bootstrap's CloudFormation execution policy, not here.
    - :attr:`read_only_role`: for ``read_only_subjects`` (``repo:OWNER/NAME:pull_request``): the
      bootstrap lookup role only, enough for ``cdk diff``.

    Both trust only tokens with audience ``sts.amazonaws.com`` and one of their exact subjects
    (``StringEquals``, no wildcards). ``provider``: an existing GitHub OIDC provider of the
    account; default: one is created (an account holds at most one per URL). ``regions``: the
    regions whose bootstrap roles may be assumed; default: the stack's. Sessions last up to
    ``max_session_duration`` (default 2 hours: creating an environment takes 20–40 minutes, and
    the workflow then waits for it).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deploy_subjects: Sequence[str],
        read_only_subjects: Sequence[str],
        qualifier: str = "hnb659fds",
        provider: iam.IOidcProvider | None = None,
        regions: Sequence[str] = (),
        max_session_duration: cdk.Duration | None = None,
    ) -> None:
        super().__init__(scope, id)
        for name, subjects in (
            ("deploy_subjects", deploy_subjects),
            ("read_only_subjects", read_only_subjects),
        ):
            bad = [s for s in subjects if not s.startswith("repo:") or "*" in s or "?" in s]
            if not subjects or bad:
                expected = "one or more exact subjects 'repo:OWNER/NAME:...'"
                raise ValueError(f"{name}: got {list(subjects)!r}; expected {expected}")
        self.provider = provider or iam.OidcProviderNative(
            self, "GitHubProvider", url=GITHUB_OIDC_URL, client_ids=[STS_AUDIENCE]
        )
        stack = cdk.Stack.of(self)
        self._qualifier = qualifier
        self._regions = list(regions) or [stack.region]
        duration = max_session_duration or cdk.Duration.hours(2)

        self.deploy_role = iam.Role(
            self,
            "DeployRole",
            assumed_by=self._principal(deploy_subjects),
            description="GitHub Actions deployments: assumes the CDK bootstrap roles only",
            max_session_duration=duration,
        )
        self.deploy_role.add_to_policy(
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=self._bootstrap_roles(DEPLOY_KINDS))
        )
        self.read_only_role = iam.Role(
            self,
            "ReadOnlyRole",
            assumed_by=self._principal(read_only_subjects),
            description="GitHub Actions pull requests: assumes the CDK bootstrap lookup role only (cdk diff)",
            max_session_duration=cdk.Duration.hours(1),
        )
        self.read_only_role.add_to_policy(
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=self._bootstrap_roles(("lookup-role",)))
        )

    def _principal(self, subjects: Sequence[str]) -> iam.IPrincipal:
        return iam.WebIdentityPrincipal(
            self.provider.oidc_provider_arn,
            conditions={
                "StringEquals": {
                    f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                    f"{GITHUB_OIDC_HOST}:sub": list(subjects),
                }
            },
        )

    def _bootstrap_roles(self, kinds: Sequence[str]) -> list[str]:
        stack = cdk.Stack.of(self)
        return [
            stack.format_arn(
                service="iam",
                region="",
                resource="role",
                resource_name=f"cdk-{self._qualifier}-{kind}-{stack.account}-{region}",
            )
            for kind in kinds
            for region in self._regions
        ]
