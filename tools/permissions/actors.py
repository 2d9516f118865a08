"""Who acts on a deployed platform, and the policies that decide what each may do, read from
the resolved templates: a role's identity policies (inline, attached customer managed policies,
``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy`` naming it), and a resource's own policy
(bucket policy, key policy, topic policy, queue policy, secret policy, a role's trust policy,
Lambda permissions)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tools.permissions.templates import ResolvedStack

Stacks = Mapping[str, ResolvedStack]
RoleFinder = Callable[[Stacks, Mapping[str, str]], str]


class ActorError(LookupError):
    """An actor or resource of the contract that the templates do not hold."""


@dataclass(frozen=True)
class FoundRole:
    stack: ResolvedStack
    logical_id: str
    arn: str
    name: str


def _roles(stacks: Stacks) -> Iterable[FoundRole]:
    for stack in stacks.values():
        for lid in stack.of_type("AWS::IAM::Role"):
            yield FoundRole(stack, lid, stack.arns[lid], stack.names[lid])


def role_by_arn(stacks: Stacks, arn: str) -> FoundRole:
    for role in _roles(stacks):
        if role.arn == arn:
            return role
    raise ActorError(f"no role {arn} in stacks {sorted(stacks)}")


def _role_with_prefix(prefix: str, *, stack: str | None = None) -> RoleFinder:
    """The one role whose logical id starts with ``prefix`` (in the stack the placeholder
    ``stack`` names, when given)."""

    def find(stacks: Stacks, placeholders: Mapping[str, str]) -> str:
        found = [
            r
            for r in _roles(stacks)
            if r.logical_id.startswith(prefix) and (stack is None or r.stack.name == placeholders[stack])
        ]
        if len(found) != 1:
            raise ActorError(f"expected one role with logical id {prefix}*, found {len(found)}")
        return found[0].arn

    return find


def _execution_role(stacks: Stacks, placeholders: Mapping[str, str]) -> str:
    for stack in stacks.values():
        for resource in stack.of_type("AWS::MWAA::Environment").values():
            return str(resource["Properties"]["ExecutionRoleArn"])
    raise ActorError("no AWS::MWAA::Environment in the stacks")


def _pipeline_action_role(stacks: Stacks, pick: Callable[[list[Mapping[str, Any]]], Any]) -> str:
    """The service role of the CodeBuild project behind the CDK pipeline action that ``pick``
    chooses among one stage's actions (None: not this stage), found through the pipeline's
    stages and the project's ServiceRole, never through policies."""
    for stack in stacks.values():
        projects = {stack.names[lid]: r for lid, r in stack.of_type("AWS::CodeBuild::Project").items()}
        for pipeline in stack.of_type("AWS::CodePipeline::Pipeline").values():
            for stage in pipeline["Properties"]["Stages"]:
                action = pick(stage["Actions"])
                if action is not None:
                    project = projects[action["Configuration"]["ProjectName"]]
                    return str(project["Properties"]["ServiceRole"])
    raise ActorError("no CDK pipeline (AWS::CodePipeline::Pipeline) with that action in the stacks")


def _pipeline_smoke_role(stacks: Stacks, placeholders: Mapping[str, str]) -> str:
    """The smoke step (``Smoke-<profile>``) of the stage that deploys the profile's platform stack."""

    def pick(actions: list[Mapping[str, Any]]) -> Any:
        deploys = {a.get("Configuration", {}).get("StackName") for a in actions}
        if placeholders["platform_stack"] not in deploys:
            return None
        return next(a for a in actions if a["Name"].startswith("Smoke-"))

    return _pipeline_action_role(stacks, pick)


def _pipeline_synth_role(stacks: Stacks, placeholders: Mapping[str, str]) -> str:
    """The synth step (``Synth``), which runs the pushed commit's gate and synthesis."""

    def pick(actions: list[Mapping[str, Any]]) -> Any:
        return next((a for a in actions if a["Name"] == "Synth"), None)

    return _pipeline_action_role(stacks, pick)


# role:<name> of the contract -> how to find that role's ARN in the resolved stacks (given the
# deployment's placeholders).
ROLE_FINDERS: dict[str, RoleFinder] = {
    "execution": _execution_role,
    "github-deploy": _role_with_prefix("GitHubAccessDeployRole"),
    "github-read-only": _role_with_prefix("GitHubAccessReadOnlyRole"),
    "artifact-deployment": _role_with_prefix("CustomCDKBucketDeployment", stack="platform_stack"),
    "pipeline-smoke": _pipeline_smoke_role,
    "pipeline-synth": _pipeline_synth_role,
    # Scheduled backups (permissions/backup.toml).
    "backup-function": _role_with_prefix("BackupFunctionRole", stack="platform_stack"),
    "backup-scheduler": _role_with_prefix("BackupSchedulerRole", stack="platform_stack"),
    # The handler aws-cdk-lib shares between the AwsCustomResources of a stack (the artifacts'
    # HeadObject, the first backup).
    "sdk-call-handler": _role_with_prefix(
        "AWS679f53fac002430cb0da5b7982bd2287ServiceRole", stack="platform_stack"
    ),
    "s3-replication": _role_with_prefix("ReplicaReplicationRole"),
}


