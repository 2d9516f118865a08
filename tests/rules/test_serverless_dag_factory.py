"""Every MWAA Serverless workflow definition of the repository builds as a DAG with dag-factory
1.1.0 ``load_yaml_dags()`` on Airflow 3.3.1, with the schedule and task graph the validator read.

The service's format is dag-factory's: a definition that passes ``mwaa_rules.serverless`` but
that dag-factory cannot build would fail only when it runs. dag-factory runs in its own
virtualenv (``tests/rules/serverless_dag_factory.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mwaa_rules.serverless import PYTHON_OPERATORS, load_definition
from platform_config.profile import read_cdk_profiles
from tests.rules.serverless_dag_factory import ROOT, load_with_dag_factory

# Each definition of the repository and the code package it runs with: the sample's (its code
# package in code/ next to it) and the `serverless.workflows` folder of every profile of
# cdk.json with that profile's `serverless.code`.
SAMPLE_FOLDER = ROOT / "sample" / "serverless"


def _definitions() -> list[tuple[Path, Path | None]]:
    found: dict[Path, Path | None] = {path: SAMPLE_FOLDER / "code" for path in SAMPLE_FOLDER.glob("*.yaml")}
    for raw in read_cdk_profiles(ROOT / "cdk.json").values():
        settings = raw.get("serverless") or {}
        if settings.get("workflows"):
            code = ROOT / settings["code"] if settings.get("code") else None
            found.update({path: code for path in (ROOT / settings["workflows"]).glob("*.yaml")})
    return sorted(found.items())


def test_the_repository_has_definitions_to_load() -> None:
    shipped = {path.relative_to(ROOT).as_posix() for path, _ in _definitions()}
    assert {"sample/serverless/movie_list.yaml", "workflows/smoke.yaml"} <= shipped


@pytest.mark.parametrize(("definition", "code"), _definitions(), ids=lambda p: p.name if p else "-")
def test_dag_factory_builds_the_definition_as_validated(definition: Path, code: Path | None) -> None:
    expected = load_definition(definition, code_package=code)
    dags = load_with_dag_factory(definition, code)
    assert set(dags) == {expected.dag_id}
    dag = dags[expected.dag_id]
    assert {task: frozenset(up) for task, up in dag["upstream"].items()} == expected.upstream()
    assert dag["timetable"] == ("CronTriggerTimetable" if expected.schedule else "NullTimetable")
    assert dag["expression"] == expected.schedule
    for task_id, task in expected.tasks.items():
        if task.operator in PYTHON_OPERATORS:
            assert dag["operators"][task_id] == PYTHON_OPERATORS[0]


def test_dag_factory_builds_service_operators_and_refuses_what_the_validator_refuses(tmp_path: Path) -> None:
    """An AWS operator and an EmptyOperator build as such; a plain-number ``execution_timeout``,
    which the validator refuses, fails in dag-factory too (Airflow 3.3.1 wants a timedelta)."""
    athena = "airflow.providers.amazon.aws.operators.athena.AthenaOperator"
    empty = "airflow.providers.standard.operators.empty.EmptyOperator"
    document = {
        "probe": {
            "dag_id": "probe",
            "schedule": None,
            "default_args": {"start_date": "2025-01-01", "retries": 3, "retry_delay": 300},
            "tasks": {
                "start": {"operator": empty},
                "query": {
                    "operator": athena,
                    "query": "SELECT 1",
                    "database": "db",
                    "output_location": "s3://bucket/results/",
                    "execution_timeout": {"__type__": "datetime.timedelta", "seconds": 3600},
                    "dependencies": ["start"],
                },
            },
        }
    }
    path = tmp_path / "probe.yaml"
    path.write_text(yaml.safe_dump(document))
    load_definition(path)
    dag = load_with_dag_factory(path)["probe"]
    assert dag["operators"] == {"start": empty, "query": athena}
    assert dag["upstream"] == {"start": [], "query": ["start"]}
    assert dag["timetable"] == "NullTimetable"

    document["probe"]["tasks"]["query"]["execution_timeout"] = 600
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(AssertionError, match="execution_timeout must be timedelta object"):
        load_with_dag_factory(path)
