"""Template hygiene applied to a whole stack."""

from __future__ import annotations

from typing import TypeGuard

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct


def drop_redundant_depends_on(stack: cdk.Stack) -> None:
    """Handles the ``DependsOn`` that CDK's custom-resource handlers carry on their own execution
    role (cfn-lint W3005: the function's ``Role`` property already references that role with
    ``Fn::GetAtt``, which orders the two just the same).

    Where aws-cdk-lib adds it on the resource (``CustomResourceProvider`` handlers) it is removed.
    Where it adds it on the construct node (``SingletonFunction`` handlers), no API removes it, so
    the function alone tells cfn-lint to skip W3005, in its ``Metadata``. Only a role created in
    the same scope as the function is concerned: that is how aws-cdk-lib pairs a handler with
    its role. Call it once the stack is complete.
    """
    for node in stack.node.find_all():
        # Cheap Python-side type checks first: most nodes are neither kind of handler.
        if type(node) is not cdk.CfnResource and not isinstance(node, lambda_.CfnFunction):
            continue
        if node.cfn_resource_type != "AWS::Lambda::Function":
            continue
        # A provider handler (P/Handler) and its role (P/Role) share P; an L2 function
        # (F/Resource) holds its role below F (F/ServiceRole/Resource).
        scope = node.node.path.rsplit("/", 1)[0] + "/"
        for target in node.obtain_dependencies():
            if _is_role_under(target, scope):
                node.remove_resource_dependency(target)
        if any(
            _is_role_under(child, scope) for dep in node.node.dependencies for child in dep.node.find_all()
        ):
            node.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})


def _is_role_under(construct: IConstruct, scope: str) -> TypeGuard[cdk.CfnResource]:
    is_role = isinstance(construct, iam.CfnRole) or (
        type(construct) is cdk.CfnResource and construct.cfn_resource_type == "AWS::IAM::Role"
    )
    return is_role and construct.node.path.startswith(scope)
