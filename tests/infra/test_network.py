"""AirflowNetwork: subnets, NAT, endpoints, flow logs and the security group in each mode."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from mwaa_constructs import AirflowNetwork
from mwaa_constructs.network import ISOLATED_INTERFACE_ENDPOINTS


def _template(**kwargs: object) -> tuple[AirflowNetwork, Template]:
    stack = cdk.Stack(cdk.App(), "Net")
    network = AirflowNetwork(stack, "Network", **kwargs)  # type: ignore[arg-type]
    return network, Template.from_stack(stack)


@pytest.fixture(scope="module")
def nat() -> tuple[AirflowNetwork, Template]:
    return _template(mode="nat", nat_gateways=2, vpc_cidr="10.50.0.0/16")


@pytest.fixture(scope="module")
def isolated() -> tuple[AirflowNetwork, Template]:
    return _template(mode="isolated")


def _subnets(template: Template, public: bool) -> dict:
    return template.find_resources("AWS::EC2::Subnet", {"Properties": {"MapPublicIpOnLaunch": public}})


def test_nat_mode_has_two_private_and_two_public_subnets_in_two_zones(nat) -> None:
    network, template = nat
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.50.0.0/16"})
    assert len(_subnets(template, public=False)) == 2
    assert len(_subnets(template, public=True)) == 2
    zones = {str(s["Properties"]["AvailabilityZone"]) for s in _subnets(template, public=False).values()}
    assert len(zones) == 2
    assert len(network.environment_subnets) == 2


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


def test_security_group_references_itself_and_allows_outbound(nat) -> None:
    network, template = nat
    stack = cdk.Stack.of(network)
    logical_id = stack.resolve(stack.get_logical_id(network.security_group.node.default_child))
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "IpProtocol": "-1",
            "GroupId": {"Fn::GetAtt": [logical_id, "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": [logical_id, "GroupId"]},
        },
    )
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
