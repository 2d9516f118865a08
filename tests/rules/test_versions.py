"""The version table and the rules that depend on the version (no synthesis)."""

from __future__ import annotations

import pytest

from mwaa_rules import rules, versions
from mwaa_rules.versions import UpgradePath, upgrade_path


def test_the_table_lists_what_mwaa_offers_with_python_and_constraints() -> None:
    table = {v.version: (v.python, v.image_data) for v in versions.SUPPORTED_VERSIONS}
    assert table == {
        "2.7.2": ("3.11", False),
        "2.8.1": ("3.11", False),
        "2.9.2": ("3.11", False),
        "2.10.1": ("3.11", False),
        "2.10.3": ("3.11", False),
        "2.11.0": ("3.12", False),
        "2.11.2": ("3.12", True),
        "3.0.6": ("3.12", True),
        "3.2.1": ("3.12", True),
        "3.3.1": ("3.12", True),
    }
    assert versions.get("3.3.1").constraints_url == (
        "https://raw.githubusercontent.com/apache/airflow/constraints-3.3.1/constraints-3.12.txt"
    )
    assert rules.constraint_url("2.10.3") == (
        "https://raw.githubusercontent.com/apache/airflow/constraints-2.10.3/constraints-3.11.txt"
    )
    assert rules.DEFAULT_AIRFLOW_VERSION == "3.3.1"
    assert rules.AIRFLOW_PYTHON_VERSIONS["2.11.0"] == "3.12"


def test_retired_and_never_offered_versions_say_so() -> None:
    assert versions.version_problem("3.3.1") is None
    assert versions.version_problem("2.6.3").startswith("MWAA ended support for 2.6.3 on 2025-12-30; ")  # type: ignore[union-attr]
    assert versions.version_problem("2.2.2").startswith("MWAA ended support for 2.2.2 in 2024; ")  # type: ignore[union-attr]
    assert versions.version_problem("3.1.2").startswith("MWAA never offered Airflow 3.1.x; ")  # type: ignore[union-attr]
    assert versions.version_problem("9.9.9").startswith("supported versions are '2.7.2'")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("source", "target", "kind", "reason"),
    [
        ("3.3.1", "3.3.1", "in_place", "the environment already runs 3.3.1: no version change"),
        ("3.0.6", "3.3.1", "in_place", "3.0.6 -> 3.3.1: MWAA upgrades within Airflow 3 in place"),
        ("3.3.1", "3.2.1", "in_place", "3.3.1 -> 3.2.1: MWAA downgrades within Airflow 3 in place"),
        ("2.7.2", "2.11.2", "in_place", "2.7.2 -> 2.11.2: MWAA upgrades within Airflow 2 in place"),
        ("2.4.3", "2.11.0", "in_place", "2.4.3 -> 2.11.0: MWAA upgrades within Airflow 2 in place"),
        ("2.11.2", "3.3.1", "in_place", "2.11.2 -> 3.3.1: MWAA upgrades 2.11.x to 3.x in place"),
        ("2.11.0", "3.0.6", "in_place", "2.11.0 -> 3.0.6: MWAA upgrades 2.11.x to 3.x in place"),
        ("3.3.1", "2.11.2", "in_place", "3.3.1 -> 2.11.2: MWAA downgrades 3.x to 2.11.x in place"),
        (
            "2.10.3",
            "3.3.1",
            "new_environment",
            "MWAA upgrades to Airflow 3 in place only from 2.11.x: upgrade to 2.11.2 first (in place), "
            "then to 3.3.1, or create a new environment with another name on 3.3.1",
        ),
        (
            "3.0.6",
            "2.10.3",
            "new_environment",
            "the only downgrade from Airflow 3 that MWAA makes in place is to 2.11.x; create a new "
            "environment with another name on 2.10.3",
        ),
        (
            "1.10.12",
            "2.7.2",
            "new_environment",
            "MWAA cannot change Airflow 1 to 2 in place; create a new environment with another name on 2.7.2",
        ),
    ],
)
def test_upgrade_paths(source: str, target: str, kind: str, reason: str) -> None:
    assert upgrade_path(source, target) == UpgradePath(source, target, kind, reason)  # type: ignore[arg-type]


@pytest.mark.parametrize(("source", "target"), [("3.1.0", "3.3.1"), ("3.3.1", "2.6.3"), ("3.3.1", "4.0.0")])
def test_upgrade_path_needs_known_versions(source: str, target: str) -> None:
    with pytest.raises(ValueError, match="upgrade_path"):
        upgrade_path(source, target)


@pytest.mark.parametrize(
    ("mode", "version", "allowed"),
    [
        ("PUBLIC_AND_PRIVATE", "3.2.1", True),
        ("PUBLIC_AND_PRIVATE", "3.3.1", True),
        ("PUBLIC_AND_PRIVATE", "3.0.6", False),
        ("PUBLIC_AND_PRIVATE", "2.11.2", False),
        ("PUBLIC_ONLY", "2.7.2", True),
        ("PRIVATE_ONLY", "3.0.6", True),
    ],
)
def test_public_and_private_access_needs_airflow_3_2(mode: str, version: str, allowed: bool) -> None:
    assert (versions.access_mode_problem(mode, version) is None) is allowed
