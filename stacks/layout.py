"""Where a profile's Airflow artifacts live in the repository, and the synth summary."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import aws_cdk as cdk

from mwaa_rules.cost import estimate_profile, summary_line
from platform_config import Profile
from stacks.platform_stack import ArtifactSources, MwaaPlatformStack

ROOT = Path(__file__).resolve().parent.parent


def artifact_sources(
    profile: Profile, root: Path = ROOT, *, keep_in_dag_folder: tuple[str, ...] = ()
) -> ArtifactSources:
    """The profile's ``artifacts`` setting as paths under ``root`` (validated by the profile)."""
    settings = profile.artifacts

    def optional(relative: str | None) -> Path | None:
        return root / relative if relative is not None else None

    return ArtifactSources(
        dags_dir=root / settings.dags,
        plugins_dir=optional(settings.plugins),
        requirements_file=optional(settings.requirements),
        startup_script=optional(settings.startup_script),
        keep_in_dag_folder=keep_in_dag_folder,
    )


def print_summary(stack: MwaaPlatformStack, stacks: list[cdk.Stack], file: TextIO) -> None:
    """What ``make synth`` prints for one profile: its stacks, the environment and each
    artifact with its content hash."""
    p = stack.profile
    print(f"profile {p.name}: stacks {', '.join(s.stack_name for s in stacks)}", file=file)
    for workflow in stack.workflows.workflows:
        print(f"  serverless workflow {workflow.workflow_name}: {workflow.definition.path.name}", file=file)
    if stack.artifacts is None:  # classic_environment false: no environment, no artifacts
        print(
            f"  no MWAA environment (classic_environment false)\n  {summary_line(estimate_profile(p))}",
            file=file,
        )
        return
    print(
        f"  environment {p.environment_name}: Airflow {p.airflow_version} (Python {p.python_version}), "
        f"{p.environment_class}, workers {p.min_workers}-{p.max_workers}, schedulers {p.schedulers}",
        file=file,
    )
    print(
        f"  DAG files from {p.artifacts.dags}/ ({len(stack.artifacts.dag_files)}): "
        f"{', '.join(stack.artifacts.dag_files)}",
        file=file,
    )
    for name, summary in stack.artifacts.summaries.items():
        print(f"  {name:<14} s3://<dag bucket>/{summary.key}  sha256 {summary.sha256[:16]}", file=file)
    for requirement in stack.artifacts.resolved_requirements:
        print(
            f"  requirement    {requirement.requested}: installs {requirement.name}=={requirement.installs}",
            file=file,
        )
    print(f"  {summary_line(estimate_profile(p))}", file=file)
    # Printed after a successful synth: every pack ran, and found nothing unacknowledged.
    packs = ", ".join(["AwsSolutions", *p.compliance])
    print(f"  cdk-nag packs: {packs} (no unacknowledged finding)", file=file)
