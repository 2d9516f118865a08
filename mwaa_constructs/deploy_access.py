"""GitHub Actions access to an AWS account over OpenID Connect: the CDK bootstrap roles, and the
few read calls that the post-deploy checks make."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from mwaa_constructs.nag import acknowledge_iam5, resource_finding

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
# The roles `cdk bootstrap` creates, as cdk-<qualifier>-<kind>-<account>-<region>.
DEPLOY_KINDS = ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")
# The Airflow role the smoke test acts as over the REST API. It lists import errors, reads a DAG
# and triggers and follows a run: Airflow's User role allows all of it; Op and Admin would add
# connections, variables, pools and configuration, which the check never touches.
SMOKE_AIRFLOW_ROLE = "User"


@dataclass(frozen=True, kw_only=True)
class OperatedEnvironment:
    """An MWAA environment that a role checks after each deployment: its name, the platform stack
    whose outputs name it, and where it lives (default: the region and account of the stack
    that holds the role)."""

    environment_name: str
    stack_name: str
    region: str | None = None
    account: str | None = None


def post_deploy_statements(scope: Construct, environment: OperatedEnvironment) -> list[iam.PolicyStatement]:
    """Exactly the AWS calls of ``mwaa-ops wait`` and ``mwaa-ops smoke`` on ``environment``:

    - ``cloudformation:DescribeStacks`` on the platform stack: both commands find the environment
      through its ``EnvironmentName`` output (``mwaa_ops/environment.py: find_target``), and the
      deploy workflow's ``aws cloudformation wait stack-update-complete`` polls the same call;
    - ``airflow:GetEnvironment`` on the environment: ``wait`` polls it, ``smoke`` checks it first
      (``mwaa_ops/environment.py: get_status``);
    - ``airflow:InvokeRestApi`` on the Airflow role :data:`SMOKE_AIRFLOW_ROLE`: ``smoke`` lists
      import errors, reads the DAG, triggers a run and follows it (``mwaa_ops/airflow_api.py:
      AirflowApi.request``). InvokeRestApi is authorized on the Airflow role the call acts as,
      ``arn:...:airflow:REGION:ACCOUNT:role/ENVIRONMENT/ROLE``, not on the environment
      (Service Authorization Reference, Amazon MWAA: resource type ``rbac-role``).

    The GitHub deploy workflow and the CDK pipeline's smoke steps both take their statements
    from here."""
    stack = cdk.Stack.of(scope)

    def arn(service: str, resource: str) -> str:
        return stack.format_arn(
            service=service,
            resource=resource,
            region=environment.region or stack.region,
            account=environment.account or stack.account,
        )

    name = environment.environment_name
    return [
        iam.PolicyStatement(
            actions=["cloudformation:DescribeStacks"],
            resources=[arn("cloudformation", f"stack/{environment.stack_name}/*")],
        ),
        iam.PolicyStatement(
            actions=["airflow:GetEnvironment"], resources=[arn("airflow", f"environment/{name}")]
        ),
        iam.PolicyStatement(
            actions=["airflow:InvokeRestApi"], resources=[arn("airflow", f"role/{name}/{SMOKE_AIRFLOW_ROLE}")]
        ),
    ]


class GitHubDeployAccess(Construct):
    """Two roles that GitHub Actions workflows of one repository assume with their OIDC token.

    - :attr:`deploy_role`: for tokens whose subject is one of ``deploy_subjects`` (e.g.
      ``repo:OWNER/NAME:ref:refs/heads/main``, ``repo:OWNER/NAME:environment:prod``). It may
      assume this account's CDK bootstrap roles (deploy, file and image publishing, lookup), so
      what it deploys is decided by the bootstrap's CloudFormation execution policy, not here;
      and it may make the read calls of the post-deploy checks (:func:`post_deploy_statements`)
      on each of ``operated_environments``, in each of ``regions`` for an environment without a
      region of its own.
    - :attr:`read_only_role`: for ``read_only_subjects`` (``repo:OWNER/NAME:pull_request``): the
      bootstrap lookup role only, enough for ``cdk diff``.

    Both trust only tokens with audience ``sts.amazonaws.com`` and one of their exact subjects
    (``StringEquals``, no wildcards). ``provider``: an existing GitHub OIDC provider of the
    account; default: one is created (an account holds at most one per URL). ``regions``: the
    regions whose bootstrap roles may be assumed; default: the stack's. The deploy role's
    sessions last up to ``max_session_duration`` (default 2 hours; IAM allows 1 to 12); the
    read-only role's up to 1 hour.
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
        operated_environments: Sequence[OperatedEnvironment] = (),
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
            description="GitHub Actions deployments: the CDK bootstrap roles, and the post-deploy checks",
            max_session_duration=duration,
        )
        self.deploy_role.add_to_policy(
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=self._bootstrap_roles(DEPLOY_KINDS))
        )
        wildcards: dict[str, str] = {}
        for environment in operated_environments:
            for region in [environment.region] if environment.region else self._regions:
                located = OperatedEnvironment(
                    environment_name=environment.environment_name,
                    stack_name=environment.stack_name,
                    region=region,
                    account=environment.account,
                )
                for statement in post_deploy_statements(self, located):
                    self.deploy_role.add_to_policy(statement)
                    wildcards.update(
                        (arn, "a platform stack by name; the suffix is the stack id CloudFormation assigns")
                        for arn in statement.resources
                        if arn.endswith("/*")
                    )
        if wildcards:
            # The role's inline policy, created by add_to_policy above.
            policy = self.deploy_role.node.find_child("DefaultPolicy")
            acknowledge_iam5(policy, {resource_finding(policy, arn): why for arn, why in wildcards.items()})

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
