"""Scheduled backups of an environment's metadata and their replicas: the schedule expressions
the platform accepts, how long a backup may be missing before that is an alarm, and the
deterministic names of the buckets, key alias and role that two regions share.

The names are computed here, not read from CloudFormation outputs, so that the stack of one
region can name a resource of the stack in the other region without a cross-region reference
(CloudFormation exports and ``Fn::ImportValue`` work within one region only), and so that
``mwaa-ops`` and the failover tool find the replicas of a profile without a CDK import.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# EventBridge Scheduler expressions: rate(value unit) and cron(minutes hours day-of-month month
# day-of-week year), https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html.
# The platform accepts the subset whose longest gap between two runs it can compute without a
# calendar: rates, and daily crons (any minute, hours as a number, a list or */n).
_RATE = re.compile(r"rate\((?P<value>[1-9][0-9]*) (?P<unit>minutes?|hours?|days?)\)")
_CRON = re.compile(r"cron\((?P<minute>[0-9]{1,2}) (?P<hours>\S+) \* \* \? \*\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}

# A CloudWatch alarm evaluates at most seven days (Period x EvaluationPeriods <= 604,800 s):
# PutMetricAlarm, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html.
# The missing-backup alarm uses one-hour periods, so the longest interval it can watch is
# 168 hours less the grace hour.
ALARM_PERIOD_SECONDS = 3600
MAX_ALARM_PERIODS = 604_800 // ALARM_PERIOD_SECONDS
GRACE_PERIODS = 1
MAX_INTERVAL_SECONDS = (MAX_ALARM_PERIODS - GRACE_PERIODS) * ALARM_PERIOD_SECONDS
# A backup more often than hourly would land several times in one alarm period and buys no RPO
# the hourly alarm could see.
MIN_INTERVAL_SECONDS = 3600

SCHEDULE_ALLOWED = (
    "expected an EventBridge Scheduler expression 'rate(<n> minutes|hours|days)' or a daily "
    "'cron(<minute> <hours> * * ? *)' (hours a number, a list such as '2,14' or '*/6'), in UTC, "
    f"at most every hour and at least every {MAX_INTERVAL_SECONDS // 3600} hours"
)

# Where the archives go in the backup bucket: <prefix>/<environment>/<UTC time>.json.gz; the
# time sorts as text in the order it happened, so the newest backup is the greatest key.
KEY_PREFIX = "backups"
KEY_TIME_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: its expression and the longest time between two of its runs."""

    expression: str
    interval_seconds: int

    @property
    def alarm_periods(self) -> int:
        """Hourly periods without a successful backup after which the backup counts as missing:
        the interval rounded up to whole hours, plus one hour for the run itself."""
        return -(-self.interval_seconds // ALARM_PERIOD_SECONDS) + GRACE_PERIODS


def parse_schedule(expression: str) -> Schedule | None:
    """The schedule of ``expression``, or None when the platform does not accept it."""
    rate = _RATE.fullmatch(expression)
    if rate is not None:
        value, unit = int(rate["value"]), rate["unit"].rstrip("s")
        if (value == 1) != (rate["unit"] == unit):  # Scheduler: "1 hour", "2 hours"
            return None
        interval = value * _UNIT_SECONDS[unit]
    else:
        cron = _CRON.fullmatch(expression)
        if cron is None or int(cron["minute"]) > 59:
            return None
        hours = _cron_hours(cron["hours"])
        if not hours:
            return None
        gaps = [(hours[(i + 1) % len(hours)] - h) % 24 or 24 for i, h in enumerate(hours)]
        interval = max(gaps) * 3600
    if not MIN_INTERVAL_SECONDS <= interval <= MAX_INTERVAL_SECONDS:
        return None
    return Schedule(expression=expression, interval_seconds=interval)


def _cron_hours(field: str) -> list[int]:
    """The hours of a cron hours field (a number, a comma list, ``*/n`` or ``*``); [] if invalid."""
    if field == "*":
        return list(range(24))
    step = re.fullmatch(r"\*/([1-9][0-9]?)", field)
    if step is not None:
        n = int(step[1])
        return list(range(0, 24, n)) if n < 24 else []
    if not re.fullmatch(r"[0-9]{1,2}(,[0-9]{1,2})*", field):
        return []
    hours = sorted({int(h) for h in field.split(",")})
    return hours if hours[-1] <= 23 else []


def _name_part(environment_name: str, limit: int) -> str:
    """The environment name as S3 and IAM allow it in a name, at most ``limit`` characters; a
    name that does not fit as it is gets a short hash of the original (two names never meet)."""
    part = re.sub(r"[^a-z0-9-]", "-", environment_name.lower()).strip("-")
    if part == environment_name and len(part) <= limit:
        return part
    digest = hashlib.sha256(environment_name.encode()).hexdigest()[:6]
    return f"{part[: limit - 7].strip('-')}-{digest}".lstrip("-")


# "airflow-" + part + "-" + kind + "-" + 12-digit account + "-" + region (at most 14
# characters) within S3's 63.
_BUCKET_KINDS = ("backups", "dag-replica")


def bucket_name(environment_name: str, kind: str, *, account: str, region: str) -> str:
    """``airflow-<environment>-<kind>-<account>-<region>``: the backup bucket (``backups``, in
    the primary region and, as the replica, in the replica region) and the replica of the DAG
    bucket (``dag-replica``). ``account`` may be a CDK token (``${AWS::AccountId}``)."""
    if kind not in _BUCKET_KINDS:
        raise ValueError(f"bucket kind {kind!r}; expected one of {_BUCKET_KINDS}")
    limit = 63 - len("airflow-") - 1 - len(kind) - 1 - 12 - 1 - 14
    return f"airflow-{_name_part(environment_name, limit)}-{kind}-{account}-{region}"


def replica_key_alias(environment_name: str) -> str:
    """Alias of the replica region's key. S3 replication accepts an alias ARN as
    ``ReplicaKmsKeyID`` (S3 API reference, EncryptionConfiguration), which is what lets the
    primary region name the key without knowing its id."""
    return f"alias/mwaa/{environment_name}-replica"


def replication_role_name(environment_name: str) -> str:
    """Name of the IAM role S3 replication assumes (IAM role names: at most 64 characters)."""
    return f"{_name_part(environment_name, 64 - len('-s3-replication'))}-s3-replication"


def backup_key(environment_name: str, timestamp: str) -> str:
    """The object key of one archive; ``timestamp`` in :data:`KEY_TIME_FORMAT`."""
    return f"{KEY_PREFIX}/{environment_name}/{timestamp}.json.gz"


def backup_prefix(environment_name: str) -> str:
    return f"{KEY_PREFIX}/{environment_name}/"
