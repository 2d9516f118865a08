"""The fixture DAGs of the disaster-recovery tests, written into a temporary DAG folder.

``START`` is written into the files as a literal (a DAG whose start date moved at every parse
would be a different DAG each time). Every task appends one JSON line to the file named by
``DR_EXECUTIONS_LOG`` (one per Airflow instance), so the tests can tell which task instances
really executed where.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

HEADER = """\
import json
import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, get_current_context

START = datetime.fromisoformat("{start}")
ARGS = {{"retries": 0}}


def record(result=None):
    ti = get_current_context()["ti"]
    with open(os.environ["DR_EXECUTIONS_LOG"], "a") as log:
        log.write(json.dumps({{"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id}}) + "\\n")
    return result
"""

DAGS = {
    # Hourly with catchup: the scheduler runs every interval from START on.
    "dr_catchup": """
with DAG("dr_catchup", schedule=timedelta(hours=1), start_date=START, catchup=True, default_args=ARGS):
    extract = PythonOperator(task_id="extract", python_callable=record, op_args=[{"rows": 3}])
    load = PythonOperator(task_id="load", python_callable=record)
    extract >> load
""",
    # A short interval without catchup: its next interval comes during the test.
    "dr_ticker": """
with DAG("dr_ticker", schedule=timedelta(seconds=20), start_date=START, catchup=False, default_args=ARGS):
    PythonOperator(task_id="tick", python_callable=record)
""",
    # Run by hand, then paused.
    "dr_paused": """
with DAG("dr_paused", schedule=None, start_date=START, default_args=ARGS):
    PythonOperator(task_id="work", python_callable=record)
""",
    # One task fails: its downstream task ends upstream_failed, an all_done cleanup succeeds.
    "dr_fails": """
def boom():
    record()
    raise RuntimeError("this task fails on purpose")


with DAG("dr_fails", schedule=None, start_date=START, default_args=ARGS):
    failing = PythonOperator(task_id="boom", python_callable=boom)
    after = PythonOperator(task_id="after", python_callable=record)
    cleanup = PythonOperator(task_id="cleanup", python_callable=record, trigger_rule="all_done")
    failing >> after
    failing >> cleanup
""",
    # Pushes a return value and an XCom of its own.
    "dr_xcom": """
def push():
    record()
    get_current_context()["ti"].xcom_push(key="extra", value=[1, 2, 3])
    return {"answer": 42}


with DAG("dr_xcom", schedule=None, start_date=START, default_args=ARGS):
    PythonOperator(task_id="push", python_callable=push)
""",
}


def write_dags(folder: Path, *, start: datetime) -> set[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for dag_id, body in DAGS.items():
        (folder / f"{dag_id}.py").write_text(HEADER.format(start=start.isoformat()) + body)
    return set(DAGS)
