"""The sample workflow's files and settings, for a stack that deploys it with ``ServerlessWorkflow``.

The code package is ``code/``: the task functions (``movie_list_serverless.py``) and, through a
symbolic link, the Python DAG's own ``movie_list`` package, less the DAG file itself (it imports
the HTTP provider, which MWAA Serverless does not install) and its ``.airflowignore``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFINITION = HERE / "movie_list.yaml"
CODE = HERE / "code"
CODE_EXCLUDE = (
    "movie_list/movie_list_dag.py",
    "movie_list/.airflowignore",
    "movie_list/movie_list_config.json",
)
WORKFLOW_NAME = "movie-list"
# The task functions read their settings from these variables (movie_list_serverless.load_config).
ENVIRONMENT_PREFIX = "MOVIE_LIST_"


def environment_variables(dag_config: Mapping[str, str]) -> dict[str, str]:
    """The workflow's environment variables for the data plane's DAG configuration
    (``SampleDataPlane.dag_config``, the keys of ``movie_list_config.json``)."""
    return {f"{ENVIRONMENT_PREFIX}{key.upper()}": value for key, value in dag_config.items()}
