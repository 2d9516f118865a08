#!/usr/bin/env python3
"""`make bench`: synth wall time, measured with the pinned CDK CLI (`cdk synth --quiet`).

Two measurements, each the median of several runs, alternating the variants so that machine
noise hits them alike:

1. the default profile against an empty CDK app set up the same way (bench/empty_app.py):
   what the platform costs on top of the CDK's own start-up;
2. one synthesis of 1, 2, 4 and 8 profiles (`-c profile=a,b,...`) against one profile: what each
   further profile adds, given that start-up, the plugins.zip and cdk-nag's set-up are shared.
   The extra profiles are generated here as copies of `dev` with their own environment names
   and VPC ranges (in a temporary project whose cdk.json runs this repository's app.py); cdk.json
   itself is not touched.

Prints each run and the medians with their ratios; exits non-zero when a ratio misses its
target (default profile <= 1.3 x the empty app is informative only; 8 profiles < 2 x one).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CDK = ROOT / "node_modules" / ".bin" / "cdk"
PROFILE_COUNTS = (1, 2, 4, 8)
SCALING_TARGET = 2.0


def synth_seconds(project: Path, outdir: Path, *args: str) -> float:
    command = [str(CDK), "synth", "--quiet", "-o", str(outdir), *args]
    start = time.perf_counter()
    subprocess.run(command, cwd=project, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    shutil.rmtree(outdir, ignore_errors=True)
    return elapsed


def fleet_project(scratch: Path, count: int) -> Path:
    """A project folder whose cdk.json runs app.py with ``count`` profiles copied from dev."""
    config = json.loads((ROOT / "cdk.json").read_text())
    dev = config["context"]["profiles"]["dev"]
    profiles = {"dev": dev}
    for index in range(1, count):
        profiles[f"bench{index}"] = {
            **dev,
            "environment_name": f"mwaa-bench{index}",
            "network": {**dev["network"], "vpc_cidr": f"10.{100 + index}.0.0/16"},
        }
    project = scratch / "fleet"
    project.mkdir(exist_ok=True)
    config["app"] = f"{sys.executable} {ROOT / 'app.py'}"
    config["context"]["profiles"] = profiles
    (project / "cdk.json").write_text(json.dumps(config))
    return project


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="runs of each variant (at least 3)")
    args = parser.parse_args()
    runs = max(args.runs, 3)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    scratch = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    empty_app = f"{sys.executable} {ROOT / 'bench' / 'empty_app.py'}"
    try:
        project = fleet_project(scratch, max(PROFILE_COUNTS))
        names = ["dev", *(f"bench{i}" for i in range(1, max(PROFILE_COUNTS)))]
        synth_seconds(project, scratch / "warm")  # warms caches (plugins.zip, pip, node)
        empty: list[float] = []
        default: list[float] = []
        fleet: dict[int, list[float]] = {count: [] for count in PROFILE_COUNTS}
        for i in range(runs):
            empty.append(synth_seconds(ROOT, scratch / f"empty-{i}", "--app", empty_app))
            for count in PROFILE_COUNTS:
                selected = ",".join(names[:count])
                fleet[count].append(
                    synth_seconds(project, scratch / f"fleet-{i}-{count}", "-c", f"profile={selected}")
                )
            default.append(fleet[1][-1])
            shown = ", ".join(f"{count} profile(s) {fleet[count][-1]:.2f} s" for count in PROFILE_COUNTS)
            print(f"run {i + 1}: empty app {empty[-1]:.2f} s, {shown}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    one = median(fleet[1])
    print(f"\nmedian of {runs} runs:")
    print(f"  empty app            {median(empty):6.2f} s")
    for count in PROFILE_COUNTS:
        seconds = median(fleet[count])
        print(f"  {count} profile(s)         {seconds:6.2f} s   {seconds / one:.2f} x one profile")
    print(f"  default profile / empty app: {median(default) / median(empty):.2f}")
    scaling = median(fleet[max(PROFILE_COUNTS)]) / one
    print(f"  {max(PROFILE_COUNTS)} profiles / one: {scaling:.2f} (target < {SCALING_TARGET})")
    return 0 if scaling < SCALING_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
