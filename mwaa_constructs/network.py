"""The network an MWAA environment runs in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mwaa_constructs.nag import acknowledge_compliance
from mwaa_constructs.roles import ManagedPolicyRole

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

# Interface endpoints whose policy admits only principals of this account
# (``aws:PrincipalAccount``), with the IAM prefix of their service. Every call made through them
# is signed by a principal of the environment's own account: CloudWatch Logs and CloudWatch
# metrics are written into the caller's own account (the environment's log groups and the
# AmazonMWAA namespace, by the execution role), and MWAA grants its Celery queue actions to the
# execution role only (the queue itself lives in a service account; the condition is on the
# caller, not on the queue). The other endpoints keep the default full-access policy, as the
# MWAA user guide recommends ("Security in your VPC", VPC endpoint policies): ECR pulls of the
# MWAA image from an AWS-owned repository are made with the service's credentials (the
# execution role has no ECR permission); MWAA uses the environment key through grants it
# creates for its own principals (KMS); and which principal signs the calls of the
# environment's own components to airflow.api, airflow.env and airflow.ops is not documented.
ACCOUNT_ONLY_ENDPOINTS: dict[str, str] = {
    "Logs": "logs",
    "Monitoring": "cloudwatch",
    "Sqs": "sqs",
    "SecretsManager": "secretsmanager",
}

# The interface endpoint Airflow's Secrets Manager backend needs in ``isolated`` mode
# (``secrets_manager_endpoint``): it reads the secrets of this account with the execution role,
# hence also in ACCOUNT_ONLY_ENDPOINTS.
SECRETS_MANAGER_ENDPOINT: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
}


class AirflowNetwork(Construct):
    """A VPC (new or imported), the two private subnets MWAA uses and its security group.

    Modes:

    - ``nat`` (default): a new VPC with a public and a private subnet in each availability zone
      and ``nat_gateways`` NAT gateways (1 shares one gateway, 2 puts one in each zone).
    - ``isolated``: a new VPC with private subnets only and no internet route; the gateway
      endpoint for S3 and the interface endpoints in :data:`ISOLATED_INTERFACE_ENDPOINTS`, all
      with private DNS, give the environment the AWS services it needs; with
      ``secrets_manager_endpoint`` also Secrets Manager's (:data:`SECRETS_MANAGER_ENDPOINT`), for
      Airflow's Secrets Manager backend. Ignored in the other modes.
    - ``existing``: imports ``vpc_id`` and the two ``subnet_ids`` without any lookup, so synthesis
      needs no credentials. Routing and endpoints are the owner's responsibility.

    Every VPC created here records all traffic in VPC flow logs (CloudWatch Logs, encrypted
    with ``flow_log_key`` when given). ``availability_zones`` is 2 by default; 3 adds a third
    private subnet for services that need three zones (Redshift Serverless) while
    :attr:`environment_subnets` stays the first two, as MWAA takes exactly two.

    The public subnets of ``nat`` mode hold only the NAT gateways (with Elastic IPs) and give
    no public address to anything launched in them (``MapPublicIpOnLaunch: false``).

    The security group admits TCP 443 (web server) and TCP 5432 (metadata database) from
    itself, the narrower form the MWAA user guide documents, and all outbound traffic. With a
    ``PRIVATE_ONLY`` web server MWAA puts the web server's endpoint in this group too, so its
    users need a rule of their own: ``AirflowEnvironment.allow_webserver_access_from(peer)``.

    In ``isolated`` mode the endpoints carry policies: the S3 gateway endpoint reaches only the
    AWS-owned bucket of ECR image layers and the buckets given to :meth:`allow_bucket_access`;
    the endpoints in :data:`ACCOUNT_ONLY_ENDPOINTS` admit only principals of this account.
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
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        secrets_manager_endpoint: bool = False,
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
            if flow_log_key is None:
                acknowledge_compliance(
                    log_group,
                    {
                        "CloudWatchLogGroupEncrypted": "No customer managed key in this profile "
                        "(encryption 'aws_owned'): CloudWatch Logs encrypts the flow logs with its "
                        "own keys. Profiles with a customer managed key encrypt them with it."
                    },
                )
            flow_log_role = ManagedPolicyRole(
                self,
                "FlowLogRole",
                description="VPC flow logs of the MWAA network: write to the flow log group",
                assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            )
            vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group, flow_log_role),
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
        for port, what in ((443, "web server and VPC endpoints"), (5432, "metadata database")):
            self.security_group.add_ingress_rule(
                self.security_group, ec2.Port.tcp(port), f"MWAA components reach the {what}"
            )
        self.s3_endpoint: ec2.GatewayVpcEndpoint | None = None
        if mode == "isolated":
            self._add_endpoints(self.vpc, secrets_manager=secrets_manager_endpoint)

    def allow_bucket_access(self, bucket: s3.IBucket, *, write: bool = False) -> None:
        """Let the S3 gateway endpoint of an ``isolated`` network reach ``bucket`` (read; with
        ``write`` also put, delete and abort multipart uploads). Whoever calls still needs IAM
        permission: the endpoint policy only bounds what can leave the VPC. No effect in the
        other modes (``nat`` reaches S3 through the NAT gateways, ``existing`` has the owner's
        endpoints)."""
        if self.s3_endpoint is None:
            return
        actions = ["s3:GetObject*", "s3:GetBucket*", "s3:List*"]
        if write:
            actions += ["s3:PutObject", "s3:DeleteObject*", "s3:Abort*"]
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                principals=[iam.AnyPrincipal()],
                actions=actions,
                resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
            )
        )

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
            # Only the NAT gateways live here, on Elastic IPs: nothing needs an automatic public IP.
            subnets.insert(
                0,
                ec2.SubnetConfiguration(
                    name="Public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=24,
                    map_public_ip_on_launch=False,
                ),
            )
        # Zones named as Fn::Select over Fn::GetAZs, resolved at deploy time: no context lookup
        # (which would need credentials at synth when account and region are set), and a third
        # zone even in an environment-agnostic stack, which otherwise knows only two.
        zones = [cdk.Fn.select(i, cdk.Fn.get_azs()) for i in range(az_count)]
        vpc = ec2.Vpc(
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
        for subnet in vpc.public_subnets:
            route = subnet.node.try_find_child("DefaultRoute")
            if route is not None:
                acknowledge_compliance(
                    route,
                    {
                        "VPCNoUnrestrictedRouteToIGW": "The public subnet holds only a NAT gateway, "
                        "which reaches the internet through this route; the environment's private "
                        "subnets route through the NAT gateway and accept no inbound connection."
                    },
                )
        return vpc

    def _add_endpoints(self, vpc: ec2.IVpc, *, secrets_manager: bool) -> None:
        stack = cdk.Stack.of(self)
        self.s3_endpoint = vpc.add_gateway_endpoint("S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3)
        # The AWS-owned bucket ECR serves image layers from (presigned URLs, hence any principal):
        # MWAA pulls its container image through ECR. The MWAA user guide's S3 gateway endpoint
        # policy for private routing ("Security in your VPC on Amazon MWAA") names this bucket and
        # the environment's own DAG bucket (allow_bucket_access), nothing else.
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="EcrImageLayers",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=[f"arn:{stack.partition}:s3:::prod-{stack.region}-starport-layer-bucket/*"],
            )
        )
        # The execution role's reference policy includes this account-level read; it has no
        # resource, so it is limited to callers of this account instead.
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="AccountPublicAccessBlock",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetAccountPublicAccessBlock"],
                resources=["*"],
                conditions={"StringEquals": {"aws:PrincipalAccount": stack.account}},
            )
        )
        interface = {**ISOLATED_INTERFACE_ENDPOINTS, **(SECRETS_MANAGER_ENDPOINT if secrets_manager else {})}
        for name, service in interface.items():
            endpoint = vpc.add_interface_endpoint(
                f"{name}Endpoint",
                service=service,
                private_dns_enabled=True,
                # The environment's own group: its self-referencing rule already admits the
                # environment, so no rule for the whole VPC range is added (open=False).
                security_groups=[self.security_group],
                open=False,
                subnets=ec2.SubnetSelection(subnets=self.environment_subnets),
            )
            if name in ACCOUNT_ONLY_ENDPOINTS:
                endpoint.add_to_policy(
                    iam.PolicyStatement(
                        sid="PrincipalsOfThisAccount",
                        principals=[iam.AnyPrincipal()],
                        actions=[f"{ACCOUNT_ONLY_ENDPOINTS[name]}:*"],
                        resources=["*"],
                        conditions={"StringEquals": {"aws:PrincipalAccount": stack.account}},
                    )
                )
