"""An L2-style construct for an Amazon MWAA Serverless workflow (CDK ships only ``CfnWorkflow``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypedDict

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_mwaaserverless as mwaaserverless
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from mwaa_constructs.nag import acknowledge_compliance
from mwaa_constructs.roles import ManagedPolicyRole
from mwaa_rules import serverless as rules

SERVICE_PRINCIPAL = "airflow-serverless.amazonaws.com"
# Files of a code package folder that never belong in the zip: byte code written by local runs
# would also change the asset hash, and with it the workflow, on every synth.
CODE_EXCLUDES = ("**/__pycache__", "**/*.pyc")


class WorkflowBase(cdk.Resource):
    """Grants shared by created and imported workflows.

    No ``metric_*`` methods: MWAA Serverless publishes no CloudWatch metrics. Its observability
    is the task logs in the workflow's log group and the run details of ``GetWorkflowRun``
    ("Observability with CloudWatch",
    https://docs.aws.amazon.com/mwaa/latest/mwaa-serverless-userguide/observe-with-cloudwatch.html),
    and run and task state changes on EventBridge (``source: aws.airflow-serverless``, detail
    types such as "MWAA Serverless Workflow Run Failed",
    https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-airflow-serverless.html): alarm
    on those with an EventBridge rule.
    """

    workflow_arn: str

    def grant_start_run(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start runs of this workflow (``airflow-serverless:StartWorkflowRun``,
        the service authorization reference,
        https://docs.aws.amazon.com/service-authorization/latest/reference/list_mwaa-serverless.html)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["airflow-serverless:StartWorkflowRun"],
            resource_arns=[self.workflow_arn],
        )


class _ImportedWorkflow(WorkflowBase):
    def __init__(self, scope: Construct, id: str, *, workflow_arn: str) -> None:
        super().__init__(scope, id)
        self.workflow_arn = workflow_arn


class ServerlessWorkflow(WorkflowBase):
    """An Amazon MWAA Serverless workflow: one DAG from a YAML definition, with secure defaults.

    - ``definition``: a local YAML file in the dag-factory format, checked at synth against the
      service's rules (:func:`mwaa_rules.serverless.load_definition`: shape, ids, operators, the
      callables of ``code``, retries and timeouts, schedule, dependencies); a definition the
      service would refuse raises :class:`mwaa_rules.serverless.DefinitionError` with one line per
      problem. It is uploaded as its own file asset, whose object key is the hash of its content:
      changing one definition changes only its own workflow's ``DefinitionS3Location``.
    - ``code`` (default: none): a folder zipped as the workflow's code package (``Code.S3Location``)
      for ``PythonOperator``, ``BashOperator`` and operators of your own; the service unpacks it
      at the root of the DAG folder. Symbolic links are followed; ``__pycache__`` folders,
      ``*.pyc`` and ``code_exclude`` patterns are left out.
    - ``role`` (default: created): the execution role, trusted by ``airflow-serverless.amazonaws.com``
      only, with a customer managed policy (:attr:`role_policy`) that reads exactly the definition
      and code objects, writes the workflow's log group and uses ``kms_key`` (``kms:Decrypt``,
      ``kms:GenerateDataKey``, ``kms:DescribeKey``): what the user guide's "Execution roles" page
      lists (https://docs.aws.amazon.com/mwaa/latest/mwaa-serverless-userguide/get-started-execution-role.html).
      The trust policy has no ``aws:SourceAccount``/``aws:SourceArn`` conditions: the service
      does not document that it sends them, and a condition on an absent key denies the
      AssumeRole. Grant the workflow's own data access on :attr:`role`.
    - ``log_group`` (default: created, with a name CloudFormation generates, ``log_retention``,
      encrypted with ``kms_key`` when given, ``removal_policy``): where the service writes task
      logs (``LoggingConfiguration``). ``kms_key`` must let CloudWatch Logs use it
      (:class:`mwaa_constructs.AirflowKey` does).
    - ``kms_key`` (default: an AWS managed key): ``EncryptionConfiguration``.
    - Network (default: none, tasks run in the service's network): with ``vpc``, tasks run in
      ``vpc_subnets`` (default: the private subnets with egress) with ``security_groups``
      (default: one that admits nothing and lets out TCP 443 only); :attr:`connections` controls
      them. Tasks that reach the internet need subnets with a NAT route.
    - ``trigger_mode``, ``description``, ``tags``: passed to the resource as given.
    - ``environment_variables`` (default: none): the workflow's ``Environment.Variables``, read by
      its tasks; plain text in ``GetWorkflow``, so never secrets. The pinned aws-cdk-lib's
      ``CfnWorkflow`` lacks the property: it is set with a property override, and the schemas
      bundled with cfn-lint 1.58 and aws-cdk-lib 2.275 (its synth-time "CloudFormation Validate"),
      which lag the resource, are told to skip that one finding on that resource only.

    ``name`` and the encryption (``kms_key``) are create-only (the resource schema's
    ``createOnlyProperties``): changing either replaces the workflow, and since workflow names
    are unique in an account, the replacement of a named workflow fails. Choose both once. The
    workflow's ARN (:attr:`workflow_arn`) ends with a suffix the service generates.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        definition: str | Path,
        code: str | Path | None = None,
        code_exclude: Sequence[str] = (),
        role: iam.IRole | None = None,
        log_group: logs.ILogGroup | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        kms_key: kms.IKey | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        trigger_mode: str | None = None,
        description: str | None = None,
        environment_variables: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ) -> None:
        super().__init__(scope, id, physical_name=name)
        self._validate(
            name=name,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
            environment_variables=environment_variables or {},
        )
        self.workflow_name = name
        self.definition = rules.load_definition(definition, code_package=code)

        self.definition_asset = s3_assets.Asset(self, "Definition", path=str(definition))
        self.code_asset: s3_assets.Asset | None = None
        if code is not None:
            self.code_asset = s3_assets.Asset(
                self,
                "Code",
                path=str(code),
                exclude=[*CODE_EXCLUDES, *code_exclude],
                follow_symlinks=cdk.SymlinkFollowMode.ALWAYS,
            )

        self.log_group = log_group or logs.LogGroup(
            self,
            "Logs",
            retention=log_retention,
            encryption_key=kms_key,
            removal_policy=removal_policy,
        )
        if log_group is None and kms_key is None:
            acknowledge_compliance(
                self.log_group,
                {
                    "CloudWatchLogGroupEncrypted": "No customer managed key given: CloudWatch Logs "
                    "encrypts the group with its own keys. With kms_key, the group uses that key."
                },
            )

        self.role_policy: iam.ManagedPolicy | None = None
        if role is None:
            created = ManagedPolicyRole(
                self,
                "Role",
                description=f"Execution role of the MWAA Serverless workflow {name}",
                assumed_by=iam.ServicePrincipal(SERVICE_PRINCIPAL),
            )
            self.role_policy = created.policy
            role = created
        self.role = role
        self._grant_execution(kms_key)

        self.connections: ec2.Connections | None = None
        network = None
        if vpc is not None:
            groups = list(security_groups or [self._default_security_group(vpc)])
            self.connections = ec2.Connections(security_groups=groups)
            subnets = vpc.select_subnets(
                **_selection_arguments(vpc_subnets or ec2.SubnetSelection(subnet_type=_PRIVATE))
            )
            network = mwaaserverless.CfnWorkflow.NetworkConfigurationProperty(
                subnet_ids=subnets.subnet_ids,
                security_group_ids=[group.security_group_id for group in groups],
            )

        self.resource = mwaaserverless.CfnWorkflow(
            self,
            "Resource",
            name=name,
            role_arn=self.role.role_arn,
            definition_s3_location=mwaaserverless.CfnWorkflow.S3LocationProperty(
                bucket=self.definition_asset.s3_bucket_name,
                object_key=self.definition_asset.s3_object_key,
            ),
            code=(
                mwaaserverless.CfnWorkflow.CodeProperty(
                    s3_location=mwaaserverless.CfnWorkflow.CodeS3LocationProperty(
                        bucket=self.code_asset.s3_bucket_name,
                        object_key=self.code_asset.s3_object_key,
                    )
                )
                if self.code_asset is not None
                else None
            ),
            encryption_configuration=mwaaserverless.CfnWorkflow.EncryptionConfigurationProperty(
                type="CUSTOMER_MANAGED_KEY" if kms_key is not None else "AWS_MANAGED_KEY",
                kms_key_id=kms_key.key_arn if kms_key is not None else None,
            ),
            logging_configuration=mwaaserverless.CfnWorkflow.LoggingConfigurationProperty(
                log_group_name=self.log_group.log_group_name
            ),
            network_configuration=network,
            trigger_mode=trigger_mode,
            description=description,
            tags=dict(sorted((tags or {}).items())) or None,
        )
        if environment_variables:
            self.resource.add_property_override(
                "Environment.Variables", dict(sorted(environment_variables.items()))
            )
            # The resource schemas bundled with cfn-lint 1.58 and with aws-cdk-lib 2.275 (its
            # "CloudFormation Validate" synth check) predate Environment, which the CloudFormation
            # template reference documents (aws-properties-mwaaserverless-workflow-environment):
            # both are told to skip "additional properties" on this resource only (cfn-lint's
            # E3002, the engine's F3002).
            self.resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["E3002"]}})
            cdk.Validations.of(self.resource).acknowledge(
                cdk.Acknowledgment(
                    id="CloudFormation-Validate::F3002",
                    reason="Environment of AWS::MWAAServerless::Workflow is documented by the "
                    "CloudFormation template reference; the schema bundled with aws-cdk-lib 2.275 "
                    "predates it.",
                )
            )
        if self.role_policy is not None:
            # The workflow is created only once its role may read the definition and write logs.
            self.resource.node.add_dependency(self.role_policy)
        self.workflow_arn = self.resource.attr_workflow_arn
        self.workflow_version = self.resource.attr_workflow_version

    @staticmethod
    def from_workflow_attributes(scope: Construct, id: str, *, workflow_arn: str) -> WorkflowBase:
        """Reference a workflow created elsewhere (by its ARN, which holds the service's suffix),
        to grant runs of it."""
        return _ImportedWorkflow(scope, id, workflow_arn=workflow_arn)

    def _grant_execution(self, kms_key: kms.IKey | None) -> None:
        # Exactly the two objects, by content-addressed key: no other asset of the bucket.
        objects = [self.definition_asset, *([self.code_asset] if self.code_asset else [])]
        iam.Grant.add_to_principal(
            grantee=self.role,
            actions=["s3:GetObject", "s3:GetObjectVersion"],
            resource_arns=[asset.bucket.arn_for_objects(asset.s3_object_key) for asset in objects],
        )
        self.log_group.grant_write(self.role)
        if kms_key is not None:
            kms_key.grant(self.role, "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")

    def _default_security_group(self, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"MWAA Serverless workflow {self.workflow_name}: HTTPS out only",
            allow_all_outbound=False,
        )
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs and HTTPS sources")
        return group

    @staticmethod
    def _validate(
        *,
        name: str,
        vpc: ec2.IVpc | None,
        vpc_subnets: ec2.SubnetSelection | None,
        security_groups: Sequence[ec2.ISecurityGroup] | None,
        environment_variables: Mapping[str, str],
    ) -> None:
        def fail(setting: str, value: object, allowed: str) -> None:
            raise ValueError(f"ServerlessWorkflow {setting}: got {value!r}; {allowed}")

        if not rules.WORKFLOW_NAME_PATTERN.fullmatch(name) or len(name) > rules.WORKFLOW_NAME_MAX_LENGTH:
            fail(
                "name",
                name,
                "a letter or digit, then letters, digits, '.', '-' or '_' "
                f"(at most {rules.WORKFLOW_NAME_MAX_LENGTH})",
            )
        if vpc is None and (vpc_subnets is not None or security_groups):
            fail(
                "vpc",
                None,
                "vpc_subnets and security_groups place tasks in a VPC: give the vpc too",
            )
        if security_groups is not None and not security_groups:
            fail("security_groups", [], "one or more, or None for a group created here")
        # A value known only at deployment (a reference) is checked for its name, not its length.
        problems = rules.environment_variables_problems(
            {k: "" if cdk.Token.is_unresolved(v) else v for k, v in environment_variables.items()}
        )
        if problems:
            fail("environment_variables", sorted(environment_variables), "; ".join(problems))


