"""The MWAA platform of one profile: network, key, bucket, artifacts and the environment, and the
profile's MWAA Serverless workflows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Unpack

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from mwaa_constructs import (
    AirflowAccess,
    AirflowArtifacts,
    AirflowEnvironment,
    AirflowKey,
    AirflowMonitoring,
    AirflowNetwork,
    DagBucket,
    SecretsManagerBackend,
)
from mwaa_constructs.hygiene import drop_redundant_depends_on
from mwaa_constructs.log_groups import retention_days
from platform_config import Profile
from stacks.base import LookupFreeStack, ProfileStackOptions
from stacks.serverless import ProfileWorkflows


@dataclass(frozen=True, kw_only=True)
class ArtifactSources:
    """Where the Airflow artifacts of the environment come from in the repository."""

    dags_dir: Path
    plugins_dir: Path | None = None
    requirements_file: Path | None = None
    startup_script: Path | None = None
    # Keys under the DAG prefix that other deployments own (e.g. an add-on's folder, "name/*"):
    # the DAG deployment neither prunes nor overwrites them.
    keep_in_dag_folder: tuple[str, ...] = ()


class MwaaPlatformStack(LookupFreeStack):
    """Everything one MWAA environment needs, from one validated :class:`Profile`, and the
    profile's serverless workflows (:class:`~stacks.serverless.ProfileWorkflows`).

    A profile with ``classic_environment`` false has no environment, DAG bucket, artifacts,
    alarms or access grants (those attributes are None), and a network only when its workflows
    run in it (``serverless.network`` ``private``)."""

    network: AirflowNetwork | None
    dag_bucket: DagBucket | None
    artifacts: AirflowArtifacts | None
    airflow_environment: AirflowEnvironment | None
    monitoring: AirflowMonitoring | None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        profile: Profile,
        sources: ArtifactSources,
        root: Path | None = None,
        **kwargs: Unpack[ProfileStackOptions],
    ) -> None:
        """``root``: the repository that the profile's ``serverless`` folders are relative to
        (default: the one that holds this package)."""
        super().__init__(scope, id, termination_protection=profile.termination_protection, **kwargs)
        # "retain" keeps data through updates and stack deletion, but not after a failed first
        # create (DeletionPolicy RetainExceptOnCreate), so that the create can be retried.
        removal_policy = (
            cdk.RemovalPolicy.DESTROY
            if profile.removal_policy == "destroy"
            else cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
        )
        retention = retention_days(profile.log_retention_days)

        key = (
            AirflowKey(
                self, "Key", environment_name=profile.environment_name, removal_policy=removal_policy
            ).key
            if profile.encryption == "customer_managed"
            else None
        )
        self.profile = profile
        self.removal_policy = removal_policy
        self.key = key
        self.network = None
        self.dag_bucket = None
        self.artifacts = None
        self.airflow_environment = None
        self.monitoring = None
        if profile.classic_environment or profile.serverless.network == "private":
            self.network = self._network(profile, retention, key, removal_policy)
        if profile.classic_environment:
            assert self.network is not None
            self._classic_environment(profile, sources, self.network, retention, key, removal_policy)
        self.workflows = ProfileWorkflows(
            self,
            "Workflows",
            profile=profile,
            root=root or Path(__file__).resolve().parent.parent,
            kms_key=key,
            network=self.network if profile.serverless.network == "private" else None,
            log_retention=retention,
            removal_policy=removal_policy,
        )

        for tag_key, tag_value in sorted(profile.tags.items()):
            cdk.Tags.of(self).add(tag_key, tag_value)
        drop_redundant_depends_on(self)

    def _network(
        self,
        profile: Profile,
        retention: logs.RetentionDays,
        key: kms.IKey | None,
        removal_policy: cdk.RemovalPolicy,
    ) -> AirflowNetwork:
        return AirflowNetwork(
            self,
            "Network",
            mode=profile.network.mode,
            vpc_cidr=profile.network.vpc_cidr,
            nat_gateways=profile.network.nat_gateways,
            # MWAA keeps two zones; an add-on the profile enables may need a third (its manifest).
            availability_zones=profile.availability_zones,
            vpc_id=profile.network.vpc_id,
            subnet_ids=profile.network.subnet_ids,
            flow_log_retention=retention,
            flow_log_key=key,
            removal_policy=removal_policy,
            # Isolated networks: Airflow's Secrets Manager backend reaches the service privately.
            secrets_manager_endpoint=profile.secrets_backend.enabled,
        )

    def _classic_environment(
        self,
        profile: Profile,
        sources: ArtifactSources,
        network: AirflowNetwork,
        retention: logs.RetentionDays,
        key: kms.IKey | None,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        dag_bucket = DagBucket(
            self,
            "DagBucket",
            environment_name=profile.environment_name,
            encryption_key=key,
            removal_policy=removal_policy,
            noncurrent_version_expiration=cdk.Duration.days(profile.noncurrent_version_expiration_days),
        )
        # Isolated networks: the S3 endpoint reaches the DAG bucket (MWAA reads it from the VPC).
        network.allow_bucket_access(dag_bucket.bucket)
        artifacts = AirflowArtifacts(
            self,
            "Artifacts",
            bucket=dag_bucket.bucket,
            airflow_version=profile.airflow_version,
            dags_dir=sources.dags_dir,
            dag_s3_path=profile.dag_s3_path,
            plugins_dir=sources.plugins_dir,
            requirements_file=sources.requirements_file,
            startup_script=sources.startup_script,
            keep_in_dag_folder=sources.keep_in_dag_folder,
            # Isolated subnets have no route to PyPI or to the constraints file.
            internet_access=profile.network.mode != "isolated",
        )
        environment = AirflowEnvironment(
            self,
            "Environment",
            environment_name=profile.environment_name,
            source_bucket=dag_bucket.bucket,
            vpc=network.vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=network.environment_subnets),
            security_groups=[network.security_group],
            airflow_version=profile.airflow_version,
            environment_class=profile.environment_class,
            min_workers=profile.min_workers,
            max_workers=profile.max_workers,
            schedulers=profile.schedulers,
            min_webservers=profile.min_webservers,
            max_webservers=profile.max_webservers,
            webserver_access_mode=profile.webserver_access_mode,
            endpoint_management=profile.endpoint_management,
            dag_s3_path=profile.dag_s3_path,
            kms_key=key,
            logging=profile.logging,
            log_retention=retention,
            airflow_configuration_options=profile.airflow_configuration_options,
            secrets_backend=(
                SecretsManagerBackend(
                    connections_prefix=profile.secrets_backend.connections_prefix,
                    variables_prefix=profile.secrets_backend.variables_prefix,
                )
                if profile.secrets_backend.enabled
                else None
            ),
            weekly_maintenance_window_start=profile.weekly_maintenance_window_start,
            worker_replacement_strategy=profile.worker_replacement_strategy,
            plugins=artifacts.plugins,
            requirements=artifacts.requirements,
            startup_script=artifacts.startup_script,
            removal_policy=removal_policy,
        )
        # MWAA refuses to create an environment whose DAG prefix holds no DAG yet.
        environment.add_dependency_on_artifact(artifacts.dags_deployment)
        # Clients of a PRIVATE_ONLY web server (profile webserver_access): TCP 443 into its group.
        for cidr in profile.webserver_access.cidrs:
            environment.allow_webserver_access_from(
                ec2.Peer.ipv4(cidr), description=f"Airflow UI and REST API from {cidr} (webserver_access)"
            )
        for group_id in profile.webserver_access.security_groups:
            client = ec2.SecurityGroup.from_security_group_id(
                self, f"WebserverClient-{group_id}", group_id, mutable=False
            )
            environment.allow_webserver_access_from(
                client, description=f"Airflow UI and REST API from {group_id} (webserver_access)"
            )

        alarms = profile.alarms
        monitoring = AirflowMonitoring(
            self,
            "Monitoring",
            environment=environment,
            alarms=alarms.enabled,
            topic=(
                sns.Topic.from_topic_arn(self, "AlarmTopic", alarms.topic_arn)
                if alarms.enabled and alarms.topic_arn
                else None
            ),
            topic_key=key,
            email=alarms.email if alarms.enabled else (),
        )
        access = profile.access
        AirflowAccess(
            self,
            "Access",
            environment=environment,
            web_login={grant.role_arn: grant.airflow_role for grant in access.web_login},
            rest_api={grant.role_arn: grant.airflow_role for grant in access.rest_api},
            cli=access.cli,
        )

        self.dag_bucket = dag_bucket
        self.artifacts = artifacts
        self.airflow_environment = environment
        self.monitoring = monitoring

        outputs = {
            "EnvironmentName": environment.environment_name,
            "EnvironmentArn": environment.environment_arn,
            "WebserverUrl": cdk.Fn.join("", ["https://", environment.webserver_url]),
            "DagBucketName": dag_bucket.bucket.bucket_name,
            "ExecutionRoleArn": environment.role.role_arn,
            "LogGroupNames": ",".join(environment.log_groups.log_group_names),
            "WebLoginTokenCommand": (
                f"aws mwaa create-web-login-token --name {profile.environment_name} --region {self.region}"
            ),
            "DashboardName": monitoring.dashboard.dashboard_name,
        }
        if monitoring.topic is not None:
            outputs["AlarmTopicArn"] = monitoring.topic.topic_arn
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)
