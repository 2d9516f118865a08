"""Synthesized templates with their intrinsics resolved to concrete strings, as CloudFormation
would resolve them in one account and region, so that an IAM evaluator can read the policies.

Physical names follow the resource's own name property where the template sets one (the DAG
bucket ``airflow-...``, log groups, alarms, the environment); otherwise a stable made-up name
from the stack and logical id, which is all a policy can refer to before deployment anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The property that holds a resource's physical name, where the template may set it.
NAME_PROPERTY = {
    "AWS::Athena::WorkGroup": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::CodePipeline::Pipeline": "Name",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::IAM::Role": "RoleName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::MWAA::Environment": "Name",
    "AWS::RedshiftServerless::Namespace": "NamespaceName",
    "AWS::RedshiftServerless::Workgroup": "WorkgroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SecretsManager::Secret": "Name",
}


class ResolveError(ValueError):
    """An intrinsic this resolver does not know, or a reference to nothing."""


@dataclass(frozen=True, kw_only=True)
class StackTemplate:
    """One synthesized stack: its name, template and where it deploys."""

    name: str
    template: Mapping[str, Any]
    account: str
    region: str
    partition: str = "aws"


@dataclass(frozen=True, kw_only=True)
class ResolvedStack:
    """A stack whose resources and outputs hold concrete values only."""

    name: str
    account: str
    region: str
    partition: str
    resources: dict[str, dict[str, Any]]
    outputs: dict[str, Any]
    # Logical id -> the resource's physical name and its ARN (as Fn::GetAtt Arn would give it).
    names: dict[str, str]
    arns: dict[str, str]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == resource_type}


class _Resolver:
    def __init__(self, stack: StackTemplate, exports: Mapping[str, Any]) -> None:
        self.stack = stack
        self.template = stack.template
        self.resources: Mapping[str, Any] = stack.template.get("Resources", {})
        self.exports = exports
        self._names: dict[str, str] = {}

    # -- physical identity -------------------------------------------------------------------
    def _arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        s = self.stack
        where = f"{s.region if region else ''}:{s.account if account else ''}"
        return f"arn:{s.partition}:{service}:{where}:{resource}"

    def name_of(self, lid: str) -> str:
        if lid in self._names:
            return self._names[lid]
        resource = self.resources[lid]
        rtype = resource["Type"]
        props = resource.get("Properties", {})
        name: Any = props.get(NAME_PROPERTY.get(rtype, ""))
        if rtype == "AWS::Glue::Database":
            name = props.get("DatabaseInput", {}).get("Name")
        if name is not None:
            name = self.value(name)
        else:
            digest = hashlib.sha256(f"{self.stack.name}/{lid}".encode()).hexdigest()[:12]
            name = f"{self.stack.name}-{lid}"[:50] + f"-{digest}"
            if rtype == "AWS::S3::Bucket":
                name = name.lower()
        self._names[lid] = str(name)
        return self._names[lid]

    def ref(self, lid: str) -> Any:
        pseudo = {
            "AWS::Partition": self.stack.partition,
            "AWS::Region": self.stack.region,
            "AWS::AccountId": self.stack.account,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack.name,
            "AWS::StackId": self._arn("cloudformation", f"stack/{self.stack.name}/stack-id"),
            "AWS::NotificationARNs": [],
        }
        if lid in pseudo:
            return pseudo[lid]
        parameters = self.template.get("Parameters", {})
        if lid in parameters:
            return parameters[lid].get("Default", f"{{parameter {lid}}}")
        if lid not in self.resources:
            raise ResolveError(f"{self.stack.name}: Ref to unknown '{lid}'")
        rtype = self.resources[lid]["Type"]
        name = self.name_of(lid)
        arn_refs = {
            "AWS::SNS::Topic": lambda: self._arn("sns", name),
            "AWS::IAM::ManagedPolicy": lambda: self._arn("iam", f"policy/{name}", region=False),
            "AWS::SecretsManager::Secret": lambda: self._arn("secretsmanager", f"secret:{name}-AbCdEf"),
            "AWS::SQS::Queue": lambda: (
                f"https://sqs.{self.stack.region}.amazonaws.com/{self.stack.account}/{name}"
            ),
            "AWS::KMS::Key": lambda: self._key_id(lid),
            "AWS::CloudFormation::Stack": lambda: self._arn("cloudformation", f"stack/{name}/id"),
        }
        return arn_refs[rtype]() if rtype in arn_refs else name

    def arn_of(self, lid: str) -> str:
        rtype = self.resources[lid]["Type"]
        by_attribute = {
            "AWS::IAM::ManagedPolicy": "PolicyArn",
            "AWS::RedshiftServerless::Workgroup": "Workgroup.WorkgroupArn",
            "AWS::RedshiftServerless::Namespace": "Namespace.NamespaceArn",
        }
        if rtype == "AWS::SecretsManager::Secret":
            return str(self.ref(lid))  # Ref of a secret is its ARN
        return str(self.get_att(lid, by_attribute.get(rtype, "Arn")))

    def _key_id(self, lid: str) -> str:
        digest = hashlib.sha256(f"{self.stack.name}/{lid}".encode()).hexdigest()
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    def get_att(self, lid: str, attribute: str) -> Any:
        if lid not in self.resources:
            raise ResolveError(f"{self.stack.name}: Fn::GetAtt of unknown '{lid}'")
        rtype = self.resources[lid]["Type"]
        name = self.name_of(lid)
        region = self.stack.region
        props = self.resources[lid].get("Properties", {})
        path = self.value(props.get("Path", "/")) if rtype == "AWS::IAM::Role" else "/"
        arns = {
            "AWS::S3::Bucket": lambda: f"arn:{self.stack.partition}:s3:::{name}",
            "AWS::IAM::Role": lambda: self._arn("iam", f"role{path}{name}", region=False),
            "AWS::Logs::LogGroup": lambda: self._arn("logs", f"log-group:{name}:*"),
            "AWS::KMS::Key": lambda: self._arn("kms", f"key/{self._key_id(lid)}"),
            "AWS::Lambda::Function": lambda: self._arn("lambda", f"function:{name}"),
            "AWS::MWAA::Environment": lambda: self._arn("airflow", f"environment/{name}"),
            "AWS::SNS::Topic": lambda: self._arn("sns", name),
            "AWS::SQS::Queue": lambda: self._arn("sqs", name),
            "AWS::CloudWatch::Alarm": lambda: self._arn("cloudwatch", f"alarm:{name}"),
            "AWS::CodeBuild::Project": lambda: self._arn("codebuild", f"project/{name}"),
            "AWS::StepFunctions::StateMachine": lambda: self._arn("states", f"stateMachine:{name}"),
        }
        if attribute == "Arn":
            if rtype in arns:
                return arns[rtype]()
            parts = rtype.split("::")
            if parts[0] != "AWS" or len(parts) != 3:
                return f"{{{lid}.Arn}}"
            return self._arn(parts[1].lower(), f"{parts[2].lower()}/{name}")
        special = {
            ("AWS::S3::Bucket", "DomainName"): f"{name}.s3.amazonaws.com",
            ("AWS::S3::Bucket", "RegionalDomainName"): f"{name}.s3.{region}.amazonaws.com",
            ("AWS::MWAA::Environment", "WebserverUrl"): f"{name}.airflow.{region}.on.aws",
            ("AWS::SNS::Topic", "TopicArn"): self._arn("sns", name),
            ("AWS::SNS::Topic", "TopicName"): name,
            ("AWS::IAM::ManagedPolicy", "PolicyArn"): self._arn("iam", f"policy/{name}", region=False),
            ("AWS::KMS::Key", "KeyId"): self._key_id(lid),
            ("AWS::SQS::Queue", "QueueName"): name,
            (
                "AWS::SQS::Queue",
                "QueueUrl",
            ): f"https://sqs.{region}.amazonaws.com/{self.stack.account}/{name}",
            ("AWS::RedshiftServerless::Workgroup", "Workgroup.WorkgroupArn"): self._arn(
                "redshift-serverless", f"workgroup/{self._key_id(lid)}"
            ),
            ("AWS::RedshiftServerless::Namespace", "Namespace.NamespaceArn"): self._arn(
                "redshift-serverless", f"namespace/{self._key_id(lid)}"
            ),
            ("AWS::RedshiftServerless::Workgroup", "Workgroup.WorkgroupName"): name,
            ("AWS::RedshiftServerless::Namespace", "Namespace.NamespaceName"): name,
            ("AWS::EC2::SecurityGroup", "GroupId"): f"sg-{hashlib.sha256(name.encode()).hexdigest()[:17]}",
            ("AWS::IAM::Role", "RoleId"): f"AROA{hashlib.sha256(name.encode()).hexdigest()[:17].upper()}",
            # A workflow's ARN is its name and a suffix the service generates.
            ("AWS::MWAAServerless::Workflow", "WorkflowArn"): self._arn(
                "airflow-serverless",
                f"workflow/{self.value(props.get('Name', name))}-{self._key_id(lid)[:10]}",
            ),
        }
        if (rtype, attribute) in special:
            return special[(rtype, attribute)]
        return f"{{{lid}.{attribute}}}"

    # -- intrinsics ---------------------------------------------------------------------------
    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            handler = getattr(self, "_fn_" + key.replace("::", "_").replace("Fn_", ""), None)
            if key == "Ref":
                return _NO_VALUE if arg == "AWS::NoValue" else self.ref(arg)
            if key.startswith("Fn::") or key == "Condition":
                if handler is None:
                    raise ResolveError(f"{self.stack.name}: unsupported intrinsic {key}")
                return handler(arg)
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not _NO_VALUE}

    def _fn_GetAtt(self, arg: Any) -> Any:
        lid, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        return self.get_att(lid, self.value(attribute))

    def _fn_Join(self, arg: Any) -> str:
        separator, items = arg
        return str(self.value(separator)).join(str(v) for v in self.value(items))

    def _fn_Sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        values = {k: self.value(v) for k, v in variables.items()}
        out, i = [], 0
        while i < len(text):
            start = text.find("${", i)
            if start < 0:
                out.append(text[i:])
                break
            out.append(text[i:start])
            end = text.index("}", start)
            name = text[start + 2 : end]
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in values:
                out.append(str(values[name]))
            elif "." in name:
                out.append(str(self._fn_GetAtt(name)))
            else:
                out.append(str(self.ref(name)))
            i = end + 1
        return "".join(out)

    def _fn_Select(self, arg: Any) -> Any:
        index, items = arg
        return self.value(items)[int(self.value(index))]

    def _fn_Split(self, arg: Any) -> list[str]:
        separator, text = arg
        return str(self.value(text)).split(self.value(separator))

    def _fn_GetAZs(self, arg: Any) -> list[str]:
        region = self.value(arg) or self.stack.region
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_ImportValue(self, arg: Any) -> Any:
        name = self.value(arg)
        if name not in self.exports:
            raise _PendingExport(name)
        return self.exports[name]

    def _fn_If(self, arg: Any) -> Any:
        condition, when_true, when_false = arg
        return self.value(when_true if self.condition(condition) else when_false)

    def _fn_Base64(self, arg: Any) -> Any:
        return self.value(arg)

    def _fn_FindInMap(self, arg: Any) -> Any:
        name, top, second = (self.value(a) for a in arg)
        return self.template["Mappings"][name][top][second]

    def _fn_Cidr(self, arg: Any) -> list[str]:
        return [f"{{cidr {index}}}" for index in range(int(self.value(arg[1])))]

    def _fn_Length(self, arg: Any) -> int:
        return len(self.value(arg))

    def _fn_Equals(self, arg: Any) -> bool:
        left, right = (self.value(a) for a in arg)
        return bool(left == right)

    def _fn_Not(self, arg: Any) -> bool:
        return not self._truth(arg[0])

    def _fn_And(self, arg: Any) -> bool:
        return all(self._truth(a) for a in arg)

    def _fn_Or(self, arg: Any) -> bool:
        return any(self._truth(a) for a in arg)

    def _fn_Condition(self, arg: Any) -> bool:
        return self.condition(arg)

    def _truth(self, node: Any) -> bool:
        return bool(self.value(node))

    def condition(self, name: str) -> bool:
        return self._truth(self.template.get("Conditions", {})[name])


class _NoValue:
    pass


_NO_VALUE = _NoValue()


class _PendingExport(Exception):
    """An Fn::ImportValue of an export another stack has not produced yet."""


def resolve_stacks(stacks: Sequence[StackTemplate]) -> dict[str, ResolvedStack]:
    """Resolve every stack, following ``Fn::ImportValue`` to the stack that exports it (stacks
    are resolved in dependency order, whatever order they are given in)."""
    exports: dict[str, Any] = {}
    resolved: dict[str, ResolvedStack] = {}
    pending = list(stacks)
    while pending:
        progressed = False
        for stack in list(pending):
            resolver = _Resolver(stack, exports)
            try:
                resources = {
                    lid: {**resource, **({"Properties": resolver.value(resource.get("Properties", {}))})}
                    for lid, resource in stack.template.get("Resources", {}).items()
                    if "Condition" not in resource or resolver.condition(resource["Condition"])
                }
                outputs = {key: resolver.value(o) for key, o in stack.template.get("Outputs", {}).items()}
            except _PendingExport:
                continue
            for output in outputs.values():
                if isinstance(output, dict) and "Export" in output:
                    exports[output["Export"]["Name"]] = output["Value"]
            resolved[stack.name] = ResolvedStack(
                name=stack.name,
                account=stack.account,
                region=stack.region,
                partition=stack.partition,
                resources=resources,
                outputs=outputs,
                names={lid: resolver.name_of(lid) for lid in resources},
                arns={lid: resolver.arn_of(lid) for lid in resources},
            )
            pending.remove(stack)
            progressed = True
        if not progressed:
            names = ", ".join(s.name for s in pending)
            raise ResolveError(f"stacks import values nobody exports: {names}")
    return resolved


def resolve(
    template: Mapping[str, Any], *, account: str, region: str, partition: str = "aws", name: str = "Stack"
) -> ResolvedStack:
    """One template on its own (it may import nothing)."""
    stack = StackTemplate(name=name, template=template, account=account, region=region, partition=partition)
    return resolve_stacks([stack])[name]
