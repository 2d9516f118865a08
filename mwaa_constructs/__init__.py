"""Reusable CDK constructs for Amazon MWAA: network, key, bucket, role, logs, environment,
artifacts, monitoring, access. Named ``mwaa_constructs`` because a top-level ``constructs``
package would shadow the ``constructs`` library every CDK app imports.

The constructs are loaded on first use (PEP 562), so that ``from mwaa_constructs import rules``
(the MWAA service rules, used by the profile model and the ``mwaa-ops`` tool) does not start the
jsii runtime of aws-cdk-lib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mwaa_constructs.access import AirflowAccess
    from mwaa_constructs.artifacts import AirflowArtifacts, ArtifactError
    from mwaa_constructs.dag_bucket import DagBucket
    from mwaa_constructs.encryption import AirflowKey
    from mwaa_constructs.environment import AirflowEnvironment, EnvironmentBase, S3ObjectVersion
    from mwaa_constructs.execution_role import ExecutionRole
    from mwaa_constructs.log_groups import AirflowLogGroups
    from mwaa_constructs.monitoring import AirflowMonitoring
    from mwaa_constructs.network import AirflowNetwork
    from mwaa_constructs.secrets_backend import SecretsManagerBackend

_EXPORTS = {
    "AirflowAccess": "access",
    "AirflowArtifacts": "artifacts",
    "ArtifactError": "artifacts",
    "DagBucket": "dag_bucket",
    "AirflowKey": "encryption",
    "AirflowEnvironment": "environment",
    "EnvironmentBase": "environment",
    "S3ObjectVersion": "environment",
    "ExecutionRole": "execution_role",
    "AirflowLogGroups": "log_groups",
    "AirflowMonitoring": "monitoring",
    "AirflowNetwork": "network",
    "SecretsManagerBackend": "secrets_backend",
}

__all__ = [
    "AirflowAccess",
    "AirflowArtifacts",
    "AirflowEnvironment",
    "AirflowKey",
    "AirflowLogGroups",
    "AirflowMonitoring",
    "AirflowNetwork",
    "ArtifactError",
    "DagBucket",
    "EnvironmentBase",
    "ExecutionRole",
    "S3ObjectVersion",
    "SecretsManagerBackend",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mwaa_constructs' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mwaa_constructs.{module}"), name)
