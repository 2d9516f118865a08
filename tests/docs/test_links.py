"""Every relative Markdown link of README.md and docs/**/*.md points at a file or folder of the
repository, and a link with an anchor at a heading (or an ``<a id>``) of the Markdown page it
names, with GitHub's anchors (:func:`platform_config.generated.anchors`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from platform_config.generated import anchors, outside_code

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

# [text](target) and ![alt](target), with an optional "title"; code spans are removed first.
_LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_CODE_SPAN = re.compile(r"(`+).+?\1")


def links(markdown: str) -> list[str]:
    """The link targets of ``markdown``, outside code blocks and code spans."""
    found: list[str] = []
    for line in outside_code(markdown):
        found.extend(_LINK.findall(_CODE_SPAN.sub("", line)))
    return found


def broken_links(page: Path, root: Path) -> list[str]:
    """The relative links of ``page`` that lead nowhere, each with the reason."""
    broken: list[str] = []
    text = page.read_text(encoding="utf-8")
    for link in links(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", link):  # https:, mailto:
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.is_relative_to(root.resolve()):
            broken.append(f"{link}: outside the repository")
        elif not target.exists():
            broken.append(f"{link}: no such file or folder")
        elif anchor and target.suffix == ".md":
            body = text if target == page else target.read_text(encoding="utf-8")
            if anchor not in anchors(body):
                broken.append(f"{link}: {target.name} has no heading with the anchor #{anchor}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page, ROOT) == []


def test_the_readme_links_every_docs_page() -> None:
    readme = links((ROOT / "README.md").read_text())
    linked = {(ROOT / link.partition("#")[0]).resolve() for link in readme}
    pages = {p.resolve() for p in (ROOT / "docs").glob("*.md")}
    assert sorted(p.name for p in pages - linked) == []
    assert (ROOT / "docs" / "decisions" / "README.md").resolve() in linked


def test_a_broken_link_is_reported_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\n## Deploy `it`\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# Top\n\n[ok](docs/guide.md#deploy-it) [self](#top) [web](https://example.com/#x)\n"
        "[gone](docs/missing.md) [anchor](docs/guide.md#upgrade) [up](../outside.md)\n"
        "`[code](docs/missing.md)`\n\n```\n[fenced](docs/missing.md)\n```\n"
        "[here](#nowhere) ![image](docs/diagram.png)\n"
    )
    assert broken_links(page, tmp_path) == [
        "docs/missing.md: no such file or folder",
        "docs/guide.md#upgrade: guide.md has no heading with the anchor #upgrade",
        "../outside.md: outside the repository",
        "#nowhere: README.md has no heading with the anchor #nowhere",
        "docs/diagram.png: no such file or folder",
    ]
