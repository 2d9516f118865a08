"""Amazon MWAA Serverless: workflow definitions checked before deployment, and the cost of a run.

A workflow is one Airflow DAG written as YAML in the dag-factory format, run by the service on
Airflow 3 / Python 3.12, optionally with a code package of Python modules. CloudFormation stores
whatever file it is given: a definition the service cannot run fails only when the workflow is
created or when it runs. :func:`load_definition` refuses it at synth instead, with one message per
problem that names the file, the task and the field.

What is checked, and where each rule comes from:

- Shape: ``{dag_id: {dag_id, default_args, schedule, tasks: {task_id: {operator, ...,
  dependencies: [...]}}}}``, one DAG per file (a workflow is one DAG). The user guide,
  "Workflows" (https://docs.aws.amazon.com/mwaa/latest/mwaa-serverless-userguide/workflows.html),
  and dag-factory 1.1.0, which the service's format follows.
- Ids: Airflow's own rule for DAG and task ids (letters, digits, ``_``, ``.``, ``-``; at most 250
  characters: ``airflow.utils.helpers.validate_key``).
- Operators: the service runs the AWS operators of its list ("Supported operators",
  https://docs.aws.amazon.com/mwaa/latest/mwaa-serverless-userguide/operators.html) and, with a
  code package, ``PythonOperator`` and ``BashOperator`` and operators whose module the package
  holds ("Running custom code with Python, Bash, and custom operators",
  https://docs.aws.amazon.com/mwaa/latest/mwaa-serverless-userguide/custom-code-operators.html).
  The list below is that page's operators as full class paths; the page is cut where the search
  tool stores it, so the paths come from the enumeration of the service's own converter
  (awslabs/python-to-yaml-dag-converter-mwaa-serverless, ``dag_converter/validator_schema.yaml``,
  v0.1.4), which validates against the same list.
- A ``python_callable`` is ``module.function`` and must be a top-level function of a module of the
  code package (the package is unpacked at the root of the DAG folder, so its top-level modules
  import by name).
- Limits: ``retries`` 0-3, ``retry_delay`` at most 300 s, ``execution_timeout`` at most 3600 s per
  task ("Apache Airflow Parameter Support",
  https://docs.aws.amazon.com/mwaa/latest/mwaa-serverless-userguide/supported-airflow-parameters.html).
  Durations are a number of seconds or dag-factory's ``{__type__: datetime.timedelta, seconds: N}``;
  ``execution_timeout`` must be the latter, because Airflow 3.3.1 refuses a number there
  ("execution_timeout must be timedelta object").
- Schedule: a standard five-field cron expression, or ``null`` for manual runs only (see
  :func:`schedule_problem` for the dialect and why).
- Dependencies: a list of task ids of the same DAG, none of them the task itself, and no cycle.

This module is pure Python (the standard library, and PyYAML once a definition is read): the
profile model, the constructs and the tests use it without starting the CDK.
"""

from __future__ import annotations

import ast
import calendar
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

# ---- limits of the service -------------------------------------------------------------------

MAX_RETRIES = 3
MAX_RETRY_DELAY_SECONDS = 300
MAX_EXECUTION_TIMEOUT_SECONDS = 3600
# Airflow's KEY_REGEX and ID_LEN (airflow.utils.helpers): DAG ids and task ids.
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
ID_MAX_LENGTH = 250
# The workflow name (CreateWorkflow ``Name``, the AWS::MWAAServerless::Workflow schema).
WORKFLOW_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9]+[a-zA-Z0-9.\-_]*$")
WORKFLOW_NAME_MAX_LENGTH = 255
# Environment variables of a workflow (the API reference, ``Environment``,
# https://docs.aws.amazon.com/mwaa-serverless/latest/APIReference/API_Environment.html).
ENVIRONMENT_VARIABLE_NAME_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,127}$")
ENVIRONMENT_VARIABLE_MAX_VALUE_LENGTH = 255
MAX_ENVIRONMENT_VARIABLES = 50
RESERVED_ENVIRONMENT_PREFIXES = ("AWS_", "AIRFLOW__")
ALLOWED_RESERVED_ENVIRONMENT_VARIABLES = (
    "AIRFLOW__WORKERS__SECRETS_BACKEND",
    "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS",
)
ALLOWED_RESERVED_ENVIRONMENT_PREFIX = "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARG__"

# ---- operators -------------------------------------------------------------------------------

PYTHON_OPERATORS = (
    "airflow.providers.standard.operators.python.PythonOperator",
    "airflow.operators.python.PythonOperator",
)
BASH_OPERATORS = (
    "airflow.providers.standard.operators.bash.BashOperator",
    "airflow.operators.bash.BashOperator",
)
# Operators that run code of the workflow's code package.
CODE_OPERATORS = (*PYTHON_OPERATORS, *BASH_OPERATORS)

