"""The stacks of one profile: the platform, then the stack of each add-on the profile enables.
Used by ``app.py`` and by anything else that deploys profiles (a pipeline stage)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from mwaa_constructs import ArtifactError
from mwaa_constructs.dag_files import compile_dag_files
from platform_config import Profile
from stacks.addons import Addon, PlatformOutputs, check_addons
from stacks.backup import add_backup
from stacks.layout import ROOT, artifact_sources
from stacks.platform_stack import MwaaPlatformStack


@dataclass(frozen=True)
class ProfileStacks:
    """What :func:`build_profile_stacks` created for one profile."""

    profile: Profile
    platform: MwaaPlatformStack
    #: add-on name -> its stack, for each add-on the profile enables that builds one.
    addons: Mapping[str, cdk.Stack] = field(default_factory=dict)
    #: the stack of backup.replica_region (stacks/backup.py), when the profile replicates.
    replica: cdk.Stack | None = None

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [*([self.replica] if self.replica else []), self.platform, *self.addons.values()]


def build_profile_stacks(scope: Construct, profile: Profile, *, root: Path = ROOT) -> ProfileStacks:
    """Create the profile's stacks in ``scope`` (an app or a stage), each with its stack name as
    construct id (``mwaa-dev-platform``), so the CLI, ``cdk.out/`` and CloudFormation use one
    name. Raises :class:`ArtifactError` for artifacts MWAA would reject and
    :class:`~platform_config.ProfileError` for settings an enabled add-on refuses."""
    addons = check_addons(profile)
    # Neither set: an environment-agnostic synth that deploys to the credentials' account.
    env = (
        cdk.Environment(account=profile.account, region=profile.region)
        if profile.account or profile.region
        else None
    )
    keep = _check_dag_files(profile, root, addons)
    platform = MwaaPlatformStack(
        scope,
        profile.platform_stack_name,
        stack_name=profile.platform_stack_name,
        description=f"Amazon MWAA environment {profile.environment_name} (profile {profile.name})",
        env=env,
        profile=profile,
        sources=artifact_sources(profile, root, keep_in_dag_folder=keep),
        root=root,
    )
    backup = add_backup(scope, platform, profile) if profile.backup.enabled else None
    stacks: dict[str, cdk.Stack] = {}
    for addon in addons:
        # Only a profile with a classic environment enables add-ons (the profile model checks it).
        stack = addon.build(scope, profile, PlatformOutputs.of(platform, env))
        if stack is not None:
            stacks[addon.name] = stack
    return ProfileStacks(
        profile=profile, platform=platform, addons=stacks, replica=backup.replica if backup else None
    )


def _check_dag_files(profile: Profile, root: Path, addons: Sequence[Addon]) -> tuple[str, ...]:
    """Check every Python file the profile deploys compiles (one that does not would reach the
    environment as an import error, found only after the deployment), and that no add-on's DAG
    folder is also a folder of the profile's own DAGs. Returns the keys under the DAG prefix the
    platform's DAG deployment must leave to the add-ons (``"<folder>/*"``)."""
    if not profile.classic_environment:
        return ()  # no environment: no DAG folder is deployed
    uncompiled = compile_dag_files(root / profile.artifacts.dags, shown_as=profile.artifacts.dags)
    keep: list[str] = []
    for addon in addons:
        if addon.dag_folder is None:
            continue
        if addon.dag_source is not None:
            shown = addon.dag_source.relative_to(addon.manifest.folder.parent).as_posix()
            uncompiled += compile_dag_files(addon.dag_source, shown_as=shown)
        if (root / profile.artifacts.dags / addon.dag_folder).exists():
            setting = addon.manifest.enabled_by
            raise ArtifactError(
                f"profile '{profile.name}': artifacts.dags '{profile.artifacts.dags}' has a "
                f"'{addon.dag_folder}' folder, which the add-on '{addon.name}' ({setting}) deploys into "
                f"the same DAG folder; rename it or set {setting} to false"
            )
        keep.append(f"{addon.dag_folder}/*")
    if uncompiled:
        raise ArtifactError(
            f"profile '{profile.name}': {len(uncompiled)} DAG file(s) do not compile, and MWAA could "
            "not import them; fix them before deploying:\n" + "\n".join(f"  {line}" for line in uncompiled)
        )
    return tuple(keep)
