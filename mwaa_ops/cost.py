"""``python -m mwaa_ops.cost`` (``make cost``): the monthly cost estimate of cdk.json profiles.

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
    estimate_profile,
    format_estimate,
    price_footprint,
    quick_start_footprint,
)
from platform_config import ProfileError, load_profile, read_cdk_profiles


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
    parser.add_argument("--json", action="store_true", help="print a JSON list of estimates")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: the process's arguments); returns its exit status."""
    args = _parser().parse_args(argv)
    try:
        profiles = read_cdk_profiles(args.cdk_json)
        names = [n.strip() for each in args.profile or [] for n in each.split(",") if n.strip()]
        estimates = [
            estimate_profile(load_profile(profiles, n), region=args.region) for n in names or profiles
        ]
    except ProfileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2  # a configuration error, as in mwaa_ops.errors.ExitCode.USAGE
    if args.quick_start:
        estimates.append(
            price_footprint(
                quick_start_footprint(), region=args.region or DEFAULT_REGION, name="MWAA quick start"
            )
        )
    if args.json:
        print(json.dumps([e.to_dict() for e in estimates], indent=2))
    else:
        print("\n\n".join(format_estimate(e) for e in estimates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
