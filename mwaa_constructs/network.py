"""The network an MWAA environment runs in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

NetworkMode = Literal["nat", "isolated", "existing"]

# Interface endpoints an environment needs when its subnets have no route to the internet
# (MWAA user guide, "private network without internet access"). S3 is a gateway endpoint.
ISOLATED_INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "AirflowApi": ec2.InterfaceVpcEndpointAwsService.AIRFLOW_API,
    "AirflowEnv": ec2.InterfaceVpcEndpointAwsService.AIRFLOW_ENV,
    "AirflowOps": ec2.InterfaceVpcEndpointAwsService.AIRFLOW_OPS,
}


class AirflowNetwork(Construct):
    """A VPC (new or imported), the two private subnets MWAA uses and its security group.

    Modes:

    - ``nat`` (default): a new VPC with a public and a private subnet in each availability zone
      and ``nat_gateways`` NAT gateways (1 shares one gateway, 2 puts one in each zone).
    - ``isolated``: a new VPC with private subnets only and no internet route; the gateway
      endpoint for S3 and the interface endpoints in :data:`ISOLATED_INTERFACE_ENDPOINTS`, all
      with private DNS, give the environment the AWS services it needs.
    - ``existing``: imports ``vpc_id`` and the two ``subnet_ids`` without any lookup, so synthesis
      needs no credentials. Routing and endpoints are the owner's responsibility.

    Every VPC created here records all traffic in VPC flow logs (CloudWatch Logs, encrypted
    with ``flow_log_key`` when given). ``availability_zones`` is 2 by default; 3 adds a third
    private subnet for services that need three zones (Redshift Serverless) while
    :attr:`environment_subnets` stays the first two, as MWAA takes exactly two.

    The security group allows all traffic from itself (MWAA's web server, workers and metadata
    database talk to each other through it) and all outbound traffic.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        mode: NetworkMode = "nat",
        vpc_cidr: str = "10.192.0.0/16",
        nat_gateways: int = 1,
        availability_zones: int = 2,
        vpc_id: str | None = None,
        subnet_ids: Sequence[str] = (),
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        flow_log_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        if availability_zones not in (2, 3):
            raise ValueError(f"availability_zones: got {availability_zones}; expected 2 or 3")

        if mode == "existing":
            if not vpc_id or len(subnet_ids) != 2:
                raise ValueError(
                    f"mode 'existing' needs vpc_id and exactly 2 subnet_ids; got vpc_id={vpc_id!r}, "
                    f"subnet_ids={list(subnet_ids)!r}"
                )
            # No Vpc.from_lookup: it needs credentials at synth. Only the id is used (security
            # group placement); the subnets are imported by id.
            self.vpc: ec2.IVpc = ec2.Vpc.from_vpc_attributes(
                self, "Vpc", vpc_id=vpc_id, availability_zones=cdk.Fn.get_azs()
            )
            subnets = [
                ec2.Subnet.from_subnet_id(self, f"Subnet{i + 1}", subnet_id)
                for i, subnet_id in enumerate(subnet_ids)
            ]
            self.private_subnets: list[ec2.ISubnet] = subnets
        elif mode in ("nat", "isolated"):
            vpc = self._create_vpc(mode, vpc_cidr, nat_gateways, availability_zones)
            log_group = logs.LogGroup(
                self,
                "FlowLogGroup",
                retention=flow_log_retention,
                encryption_key=flow_log_key,
                removal_policy=removal_policy,
            )
            vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group),
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )
            self.vpc = vpc
            self.private_subnets = list(vpc.isolated_subnets if mode == "isolated" else vpc.private_subnets)
        else:
            raise ValueError(f"mode: got {mode!r}; expected 'nat', 'isolated' or 'existing'")

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=self.vpc,
            description="MWAA environment: self-referencing, all outbound",
            allow_all_outbound=True,
        )
        self.security_group.add_ingress_rule(
            self.security_group,
            ec2.Port.all_traffic(),
            "MWAA components reach each other (web server 443, metadata database 5432)",
        )
        if mode == "isolated":
            self._add_endpoints(self.vpc)

    @property
    def environment_subnets(self) -> list[ec2.ISubnet]:
        """The two private subnets, in different zones, that the environment runs in."""
        return self.private_subnets[:2]

    def _create_vpc(self, mode: str, cidr: str, nat_gateways: int, az_count: int) -> ec2.Vpc:
        private = ec2.SubnetConfiguration(
            name="Private",
            subnet_type=(
                ec2.SubnetType.PRIVATE_ISOLATED if mode == "isolated" else ec2.SubnetType.PRIVATE_WITH_EGRESS
            ),
            cidr_mask=20,
        )
        subnets = [private]
        if mode == "nat":
            subnets.insert(
                0, ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)
            )
        # Zones named as Fn::Select over Fn::GetAZs, resolved at deploy time: no context lookup
        # (which would need credentials at synth when account and region are set), and a third
        # zone even in an environment-agnostic stack, which otherwise knows only two.
        zones = [cdk.Fn.select(i, cdk.Fn.get_azs()) for i in range(az_count)]
        return ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=zones,
            nat_gateways=nat_gateways if mode == "nat" else 0,
            subnet_configuration=subnets,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            restrict_default_security_group=True,
        )

    def _add_endpoints(self, vpc: ec2.IVpc) -> None:
        vpc.add_gateway_endpoint("S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3)
        for name, service in ISOLATED_INTERFACE_ENDPOINTS.items():
            vpc.add_interface_endpoint(
                f"{name}Endpoint",
                service=service,
                private_dns_enabled=True,
                # The environment's own group: its self-referencing rule already admits the
                # environment, so no rule for the whole VPC range is added (open=False).
                security_groups=[self.security_group],
                open=False,
                subnets=ec2.SubnetSelection(subnets=self.environment_subnets),
            )
