"""Offline change review between two synthesized cloud assemblies.

``make review BASE=<git ref>`` synthesizes the profiles of BASE (in a temporary git worktree) and of
the working tree, then reports per stack the resources added, removed and modified (with the
changed property paths), IAM statements and security-group rules added or removed, a verdict per
MWAA environment (``none``, ``update``, ``replacement``, or ``added``/``removed``) and the change
of the monthly cost estimate. No AWS call: only templates are compared.

What is ignored, and why:

- resource ``Metadata`` (``aws:cdk:path``, ``aws:asset:*``, cdk-nag and cfn-lint annotations): it
  never changes a deployed resource; ``AWS::CloudFormation::Init`` metadata is the exception and
  is compared;
- the ``AWS::CDK::Metadata`` resource (``CDKMetadata``), the ``BootstrapVersion`` parameter and
  the ``CheckBootstrapVersion`` rule: they describe the CDK version, not the infrastructure.

Asset hashes inside properties (``SourceObjectKeys`` of a ``BucketDeployment``, ``Code.S3Key`` of
a function) are *not* ignored: they change exactly when the uploaded content changes, which is a
real deployment (a DAG upload, new handler code).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Template = Mapping[str, Any]
Verdict = Literal["none", "update", "replacement", "added", "removed"]

MARKER = "<!-- mwaa-platform change review -->"
ROOT = Path(__file__).resolve().parent.parent

# AWS::MWAA::Environment properties whose change creates a new environment (the resource
# schema's createOnlyProperties): a new, empty metadata database.
ENVIRONMENT_REPLACEMENT_PATHS = (
    "Properties.Name",
    "Properties.KmsKey",
    "Properties.NetworkConfiguration.SubnetIds",
    "Properties.EndpointManagement",
)
_COMPARED_KEYS = (
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "UpdatePolicy",
    "CreationPolicy",
)
_IGNORED_RESOURCE_TYPES = frozenset({"AWS::CDK::Metadata"})
# Where each resource type keeps its policy documents (paths of the document, not of statements).
_POLICY_DOCUMENTS = {
    "AWS::IAM::Policy": ("Properties.PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("Properties.PolicyDocument",),
    "AWS::S3::BucketPolicy": ("Properties.PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("Properties.PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("Properties.PolicyDocument",),
    "AWS::KMS::Key": ("Properties.KeyPolicy",),
    "AWS::SecretsManager::ResourcePolicy": ("Properties.ResourcePolicy",),
    "AWS::IAM::Role": ("Properties.AssumeRolePolicyDocument",),
}
_INLINE_POLICY_TYPES = frozenset({"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"})
_RULE_PEERS = (
    "CidrIp",
    "CidrIpv6",
    "SourceSecurityGroupId",
    "SourceSecurityGroupName",
    "DestinationSecurityGroupId",
    "SourcePrefixListId",
    "DestinationPrefixListId",
)
_FAIL_LEVELS = {"update": 1, "replacement": 2}
_VERDICT_LEVELS = {"none": 0, "added": 0, "update": 1, "replacement": 2, "removed": 2}


class ReviewError(RuntimeError):
    """The review could not be made (a bad ref, a synth that failed); one line for the user."""


class Estimate(Protocol):
    """What the review reads of a cost estimate (``mwaa_ops.cost.Estimate``)."""

    monthly_idle: float
    monthly_full: float
    priced: bool
    region: str | None


Estimator = Callable[..., Estimate]
"""``estimator(templates_by_stack_name, region=...) -> Estimate``, as ``mwaa_ops.cost.estimate_templates``."""


@dataclass(frozen=True)
class StackTemplate:
    """One stack of an assembly: its name, its artifact id, its target region and its template."""

    name: str
    artifact_id: str
    region: str | None
    template: Template


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    type: str
    change: Literal["added", "removed", "modified"]
    paths: tuple[str, ...] = ()
    replaced: bool = False


@dataclass(frozen=True)
class StatementChange:
    """An IAM policy statement added to or removed from one policy document."""

    change: Literal["added", "removed"]
    logical_id: str
    type: str
    document: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[str, ...] = ()
    conditions: str = ""
    negated: tuple[str, ...] = ()  # which of NotAction / NotResource / NotPrincipal are used


@dataclass(frozen=True)
class RuleChange:
    """A security-group rule added or removed."""

    change: Literal["added", "removed"]
    logical_id: str
    group: str
    direction: Literal["ingress", "egress"]
    protocol: str
    ports: str
    peer: str
    description: str = ""


@dataclass(frozen=True)
class EnvironmentVerdict:
    stack: str
    logical_id: str
    name: str
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    advice: str = ""


@dataclass(frozen=True)
class CostChange:
    region: str | None
    priced: bool
    base_idle: float | None
    base_full: float | None
    head_idle: float
    head_full: float


@dataclass
class StackReview:
    name: str
    base_name: str | None
    head_name: str | None
    resources: list[ResourceChange] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    statements: list[StatementChange] = field(default_factory=list)
    rules: list[RuleChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.resources or self.outputs or self.statements or self.rules) or (
            self.base_name != self.head_name
        )


@dataclass
class ProfileReview:
    profile: str
    stacks: list[StackReview] = field(default_factory=list)
    environments: list[EnvironmentVerdict] = field(default_factory=list)
    cost: CostChange | None = None
    cost_note: str = ""


@dataclass
class Review:
    base: str
    head: str
    profiles: list[ProfileReview] = field(default_factory=list)

    @property
    def worst(self) -> Verdict:
        verdicts = [e.verdict for p in self.profiles for e in p.environments]
        return max(verdicts, key=lambda v: _VERDICT_LEVELS[v], default="none")

    def reaches(self, fail_on: str | None) -> bool:
        """Whether any environment verdict reaches ``fail_on`` (``update`` or ``replacement``)."""
        if fail_on is None:
            return False
        return any(
            _VERDICT_LEVELS[e.verdict] >= _FAIL_LEVELS[fail_on] for p in self.profiles for e in p.environments
        )


# --- reading assemblies -------------------------------------------------------------------------


def read_assembly(outdir: Path) -> list[StackTemplate]:
    """The stacks of a cloud assembly (``manifest.json``), nested stage assemblies included."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks: list[StackTemplate] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        properties = artifact.get("properties", {})
        if artifact.get("type") == "aws:cloudformation:stack":
            name = properties.get("stackName") or artifact.get("displayName") or artifact_id
            template = json.loads((outdir / properties["templateFile"]).read_text())
            stacks.append(
                StackTemplate(name, artifact_id, _region_of(artifact.get("environment", "")), template)
            )
        elif artifact.get("type") == "cdk:cloud-assembly" and "directoryName" in properties:
            stacks.extend(read_assembly(outdir / properties["directoryName"]))
    return stacks


