"""The bridge to the CDK's diff engine (scripts/cfn_diff.cjs): what it reports for small templates."""

from __future__ import annotations

import copy

import pytest
from review_testing import diff, template, with_

from tools.review import engine
from tools.review.engine import Change, DeployTimeChange, RuleChange
from tools.review.model import ReviewError


def test_property_changes_carry_old_and_new_values_per_leaf() -> None:
    base = template()
    head = with_(base, "Environment.Properties.MaxWorkers", 8)
    head["Resources"]["Environment"]["Properties"]["NetworkConfiguration"]["SubnetIds"][1] = {
        "Ref": "SubnetA"
    }
    (resource,) = diff(base, head).resources
    assert (resource.logical_id, resource.type, resource.impact) == (
        "Environment",
        "AWS::MWAA::Environment",
        "WILL_UPDATE",
    )
    assert resource.changes == (
        Change("Properties", ("MaxWorkers",), "2", "8", "WILL_UPDATE"),
        Change(
            "Properties", ("NetworkConfiguration", "SubnetIds", 1), "${SubnetB}", "${SubnetA}", "WILL_UPDATE"
        ),
    )
    assert [c.text for c in resource.changes] == [
        "MaxWorkers: 2 → 8",
        "NetworkConfiguration.SubnetIds[1]: ${SubnetB} → ${SubnetA}",
    ]


def test_the_engine_decides_replacement_from_the_service_specification() -> None:
    base = template()
    result = diff(base, with_(base, "Bucket.Properties.BucketName", "airflow-data"))
    bucket, environment = result.resource("Bucket"), result.resource("Environment")
    assert bucket is not None and bucket.replaced and bucket.impact == "WILL_REPLACE"
    assert bucket.changes[0].text == "BucketName: unset → airflow-data"
    # A new bucket has a new ARN: the environment that reads it is updated on deploy.
    assert environment is not None and environment.impact == "WILL_UPDATE"
    assert [(s.where, s.targets) for s in environment.deploy_time] == [("SourceBucketArn", ("Bucket",))]


def test_metadata_and_cdk_metadata_are_ignored_but_asset_keys_are_not() -> None:
    base = template(
        Dags={
            "Type": "Custom::CDKBucketDeployment",
            "Properties": {"SourceObjectKeys": ["aaaa.zip"]},
            "Metadata": {"aws:cdk:path": "Stack/Dags"},
        }
    )
    head = with_(base, "Dags.Metadata", {"aws:cdk:path": "Stack/Dags", "aws:asset:path": "asset.bbbb"})
    head = with_(head, "CDKMetadata.Properties", {"Analytics": "v2:deflate64:bbb"})
    assert diff(base, head).empty
    head = with_(head, "Dags.Properties", {"SourceObjectKeys": ["bbbb.zip"]})
    (resource,) = diff(base, head).resources
    # A custom type is not in the service specification: its changed input is an update.
    assert (resource.logical_id, resource.impact) == ("Dags", "WILL_UPDATE")
    assert resource.changes == (
        Change("Properties", ("SourceObjectKeys", 0), "aaaa.zip", "bbbb.zip", "WILL_UPDATE"),
    )


def test_cloudformation_init_metadata_is_compared() -> None:
    base = template()
    head = with_(base, "Bucket.Metadata", {"AWS::CloudFormation::Init": {"config": {"commands": {}}}})
    (resource,) = diff(base, head).resources
    assert resource.changes[0].section == "Metadata"


def test_a_changed_custom_resource_changes_its_attributes_on_deploy() -> None:
    base = template()
    result = diff(
        base, with_(base, "PluginsVersion.Properties.Update", '{"physicalResourceId":"plugins@bbbb"}')
    )
    environment = result.resource("Environment")
    assert environment is not None and environment.changes == ()
    assert environment.deploy_time == (
        DeployTimeChange(("PluginsS3ObjectVersion",), ("PluginsVersion",), "WILL_UPDATE"),
    )
    # A new handler alone (ServiceToken) returns the same attributes.
    result = diff(base, with_(base, "PluginsVersion.Properties.ServiceToken", "arn:other-handler"))
    assert result.resource("Environment") is None