_AWS = "airflow.providers.amazon.aws"
_SUPPORTED_BY_MODULE: dict[str, tuple[str, ...]] = {
    "airflow.providers.standard.operators.empty": ("EmptyOperator",),
    "airflow.operators.empty": ("EmptyOperator",),
    f"{_AWS}.operators.athena": ("AthenaOperator",),
    f"{_AWS}.operators.emr": (
        "EmrAddStepsOperator",
        "EmrStartNotebookExecutionOperator",
        "EmrStopNotebookExecutionOperator",
        "EmrEksCreateClusterOperator",
        "EmrContainerOperator",
        "EmrCreateJobFlowOperator",
        "EmrModifyClusterOperator",
        "EmrTerminateJobFlowOperator",
        "EmrServerlessCreateApplicationOperator",
        "EmrServerlessStartJobOperator",
        "EmrServerlessStopApplicationOperator",
        "EmrServerlessDeleteApplicationOperator",
    ),
    f"{_AWS}.operators.redshift_cluster": (
        "RedshiftCreateClusterSnapshotOperator",
        "RedshiftDeleteClusterSnapshotOperator",
        "RedshiftResumeClusterOperator",
        "RedshiftPauseClusterOperator",
        "RedshiftDeleteClusterOperator",
        "RedshiftCreateClusterOperator",
    ),
    f"{_AWS}.operators.redshift_data": ("RedshiftDataOperator",),
    f"{_AWS}.operators.s3": (
        "S3CreateBucketOperator",
        "S3DeleteBucketOperator",
        "S3GetBucketTaggingOperator",
        "S3PutBucketTaggingOperator",
        "S3DeleteBucketTaggingOperator",
        "S3CopyObjectOperator",
        "S3CreateObjectOperator",
        "S3DeleteObjectsOperator",
        "S3ListOperator",
        "S3ListPrefixesOperator",
    ),
    f"{_AWS}.operators.appflow": (
        "AppflowRunOperator",
        "AppflowRunFullOperator",
        "AppflowRunBeforeOperator",
        "AppflowRunAfterOperator",
        "AppflowRunDailyOperator",
        "AppflowRecordsShortCircuitOperator",
    ),
    f"{_AWS}.operators.batch": ("BatchOperator", "BatchCreateComputeEnvironmentOperator"),
    f"{_AWS}.operators.bedrock": (
        "BedrockInvokeModelOperator",
        "BedrockCustomizeModelOperator",
        "BedrockCreateProvisionedModelThroughputOperator",
        "BedrockCreateKnowledgeBaseOperator",
        "BedrockCreateDataSourceOperator",
        "BedrockIngestDataOperator",
        "BedrockRaGOperator",
        "BedrockRetrieveOperator",
        "BedrockBatchInferenceOperator",
    ),
    f"{_AWS}.operators.cloud_formation": (
        "CloudFormationCreateStackOperator",
        "CloudFormationDeleteStackOperator",
    ),
    f"{_AWS}.operators.comprehend": (
        "ComprehendStartPiiEntitiesDetectionJobOperator",
        "ComprehendCreateDocumentClassifierOperator",
    ),
    f"{_AWS}.operators.datasync": ("DataSyncOperator",),
    f"{_AWS}.operators.dms": (
        "DmsCreateTaskOperator",
        "DmsDeleteTaskOperator",
        "DmsDescribeTasksOperator",
        "DmsStartTaskOperator",
        "DmsStopTaskOperator",
        "DmsCreateReplicationConfigOperator",
        "DmsDescribeReplicationsOperator",
        "DmsDeleteReplicationConfigOperator",
        "DmsDescribeReplicationConfigsOperator",
    ),
    f"{_AWS}.transfers.dynamodb_to_s3": ("DynamoDBToS3Operator",),
    f"{_AWS}.operators.ec2": (
        "EC2StartInstanceOperator",
        "EC2StopInstanceOperator",
        "EC2CreateInstanceOperator",
        "EC2TerminateInstanceOperator",
        "EC2RebootInstanceOperator",
        "EC2HibernateInstanceOperator",
    ),
    f"{_AWS}.operators.ecs": (
        "EcsCreateClusterOperator",
        "EcsDeleteClusterOperator",
        "EcsDeregisterTaskDefinitionOperator",
        "EcsRegisterTaskDefinitionOperator",
        "EcsRunTaskOperator",
    ),
    f"{_AWS}.operators.eks": (
        "EksCreateClusterOperator",
        "EksCreateNodegroupOperator",
        "EksCreateFargateProfileOperator",
        "EksDeleteClusterOperator",
        "EksDeleteNodegroupOperator",
        "EksDeleteFargateProfileOperator",
        "EksPodOperator",
    ),
    f"{_AWS}.operators.eventbridge": (
        "EventBridgePutEventsOperator",
        "EventBridgePutRuleOperator",
        "EventBridgeEnableRuleOperator",
        "EventBridgeDisableRuleOperator",
    ),
    f"{_AWS}.operators.glacier": ("GlacierCreateJobOperator", "GlacierUploadArchiveOperator"),
    f"{_AWS}.operators.glue": (
        "GlueJobOperator",
        "GlueDataQualityOperator",
        "GlueDataQualityRuleSetEvaluationRunOperator",
        "GlueDataQualityRuleRecommendationRunOperator",
    ),
    f"{_AWS}.operators.glue_databrew": ("GlueDataBrewStartJobOperator",),
    f"{_AWS}.operators.glue_crawler": ("GlueCrawlerOperator",),
    f"{_AWS}.operators.kinesis_analytics": (
        "KinesisAnalyticsV2CreateApplicationOperator",
        "KinesisAnalyticsV2StartApplicationOperator",
        "KinesisAnalyticsV2StopApplicationOperator",
    ),
    f"{_AWS}.operators.lambda_function": ("LambdaCreateFunctionOperator", "LambdaInvokeFunctionOperator"),
    f"{_AWS}.operators.neptune": ("NeptuneStartDbClusterOperator", "NeptuneStopDbClusterOperator"),
    f"{_AWS}.operators.quicksight": ("QuickSightCreateIngestionOperator",),
    f"{_AWS}.operators.rds": (
        "RdsCreateDbSnapshotOperator",
        "RdsCopyDbSnapshotOperator",
        "RdsDeleteDbSnapshotOperator",
        "RdsStartExportTaskOperator",
        "RdsCancelExportTaskOperator",
        "RdsCreateEventSubscriptionOperator",
        "RdsDeleteEventSubscriptionOperator",
        "RdsCreateDbInstanceOperator",
        "RdsDeleteDbInstanceOperator",
        "RdsStartDbOperator",
        "RdsStopDbOperator",
    ),
    f"{_AWS}.operators.sagemaker": (
        "SageMakerProcessingOperator",
        "SageMakerEndpointConfigOperator",
        "SageMakerEndpointOperator",
        "SageMakerTransformOperator",
        "SageMakerTuningOperator",
        "SageMakerModelOperator",
        "SageMakerTrainingOperator",
        "SageMakerDeleteModelOperator",
        "SageMakerStartPipelineOperator",
        "SageMakerStopPipelineOperator",
        "SageMakerRegisterModelVersionOperator",
        "SageMakerAutoMLOperator",
        "SageMakerCreateExperimentOperator",
        "SageMakerCreateNotebookOperator",
        "SageMakerStopNotebookOperator",
        "SageMakerDeleteNotebookOperator",
        "SageMakerStartNoteBookOperator",
    ),
    f"{_AWS}.operators.sagemaker_unified_studio": ("SageMakerNotebookOperator",),
    f"{_AWS}.operators.sagemaker_unified_studio_notebook": ("SageMakerUnifiedStudioNotebookOperator",),
    f"{_AWS}.operators.sns": ("SnsPublishOperator",),
    f"{_AWS}.operators.sqs": ("SqsPublishOperator",),
    f"{_AWS}.operators.step_function": (
        "StepFunctionStartExecutionOperator",
        "StepFunctionGetExecutionOutputOperator",
    ),
    f"{_AWS}.operators.mwaa": ("MwaaTriggerDagRunOperator",),
    f"{_AWS}.transfers.http_to_s3": ("HttpToS3Operator",),
    f"{_AWS}.transfers.redshift_to_s3": ("RedshiftToS3Operator",),
    f"{_AWS}.transfers.sql_to_s3": ("SqlToS3Operator",),
    f"{_AWS}.transfers.local_to_s3": ("LocalFilesystemToS3Operator",),
    f"{_AWS}.transfers.s3_to_dynamodb": ("S3ToDynamoDBOperator",),
    f"{_AWS}.transfers.s3_to_redshift": ("S3ToRedshiftOperator",),
    "airflow.providers.common.sql.operators.sql": ("SQLTableCheckOperator",),
    f"{_AWS}.sensors.athena": ("AthenaSensor",),
    f"{_AWS}.sensors.batch": ("BatchSensor", "BatchComputeEnvironmentSensor", "BatchJobQueueSensor"),
    f"{_AWS}.sensors.bedrock": (
        "BedrockBatchInferenceSensor",
        "BedrockCustomizeModelCompletedSensor",
        "BedrockProvisionModelThroughputCompletedSensor",
        "BedrockKnowledgeBaseActiveSensor",
        "BedrockIngestionJobSensor",
    ),
    f"{_AWS}.sensors.cloud_formation": ("CloudFormationCreateStackSensor", "CloudFormationDeleteStackSensor"),
    f"{_AWS}.sensors.comprehend": (
        "ComprehendStartPiiEntitiesDetectionJobCompletedSensor",
        "ComprehendCreateDocumentClassifierCompletedSensor",
    ),
    f"{_AWS}.sensors.dms": ("DmsTaskCompletedSensor",),
    f"{_AWS}.sensors.dynamodb": ("DynamoDBValueSensor",),
    f"{_AWS}.sensors.ec2": ("EC2InstanceStateSensor",),
    f"{_AWS}.sensors.ecs": ("EcsClusterStateSensor", "EcsTaskDefinitionStateSensor", "EcsTaskStateSensor"),
    f"{_AWS}.sensors.eks": (
        "EksClusterStateSensor",
        "EksFargateProfileStateSensor",
        "EksNodegroupStateSensor",
    ),
    f"{_AWS}.sensors.emr": (
        "EmrServerlessJobSensor",
        "EmrServerlessApplicationSensor",
        "EmrContainerSensor",
        "EmrNotebookExecutionSensor",
        "EmrJobFlowSensor",
        "EmrStepSensor",
    ),
    f"{_AWS}.sensors.glacier": ("GlacierJobOperationSensor",),
    f"{_AWS}.sensors.glue": (
        "GlueJobSensor",
        "GlueDataQualityRuleSetEvaluationRunSensor",
        "GlueDataQualityRuleRecommendationRunSensor",
    ),
    f"{_AWS}.sensors.glue_catalog_partition": ("GlueCatalogPartitionSensor",),
    f"{_AWS}.sensors.glue_crawler": ("GlueCrawlerSensor",),
    f"{_AWS}.sensors.kinesis_analytics": (
        "KinesisAnalyticsV2StartApplicationCompletedSensor",
        "KinesisAnalyticsV2StopApplicationCompletedSensor",
    ),
    f"{_AWS}.sensors.lambda_function": ("LambdaFunctionStateSensor",),
    f"{_AWS}.sensors.mwaa": ("MwaaDagRunSensor",),
    f"{_AWS}.sensors.opensearch_serverless": ("OpenSearchServerlessCollectionActiveSensor",),
    f"{_AWS}.sensors.quicksight": ("QuickSightSensor",),
    f"{_AWS}.sensors.rds": ("RdsSnapshotExistenceSensor", "RdsExportTaskExistenceSensor", "RdsDbSensor"),
    f"{_AWS}.sensors.redshift_cluster": ("RedshiftClusterSensor",),
    f"{_AWS}.sensors.s3": ("S3KeySensor", "S3KeysUnchangedSensor"),
    f"{_AWS}.sensors.sagemaker": (
        "SageMakerEndpointSensor",
        "SageMakerTransformSensor",
        "SageMakerTuningSensor",
        "SageMakerTrainingSensor",
        "SageMakerPipelineSensor",
        "SageMakerAutoMLSensor",
        "SageMakerProcessingSensor",
    ),
    f"{_AWS}.sensors.sagemaker_unified_studio_notebook": ("SageMakerUnifiedStudioNotebookSensor",),
    f"{_AWS}.sensors.sqs": ("SqsSensor",),
    f"{_AWS}.sensors.step_function": ("StepFunctionExecutionSensor",),
}
# Operators the service runs without a code package.
SUPPORTED_OPERATORS: frozenset[str] = frozenset(
    f"{module}.{name}" for module, names in _SUPPORTED_BY_MODULE.items() for name in names
)

