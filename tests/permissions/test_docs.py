"""The "What each actor may do" section of docs/security.md and docs/permissions.md are generated
from the contract and current."""

from __future__ import annotations

from tools.permissions import docs
from tools.permissions.contract import load_contract


def test_generated_permission_docs_are_current() -> None:
    assert docs.main(["--check"]) == 0, "run: python -m tools.permissions.docs"


def test_every_actor_and_never_entry_is_in_the_security_page_section() -> None:
    contract = load_contract()
    section = docs.summary_section(contract)
    for actor in contract.actors.values():
        assert f"`{actor.principal}`" in section
    for entry in contract.entries:
        if entry.kind == "never":
            assert f"`{entry.action}` on `{entry.resource}`" in section
