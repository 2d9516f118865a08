"""``python -m mwaa_ops.cost`` (``make cost``): the monthly cost estimate of cdk.json profiles, and
for a profile with MWAA Serverless workflows (or with ``--workflow``), its classic environment's
month next to those workflows' month on MWAA Serverless, with the break-even point.

A command line over :mod:`mwaa_rules.cost`, which holds the calculation, the price tables and
the output formats; this module only reads the options and ``cdk.json``. Importing it does not
load aws-cdk-lib.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from mwaa_rules.cost import (
    DEFAULT_REGION,
    Comparison,
    WorkflowUsage,
    compare_serverless,
    environment_footprint,
    estimate_profile,
    format_comparison,
    format_estimate,
    price_footprint,
    quick_start_footprint,
)
from mwaa_rules.serverless import DefinitionError, load_definition
from platform_config import Profile, ProfileError, load_profile, read_cdk_profiles


def _not_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a number") from None
    if value < 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"got {text!r}; expected 0 or more")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mwaa_ops.cost",
        description=(
            "Monthly cost estimate of cdk.json profiles before deploy: what accrues by the hour or "
            "the month (environment, workers, NAT gateways, endpoints, keys, secrets, alarms), "
            "idle and at maximum scale. Reads only cdk.json and the price tables; no AWS call."
        ),
        epilog="Exit status (as every mwaa-ops command): 0 estimates printed (also when a region has "
        "no price table); 2 a wrong option, an invalid profile or cdk.json.",
    )
    parser.add_argument(
        "--profile",
        action="append",
        metavar="NAME[,NAME...]",
        help="a profile of cdk.json (not an AWS named profile); repeat or separate with commas. "
        "Default: every profile in cdk.json",
    )
    parser.add_argument(
        "--region",
        help="price in this region instead of the profile's own, e.g. the nearest priced region "
        "that an estimate for a region without a price table names (its prices, not the profile's)",
    )
    parser.add_argument("--cdk-json", type=Path, default=Path("cdk.json"), help="default: ./cdk.json")
    parser.add_argument(
        "--quick-start",
        action="store_true",
        help="add the MWAA quick-start setup (mw1.small, 1 worker, 2 NAT gateways) for comparison",
    )
    parser.add_argument(
        "--workflow",
        action="append",
        type=Path,
        default=[],
        metavar="DEFINITION",
        help="an MWAA Serverless workflow definition (YAML) to compare with each profile's classic "
        "environment, besides the profile's own serverless.workflows; repeatable",
    )
    parser.add_argument(
        "--workflow-code",
        type=Path,
        metavar="FOLDER",
        help="the code package folder of the --workflow definitions (their PythonOperator callables)",
    )
    parser.add_argument(
        "--runs-per-month",
        type=_not_negative,
        metavar="N",
        help="runs a month of every workflow compared (default: each one's schedule)",
    )
    parser.add_argument(
        "--task-seconds",
        type=_not_negative,
        metavar="S",
        help="how long every task of the workflows compared runs (default: each task's "
        "execution_timeout, an upper bound)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of estimates (with 'serverless_comparison' where workflows are compared)",
    )
    return parser


def _comparison(profile: Profile, args: argparse.Namespace) -> Comparison | None:
    """The profile's workflows and ``--workflow`` definitions on MWAA Serverless against its
    classic environment; None when there are none. Raises DefinitionError."""
    root = args.cdk_json.resolve().parent
    code = root / profile.serverless.code if profile.serverless.code is not None else None
    definitions = [load_definition(path, code_package=code) for path in profile.serverless.definitions(root)]
    definitions += [load_definition(path, code_package=args.workflow_code) for path in args.workflow]
    if not definitions:
        return None
    usages = [
        WorkflowUsage.of(d, runs_per_month=args.runs_per_month, task_seconds=args.task_seconds)
        for d in definitions
    ]
    return compare_serverless(
        environment_footprint(profile),
        usages,
        region=args.region or profile.region or DEFAULT_REGION,
        name=f"profile {profile.name}",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: the process's arguments); returns its exit status."""
    args = _parser().parse_args(argv)
    try:
        profiles = read_cdk_profiles(args.cdk_json)
        names = [n.strip() for each in args.profile or [] for n in each.split(",") if n.strip()]
        loaded = [load_profile(profiles, n) for n in names or profiles]
        estimates = [estimate_profile(p, region=args.region) for p in loaded]
        comparisons = [_comparison(p, args) for p in loaded]
    except (ProfileError, DefinitionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2  # a configuration error, as in mwaa_ops.errors.ExitCode.USAGE
    except OSError as error:
        print(f"error: {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    if args.quick_start:
        estimates.append(
            price_footprint(
                quick_start_footprint(), region=args.region or DEFAULT_REGION, name="MWAA quick start"
            )
        )
    if args.json:
        documents = [e.to_dict() for e in estimates]
        for document, comparison in zip(documents, comparisons, strict=False):
            if comparison is not None:
                document["serverless_comparison"] = comparison.to_dict()
        print(json.dumps(documents, indent=2))
    else:
        blocks = [format_estimate(e) for e in estimates]
        for index, comparison in enumerate(comparisons):
            if comparison is not None:
                blocks[index] += "\n\n" + format_comparison(comparison)
        print("\n\n".join(blocks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
