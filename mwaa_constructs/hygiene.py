"""Template hygiene applied to a whole stack."""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from constructs import IConstruct


@jsii.implements(cdk.IAspect)
class DropRedundantDependsOn:
    """Handles the ``DependsOn`` that CDK's custom-resource handlers carry on their own execution
    role (cfn-lint W3005: the function's ``Role`` property already references that role with
    ``Fn::GetAtt``, which orders the two just the same).

    Where aws-cdk-lib adds it on the resource (``CustomResourceProvider`` handlers) it is removed.
    Where it adds it on the construct node (``SingletonFunction`` handlers), no API removes it, so
    the function alone tells cfn-lint to skip W3005, in its ``Metadata``. Only a role created in
    the same scope as the function is concerned: that is how aws-cdk-lib pairs a handler with
    its role.
    """

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cdk.CfnResource) or node.cfn_resource_type != "AWS::Lambda::Function":
            return
        # A provider handler (P/Handler) and its role (P/Role) share P; an L2 function (F/Resource)
        # holds its role below F (F/ServiceRole/Resource).
        scope = node.node.path.rsplit("/", 1)[0] + "/"
        for target in node.obtain_dependencies():
            if _is_role_under(target, scope):
                node.remove_resource_dependency(target)
        if any(
            _is_role_under(child, scope) for dep in node.node.dependencies for child in dep.node.find_all()
        ):
            node.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})


def _is_role_under(construct: IConstruct, scope: str) -> bool:
    return (
        isinstance(construct, cdk.CfnResource)
        and construct.cfn_resource_type == "AWS::IAM::Role"
        and construct.node.path.startswith(scope)
    )