def _policies_of(resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]


def identity_policies(stacks: Stacks, role: FoundRole, *, external: bool = False) -> list[Mapping[str, Any]]:
    """Every identity policy in effect for ``role``. AWS managed policies are not expanded (their
    text is not in the templates): a call that only they would allow shows up as denied, which
    errs on the side of a visible failure. ``external``: a role that exists outside the templates
    (only the policies the templates attach to it count)."""
    documents: list[Mapping[str, Any]] = []
    attached: set[str] = set()
    if not external:
        role_resource = role.stack.resources[role.logical_id]
        documents = _policies_of(role_resource)
        attached = set(role_resource["Properties"].get("ManagedPolicyArns", []))
    for stack in stacks.values():
        for lid, policy in stack.of_type("AWS::IAM::ManagedPolicy").items():
            props = policy["Properties"]
            if role.name in props.get("Roles", []) or stack.arns[lid] in attached:
                documents.append(props["PolicyDocument"])
        for policy in stack.of_type("AWS::IAM::Policy").values():
            props = policy["Properties"]
            if role.name in props.get("Roles", []):
                documents.append(props["PolicyDocument"])
    return documents


def resource_policy(stacks: Stacks, action: str, arn: str) -> Mapping[str, Any] | None:
    """The policy of the resource ``arn`` names, when the templates define that resource and
    give it one; None otherwise (an AWS-owned or external resource: identity policies decide)."""
    service = action.split(":", 1)[0]
    for stack in stacks.values():
        if service == "s3":
            bucket = arn.split(":::", 1)[-1].split("/", 1)[0]
            for policy in stack.of_type("AWS::S3::BucketPolicy").values():
                if policy["Properties"]["Bucket"] == bucket:
                    return dict(policy["Properties"]["PolicyDocument"])
        if service == "kms":
            for lid, key in stack.of_type("AWS::KMS::Key").items():
                if stack.arns[lid] == arn:
                    return dict(key["Properties"]["KeyPolicy"])
        if service == "sns":
            for policy in stack.of_type("AWS::SNS::TopicPolicy").values():
                if arn in policy["Properties"]["Topics"]:
                    return dict(policy["Properties"]["PolicyDocument"])
        if service == "sqs":
            for policy in stack.of_type("AWS::SQS::QueuePolicy").values():
                queues = policy["Properties"]["Queues"]
                if any(q.rsplit("/", 1)[-1] == arn.rsplit(":", 1)[-1] for q in queues):
                    return dict(policy["Properties"]["PolicyDocument"])
        if service == "secretsmanager":
            for policy in stack.of_type("AWS::SecretsManager::ResourcePolicy").values():
                if policy["Properties"]["SecretId"] == arn:
                    return dict(policy["Properties"]["ResourcePolicy"])
        if service == "sts":
            for lid, role in stack.of_type("AWS::IAM::Role").items():
                if stack.arns[lid] == arn:
                    return dict(role["Properties"]["AssumeRolePolicyDocument"])
        if service == "lambda":
            statements = [
                {
                    "Sid": lid,
                    "Effect": "Allow",
                    "Principal": _lambda_principal(p["Properties"]["Principal"]),
                    "Action": p["Properties"]["Action"],
                    "Resource": arn,
                    **(
                        {"Condition": {"ArnLike": {"aws:SourceArn": p["Properties"]["SourceArn"]}}}
                        if "SourceArn" in p["Properties"]
                        else {}
                    ),
                }
                for lid, p in stack.of_type("AWS::Lambda::Permission").items()
                if p["Properties"]["FunctionName"] in (arn, arn.rsplit(":", 1)[-1])
            ]
            if statements:
                return {"Version": "2012-10-17", "Statement": statements}
    return None


def _lambda_principal(principal: str) -> Mapping[str, str]:
    return {"Service": principal} if principal.endswith(".amazonaws.com") else {"AWS": principal}


# Action prefix -> the VPC endpoint service that carries it (com.amazonaws.<region>.<name>).
ENDPOINT_SERVICE = {
    "s3": "s3",
    "logs": "logs",
    "sqs": "sqs",
    "cloudwatch": "monitoring",
    "secretsmanager": "secretsmanager",
    "kms": "kms",
    "airflow": "airflow.env",
    "ecr": "ecr.api",
    "sts": "sts",
}


def endpoint_for(stacks: Stacks, action: str) -> Mapping[str, Any] | None:
    """The policy of the VPC endpoint that carries ``action`` from the environment's subnets
    (an endpoint without a policy allows everything); None when the network has no such endpoint."""
    name = ENDPOINT_SERVICE.get(action.split(":", 1)[0])
    for stack in stacks.values():
        for endpoint in stack.of_type("AWS::EC2::VPCEndpoint").values():
            if name and str(endpoint["Properties"]["ServiceName"]).endswith(f".{name}"):
                return endpoint["Properties"].get("PolicyDocument") or _ALLOW_ALL
    return None


_ALLOW_ALL: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "FullAccess", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}