# ---- schedules -------------------------------------------------------------------------------

# Airflow's presets and the five-field expression each stands for (airflow.timetables).
CRON_PRESETS: Mapping[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}


@dataclass(frozen=True)
class _CronField:
    name: str
    low: int
    high: int
    names: Mapping[str, int] = field(default_factory=dict)


_CRON_FIELDS = (
    _CronField("minute", 0, 59),
    _CronField("hour", 0, 23),
    _CronField("day-of-month", 1, 31),
    _CronField("month", 1, 12, _MONTHS),
    _CronField("day-of-week", 0, 7, _DAYS),
)
_CRON_ITEM = re.compile(r"^(?P<range>\*|(?P<start>\w+)(-(?P<end>\w+))?)(/(?P<step>\d+))?$")


def _cron_value(token: str, spec: _CronField) -> int | None:
    if token.isdigit():
        value = int(token)
    elif token.upper() in spec.names:
        value = spec.names[token.upper()]
    else:
        return None
    return value if spec.low <= value <= spec.high else None


def _cron_field_values(text: str, spec: _CronField) -> set[int] | str:
    """The values one field selects, or why it is not a standard cron field."""
    values: set[int] = set()
    for item in text.split(","):
        match = _CRON_ITEM.match(item)
        if match is None:
            return f"{spec.name} field {text!r} is not standard cron (use numbers, names, *, -, / and ,)"
        step = int(match["step"]) if match["step"] else 1
        if step == 0:
            return f"{spec.name} field {text!r} has a step of 0"
        if match["range"] == "*":
            start, end = spec.low, spec.high
        else:
            start_value = _cron_value(match["start"], spec)
            end_value = _cron_value(match["end"], spec) if match["end"] else None
            if start_value is None or (match["end"] and end_value is None):
                return f"{spec.name} field {text!r} is outside {spec.low}-{spec.high}"
            start = start_value
            end = end_value if end_value is not None else (spec.high if match["step"] else start)
            if end < start:
                return f"{spec.name} field {text!r} has a range that ends before it starts"
        values.update(range(start, end + 1, step))
    return values


