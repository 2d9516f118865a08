"""Access to an environment for IAM roles that exist already (people's and tools' roles)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_iam as iam
from constructs import Construct

from mwaa_constructs.environment import EnvironmentBase
from mwaa_rules import rules


def role_name(role_arn: str) -> str:
    """The name of the role ``role_arn`` (its path left out), or a ValueError naming the ARN."""
    match = rules.ROLE_ARN_PATTERN.fullmatch(role_arn)
    if match is None:
        raise ValueError(
            f"role_arn: got {role_arn!r}; expected arn:<partition>:iam::<account>:role/<path/name>"
        )
    return match.group("name")


class AirflowAccess(Construct):
    """Grants on ``environment`` for roles given by ARN, each in one customer managed policy
    (``AWS::IAM::ManagedPolicy``) of this stack attached to the role: ``web_login`` (role ARN ->
    Airflow role) through :meth:`EnvironmentBase.grant_web_login`, ``rest_api`` (role ARN ->
    Airflow role) through :meth:`EnvironmentBase.grant_rest_api`, ``cli`` through
    :meth:`EnvironmentBase.grant_cli_token`.

    Each role is imported once (not mutable: nothing else of it changes) under a construct
    named after it (``<name>/Role``, ``<name>/Policy``), so that the policy's logical id follows
    the role, not its position in a list. The grants go to the policy itself (a managed policy
    is a grantee), not to the role: no inline policy (the NIST 800-53, HIPAA and PCI packs'
    ``IAMNoInlinePolicy``), and the role's own policies are never touched. A managed policy
    counts towards the role's quota of attached managed policies (10 by default). IAM attaches
    policies only to roles of the stack's own account: a role of another account gets nothing
    here (it needs a role in this account to assume). :attr:`roles` maps each ARN to its
    imported role, :attr:`policies` to its policy.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment: EnvironmentBase,
        web_login: Mapping[str, str] | None = None,
        rest_api: Mapping[str, str] | None = None,
        cli: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        self.roles: dict[str, iam.IRole] = {}
        self.policies: dict[str, iam.ManagedPolicy] = {}
        for arn, airflow_role in sorted((web_login or {}).items()):
            environment.grant_web_login(self._policy(arn), airflow_role=airflow_role)
        for arn, airflow_role in sorted((rest_api or {}).items()):
            environment.grant_rest_api(self._policy(arn), airflow_role=airflow_role)
        for arn in sorted(cli):
            environment.grant_cli_token(self._policy(arn))

    def _policy(self, arn: str) -> iam.ManagedPolicy:
        if arn not in self.policies:
            name = role_name(arn)
            if self.node.try_find_child(name) is not None:
                raise ValueError(f"role_arn: got {arn!r}; another role named {name!r} is already granted")
            holder = Construct(self, name)
            role = iam.Role.from_role_arn(holder, "Role", arn, mutable=False)
            self.roles[arn] = role
            self.policies[arn] = iam.ManagedPolicy(
                holder,
                "Policy",
                description=f"Access to the MWAA environment for the existing role {name}",
                roles=[role],
            )
        return self.policies[arn]