def _region_of(environment: str) -> str | None:
    # "aws://<account>/<region>", with "unknown-region" in an environment-agnostic synth.
    region = environment.rsplit("/", 1)[-1] if environment.startswith("aws://") else ""
    return None if not region or region.startswith("unknown-") else region


# --- comparing values ---------------------------------------------------------------------------


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _INTRINSICS


_INTRINSICS = frozenset(
    {
        "Ref",
        "Fn::GetAtt",
        "Fn::Join",
        "Fn::Sub",
        "Fn::Select",
        "Fn::Split",
        "Fn::If",
        "Fn::ImportValue",
        "Fn::FindInMap",
        "Fn::GetAZs",
        "Fn::Base64",
        "Fn::Cidr",
        "Fn::ToJsonString",
    }
)


def changed_paths(old: Any, new: Any, path: str = "") -> list[str]:
    """Paths where ``new`` differs from ``old``: ``Properties.MaxWorkers``,
    ``Properties.NetworkConfiguration.SubnetIds[1]``. An intrinsic function is one value."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict) and not (_is_intrinsic(old) or _is_intrinsic(new)):
        paths: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            paths.extend(changed_paths(old.get(key), new.get(key), f"{path}.{key}" if path else str(key)))
        return paths
    if isinstance(old, list) and isinstance(new, list):
        paths = []
        for index in range(max(len(old), len(new))):
            paths.extend(
                changed_paths(
                    old[index] if index < len(old) else None,
                    new[index] if index < len(new) else None,
                    f"{path}[{index}]",
                )
            )
        return paths
    return [path]


def references(value: Any) -> Iterator[tuple[str, str | None]]:
    """``(logical id, attribute)`` of every ``Ref`` (attribute ``None``) and ``Fn::GetAtt`` in ``value``
    (including ``${Name}``/``${Name.Attr}`` in ``Fn::Sub``)."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str) and len(value) == 1:
            yield value["Ref"], None
            return
        if "Fn::GetAtt" in value and len(value) == 1:
            target = value["Fn::GetAtt"]
            if isinstance(target, str):
                target = target.split(".", 1)
            if isinstance(target, list) and target and isinstance(target[0], str):
                yield target[0], str(target[1]) if len(target) > 1 else None
            return
        if "Fn::Sub" in value and len(value) == 1:
            body = value["Fn::Sub"]
            text, variables = (body, {}) if isinstance(body, str) else (body[0], body[1])
            for name in _sub_variables(text):
                if name not in variables and not name.startswith("AWS::"):
                    logical_id, _, attribute = name.partition(".")
                    yield logical_id, attribute or None
            yield from references(variables)
            return
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def _sub_variables(text: str) -> Iterator[str]:
    start = text.find("${")
    while start != -1:
        end = text.find("}", start)
        if end == -1:
            return
        if not text.startswith("${!", start):
            yield text[start + 2 : end]
        start = text.find("${", end)


