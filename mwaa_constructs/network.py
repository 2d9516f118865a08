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
from constructs import Construct, IConstruct

from mwaa_constructs.nag import acknowledge_compliance
from mwaa_constructs.roles import ManagedPolicyRole
from mwaa_rules import endpoints

NetworkMode = Literal["nat", "isolated", "existing"]

# A problem with an input: (setting, value received, what is allowed). The construct that owns
# the setting words the error, so that it names itself.
Problem = tuple[str, object, str]

# MWAA runs in exactly two private subnets of one VPC, in two availability zones, with one to five
# security groups ("About networking on Amazon MWAA",
# https://docs.aws.amazon.com/mwaa/latest/userguide/networking-about.html; "Security in your VPC on
# Amazon MWAA", https://docs.aws.amazon.com/mwaa/latest/userguide/vpc-security.html).
SUBNETS_RULE = "MWAA needs exactly 2 private subnets in different availability zones"
MAX_SECURITY_GROUPS = 5

# Interface endpoints an environment needs when its subnets have no route to the internet
# (the list, with its source, is mwaa_rules.endpoints). S3 is a gateway endpoint.
ISOLATED_INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    endpoint.name: ec2.InterfaceVpcEndpointAwsService(endpoint.service)
    for endpoint in endpoints.ISOLATED_INTERFACE_ENDPOINTS
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
    endpoints.SECRETS_MANAGER_ENDPOINT.name: ec2.InterfaceVpcEndpointAwsService(
        endpoints.SECRETS_MANAGER_ENDPOINT.service
    ),
}


def environment_security_group(scope: Construct, id: str, *, vpc: ec2.IVpc) -> ec2.SecurityGroup:
    """A new security group for an MWAA environment in ``vpc``: TCP 443 (web server and VPC
    endpoints) and TCP 5432 (metadata database) from itself, all outbound.

    MWAA requires a group that admits itself; these two ports are the narrower form of that rule
    ("Security in your VPC on Amazon MWAA",
    https://docs.aws.amazon.com/mwaa/latest/userguide/vpc-security.html). Nothing else gets in:
    clients of a private web server need a rule of their own."""
    group = ec2.SecurityGroup(
        scope,
        id,
        vpc=vpc,
        description="MWAA environment: self-referencing, all outbound",
        allow_all_outbound=True,
    )
    for port, what in ((443, "web server and VPC endpoints"), (5432, "metadata database")):
        group.add_ingress_rule(group, ec2.Port.tcp(port), f"MWAA components reach the {what}")
    return group


def select_environment_subnets(
    vpc: ec2.IVpc | None, vpc_subnets: ec2.SubnetSelection | None
) -> tuple[list[ec2.ISubnet], list[Problem]]:
    """The two subnets an environment runs in, and what is wrong with them.

    Without ``vpc_subnets``: one private subnet per availability zone of ``vpc`` (its subnets with
    egress, else its isolated ones), the first two. With ``vpc_subnets``: the subnets it selects,
    which must be exactly two, none of them public, in two zones. Checks that need a value CDK
    only knows at deploy time (a subnet id or zone that is a token, a subnet imported without its
    zone) are skipped; MWAA checks them when the environment is created. ``vpc`` may be ``None``
    only with explicit ``vpc_subnets.subnets``."""
    if vpc_subnets is None:
        if vpc is None:
            return [], [("vpc", None, "required: the VPC the environment runs in")]
        candidates = list(vpc.private_subnets) or list(vpc.isolated_subnets)
        chosen: list[ec2.ISubnet] = []
        zones: set[str] = set()
        for subnet in candidates:
            zone = _zone(subnet)
            if zone is not None and zone in zones:
                continue
            if zone is not None:
                zones.add(zone)
            chosen.append(subnet)
        if len(chosen) < 2:
            return chosen, [
                (
                    "vpc",
                    _describe(vpc.vpc_id, vpc),
                    f"{SUBNETS_RULE}; this VPC has {len(candidates)} private subnet(s) in "
                    f"{len(chosen)} zone(s): pass vpc_subnets, or a VPC with private subnets in two zones",
                )
            ]
        return chosen[:2], []

    if vpc_subnets.subnets is not None:
        # Taken as given, as Vpc.select_subnets does for explicit subnets, without reading the
        # zones it would read (a subnet imported by id alone has none to read).
        chosen = list(vpc_subnets.subnets)
        public_ids = {subnet.subnet_id for subnet in vpc.public_subnets} if vpc is not None else set()
        has_public = any(subnet.subnet_id in public_ids for subnet in chosen)
    elif vpc is None:
        return [], [("vpc", None, "required: the VPC the environment runs in")]
    else:
        selected = vpc.select_subnets(
            availability_zones=vpc_subnets.availability_zones,
            one_per_az=vpc_subnets.one_per_az,
            subnet_filters=vpc_subnets.subnet_filters,
            subnet_group_name=vpc_subnets.subnet_group_name,
            subnet_type=vpc_subnets.subnet_type,
        )
        chosen, has_public = list(selected.subnets), selected.has_public

    described = [_describe(subnet.subnet_id, subnet) for subnet in chosen]
    problems: list[Problem] = []
    if len(chosen) != 2:
        problems.append(("vpc_subnets", described, f"{SUBNETS_RULE}; got {len(chosen)}"))
    if has_public:
        problems.append(("vpc_subnets", described, f"{SUBNETS_RULE}: public subnets are not allowed"))
    # Equal ids are the same subnet, also when both are the same token.
    ids = [subnet.subnet_id for subnet in chosen]
    if len(set(ids)) != len(ids):
        problems.append(("vpc_subnets", described, f"{SUBNETS_RULE}: the same subnet is given twice"))
    elif len(chosen) == 2:
        first, second = (_zone(subnet) for subnet in chosen)
        # Two equal strings are the same zone, also when both are the same token.
        if first is not None and first == second:
            problems.append(
                ("vpc_subnets", described, f"{SUBNETS_RULE}: both are in {_describe(first, None)}")
            )
    return chosen, problems


