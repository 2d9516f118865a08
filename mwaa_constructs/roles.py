"""An IAM role whose permissions live in one customer managed policy."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct


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

    def __init__(self, scope: Construct, id: str, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self])

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)
