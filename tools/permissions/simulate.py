"""Evaluate IAM requests with ``@cloud-copilot/iam-simulate`` (npm, pinned in package.json).

Why an external evaluator: IAM's rules (explicit deny over allow, resource policies that alone
grant same-account access for most services but not for KMS keys or role trust, condition
operators with ``IfExists`` and set qualifiers, wildcards in ARNs) are exactly what a hand-written
matcher gets subtly wrong; the simulator implements them and explains its decision. It is
AGPL-3.0 licensed, so it stays a development tool run through Node, like the CDK CLI.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "iam_simulate.cjs"


@dataclass(frozen=True, kw_only=True)
class Request:
    """One API call: who makes it, what, on which resource, in which request context, and the
    policies that decide it (identity policies of the principal, the resource's own policy)."""

    principal: str
    action: str
    resource: str
    resource_account: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    identity_policies: Sequence[Mapping[str, Any]] = ()
    resource_policy: Mapping[str, Any] | None = None
    # The policy of the VPC endpoint the call goes through, when it does: it must allow the call
    # too (evaluated as an extra guard layer, like a service control policy).
    endpoint_policy: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "resourceAccount": self.resource_account,
            "context": dict(self.context),
            "identityPolicies": [
                {"name": f"policy{index}", "policy": policy}
                for index, policy in enumerate(self.identity_policies)
            ],
            "resourcePolicy": self.resource_policy,
            "endpointPolicy": self.endpoint_policy,
        }


@dataclass(frozen=True)
class Decision:
    """The evaluator's answer: ``result`` is Allowed, ExplicitlyDenied, ImplicitlyDenied or Error
    (the evaluator refused the input); ``identity``/``resource`` the result of each side;
    ``deny_statements`` the explicit denies that matched (``identity:Sid``, ``resource:Sid``)."""

    result: str
    identity: str | None
    resource: str | None
    deny_statements: tuple[str, ...]
    errors: object = None

    @property
    def allowed(self) -> bool:
        return self.result == "Allowed"


class SimulatorError(RuntimeError):
    """The evaluator could not run (Node or the npm package missing, a crash)."""


def simulate(requests: Sequence[Request]) -> list[Decision]:
    """Evaluate every request in one Node process; decisions in the order of ``requests``."""
    if not requests:
        return []
    payload = json.dumps([request.to_json() for request in requests])
    try:
        done = subprocess.run(
            ["node", str(SCRIPT)],
            input=payload,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            timeout=600,
        )
    except FileNotFoundError as error:
        raise SimulatorError(f"node not found: {error}") from error
    if done.returncode != 0:
        raise SimulatorError(f"{SCRIPT.name} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return [
        Decision(
            result=item["result"],
            identity=item["identity"],
            resource=item["resource"],
            deny_statements=tuple(item["denyStatements"]),
            errors=item["errors"],
        )
        for item in json.loads(done.stdout)
    ]
