"""A CDK Pipelines alternative to the GitHub Actions workflows: source, test gate, one stage per profile."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Unpack

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from mwaa_constructs.deploy_access import OperatedEnvironment, post_deploy_statements
from mwaa_constructs.nag import acknowledge_iam5, resource_finding
from platform_config import Profile
from platform_config.delivery import JOB_SETUP_MINUTES, SMOKE_MINUTES, PipelineSettings
from stacks.base import StackOptions, StageOptions
from stacks.layout import ROOT
from stacks.profile_stacks import build_profile_stacks

PIPELINE_OUTDIR = "pipeline.out"
# The platform's smoke DAG (dags/mwaa_platform_smoke.py), run by the post-deploy smoke test.
SMOKE_DAG_ID = "mwaa_platform_smoke"
SMOKE_DAG_FILE = "mwaa_platform_smoke.py"
# CodeBuild's standard image with the runtimes of the project: Python 3.12 (MWAA's Airflow 3
# image runs 3.12) and Node.js 20 (the CDK CLI).
_RUNTIMES = {"phases": {"install": {"runtime-versions": {"python": "3.12", "nodejs": "20"}}}}


class ProfileStage(cdk.Stage):
    """The stacks of one profile, as ``app.py`` builds them, deployed by the pipeline."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        profile: Profile,
        root: Path = ROOT,
        **kwargs: Unpack[StageOptions],
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.profile_stacks = build_profile_stacks(self, profile, root=root)
        self.platform_stack = self.profile_stacks.platform
        self.profile = profile


