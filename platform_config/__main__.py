"""``python -m platform_config [cdk.json]``: check that cdk.json parses and holds profiles.

The CDK CLI reads cdk.json before the app runs and reports a syntax error without its line;
``make synth`` runs this first, so that the message points at the line and column."""

from __future__ import annotations

import sys
from pathlib import Path

from platform_config.profile import ProfileError, read_cdk_profiles


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "cdk.json")
    try:
        read_cdk_profiles(path)
    except ProfileError as error:
        print(f"error: {error.problems[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
