#!/usr/bin/env python3
"""`make bench`: wall time of `cdk synth` of the default profile against an empty CDK app.

Both are synthesized the same way (the pinned CLI, `npx cdk synth --quiet`, a fresh output
folder), alternating so that machine noise hits both alike. Prints each run, the medians and the
ratio; exits non-zero when the ratio exceeds the target.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.3


def synth_seconds(app: str | None, outdir: Path) -> float:
    command = ["npx", "--no-install", "cdk", "synth", "--quiet", "-o", str(outdir)]
    if app:
        command += ["--app", app]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    shutil.rmtree(outdir, ignore_errors=True)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="runs of each app (at least 5)")
    args = parser.parse_args()
    runs = max(args.runs, 5)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    empty_app = f"{Path(sys.executable).name} {Path('bench') / 'empty_app.py'}"
    scratch = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    platform: list[float] = []
    empty: list[float] = []
    try:
        synth_seconds(None, scratch / "warm")  # first run warms caches (plugins.zip, pip, node)
        for i in range(runs):
            empty.append(synth_seconds(empty_app, scratch / f"empty-{i}"))
            platform.append(synth_seconds(None, scratch / f"platform-{i}"))
            print(f"run {i + 1}: empty {empty[-1]:.2f} s, platform {platform[-1]:.2f} s", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = statistics.median(platform) / statistics.median(empty)
    print(
        f"median of {runs}: empty app {statistics.median(empty):.2f} s, "
        f"default profile {statistics.median(platform):.2f} s, ratio {ratio:.2f} (target <= {TARGET_RATIO})"
    )
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