def schedule_problem(schedule: object) -> str | None:
    """Why ``schedule`` is not a schedule the service runs as written, or ``None``.

    Accepted: ``None`` (manual runs only) and a standard five-field cron expression
    (minute hour day-of-month month day-of-week, numbers or names, ``*``, ``-``, ``/``, ``,``),
    read in UTC.

    The dialect is settled by the strongest source: the API and CloudFormation references
    (``ScheduleConfiguration.CronExpression``: "Uses standard cron syntax",
    https://docs.aws.amazon.com/mwaa-serverless/latest/APIReference/API_ScheduleConfiguration.html)
    and the user guide's parameter table ("schedule: Cron expression, or null"). The six-field
    form of the service's converter examples (``0 0 * * ? *``, EventBridge Scheduler's
    ``minutes hours day-of-month month day-of-week year``) appears only in hand-written sample
    files; the converter's own code passes a Python DAG's five-field expression through unchanged
    (``dag_converter/conversion/schedule.py``), and Airflow 3.3.1 with dag-factory, which builds
    the DAG from the same file, reads a sixth field as seconds: ``0 0 * * ? *`` fires every
    second from 00:00:00 to 00:00:59. A five-field expression means the same to both readers, so
    only that form is accepted; EventBridge-only tokens (``?``, ``L``, ``W``, ``#``) and Airflow
    presets are refused with the equivalent five-field form where one exists. Setting both
    day-of-month and day-of-week is refused too: standard cron runs on either day, EventBridge
    Scheduler (which the service schedules with) refuses the combination.
    """
    if schedule is None:
        return None
    if not isinstance(schedule, str):
        return f"expected a cron expression (a string) or null, got {type(schedule).__name__}"
    expression = schedule.strip()
    if expression.startswith("@"):
        equivalent = CRON_PRESETS.get(expression.lower())
        if equivalent is not None:
            return f"presets are not cron expressions; write {equivalent!r}"
        return "presets are not cron expressions; use null for manual runs only"
    fields = expression.split()
    if len(fields) == 6:
        return (
            "six fields is EventBridge Scheduler's form (with a year), which Airflow reads with "
            "seconds; write the five-field form (minute hour day-of-month month day-of-week)"
        )
    if len(fields) != 5:
        return f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}"
    for text, spec in zip(fields, _CRON_FIELDS, strict=True):
        bare = text.upper()
        for name in spec.names:
            bare = bare.replace(name, "")
        for token in ("?", "L", "W", "#"):
            if token in bare:
                return f"{token!r} is EventBridge Scheduler syntax, not standard cron; use '*' or numbers"
        values = _cron_field_values(text, spec)
        if isinstance(values, str):
            return values
    if fields[2] != "*" and fields[4] != "*":
        return (
            "set day-of-month or day-of-week, not both (standard cron runs on either day, "
            "EventBridge Scheduler refuses both)"
        )
    return None


