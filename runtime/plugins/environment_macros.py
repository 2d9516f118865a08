"""Airflow plugin: template macros that tell a task which MWAA environment runs it.

MWAA sets ``AIRFLOW_ENV_NAME`` in every container; DAGs use ``{{ macros.environment_macros.
environment_name() }}`` to tag outputs or alerts per environment without hard-coding it.
"""

from __future__ import annotations

import os

from airflow.plugins_manager import AirflowPlugin


def environment_name(default: str = "local") -> str:
    """Name of the MWAA environment running this code, or ``default`` outside MWAA."""
    return os.environ.get("AIRFLOW_ENV_NAME", default)


class EnvironmentMacrosPlugin(AirflowPlugin):
    name = "environment_macros"
    macros = [environment_name]  # noqa: RUF012 (the AirflowPlugin API is a class-level list)
