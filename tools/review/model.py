"""What a review reports: per profile its stacks (what the diff engine found), a verdict per MWAA
environment, and the change of the monthly cost estimate. Plain data, rendered by
:mod:`tools.review.render` as Markdown or JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tools.review.engine import StackDiff

Template = Mapping[str, Any]
Verdict = Literal["none", "update", "replacement", "added", "removed"]
ProfileStatus = Literal["changed", "new", "removed"]

# How far each verdict goes, for --fail-on: a removed environment counts as a replacement (its
# metadata database is deleted), an added one as nothing to fear.
VERDICT_LEVELS: dict[Verdict, int] = {"none": 0, "added": 0, "update": 1, "replacement": 2, "removed": 2}
FAIL_LEVELS = {"update": 1, "replacement": 2}


class ReviewError(RuntimeError):
    """The review could not be made (not a checkout, a bad ref, a synth that failed, no diff
    engine); the message is what the user reads, in a line or a few."""


@dataclass(frozen=True)
class StackTemplate:
    """One stack of a cloud assembly: its name, its artifact id, its target region, its template."""

    name: str
    artifact_id: str
    region: str | None
    template: Template


@dataclass(frozen=True)
class EnvironmentVerdict:
    """What deploying does to one AWS::MWAA::Environment, why, and what to do about it."""

    stack: str
    logical_id: str
    name: str
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    advice: str = ""


@dataclass(frozen=True)
class CostChange:
    """The monthly estimate before and after: ``base_*`` None when nothing was deployed before,
    any amount None when it is unpriced (no price table for the region)."""

    region: str | None
    priced: bool
    base_idle: float | None
    base_full: float | None
    head_idle: float | None
    head_full: float | None


@dataclass
class StackReview:
    """One stack compared: ``base_name``/``head_name`` None when that side lacks the stack."""

    name: str
    base_name: str | None
    head_name: str | None
    diff: StackDiff
    resource_types: dict[str, int] = field(default_factory=dict)  # of the side that has the stack

    @property
    def one_sided(self) -> bool:
        return self.base_name is None or self.head_name is None

    @property
    def changed(self) -> bool:
        return not self.diff.empty or self.base_name != self.head_name


@dataclass
class ProfileReview:
    profile: str
    status: ProfileStatus = "changed"
    stacks: list[StackReview] = field(default_factory=list)
    environments: list[EnvironmentVerdict] = field(default_factory=list)
    cost: CostChange | None = None
    cost_note: str = ""


@dataclass
class Review:
    base: str
    head: str
    profiles: list[ProfileReview] = field(default_factory=list)

    @property
    def worst(self) -> Verdict:
        verdicts = [e.verdict for p in self.profiles for e in p.environments]
        return max(verdicts, key=lambda v: VERDICT_LEVELS[v], default="none")

    def reaches(self, fail_on: str | None) -> bool:
        """Whether any environment verdict reaches ``fail_on`` (``update`` or ``replacement``)."""
        if fail_on is None:
            return False
        return any(
            VERDICT_LEVELS[e.verdict] >= FAIL_LEVELS[fail_on] for p in self.profiles for e in p.environments
        )
