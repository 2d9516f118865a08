"""The form of a price table, ``data/prices/<region>.json``, and the check that every figure in
it has a source and a date.

The numbers sit where :mod:`mwaa_rules.cost` reads them (``mwaa.classes.<class>.*``,
``nat_gateway_hour``, ...). Two sections say where each came from and what is not there; they
name a figure by its path, the keys from the top joined with ``/`` (a class name has dots:
``mwaa/classes/mw1.small/environment_hour``):

- ``provenance``: a list of ``{"source": URL, "date": "YYYY-MM-DD", "kind": "primary" |
  "secondary", "figures": [path, ...]}``: a pricing page (primary) or a page that quotes one
  (secondary), the day its figures were read or published, and the figures taken from it;
- ``missing``: ``{path: reason}`` for each price the table does not have: a whole class
  (``mwaa/classes/mw1.micro``) or one item (``nat_gateway_hour``). Nothing is filled in by
  analogy with another Region: an estimate that needs a missing price shows no total.

Every number except ``hours_per_month`` (a convention, 730 = 365 × 24 / 12) is a figure, so
each must be in exactly one ``provenance`` entry (:func:`problems`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECTIONS = ("provenance", "missing")
_PARAMETERS = ("hours_per_month",)
KINDS = ("primary", "secondary")


def figures(table: Mapping[str, Any]) -> dict[str, float]:
    """Every figure of ``table``: path -> number."""
    return dict(_leaves({k: v for k, v in table.items() if k not in (*_SECTIONS, *_PARAMETERS)}, ""))


def _leaves(node: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, float]]:
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _leaves(value, f"{path}/")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield path, value


def provenance(table: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Path -> the ``provenance`` entry that names it (the last one, if several do)."""
    return {path: entry for entry in table.get("provenance", ()) for path in entry.get("figures", ())}


def missing_reason(table: Mapping[str, Any], path: str) -> str | None:
    """Why ``table`` has no figure at ``path`` (or at a path above it), or None if it does not
    say."""
    missing = table.get("missing", {})
    parts = path.split("/")
    for end in range(len(parts), 0, -1):
        reason = missing.get("/".join(parts[:end]))
        if reason:
            return str(reason)
    return None


def problems(table: Mapping[str, Any], *, region: str) -> list[str]:
    """What is wrong with the form of ``table``, the table of ``region``; empty when nothing is.

    Checked: the header (region, currency USD, a date); each provenance entry (an https source,
    an ISO date, a kind of :data:`KINDS`, paths that are figures); each figure named by exactly
    one entry; each ``missing`` path absent from the figures and given a reason."""
    found: list[str] = []
    if table.get("region") != region:
        found.append(f"region: expected {region!r}, found {table.get('region')!r}")
    if table.get("currency") != "USD":
        found.append(f"currency: expected 'USD', found {table.get('currency')!r}")
    if not _DATE.match(str(table.get("date", ""))):
        found.append(f"date: expected YYYY-MM-DD, found {table.get('date')!r}")
    known = figures(table)
    named: dict[str, int] = {}
    for index, entry in enumerate(table.get("provenance", ())):
        where = f"provenance[{index}]"
        if not str(entry.get("source", "")).startswith("https://"):
            found.append(f"{where}: source must be an https URL, found {entry.get('source')!r}")
        if not _DATE.match(str(entry.get("date", ""))):
            found.append(f"{where}: date must be YYYY-MM-DD, found {entry.get('date')!r}")
        if entry.get("kind") not in KINDS:
            found.append(f"{where}: kind must be one of {', '.join(KINDS)}, found {entry.get('kind')!r}")
        for path in entry.get("figures", ()):
            named[path] = named.get(path, 0) + 1
            if path not in known:
                found.append(f"{where}: {path} is not a figure of the table")
    for path in sorted(known):
        if named.get(path, 0) != 1:
            found.append(f"{path}: named by {named.get(path, 0)} provenance entries, expected 1")
    for path, reason in table.get("missing", {}).items():
        if path in known or any(k.startswith(f"{path}/") for k in known):
            found.append(f"missing: {path} has a figure in the table")
        if not str(reason).strip():
            found.append(f"missing: {path} has no reason")
    return found