_PRIVATE = ec2.SubnetType.PRIVATE_WITH_EGRESS


class _SelectSubnetsArguments(TypedDict, total=False):
    """The keyword arguments of ``vpc.select_subnets``: the fields of an ``ec2.SubnetSelection``."""

    availability_zones: Sequence[str]
    one_per_az: bool
    subnet_filters: Sequence[ec2.SubnetFilter]
    subnet_group_name: str
    subnets: Sequence[ec2.ISubnet]
    subnet_type: ec2.SubnetType


def _selection_arguments(selection: ec2.SubnetSelection) -> _SelectSubnetsArguments:
    """``vpc.select_subnets`` takes the selection's fields as keyword arguments (those set)."""
    arguments: _SelectSubnetsArguments = {}
    if selection.availability_zones is not None:
        arguments["availability_zones"] = selection.availability_zones
    if selection.one_per_az is not None:
        arguments["one_per_az"] = selection.one_per_az
    if selection.subnet_filters is not None:
        arguments["subnet_filters"] = selection.subnet_filters
    if selection.subnet_group_name is not None:
        arguments["subnet_group_name"] = selection.subnet_group_name
    if selection.subnets is not None:
        arguments["subnets"] = selection.subnets
    if selection.subnet_type is not None:
        arguments["subnet_type"] = selection.subnet_type
    return arguments
