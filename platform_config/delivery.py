"""Typed, validated settings of the delivery apps (GitHub deployment access and the CDK pipeline),
and how long a deployment may take against what a CI job and a role session allow.

Settings are read from CDK context (``-c key=value`` or cdk.json) by ``deploy_access_app.py`` and
``pipeline_app.py`` only. Every problem is reported at once, each naming the setting, the value
received and what is allowed. The durations size the deploy role's sessions
(stacks/deploy_access_stack.py) and the deploy workflow's jobs (.github/workflows/deploy.yml,
checked by tests/ci/test_workflows.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from platform_config.profile import Profile

DEFAULT_QUALIFIER = "hnb659fds"  # the CDK bootstrap default

# -- How long a deployment may take, and what a GitHub-hosted job and an IAM role session allow.
# GitHub-hosted jobs are stopped after 6 hours of execution
# (https://docs.github.com/en/actions/reference/actions-limits, "Job execution time").
GITHUB_HOSTED_JOB_MINUTES = 360
# A role session lasts at most the role's MaxSessionDuration, itself at most 12 hours; a session
# of a role assumed with another role's session ("role chaining") at most 1 hour
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html, DurationSeconds).
# The CDK CLI renews its chained bootstrap-role sessions while the base session lasts
# (aws/aws-cdk-cli: packages/@aws-cdk/toolkit-lib/lib/api/aws-auth/provider-caching.ts), so
# only the base session, the one a workflow job gets, must outlast the job.
MAX_ROLE_SESSION_SECONDS = 43_200
# The deploy role's MaxSessionDuration: a session never needs to outlast the job that opens it.
DEPLOY_ROLE_SESSION_SECONDS = GITHUB_HOSTED_JOB_MINUTES * 60
# Creating an environment takes 20-40 minutes and a FORCED update 10-30+ minutes (MWAA user
# guide); planned with a margin of three times the creation.
ENVIRONMENT_CHANGE_MINUTES = 120
# A GRACEFUL update lets workers finish their running tasks "for up to 12 hours" before they are
# replaced (https://docs.aws.amazon.com/mwaa/latest/API/API_UpdateEnvironment.html,
# WorkerReplacementStrategy), then updates the environment. CloudFormation's update handler of
# AWS::MWAA::Environment waits up to 900 minutes for it (timeoutInMinutes in the resource schema).
GRACEFUL_DRAIN_MINUTES = 720
# What a deploy job spends besides the deployment: checkout, Python and Node set-up, installs,
# synthesis; and `mwaa-ops smoke`, which follows a DAG run for up to its default --timeout of
# 3600 s (mwaa_ops/cli.py: _wait_options).
JOB_SETUP_MINUTES = 20
SMOKE_MINUTES = 60
# The minutes of one GitHub-hosted job left to deploying or waiting for a deployment.
DEPLOY_MINUTES_PER_JOB = GITHUB_HOSTED_JOB_MINUTES - JOB_SETUP_MINUTES - SMOKE_MINUTES


def longest_update_minutes(profile: Profile) -> int:
    """The longest a deployment of ``profile`` can keep CloudFormation busy: an environment change
    (creation, or an update with FORCED worker replacement, MWAA's default), plus the 12-hour
    worker drain of a GRACEFUL update."""
    graceful = profile.worker_replacement_strategy == "GRACEFUL"
    return ENVIRONMENT_CHANGE_MINUTES + (GRACEFUL_DRAIN_MINUTES if graceful else 0)


def deploy_jobs(profile: Profile) -> int:
    """How many GitHub-hosted jobs, one after the other, cover the longest deployment of
    ``profile``: the deploy job, then as many jobs that resume waiting as needed."""
    return math.ceil(longest_update_minutes(profile) / DEPLOY_MINUTES_PER_JOB)


_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
_BRANCH = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)[A-Za-z0-9._/-]{1,255}(?<!/)$")
_QUALIFIER = re.compile(r"^[A-Za-z0-9_-]{1,10}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ACCOUNT = re.compile(r"^\d{12}$")
_PROVIDER_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"
)
_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
)
_PROFILE = re.compile(r"^[A-Za-z0-9_-]+$")


class SettingsError(ValueError):
    """Settings of a delivery app that cannot be used; ``problems`` holds one line per setting."""

    def __init__(self, what: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{what} settings are invalid:\n{lines}")


@dataclass(frozen=True, kw_only=True)
class DeployAccessSettings:
    """Who may deploy from GitHub Actions: one repository, its main branch and its environments;
    ``profiles``: the cdk.json profiles the workflows deploy, whose environments the deploy role
    waits for and smoke-tests."""

    repository: str
    branch: str = "main"
    environments: tuple[str, ...] = ("dev", "prod")
    profiles: tuple[str, ...] = ("dev", "prod")
    qualifier: str = DEFAULT_QUALIFIER
    oidc_provider_arn: str | None = None
    regions: tuple[str, ...] = ()  # empty: the region of the access stack

    @property
    def deploy_subjects(self) -> list[str]:
        """Token subjects of the deploy role: the branch, and every GitHub environment."""
        prefix = f"repo:{self.repository}"
        return [f"{prefix}:ref:refs/heads/{self.branch}"] + [
            f"{prefix}:environment:{name}" for name in self.environments
        ]

    @property
    def read_only_subjects(self) -> list[str]:
        return [f"repo:{self.repository}:pull_request"]


@dataclass(frozen=True, kw_only=True)
class PipelineSettings:
    """The CDK pipeline: its source and the profiles it deploys, in order."""

    connection_arn: str
    repository: str
    branch: str = "main"
    profiles: tuple[str, ...] = ("dev", "prod")
    account: str | None = None
    region: str | None = None


def _names(value: Any, default: tuple[str, ...]) -> tuple[str, ...] | None:
    """A list, or a comma-separated string (``-c key=a,b``), as a tuple; None when unreadable."""
    if value is None:
        return default
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _check(problems: list[str], key: str, value: Any, pattern: re.Pattern[str], allowed: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        problems.append(f"{key}: got {value!r}; expected {allowed}")


def _check_names(
    problems: list[str],
    key: str,
    values: tuple[str, ...] | None,
    raw: Any,
    pattern: re.Pattern[str],
    allowed: str,
) -> tuple[str, ...]:
    if values is None or not values:
        problems.append(f"{key}: got {raw!r}; expected one or more {allowed}, comma-separated")
        return ()
    for value in values:
        _check(problems, key, value, pattern, allowed)
    if len(set(values)) != len(values):
        problems.append(f"{key}: got {raw!r}; every name must appear once")
    return values


def load_deploy_access(
    context: Callable[[str], Any], known_profiles: Collection[str] | None = None
) -> DeployAccessSettings:
    """Settings from context: ``github_repository`` (required, OWNER/NAME), ``github_branch``
    (``main``), ``github_environments`` (default: one per profile of ``known_profiles``, as
    deploy.yml deploys each profile in the environment of its name; ``dev,prod`` without
    ``known_profiles``), ``github_profiles`` (the profiles the
    workflows deploy, each one of ``known_profiles`` unless None; default: the GitHub
    environments that are profiles, as deploy.yml deploys profile X in environment X),
    ``cdk_qualifier`` (``hnb659fds``), ``github_oidc_provider_arn`` (import the account's
    provider instead of creating it) and ``deploy_regions`` (default: the access stack's region)."""
    problems: list[str] = []
    repository, branch = _repository_and_branch(context, problems, "github", "a GitHub repository")
    environments = _names_setting(
        context,
        problems,
        "github_environments",
        _ENVIRONMENT,
        "GitHub environment names (letters, digits, '.', '_', '-')",
        default=_in_order(known_profiles) if known_profiles else ("dev", "prod"),
    )
    if context("github_profiles") is not None:
        profiles = _profiles_setting(context, problems, "github_profiles", known_profiles)
    else:
        # deploy.yml deploys, in each GitHub environment, the profile of the same name.
        profiles = tuple(
            e for e in environments if _PROFILE.match(e) and (known_profiles is None or e in known_profiles)
        )
        if environments and not profiles:
            problems.append(
                f"github_profiles: got None and no github_environments value ({', '.join(environments)}) "
                "is a profile of cdk.json; expected the profiles the workflows deploy, comma-separated"
            )
    qualifier = context("cdk_qualifier") or DEFAULT_QUALIFIER
    _check(
        problems,
        "cdk_qualifier",
        qualifier,
        _QUALIFIER,
        "the bootstrap qualifier: 1-10 letters, digits, '_' or '-'",
    )
    provider = context("github_oidc_provider_arn")
    if provider is not None:
        _check(
            problems,
            "github_oidc_provider_arn",
            provider,
            _PROVIDER_ARN,
            "arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com",
        )
    raw_regions = context("deploy_regions")
    regions = (
        _check_names(
            problems,
            "deploy_regions",
            _names(raw_regions, ()),
            raw_regions,
            _REGION,
            "region codes such as 'eu-west-1'",
        )
        if raw_regions is not None
        else ()
    )
    if problems:
        raise SettingsError("deploy access", problems)
    return DeployAccessSettings(
        repository=repository,
        branch=branch,
        environments=environments,
        profiles=profiles,
        qualifier=qualifier,
        oidc_provider_arn=provider,
        regions=regions,
    )


def _repository_and_branch(
    context: Callable[[str], Any], problems: list[str], prefix: str, what: str
) -> tuple[str, str]:
    """``<prefix>_repository`` (required, OWNER/NAME of ``what``) and ``<prefix>_branch``
    (default ``main``)."""
    repository = context(f"{prefix}_repository")
    _check(
        problems,
        f"{prefix}_repository",
        repository,
        _REPOSITORY,
        f"OWNER/NAME of {what}, e.g. 'example-org/mwaa-platform'",
    )
    branch = context(f"{prefix}_branch") or "main"
    _check(problems, f"{prefix}_branch", branch, _BRANCH, "a branch name such as 'main'")
    return repository, branch


def _names_setting(
    context: Callable[[str], Any],
    problems: list[str],
    setting: str,
    pattern: re.Pattern[str],
    what: str,
    default: tuple[str, ...] = ("dev", "prod"),
) -> tuple[str, ...]:
    """A comma-separated (or list) setting of names, default ``default``, each matching ``pattern``."""
    raw = context(setting)
    return _check_names(problems, setting, _names(raw, default), raw, pattern, what)


def _in_order(names: Collection[str]) -> tuple[str, ...]:
    """``names`` in their order (cdk.json's), or sorted when they have none (a set)."""
    return tuple(names) if isinstance(names, Sequence) else tuple(sorted(names))


def _profiles_setting(
    context: Callable[[str], Any],
    problems: list[str],
    setting: str,
    known_profiles: Collection[str] | None,
) -> tuple[str, ...]:
    """Profile names (default ``dev,prod``, in order), each one of ``known_profiles`` unless None."""
    profiles = _names_setting(context, problems, setting, _PROFILE, "profile names")
    if known_profiles is None:
        return profiles
    unknown = [p for p in profiles if _PROFILE.match(p) and p not in known_profiles]
    if unknown:
        allowed = ", ".join(sorted(known_profiles))
        problems.append(f"{setting}: got {', '.join(unknown)}; allowed: the profiles of cdk.json ({allowed})")
    return profiles


def load_pipeline(context: Callable[[str], Any], known_profiles: Collection[str]) -> PipelineSettings:
    """Settings from context: ``pipeline_connection_arn`` and ``pipeline_repository`` (required),
    ``pipeline_branch`` (``main``), ``pipeline_profiles`` (``dev,prod``, in deployment order, each
    a profile of cdk.json), ``pipeline_account`` and ``pipeline_region`` (where the pipeline
    lives; default: the deploying credentials')."""
    problems: list[str] = []
    connection = context("pipeline_connection_arn")
    _check(
        problems,
        "pipeline_connection_arn",
        connection,
        _CONNECTION_ARN,
        "a CodeConnections connection ARN, arn:aws:codeconnections:<region>:<account>:connection/<id>",
    )
    repository, branch = _repository_and_branch(context, problems, "pipeline", "the repository")
    profiles = _profiles_setting(context, problems, "pipeline_profiles", known_profiles)
    account, region = context("pipeline_account"), context("pipeline_region")
    if account is not None:
        _check(problems, "pipeline_account", str(account), _ACCOUNT, "a 12-digit account id")
    if region is not None:
        _check(problems, "pipeline_region", region, _REGION, "a region code such as 'eu-west-1'")
    if problems:
        raise SettingsError("pipeline", problems)
    return PipelineSettings(
        connection_arn=connection,
        repository=repository,
        branch=branch,
        profiles=profiles,
        account=str(account) if account is not None else None,
        region=region,
    )
