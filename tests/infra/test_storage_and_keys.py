"""AirflowKey, DagBucket and AirflowLogGroups: the stateful resources and their protection."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from app import build_app
from mwaa_constructs import AirflowKey, AirflowLogGroups, DagBucket
from mwaa_constructs.dag_bucket import bucket_name_part
from mwaa_constructs.log_groups import retention_days
from tests.infra.conftest import TLS_ONLY_STATEMENT, cdk_context

STATEFUL_TYPES = ("AWS::S3::Bucket", "AWS::Logs::LogGroup", "AWS::KMS::Key")


@pytest.fixture(scope="module")
def retained() -> Template:
    stack = cdk.Stack(cdk.App(), "Retained")
    key = AirflowKey(stack, "Key", environment_name="env-a").key
    DagBucket(stack, "DagBucket", environment_name="env-a", encryption_key=key)
    AirflowLogGroups(
        stack, "Logs", environment_name="env-a", retention=logs.RetentionDays.ONE_YEAR, encryption_key=key
    )
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def destroyed() -> Template:
    stack = cdk.Stack(cdk.App(), "Destroyed")
    DagBucket(stack, "DagBucket", environment_name="env-b", removal_policy=cdk.RemovalPolicy.DESTROY)
    AirflowLogGroups(stack, "Logs", environment_name="env-b", removal_policy=cdk.RemovalPolicy.DESTROY)
    return Template.from_stack(stack)


def test_key_rotates_and_lets_only_this_accounts_log_groups_use_it(retained: Template) -> None:
    retained.has_resource(
        "AWS::KMS::Key", {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"}
    )
    (key,) = retained.find_resources("AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    (logs_statement,) = [
        statement
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
        if "logs." in json.dumps(statement["Principal"])
    ]
    assert logs_statement["Principal"] == {
        "Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    }
    assert logs_statement["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":logs:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":*",
                    ],
                ]
            }
        }
    }


def test_dag_bucket_is_airflow_prefixed_versioned_private_and_tls_only(retained: Template) -> None:
    retained.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": {
                "Fn::Join": ["", ["airflow-env-a-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})}
                    )
                ]
            },
            "LoggingConfiguration": {
                "DestinationBucketName": Match.any_value(),
                "LogFilePrefix": "dag-bucket/",
            },
            "LifecycleConfiguration": {
                "Rules": [
                    Match.object_like(
                        {"NoncurrentVersionExpiration": {"NoncurrentDays": 90}, "Status": "Enabled"}
                    )
                ]
            },
        },
    )
    retained.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {"PolicyDocument": {"Statement": Match.array_with([TLS_ONLY_STATEMENT])}},
    )


def test_access_log_bucket_uses_sse_s3_as_log_delivery_requires(retained: Template) -> None:
    logs_buckets = retained.find_resources(
        "AWS::S3::Bucket",
        {
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        Match.object_like({"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}})
                    ]
                }
            }
        },
    )
    assert len(logs_buckets) == 1


def _policies(template: Template) -> dict[str, set[tuple[str, str]]]:
    """(DeletionPolicy, UpdateReplacePolicy) of every bucket, log group and key, by type."""
    return {
        resource_type: {
            (r.get("DeletionPolicy", "Delete"), r.get("UpdateReplacePolicy", "Delete"))
            for r in template.find_resources(resource_type).values()
        }
        for resource_type in STATEFUL_TYPES
    }


def test_by_default_buckets_logs_and_key_survive_all_but_a_failed_create(retained: Template) -> None:
    """Kept through replacement and stack deletion, deleted when the first create rolls back, so
    that a retry does not collide with the names they hold."""
    assert _policies(retained) == {t: {("RetainExceptOnCreate", "Retain")} for t in STATEFUL_TYPES}
    retained.resource_count_is("Custom::S3AutoDeleteObjects", 0)


def test_an_explicit_retain_is_kept_as_given() -> None:
    stack = cdk.Stack(cdk.App(), "Kept")
    key = AirflowKey(stack, "Key", environment_name="env-k", removal_policy=cdk.RemovalPolicy.RETAIN).key
    DagBucket(stack, "DagBucket", environment_name="env-k", removal_policy=cdk.RemovalPolicy.RETAIN)
    AirflowLogGroups(
        stack, "Logs", environment_name="env-k", encryption_key=key, removal_policy=cdk.RemovalPolicy.RETAIN
    )
    assert _policies(Template.from_stack(stack)) == {t: {("Retain", "Retain")} for t in STATEFUL_TYPES}


@pytest.fixture(scope="module")
def prod_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The shipped prod profile (removal_policy "retain"), built as the app builds it."""
    app = cdk.App(context={**cdk_context(), "profile": "prod"}, outdir=str(tmp_path_factory.mktemp("prod")))
    (built,) = build_app(app)
    assert built.profile.removal_policy == "retain"
    return Template.from_stack(built.platform)


