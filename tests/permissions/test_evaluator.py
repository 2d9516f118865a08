"""The contract's machinery on small hand-made templates: intrinsics resolve as CloudFormation
resolves them, the IAM evaluator decides as IAM does (resource policies, key policies, explicit
denies, endpoint policies), and a failure message names what is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.permissions.contract import ContractError, Deployment, evaluate, load_contract
from tools.permissions.simulate import Request, simulate
from tools.permissions.templates import ResolveError, StackTemplate, resolve_stacks

ACCOUNT = "111122223333"
PARTITION_ARN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":sns:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":t",
        ],
    ]
}


def _stack(name: str, resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> StackTemplate:
    return StackTemplate(
        name=name,
        template={"Resources": resources, "Outputs": outputs or {}},
        account=ACCOUNT,
        region="eu-west-1",
    )


def _topic_stack(topic_statements: list[dict[str, Any]]) -> StackTemplate:
    return _stack(
        "alarms",
        {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}},
            "TopicPolicy": {
                "Type": "AWS::SNS::TopicPolicy",
                "Properties": {
                    "Topics": [{"Ref": "Topic"}],
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": topic_statements},
                },
            },
        },
    )


TLS_DENY = {
    "Sid": "TlsOnly",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Resource": {"Ref": "Topic"},
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
CLOUDWATCH_ALLOW = {
    "Sid": "Alarms",
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "sns:Publish",
    "Resource": {"Ref": "Topic"},
    "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
}


def test_intrinsics_resolve_across_stacks() -> None:
    producer = _stack(
        "producer",
        {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "airflow-x"}}},
        {"BucketArn": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]}, "Export": {"Name": "producer:BucketArn"}}},
    )
    consumer = _stack(
        "consumer",
        {
            "Policy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "s3:GetObject",
                                "Resource": {
                                    "Fn::Sub": [
                                        "${Arn}/dags/*",
                                        {"Arn": {"Fn::ImportValue": "producer:BucketArn"}},
                                    ]
                                },
                            },
                            {
                                "Effect": "Allow",
                                "Action": "sns:Publish",
                                "Resource": PARTITION_ARN,
                            },
                            {
                                "Effect": "Allow",
                                "Action": "s3:ListBucket",
                                "Resource": {"Fn::Select": [1, {"Fn::Split": [",", "a,arn:aws:s3:::b"]}]},
                            },
                        ]
                    }
                },
            }
        },
    )
    # Given consumer first: resolution follows the import to its producer.
    resolved = resolve_stacks([consumer, producer])
    (policy,) = resolved["consumer"].of_type("AWS::IAM::ManagedPolicy").values()
    resources = [s["Resource"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert resources == [
        "arn:aws:s3:::airflow-x/dags/*",
        f"arn:aws:sns:eu-west-1:{ACCOUNT}:t",
        "arn:aws:s3:::b",
    ]


def test_an_import_nobody_exports_is_an_error() -> None:
    lonely = _stack(
        "lonely", {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::ImportValue": "x"}}}}
    )
    with pytest.raises(ResolveError, match="import values nobody exports: lonely"):
        resolve_stacks([lonely])


def _publish(topic_statements: list[dict[str, Any]], account: str = ACCOUNT) -> str:
    stacks = resolve_stacks([_topic_stack(topic_statements)])
    from tools.permissions.actors import resource_policy

    arn = f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts"
    (decision,) = simulate(
        [
            Request(
                principal="cloudwatch.amazonaws.com",
                action="sns:Publish",
                resource=arn,
                resource_account=ACCOUNT,
                context={"aws:SecureTransport": "true", "aws:SourceAccount": account},
                resource_policy=resource_policy(stacks, "sns:Publish", arn),
            )
        ]
    )
    return decision.result


def test_a_topic_policy_with_only_the_tls_deny_lets_no_alarm_publish() -> None:
    assert _publish([TLS_DENY]) == "ImplicitlyDenied"
    assert _publish([TLS_DENY, CLOUDWATCH_ALLOW]) == "Allowed"
    assert _publish([TLS_DENY, CLOUDWATCH_ALLOW], account="999999999999") == "ImplicitlyDenied"


def test_an_explicit_deny_wins_and_is_named() -> None:
    deny_all = {**CLOUDWATCH_ALLOW, "Sid": "NoOne", "Effect": "Deny", "Condition": {}}
    deny_all.pop("Condition")
    stacks = resolve_stacks([_topic_stack([CLOUDWATCH_ALLOW, deny_all])])
    from tools.permissions.actors import resource_policy

    arn = f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts"
    (decision,) = simulate(
        [
            Request(
                principal="cloudwatch.amazonaws.com",
                action="sns:Publish",
                resource=arn,
                resource_account=ACCOUNT,
                context={"aws:SourceAccount": ACCOUNT},
                resource_policy=resource_policy(stacks, "sns:Publish", arn),
            )
        ]
    )
    assert (decision.result, decision.deny_statements) == ("ExplicitlyDenied", ("resource:NoOne",))


def test_a_key_policy_condition_on_the_encryption_context_is_evaluated() -> None:
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:*"}
                },
            }
        ],
    }

    logs_arn = "arn:aws:logs:eu-west-1"

    def generate(log_group_account: str) -> str:
        (decision,) = simulate(
            [
                Request(
                    principal="logs.eu-west-1.amazonaws.com",
                    action="kms:GenerateDataKey",
                    resource=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                    resource_account=ACCOUNT,
                    context={
                        "kms:EncryptionContext:aws:logs:arn": f"{logs_arn}:{log_group_account}:log-group:g"
                    },
                    resource_policy=key_policy,
                )
            ]
        )
        return decision.result

    assert generate(ACCOUNT) == "Allowed"
    assert generate("999999999999") == "ImplicitlyDenied"


def test_an_endpoint_policy_guards_what_the_identity_policy_allows() -> None:
    identity = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
    }
    endpoint = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "logs:PutLogEvents", "Resource": "*"}],
    }
    role = f"arn:aws:iam::{ACCOUNT}:role/r"
    group = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:g:log-stream:s"
    put, delete = simulate(
        [
            Request(principal=role, action=action, resource=group, resource_account=ACCOUNT,
                    identity_policies=[identity], endpoint_policy=endpoint)
            for action in ("logs:PutLogEvents", "logs:DeleteLogStream")
        ]
    )  # fmt: skip
    assert (put.result, delete.result) == ("Allowed", "ImplicitlyDenied")


CONTRACT = """
[actors.alarms]
description = "CloudWatch alarms"
principal = "service:cloudwatch.amazonaws.com"