def test_a_replaced_resource_changes_every_reference_to_it() -> None:
    base = template()
    result = diff(base, with_(base, "SubnetB.Properties.CidrBlock", "10.0.2.0/24"))
    subnet, environment = result.resource("SubnetB"), result.resource("Environment")
    assert subnet is not None and subnet.impact == "WILL_REPLACE"
    assert environment is not None
    assert [(s.where, s.targets) for s in environment.deploy_time] == [
        ("NetworkConfiguration.SubnetIds[1]", ("SubnetB",))
    ]


def test_iam_statements_added_and_removed_come_from_the_engine() -> None:
    base = template(
        BucketPolicy={
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Bucket"},
                "PolicyDocument": {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]},
            },
        }
    )
    head = copy.deepcopy(base)
    head["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"] = [
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]},
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }
    ]
    head["Resources"]["Policy"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "extra",
            "Roles": [{"Ref": "Role"}],
            "PolicyDocument": {
                "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]
            },
        },
    }
    statements = diff(base, head).statements
    assert sorted(
        (s.change, s.effect, s.actions, s.resources, s.principals, s.condition) for s in statements
    ) == [
        (
            "added",
            "Allow",
            ("s3:PutObject",),
            ("${Bucket.Arn}/*",),
            ("AWS:${Role}",),
            '{"Bool":{"aws:SecureTransport":"true"}}',
        ),
        ("added", "Allow", ("sqs:SendMessage",), ("*",), ("AWS:${Role}",), ""),
        ("removed", "Allow", ("s3:GetObject",), ("*",), ("AWS:${Role}",), ""),
    ]


def test_trust_policy_principals_are_shown() -> None:
    base = template()
    head = with_(
        base,
        "Role.Properties.AssumeRolePolicyDocument",
        {
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "111122223333"}}
            ]
        },
    )
    added = [s for s in diff(base, head).statements if s.change == "added"]
    assert [(s.actions, s.resources, s.principals) for s in added] == [
        (("sts:AssumeRole",), ("${Role.Arn}",), ("AWS:111122223333",))
    ]


def test_security_group_rules_inline_and_as_resources() -> None:
    base = template()
    head = with_(
        base,
        "Group.Properties.SecurityGroupIngress",
        [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "web"}],
    )
    head["Resources"]["Egress"] = {
        "Type": "AWS::EC2::SecurityGroupEgress",
        "Properties": {
            "GroupId": {"Fn::GetAtt": ["Group", "GroupId"]},
            "IpProtocol": "-1",
            "DestinationSecurityGroupId": {"Fn::GetAtt": ["Group", "GroupId"]},
        },
    }
    assert diff(base, head).rules == (
        RuleChange("added", "ingress", "${Group.GroupId}", "TCP 443", "Everyone (IPv4)"),
        RuleChange("added", "egress", "${Group.GroupId}", "Everything", "${Group.GroupId}"),
    )
    assert [r.change for r in diff(head, base).rules] == ["removed", "removed"]


def test_outputs_show_old_and_new_values() -> None:
    base = {**template(), "Outputs": {"EnvironmentName": {"Value": "mwaa-dev"}}}
    head = {**template(), "Outputs": {"EnvironmentName": {"Value": "mwaa-dev2"}, "Url": {"Value": "x"}}}
    assert [o.text for o in diff(base, head).outputs] == [
        "EnvironmentName.Value: mwaa-dev → mwaa-dev2",
        "Url.Value: unset → x",
    ]


def test_a_missing_side_is_all_added_or_all_removed() -> None:
    added = diff(None, template())
    assert {r.change for r in added.resources} == {"added"}
    assert {r.impact for r in added.resources} == {"WILL_CREATE"}
    removed = diff(template(), None)
    assert {r.impact for r in removed.resources} == {"WILL_DESTROY"}


def test_without_node_the_review_says_how_to_install_the_engine(monkeypatch) -> None:
    monkeypatch.setattr(engine.shutil, "which", lambda name: None)
    with pytest.raises(ReviewError, match="npm ci"):
        engine.compare([(None, template())])
