"""Stacks: they only wire the constructs of ``mwaa_constructs`` together."""

from stacks.platform_stack import MwaaPlatformStack

__all__ = ["MwaaPlatformStack"]
