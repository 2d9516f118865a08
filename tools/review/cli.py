"""``python -m tools.review`` (also ``make review`` and ``mwaa-ops review``): the command line.

Synthesizes each cdk.json profile at BASE (in a temporary git worktree) and in the working tree,
compares the stacks with the CDK's diff engine, and prints the report. Needs no AWS credentials.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mwaa_ops.errors import ExitCode
from tools.review import engine
from tools.review.model import Review, ReviewError, StackTemplate
from tools.review.render import to_json, to_markdown
from tools.review.synth import base_worktree, profiles_of, resolve_commit, synthesize
from tools.review.verdicts import Compare, Estimator, review_profile


def make_review(
    repo: Path,
    base_ref: str,
    profiles: Sequence[str] | None,
    *,
    synth: Callable[[Path, str, Path], list[StackTemplate]] = synthesize,
    estimator: Estimator | None = None,
    compare: Compare = engine.compare,
) -> Review:
    """Synthesize ``profiles`` (default: every profile of the working tree's cdk.json and of
    BASE's) at ``base_ref`` and in the working tree, and compare them. A profile that BASE lacks
    is reviewed as new, one that the working tree lacks as removed."""
    if not (repo / "cdk.json").is_file():
        raise ReviewError(f"no cdk.json in {repo}: run the review from the repository's top folder")
    commit = resolve_commit(repo, base_ref)
    head_profiles = profiles_of(repo)
    review = Review(base=f"{base_ref} ({commit[:12]})", head="working tree")
    with base_worktree(repo, commit) as (worktree, scratch):
        base_profiles = profiles_of(worktree)
        known = head_profiles + [p for p in base_profiles if p not in head_profiles]
        selected = list(profiles) if profiles else known
        unknown = [p for p in selected if p not in known]
        if unknown:
            raise ReviewError(
                f"profile {', '.join(unknown)}: not in cdk.json of the working tree or of {base_ref} "
                f"(profiles: {', '.join(known) or 'none'})"
            )
        # Base and head synthesize side by side: most of a synth is waiting for jsii.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for profile in selected:
                base = (
                    pool.submit(synth, worktree, profile, scratch / f"base-{profile}")
                    if profile in base_profiles
                    else None
                )
                head = (
                    pool.submit(synth, repo, profile, scratch / f"head-{profile}")
                    if profile in head_profiles
                    else None
                )
                review.profiles.append(
                    review_profile(
                        profile,
                        base.result() if base else [],
                        head.result() if head else [],
                        estimator=estimator,
                        compare=compare,
                    )
                )
    return review


def default_estimator() -> Estimator:
    """The cost model's estimate from the templates themselves, so that the base's assembly is
    priced the same way whatever code produced it."""
    from mwaa_rules.cost import estimate_templates

    return estimate_templates


def build_parser(prog: str = "python -m tools.review") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Offline change review of the synthesized stacks between a git ref and the working "
        "tree, with the CDK's diff engine: resources with old → new values, IAM statements, "
        "security-group rules, a verdict per MWAA environment, the monthly cost change. Needs no "
        "AWS credentials; run it from the repository's top folder.",
        epilog="Exit codes: 0 done; 1 an environment verdict reached --fail-on; 2 usage or "
        "configuration error, or the review could not be made (unknown ref or profile, failed "
        "synth). --profile names cdk.json profiles, not AWS named profiles.",
    )
    parser.add_argument("--base", required=True, help="git ref to compare against, e.g. origin/main")
    parser.add_argument(
        "--profile",
        default="",
        metavar="NAME[,NAME...]",
        help="cdk.json profiles (not AWS named profiles), comma-separated; default: every profile "
        "of the working tree's and BASE's cdk.json",
    )
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
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m tools.review") -> int:
    args = build_parser(prog).parse_args(argv)
    profiles = [p.strip() for p in args.profile.split(",") if p.strip()]
    try:
        review = make_review(Path.cwd(), args.base, profiles, estimator=default_estimator())
    except ReviewError as error:
        print(f"error: {error}", file=sys.stderr)
        return int(ExitCode.USAGE)
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
        return int(ExitCode.FAILED)
    return int(ExitCode.OK)
