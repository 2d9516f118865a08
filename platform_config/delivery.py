"""Typed, validated settings of the delivery apps: GitHub deployment access and the CDK pipeline.

Read from CDK context (``-c key=value`` or cdk.json) by ``deploy_access_app.py`` and
``pipeline_app.py`` only. Every problem is reported at once, each naming the setting, the value
received and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_QUALIFIER = "hnb659fds"  # the CDK bootstrap default
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
    """Who may deploy from GitHub Actions: one repository, its main branch and its environments."""

    repository: str
    branch: str = "main"
    environments: tuple[str, ...] = ("dev", "prod")
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


def load_deploy_access(context: Callable[[str], Any]) -> DeployAccessSettings:
    """Settings from context: ``github_repository`` (required, OWNER/NAME), ``github_branch``
    (``main``), ``github_environments`` (``dev,prod``), ``cdk_qualifier`` (``hnb659fds``),
    ``github_oidc_provider_arn`` (import the account's provider instead of creating it) and
    ``deploy_regions`` (default: the access stack's region)."""
    problems: list[str] = []
    repository, branch = _repository_and_branch(context, problems, "github", "a GitHub repository")
    environments = _names_setting(
        context,
        problems,
        "github_environments",
        _ENVIRONMENT,
        "GitHub environment names (letters, digits, '.', '_', '-')",
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
    context: Callable[[str], Any], problems: list[str], setting: str, pattern: re.Pattern[str], what: str
) -> tuple[str, ...]:
    """A comma-separated (or list) setting of names, default ``dev,prod``, each matching ``pattern``."""
    raw = context(setting)
    return _check_names(problems, setting, _names(raw, ("dev", "prod")), raw, pattern, what)


def load_pipeline(context: Callable[[str], Any], known_profiles: set[str]) -> PipelineSettings:
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
    profiles = _names_setting(context, problems, "pipeline_profiles", _PROFILE, "profile names")
    unknown = [p for p in profiles if _PROFILE.match(p) and p not in known_profiles]
    if unknown:
        allowed = ", ".join(sorted(known_profiles))
        problems.append(
            f"pipeline_profiles: got {', '.join(unknown)}; allowed: the profiles of cdk.json ({allowed})"
        )
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
