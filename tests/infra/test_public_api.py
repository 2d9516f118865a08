"""The reusable part of the repository: the wheel's contents and dependencies, the examples of
docs/constructs.md."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.infra.conftest import ROOT

CONSTRUCTS_DOC = ROOT / "docs" / "constructs.md"
NETWORK_EXAMPLE = "## Example: a new network, and a bucket your DAGs read"


def test_the_new_network_example_synthesizes_with_cdk_nag(tmp_path: Path) -> None:
    doc = CONSTRUCTS_DOC.read_text()
    section = doc[doc.index(NETWORK_EXAMPLE) :]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert example, "no Python example in the section"
    script = tmp_path / "example_app.py"
    script.write_text(example.group(1))
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "CDK_OUTDIR": str(tmp_path / "out")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "out" / "analytics-airflow.template.json").exists()


def _source_tree(destination: Path) -> Path:
    """The repository's files as a clone has them (tracked, and new files not ignored), copied
    to ``destination``: pip builds a wheel in the source folder, and a ``build/`` left there by
    an earlier build would add the files of that build to the wheel."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file():  # not deleted in the working tree
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    return destination


def test_the_wheel_holds_the_reusable_packages_only(tmp_path: Path) -> None:
    source = _source_tree(tmp_path / "source")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("mwaa_platform-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names if not name.startswith("mwaa_platform-")}
    assert packages == {"mwaa_rules", "mwaa_constructs", "platform_config", "mwaa_ops"}
    for package in packages:
        assert f"{package}/py.typed" in names
    assert "mwaa_constructs/environment.py" in names
    assert "mwaa_rules/data/prices/us-east-1.json" in names
    assert "mwaa_rules/data/constraints/3.3.1/airflow_constraints.txt" in names
    # The modules that moved to mwaa_rules are not in mwaa_constructs twice.
    assert not {"mwaa_constructs/rules.py", "mwaa_constructs/versions.py"} & set(names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "mwaa-ops = mwaa_ops.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_names_mwaa_constructs_exported_before_the_rules_moved_still_import() -> None:
    import mwaa_constructs
    from mwaa_constructs import requirements, rules, versions
    from mwaa_rules import requirements as rules_requirements
    from mwaa_rules import rules as rules_rules
    from mwaa_rules import versions as rules_versions

    assert (rules, versions, requirements) == (rules_rules, rules_versions, rules_requirements)
    for name in mwaa_constructs.__all__:
        assert getattr(mwaa_constructs, name) is not None, name


def _python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, re.S)


def test_pip_install_brings_every_package_the_documented_examples_import() -> None:
    """Each module a documented example imports is the standard library's, the wheel's own, or
    comes from a distribution in ``[project] dependencies`` (docs/constructs.md)."""
    import ast
    import tomllib
    from importlib.metadata import packages_distributions

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}
    own = {"mwaa_rules", "mwaa_constructs", "platform_config", "mwaa_ops"}
    blocks = _python_blocks(CONSTRUCTS_DOC.read_text())
    assert len(blocks) >= 2
    imported: set[str] = set()
    for block in blocks:
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = sorted(imported - own - set(sys.stdlib_module_names))
    assert "cdk_nag" in third_party
    distributions = packages_distributions()
    missing = {
        module: distributions.get(module)
        for module in third_party
        if not {canonicalize_name(d) for d in distributions.get(module, [])} & declared
    }
    assert missing == {}, f"imported by the examples but not in [project] dependencies: {missing}"
