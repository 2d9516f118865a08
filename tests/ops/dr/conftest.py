"""Fixtures of the disaster-recovery tests: two real local Airflow 3.3.1 instances.

The scenario (dr_scenario.py) runs once per test session, even with pytest-xdist: the first
worker to ask takes a file lock, starts the instances, runs it and writes its results as JSON
beside the workers' temporary directories; the others wait on the lock and read them. The
Airflow processes are stopped as soon as the scenario is done, and again by the session
fixture's teardown, whatever happened.
"""

from __future__ import annotations

import fcntl
import json
import os
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dr_airflow import LocalAirflow
from dr_scenario import make_pair, run_scenario


def _shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker has basetemp/popen-gwN; their parent belongs to this session only.
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "dr-scenario"
    shared.mkdir(parents=True, exist_ok=True)
    return shared


class AirflowPair:
    """The source and destination instances, created on demand by the worker that runs the scenario."""

    def __init__(self) -> None:
        self.instances: list[LocalAirflow] = []

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()


@pytest.fixture(scope="session")
def airflow_pair() -> Iterator[AirflowPair]:
    pair = AirflowPair()
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture(scope="session")
def dr(tmp_path_factory: pytest.TempPathFactory, airflow_pair: AirflowPair) -> dict[str, Any]:
    """The scenario's results (see dr_scenario.run_scenario)."""
    shared = _shared_dir(tmp_path_factory)
    results_file = shared / "results.json"
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not results_file.exists():
                root = shared / "run"
                source, dest, start = make_pair(root)
                airflow_pair.instances.extend([source, dest])
                try:
                    results = run_scenario(root, source, dest, start)
                except Exception:
                    results = {"error": traceback.format_exc()}
                finally:
                    airflow_pair.stop()
                results_file.write_text(json.dumps(results, default=str))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    results = json.loads(results_file.read_text())
    if "error" in results:
        pytest.fail(f"the disaster-recovery scenario failed:\n{results['error']}")
    return results
