"""Template differences from the AWS CDK's own diff engine, ``@aws-cdk/cloudformation-diff``.

The engine (the one ``cdk diff`` runs, pinned in package.json) is called through
``scripts/cfn_diff.cjs`` in one Node process per call, with every pair of templates of the call.
It decides what a change does to each resource (the impact: update, replacement, possible
replacement, destruction), propagates a replacement to what references the replaced resource,
and lists the IAM statements, managed-policy attachments and security-group rules added or
removed. The script adds what an MWAA environment needs beyond that: references whose value
changes on deploy although the template text does not (an attribute of a custom resource whose
input changed; any reference to a replaced resource), with the impact the engine gives them.

This module turns the script's JSON into typed records and masks secret values
(:mod:`tools.review.masking`) before anything else sees them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tools.review.masking import mask
from tools.review.model import ReviewError, Template

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cfn_diff.cjs"

# The engine's ResourceImpact values.
REPLACING = frozenset({"WILL_REPLACE", "MAY_REPLACE"})
KeyPath = tuple[str | int, ...]


def where(path: KeyPath) -> str:
    """``("NetworkConfiguration", "SubnetIds", 1)`` -> ``NetworkConfiguration.SubnetIds[1]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class Change:
    """One leaf that differs: ``path`` from the property (or resource attribute) name down;
    ``old``/``new`` its values as text, masked, None on the side that lacks it; ``impact`` the
    engine's impact of the top-level property on the resource."""

    section: str  # "Properties", or a resource attribute: DependsOn, DeletionPolicy, ...
    path: KeyPath
    old: str | None
    new: str | None
    impact: str

    @property
    def where(self) -> str:
        return where(self.path)

    @property
    def text(self) -> str:
        """``MaxWorkers: 5 → 8``; an absent side reads ``unset``."""
        return f"{self.where}: {_or_unset(self.old)} → {_or_unset(self.new)}"


@dataclass(frozen=True)
class DeployTimeChange:
    """A reference at ``path`` whose value changes on deploy: ``targets`` are the resources it
    reads, replaced or (a custom resource) updated."""

    path: KeyPath
    targets: tuple[str, ...]
    impact: str

    @property
    def where(self) -> str:
        return where(self.path)


@dataclass(frozen=True)
class ResourceDiff:
    logical_id: str
    old_type: str | None
    new_type: str | None
    impact: str
    changes: tuple[Change, ...] = ()
    deploy_time: tuple[DeployTimeChange, ...] = ()

    @property
    def type(self) -> str:
        return self.new_type or self.old_type or "?"

    @property
    def change(self) -> Literal["added", "removed", "modified"]:
        return "added" if self.old_type is None else "removed" if self.new_type is None else "modified"

    @property
    def replaced(self) -> bool:
        return self.impact in REPLACING

    @property
    def property_changes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.section == "Properties")


@dataclass(frozen=True)
class OutputChange:
    name: str
    path: KeyPath
    old: str | None
    new: str | None

    @property
    def text(self) -> str:
        return f"{where((self.name, *self.path))}: {_or_unset(self.old)} → {_or_unset(self.new)}"


@dataclass(frozen=True)
class StatementChange:
    """An IAM statement added or removed, as the engine reads it: identity policies (the
    principal is the role, user or group), resource policies (bucket, key, topic, queue, role
    trust), Lambda permissions. ``negated`` names the Not* elements the statement uses."""

    change: Literal["added", "removed"]
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[str, ...]
    condition: str = ""
    negated: tuple[str, ...] = ()
    sid: str | None = None


@dataclass(frozen=True)
class RuleChange:
    """A security-group rule added or removed (inline on a group, or a rule resource)."""

    change: Literal["added", "removed"]
    direction: Literal["ingress", "egress"]
    group: str
    protocol: str  # as the engine describes it: "TCP 443", "Everything", "All ICMP"
    peer: str


@dataclass(frozen=True)
class PolicyAttachmentChange:
    """A managed policy attached to or detached from a role, user or group."""

    change: Literal["added", "removed"]
    identity: str
    policy: str


@dataclass(frozen=True)
class StackDiff:
    resources: tuple[ResourceDiff, ...] = ()
    outputs: tuple[OutputChange, ...] = ()
    statements: tuple[StatementChange, ...] = ()
    rules: tuple[RuleChange, ...] = ()
    managed_policies: tuple[PolicyAttachmentChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.resources or self.outputs or self.statements or self.rules or self.managed_policies)

    def resource(self, logical_id: str) -> ResourceDiff | None:
        return next((r for r in self.resources if r.logical_id == logical_id), None)