def _value_at(document: Any, path: str) -> Any:
    value = document
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            index = int(part[1:-1])
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return value


@functools.cache
def _create_only_paths(resource_type: str) -> tuple[str, ...]:
    """``Properties.X.Y`` paths whose change replaces a resource of ``resource_type``, from the
    CloudFormation resource schemas that cfn-lint ships (empty for unknown or custom types)."""
    if resource_type == "AWS::MWAA::Environment":
        return ENVIRONMENT_REPLACEMENT_PATHS
    if not resource_type.startswith("AWS::"):
        return ()
    try:
        from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    except Exception:  # an unknown type or no cfn-lint: assume updates in place
        return ()
    return tuple(
        "Properties." + pointer.removeprefix("/properties/").replace("/*", "").replace("/", ".")
        for pointer in schema.get("createOnlyProperties", ())
    )


def _under(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


def _is_custom(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource"


class _StackDiff:
    """The resources of one stack in two templates, with what changes value on deploy."""

    def __init__(self, base: Template, head: Template) -> None:
        self.base = _resources(base)
        self.head = _resources(head)
        self.replaced: set[str] = set()
        self._paths: dict[str, list[str]] = {}
        self._resolve()

    def _compared(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        compared = {key: resource[key] for key in _COMPARED_KEYS if key in resource}
        init = resource.get("Metadata", {}).get("AWS::CloudFormation::Init")
        if init is not None:
            compared["Metadata"] = {"AWS::CloudFormation::Init": init}
        return compared

    def paths(self, logical_id: str) -> list[str]:
        if logical_id not in self._paths:
            self._paths[logical_id] = changed_paths(
                self._compared(self.base[logical_id]), self._compared(self.head[logical_id])
            )
        return self._paths[logical_id]

    def value_changes(self, logical_id: str, attribute: str | None) -> bool:
        """Whether ``Ref``/``Fn::GetAtt`` of a resource kept in both templates changes on deploy."""
        if logical_id not in self.base or logical_id not in self.head:
            return False  # not a resource (a parameter, a pseudo parameter), or a textual change anyway
        if logical_id in self.replaced:
            return True
        # A custom resource's attributes are whatever its handler returns on update: any change of
        # its input (other than the handler itself) may change them. This is how the object-version
        # resources of plugins.zip, requirements and the startup script reach the environment.
        return (
            attribute is not None
            and _is_custom(self.head[logical_id].get("Type", ""))
            and any(not p.startswith("Properties.ServiceToken") for p in self.paths(logical_id))
        )

    def effective_paths(self, logical_id: str) -> list[str]:
        """Changed property paths of a resource, counting a reference whose value changes."""
        head = self._compared(self.head[logical_id])
        paths = set(self.paths(logical_id))
        for path, value in _leaf_references(head):
            if any(self.value_changes(target, attribute) for target, attribute in references(value)):
                paths.add(path)
        return sorted(paths)

    def _resolve(self) -> None:
        kept = [logical_id for logical_id in self.head if logical_id in self.base]
        changed = True
        while changed:
            changed = False
            for logical_id in kept:
                if logical_id in self.replaced:
                    continue
                old, new = self.base[logical_id], self.head[logical_id]
                create_only = _create_only_paths(new.get("Type", ""))
                if old.get("Type") != new.get("Type") or any(
                    _under(p, create_only) for p in self.effective_paths(logical_id)
                ):
                    self.replaced.add(logical_id)
                    changed = True


def _leaf_references(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, intrinsic)`` for every intrinsic function in ``value`` that references something."""
    if _is_intrinsic(value):
        if any(True for _ in references(value)):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_references(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaf_references(item, f"{path}[{index}]")


def _resources(template: Template) -> dict[str, Mapping[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") not in _IGNORED_RESOURCE_TYPES
    }


# --- IAM statements and security-group rules ----------------------------------------------------


def render(value: Any) -> str:
    """A CloudFormation value as one readable string: ``Bucket.Arn``, ``${Bucket.Arn}/*``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), *_ = value.items()
        if function == "Ref":
            return f"${{{argument}}}" if str(argument).startswith("AWS::") else f"{argument}"
        if function == "Fn::GetAtt":
            return ".".join(argument) if isinstance(argument, list) else str(argument)
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            return separator.join(
                render(part) if isinstance(part, str) else "${" + render(part) + "}" for part in parts
            )
        if function == "Fn::Sub":
            return argument if isinstance(argument, str) else str(argument[0])
        if function == "Fn::ImportValue":
            return f"import({render(argument)})"
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _statement_documents(resource: Mapping[str, Any]) -> Iterator[tuple[str, list[Mapping[str, Any]]]]:
    resource_type = resource.get("Type", "")
    for path in _POLICY_DOCUMENTS.get(resource_type, ()):
        document = _value_at(resource, path)
        if isinstance(document, dict):
            yield path.removeprefix("Properties."), _as_list(document.get("Statement"))
    if resource_type in _INLINE_POLICY_TYPES:
        for policy in _as_list(resource.get("Properties", {}).get("Policies")):
            if isinstance(policy, dict) and isinstance(policy.get("PolicyDocument"), dict):
                name = render(policy.get("PolicyName", "?"))
                yield f"Policies[{name}]", _as_list(policy["PolicyDocument"].get("Statement"))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _statement_change(
    change: Literal["added", "removed"], logical_id: str, resource_type: str, document: str, statement: Any
) -> StatementChange:
    if not isinstance(statement, dict):
        return StatementChange(change, logical_id, resource_type, document, "?", (render(statement),), ())
    principals: list[str] = []
    for key in ("Principal", "NotPrincipal"):
        principal = statement.get(key)
        if isinstance(principal, dict):
            for kind, values in sorted(principal.items()):
                principals.extend(f"{kind}:{render(v)}" for v in _as_list(values))
        elif principal is not None:
            principals.append(render(principal))
    return StatementChange(
        change=change,
        logical_id=logical_id,
        type=resource_type,
        document=document,
        effect=str(statement.get("Effect", "Allow")),
        actions=tuple(render(a) for a in _as_list(statement.get("Action", statement.get("NotAction")))),
        resources=tuple(render(r) for r in _as_list(statement.get("Resource", statement.get("NotResource")))),
        principals=tuple(principals),
        conditions=_canonical(statement["Condition"]) if "Condition" in statement else "",
        negated=tuple(k for k in ("NotAction", "NotResource", "NotPrincipal") if k in statement),
    )


def statement_changes(base: Template, head: Template) -> list[StatementChange]:
    """IAM statements added and removed, per resource and policy document."""
    old = {k: dict(_statement_documents(r)) for k, r in _resources(base).items()}
    new = {k: dict(_statement_documents(r)) for k, r in _resources(head).items()}
    types = {k: r.get("Type", "") for k, r in {**_resources(base), **_resources(head)}.items()}
    changes: list[StatementChange] = []
    for logical_id in sorted(set(old) | set(new)):
        before, after = old.get(logical_id, {}), new.get(logical_id, {})
        for document in sorted(set(before) | set(after)):
            old_statements = {_canonical(s): s for s in before.get(document, [])}
            new_statements = {_canonical(s): s for s in after.get(document, [])}
            for key in sorted(set(old_statements) - set(new_statements)):
                changes.append(
                    _statement_change("removed", logical_id, types[logical_id], document, old_statements[key])
                )
            for key in sorted(set(new_statements) - set(old_statements)):
                changes.append(
                    _statement_change("added", logical_id, types[logical_id], document, new_statements[key])
                )
    return changes


def _rules(template: Template) -> dict[str, tuple[str, str, Mapping[str, Any]]]:
    """Every security-group rule of a template, by a canonical key: (holder, direction, rule)."""
    rules: dict[str, tuple[str, str, Mapping[str, Any]]] = {}
    for logical_id, resource in _resources(template).items():
        properties = resource.get("Properties", {})
        resource_type = resource.get("Type")
        found: list[tuple[str, Mapping[str, Any]]] = []
        if resource_type == "AWS::EC2::SecurityGroup":
            found += [("ingress", r) for r in _as_list(properties.get("SecurityGroupIngress"))]
            found += [("egress", r) for r in _as_list(properties.get("SecurityGroupEgress"))]
            found = [(d, {**r, "GroupId": {"Ref": logical_id}}) for d, r in found]
        elif resource_type == "AWS::EC2::SecurityGroupIngress":
            found.append(("ingress", properties))
        elif resource_type == "AWS::EC2::SecurityGroupEgress":
            found.append(("egress", properties))
        for direction, rule in found:
            rules[_canonical([direction, rule])] = (logical_id, direction, rule)
    return rules


def _rule_change(
    change: Literal["added", "removed"], logical_id: str, direction: str, rule: Any
) -> RuleChange:
    protocol = str(rule.get("IpProtocol", "-1"))
    low, high = rule.get("FromPort"), rule.get("ToPort")
    if protocol in ("-1", "all") or (low in (None, -1) and high in (None, -1)):
        ports = "all"
    else:
        ports = str(low) if low == high else f"{low}-{high}"
    peer = next((f"{key} {render(rule[key])}" for key in _RULE_PEERS if key in rule), "?")
    return RuleChange(
        change=change,
        logical_id=logical_id,
        group=render(rule.get("GroupId", rule.get("GroupName", "?"))),
        direction=direction,  # type: ignore[arg-type]
        protocol="all" if protocol == "-1" else protocol,
        ports=ports,
        peer=peer,
        description=render(rule.get("Description", "")),
    )


def rule_changes(base: Template, head: Template) -> list[RuleChange]:
    """Security-group rules added and removed (inline on a group, or as their own resources)."""
    old, new = _rules(base), _rules(head)
    return [_rule_change("removed", *old[k]) for k in sorted(set(old) - set(new))] + [
        _rule_change("added", *new[k]) for k in sorted(set(new) - set(old))
    ]


# --- stacks and environments --------------------------------------------------------------------


def resource_changes(base: Template, head: Template) -> list[ResourceChange]:
    """Resources added, removed and modified (changed paths; ``replaced`` from the resource schemas)."""
    diff = _StackDiff(base, head)
    changes = [
        ResourceChange(k, diff.head[k].get("Type", ""), "added")
        for k in sorted(set(diff.head) - set(diff.base))
    ]
    changes += [
        ResourceChange(k, diff.base[k].get("Type", ""), "removed")
        for k in sorted(set(diff.base) - set(diff.head))
    ]
    for logical_id in sorted(set(diff.base) & set(diff.head)):
        paths = diff.paths(logical_id)
        if paths:
            changes.append(
                ResourceChange(
                    logical_id,
                    diff.head[logical_id].get("Type", ""),
                    "modified",
                    tuple(paths),
                    logical_id in diff.replaced,
                )
            )
    return changes


def output_changes(base: Template, head: Template) -> list[str]:
    old, new = base.get("Outputs", {}), head.get("Outputs", {})
    return [
        f"{name} {'added' if name not in old else 'removed' if name not in new else 'modified'}"
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    ]


def environment_verdicts(
    stack: str, base: Template | None, head: Template | None, *, renamed_from: str | None = None
) -> list[EnvironmentVerdict]:
    """The verdict for every AWS::MWAA::Environment of one stack (``base``/``head`` None: no stack;
    ``renamed_from``: the stack's name at base, when the stack itself was renamed)."""
    base = base or {"Resources": {}}
    head = head or {"Resources": {}}
    diff = _StackDiff(base, head)
    environments = lambda resources: {  # noqa: E731
        k for k, r in resources.items() if r.get("Type") == "AWS::MWAA::Environment"
    }
    verdicts: list[EnvironmentVerdict] = []
    for logical_id in sorted(environments(diff.base) | environments(diff.head)):
        old, new = diff.base.get(logical_id), diff.head.get(logical_id)
        if old is None or new is None:
            resource = new or old
            assert resource is not None
            name = render(resource.get("Properties", {}).get("Name", logical_id))
            verdict: Verdict = "added" if old is None else "removed"
            reason = (
                "a new environment (creation takes 20–40 minutes)"
                if verdict == "added"
                else "the environment and its metadata database are deleted"
            )
            verdicts.append(EnvironmentVerdict(stack, logical_id, name, verdict, (reason,)))
            continue
        verdicts.append(_verdict(stack, logical_id, diff, renamed_from))
    return verdicts


def _verdict(stack: str, logical_id: str, diff: _StackDiff, renamed_from: str | None) -> EnvironmentVerdict:
    old, new = diff.base[logical_id], diff.head[logical_id]
    old_name = render(old.get("Properties", {}).get("Name", logical_id))
    name = render(new.get("Properties", {}).get("Name", logical_id))
    textual = set(diff.paths(logical_id))
    paths = [p for p in diff.effective_paths(logical_id) if p.startswith("Properties.")]
    if not paths:
        return EnvironmentVerdict(stack, logical_id, name, "none", ())
    reasons = []
    for path in paths:
        if path in textual:
            reasons.append(f"{path} changed")
        else:
            targets = sorted({t for t, a in references(_value_at(new, path)) if diff.value_changes(t, a)})
            reasons.append(f"{path} changes on deploy: {', '.join(targets)} changed")
    replacing = [p for p in paths if _under(p, ENVIRONMENT_REPLACEMENT_PATHS)]
    if replacing:
        if renamed_from is not None:
            advice = (
                f"The stack is renamed as well ({renamed_from} → {stack}): deploying creates a new stack "
                f"with a new environment {name} and an empty metadata database (DAG run history, "
                f"connections and variables in the database are not carried over); {old_name} keeps "
                f"running in {renamed_from} until you destroy that stack. Export what you need first."
            )
        elif old_name != name:
            advice = (
                f"CloudFormation creates a new environment {name} with an empty metadata database "
                f"(DAG run history, connections and variables in the database are not carried over) "
                f"and deletes {old_name}: export what you need from {old_name} first."
            )
        else:
            advice = (
                f"Replacing the named environment {name} fails (the new one would take the same name): "
                "change environment_name as well and migrate to the new environment, or delete the "
                "environment (its stack) first and accept an empty metadata database."
            )
        return EnvironmentVerdict(stack, logical_id, name, "replacement", tuple(reasons), advice)
    strategy = new.get("Properties", {}).get("WorkerReplacementStrategy")
    advice = "A full environment update of 10–30 minutes; workers are replaced " + (
        "gracefully (WorkerReplacementStrategy GRACEFUL: running tasks finish, up to 12 hours)."
        if strategy == "GRACEFUL"
        else "without waiting for running tasks (WorkerReplacementStrategy "
        f"{strategy or 'unset, MWAA default'}; set GRACEFUL to let them finish)."
    )
    return EnvironmentVerdict(stack, logical_id, name, "update", tuple(reasons), advice)


def _pair_stacks(
    base: Sequence[StackTemplate], head: Sequence[StackTemplate]
) -> list[tuple[StackTemplate | None, StackTemplate | None]]:
    """Stacks of the same name; then a renamed stack (an environment renamed with the profile's
    ``environment_name``) to the unmatched base stack sharing most of its logical ids."""
    pairs: list[tuple[StackTemplate | None, StackTemplate | None]] = []
    base_left = {s.name: s for s in base}
    head_left: list[StackTemplate] = []
    for stack in head:
        if stack.name in base_left:
            pairs.append((base_left.pop(stack.name), stack))
        else:
            head_left.append(stack)
    for stack in head_left:
        ids = set(_resources(stack.template))
        best, best_score = None, 0.5
        for candidate in base_left.values():
            other = set(_resources(candidate.template))
            score = len(ids & other) / max(len(ids | other), 1)
            if score > best_score:
                best, best_score = candidate, score
        if best is not None:
            del base_left[best.name]
        pairs.append((best, stack))
    pairs.extend((stack, None) for stack in base_left.values())
    return pairs


def review_profile(
    profile: str,
    base: Sequence[StackTemplate],
    head: Sequence[StackTemplate],
    *,
    estimator: Estimator | None = None,
) -> ProfileReview:
    """Compare the stacks of one profile; ``estimator`` prices both sides when given."""
    review = ProfileReview(profile)
    for old, new in _pair_stacks(base, head):
        name = new.name if new else old.name  # type: ignore[union-attr]
        base_template = old.template if old else {"Resources": {}}
        head_template = new.template if new else {"Resources": {}}
        stack = StackReview(
            name=name,
            base_name=old.name if old else None,
            head_name=new.name if new else None,
            resources=resource_changes(base_template, head_template),
            outputs=output_changes(base_template, head_template),
            statements=statement_changes(base_template, head_template),
            rules=rule_changes(base_template, head_template),
        )
        review.stacks.append(stack)
        review.environments.extend(
            environment_verdicts(
                name,
                old.template if old else None,
                new.template if new else None,
                renamed_from=old.name if old and new and old.name != new.name else None,
            )
        )
    if estimator is None:
        review.cost_note = "no cost estimator available"
        return review
    region = next((s.region for s in head if s.region), None)
    after = estimator({s.name: s.template for s in head}, region=region)
    before = estimator({s.name: s.template for s in base}, region=region) if base else None
    review.cost = CostChange(
        region=after.region,
        priced=after.priced,
        base_idle=before.monthly_idle if before else None,
        base_full=before.monthly_full if before else None,
        head_idle=after.monthly_idle,
        head_full=after.monthly_full,
    )
    return review


# --- output -------------------------------------------------------------------------------------

_VERDICT_TEXT = {
    "none": "no environment update",
    "update": "environment update",
    "replacement": "environment REPLACEMENT",
    "added": "new environment",
    "removed": "environment REMOVED",
}


def _money(value: float | None) -> str:
    return "–" if value is None else f"${value:,.2f}"


def _money_change(before: float | None, after: float) -> str:
    delta = "new" if before is None else f"{after - before:+,.2f}"
    return f"{_money(before)} → {_money(after)} ({delta})"


def to_markdown(review: Review) -> str:
    lines = [MARKER, f"## Infrastructure change review: `{review.base}` → `{review.head}`", ""]
    for profile in review.profiles:
        lines.append(f"### Profile `{profile.profile}`")
        lines.append("")
        for env in profile.environments:
            heading = f"- **Environment `{env.name}`** ({env.stack}): **{env.verdict}**"
            lines.append(f"{heading} — {_VERDICT_TEXT[env.verdict]}")
            lines.extend(f"  - {reason}" for reason in env.reasons)
            if env.advice:
                lines.append(f"  - ⚠️ {env.advice}" if env.verdict == "replacement" else f"  - {env.advice}")
        if not profile.environments:
            lines.append("- no MWAA environment")
        if profile.cost is not None:
            cost = profile.cost
            priced = "" if cost.priced else " (unpriced: no price list for the region)"
            idle, full = (
                _money_change(cost.base_idle, cost.head_idle),
                _money_change(cost.base_full, cost.head_full),
            )
            region = cost.region or "default region"
            lines.append(f"- Monthly cost estimate ({region}){priced}: idle {idle}, full {full}")
        else:
            lines.append(f"- Monthly cost estimate: {profile.cost_note}")
        lines.append("")
        for stack in profile.stacks:
            lines.extend(_stack_markdown(stack))
    return "\n".join(lines).rstrip() + "\n"


def _stack_markdown(stack: StackReview) -> list[str]:
    if stack.base_name is None:
        title = f"#### Stack `{stack.name}` (new stack)"
    elif stack.head_name is None:
        title = f"#### Stack `{stack.name}` (no longer synthesized: `cdk deploy` leaves it deployed)"
    elif stack.base_name != stack.head_name:
        title = (
            f"#### Stack `{stack.base_name}` → `{stack.head_name}` (renamed: a new CloudFormation stack; "
            "the old one stays deployed until destroyed)"
        )
    else:
        title = f"#### Stack `{stack.name}`"
    if not stack.changed:
        return [f"{title}: no change", ""]
    lines = [title, ""]
    if stack.resources:
        lines += ["| change | resource | type | changed paths |", "|---|---|---|---|"]
        for change in stack.resources:
            label = change.change + (" (replacement)" if change.replaced else "")
            paths = ", ".join(f"`{p}`" for p in change.paths)
            lines.append(f"| {label} | `{change.logical_id}` | {change.type} | {paths} |")
        lines.append("")
    if stack.outputs:
        lines.append("Outputs: " + "; ".join(stack.outputs))
        lines.append("")
    if stack.statements:
        lines.append("IAM statements:")
        for s in stack.statements:
            sign = "➕ added" if s.change == "added" else "➖ removed"
            negated = f" ({', '.join(s.negated)})" if s.negated else ""
            text = (
                f"- {sign} in `{s.logical_id}` {s.document}: **{s.effect}** {', '.join(s.actions)}{negated}"
            )
            if s.resources:
                text += f" on {', '.join(s.resources)}"
            if s.principals:
                text += f" for {', '.join(s.principals)}"
            if s.conditions:
                text += f" when `{s.conditions}`"
            lines.append(text)
        lines.append("")
    if stack.rules:
        lines.append("Security-group rules:")
        for r in stack.rules:
            sign = "➕ added" if r.change == "added" else "➖ removed"
            description = f" ({r.description})" if r.description else ""
            lines.append(
                f"- {sign} {r.direction} on `{r.group}`: {r.protocol} ports {r.ports} "
                f"{'from' if r.direction == 'ingress' else 'to'} {r.peer}{description}"
            )
        lines.append("")
    return lines


def to_json(review: Review) -> str:
    data = asdict(review)
    data["worst"] = review.worst
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


# --- synthesis in a worktree --------------------------------------------------------------------


def synthesize(tree: Path, profile: str, outdir: Path) -> list[StackTemplate]:
    """``npx cdk synth -c profile=<profile>`` in ``tree`` into ``outdir``, with this Python on PATH."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    command = [
        "npx",
        "--no-install",
        "cdk",
        "synth",
        "--quiet",
        "-c",
        f"profile={profile}",
        "-o",
        str(outdir),
    ]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise ReviewError(f"synth of profile {profile} in {tree.name} failed:\n{tail}")
    return read_assembly(outdir)


def profiles_of(tree: Path) -> list[str]:
    """The profile names of ``tree``'s cdk.json (context key ``profiles``)."""
    return list(json.loads((tree / "cdk.json").read_text()).get("context", {}).get("profiles", {}))


def _git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReviewError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def make_review(
    repo: Path,
    base_ref: str,
    profiles: Sequence[str] | None,
    *,
    synth: Callable[[Path, str, Path], list[StackTemplate]] = synthesize,
    estimator: Estimator | None = None,
) -> Review:
    """Synthesize ``profiles`` (default: every profile of the working tree) at ``base_ref`` (in a
    temporary git worktree that shares the working tree's node_modules) and in the working
    tree, and compare them. A profile that BASE does not have is reviewed as all new."""
    commit = _git("rev-parse", "--verify", f"{base_ref}^{{commit}}", cwd=repo)
    selected = list(profiles) if profiles else profiles_of(repo)
    review = Review(base=f"{base_ref} ({commit[:12]})", head="working tree")
    with tempfile.TemporaryDirectory(prefix="mwaa-review-") as scratch:
        worktree = Path(scratch) / "base"
        _git("worktree", "add", "--detach", "--quiet", str(worktree), commit, cwd=repo)
        try:
            if (repo / "node_modules").is_dir():
                (worktree / "node_modules").symlink_to(repo / "node_modules", target_is_directory=True)
            base_profiles = set(profiles_of(worktree))
            # Base and head synthesize side by side: most of a synth is waiting for jsii.
            with ThreadPoolExecutor(max_workers=2) as pool:
                for profile in selected:
                    base = (
                        pool.submit(synth, worktree, profile, Path(scratch) / f"base-{profile}")
                        if profile in base_profiles
                        else None
                    )
                    head = pool.submit(synth, repo, profile, Path(scratch) / f"head-{profile}")
                    review.profiles.append(
                        review_profile(
                            profile, base.result() if base else [], head.result(), estimator=estimator
                        )
                    )
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=repo,
                capture_output=True,
                check=False,
            )
    return review


def default_estimator() -> Estimator:
    """The cost estimate of ``mwaa_ops.cost``, computed from the templates themselves, so that
    the base's assembly is priced the same way whatever code produced it."""
    from mwaa_ops.cost import estimate_templates

    return estimate_templates


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mwaa_ops.review",
        description="Offline change review of the synthesized stacks between a git ref and the working "
        "tree: resources, IAM statements, security-group rules, MWAA environment verdicts, cost. "
        "Needs no AWS credentials.",
        epilog="Exit codes: 0 done; 1 a verdict reached --fail-on; 2 the review failed "
        "(bad ref, failed synth). Profiles are cdk.json profiles, not AWS named profiles.",
    )
    parser.add_argument("--base", required=True, help="git ref to compare against, e.g. origin/main")
    parser.add_argument("--profile", default="", help="comma-separated cdk.json profiles (default: all)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument(
        "--json", action="store_const", const="json", dest="format", help="same as --format json"
    )
    parser.add_argument(
        "--fail-on",
        choices=("replacement", "update"),
        help="exit 1 when an environment verdict reaches this level (a removed environment counts "
        "as a replacement)",
    )
    parser.add_argument(
        "--output", type=Path, help="write the report to this file instead of standard output"
    )
    args = parser.parse_args(argv)
    profiles = [p.strip() for p in args.profile.split(",") if p.strip()]
    try:
        review = make_review(Path.cwd(), args.base, profiles, estimator=default_estimator())
    except ReviewError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = to_json(review) if args.format == "json" else to_markdown(review)
    if args.output:
        args.output.write_text(report)
    else:
        sys.stdout.write(report)
    if review.reaches(args.fail_on):
        print(
            f"review: an environment verdict reaches --fail-on {args.fail_on} ({review.worst})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