def runs_per_month(schedule: str | None) -> float:
    """How many times a valid five-field ``schedule`` fires in an average month (of 2025, a
    common year: 365 days / 12), 0 for manual runs only."""
    if schedule is None:
        return 0.0
    problem = schedule_problem(schedule)
    if problem is not None:
        raise ValueError(f"schedule: got {schedule!r}; {problem}")
    parsed = [
        _cron_field_values(text, spec) for text, spec in zip(schedule.split(), _CRON_FIELDS, strict=True)
    ]
    minutes, hours, days, months, weekdays = (v for v in parsed if not isinstance(v, str))
    weekdays = {day % 7 for day in weekdays}  # 7 is Sunday too
    per_day = len(minutes) * len(hours)
    day = date(2025, 1, 1)
    firing_days = 0
    while day.year == 2025:
        # date.weekday(): Monday is 0; cron: Sunday is 0.
        if day.month in months and day.day in days and (day.weekday() + 1) % 7 in weekdays:
            firing_days += 1
        day += timedelta(days=1)
    return per_day * firing_days / 12


# ---- the definition --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TaskDefinition:
    """One task of a workflow definition, as the file gives it."""

    task_id: str
    operator: str
    dependencies: tuple[str, ...]
    parameters: Mapping[str, Any]

    @property
    def python_callable(self) -> str | None:
        value = self.parameters.get("python_callable")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, kw_only=True)
