"""Small hand-written templates for the change review's tests: one MWAA environment with what it
references (subnets, a security group, the bucket, a custom resource for the plugins version)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from tools.review import engine
from tools.review.engine import StackDiff
from tools.review.model import EnvironmentVerdict, StackTemplate
from tools.review.verdicts import environment_verdicts

STACK = "mwaa-dev-platform"


def environment(**properties: Any) -> dict[str, Any]:
    base = {
        "Name": "mwaa-dev",
        "MaxWorkers": 2,
        "NetworkConfiguration": {
            "SubnetIds": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}],
            "SecurityGroupIds": [{"Fn::GetAtt": ["Group", "GroupId"]}],
        },
        "PluginsS3ObjectVersion": {"Fn::GetAtt": ["PluginsVersion", "VersionId"]},
        "SourceBucketArn": {"Fn::GetAtt": ["Bucket", "Arn"]},
    }
    base.update(properties)
    return {"Type": "AWS::MWAA::Environment", "Properties": base}


def template(**overrides: Any) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Environment": environment(),
        "SubnetA": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": "10.0.0.0/24", "VpcId": "vpc-1"}},
        "SubnetB": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": "10.0.1.0/24", "VpcId": "vpc-1"}},
        "Group": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "environment", "VpcId": "vpc-1"},
        },
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"VersioningConfiguration": {"Status": "Enabled"}},
        },
        "PluginsVersion": {
            "Type": "Custom::AWS",
            "Properties": {"ServiceToken": "arn:handler", "Update": '{"physicalResourceId":"plugins@aaaa"}'},
        },
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "airflow.amazonaws.com"},
                        }
                    ]
                },
                "Policies": [
                    {
                        "PolicyName": "inline",
                        "PolicyDocument": {
                            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
                        },
                    }
                ],
            },
        },
        "CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:deflate64:aaa"}},
    }
    resources.update(overrides)
    return {"Resources": resources}


def with_(template: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``template`` with ``value`` at ``path`` (``Resource.Properties.Key``)."""
    changed = copy.deepcopy(template)
    *parents, last = path.split(".")
    target = changed["Resources"]
    for part in parents:
        target = target[part]
    target[last] = value
    return changed


def diff(base: dict[str, Any] | None, head: dict[str, Any] | None) -> StackDiff:
    (result,) = engine.compare([(base, head)])
    return result


def verdict(base: dict[str, Any], head: dict[str, Any]) -> EnvironmentVerdict:
    (result,) = environment_verdicts(STACK, base, head, diff(base, head))
    return result


def stack(name: str, body: dict[str, Any], region: str | None = "eu-west-1") -> StackTemplate:
    return StackTemplate(name, name, region, body)


@dataclass
class FakeEstimate:
    monthly_idle: float
    monthly_full: float
    priced: bool = True
    region: str | None = "eu-west-1"
