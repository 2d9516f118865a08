"""The deployments the permission contract is evaluated on: every profile of ``cdk.json`` and
variants that exercise the other code paths (isolated network, an existing VPC, access grants,
an external alarm topic), each synthesized in-process and resolved for one account and region,
together with the account's GitHub deployment access stack."""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk import cx_api

from platform_config.profile import addon_manifests
from tools.permissions.addons import addon_placeholders
from tools.permissions.backup import backup_conditions, backup_placeholders
from tools.permissions.contract import Deployment
from tools.permissions.templates import ResolvedStack, StackTemplate, resolve_stacks

ROOT = Path(__file__).resolve().parents[2]
# Where a profile without account/region is evaluated: the documentation's example account.
DEFAULT_ACCOUNT = "111122223333"
DEFAULT_REGION = "us-east-1"
BOOTSTRAP_QUALIFIER = "hnb659fds"
# The deploy-access app's required setting, for its synthesis here.
EXAMPLE_REPOSITORY = "example-org/mwaa-platform"
EXAMPLE_ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/data-engineers"


def cdk_context() -> dict[str, Any]:
    return dict(json.loads((ROOT / "cdk.json").read_text())["context"])


def _feature_flags() -> dict[str, Any]:
    return {k: v for k, v in cdk_context().items() if k != "profiles"}


def _isolated(raw: dict[str, Any]) -> None:
    # Add-ons off: an add-on may need what the variant takes away (a route to the internet).
    for manifest in addon_manifests(ROOT):
        raw[manifest.enabled_by] = False
    raw["network"] = {"mode": "isolated", "vpc_cidr": raw.get("network", {}).get("vpc_cidr", "10.192.0.0/16")}


def _existing_vpc(raw: dict[str, Any]) -> None:
    raw["network"] = {
        "mode": "existing",
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
    }


def _access_grants(raw: dict[str, Any]) -> None:
    raw["access"] = {
        "web_login": [{"role_arn": EXAMPLE_ROLE, "airflow_role": "User"}],
        "rest_api": [{"role_arn": EXAMPLE_ROLE, "airflow_role": "Op"}],
        "cli": [EXAMPLE_ROLE],
    }
    raw["account"] = DEFAULT_ACCOUNT


def _customer_key(raw: dict[str, Any]) -> None:
    raw["encryption"] = "customer_managed"


def _replicated_backups(raw: dict[str, Any]) -> None:
    raw["region"] = DEFAULT_REGION
    backup = {"enabled": True, "replica_region": "us-west-2", "object_lock_days": 7}
    raw["backup"] = {**raw.get("backup", {}), **backup}


# Variant name -> (base profile, change). Each runs a path the shipped profiles do not.
VARIANTS: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "dev+isolated": ("dev", _isolated),
    "prod+isolated": ("prod", _isolated),
    "prod+existing-vpc": ("prod", _existing_vpc),
    "dev+access": ("dev", _access_grants),
    # The add-ons' buckets and secrets under the profile's key.
    "dev+customer-key": ("dev", _customer_key),
    # Backups replicated to a second region, with object lock (prod ships backups, no replica).
    "prod+replica": ("prod", _replicated_backups),
}


@dataclass(frozen=True)
class Synthesized:
    profile: Any  # platform_config.Profile
    stacks: dict[str, ResolvedStack]


def _templates(assembly: cx_api.CloudAssembly, account: str, region: str) -> list[StackTemplate]:
    found = [
        # A stack pinned to a region of its own (a profile's replica stack) resolves there.
        StackTemplate(
            name=s.stack_name,
            template=s.template,
            account=account,
            region=region if s.environment.region == "unknown-region" else s.environment.region,
        )
        for s in assembly.stacks
    ]
    for nested in assembly.nested_assemblies:
        found.extend(_templates(nested.nested_assembly, account, region))
    return found


def profile_settings(label: str) -> tuple[str, dict[str, Any]]:
    """The profile name and raw settings of a shipped profile or a variant."""
    profiles = cdk_context()["profiles"]
    if label in profiles:
        return label, copy.deepcopy(profiles[label])
    base, change = VARIANTS[label]
    raw = copy.deepcopy(profiles[base])
    change(raw)
    return base, raw


