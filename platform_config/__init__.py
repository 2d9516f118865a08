"""Deployment profiles: the user's configuration, typed and validated before synthesis."""

from platform_config.profile import (
    DEFAULT_PROFILE,
    ArtifactSettings,
    NetworkSettings,
    Profile,
    ProfileError,
    ProfilesError,
    load_profile,
    load_profiles,
    read_cdk_profiles,
)

__all__ = [
    "DEFAULT_PROFILE",
    "ArtifactSettings",
    "NetworkSettings",
    "Profile",
    "ProfileError",
    "ProfilesError",
    "load_profile",
    "load_profiles",
    "read_cdk_profiles",
]
