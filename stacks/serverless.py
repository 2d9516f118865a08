"""The profile's Amazon MWAA Serverless workflows: one :class:`ServerlessWorkflow` per definition
file of ``serverless.workflows`` (docs/serverless.md)."""

from __future__ import annotations

import re
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from mwaa_constructs import AirflowNetwork, ServerlessWorkflow
from mwaa_constructs.nag import acknowledge_iam5
from platform_config import Profile
from platform_config.profile import workflow_name

# What a person (or a scheduler of theirs) who starts and follows runs calls, as `mwaa-ops
# serverless run|status|tasks|logs` makes the calls (mwaa_ops/serverless.py; the actions of the
# service authorization reference,
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_mwaa-serverless.html).
RUN_ACTIONS = (
    "airflow-serverless:StartWorkflowRun",
    "airflow-serverless:GetWorkflowRun",
    "airflow-serverless:GetWorkflow",
    "airflow-serverless:ListTaskInstances",
    "airflow-serverless:GetTaskInstance",
)


class ProfileWorkflows(Construct):
    """Every workflow of ``profile.serverless``, and a policy for whoever runs them.

    - One :class:`ServerlessWorkflow` per ``*.yaml`` of the workflows folder, with construct id
      the file's stem and workflow name ``<environment_name>-<stem>``
      (:func:`platform_config.profile.workflow_name`), the folder ``serverless.code`` as its code
      package, the profile's key (``kms_key``: the workflow, its log group) and log retention, and
      ``network``'s private subnets when given. Each definition is checked at synth: a bad one
      raises :class:`mwaa_rules.serverless.DefinitionError` naming the file, task and field.
    - :attr:`runner_policy` (none without workflows): a customer managed policy, attached to no
      one, that lets a principal start and follow runs of exactly these workflows and read their
      task logs (``mwaa-ops serverless``); attach it to the roles that run them. ``ListWorkflows``
      (finding a workflow by name) has no resource type: it is granted on ``*``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        profile: Profile,
        root: Path,
        kms_key: kms.IKey | None,
        network: AirflowNetwork | None,
        log_retention: logs.RetentionDays,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        settings = profile.serverless
        code = root / settings.code if settings.code is not None else None
        self.workflows: list[ServerlessWorkflow] = [
            ServerlessWorkflow(
                self,
                definition.stem,
                name=workflow_name(profile.environment_name, definition),
                definition=definition,
                code=code,
                kms_key=kms_key,
                log_retention=log_retention,
                removal_policy=removal_policy,
                vpc=network.vpc if network is not None else None,
                vpc_subnets=(
                    ec2.SubnetSelection(subnets=network.environment_subnets) if network is not None else None
                ),
                description=f"{definition.name} of profile {profile.name}",
            )
            for definition in settings.definitions(root)
        ]
        self.runner_policy: iam.ManagedPolicy | None = None
        if not self.workflows:
            return
        self.runner_policy = iam.ManagedPolicy(
            self,
            "RunnerPolicy",
            description=f"Start and follow runs of the MWAA Serverless workflows of {profile.name}",
            statements=[
                iam.PolicyStatement(
                    actions=list(RUN_ACTIONS), resources=[w.workflow_arn for w in self.workflows]
                ),
                iam.PolicyStatement(actions=["airflow-serverless:ListWorkflows"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["logs:FilterLogEvents"],
                    resources=[w.log_group.log_group_arn for w in self.workflows],
                ),
            ],
        )
        acknowledge_iam5(
            self.runner_policy,
            {
                "Resource::*": "airflow-serverless:ListWorkflows has no resource type (service "
                "authorization reference): finding a workflow by its name lists them all",
            },
        )
        # Outputs at the stack's level, named for people: WorkflowRunnerPolicyArn, Workflow<Stem>Arn.
        stack = cdk.Stack.of(self)
        cdk.CfnOutput(stack, "WorkflowRunnerPolicyArn", value=self.runner_policy.managed_policy_arn)
        for workflow in self.workflows:
            cdk.CfnOutput(stack, f"Workflow{_pascal(workflow.node.id)}Arn", value=workflow.workflow_arn)


def _pascal(stem: str) -> str:
    """``daily_report`` -> ``DailyReport``: a file stem as part of an output's logical id."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", stem))