class WorkflowDefinition:
    """A workflow definition that passed every check of :func:`check_definition`."""

    path: Path
    dag_id: str
    schedule: str | None
    default_args: Mapping[str, Any]
    tasks: Mapping[str, TaskDefinition]

    def upstream(self) -> dict[str, frozenset[str]]:
        """Each task id and the ids of the tasks it depends on: the DAG's task graph."""
        return {task_id: frozenset(task.dependencies) for task_id, task in self.tasks.items()}

    def python_callables(self) -> dict[str, str]:
        """``task id -> module.function`` of the tasks that run a callable of the code package."""
        return {
            task_id: task.python_callable
            for task_id, task in self.tasks.items()
            if task.python_callable is not None
        }


class DefinitionError(ValueError):
    """A workflow definition the service cannot run; :attr:`problems` holds one line each."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(f"workflow definition {path}:\n  - " + "\n  - ".join(self.problems))


def load_definition(path: Path | str, *, code_package: Path | str | None = None) -> WorkflowDefinition:
    """Parse and check the definition at ``path`` against the service's rules and, when given, the
    code package folder ``code_package`` (its top-level modules, as the service unpacks them).

    Raises:
        DefinitionError: with every problem found, each naming the file, the task and the field.
    """
    path = Path(path)
    checker = _Checker(path, Path(code_package) if code_package is not None else None)
    definition = checker.run()
    if checker.problems or definition is None:
        raise DefinitionError(path, checker.problems)
    return definition


def check_definition(path: Path | str, *, code_package: Path | str | None = None) -> list[str]:
    """The problems :func:`load_definition` would raise, as a list (empty: the definition is valid)."""
    try:
        load_definition(path, code_package=code_package)
    except DefinitionError as error:
        return list(error.problems)
    return []


def _seconds(value: object) -> float | None:
    """A duration in seconds: a number, or dag-factory's ``{__type__: datetime.timedelta, ...}``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping) and value.get("__type__") == "datetime.timedelta":
        arguments = {key: item for key, item in value.items() if key != "__type__"}
        try:
            return timedelta(**arguments).total_seconds()
        except TypeError:
            return None
    return None