class MwaaPipelineStack(cdk.Stack):
    """Source from a CodeConnections connection, a synth step that runs the project's gate
    (``make test``, ``make synth``) and synthesizes this pipeline, then one stage per profile in
    order, each after the previous one; every stage after the first waits for a manual approval,
    and every stage ends with ``mwaa-ops wait`` and ``mwaa-ops smoke``.

    ``cross_account_keys`` is on when a profile names an account other than the pipeline's:
    its artifact bucket then needs a KMS key that the other accounts' bootstrap roles can use.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: PipelineSettings,
        profiles: Sequence[Profile],
        root: Path = ROOT,
        **kwargs: Unpack[StackOptions],
    ) -> None:
        super().__init__(scope, id, **kwargs)
        source = pipelines.CodePipelineSource.connection(
            settings.repository, settings.branch, connection_arn=settings.connection_arn
        )
        accounts = {profile.account for profile in profiles if profile.account}
        self.cross_account = bool(accounts - {settings.account})
        synth = pipelines.CodeBuildStep(
            "Synth",
            input=source,
            install_commands=["make .venv/.dev-installed node_modules/.installed"],
            commands=[
                "make test",
                f"make synth PROFILE={','.join(settings.profiles)}",
                _pipeline_synth_command(settings),
            ],
            primary_output_directory=PIPELINE_OUTDIR,
            partial_build_spec=codebuild.BuildSpec.from_object(_RUNTIMES),
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            synth=synth,
            cross_account_keys=self.cross_account,
            # One CodeBuild project publishes every file asset, instead of one project each.
            publish_assets_in_parallel=False,
            enable_key_rotation=self.cross_account or None,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                    compute_type=codebuild.ComputeType.MEDIUM,
                ),
            ),
        )
        self.stages: list[ProfileStage] = []
        for index, profile in enumerate(profiles):
            stage = ProfileStage(
                self,
                f"Deploy-{profile.name}",
                profile=profile,
                root=root,
                env=cdk.Environment(
                    account=profile.account or settings.account, region=profile.region or settings.region
                ),
            )
            pre = [pipelines.ManualApprovalStep(f"Approve-{profile.name}")] if index else []
            self.pipeline.add_stage(stage, pre=pre, post=[self._smoke_step(source, profile, root)])
            self.stages.append(stage)

    def build(self) -> None:
        """Build the pipeline (no stage can be added afterwards) and acknowledge the cdk-nag
        findings of what CDK Pipelines generates, each wildcard on its own policy."""
        self.pipeline.build_pipeline()
        _acknowledge_generated_findings(self.pipeline)
        # cfn-lint W3005: CDK Pipelines makes the pipeline depend on its role on the construct
        # node (no API removes it), while its RoleArn already references the role.
        # cfn-lint E3703 (1.58) reports the Fn::Join role ARNs that CDK Pipelines writes into the
        # deploy actions' configuration as "prefer Fn::Sub", or not, depending on the order of
        # the template's keys: the same template passes from `cdk synth` and fails in-process.
        resource = self.pipeline.pipeline.node.default_child
        assert isinstance(resource, cdk.CfnResource)
        resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005", "E3703"]}})

    def _smoke_step(
        self, source: pipelines.IFileSetProducer, profile: Profile, root: Path
    ) -> pipelines.CodeBuildStep:
        """``mwaa-ops wait`` then ``mwaa-ops smoke`` against the environment just deployed, with
        exactly the permissions they use (:func:`post_deploy_statements`, the same statements as
        the GitHub deploy role's), in the pipeline's account. The smoke test triggers the
        platform's smoke DAG when the profile's DAG folder has it. CloudFormation has finished
        the deployment when the step starts, so the wait returns at once; the build may take the
        set-up and the smoke test's run (``JOB_SETUP_MINUTES`` + ``SMOKE_MINUTES``), not
        CodeBuild's default hour."""
        environment = OperatedEnvironment(
            environment_name=profile.environment_name,
            stack_name=profile.platform_stack_name,
            region=profile.region,
            account=profile.account,
        )
        return pipelines.CodeBuildStep(
            f"Smoke-{profile.name}",
            input=source,
            install_commands=["make .venv/.app-installed"],
            commands=[
                f".venv/bin/mwaa-ops wait --profile {profile.name}",
                f".venv/bin/mwaa-ops smoke --profile {profile.name}"
                + (
                    f" --dag {SMOKE_DAG_ID}"
                    if (root / profile.artifacts.dags / SMOKE_DAG_FILE).exists()
                    else ""
                ),
            ],
            partial_build_spec=codebuild.BuildSpec.from_object(_RUNTIMES),
            env={"AWS_REGION": profile.region} if profile.region else None,
            role_policy_statements=post_deploy_statements(self, environment),
            timeout=cdk.Duration.minutes(JOB_SETUP_MINUTES + SMOKE_MINUTES),
        )


def _pipeline_synth_command(settings: PipelineSettings) -> str:
    """``cdk synth`` of ``pipeline_app.py`` with the same settings (all validated to a safe alphabet),
    so the pipeline's self-mutation rebuilds exactly this pipeline."""
    context = {
        "pipeline_connection_arn": settings.connection_arn,
        "pipeline_repository": settings.repository,
        "pipeline_branch": settings.branch,
        "pipeline_profiles": ",".join(settings.profiles),
        "pipeline_account": settings.account,
        "pipeline_region": settings.region,
    }
    flags = " ".join(f"-c {key}={value}" for key, value in context.items() if value)
    return f'npx --no-install cdk synth --quiet --app "python3 pipeline_app.py" {flags} -o {PIPELINE_OUTDIR}'


_REGION = r"(?:<AWS::Region>|[a-z0-9-]+)"
_ACCOUNT = r"(?:<AWS::AccountId>|\d{12})"
# A stack with a known region writes the partition literally (@aws-cdk/core:enablePartitionLiterals).
_PARTITION = r"(?:<AWS::Partition>|aws(?:-[a-z]+)*)"
# Wildcards in the policies CDK Pipelines generates (and in the smoke steps' own statements),
# with why each is acceptable. A finding that matches none stays unacknowledged and fails synth.
_WILDCARD_REASONS: tuple[tuple[str, str], ...] = (
    (
        r"Action::s3:(Abort|DeleteObject|GetBucket|GetObject|List)\*",
        "CDK Pipelines' grant on its own artifact bucket: pipeline artifacts are read and written by key",
    ),
    (
        r"Action::kms:(GenerateDataKey|ReEncrypt)\*",
        "CDK Pipelines' grant on its own artifact key (cross-account keys): the key policy limits "
        "it to the pipeline's roles",
    ),
    (
        r"Resource::<PipelineArtifactsBucket[0-9A-F]{8}\.Arn>/\*",
        "objects of the pipeline's own artifact bucket, keyed by execution",
    ),
    (
        rf"Resource::arn:{_PARTITION}:logs:{_REGION}:{_ACCOUNT}:log-group:/aws/codebuild/.*",
        "CodeBuild's own log group; streams are named per build",
    ),
    (
        rf"Resource::arn:{_PARTITION}:codebuild:{_REGION}:{_ACCOUNT}:report-group/.*",
        "CodeBuild test-report groups, named per project at run time",
    ),
    (
        rf"Resource::arn:\*:iam::{_ACCOUNT}:role/\*",
        "self-mutation assumes only roles tagged aws-cdk:bootstrap-role (the statement's condition)",
    ),
    (
        r"Resource::\*",
        "cloudformation:DescribeStacks, s3:ListBucket (CDK CLI bootstrap checks) and starting the "
        "asset-publishing builds have no narrower resource in CDK Pipelines",
    ),
    (
        rf"Resource::arn:{_PARTITION}:cloudformation:{_REGION}:{_ACCOUNT}:stack/[A-Za-z0-9-]+-platform/\*",
        "the platform stack by name; the suffix is the stack id CloudFormation assigns",
    ),
)


def _acknowledge_generated_findings(pipeline: pipelines.CodePipeline) -> None:
    for construct in pipeline.node.find_all():
        if isinstance(construct, iam.CfnPolicy):
            document = cdk.Stack.of(construct).resolve(construct.policy_document)
            findings: dict[str, str] = {}
            for statement in document.get("Statement", []):
                for action in _as_list(statement.get("Action")):
                    if "*" in action:
                        findings[f"Action::{action}"] = ""
                for resource in _as_list(statement.get("Resource")):
                    finding = resource_finding(construct, resource)
                    if "*" in finding:
                        findings[finding] = ""
            reasons = {
                finding: reason
                for finding in findings
                for pattern, reason in _WILDCARD_REASONS
                if re.fullmatch(pattern, finding)
            }
            if reasons:
                acknowledge_iam5(construct, reasons)
        elif isinstance(construct, s3.CfnBucket):
            cdk.Validations.of(construct).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions-S1",
                    reason="the pipeline's artifact bucket holds transient build artifacts, reached only "
                    "through the pipeline's roles; CloudTrail records its use",
                )
            )
        elif isinstance(construct, codebuild.CfnProject):
            cdk.Validations.of(construct).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions-CB4",
                    reason="CDK Pipelines' build projects encrypt output with the artifact bucket's key: "
                    "the AWS managed S3 key, or the pipeline's KMS key with cross-account keys",
                )
            )


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []
