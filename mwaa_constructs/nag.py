"""cdk-nag acknowledgments shared by the constructs, each on the narrowest construct."""

from __future__ import annotations

import json
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import custom_resources as cr
from constructs import IConstruct

from mwaa_rules import compliance

LAMBDA_BASIC_EXECUTION = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
)

# Rule-id prefixes of the compliance packs a profile can select (mwaa_rules.compliance).
COMPLIANCE_PACK_PREFIXES = tuple(pack.rule_prefix for pack in compliance.PACKS)


def acknowledge_compliance(scope: IConstruct, findings: dict[str, str]) -> None:
    """Acknowledge compliance-pack rules (``{"IAMNoInlinePolicy": reason}``) on ``scope``, for
    each pack of :data:`mwaa_rules.compliance.PACKS` that has the rule, with the same reason."""
    cdk.Validations.of(scope).acknowledge(
        *(
            cdk.Acknowledgment(id=f"{pack.rule_prefix}-{rule}", reason=reason)
            for pack in compliance.PACKS
            for rule, reason in findings.items()
            if rule not in pack.rules_not_in_pack
        )
    )


def acknowledge_cdk_handler(function: IConstruct, *, what: str) -> None:
    """The findings on a Lambda function that aws-cdk-lib creates and owns (a custom-resource
    handler ``what``), explained once for every pack."""
    cdk.Validations.of(function).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions-L1",
            reason=f"The runtime of {what} is chosen and updated by aws-cdk-lib, not by this project.",
        )
    )
    acknowledge_compliance(
        function,
        {
            "LambdaConcurrency": f"{what} runs only during CloudFormation deployments, one "
            "invocation per custom resource: reserved concurrency would only hold capacity idle.",
            "LambdaDLQ": f"{what} is invoked synchronously by CloudFormation, which reports a "
            "failure in the stack events and rolls back: there is no asynchronous event to keep.",
            "LambdaInsideVPC": f"{what} calls only AWS APIs (S3, CloudFormation) during "
            "deployments and handles no data of the environment; outside the VPC it needs no "
            "NAT route or endpoints.",
        },
    )


def acknowledge_cdk_inline_policy(policy: IConstruct, *, what: str) -> None:
    """``IAMNoInlinePolicy`` on the inline policy aws-cdk-lib writes for its own handler role."""
    acknowledge_compliance(
        policy,
        {
            "IAMNoInlinePolicy": f"The policy of {what} is created, attached and deleted with its "
            "role by aws-cdk-lib, which exposes no managed-policy form for it; every statement "
            "is scoped to the resources of this stack.",
        },
    )


# Construct id of the one Lambda function that serves every AwsCustomResource of a stack.
AWS_CUSTOM_RESOURCE_PROVIDER_ID = "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")


def acknowledge_aws_custom_resource(resource: cr.AwsCustomResource, *, what: str) -> None:
    """The findings on an ``AwsCustomResource`` ``what``: its inline policy, and the handler
    function aws-cdk-lib shares between every such resource of the stack with its role."""
    acknowledge_cdk_inline_policy(resource.node.find_child("CustomResourcePolicy"), what=what)
    provider = cdk.Stack.of(resource).node.try_find_child(AWS_CUSTOM_RESOURCE_PROVIDER_ID)
    if provider is not None:
        acknowledge_cdk_handler(provider, what="CDK's AwsCustomResource provider")
    # AwsCustomResource types its grant principal as an IPrincipal; it is the provider's role.
    cdk.Validations.of(cast(IConstruct, resource.grant_principal)).acknowledge(
        cdk.Acknowledgment(
            id=LAMBDA_BASIC_EXECUTION,
            reason="CDK's AwsCustomResource provider writes its own logs; the managed policy "
            "grants only log stream writes.",
        )
    )


def resource_finding(scope: IConstruct, arn: str) -> str:
    """The IAM5 finding text of a resource ARN, as cdk-nag writes it in ``scope``'s stack:
    pseudo parameters and references as ``<...>``, literal account and region where the stack
    has them. Derived from the value itself, so it holds with or without an account and region."""
    return f"Resource::{_nag_text(cdk.Stack.of(scope).resolve(arn))}"