def compare(pairs: Sequence[tuple[Template | None, Template | None]]) -> list[StackDiff]:
    """The differences of each ``(base, head)`` pair (None: the side lacks the stack), in order."""
    if not pairs:
        return []
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "@aws-cdk" / "cloudformation-diff").is_dir():
        raise ReviewError(
            "the CDK diff engine is not installed: run `npm ci` (make review does) so that "
            "node_modules/@aws-cdk/cloudformation-diff exists, with node on PATH"
        )
    payload = json.dumps([{"old": old, "new": new} for old, new in pairs])
    result = subprocess.run(
        [node, str(SCRIPT)], cwd=ROOT, input=payload, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise ReviewError(f"the CDK diff engine failed (scripts/cfn_diff.cjs):\n{tail}")
    return [_stack_diff(entry) for entry in json.loads(result.stdout)]


# --- from the script's JSON ---------------------------------------------------------------------


def _or_unset(value: str | None) -> str:
    return "unset" if value is None else value


def _text(path: KeyPath, entry: Mapping[str, Any], side: str) -> str | None:
    if side not in entry:
        return None
    value = entry[side]
    return mask(path, value if isinstance(value, str) else json.dumps(value))


def _path(entry: Mapping[str, Any], first: str) -> KeyPath:
    return (first, *(part for part in entry.get("path", ())))


def _resource(entry: Mapping[str, Any]) -> ResourceDiff:
    changes = []
    for change in entry["changes"]:
        path = _path(change, change["property"])
        changes.append(
            Change(
                section=change["section"],
                path=path,
                old=_text(path, change, "old"),
                new=_text(path, change, "new"),
                impact=change["impact"],
            )
        )
    deploy_time = tuple(
        DeployTimeChange(_path(site, site["property"]), tuple(site["targets"]), site["impact"])
        for site in entry["deployTime"]
    )
    return ResourceDiff(
        logical_id=entry["logicalId"],
        old_type=entry["oldType"],
        new_type=entry["newType"],
        impact=entry["impact"],
        changes=tuple(changes),
        deploy_time=deploy_time,
    )


def _statement(change: Literal["added", "removed"], entry: Mapping[str, Any]) -> StatementChange:
    if "unparsed" in entry:  # a statement list that is an intrinsic function as a whole
        return StatementChange(change, "?", (str(entry["unparsed"]),), (), ())
    negated = tuple(
        name
        for name, key in (
            ("NotAction", "actions"),
            ("NotResource", "resources"),
            ("NotPrincipal", "principals"),
        )
        if entry[key]["not"]
    )
    condition = entry.get("condition")
    return StatementChange(
        change=change,
        effect=str(entry["effect"]),
        actions=tuple(entry["actions"]["values"]),
        resources=tuple(entry["resources"]["values"]),
        principals=tuple(entry["principals"]["values"]),
        condition="" if condition is None else json.dumps(condition, sort_keys=True, separators=(",", ":")),
        negated=negated,
        sid=entry.get("sid"),
    )


def _rule(
    change: Literal["added", "removed"], direction: Literal["ingress", "egress"], entry: Any
) -> RuleChange:
    return RuleChange(change, direction, str(entry["group"]), str(entry["protocol"]), str(entry["peer"]))


def _stack_diff(entry: Mapping[str, Any]) -> StackDiff:
    iam, groups = entry["iam"], entry["securityGroups"]
    outputs = []
    for output in entry["outputs"]:
        path = tuple(output.get("path", ()))
        masked_path = (output["name"], *path)
        outputs.append(
            OutputChange(
                output["name"], path, _text(masked_path, output, "old"), _text(masked_path, output, "new")
            )
        )
    return StackDiff(
        resources=tuple(_resource(r) for r in entry["resources"]),
        outputs=tuple(outputs),
        statements=tuple(
            [_statement("removed", s) for s in iam["statementRemovals"]]
            + [_statement("added", s) for s in iam["statementAdditions"]]
        ),
        rules=tuple(
            [_rule("removed", "ingress", r) for r in groups["ingressRuleRemovals"]]
            + [_rule("removed", "egress", r) for r in groups["egressRuleRemovals"]]
            + [_rule("added", "ingress", r) for r in groups["ingressRuleAdditions"]]
            + [_rule("added", "egress", r) for r in groups["egressRuleAdditions"]]
        ),
        managed_policies=tuple(
            [
                PolicyAttachmentChange("removed", p["identity"], p["policy"])
                for p in iam["managedPolicyRemovals"]
            ]
            + [
                PolicyAttachmentChange("added", p["identity"], p["policy"])
                for p in iam["managedPolicyAdditions"]
            ]
        ),
    )
