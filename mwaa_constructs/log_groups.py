"""The CloudWatch log groups an MWAA environment writes to, created before it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from mwaa_constructs.nag import acknowledge_compliance
from mwaa_rules import rules


class AirflowLogGroups(Construct):
    """The five ``airflow-<name>-<Component>`` log groups of an environment.

    MWAA creates these groups itself, with no expiry, unless groups with exactly these names
    already exist; it then writes to them. Creating them here first gives them ``retention``,
    ``encryption_key`` and ``removal_policy``. The default, ``RETAIN_ON_UPDATE_OR_DELETE``
    (``DeletionPolicy: RetainExceptOnCreate``), keeps the groups when the stack is deleted and
    deletes them when the stack's first create rolls back, so that a failed create can be retried.
    A group retained after its stack is deleted makes a later create of the same environment name
    fail with "already exists": delete it or import it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        encryption_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ) -> None:
        super().__init__(scope, id)
        self.log_groups: dict[str, logs.LogGroup] = {}
        for component, (_, suffix) in rules.LOG_COMPONENTS.items():
            self.log_groups[component] = logs.LogGroup(
                self,
                suffix,
                log_group_name=rules.log_group_name(environment_name, component),
                retention=retention,
                encryption_key=encryption_key,
                removal_policy=removal_policy,
            )
            if encryption_key is None:
                acknowledge_compliance(
                    self.log_groups[component],
                    {
                        "CloudWatchLogGroupEncrypted": "No customer managed key in this profile "
                        "(encryption 'aws_owned', the key MWAA cannot switch later): CloudWatch Logs "
                        "encrypts the group with its own keys. Profiles with a customer managed key "
                        "encrypt every log group with it."
                    },
                )

        self.log_group_names: list[str] = [rules.log_group_name(environment_name, c) for c in self.log_groups]


def retention_days(days: int) -> logs.RetentionDays:
    """The ``RetentionDays`` member for a number of days CloudWatch Logs accepts."""
    members = [member for member in logs.RetentionDays if member != logs.RetentionDays.INFINITE]
    table = dict(zip(rules.LOG_RETENTION_DAYS, members, strict=True))
    if days not in table:
        raise ValueError(f"log retention: got {days} days; CloudWatch Logs accepts {list(table)}")
    return table[days]
