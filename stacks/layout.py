"""Where the repository keeps the Airflow artifacts, and the synth summary."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import aws_cdk as cdk

from stacks.platform_stack import ArtifactSources, MwaaPlatformStack

ROOT = Path(__file__).resolve().parent.parent
DAGS_DIR = ROOT / "dags"
RUNTIME_DIR = ROOT / "runtime"


def artifact_sources(root: Path = ROOT) -> ArtifactSources:
    """The repository layout: ``dags/`` and ``runtime/{plugins,mwaa-requirements.txt,startup.sh}``."""
    runtime = root / "runtime"
    return ArtifactSources(
        dags_dir=root / "dags",
        plugins_dir=runtime / "plugins",
        requirements_file=runtime / "mwaa-requirements.txt",
        startup_script=runtime / "startup.sh",
    )


def print_summary(stack: MwaaPlatformStack, file: TextIO) -> None:
    """What ``make synth`` prints: the environment and each artifact with its content hash."""
    p = stack.profile
    stacks = [child for child in stack.node.scope.node.children if isinstance(child, cdk.Stack)]
    names = ", ".join(f"{s.stack_name} ({s.node.id})" for s in stacks)
    print(f"profile {p.name}: stacks {names}", file=file)
    print(
        f"  environment {p.environment_name}: Airflow {p.airflow_version} (Python {p.python_version}), "
        f"{p.environment_class}, workers {p.min_workers}-{p.max_workers}, schedulers {p.schedulers}",
        file=file,
    )
    print(
        f"  DAG files ({len(stack.artifacts.dag_files)}): {', '.join(stack.artifacts.dag_files)}", file=file
    )
    for name, summary in stack.artifacts.summaries.items():
        print(f"  {name:<14} s3://<dag bucket>/{summary.key}  sha256 {summary.sha256[:16]}", file=file)
