"""Reusable CDK constructs for Amazon MWAA: network, key, bucket, role, logs, environment,
artifacts. Named ``mwaa_constructs`` because a top-level ``constructs`` package would shadow the
``constructs`` library every CDK app imports."""

from mwaa_constructs.artifacts import AirflowArtifacts, ArtifactError
from mwaa_constructs.dag_bucket import DagBucket
from mwaa_constructs.encryption import AirflowKey
from mwaa_constructs.environment import AirflowEnvironment, EnvironmentBase, S3ObjectVersion
from mwaa_constructs.execution_role import ExecutionRole
from mwaa_constructs.log_groups import AirflowLogGroups
from mwaa_constructs.network import AirflowNetwork

__all__ = [
    "AirflowArtifacts",
    "AirflowEnvironment",
    "AirflowKey",
    "AirflowLogGroups",
    "AirflowNetwork",
    "ArtifactError",
    "DagBucket",
    "EnvironmentBase",
    "ExecutionRole",
    "S3ObjectVersion",
]
