"""Evaluate the permission contract on every profile and variant: ``python -m tools.permissions``
(``[LABEL ...]`` to choose; ``--list`` the labels). Exit 0 when every entry holds, 1 otherwise."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tools.permissions.contract import evaluate, load_contract
from tools.permissions.deployments import conditions_of, deployment_of, labels, synthesize_profile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.permissions", description=__doc__)
    parser.add_argument("labels", nargs="*", help="profiles or variants (default: all)")
    parser.add_argument("--list", action="store_true", help="print the labels and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(labels()))
        return 0
    chosen = args.labels or labels()
    with tempfile.TemporaryDirectory() as tmp:
        deployments = []
        for label in chosen:
            synthesized = synthesize_profile(label, Path(tmp) / label.replace("+", "-"))
            deployments.append(deployment_of(label, synthesized))
        contract = load_contract(conditions=conditions_of(synthesized.profile))
        results = evaluate(contract, deployments)
    failed = 0
    for label, outcomes in results.items():
        bad = [o for o in outcomes if not o.ok]
        failed += len(bad)
        print(f"{label}: {len(outcomes) - len(bad)}/{len(outcomes)} entries hold")
        for outcome in bad:
            print(f"  - {outcome.explain()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
