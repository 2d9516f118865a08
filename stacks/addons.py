"""Add-ons in the CDK app: what an add-on implements, and how the app loads and builds them.

An add-on is a folder with a manifest (``addon.toml``, read by :mod:`platform_config.addons`): its
profile settings, DAG folder, permission contract and cost footprint are data there. Its code is
an :class:`Addon`, named by the manifest's ``entry`` (``"reports.addon:ADDON"``: a class, or any
callable, that takes the manifest and returns the add-on). The app never imports an add-on by
name: :func:`load_addons` imports the entries of the manifests a profile was read with, and
``stacks/profile_stacks.py`` builds the platform, then every add-on the profile enables, on the
platform's outputs (:class:`PlatformOutputs`).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from platform_config import Profile, ProfileError
from platform_config.addons import AddonManifest

if TYPE_CHECKING:
    from stacks.platform_stack import MwaaPlatformStack


@dataclass(frozen=True, kw_only=True)
class PlatformOutputs:
    """What the platform of a profile gives an add-on to build on."""

    #: The platform stack (an add-on's stack depends on it, never the other way round).
    stack: cdk.Stack
    #: The environment the platform's stacks deploy to (None: environment-agnostic).
    env: cdk.Environment | None
    vpc: ec2.IVpc
    #: Every private subnet of the VPC (as many zones as the profile's ``availability_zones``).
    private_subnets: Sequence[ec2.ISubnet]
    #: The environment's security group: a client of an add-on's resources.
    security_group: ec2.ISecurityGroup
    dag_bucket: s3.IBucket
    #: The platform's customer managed key; None with ``encryption`` ``aws_owned``.
    key: kms.IKey | None
    #: The environment's execution role: what the add-on's DAGs run as.
    execution_role: iam.IRole
    removal_policy: cdk.RemovalPolicy

    @classmethod
    def of(cls, platform: MwaaPlatformStack, env: cdk.Environment | None) -> PlatformOutputs:
        """The outputs of a platform stack that has an environment. The profile model refuses
        an add-on on a profile with ``classic_environment`` false, so this never sees one."""
        network, bucket, environment = platform.network, platform.dag_bucket, platform.airflow_environment
        if network is None or bucket is None or environment is None:
            raise ValueError(f"{platform.stack_name} has no MWAA environment for an add-on to build on")
        return cls(
            stack=platform,
            env=env,
            vpc=network.vpc,
            private_subnets=network.private_subnets,
            security_group=network.security_group,
            dag_bucket=bucket.bucket,
            key=platform.key,
            execution_role=environment.role,
            removal_policy=platform.removal_policy,
        )


class Addon:
    """An add-on of the app. Subclasses implement :meth:`build`; the rest reads the manifest.

    - :meth:`validate`: rules across the profile's settings that the add-on needs (the profile
      model already checked each setting's type against the manifest), as problem lines naming
      the setting, the value and what is allowed;
    - :meth:`enabled`: whether a profile deploys the add-on (its ``enabled_by`` setting);
    - :meth:`build`: its stack, on the platform's outputs, or None when it needs none;
    - :attr:`dag_folder` and :attr:`dag_source`: where its DAGs go under the profile's DAG prefix
      and where they come from; the platform's own DAG deployment leaves that folder alone.
    """

    def __init__(self, manifest: AddonManifest) -> None:
        self.manifest = manifest

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def dag_folder(self) -> str | None:
        return self.manifest.dag_folder

    @property
    def dag_source(self) -> Path | None:
        return self.manifest.dag_source

    def settings(self, profile: Profile) -> dict[str, Any]:
        """The add-on's settings in ``profile``, defaults included."""
        return dict(profile.addons[self.name])

    def enabled(self, profile: Profile) -> bool:
        return self.settings(profile)[self.manifest.enabled_by] is True

    def validate(self, profile: Profile) -> list[str]:
        """Problem lines for ``profile`` (only asked of a profile that enables the add-on)."""
        return []

    def stack_name(self, profile: Profile) -> str:
        return profile.addon_stack_name(self.manifest)

    def build(self, scope: Construct, profile: Profile, platform: PlatformOutputs) -> cdk.Stack | None:
        raise NotImplementedError(f"add-on '{self.name}' builds no stack")


def load_addon(manifest: AddonManifest) -> Addon:
    """The add-on of ``manifest``: its ``entry`` imported (the add-on's folder is a package next
    to the others of its repository) and called with the manifest."""
    module_name, _, attribute = manifest.entry.partition(":")
    package = manifest.folder.name  # the manifest's entry lies in the add-on's own package
    parent = str(manifest.folder.parent)
    if importlib.util.find_spec(package) is None and parent not in sys.path:
        sys.path.append(parent)
    spec = importlib.util.find_spec(package)
    locations = [Path(p).resolve() for p in (spec.submodule_search_locations or [])] if spec else []
    if manifest.folder.resolve() not in locations:
        raise ImportError(
            f"add-on '{manifest.name}': package '{package}' is not its folder {manifest.folder} "
            f"(found: {', '.join(map(str, locations)) or 'nothing'})"
        )
    factory = getattr(importlib.import_module(module_name), attribute)
    addon = factory(manifest)
    if not isinstance(addon, Addon):
        raise TypeError(f"{manifest.entry}: expected a stacks.addons.Addon, got {type(addon).__name__}")
    return addon


def load_addons(profile: Profile) -> list[Addon]:
    """The add-ons ``profile`` enables, loaded, in the manifests' order."""
    return [load_addon(manifest) for manifest in profile.enabled_addons]


def addon_problems(profile: Profile) -> list[str]:
    """Every problem the add-ons ``profile`` enables find in it: a
    :data:`platform_config.profile.ProfileCheck`, for ``load_profiles(..., checks=...)``."""
    return [line for addon in load_addons(profile) for line in addon.validate(profile)]


def check_addons(profile: Profile) -> list[Addon]:
    """The add-ons ``profile`` enables; raises :class:`ProfileError` for the problems they find."""
    addons = load_addons(profile)
    problems = [line for addon in addons for line in addon.validate(profile)]
    if problems:
        raise ProfileError(profile.name, problems)
    return addons
