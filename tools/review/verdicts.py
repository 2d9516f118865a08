"""Per MWAA environment, what deploying the head does to it, and per profile the cost change.

This is what the review adds to the diff engine: the engine says which resources update or are
replaced; an MWAA environment's reader wants to know more than "WILL_UPDATE" — that any property
change is a 10–30 minute update that replaces the workers (gracefully or not), that a replaced
environment starts with an empty metadata database and that replacing a named one fails, and
that a DAG edit needs no update at all.

Verdicts: ``none`` (no property value changes: a DAG upload, a new bucket policy), ``update``,
``replacement``, ``added``, ``removed``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from tools.review import engine
from tools.review.engine import REPLACING, KeyPath, ResourceDiff, StackDiff
from tools.review.model import (
    CostChange,
    EnvironmentVerdict,
    ProfileReview,
    ProfileStatus,
    StackReview,
    StackTemplate,
    Template,
    Verdict,
)

ENVIRONMENT_TYPE = "AWS::MWAA::Environment"

# createOnlyProperties of AWS::MWAA::Environment below the top level. The engine reads
# replacement per top-level property from the AWS service specification, which marks Name,
# KmsKey and EndpointManagement but not NetworkConfiguration, since only its SubnetIds are
# create-only (SecurityGroupIds update in place). Resource schema:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-mwaa-environment.html
# (also in cfn-lint's bundled schema, cfnlint/data/schemas/providers/us_east_1/aws-mwaa-environment.json).
NESTED_CREATE_ONLY: tuple[KeyPath, ...] = (("NetworkConfiguration", "SubnetIds"),)


class Estimate(Protocol):
    """What the review reads of a cost estimate (``mwaa_rules.cost.Estimate``): amounts are None
    when the region has no price table. Read-only, as the frozen dataclass's fields are."""

    @property
    def monthly_idle(self) -> float | None: ...

    @property
    def monthly_full(self) -> float | None: ...

    @property
    def priced(self) -> bool: ...

    @property
    def region(self) -> str | None: ...


Estimator = Callable[..., Estimate]
"""``estimator(templates_by_stack_name, region=...) -> Estimate``, as ``estimate_templates``."""

Compare = Callable[[Sequence[tuple[Template | None, Template | None]]], list[StackDiff]]


def _resources(template: Template | None) -> Mapping[str, Mapping[str, Any]]:
    return (template or {}).get("Resources", {})


def _name(resource: Mapping[str, Any], logical_id: str) -> str:
    name = resource.get("Properties", {}).get("Name", logical_id)
    return name if isinstance(name, str) else json.dumps(name, sort_keys=True)


def _creates_anew(path: KeyPath, impact: str) -> bool:
    return impact in REPLACING or any(path[: len(prefix)] == prefix for prefix in NESTED_CREATE_ONLY)


def environment_verdicts(
    stack: str,
    base: Template | None,
    head: Template | None,
    diff: StackDiff,
    *,
    renamed_from: str | None = None,
) -> list[EnvironmentVerdict]:
    """The verdict for every AWS::MWAA::Environment of one stack, from the engine's ``diff`` of
    ``base`` and ``head`` (None: that side lacks the stack); ``renamed_from`` is the stack's name
    at base when the stack itself was renamed."""
    old_resources, new_resources = _resources(base), _resources(head)
    ids = sorted(
        logical_id
        for logical_id, resource in {**old_resources, **new_resources}.items()
        if resource.get("Type") == ENVIRONMENT_TYPE
    )
    verdicts: list[EnvironmentVerdict] = []
    for logical_id in ids:
        old, new = old_resources.get(logical_id), new_resources.get(logical_id)
        if old is None or new is None:
            resource = new or old
            assert resource is not None
            added = old is None
            advice = (
                "A new environment: creation takes 20–40 minutes."
                if added
                else "The environment and its metadata database (DAG run history, connections and "
                "variables kept there) are deleted."
            )
            verdict: Verdict = "added" if added else "removed"
            verdicts.append(
                EnvironmentVerdict(stack, logical_id, _name(resource, logical_id), verdict, (), advice)
            )
            continue
        verdicts.append(_verdict(stack, logical_id, old, new, diff, renamed_from))
    return verdicts


def _target_text(diff: StackDiff, logical_id: str) -> str:
    target = diff.resource(logical_id)
    return f"{logical_id} {'replaced' if target is not None and target.replaced else 'updated'}"