def cdk_asset_objects_finding(scope: IConstruct) -> str:
    """The IAM5 finding text of the CDK bootstrap asset bucket's objects, for the bootstrap
    qualifier of ``scope``'s stack (``hnb659fds`` unless ``@aws-cdk/core:bootstrapQualifier``
    or the synthesizer says otherwise)."""
    stack = cdk.Stack.of(scope)
    qualifier = getattr(stack.synthesizer, "bootstrap_qualifier", None) or "hnb659fds"
    bucket = f"cdk-{qualifier}-assets-{stack.account}-{stack.region}"
    return resource_finding(scope, f"arn:{stack.partition}:s3:::{bucket}/*")


def acknowledge_iam5(scope: IConstruct, findings: dict[str, str]) -> None:
    """Acknowledge granular ``AwsSolutions-IAM5[...]`` findings on ``scope``, each with a reason."""
    cdk.Validations.of(scope).acknowledge(
        *(cdk.Acknowledgment(id=f"AwsSolutions-IAM5[{f}]", reason=r) for f, r in findings.items())
    )


def logical_id(construct: IConstruct) -> str:
    """Logical id of an L2's CloudFormation resource, in its own stack ('' when imported)."""
    child = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
    return cdk.Stack.of(child).get_logical_id(child) if isinstance(child, cdk.CfnElement) else ""


def bucket_objects_finding(scope: IConstruct, bucket: s3.IBucket, prefix: str = "") -> str:
    """The IAM5 finding text of ``bucket``'s objects under ``prefix``, as cdk-nag writes it in
    ``scope``'s stack: ``<Logical.Arn>`` for a local bucket, the export name for one of another
    stack (the same export CDK creates for the reference)."""
    arn: object = bucket.bucket_arn
    owner = cdk.Stack.of(bucket)
    if owner is not cdk.Stack.of(scope) and isinstance(bucket.node.default_child, cdk.CfnResource):
        arn = owner.export_value(bucket.bucket_arn)
    return f"Resource::{_nag_text(cdk.Stack.of(scope).resolve(arn))}/{prefix}*"


def _nag_text(node: object) -> str:
    """A resolved value as cdk-nag writes it: ``<Id.Attr>`` for Fn::GetAtt, ``<Id>`` for Ref,
    the export name for Fn::ImportValue, Fn::Join joined."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            separator: str
            items: list[object]
            separator, items = node["Fn::Join"]
            return separator.join(_nag_text(item) for item in items)
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_nag_text(resource)}.{_nag_text(attribute)}>"
        if "Fn::ImportValue" in node:
            return _nag_text(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_nag_text(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def acknowledge_bucket_deployment(
    deployment: s3deploy.BucketDeployment, *, destination: s3.IBucket, purpose: str
) -> None:
    """The findings on CDK's BucketDeployment handler (one singleton per stack), explained.

    Acknowledging several times is harmless; callers with many deployments in one stack may
    call it once."""
    role = deployment.handler_role
    cdk.Validations.of(role).acknowledge(
        cdk.Acknowledgment(
            id=LAMBDA_BASIC_EXECUTION,
            reason="CDK's BucketDeployment handler writes its own logs; the managed policy grants "
            "only log stream writes.",
        )
    )
    findings = {
        "Action::s3:GetBucket*": f"{purpose}: read-only bucket grant.",
        "Action::s3:GetObject*": f"{purpose}: read-only object grant.",
        "Action::s3:List*": f"{purpose}: list grant on the source and destination buckets only.",
        "Action::s3:Abort*": f"{purpose}: aborts its own multipart uploads.",
        "Action::s3:DeleteObject*": f"{purpose}: CDK grants deletes on the whole bucket; the "
        "handler deletes only under the prefix of a deployment that prunes.",
        cdk_asset_objects_finding(
            deployment
        ): f"{purpose}: the sources are objects of the CDK bootstrap asset bucket.",
        bucket_objects_finding(deployment, destination): f"{purpose}: destination objects.",
    }
    if destination.encryption_key is not None:
        findings["Action::kms:GenerateDataKey*"] = f"{purpose}: objects are encrypted with the bucket key."
        findings["Action::kms:ReEncrypt*"] = f"{purpose}: objects are encrypted with the bucket key."
    policy = role.node.find_child("DefaultPolicy")
    acknowledge_iam5(policy, findings)
    acknowledge_cdk_inline_policy(policy, what="CDK's BucketDeployment handler")
    function = role.node.scope
    if function is not None:
        acknowledge_cdk_handler(function, what="CDK's BucketDeployment handler")