def test_prod_retains_every_bucket_log_group_and_key_except_on_a_failed_create(
    prod_template: Template,
) -> None:
    counts = {t: len(prod_template.find_resources(t)) for t in STATEFUL_TYPES}
    # The DAG bucket, the backup bucket and their access log buckets; five environment log groups,
    # the flow logs and the backup function's.
    assert counts == {"AWS::S3::Bucket": 4, "AWS::Logs::LogGroup": 7, "AWS::KMS::Key": 1}
    assert _policies(prod_template) == {t: {("RetainExceptOnCreate", "Retain")} for t in STATEFUL_TYPES}
    prod_template.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "RetainExceptOnCreate",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketName": Match.object_like({"Fn::Join": ["", Match.array_with(["airflow-mwaa-prod-"])]})
            },
        },
    )


def test_destroy_policy_empties_and_deletes_buckets(destroyed: Template) -> None:
    buckets = destroyed.find_resources("AWS::S3::Bucket")
    assert {r["DeletionPolicy"] for r in buckets.values()} == {"Delete"}
    destroyed.resource_count_is("Custom::S3AutoDeleteObjects", 2)
    destroyed.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like({"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}})
                ]
            },
            "BucketName": Match.any_value(),
        },
    )


def test_log_groups_have_mwaa_names_retention_and_key(retained: Template) -> None:
    for suffix in ("DAGProcessing", "Scheduler", "Task", "WebServer", "Worker"):
        retained.has_resource_properties(
            "AWS::Logs::LogGroup",
            {
                "LogGroupName": f"airflow-env-a-{suffix}",
                "RetentionInDays": 365,
                "KmsKeyId": Match.any_value(),
            },
        )
    retained.resource_count_is("AWS::Logs::LogGroup", 5)


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("mwaa-prod", "mwaa-prod"),
        ("x" * 27, "x" * 27),
        ("Env_A", "env-a-{hash}"),
        ("x" * 80, "x" * 20 + "-{hash}"),
    ],
)
def test_bucket_name_part_is_valid_for_s3_and_unique(name: str, part: str) -> None:
    result = bucket_name_part(name)
    assert re.fullmatch(part.replace("{hash}", "[0-9a-f]{6}"), result)
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-z0-9]", result)
    assert len(f"airflow-{result}-123456789012-ap-southeast-4") <= 63


def test_names_that_normalise_alike_get_different_buckets() -> None:
    names = ["Env_A", "env-a", "ENV-A", "x" * 80, "x" * 79 + "y"]
    assert len({bucket_name_part(n) for n in names}) == len(names)


def test_retention_days_maps_every_accepted_value_and_rejects_others() -> None:
    assert retention_days(14) == logs.RetentionDays.TWO_WEEKS
    assert retention_days(3653) == logs.RetentionDays.TEN_YEARS
    with pytest.raises(ValueError, match="15 days"):
        retention_days(15)