def _verdict(
    stack: str,
    logical_id: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    diff: StackDiff,
    renamed_from: str | None,
) -> EnvironmentVerdict:
    old_name, name = _name(old, logical_id), _name(new, logical_id)
    resource: ResourceDiff | None = diff.resource(logical_id)
    direct = resource.property_changes if resource else ()
    deploy_time = resource.deploy_time if resource else ()
    if not direct and not deploy_time:
        return EnvironmentVerdict(stack, logical_id, name, "none")
    reasons = [change.text for change in direct] + [
        f"{site.where} changes on deploy: {', '.join(_target_text(diff, t) for t in site.targets)}"
        for site in deploy_time
    ]
    replacing = any(_creates_anew(c.path, c.impact) for c in direct) or any(
        _creates_anew(s.path, s.impact) for s in deploy_time
    )
    if replacing:
        return EnvironmentVerdict(
            stack,
            logical_id,
            name,
            "replacement",
            tuple(reasons),
            _replacement_advice(stack, old_name, name, renamed_from),
        )
    strategy = new.get("Properties", {}).get("WorkerReplacementStrategy")
    advice = "A full environment update of 10–30 minutes; workers are replaced " + (
        "gracefully (WorkerReplacementStrategy GRACEFUL: running tasks finish, up to 12 hours)."
        if strategy == "GRACEFUL"
        else "without waiting for running tasks (WorkerReplacementStrategy "
        f"{strategy or 'unset, MWAA default'}; set GRACEFUL to let them finish)."
    )
    return EnvironmentVerdict(stack, logical_id, name, "update", tuple(reasons), advice)


def _replacement_advice(stack: str, old_name: str, name: str, renamed_from: str | None) -> str:
    if renamed_from is not None:
        return (
            f"The stack is renamed as well ({renamed_from} → {stack}): deploying creates a new stack "
            f"with a new environment {name} and an empty metadata database (DAG run history, "
            f"connections and variables in the database are not carried over); {old_name} keeps "
            f"running in {renamed_from} until you destroy that stack. Export what you need first."
        )
    if old_name != name:
        return (
            f"CloudFormation creates a new environment {name} with an empty metadata database "
            f"(DAG run history, connections and variables in the database are not carried over) "
            f"and deletes {old_name}: export what you need from {old_name} first."
        )
    return (
        f"Replacing the named environment {name} fails (the new one would take the same name): "
        "change environment_name as well and migrate to the new environment, or delete the "
        "environment (its stack) first and accept an empty metadata database."
    )


def pair_stacks(
    base: Sequence[StackTemplate], head: Sequence[StackTemplate]
) -> list[tuple[StackTemplate | None, StackTemplate | None]]:
    """Stacks of the same name; then a renamed stack (an environment renamed with the profile's
    ``environment_name``) to the unmatched base stack sharing most of its logical ids."""
    pairs: list[tuple[StackTemplate | None, StackTemplate | None]] = []
    base_left = {s.name: s for s in base}
    head_left: list[StackTemplate] = []
    for stack in head:
        if stack.name in base_left:
            pairs.append((base_left.pop(stack.name), stack))
        else:
            head_left.append(stack)
    for stack in head_left:
        ids = set(_resources(stack.template))
        best, best_score = None, 0.5
        for candidate in base_left.values():
            other = set(_resources(candidate.template))
            score = len(ids & other) / max(len(ids | other), 1)
            if score > best_score:
                best, best_score = candidate, score
        if best is not None:
            del base_left[best.name]
        pairs.append((best, stack))
    pairs.extend((stack, None) for stack in base_left.values())
    return pairs


def resource_types(template: Template) -> dict[str, int]:
    """How many resources of each type a template holds, most frequent first (the CDK's own
    metadata resource left out, as the diff leaves it out)."""
    counts = Counter(
        str(r.get("Type")) for r in _resources(template).values() if r.get("Type") != "AWS::CDK::Metadata"
    )
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def review_profile(
    profile: str,
    base: Sequence[StackTemplate],
    head: Sequence[StackTemplate],
    *,
    estimator: Estimator | None = None,
    compare: Compare = engine.compare,
) -> ProfileReview:
    """Compare the stacks of one profile (one engine call for all of them); ``estimator`` prices
    both sides when given. A side without stacks makes the profile new or removed."""
    status: ProfileStatus = "new" if not base and head else "removed" if base and not head else "changed"
    review = ProfileReview(profile, status=status)
    pairs = pair_stacks(base, head)
    diffs = compare([(old.template if old else None, new.template if new else None) for old, new in pairs])
    for (old, new), diff in zip(pairs, diffs, strict=True):
        present = new or old
        assert present is not None
        review.stacks.append(
            StackReview(
                name=present.name,
                base_name=old.name if old else None,
                head_name=new.name if new else None,
                diff=diff,
                resource_types=resource_types(present.template) if old is None or new is None else {},
            )
        )
        review.environments.extend(
            environment_verdicts(
                present.name,
                old.template if old else None,
                new.template if new else None,
                diff,
                renamed_from=old.name if old and new and old.name != new.name else None,
            )
        )
    if estimator is None or not (base or head):
        review.cost_note = "no cost estimator available" if estimator is None else "no stacks to price"
        return review
    region = next((s.region for s in [*head, *base] if s.region), None)
    after = estimator({s.name: s.template for s in head}, region=region) if head else None
    before = estimator({s.name: s.template for s in base}, region=region) if base else None
    priced = after or before
    assert priced is not None  # a profile has stacks on one side at least
    review.cost = CostChange(
        region=priced.region,
        priced=priced.priced,
        base_idle=before.monthly_idle if before else None,
        base_full=before.monthly_full if before else None,
        head_idle=after.monthly_idle if after else 0.0,
        head_full=after.monthly_full if after else 0.0,
    )
    return review
