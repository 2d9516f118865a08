"""The placeholders of the sample's permission contract (``sample/permissions.toml``), filled from
its own stack in the synthesized templates: resource names from the resources' name properties and
the properties that refer to other resources, never from IAM policies. Named by the manifest's
``placeholders`` (sample/addon.toml) and called by ``tools/permissions``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sample.data_plane import DATA_PREFIX, MOVIELENS_HTTP_CONN_ID
from tools.permissions.templates import ResolvedStack, resolve

_DYNAMIC_SECRET_REFERENCE = "{{resolve:secretsmanager:"


def placeholders(stack: ResolvedStack) -> dict[str, str]:
    """The ``${sample_*}`` placeholders of ``movie-list-dag``'s data plane, from its stack
    (``stack``: the sample's stack of one deployment, resolved).

    - ``sample_data_bucket``: the bucket whose server access logs go to another bucket of the
      stack; ``sample_access_log_bucket``: that other bucket.
    - ``sample_data_prefix``: the data plane's default ``data_prefix`` (the sample stack does not
      set another); ``sample_athena_results_prefix``: the key prefix of the workgroup's enforced
      result location.
    - ``sample_athena_workgroup``, ``sample_glue_database``: their ``Name`` properties.
    - ``sample_redshift_workgroup_arn``: ``Fn::GetAtt Workgroup.WorkgroupArn`` of the workgroup
      (an ARN holding the workgroup id, not its name).
    - ``sample_redshift_admin_secret_arn``: the secret of the namespace's ``AdminUserPassword``
      dynamic reference; ``sample_copy_role_arn``: its ``DefaultIamRoleArn``.
    - ``sample_http_connection_secret``: the name of the ``movielens_http`` connection secret.
    """
    data_bucket, log_bucket = _data_and_log_buckets(stack)
    workgroup = _only(stack, "AWS::Athena::WorkGroup")
    output_location = str(
        workgroup["Properties"]["WorkGroupConfiguration"]["ResultConfiguration"]["OutputLocation"]
    )
    results_bucket, _, results_prefix = output_location.removeprefix("s3://").partition("/")
    if results_bucket != data_bucket:
        raise ValueError(
            f"{stack.name}: Athena writes to {results_bucket}, not the data bucket {data_bucket}"
        )
    namespace = _only(stack, "AWS::RedshiftServerless::Namespace")["Properties"]
    (redshift_lid,) = stack.of_type("AWS::RedshiftServerless::Workgroup")
    connection = [
        str(secret["Properties"]["Name"])
        for secret in stack.of_type("AWS::SecretsManager::Secret").values()
        if str(secret["Properties"].get("Name", "")).endswith(f"/{MOVIELENS_HTTP_CONN_ID}")
    ]
    if len(connection) != 1:
        raise ValueError(
            f"{stack.name}: expected one secret named */{MOVIELENS_HTTP_CONN_ID}, found {connection}"
        )
    return {
        "sample_data_bucket": data_bucket,
        "sample_access_log_bucket": log_bucket,
        "sample_data_prefix": DATA_PREFIX,
        "sample_athena_results_prefix": results_prefix,
        "sample_athena_workgroup": str(workgroup["Properties"]["Name"]),
        "sample_glue_database": str(
            _only(stack, "AWS::Glue::Database")["Properties"]["DatabaseInput"]["Name"]
        ),
        "sample_redshift_workgroup_arn": _get_att(stack, redshift_lid, "Workgroup.WorkgroupArn"),
        "sample_redshift_admin_secret_arn": _secret_of_reference(str(namespace["AdminUserPassword"])),
        "sample_copy_role_arn": str(namespace["DefaultIamRoleArn"]),
        "sample_http_connection_secret": connection[0],
    }


def _only(stack: ResolvedStack, resource_type: str) -> Mapping[str, Any]:
    found = list(stack.of_type(resource_type).values())
    if len(found) != 1:
        raise ValueError(f"{stack.name}: {len(found)} resources of type {resource_type}, expected one")
    return found[0]


def _data_and_log_buckets(stack: ResolvedStack) -> tuple[str, str]:
    logged = [
        (stack.names[lid], str(bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"]))
        for lid, bucket in stack.of_type("AWS::S3::Bucket").items()
        if "LoggingConfiguration" in bucket["Properties"]
    ]
    if len(logged) != 1:
        raise ValueError(f"{stack.name}: expected one bucket with server access logging, found {len(logged)}")
    return logged[0]


def _get_att(stack: ResolvedStack, lid: str, attribute: str) -> str:
    """``Fn::GetAtt`` of a resource as the resolver gives it to the policies that use it
    (``ResolvedStack.arns`` holds the generic ``Arn`` form, which for a Redshift Serverless
    workgroup is not the ARN its ``Workgroup.WorkgroupArn`` attribute returns)."""
    template = {
        "Resources": {lid: stack.resources[lid]},
        "Outputs": {"Value": {"Value": {"Fn::GetAtt": [lid, attribute]}}},
    }
    single = resolve(
        template, account=stack.account, region=stack.region, partition=stack.partition, name=stack.name
    )
    return str(single.outputs["Value"]["Value"])


def _secret_of_reference(reference: str) -> str:
    """The secret ARN of a ``{{resolve:secretsmanager:<arn>:SecretString:...}}`` reference."""
    if not reference.startswith(_DYNAMIC_SECRET_REFERENCE):
        raise ValueError(f"expected a Secrets Manager dynamic reference, got {reference!r}")
    return ":".join(reference.removeprefix(_DYNAMIC_SECRET_REFERENCE).split(":")[:7])