def synthesize_profile(label: str, outdir: Path) -> Synthesized:
    """Synthesize a shipped profile or a variant, as the app builds it."""
    from platform_config import load_profile
    from stacks import build_profile_stacks

    name, raw = profile_settings(label)
    profile = load_profile({name: raw}, name, root=ROOT)
    app = cdk.App(context=_feature_flags(), outdir=str(outdir))
    build_profile_stacks(app, profile)
    account = profile.account or DEFAULT_ACCOUNT
    region = profile.region or DEFAULT_REGION
    templates = _templates(app.synth(), account, region)
    templates.extend(_deploy_access_templates(outdir.with_name(outdir.name + "-access"), account, region))
    templates.append(_pipeline_template(account, region))
    return Synthesized(profile=profile, stacks=resolve_stacks(templates))


@functools.cache
def _pipeline_template(account: str, region: str) -> StackTemplate:
    """The CDK Pipelines stack (pipeline_app.py) of the shipped profiles, in the account: only its
    top-level stack (its stages' stacks have the profiles' stack names)."""
    import tempfile

    import pipeline_app
    from tools.permissions.policies import EXAMPLE_CONNECTION, pipeline_stages

    outdir = tempfile.mkdtemp(prefix="pipeline-")
    context = {
        **_feature_flags(),
        "profiles": cdk_context()["profiles"],
        "pipeline_connection_arn": EXAMPLE_CONNECTION,
        "pipeline_repository": EXAMPLE_REPOSITORY,
        # A stage for every profile of cdk.json, as policies.py synthesizes the pipeline.
        **pipeline_stages(cdk_context()["profiles"]),
    }
    app = cdk.App(context=context, outdir=outdir)
    pipeline = pipeline_app.build_app(app)
    template = app.synth().get_stack_by_name(pipeline.stack_name).template
    return StackTemplate(name=pipeline.stack_name, template=template, account=account, region=region)


def _deploy_access_templates(outdir: Path, account: str, region: str) -> list[StackTemplate]:
    import deploy_access_app

    app = cdk.App(context={**_feature_flags(), "github_repository": EXAMPLE_REPOSITORY}, outdir=str(outdir))
    deploy_access_app.build_app(app)
    return _templates(app.synth(), account, region)


def conditions_of(profile: Any) -> dict[str, bool]:
    """The named conditions ``when`` may use, for one profile."""
    return {
        "customer_key": profile.encryption == "customer_managed",
        "aws_owned_key": profile.encryption != "customer_managed",
        "secrets_backend": profile.secrets_backend.enabled,
        "alarms": profile.alarms.enabled,
        "new_topic": profile.alarms.enabled and profile.alarms.topic_arn is None,
        "private_webserver": profile.webserver_access_mode == "PRIVATE_ONLY",
        "public_webserver": profile.webserver_access_mode == "PUBLIC_ONLY",
        "isolated": profile.network.mode == "isolated",
        "nat": profile.network.mode == "nat",
        "existing_vpc": profile.network.mode == "existing",
        "web_login": bool(profile.access.web_login),
        "rest_api": bool(profile.access.rest_api),
        "cli": bool(profile.access.cli),
        **backup_conditions(profile),
        "serverless_workflows": profile.serverless.workflows is not None,
        # Each add-on's boolean settings, by their keys: its contract's entries name them.
        **{
            setting.key: profile.addons[manifest.name][setting.key] is True
            for manifest in profile.addon_manifests
            for setting in manifest.settings
            if setting.schema.get("type") == "boolean"
        },
    }


def _only(stack: ResolvedStack, resource_type: str) -> str | None:
    found = stack.of_type(resource_type)
    if len(found) > 1:
        raise ValueError(f"{stack.name}: {len(found)} resources of type {resource_type}, expected one")
    return next((stack.arns[lid] for lid in found), None)