[[calls]]
actor = "alarms"
action = "sns:Publish"
resource = "${topic_arn}"
context = { "aws:SourceAccount" = "${account}" }
source = "https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html"
why = "alarms notify the topic"
"""


def _deployment(statements: list[dict[str, Any]]) -> Deployment:
    return Deployment(
        label="t",
        stacks=resolve_stacks([_topic_stack(statements)]),
        placeholders={"topic_arn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts", "account": ACCOUNT},
        conditions={},
        account=ACCOUNT,
    )


def test_a_failed_entry_names_actor_action_resource_and_the_missing_statement(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CONTRACT)
    contract = load_contract([tmp_path / "c.toml"])
    (outcome,) = evaluate(contract, [_deployment([TLS_DENY])])["t"]
    assert not outcome.ok
    message = outcome.explain()
    for part in (
        "alarms",
        "sns:Publish",
        f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts",
        "missing statement",
        "'Principal': {'Service': 'cloudwatch.amazonaws.com'}",
        "alarms notify the topic",
    ):
        assert part in message
    (fixed,) = evaluate(contract, [_deployment([TLS_DENY, CLOUDWATCH_ALLOW])])["t"]
    assert fixed.ok


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda c: c.replace('actor = "alarms"', 'actor = "nobody"'), "unknown actor 'nobody'"),
        (lambda c: c.replace('source = "https', 'sauce = "https'), "unknown keys \\['sauce'\\]"),
        (lambda c: c.replace('source = "https', '# source = "https'), "needs its source"),
        (
            lambda c: c.replace('why = "alarms', 'when = ["blue"]\nwhy = "alarms'),
            "unknown conditions \\['blue'\\]",
        ),
    ],
)
def test_a_malformed_contract_is_refused(tmp_path: Path, change: Any, error: str) -> None:
    (tmp_path / "c.toml").write_text(change(CONTRACT))
    with pytest.raises(ContractError, match=error):
        load_contract([tmp_path / "c.toml"], conditions=["customer_key"])


def test_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CONTRACT.replace("${topic_arn}", "${topic}"))
    contract = load_contract([tmp_path / "c.toml"])
    with pytest.raises(ContractError, match=r"unknown placeholder \$\{topic\}"):
        evaluate(contract, [_deployment([TLS_DENY])])