class _Checker:
    def __init__(self, path: Path, code_package: Path | None) -> None:
        self.path = path
        self.code_package = code_package
        self.problems: list[str] = []

    def fail(self, where: str, value: object, allowed: str) -> None:
        self.problems.append(f"{self.path}: {where}: got {value!r}; {allowed}")

    def run(self) -> WorkflowDefinition | None:
        # Imported here: the CDK app imports this module with every construct, and only a
        # profile with workflows needs a YAML parser.
        import yaml

        try:
            document = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.problems.append(f"{self.path}: no such file")
            return None
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "file"
            self.problems.append(f"{self.path}: {where}: not valid YAML ({getattr(error, 'problem', error)})")
            return None
        if not isinstance(document, Mapping) or not document:
            self.fail("top level", document, "expected a mapping {dag_id: {dag_id, schedule, tasks, ...}}")
            return None
        if len(document) != 1:
            self.fail("top level", sorted(map(str, document)), "a workflow definition holds exactly one DAG")
            return None
        ((key, dag),) = document.items()
        if not isinstance(dag, Mapping):
            self.fail(f"DAG {key!r}", dag, "expected a mapping with dag_id, schedule and tasks")
            return None
        dag_id = dag.get("dag_id")
        if not isinstance(key, str) or not self._valid_id(key):
            self.fail("dag_id", key, f"letters, digits, '_', '.' or '-', at most {ID_MAX_LENGTH} characters")
        elif dag_id != key:
            self.fail("dag_id", dag_id, f"must be present and equal to the top-level key {key!r}")
        if "schedule_interval" in dag:
            self.fail(
                "schedule_interval",
                dag["schedule_interval"],
                "Airflow 3 has no schedule_interval; use schedule",
            )
        if "schedule" not in dag:
            self.problems.append(
                f"{self.path}: schedule: missing; a five-field cron expression, or null for manual runs only"
            )
        else:
            problem = schedule_problem(dag["schedule"])
            if problem is not None:
                self.fail("schedule", dag["schedule"], problem)
        default_args = dag.get("default_args") or {}
        if not isinstance(default_args, Mapping):
            self.fail("default_args", default_args, "expected a mapping of task arguments")
            default_args = {}
        self._check_limits("default_args", default_args)
        tasks = dag.get("tasks")
        if not isinstance(tasks, Mapping) or not tasks:
            self.fail(
                "tasks", tasks, "expected a mapping {task_id: {operator, ..., dependencies}} of one or more"
            )
            return None
        parsed = {
            str(task_id): task
            for task_id, conf in tasks.items()
            if (task := self._check_task(task_id, conf)) is not None
        }
        self._check_dependencies(parsed, set(map(str, tasks)))
        return WorkflowDefinition(
            path=self.path,
            dag_id=str(key),
            schedule=dag.get("schedule"),
            default_args=dict(default_args),
            tasks=parsed,
        )

    @staticmethod
    def _valid_id(value: str) -> bool:
        return bool(ID_PATTERN.fullmatch(value)) and len(value) <= ID_MAX_LENGTH

    def _check_limits(self, where: str, arguments: Mapping[str, Any]) -> None:
        if "retries" in arguments:
            retries = arguments["retries"]
            if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
                self.fail(f"{where}: retries", retries, f"an integer from 0 to {MAX_RETRIES}")
        if "retry_delay" in arguments:
            delay = _seconds(arguments["retry_delay"])
            if delay is None or not 0 <= delay <= MAX_RETRY_DELAY_SECONDS:
                self.fail(
                    f"{where}: retry_delay",
                    arguments["retry_delay"],
                    f"seconds (a number or a datetime.timedelta) from 0 to {MAX_RETRY_DELAY_SECONDS}",
                )
        if "execution_timeout" in arguments:
            timeout = arguments["execution_timeout"]
            seconds = _seconds(timeout) if isinstance(timeout, Mapping) else None
            if seconds is None or not 0 < seconds <= MAX_EXECUTION_TIMEOUT_SECONDS:
                self.fail(
                    f"{where}: execution_timeout",
                    timeout,
                    "{__type__: datetime.timedelta, seconds: N} with N from 1 to "
                    f"{MAX_EXECUTION_TIMEOUT_SECONDS} (Airflow refuses a plain number)",
                )

    def _check_task(self, task_id: object, conf: object) -> TaskDefinition | None:
        where = f"task {task_id!r}"
        if not isinstance(task_id, str) or not self._valid_id(task_id):
            self.fail(
                f"{where}: task id", task_id, f"letters, digits, '_', '.' or '-', at most {ID_MAX_LENGTH}"
            )
            return None
        if not isinstance(conf, Mapping):
            self.fail(where, conf, "expected a mapping with operator and its arguments")
            return None
        if "task_id" in conf and conf["task_id"] != task_id:
            self.fail(f"{where}: task_id", conf["task_id"], f"must equal the task's key {task_id!r}")
        operator = conf.get("operator")
        if not isinstance(operator, str) or not operator:
            self.fail(
                f"{where}: operator", operator, "the operator's full class path, e.g. " + PYTHON_OPERATORS[0]
            )
            operator = ""
        else:
            self._check_operator(where, operator, conf)
        self._check_limits(where, conf)
        dependencies = conf.get("dependencies", [])
        if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
            self.fail(f"{where}: dependencies", dependencies, "a list of task ids")
            dependencies = []
        parameters = {k: v for k, v in conf.items() if k not in ("operator", "dependencies")}
        return TaskDefinition(
            task_id=task_id, operator=operator, dependencies=tuple(dependencies), parameters=parameters
        )

    def _check_operator(self, where: str, operator: str, conf: Mapping[str, Any]) -> None:
        if operator in PYTHON_OPERATORS:
            self._check_python_callable(where, conf.get("python_callable"))
        elif operator in BASH_OPERATORS:
            command = conf.get("bash_command")
            if not isinstance(command, str) or not command.strip():
                self.fail(f"{where}: bash_command", command, "BashOperator needs the command to run")
            elif self.code_package is None:
                self.fail(f"{where}: operator", operator, "BashOperator needs a code package")
        elif operator not in SUPPORTED_OPERATORS:
            module = operator.rpartition(".")[0]
            if self.code_package is None:
                self.fail(
                    f"{where}: operator",
                    operator,
                    "not an operator MWAA Serverless runs (see mwaa_rules.serverless.SUPPORTED_OPERATORS); "
                    "other operators need a code package that holds their module",
                )
            elif not module or self._module_file(module) is None:
                self.fail(
                    f"{where}: operator",
                    operator,
                    "neither an operator MWAA Serverless runs nor a module of the code package "
                    f"{self.code_package}",
                )

    def _check_python_callable(self, where: str, callable_path: object) -> None:
        field_name = f"{where}: python_callable"
        if not isinstance(callable_path, str) or "." not in callable_path:
            self.fail(field_name, callable_path, "PythonOperator needs 'module.function' of the code package")
            return
        if self.code_package is None:
            self.fail(field_name, callable_path, "a python_callable needs a code package that defines it")
            return
        module, _, function = callable_path.rpartition(".")
        source = self._module_file(module)
        if source is None:
            self.fail(
                field_name, callable_path, f"module {module!r} is not in the code package {self.code_package}"
            )
            return
        try:
            tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
        except SyntaxError as error:
            self.fail(
                field_name, callable_path, f"{source.name} does not parse: {error.msg} (line {error.lineno})"
            )
            return
        functions = {
            node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        if function not in functions:
            self.fail(field_name, callable_path, f"{source.name} defines no top-level function {function!r}")

    def _module_file(self, module: str) -> Path | None:
        """The source of ``module`` in the code package: ``a.b`` is ``a/b.py`` or ``a/b/__init__.py``."""
        assert self.code_package is not None
        base = self.code_package.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def _check_dependencies(self, tasks: Mapping[str, TaskDefinition], known: set[str]) -> None:
        for task_id, task in tasks.items():
            for dependency in task.dependencies:
                if dependency == task_id:
                    self.fail(f"task {task_id!r}: dependencies", dependency, "a task cannot depend on itself")
                elif dependency not in known:
                    self.fail(
                        f"task {task_id!r}: dependencies",
                        dependency,
                        f"no such task in this DAG (tasks: {', '.join(sorted(known))})",
                    )
        cycle = _find_cycle(
            {t: [d for d in task.dependencies if d in tasks and d != t] for t, task in tasks.items()}
        )
        if cycle:
            self.problems.append(f"{self.path}: dependencies: form a cycle: {' -> '.join(cycle)}")


def _find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """A cycle of ``graph`` (task -> its upstream tasks) as a closed path, or ``[]``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for upstream in graph.get(node, ()):
            if state.get(upstream) == 1:
                return [*path[path.index(upstream) :], upstream]
            if upstream not in state and (found := visit(upstream)):
                return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def environment_variables_problems(variables: Mapping[str, str]) -> list[str]:
    """Why ``variables`` cannot be a workflow's ``Environment.Variables`` (empty: they can).

    Values resolved only at deployment (CloudFormation references) are the caller's to leave
    out: their length is not known here."""
    problems: list[str] = []
    if len(variables) > MAX_ENVIRONMENT_VARIABLES:
        problems.append(f"got {len(variables)} variables; at most {MAX_ENVIRONMENT_VARIABLES}")
    for name, value in variables.items():
        if not ENVIRONMENT_VARIABLE_NAME_PATTERN.fullmatch(name):
            problems.append(f"{name!r}: a name is a letter, then letters, digits or '_' (at most 128)")
        elif name.startswith(RESERVED_ENVIRONMENT_PREFIXES) and not (
            name in ALLOWED_RESERVED_ENVIRONMENT_VARIABLES
            or name.startswith(ALLOWED_RESERVED_ENVIRONMENT_PREFIX)
        ):
            problems.append(f"{name!r}: names starting with AWS_ or AIRFLOW__ are reserved by the service")
        if not isinstance(value, str):
            problems.append(f"{name!r}: got {type(value).__name__}; values are strings")
        elif len(value) > ENVIRONMENT_VARIABLE_MAX_VALUE_LENGTH:
            problems.append(
                f"{name!r}: value of {len(value)} characters; at most {ENVIRONMENT_VARIABLE_MAX_VALUE_LENGTH}"
            )
    return problems


# ---- cost of a run ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TaskHourPrice:
    """The list price of one task-hour of MWAA Serverless in a region, with where it was read."""

    region: str
    usd_per_task_hour: float
    source: str
    as_of: str


# Billing: per second of task run time, with a one-minute minimum per task (user guide, "What is
# Amazon MWAA Serverless?": "a cost model based on the actual compute time during task
# execution"; the one-minute minimum and per-second billing as the secondary source of the
# ap-northeast-1 price table reads them from the pricing page).
MINIMUM_BILLED_SECONDS_PER_TASK = 60
# The task-hour price of each Region is data: the price tables (mwaa_rules/data/prices/<region>.json,
# ``mwaa_serverless/task_hour``), read by mwaa_rules.cost.task_hour_price with its source and date.


def billed_task_seconds(duration_seconds: float) -> int:
    """Seconds billed for one task that ran ``duration_seconds``: whole seconds, at least a minute."""
    if duration_seconds < 0:
        raise ValueError(f"duration_seconds: got {duration_seconds}; expected 0 or more")
    return max(MINIMUM_BILLED_SECONDS_PER_TASK, math.ceil(duration_seconds))


def run_cost(task_durations_seconds: Iterable[float], *, price: TaskHourPrice) -> float:
    """USD of one workflow run whose tasks ran the given durations (each attempt is a task run)."""
    return sum(billed_task_seconds(d) for d in task_durations_seconds) / 3600 * price.usd_per_task_hour


def monthly_cost(
    task_durations_seconds: Sequence[float], *, runs_per_month: float, price: TaskHourPrice
) -> float:
    """USD a month for ``runs_per_month`` runs of a workflow with these task durations."""
    return run_cost(task_durations_seconds, price=price) * runs_per_month


def break_even_runs(classic_monthly_usd: float, cost_per_run_usd: float) -> float:
    """Runs a month at which serverless costs as much as a classic environment's month."""
    if cost_per_run_usd <= 0:
        raise ValueError(f"cost_per_run_usd: got {cost_per_run_usd}; expected more than 0")
    return classic_monthly_usd / cost_per_run_usd
