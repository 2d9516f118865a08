"""The optional sample data plane of ``movie-list-dag``, next to the platform stack."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Unpack

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mwaa_constructs.hygiene import drop_redundant_depends_on
from sample.data_plane import DAG_PACKAGE, DAG_SOURCE, SampleDataPlane
from stacks.base import LookupFreeStack, StackOptions


class SampleDataStack(LookupFreeStack):
    """The data bucket, Glue database, Athena workgroup and Redshift Serverless of the sample DAG.

    A stack of its own, switched on by the profile's ``sample_data`` (built by
    :class:`sample.addon.SampleAddon`): it can be deployed after
    the platform and destroyed alone (``cdk destroy`` of this stack) without touching the
    environment, and ``prod`` never carries it. It depends on the platform stack (VPC, three
    private subnets, the environment's security group, DAG bucket, key) and never the other way
    round.

    The environment's execution role is imported by ARN (``mutable=True``): the grants land in
    an ``AWS::IAM::Policy`` of this stack attached to the role, so the platform stack holds no
    reference to this one, no dependency cycle arises, and deleting this stack removes exactly
    these permissions.

    Outputs: data bucket name, Athena workgroup, Glue database, Redshift workgroup name, the
    ARN of the admin secret (never its value) and the name of the ``movielens_http`` connection
    secret.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        client_security_group: ec2.ISecurityGroup,
        dag_bucket: s3.IBucket,
        dag_s3_path: str,
        execution_role_arn: str,
        name_prefix: str,
        encryption_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        connections_prefix: str = "airflow/connections",
        dag_folder: str = DAG_PACKAGE,
        dag_source: Path = DAG_SOURCE,
        **kwargs: Unpack[StackOptions],
    ) -> None:
        super().__init__(scope, id, **kwargs)
        execution_role = iam.Role.from_role_arn(self, "ExecutionRole", execution_role_arn, mutable=True)
        self.data_plane = SampleDataPlane(
            self,
            "SampleData",
            vpc=vpc,
            subnets=subnets,
            client_security_group=client_security_group,
            execution_role=execution_role,
            dag_bucket=dag_bucket,
            dag_s3_path=dag_s3_path,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
            name_prefix=name_prefix,
            connections_prefix=connections_prefix,
            dag_folder=dag_folder,
            dag_source=dag_source,
        )

        outputs = {
            "DataBucketName": self.data_plane.data_bucket.bucket_name,
            "AthenaWorkGroup": self.data_plane.athena_workgroup.ref,
            "GlueDatabase": self.data_plane.glue_database.ref,
            "RedshiftWorkgroupName": self.data_plane.redshift_workgroup.attr_workgroup_workgroup_name,
            "RedshiftSecretArn": self.data_plane.redshift_secret_arn,
            "DagConfigKey": self.data_plane.config_key,
            "MovieLensConnectionSecretName": self.data_plane.movielens_connection_secret_name,
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)
        drop_redundant_depends_on(self)
