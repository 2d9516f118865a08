"""Reusable CDK constructs for Amazon MWAA: network, key, bucket, role, logs, environment,
artifacts, monitoring, access. Named ``mwaa_constructs`` because a top-level ``constructs``
package would shadow the ``constructs`` library every CDK app imports.

The MWAA rules the constructs validate against live in ``mwaa_rules``, which needs no CDK;
``rules``, ``versions`` and ``requirements`` are importable from here too, as they were before
they moved there (``from mwaa_constructs import rules``).
"""

from __future__ import annotations

from mwaa_constructs.access import AirflowAccess
from mwaa_constructs.artifacts import AirflowArtifacts, ArtifactError
from mwaa_constructs.backup import BackupBucket, ReplicaStorage, ScheduledBackup
from mwaa_constructs.dag_bucket import DagBucket
from mwaa_constructs.encryption import AirflowKey
from mwaa_constructs.environment import (
    AirflowEnvironment,
    EndpointManagement,
    EnvironmentBase,
    EnvironmentClass,
    EnvironmentMetricOptions,
    LogLevel,
    S3ObjectVersion,
    WebserverAccessMode,
    WorkerReplacementStrategy,
)
from mwaa_constructs.execution_role import ExecutionRole
from mwaa_constructs.log_groups import AirflowLogGroups
from mwaa_constructs.monitoring import AirflowMonitoring
from mwaa_constructs.network import AirflowNetwork
from mwaa_constructs.secrets_backend import SecretsManagerBackend
from mwaa_constructs.serverless import ServerlessWorkflow, WorkflowBase
from mwaa_rules import requirements, rules, versions

__all__ = [
    "AirflowAccess",
    "AirflowArtifacts",
    "AirflowEnvironment",
    "AirflowKey",
    "AirflowLogGroups",
    "AirflowMonitoring",
    "AirflowNetwork",
    "ArtifactError",
    "BackupBucket",
    "DagBucket",
    "EndpointManagement",
    "EnvironmentBase",
    "EnvironmentClass",
    "EnvironmentMetricOptions",
    "ExecutionRole",
    "LogLevel",
    "ReplicaStorage",
    "S3ObjectVersion",
    "ScheduledBackup",
    "SecretsManagerBackend",
    "ServerlessWorkflow",
    "WebserverAccessMode",
    "WorkerReplacementStrategy",
    "WorkflowBase",
    "requirements",
    "rules",
    "versions",
]
