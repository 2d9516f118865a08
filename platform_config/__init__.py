"""Deployment profiles: the user's configuration, typed and validated before synthesis."""

from platform_config.addons import AddonError, AddonManifest
from platform_config.profile import (
    DEFAULT_PROFILE,
    ArtifactSettings,
    NetworkSettings,
    Profile,
    ProfileCheck,
    ProfileError,
    ProfilesError,
    WebserverAccessSettings,
    addon_manifests,
    load_profile,
    load_profiles,
    read_cdk_profiles,
    stack_name_base,
    synth_profiles,
)

__all__ = [
    "DEFAULT_PROFILE",
    "AddonError",
    "AddonManifest",
    "ArtifactSettings",
    "NetworkSettings",
    "Profile",
    "ProfileCheck",
    "ProfileError",
    "ProfilesError",
    "WebserverAccessSettings",
    "addon_manifests",
    "load_profile",
    "load_profiles",
    "read_cdk_profiles",
    "stack_name_base",
    "synth_profiles",
]