def placeholders_of(synthesized: Synthesized) -> dict[str, str]:
    """The contract's placeholders for one deployment: from the profile and the template's
    names (never from its policies)."""
    profile = synthesized.profile
    platform = synthesized.stacks[profile.platform_stack_name]
    account, region = platform.account, platform.region
    (environment,) = platform.of_type("AWS::MWAA::Environment").values()
    props = environment["Properties"]
    arn_head = f"arn:{platform.partition}"
    values = {
        "partition": platform.partition,
        "region": region,
        "account": account,
        "environment": profile.environment_name,
        "environment_arn": f"{arn_head}:airflow:{region}:{account}:environment/{profile.environment_name}",
        "dag_bucket": str(props["SourceBucketArn"]).split(":::", 1)[1],
        "dag_s3_path": profile.dag_s3_path,
        "platform_stack": profile.platform_stack_name,
        "stack_arn": f"{arn_head}:cloudformation:{region}:{account}:stack/{profile.platform_stack_name}/*",
        "execution_role_arn": str(props["ExecutionRoleArn"]),
        "qualifier": BOOTSTRAP_QUALIFIER,
        "key_arn": _only(platform, "AWS::KMS::Key") or "",
        "topic_arn": profile.alarms.topic_arn or _only(platform, "AWS::SNS::Topic") or "",
        "example_role_arn": EXAMPLE_ROLE,
        "profile": profile.name,
        "connections_prefix": profile.secrets_backend.connections_prefix,
        "variables_prefix": profile.secrets_backend.variables_prefix,
    }
    return (
        values
        | _workflow_placeholders(platform)
        | backup_placeholders(profile, dict(synthesized.stacks))
        | addon_placeholders(synthesized)
    )


# The ManagedPolicy of stacks/serverless.py that whoever runs the profile's workflows is given: a
# policy:<platform stack>/WorkflowRunnerPolicy principal of the contract (permissions/serverless.toml).
RUNNER_POLICY_PREFIX = "WorkflowsRunnerPolicy"


def _workflow_placeholders(platform: ResolvedStack) -> dict[str, str]:
    """The first MWAA Serverless workflow of the platform stack (by logical id): its role, its
    objects and its log group, from the workflow's own properties, and its ARN from the stack's
    output of it (none without workflows). The ARN ends with a suffix the service generates,
    which the resolver (tools/permissions/templates.py) derives from the logical id."""
    workflows = platform.of_type("AWS::MWAAServerless::Workflow")
    if not workflows:
        return {}
    lid = sorted(workflows)[0]
    props = workflows[lid]["Properties"]
    log_group = props["LoggingConfiguration"]["LogGroupName"]
    return {
        "workflow_arn": next(
            str(output["Value"])
            for key, output in platform.outputs.items()
            if key.startswith("Workflow") and f":workflow/{props['Name']}-" in str(output["Value"])
        ),
        "workflow_name": str(props["Name"]),
        "workflow_role_arn": str(props["RoleArn"]),
        "workflow_definition_key": str(props["DefinitionS3Location"]["ObjectKey"]),
        "workflow_log_group": str(log_group),
    }


def _runner_policies(platform: ResolvedStack) -> dict[str, Any]:
    """``<platform stack>/WorkflowRunnerPolicy`` -> the runner policy's document, when the stack has one."""
    found = {
        lid: policy
        for lid, policy in platform.of_type("AWS::IAM::ManagedPolicy").items()
        if lid.startswith(RUNNER_POLICY_PREFIX)
    }
    return {
        f"{platform.name}/WorkflowRunnerPolicy": p["Properties"]["PolicyDocument"] for p in found.values()
    }


def deployment_of(
    label: str, synthesized: Synthesized, policy_files: Mapping[str, Any] | None = None
) -> Deployment:
    platform = synthesized.stacks[synthesized.profile.platform_stack_name]
    return Deployment(
        label=label,
        stacks=synthesized.stacks,
        placeholders=placeholders_of(synthesized),
        conditions=conditions_of(synthesized.profile),
        account=platform.account,
        policy_files={
            **(policy_files if policy_files is not None else committed_policies()),
            **_runner_policies(platform),
        },
    )


def committed_policies() -> dict[str, Any]:
    """The generated policies under policies/ (file name -> document), for policy:<file> actors."""
    return {path.name: json.loads(path.read_text()) for path in sorted((ROOT / "policies").glob("*.json"))}


def labels() -> list[str]:
    """Every shipped profile, then the variants."""
    return [*cdk_context()["profiles"], *VARIANTS]
