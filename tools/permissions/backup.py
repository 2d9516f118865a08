"""The permission contract's view of a profile's scheduled backups (permissions/backup.toml):
its conditions (``backup``, ``replica``) and placeholders, from the profile and the templates'
names (never from their policies)."""

from __future__ import annotations

from typing import Any

from mwaa_rules import backup as backup_rules
from tools.permissions.templates import ResolvedStack


def backup_conditions(profile: Any) -> dict[str, bool]:
    return {
        "backup": profile.backup.enabled,
        "replica": profile.replica_stack_name is not None,
    }


def _one(stack: ResolvedStack, resource_type: str, prefix: str) -> str:
    (lid,) = [lid for lid in stack.of_type(resource_type) if lid.startswith(prefix)]
    return lid


def backup_placeholders(profile: Any, stacks: dict[str, ResolvedStack]) -> dict[str, str]:
    """``backup_bucket``, ``backup_function_arn``, ``backup_log_stream_arn`` and, with a replica,
    ``replica_region``, ``replica_backup_bucket``, ``replica_dag_bucket``, ``replica_key_arn``
    (empty without a customer managed key)."""
    if not profile.backup.enabled:
        return {}
    platform = stacks[profile.platform_stack_name]
    name, account = profile.environment_name, platform.account
    log_group = platform.arns[_one(platform, "AWS::Logs::LogGroup", "BackupLogs")].removesuffix(":*")
    values = {
        "backup_bucket": backup_rules.bucket_name(name, "backups", account=account, region=platform.region),
        "backup_object": backup_rules.backup_key(name, "20261204T020000Z"),
        "backup_function_arn": platform.arns[_one(platform, "AWS::Lambda::Function", "BackupFunction")],
        "backup_log_stream_arn": f"{log_group}:log-stream:2026/12/04/[$LATEST]0123456789abcdef",
    }
    if profile.replica_stack_name is None:
        return values
    replica = stacks[profile.replica_stack_name]
    region = profile.backup.replica_region
    keys = list(replica.of_type("AWS::KMS::Key"))
    return values | {
        "replica_region": region,
        "replica_backup_bucket": backup_rules.bucket_name(name, "backups", account=account, region=region),
        "replica_dag_bucket": backup_rules.bucket_name(name, "dag-replica", account=account, region=region),
        "replica_key_arn": replica.arns[keys[0]] if keys else "",
    }
