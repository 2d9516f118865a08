"""The permission contract holds on every profile of cdk.json and every variant: each actor can
make every call it must, and none it must never. A failure names the actor, the action, the
resource and the statement that is missing (tools/permissions/contract.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.permissions.contract import applies, evaluate, load_contract
from tools.permissions.deployments import (
    cdk_context,
    conditions_of,
    deployment_of,
    labels,
    profile_settings,
    synthesize_profile,
)


def _conditions(label: str) -> dict[str, bool]:
    from platform_config import load_profile
    from stacks.layout import ROOT

    name, raw = profile_settings(label)
    return conditions_of(load_profile({name: raw}, name, root=ROOT))


@pytest.mark.parametrize("label", labels())
def test_every_actor_can_do_its_job_and_nothing_it_must_not(label: str, tmp_path: Path) -> None:
    synthesized = synthesize_profile(label, tmp_path / "cdk.out")
    contract = load_contract(conditions=conditions_of(synthesized.profile))
    (outcomes,) = evaluate(contract, [deployment_of(label, synthesized)]).values()
    assert outcomes, f"{label}: no contract entry applies"
    failures = [outcome.explain() for outcome in outcomes if not outcome.ok]
    assert not failures, f"{label}: {len(failures)} contract entries do not hold:\n" + "\n\n".join(failures)


def test_every_entry_applies_to_some_profile_or_variant() -> None:
    # An entry whose conditions no evaluated deployment meets is never checked: a dead entry.
    conditions = [_conditions(label) for label in labels()]
    contract = load_contract(conditions=conditions[0])
    dead = [
        f"{e.file}: {e.actor} {e.action} when {list(e.when)}"
        for e in contract.entries
        if not any(applies(e, c) for c in conditions)
    ]
    assert not dead, "entries no profile or variant exercises:\n" + "\n".join(dead)


def test_every_shipped_profile_is_evaluated() -> None:
    assert set(cdk_context()["profiles"]) <= set(labels())
