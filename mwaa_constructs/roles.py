"""An IAM role whose permissions live in one customer managed policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict, Unpack

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct


class RoleOptions(TypedDict):
    """The keyword arguments of ``iam.Role``."""

    assumed_by: iam.IPrincipal
    description: NotRequired[str | None]
    external_ids: NotRequired[Sequence[str] | None]
    inline_policies: NotRequired[Mapping[str, iam.PolicyDocument] | None]
    managed_policies: NotRequired[Sequence[iam.IManagedPolicy] | None]
    max_session_duration: NotRequired[cdk.Duration | None]
    path: NotRequired[str | None]
    permissions_boundary: NotRequired[iam.IManagedPolicy | None]
    role_name: NotRequired[str | None]


class ManagedPolicyRole(iam.Role):
    """An ``iam.Role`` whose statements all land in :attr:`policy`, a customer managed policy
    attached to it, instead of CDK's inline ``DefaultPolicy``.

    Every grant works unchanged (``bucket.grant_read(role)``, ``role.add_to_policy(...)``):
    CDK adds statements through :meth:`add_to_principal_policy`, which is redirected here.
    A managed policy is a versioned resource of its own that can be reviewed and rolled back
    independently of the role (the NIST 800-53, HIPAA and PCI packs' ``IAMNoInlinePolicy``).
    AWS caps a managed policy at 6,144 characters: a role that needs more should be given a
    second managed policy by its owner.
    """

    def __init__(self, scope: Construct, id: str, **kwargs: Unpack[RoleOptions]) -> None:
        super().__init__(scope, id, **kwargs)
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self])

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)
