"""AirflowNetwork: subnets, NAT, endpoints, flow logs and the security group in each mode, and
an existing VPC given as an imported ``ec2.IVpc`` or by ids."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from mwaa_constructs import AirflowNetwork
from mwaa_constructs.network import ACCOUNT_ONLY_ENDPOINTS, ISOLATED_INTERFACE_ENDPOINTS


def _template(**kwargs: object) -> tuple[AirflowNetwork, Template]:
    stack = cdk.Stack(cdk.App(), "Net")
    network = AirflowNetwork(stack, "Network", **kwargs)  # type: ignore[arg-type]
    return network, Template.from_stack(stack)


def _isolated_with_bucket() -> tuple[AirflowNetwork, s3.Bucket, Template]:
    stack = cdk.Stack(cdk.App(), "Net", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    network = AirflowNetwork(stack, "Network", mode="isolated")
    bucket = s3.Bucket(stack, "DagBucket")
    network.allow_bucket_access(bucket)
    return network, bucket, Template.from_stack(stack)


@pytest.fixture(scope="module")
def nat() -> tuple[AirflowNetwork, Template]:
    return _template(mode="nat", nat_gateways=2, vpc_cidr="10.50.0.0/16")


@pytest.fixture(scope="module")
def isolated() -> tuple[AirflowNetwork, Template]:
    return _template(mode="isolated")


def _subnets(template: Template, public: bool) -> dict:
    """Subnets by the type CDK tags them with (``aws-cdk:subnet-type``)."""
    kind = "Public" if public else Match.string_like_regexp("^(Private|Isolated)$")
    tag = Match.object_like({"Key": "aws-cdk:subnet-type", "Value": kind})
    return template.find_resources("AWS::EC2::Subnet", {"Properties": {"Tags": Match.array_with([tag])}})


def test_nat_mode_has_two_private_and_two_public_subnets_in_two_zones(nat) -> None:
    network, template = nat
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.50.0.0/16"})
    assert len(_subnets(template, public=False)) == 2
    assert len(_subnets(template, public=True)) == 2
    zones = {str(s["Properties"]["AvailabilityZone"]) for s in _subnets(template, public=False).values()}
    assert len(zones) == 2
    assert len(network.environment_subnets) == 2


def test_no_subnet_gives_public_addresses_the_nat_gateways_use_elastic_ips(nat) -> None:
    _, template = nat
    for subnet in _subnets(template, public=True).values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    for subnet in _subnets(template, public=False).values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    template.resource_count_is("AWS::EC2::EIP", 2)
    template.has_resource_properties(
        "AWS::EC2::NatGateway", {"AllocationId": {"Fn::GetAtt": [Match.any_value(), "AllocationId"]}}
    )


def test_nat_gateways_follow_the_setting(nat) -> None:
    _, template = nat
    template.resource_count_is("AWS::EC2::NatGateway", 2)
    single = _template(mode="nat", nat_gateways=1)[1]
    single.resource_count_is("AWS::EC2::NatGateway", 1)
    # Both private subnets route to the internet through the single gateway.
    routes = single.find_resources("AWS::EC2::Route", {"Properties": {"NatGatewayId": Match.any_value()}})
    assert len(routes) == 2


def test_every_created_vpc_has_flow_logs_of_all_traffic(nat, isolated) -> None:
    for _, template in (nat, isolated):
        template.has_resource_properties(
            "AWS::EC2::FlowLog",
            {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
        )


def test_every_created_vpc_writes_flow_logs_with_a_managed_policy_role(nat) -> None:
    _, template = nat
    template.resource_count_is("AWS::IAM::Policy", 0)
    template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": Match.array_with(["logs:PutLogEvents"])})]
                )
            },
            "Roles": [{"Ref": Match.string_like_regexp("FlowLogRole")}],
        },
    )


def test_security_group_admits_only_https_and_postgres_from_itself(nat) -> None:
    network, template = nat
    stack = cdk.Stack.of(network)
    logical_id = stack.resolve(stack.get_logical_id(network.security_group.node.default_child))
    ingress = template.find_resources("AWS::EC2::SecurityGroupIngress")
    rules = sorted(
        (r["Properties"]["IpProtocol"], r["Properties"]["FromPort"], r["Properties"]["ToPort"])
        for r in ingress.values()
    )
    assert rules == [("tcp", 443, 443), ("tcp", 5432, 5432)]
    for rule in ingress.values():
        assert rule["Properties"]["GroupId"] == {"Fn::GetAtt": [logical_id, "GroupId"]}
        assert rule["Properties"]["SourceSecurityGroupId"] == {"Fn::GetAtt": [logical_id, "GroupId"]}
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupEgress": [Match.object_like({"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"})]},
    )


def test_isolated_mode_has_no_internet_route_and_all_endpoints(isolated) -> None:
    _, template = isolated
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    assert len(_subnets(template, public=True)) == 0
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway", "ServiceName": Match.any_value()}
    )
    interface = template.find_resources(
        "AWS::EC2::VPCEndpoint",
        {"Properties": {"VpcEndpointType": "Interface", "PrivateDnsEnabled": True}},
    )
    assert len(interface) == len(ISOLATED_INTERFACE_ENDPOINTS) == 9
    names = " ".join(str(r["Properties"]["ServiceName"]) for r in interface.values())
    for service in (
        "airflow.api",
        "airflow.env",
        "airflow.ops",
        "sqs",
        "logs",
        "monitoring",
        "kms",
        "ecr.api",
        "ecr.dkr",
    ):
        assert f".{service}" in names, service


def test_isolated_s3_endpoint_reaches_only_the_ecr_layer_bucket_and_allowed_buckets() -> None:
    network, bucket, template = _isolated_with_bucket()
    stack = cdk.Stack.of(network)
    (gateway,) = template.find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Gateway"}}
    ).values()
    statements = gateway["Properties"]["PolicyDocument"]["Statement"]
    bucket_arn = {"Fn::GetAtt": [stack.resolve(stack.get_logical_id(bucket.node.default_child)), "Arn"]}
    by_sid = {st.get("Sid", "bucket"): st for st in statements}
    layers = by_sid["EcrImageLayers"]
    assert layers["Action"] == "s3:GetObject" and layers["Principal"] == {"AWS": "*"}
    assert layers["Resource"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::prod-eu-west-1-starport-layer-bucket/*"]]
    }
    dag = by_sid["bucket"]
    assert sorted(dag["Action"]) == ["s3:GetBucket*", "s3:GetObject*", "s3:List*"]
    assert dag["Resource"] == [bucket_arn, {"Fn::Join": ["", [bucket_arn, "/*"]]}]
    account = by_sid["AccountPublicAccessBlock"]
    assert account["Action"] == "s3:GetAccountPublicAccessBlock"
    assert account["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}
    # Nothing else can leave through the endpoint: every other statement names a bucket.
    assert len(statements) == 3
    assert all(st["Effect"] == "Allow" for st in statements)


def test_isolated_interface_endpoints_admit_this_account_where_mwaa_signs_as_it() -> None:
    _, _, template = _isolated_with_bucket()
    interface = template.find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    policies = {
        endpoint["Properties"]["ServiceName"]: endpoint["Properties"].get("PolicyDocument")
        for endpoint in interface.values()
    }
    restricted = {service: policy for service, policy in policies.items() if policy is not None}
    # Only where every caller is a principal of this account (see ACCOUNT_ONLY_ENDPOINTS).
    assert sorted(restricted) == [
        "com.amazonaws.eu-west-1.logs",
        "com.amazonaws.eu-west-1.monitoring",
        "com.amazonaws.eu-west-1.sqs",
    ]
    assert ACCOUNT_ONLY_ENDPOINTS == {
        "Logs": "logs",
        "Monitoring": "cloudwatch",
        "Sqs": "sqs",
        "SecretsManager": "secretsmanager",
    }
    iam_prefix = {"logs": "logs", "monitoring": "cloudwatch", "sqs": "sqs"}
    for service, policy in restricted.items():
        (statement,) = policy["Statement"]
        assert statement["Effect"] == "Allow" and statement["Principal"] == {"AWS": "*"}
        assert statement["Action"] == f"{iam_prefix[service.rsplit('.', 1)[1]]}:*"
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}
    # ECR, KMS and the airflow.* endpoints keep the default (full access) policy.
    assert len(policies) - len(restricted) == 6


@pytest.mark.parametrize("mode", ["isolated", "nat"])
def test_the_secrets_manager_endpoint_comes_with_isolated_mode_only(mode: str) -> None:
    stack = cdk.Stack(
        cdk.App(), "SecretsEndpoint", env=cdk.Environment(account="111122223333", region="eu-west-1")
    )
    AirflowNetwork(stack, "Network", mode=mode, secrets_manager_endpoint=True)
    template = Template.from_stack(stack)
    endpoints = template.find_resources(
        "AWS::EC2::VPCEndpoint",
        {"Properties": {"ServiceName": "com.amazonaws.eu-west-1.secretsmanager"}},
    )
    if mode == "nat":
        assert endpoints == {}
        return
    (endpoint,) = endpoints.values()
    assert endpoint["Properties"]["PrivateDnsEnabled"] is True
    (statement,) = endpoint["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "secretsmanager:*" and statement["Principal"] == {"AWS": "*"}
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}
    assert len(template.find_resources("AWS::EC2::VPCEndpoint")) == 1 + len(ISOLATED_INTERFACE_ENDPOINTS) + 1


def test_bucket_access_changes_nothing_outside_isolated_mode() -> None:
    stack = cdk.Stack(cdk.App(), "Net")
    network = AirflowNetwork(stack, "Network", mode="nat")
    network.allow_bucket_access(s3.Bucket(stack, "Other"))
    assert network.s3_endpoint is None
    Template.from_stack(stack).resource_count_is("AWS::EC2::VPCEndpoint", 0)


def test_existing_mode_imports_without_lookup() -> None:
    network, template = _template(
        mode="existing",
        vpc_id="vpc-0123456789abcdef0",
        subnet_ids=("subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"),
    )
    template.resource_count_is("AWS::EC2::VPC", 0)
    template.resource_count_is("AWS::EC2::FlowLog", 0)
    template.has_resource_properties("AWS::EC2::SecurityGroup", {"VpcId": "vpc-0123456789abcdef0"})
    assert [s.subnet_id for s in network.environment_subnets] == [
        "subnet-0aaaaaaaaaaaaaaaa",
        "subnet-0bbbbbbbbbbbbbbbb",
    ]


def test_third_zone_for_the_data_plane_keeps_two_environment_subnets() -> None:
    network, template = _template(mode="nat", availability_zones=3)
    private = _subnets(template, public=False)
    assert len(private) == 3
    zones = sorted(str(s["Properties"]["AvailabilityZone"]) for s in private.values())
    assert len(set(zones)) == 3
    assert all("Fn::GetAZs" in zone for zone in zones)
    assert len(network.environment_subnets) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {
                "mode": "existing",
                "vpc_id": "vpc-0123456789abcdef0",
                "subnet_ids": ("subnet-0aaaaaaaaaaaaaaaa",),
            },
            "exactly 2",
        ),
        ({"mode": "peered"}, "mode"),
        ({"availability_zones": 4}, "availability_zones"),
    ],
)
def test_invalid_arguments_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _template(**kwargs)


def _existing_vpc(stack: cdk.Stack, *, subnets: int = 2) -> ec2.IVpc:
    """A VPC imported as its owner describes it: subnet ids, zones and route tables."""
    zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"][:subnets]
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Existing",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=zones,
        private_subnet_ids=[f"subnet-0{i}{'a' * 15}" for i in range(subnets)],
        private_subnet_route_table_ids=[f"rtb-0{i}{'b' * 15}" for i in range(subnets)],
    )


def test_existing_mode_with_an_imported_vpc_warns_about_nothing() -> None:
    stack = cdk.Stack(cdk.App(), "Net", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    network = AirflowNetwork(stack, "Network", mode="existing", vpc=_existing_vpc(stack, subnets=3))
    template = Template.from_stack(stack)
    # One private subnet in each of the first two zones; the third stays the owner's.
    assert [s.subnet_id for s in network.environment_subnets] == [
        "subnet-00aaaaaaaaaaaaaaa",
        "subnet-01aaaaaaaaaaaaaaa",
    ]
    template.has_resource_properties("AWS::EC2::SecurityGroup", {"VpcId": "vpc-0123456789abcdef0"})
    template.resource_count_is("AWS::EC2::FlowLog", 0)
    assert Annotations.from_stack(stack).find_warning("*", Match.any_value()) == []


def test_existing_mode_by_id_warns_that_cdk_cannot_know_zones_and_route_tables() -> None:
    network, _ = _template(
        mode="existing",
        vpc_id="vpc-0123456789abcdef0",
        subnet_ids=("subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"),
    )
    warnings = Annotations.from_stack(cdk.Stack.of(network)).find_warning("*", Match.any_value())
    texts = sorted(str(w.entry.data)[:60] for w in warnings)
    assert texts == [
        "No routeTableId was provided to the subnet 'subnet-0aaaaaaaa",
        "No routeTableId was provided to the subnet 'subnet-0bbbbbbbb",
        "fromVpcAttributes: 'availabilityZones' is a list token: the ",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "nat", "with_vpc": True}, r"^AirflowNetwork vpc: given with mode 'nat'"),
        (
            {"mode": "existing", "with_vpc": True, "vpc_id": "vpc-0123456789abcdef0"},
            r"^AirflowNetwork vpc: given with vpc_id='vpc-0123456789abcdef0'",
        ),
        (
            {
                "mode": "existing",
                "with_vpc": True,
                "select": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            },
            r"^AirflowNetwork vpc_subnets: got \[.*\]; MWAA needs exactly 2 private subnets in different "
            r"availability zones; got 3$",
        ),
        (
            {"mode": "existing", "select": ec2.SubnetSelection(one_per_az=True)},
            r"^AirflowNetwork vpc_subnets: given without vpc",
        ),
    ],
    ids=["vpc-with-nat", "vpc-and-id", "three-subnets", "selection-without-vpc"],
)
def test_an_existing_vpc_is_given_one_way(kwargs: dict, message: str) -> None:
    stack = cdk.Stack(cdk.App(), "Net")
    vpc = _existing_vpc(stack, subnets=3) if kwargs.pop("with_vpc", False) else None
    select = kwargs.pop("select", None)
    with pytest.raises(ValueError, match=message):
        AirflowNetwork(stack, "Network", vpc=vpc, vpc_subnets=select, **kwargs)


def test_flow_log_acknowledgments_make_sense_outside_this_repository(nat) -> None:
    network, _ = nat
    reasons = {
        rule: reason
        for construct in network.node.find_all()
        for entry in construct.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules"
        for rule, reason in entry.data.items()
    }
    assert any(rule.endswith("CloudWatchLogGroupEncrypted") for rule in reasons)
    for rule, reason in reasons.items():
        assert not re.search(r"profile|cdk\.json|this (project|repository)", reason, re.I), (rule, reason)
