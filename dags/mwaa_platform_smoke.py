"""``mwaa_platform_smoke``: the platform's own end-to-end check, run after every deployment.

``mwaa-ops smoke --dag mwaa_platform_smoke`` triggers it. One successful run shows that the
path every DAG takes works: the DAG processor parsed this file from the DAG bucket, the
scheduler queued the run, a worker ran both tasks, the second one received the first one's
result (XCom through the metadata database), a variable lookup went through the configured
secrets backend without an error, and the task logs reached CloudWatch.

It has no schedule, so it runs only when triggered, and it is not paused at creation, so that a
pipeline can trigger it on a new environment without a manual step. It needs no connection and
no permission beyond what every environment has.
"""

from __future__ import annotations

import importlib.metadata
import platform
from datetime import datetime
from typing import Any

try:
    from airflow.sdk import Variable, dag, task
except ImportError:  # Airflow 2.x: the same API before the Task SDK
    from airflow.decorators import dag, task
    from airflow.models import Variable

DAG_ID = "mwaa_platform_smoke"
# Looked up on every run: through the secrets backend (when one is configured), then the
# environment and the metadata database. Absent is fine; a backend that fails is not.
PROBE_VARIABLE = "mwaa_platform_smoke_probe"


def runtime_report() -> dict[str, Any]:
    """Versions the worker runs: Airflow, Python and the Amazon provider."""
    return {
        "airflow": importlib.metadata.version("apache-airflow"),
        "python": platform.python_version(),
        "amazon_provider": importlib.metadata.version("apache-airflow-providers-amazon"),
    }


def check_report(report: dict[str, Any], probe: str | None) -> str:
    """The line the second task logs; fails when the first task's result did not arrive whole."""
    missing = [key for key in ("airflow", "python", "amazon_provider") if not report.get(key)]
    if missing:
        raise ValueError(f"runtime report from the first task lacks {', '.join(missing)}: {report!r}")
    found = "set" if probe is not None else "not set"
    return (
        f"Airflow {report['airflow']} on Python {report['python']}, amazon provider "
        f"{report['amazon_provider']}; variable {PROBE_VARIABLE} {found}"
    )


@dag(
    dag_id=DAG_ID,
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=1,
    tags=["platform"],
    doc_md=__doc__,
)
def mwaa_platform_smoke() -> None:
    @task
    def runtime() -> dict[str, Any]:
        return runtime_report()

    @task
    def verify(report: dict[str, Any]) -> str:
        line = check_report(report, Variable.get(PROBE_VARIABLE, default=None))
        print(line)
        return line

    verify(runtime())


mwaa_platform_smoke()
