"""The review as Markdown (a pull-request comment, a job summary) or JSON.

Markdown is written to be read: verdicts first, then per stack one row per changed resource with
its old → new values; a stack that only one side has (a new or removed profile, a renamed
environment's stacks) is summarised in a few lines, its full listing folded in a ``<details>``
block. Values are already masked (:mod:`tools.review.masking`) and are printed in code spans, so
that nothing a template holds is read as Markdown.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from tools.review.engine import ResourceDiff, StatementChange
from tools.review.model import CostChange, ProfileReview, Review, StackReview

MARKER = "<!-- mwaa-platform change review -->"

_VERDICT_TEXT = {
    "none": "no environment update",
    "update": "environment update",
    "replacement": "environment REPLACEMENT",
    "added": "new environment",
    "removed": "environment REMOVED",
}
_IMPACT_TEXT = {
    "WILL_CREATE": "add",
    "WILL_UPDATE": "update",
    "WILL_REPLACE": "**replace**",
    "MAY_REPLACE": "**may replace**",
    "WILL_DESTROY": "remove",
    "WILL_ORPHAN": "remove (resource retained)",
    "WILL_IMPORT": "import",
    "NO_CHANGE": "none",
}
_MAX_VALUE = 120  # characters of a value in Markdown; JSON has them whole
_TYPES_SHOWN = 6  # resource types named in the summary of a one-sided stack


def code(text: str, *, table: bool = False) -> str:
    """``text`` as one Markdown code span, on one line, shortened to a readable length."""
    text = " ".join(text.replace("\r", "").split("\n")).strip()
    if len(text) > _MAX_VALUE:
        text = text[: _MAX_VALUE - 1] + "…"
    if table:
        text = text.replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _money(value: float | None) -> str:
    return "–" if value is None else f"${value:,.2f}"


def _money_change(before: float | None, after: float | None) -> str:
    if after is None:
        return f"{_money(before)} → {_money(after)}"
    delta = "new" if before is None else f"{after - before:+,.2f}"
    return f"{_money(before)} → {_money(after)} ({delta})"


def _cost_line(profile: ProfileReview) -> str:
    cost: CostChange | None = profile.cost
    if cost is None:
        return f"- Monthly cost estimate: {profile.cost_note}"
    priced = "" if cost.priced else " (unpriced: no price list for the region)"
    idle = _money_change(cost.base_idle, cost.head_idle)
    full = _money_change(cost.base_full, cost.head_full)
    return f"- Monthly cost estimate ({cost.region or 'default region'}){priced}: idle {idle}, full {full}"


def to_markdown(review: Review) -> str:
    lines = [MARKER, f"## Infrastructure change review: `{review.base}` → `{review.head}`", ""]
    for profile in review.profiles:
        lines.extend(_profile_markdown(profile))
    return "\n".join(lines).rstrip() + "\n"


def _profile_markdown(profile: ProfileReview) -> list[str]:
    status = {
        "new": " (new profile: BASE does not have it)",
        "removed": " (removed profile: its stacks stay deployed until destroyed)",
    }.get(profile.status, "")
    lines = [f"### Profile `{profile.profile}`{status}", ""]
    for env in profile.environments:
        lines.append(
            f"- **Environment `{env.name}`** ({env.stack}): **{env.verdict}** — {_VERDICT_TEXT[env.verdict]}"
        )
        lines.extend(f"  - {code(reason)}" for reason in env.reasons)
        if env.advice:
            warn = env.verdict in ("replacement", "removed")
            lines.append(f"  - ⚠️ {env.advice}" if warn else f"  - {env.advice}")
    if not profile.environments:
        lines.append("- no MWAA environment")
    lines.append(_cost_line(profile))
    if profile.status != "changed":
        total = sum(sum(s.resource_types.values()) for s in profile.stacks)
        lines.append(f"- {_count(len(profile.stacks), 'stack')}, {_count(total, 'resource')}")
    lines.append("")
    for stack in profile.stacks:
        lines.extend(_stack_markdown(stack))
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _stack_title(stack: StackReview) -> str:
    if stack.base_name is None:
        return f"#### Stack `{stack.name}` (new stack)"
    if stack.head_name is None:
        return f"#### Stack `{stack.name}` (no longer synthesized: `cdk deploy` leaves it deployed)"
    if stack.base_name != stack.head_name:
        return (
            f"#### Stack `{stack.base_name}` → `{stack.head_name}` (renamed: a new CloudFormation stack; "
            "the old one stays deployed until destroyed)"
        )
    return f"#### Stack `{stack.name}`"


def _stack_markdown(stack: StackReview) -> list[str]:
    title = _stack_title(stack)
    if not stack.changed:
        return [f"{title}: no change", ""]
    listing = _listing(stack)
    if not stack.one_sided:
        return [title, "", *listing]
    total = sum(stack.resource_types.values())
    shown = list(stack.resource_types.items())[:_TYPES_SHOWN]
    types = ", ".join(f"{n} {t}" for t, n in shown)
    rest = total - sum(n for _, n in shown)
    if rest:
        types += f", {rest} of {_count(len(stack.resource_types) - len(shown), 'other type')}"
    diff = stack.diff
    extras = [
        _count(len(diff.statements), "IAM statement"),
        _count(len(diff.rules), "security-group rule"),
        _count(len(diff.outputs), "output"),
    ]
    return [
        title,
        "",
        f"{_count(total, 'resource')}: {types}. {', '.join(extras)}.",
        "",
        "<details><summary>Every resource, IAM statement and security-group rule</summary>",
        "",
        *listing,
        "</details>",
        "",
    ]


def _changes_cell(resource: ResourceDiff) -> str:
    cells = [code(change.text, table=True) for change in resource.changes]
    cells += [
        code(f"{site.where} changes on deploy: {', '.join(site.targets)}", table=True)
        for site in resource.deploy_time
    ]
    return "<br>".join(cells) or "–"


def _statement_text(statement: StatementChange) -> str:
    sign = "➕ added" if statement.change == "added" else "➖ removed"
    negated = f" ({', '.join(statement.negated)})" if statement.negated else ""
    text = f"- {sign}: **{statement.effect}** {', '.join(statement.actions) or '–'}{negated}"
    if statement.resources:
        text += f" on {', '.join(statement.resources)}"
    if statement.principals:
        text += f" for {', '.join(statement.principals)}"
    if statement.condition:
        text += f" when {code(statement.condition)}"
    return text


def _listing(stack: StackReview) -> list[str]:
    diff = stack.diff
    lines: list[str] = []
    if diff.resources:
        lines += ["| impact | resource | type | old → new |", "|---|---|---|---|"]
        for resource in diff.resources:
            impact = _IMPACT_TEXT.get(resource.impact, resource.impact)
            lines.append(
                f"| {impact} | `{resource.logical_id}` | {resource.type} | {_changes_cell(resource)} |"
            )
        lines.append("")
    if diff.outputs:
        lines.append("Outputs: " + "; ".join(code(o.text) for o in diff.outputs))
        lines.append("")
    if diff.statements:
        lines.append("IAM statements:")
        lines.extend(_statement_text(s) for s in diff.statements)
        lines.append("")
    if diff.managed_policies:
        lines.append("Managed policies:")
        for p in diff.managed_policies:
            sign = "➕ attached" if p.change == "added" else "➖ detached"
            lines.append(f"- {sign}: {p.policy} to {p.identity}")
        lines.append("")
    if diff.rules:
        lines.append("Security-group rules:")
        for r in diff.rules:
            sign = "➕ added" if r.change == "added" else "➖ removed"
            preposition = "from" if r.direction == "ingress" else "to"
            lines.append(
                f"- {sign} {r.direction} on {code(r.group)}: {r.protocol} {preposition} {code(r.peer)}"
            )
        lines.append("")
    return lines


def to_json(review: Review) -> str:
    data = asdict(review)
    data["worst"] = review.worst
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
