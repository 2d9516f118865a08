"""The import contracts of pyproject.toml (``lint-imports`` in ``make test``): they hold on the
repository, and each breaks when a layer imports what it must not, so that none can pass
whatever the code imports."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
ROOT_PACKAGES = ("mwaa_rules", "platform_config", "mwaa_constructs", "stacks", "mwaa_ops")

LAYERS = "The layers import one way, from mwaa_rules up"
RULES = "mwaa_rules imports no CDK, cdk-nag or AWS SDK"
PROFILE_MODEL = "The profile model imports no CDK, cdk-nag or AWS SDK"
OPS = "mwaa_ops imports no CDK and no construct or stack"
CONTRACTS = (LAYERS, RULES, PROFILE_MODEL, OPS)


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"], cwd=cwd, capture_output=True, text=True, check=False
    )


def _broken(output: str) -> set[str]:
    return {contract for contract in CONTRACTS if f"{contract} BROKEN" in " ".join(output.split())}


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root packages and pyproject.toml, copied: a probe module is added to the copy only.
    Nothing imports the probe, so it breaks the contracts of its own package only."""
    root = tmp_path_factory.mktemp("contracts")
    shutil.copy2(ROOT / "pyproject.toml", root / "pyproject.toml")
    for package in ROOT_PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_repository_keeps_every_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert _broken(result.stdout) == set()
    assert all(f"{contract} KEPT" in " ".join(result.stdout.split()) for contract in CONTRACTS)


@pytest.mark.parametrize(
    ("package", "imported", "broken"),
    [
        ("mwaa_rules", "aws_cdk", {RULES}),
        ("mwaa_rules", "boto3", {RULES}),
        ("mwaa_rules", "platform_config", {LAYERS}),
        # Also CDK: mwaa_constructs imports aws_cdk.
        ("platform_config", "mwaa_constructs", {LAYERS, PROFILE_MODEL}),
        ("platform_config", "cdk_nag", {PROFILE_MODEL}),
        ("mwaa_constructs", "platform_config", {LAYERS}),
        ("stacks", "mwaa_ops", {LAYERS}),
        ("mwaa_ops", "stacks", {LAYERS, OPS}),
        ("mwaa_ops", "mwaa_constructs.network", {OPS}),
        ("mwaa_ops", "aws_cdk.aws_ec2", {OPS}),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    copy: Path, package: str, imported: str, broken: set[str]
) -> None:
    probe = copy / package / "_contract_probe.py"
    probe.write_text(f"import {imported}\n")
    try:
        result = _lint_imports(copy)
    finally:
        probe.unlink()
    assert result.returncode == 1
    assert _broken(result.stdout) == broken
    # The report names the import; an external package is named as a whole (aws_cdk).
    top = imported.split(".")[0]
    assert f"{package}._contract_probe -> {imported if top in ROOT_PACKAGES else top}" in result.stdout
