"""Airflow's Secrets Manager backend: its configuration options and the grant it needs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from mwaa_constructs.nag import acknowledge_iam5, resource_finding
from mwaa_rules import rules

BACKEND_CLASS = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"

# The MWAA image's own default for ``secrets.backend_kwargs`` (and the workers' kwargs): look up
# every connection in Secrets Manager except ``aws_default``, which stays the execution role's
# own credentials. Options the customer sets replace that default as a whole, so kwargs set here
# repeat it. Source: aws/amazon-mwaa-docker-images, images/airflow/3.3.1/python/mwaa/config/
# airflow.py, ``_get_opinionated_airflow_secrets_config`` (the same value in the repository's
# images 2.9.2 to 3.3.1), one of the settings ``get_opinionated_airflow_config`` says "can be
# overridden by the customer".
MWAA_CONNECTIONS_LOOKUP_PATTERN = "^(?!aws_default$).*$"


@dataclass(frozen=True, kw_only=True)
class SecretsManagerBackend:
    """Airflow looks connections up as ``<connections_prefix>/<conn_id>`` and variables as
    ``<variables_prefix>/<key>`` in AWS Secrets Manager before it looks in the metadata database.

    Pass it as ``AirflowEnvironment(secrets_backend=...)``: the environment then sets
    :meth:`configuration_options` and grants its execution role :meth:`grant_read`.

    ``connections_lookup_pattern`` (default :data:`MWAA_CONNECTIONS_LOOKUP_PATTERN`, the MWAA
    image's own default) is the regular expression a connection id must match to be looked up in
    Secrets Manager: the default keeps ``aws_default`` out, so that it stays the execution role's
    credentials. ``variables_lookup_pattern`` (default: none, every variable is looked up) does
    the same for variable keys. The backend applies them with ``re.match`` and ``re.IGNORECASE``
    (``airflow.providers.amazon.aws.secrets.secrets_manager``); both are checked to compile here.
    """

    connections_prefix: str = "airflow/connections"
    variables_prefix: str = "airflow/variables"
    connections_lookup_pattern: str = MWAA_CONNECTIONS_LOOKUP_PATTERN
    variables_lookup_pattern: str | None = None

    def __post_init__(self) -> None:
        for name in ("connections_prefix", "variables_prefix"):
            value = getattr(self, name)
            if not rules.SECRET_PREFIX_PATTERN.fullmatch(value):
                raise ValueError(
                    f"SecretsManagerBackend {name}: got {value!r}; expected a secret name prefix of "
                    "letters, digits and _+=.@- in '/'-separated parts, without a leading or trailing '/'"
                )
        if self.connections_prefix == self.variables_prefix:
            raise ValueError(
                f"SecretsManagerBackend variables_prefix: got {self.variables_prefix!r}; it must differ "
                "from connections_prefix, or connections and variables share names"
            )
        _check_lookup_pattern("connections_lookup_pattern", self.connections_lookup_pattern)
        if self.variables_lookup_pattern is not None:
            _check_lookup_pattern("variables_lookup_pattern", self.variables_lookup_pattern)

    def configuration_options(self) -> dict[str, str]:
        """``secrets.backend`` and ``secrets.backend_kwargs`` (JSON with sorted keys, so the same
        settings always give the same string and never an environment update). The kwargs always
        hold ``connections_lookup_pattern``: they replace the image's default as a whole."""
        kwargs = {
            "connections_prefix": self.connections_prefix,
            "variables_prefix": self.variables_prefix,
            "connections_lookup_pattern": self.connections_lookup_pattern,
        }
        if self.variables_lookup_pattern is not None:
            kwargs["variables_lookup_pattern"] = self.variables_lookup_pattern
        return {
            "secrets.backend": BACKEND_CLASS,
            "secrets.backend_kwargs": json.dumps(kwargs, sort_keys=True),
        }

    def secret_arns(self, scope: Construct) -> list[str]:
        """ARN patterns of every secret under the two prefixes, in ``scope``'s account and region
        (Secrets Manager appends ``-`` and six random characters to each name)."""
        stack = cdk.Stack.of(scope)
        return [
            stack.format_arn(
                service="secretsmanager",
                resource="secret",
                resource_name=f"{prefix}/*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
            for prefix in (self.connections_prefix, self.variables_prefix)
        ]

    def grant_read(self, grantee: iam.IGrantable, *, key: kms.IKey | None = None) -> iam.Grant:
        """Let ``grantee`` read the secrets under both prefixes (``GetSecretValue``,
        ``DescribeSecret``), and decrypt with ``key`` through Secrets Manager of this region only,
        for secrets encrypted with it. Secrets under the default ``aws/secretsmanager`` key need
        no key grant."""
        scope = _scope_of(grantee)
        arns = self.secret_arns(scope)
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            resource_arns=arns,
        )
        if key is not None:
            region = cdk.Stack.of(scope).region
            grantee.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
                )
            )
        policy = scope.node.try_find_child("DefaultPolicy") or scope.node.try_find_child("Policy")
        if policy is not None:
            reason = (
                "Airflow's Secrets Manager backend reads any connection or variable the DAGs name; "
                "the grant is limited to the secrets under the configured prefix."
            )
            acknowledge_iam5(policy, {resource_finding(policy, arn): reason for arn in arns})
        return grant


def _check_lookup_pattern(name: str, pattern: object) -> None:
    """A lookup pattern must be a non-empty regular expression Python compiles (the backend runs
    ``re.match`` on it for every lookup; an empty one would silently look up everything)."""
    expected = f"expected a non-empty regular expression, e.g. {MWAA_CONNECTIONS_LOOKUP_PATTERN!r}"
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"SecretsManagerBackend {name}: got {pattern!r}; {expected}")
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ValueError(
            f"SecretsManagerBackend {name}: got {pattern!r}, which is not a valid regular "
            f"expression ({error}); {expected}"
        ) from None


def _scope_of(grantee: iam.IGrantable) -> Construct:
    principal = grantee.grant_principal
    if not isinstance(principal, Construct):
        raise TypeError(f"grantee: got {principal!r}; expected a role defined in or imported into a stack")
    return principal
