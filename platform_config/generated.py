"""``python -m platform_config.generated [--check] [--root PATH]``: the files generated from the
profile schema (:mod:`platform_config.schema`) and the add-ons' manifests of a repository:

- ``schemas/profile.schema.json``: the JSON Schema of one profile (a profile kept in a file of its
  own names it with ``"$schema"``);
- ``schemas/cdk.schema.json``: the JSON Schema of ``cdk.json``, its ``context.profiles`` checked
  against the profile schema (point an editor at it for ``cdk.json``);
- the configuration table of ``docs/configuration.md``, between its ``configuration:begin`` and
  ``configuration:end`` markers.

The declarations write their Markdown links from the repository's top folder: a path such as
``[sample/](sample/)`` or ``[guide](docs/disaster-recovery.md#scheduled-backups)``, or an anchor
alone, ``[Upgrades](#upgrades)``, which names a section of the documentation. In the table they
are rewritten to work from the page: paths relative to its folder, an anchor to the page of
``docs/`` whose heading makes it (the configuration page itself first, then a page whose title it
is, then the others in name order). An anchor that no page has is left as written, and the link
test of the documentation names it.

Without ``--check`` it rewrites the files that are not current; with it, it writes nothing and
exits 1 naming each file that is not (``tests/config/test_schema.py`` runs it in ``make test``).
Adding, changing or removing a setting or an add-on means running it again.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from platform_config.addons import DEFAULT_ROOT
from platform_config.profile import addon_manifests
from platform_config.schema import (
    CDK_SCHEMA,
    CONFIGURATION_PAGE,
    PROFILE_SCHEMA,
    SCHEMA_FOLDER,
    cdk_schema,
    configuration_table,
    profile_schema,
    with_table,
)

DOCS_FOLDER = "docs"

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
_LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")


def _json_text(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def outside_code(markdown: str) -> list[str]:
    """The lines of ``markdown`` that are not inside a fenced code block."""
    lines: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines():
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)[0]
        elif fence is not None and opened and opened.group(1)[0] == fence:
            fence = None
        elif fence is None:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text as rendered (no code marks, emphasis marks,
    link targets or HTML tags), lower-cased, without punctuation but ``-`` and ``_``, each
    space a ``-``."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> list[str]:
    """Every anchor of a Markdown page, in order: its headings' (a repeated one with GitHub's
    ``-1``, ``-2`` suffixes) and explicit ``<a id="...">`` / ``<a name="...">``."""
    found: list[str] = []
    seen: dict[str, int] = {}
    for line in outside_code(markdown):
        found.extend(_HTML_ANCHOR.findall(line))
        heading = _HEADING.match(line)
        if not heading:
            continue
        base = slug(heading.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.append(base if count == 0 else f"{base}-{count}")
    return found


def _title_anchor(markdown: str) -> str | None:
    for line in outside_code(markdown):
        heading = _HEADING.match(line)
        if heading and len(heading.group(1)) == 1:
            return slug(heading.group(2))
    return None


def relinked(text: str, *, page: Path, page_text: str, root: Path) -> str:
    """``text``, whose links are written from ``root`` (a path, or an anchor of the documentation),
    with each link rewritten to work from ``page`` (see the module's docstring)."""
    others = [path for path in sorted((root / DOCS_FOLDER).rglob("*.md")) if path != page]
    texts = {page: page_text, **{path: path.read_text(encoding="utf-8") for path in others}}
    found = {path: set(anchors(body)) for path, body in texts.items()}
    titles = {path: _title_anchor(body) for path, body in texts.items()}

    def target(match: re.Match[str]) -> str:
        link = match.group(1)
        if re.match(r"[a-z][a-z0-9+.-]*:", link):  # https:, mailto:
            return match.group(0)
        if link.startswith("#"):
            name = link[1:]
            titled = [path for path in others if titles[path] == name]
            for candidate in [page, *titled, *others]:
                if name in found[candidate]:
                    if candidate == page:
                        return match.group(0)
                    fragment = "" if titles[candidate] == name else link
                    return f"]({os.path.relpath(candidate, page.parent)}{fragment})".replace(os.sep, "/")
            return match.group(0)
        path, hash_, anchor = link.partition("#")
        relative = os.path.relpath(root / path, page.parent).replace(os.sep, "/")
        if path.endswith("/") and not relative.endswith("/"):
            relative += "/"
        return f"]({relative}{hash_}{anchor})"

    return _LINK_TARGET.sub(target, text)


def generated(root: Path = DEFAULT_ROOT) -> dict[Path, str]:
    """Every file generated from the declarations and the add-ons of ``root``: path -> content."""
    manifests = addon_manifests(root)
    folder = root / SCHEMA_FOLDER
    page = root / CONFIGURATION_PAGE
    current = page.read_text(encoding="utf-8") if page.is_file() else ""
    table = relinked(configuration_table(manifests), page=page, page_text=current, root=root)
    return {
        folder / PROFILE_SCHEMA: _json_text(profile_schema(manifests)),
        folder / CDK_SCHEMA: _json_text(cdk_schema()),
        page: with_table(current, table),
    }


def stale(root: Path = DEFAULT_ROOT) -> list[Path]:
    """The generated files of ``root`` whose committed content is not current."""
    return [
        path
        for path, text in generated(root).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_config.generated",
        description="Write the profile JSON Schemas (schemas/) and the configuration table of "
        f"{CONFIGURATION_PAGE} from platform_config/schema.py and the add-ons' manifests.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is not current")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the repository (default: this one)")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale(args.root)
        for path in outdated:
            shown = path.relative_to(args.root).as_posix()
            print(f"error: {shown} is not current: run python -m platform_config.generated", file=sys.stderr)
        return 1 if outdated else 0
    for path, text in generated(args.root).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(args.root).as_posix()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
