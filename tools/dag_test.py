"""``make dag-test DAG=<dag_id> [PROFILE=dev]``: run one DAG locally, once, with ``airflow dags test``.

The profile's DAG folder (as deployed, see :mod:`tools.dag_folders`) is assembled in a temporary
folder, with a throw-away ``AIRFLOW_HOME`` and SQLite database that are deleted afterwards. The
exit code is non-zero when the run did not succeed. Tasks call real services: a DAG that talks
to AWS needs credentials in the environment, as on MWAA it has the execution role's.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.dag_folders import dag_tree, shipped_profiles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dag_id")
    parser.add_argument("--profile", default="dev", help="cdk.json profile whose DAG folder is used")
    args = parser.parse_args(argv)
    if not args.dag_id:
        print("error: DAG: give a DAG id, e.g. make dag-test DAG=mwaa_platform_smoke", file=sys.stderr)
        return 2
    (profile,) = shipped_profiles(names=args.profile)
    airflow = str(Path(sys.executable).with_name("airflow"))
    with tempfile.TemporaryDirectory(prefix="dag-test-") as scratch:
        home = Path(scratch) / "airflow-home"
        folder = dag_tree(profile).materialize(Path(scratch) / "dags")
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])),
        }
        print(f"dag-test: profile {profile.name}, DAG folder {profile.artifacts.dags}/ assembled in {folder}")
        steps = [
            ([airflow, "db", "migrate"], subprocess.DEVNULL),
            ([airflow, "dags", "reserialize"], subprocess.DEVNULL),
            ([airflow, "dags", "test", args.dag_id], None),
        ]
        for command, output in steps:
            if subprocess.run(command, env=env, stdout=output, check=False).returncode != 0:
                print(f"dag-test: '{' '.join(command[1:])}' failed", file=sys.stderr)
                return 1
        state = _last_run_state(home / "airflow.db", args.dag_id)
    print(f"dag-test: {args.dag_id} finished: {state}")
    return 0 if state == "success" else 1


def _last_run_state(database: Path, dag_id: str) -> str:
    """State of the run ``dags test`` made, read from the throw-away database (the command's
    exit code is 0 even when a task failed, and its listing commands print log lines around
    their output)."""
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
        ).fetchone()
    return str(row[0]) if row else "no run"


if __name__ == "__main__":
    sys.exit(main())
