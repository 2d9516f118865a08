"""The error every reader of this package raises for configuration that cannot be deployed."""

from __future__ import annotations


class ProfileError(ValueError):
    """A profile that cannot be deployed. ``problems`` holds one line per invalid setting."""

    def __init__(self, profile: str, problems: list[str]) -> None:
        self.profile = profile
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"profile '{profile}' is invalid:\n{lines}")
