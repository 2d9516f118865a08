"""The README's layer diagram says what the code does: its arrows between the packages are exactly
the package-level imports of the code (read with grimp, the graph import-linter checks), and
each arrow points down the layers of the import-linter contract in pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]

# A node: id["label"] whose label starts with a package folder ("mwaa_rules/ (wheel)...").
_NODE = re.compile(r'^\s*(\w+)\["([A-Za-z_]+)/')
_EDGE = re.compile(r"^\s*(\w+)\s*-->\s*(\w+)\s*$")


def layer_diagram(markdown: str) -> str:
    """The first Mermaid block of the page: the layers."""
    match = re.search(r"```mermaid\n(.*?)```", markdown, re.DOTALL)
    assert match, "README.md has no Mermaid diagram"
    return match.group(1)


def diagram_imports(diagram: str, packages: set[str]) -> set[tuple[str, str]]:
    """The arrows of ``diagram`` between nodes that stand for one of ``packages``."""
    node_package = {
        node: package
        for node, package in (m.groups() for m in map(_NODE.match, diagram.splitlines()) if m)
        if package in packages
    }
    edges = (m.groups() for m in map(_EDGE.match, diagram.splitlines()) if m)
    return {(node_package[a], node_package[b]) for a, b in edges if a in node_package and b in node_package}


def contract() -> tuple[list[str], list[list[str]]]:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in settings["contracts"] if c["type"] == "layers"]
    return settings["root_packages"], [[p.strip() for p in layer.split("|")] for layer in layers]


def code_imports(packages: list[str]) -> set[tuple[str, str]]:
    graph = grimp.build_graph(*packages, cache_dir=None)
    return {
        (a, b)
        for a in packages
        for b in packages
        if a != b and graph.direct_import_exists(importer=a, imported=b, as_packages=True)
    }


def test_the_arrows_are_the_imports_of_the_code() -> None:
    packages, _ = contract()
    drawn = diagram_imports(layer_diagram((ROOT / "README.md").read_text()), set(packages))
    assert {p for edge in drawn for p in edge} == set(packages), "a package is missing from the diagram"
    assert drawn == code_imports(packages)


def test_every_arrow_points_down_the_layers() -> None:
    packages, layers = contract()
    level = {package: index for index, layer in enumerate(layers) for package in layer}
    drawn = diagram_imports(layer_diagram((ROOT / "README.md").read_text()), set(packages))
    assert drawn
    for importer, imported in drawn:
        assert level[importer] < level[imported], f"{importer} --> {imported} points up the layers"


def test_a_drawn_arrow_the_code_lacks_is_found() -> None:
    diagram = 'rules["mwaa_rules/ x"]\nops["mwaa_ops/ y"]\nstk["stacks/ z"]\nops --> rules\nrules --> stk\n'
    drawn = diagram_imports(diagram, {"mwaa_rules", "mwaa_ops", "stacks"})
    assert drawn == {("mwaa_ops", "mwaa_rules"), ("mwaa_rules", "stacks")}
    assert drawn != code_imports(["mwaa_rules", "mwaa_ops", "stacks"])
