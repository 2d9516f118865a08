"""Stacks: they only wire the constructs of ``mwaa_constructs`` together."""

from stacks.platform_stack import MwaaPlatformStack
from stacks.profile_stacks import ProfileStacks, build_profile_stacks

__all__ = ["MwaaPlatformStack", "ProfileStacks", "build_profile_stacks"]
