"""Placeholders of the add-ons' contract entries (each add-on's ``permissions.toml``): filled by
the function its manifest names (``placeholders = "<module>:<function>"``), from the add-on's
own stack in the synthesized templates."""

from __future__ import annotations

import importlib
from typing import Any

from tools.permissions.templates import ResolvedStack


def addon_placeholders(synthesized: Any) -> dict[str, str]:
    """The placeholders of every add-on the profile of ``synthesized`` (a
    ``deployments.Synthesized``) enables: each manifest's ``placeholders`` function called with
    the add-on's resolved stack. Empty for a profile without add-ons."""
    profile = synthesized.profile
    values: dict[str, str] = {}
    for manifest in profile.enabled_addons:
        if manifest.placeholders is None:
            continue
        module, _, function = manifest.placeholders.partition(":")
        fill = getattr(importlib.import_module(module), function)
        stack: ResolvedStack = synthesized.stacks[profile.addon_stack_name(manifest)]
        values |= fill(stack)
    return values
