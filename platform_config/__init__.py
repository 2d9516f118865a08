"""Deployment profiles: the user's configuration, typed and validated before synthesis."""

from platform_config.profile import (
    DEFAULT_PROFILE,
    NetworkSettings,
    Profile,
    ProfileError,
    load_profile,
    read_cdk_profiles,
)

__all__ = [
    "DEFAULT_PROFILE",
    "NetworkSettings",
    "Profile",
    "ProfileError",
    "load_profile",
    "read_cdk_profiles",
]
