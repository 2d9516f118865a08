"""The permission contract (``permissions/*.toml`` and an add-on's ``permissions.toml``): read it,
fill it in for one deployment, evaluate it, and say what is missing.

Each ``[[calls]]`` entry is a call an actor must be able to make; each ``[[never]]`` one it must
not. Entries are derived from the code or document that makes the call (their ``source``), never
from the policies under test; resources are written with placeholders (``${dag_bucket}``) that
are filled from the profile and the template's names, not from its policies.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_config.profile import addon_manifests
from tools.permissions import actors
from tools.permissions.simulate import Decision, Request, simulate
from tools.permissions.templates import ResolvedStack

ROOT = Path(__file__).resolve().parents[2]
# The platform's contract, then each add-on's (its manifest's ``contract``).
CONTRACT_FILES = (
    *sorted((ROOT / "permissions").glob("*.toml")),
    *(m.contract for m in addon_manifests(ROOT) if m.contract is not None),
)
_PLACEHOLDER = re.compile(r"\$\{([a-z0-9_]+)\}")
_ENTRY_KEYS = {"actor", "action", "resource", "context", "when", "source", "why"}


class ContractError(ValueError):
    """The contract itself is malformed: an unknown actor, condition or placeholder, a call
    without its source."""


@dataclass(frozen=True, kw_only=True)
class Actor:
    id: str
    description: str
    # role:<finder> (a role of the templates), external:<role ARN> (an existing role the templates
    # attach policies to), service:<principal>, policy:<file under policies/>
    principal: str
    # "vpc": the actor calls from the environment's subnets, so a VPC endpoint of the service, where
    # the network has one, carries the call and its policy applies; in an isolated network a
    # service without an endpoint cannot be reached at all.
    network: str = ""


@dataclass(frozen=True, kw_only=True)
class Entry:
    kind: str  # "calls" or "never"
    actor: str
    action: str
    resource: str
    why: str
    source: str = ""
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    when: tuple[str, ...] = ()
    file: str = ""


@dataclass(frozen=True, kw_only=True)
class Contract:
    actors: Mapping[str, Actor]
    entries: tuple[Entry, ...]


def load_contract(files: Iterable[Path] = CONTRACT_FILES, *, conditions: Iterable[str] = ()) -> Contract:
    """Read and check every contract file. ``conditions``: the names ``when`` may use."""
    known_conditions = set(conditions)
    found_actors: dict[str, Actor] = {}
    entries: list[Entry] = []
    problems: list[str] = []
    for path in files:
        data = tomllib.loads(path.read_text())
        where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        for actor_id, spec in data.get("actors", {}).items():
            if actor_id in found_actors:
                problems.append(f"{where}: actor '{actor_id}' is declared twice")
            found_actors[actor_id] = Actor(
                id=actor_id,
                description=spec["description"],
                principal=spec["principal"],
                network=spec.get("network", ""),
            )
        for kind in ("calls", "never"):
            for index, raw in enumerate(data.get(kind, [])):
                label = f"{where} [[{kind}]] #{index + 1} ({raw.get('action', '?')})"
                unknown = set(raw) - _ENTRY_KEYS
                if unknown:
                    problems.append(f"{label}: unknown keys {sorted(unknown)}")
                if kind == "calls" and not raw.get("source"):
                    problems.append(f"{label}: a call needs its source (the code or document that makes it)")
                if not raw.get("why"):
                    problems.append(f"{label}: needs a 'why'")
                when = tuple(raw.get("when", ()))
                bad = [c for c in when if c.removeprefix("not ") not in known_conditions]
                if known_conditions and bad:
                    problems.append(f"{label}: unknown conditions {bad}; known: {sorted(known_conditions)}")
                entries.append(
                    Entry(
                        kind=kind,
                        actor=raw.get("actor", ""),
                        action=raw.get("action", ""),
                        resource=raw.get("resource", ""),
                        why=raw.get("why", ""),
                        source=raw.get("source", ""),
                        context=raw.get("context", {}),
                        when=when,
                        file=where,
                    )
                )
    for entry in entries:
        if entry.actor not in found_actors:
            problems.append(f"{entry.file}: '{entry.action}' names unknown actor '{entry.actor}'")
    if problems:
        raise ContractError("permission contract:\n  " + "\n  ".join(problems))
    return Contract(actors=found_actors, entries=tuple(entries))


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """What one contract evaluation looks at: a profile's resolved stacks (plus the account's
    shared stacks, e.g. the GitHub deploy access), its placeholders and its conditions."""

    label: str
    stacks: Mapping[str, ResolvedStack]
    placeholders: Mapping[str, str]
    conditions: Mapping[str, bool]
    account: str
    # policy:<file> principals: file name -> policy document (generated policies under policies/).
    policy_files: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    entry: Entry
    request: Request
    decision: Decision
    principal_label: str

    @property
    def ok(self) -> bool:
        if self.decision.result == "Error":
            return False
        return self.decision.allowed if self.entry.kind == "calls" else not self.decision.allowed

    def explain(self) -> str:
        """One paragraph for a failed entry: actor, action, resource, what the evaluator said and
        the statement that is missing (or the one that must go)."""
        e, r, d = self.entry, self.request, self.decision
        head = f"{e.actor} ({self.principal_label}) {e.action} on {r.resource}"
        if d.result == "Error":
            return f"{head}: the evaluator refused the request: {d.errors} [{e.file}]"
        if e.kind == "never":
            return f"{head}: ALLOWED, but the contract says never ({e.why}) [{e.file}]"
        missing = {"Effect": "Allow", "Action": e.action, "Resource": r.resource}
        if r.endpoint_policy is _UNREACHABLE:
            where = f"the network is isolated and has no VPC endpoint for {e.action.split(':')[0]}"
        elif d.deny_statements:
            where = f"explicitly denied by {', '.join(d.deny_statements)}"
        elif r.endpoint_policy is not None and d.identity == "Allowed" and d.resource != "ExplicitlyDenied":
            where = f"the VPC endpoint policy for {e.action.split(':')[0]} does not allow it"
        elif d.identity != "Allowed" and not r.principal.endswith(".amazonaws.com"):
            where = f"no identity policy of {self.principal_label} allows it; missing statement {missing}"
        else:
            policy = "key policy" if e.action.startswith("kms:") else "resource policy"
            principal = (
                {"Service": r.principal} if r.principal.endswith(".amazonaws.com") else {"AWS": r.principal}
            )
            statement = dict(missing, Principal=principal)
            where = f"the {policy} of {r.resource} does not allow it; missing statement {statement}"
        context = f" with context {dict(r.context)}" if r.context else ""
        return f"{head}{context}: {d.result}: {where}. Needed because: {e.why} [{e.file}, source {e.source}]"


def _fill(text: str, placeholders: Mapping[str, str], label: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in placeholders:
            raise ContractError(f"{label}: unknown placeholder ${{{name}}}; known: {sorted(placeholders)}")
        return placeholders[name]

    return _PLACEHOLDER.sub(one, text)


def applies(entry: Entry, conditions: Mapping[str, bool]) -> bool:
    for condition in entry.when:
        negated = condition.startswith("not ")
        if conditions[condition.removeprefix("not ")] == negated:
            return False
    return True


def _principal(actor: Actor, deployment: Deployment) -> tuple[str, list[Mapping[str, Any]], str]:
    """The principal ARN (or service), its identity policies, and a label for messages."""
    kind, _, name = actor.principal.partition(":")
    if kind == "service":
        service = _fill(name, deployment.placeholders, actor.id)
        return service, [], service
    if kind == "role":
        if name not in actors.ROLE_FINDERS:
            known = sorted(actors.ROLE_FINDERS)
            raise ContractError(f"actor {actor.id}: no role finder '{name}'; known: {known}")
        arn = actors.ROLE_FINDERS[name](deployment.stacks, deployment.placeholders)
        role = actors.role_by_arn(deployment.stacks, arn)
        return role.arn, actors.identity_policies(deployment.stacks, role), f"role {role.logical_id}"
    if kind == "external":
        arn = _fill(name, deployment.placeholders, actor.id)
        # An existing role has no stack; identity_policies(external=True) never reads it.
        role = actors.FoundRole(None, arn, arn, arn.rsplit("/", 1)[-1])  # type: ignore[arg-type]  # no stack
        return arn, actors.identity_policies(deployment.stacks, role, external=True), f"existing role {arn}"
    if kind == "policy":
        file = _fill(name, deployment.placeholders, actor.id)
        if file not in deployment.policy_files:
            raise ContractError(f"actor {actor.id}: no generated policy {file}")
        arn = f"arn:aws:iam::{deployment.account}:role/{actor.id}"
        return arn, [deployment.policy_files[file]], f"a role with policies/{file}"
    raise ContractError(f"actor {actor.id}: principal '{actor.principal}' is not role:, service: or policy:")


def requests_for(contract: Contract, deployment: Deployment) -> list[tuple[Entry, Request, str]]:
    """The contract's entries that apply to ``deployment``, as evaluator requests."""
    out: list[tuple[Entry, Request, str]] = []
    principals: dict[str, tuple[str, list[Mapping[str, Any]], str]] = {}
    for entry in contract.entries:
        if not applies(entry, deployment.conditions):
            continue
        actor = contract.actors[entry.actor]
        if actor.id not in principals:
            principals[actor.id] = _principal(actor, deployment)
        principal, policies, label = principals[actor.id]
        where = f"{entry.file} {entry.action}"
        resource = _fill(entry.resource, deployment.placeholders, where)
        context: dict[str, str | list[str]] = {"aws:SecureTransport": "true"}
        if not principal.endswith(".amazonaws.com"):
            context["aws:PrincipalArn"] = principal
            context["aws:PrincipalAccount"] = deployment.account
        for key, value in entry.context.items():
            context[key] = (
                [_fill(v, deployment.placeholders, where) for v in value]
                if isinstance(value, list)
                else _fill(value, deployment.placeholders, where)
            )
        resource_account = _account_of(resource) or deployment.account
        endpoint = None
        # A call KMS receives from another service (kms:ViaService) does not leave the VPC.
        if actor.network == "vpc" and "kms:ViaService" not in context:
            endpoint = actors.endpoint_for(deployment.stacks, entry.action)
            if endpoint is None and deployment.conditions.get("isolated"):
                endpoint = _UNREACHABLE
        request = Request(
            principal=principal,
            action=entry.action,
            resource=resource,
            resource_account=resource_account,
            context=context,
            identity_policies=policies,
            resource_policy=actors.resource_policy(deployment.stacks, entry.action, resource),
            endpoint_policy=endpoint,
        )
        out.append((entry, request, label))
    return out


# An isolated network without an endpoint for the service: nothing reaches it.
_UNREACHABLE: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "NoEndpointForThisService",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
        }
    ],
}


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None


def evaluate(contract: Contract, deployments: Sequence[Deployment]) -> dict[str, list[Outcome]]:
    """Every applicable entry of every deployment, evaluated in one batch."""
    batches = {d.label: requests_for(contract, d) for d in deployments}
    flat = [item for items in batches.values() for item in items]
    decisions = iter(simulate([request for _, request, _ in flat]))
    return {
        label: [
            Outcome(entry=entry, request=request, decision=next(decisions), principal_label=principal)
            for entry, request, principal in items
        ]
        for label, items in batches.items()
    }