def _zone(subnet: ec2.ISubnet) -> str | None:
    """The subnet's availability zone, or None for a subnet imported without one."""
    try:
        return subnet.availability_zone
    except RuntimeError:  # jsii: "You cannot reference a Subnet's availability zone if it was not supplied"
        return None


def _describe(value: str, construct: IConstruct | None) -> str:
    """A value for an error message: itself, or where it comes from when it is a token."""
    if not cdk.Token.is_unresolved(value):
        return value
    return f"<token of {construct.node.path}>" if construct is not None else "<the same token>"


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
    - ``existing``: a VPC of the owner's, no lookup, so synthesis needs no credentials; routing
      and endpoints are the owner's responsibility. Either ``vpc`` (imported with its subnets,
      zones and route tables, e.g. ``ec2.Vpc.from_vpc_attributes``: CDK then warns about nothing)
      with ``vpc_subnets`` (default: one private subnet in each of two zones), or ``vpc_id`` and
      the two ``subnet_ids`` (imported by id alone: CDK warns that the VPC's zones are a token and
      that the subnets have no route table id, because it cannot know them).

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
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
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

        self.vpc: ec2.IVpc
        self.private_subnets: list[ec2.ISubnet]
        if mode != "existing" and (vpc is not None or vpc_subnets is not None):
            raise ValueError(
                f"AirflowNetwork vpc: given with mode {mode!r}; an existing VPC needs mode 'existing'"
            )
        if mode == "existing" and vpc is not None:
            if vpc_id or subnet_ids:
                raise ValueError(
                    f"AirflowNetwork vpc: given with vpc_id={vpc_id!r}, subnet_ids={list(subnet_ids)!r}; "
                    "pass the imported vpc (and vpc_subnets) or the ids, not both"
                )
            subnets, problems = select_environment_subnets(vpc, vpc_subnets)
            if problems:
                raise ValueError(
                    "\n".join(
                        f"AirflowNetwork {setting}: got {value!r}; {allowed}"
                        for setting, value, allowed in problems
                    )
                )
            self.vpc = vpc
            self.private_subnets = subnets
        elif mode == "existing":
            if vpc_subnets is not None:
                raise ValueError(
                    "AirflowNetwork vpc_subnets: given without vpc; select subnets of an imported vpc"
                )
            if not vpc_id or len(subnet_ids) != 2:
                raise ValueError(
                    f"mode 'existing' needs vpc_id and exactly 2 subnet_ids; got vpc_id={vpc_id!r}, "
                    f"subnet_ids={list(subnet_ids)!r}"
                )
            # No Vpc.from_lookup: it needs credentials at synth. Only the id is used (security
            # group placement); the subnets are imported by id.
            self.vpc = ec2.Vpc.from_vpc_attributes(
                self, "Vpc", vpc_id=vpc_id, availability_zones=cdk.Fn.get_azs()
            )
            subnets = [
                ec2.Subnet.from_subnet_id(self, f"Subnet{i + 1}", subnet_id)
                for i, subnet_id in enumerate(subnet_ids)
            ]
            self.private_subnets = subnets
        elif mode in ("nat", "isolated"):
            created = self._create_vpc(mode, vpc_cidr, nat_gateways, availability_zones)
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
                        "CloudWatchLogGroupEncrypted": "No customer managed key was given for the "
                        "flow logs (flow_log_key): CloudWatch Logs encrypts them at rest with keys it "
                        "owns. Pass a customer managed key to control and audit their encryption."
                    },
                )
            flow_log_role = ManagedPolicyRole(
                self,
                "FlowLogRole",
                description="VPC flow logs of the MWAA network: write to the flow log group",
                assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            )
            created.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group, flow_log_role),
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )
            self.vpc = created
            self.private_subnets = list(
                created.isolated_subnets if mode == "isolated" else created.private_subnets
            )
        else:
            raise ValueError(f"mode: got {mode!r}; expected 'nat', 'isolated' or 'existing'")

        self.security_group = environment_security_group(self, "SecurityGroup", vpc=self.vpc)
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
