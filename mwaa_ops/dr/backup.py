"""Read an environment's metadata through the REST API into an archive.

What the REST API v2 of Airflow 3.3.1 returns, and what that means for a backup:

- ``GET /variables`` reads the metadata database only (``routes/public/variables.py`` selects
  from the ``variable`` table): variables served by a secrets backend never appear in it. That
  is how the two are told apart: whatever the API lists is copied; what the secrets backend
  serves is listed by name (for MWAA, from ``secretsmanager:ListSecrets`` under the prefix in
  the environment's ``secrets.backend_kwargs``) and never copied. A database variable whose key
  the secrets backend also serves is copied and flagged: the secrets backend wins at run time.
- Values that look secret come back masked as ``***`` (``VariableResponse.redact_val``;
  ``ConnectionResponse`` masks every password and the sensitive keys of ``extra``). Masked
  values are not stored: the item records which fields were masked, and a restore reports them.
  A connection's password is never stored, even where the API returns it unmasked.
- DAG runs and task instances are listed across DAGs with the ``~`` batch endpoints, selected by
  ``run_after`` (never null, unlike ``logical_date``) in ``[--since, --until)``.
- XCom lists carry no values: each value is read on its own path, which InvokeRestApi's
  64-character limit rules out for most runs (those entries are listed in the notes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mwaa_ops.airflow_api import PathTooLong
from mwaa_ops.aws import AwsClients
from mwaa_ops.dr import archive
from mwaa_ops.dr.client import AirflowClient
from mwaa_ops.dr.transport import ApiError, ResponseTooLarge

MASK = "***"
RUN_FIELDS = (
    "dag_id",
    "dag_run_id",
    "run_type",
    "state",
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "run_after",
    "queued_at",
    "start_date",
    "end_date",
    "triggered_by",
    "conf",
    "note",
)
TI_FIELDS = ("task_id", "map_index", "state", "try_number", "start_date", "end_date", "operator", "note")
POOL_FIELDS = ("name", "slots", "description", "include_deferred")
CONNECTION_FIELDS = ("connection_id", "conn_type", "description", "host", "login", "schema", "port")
DAG_FIELDS = ("dag_id", "is_paused", "timetable_periodic", "timetable_summary")


@dataclass(frozen=True, kw_only=True)
class BackupOptions:
    since: datetime | None = None
    until: datetime | None = None
    xcom: bool = False


@dataclass(frozen=True, kw_only=True)
class SecretsListing:
    """Names a secrets backend serves (keys, without the backend's prefix)."""

    backend: str | None = None
    variables: list[str] = field(default_factory=list)
    connections: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def is_masked(value: Any) -> bool:
    """True when ``value`` (a string, or a JSON document in one) holds the API's mask."""
    if isinstance(value, str):
        if value == MASK:
            return True
        try:
            parsed = json.loads(value)
        except ValueError:
            return False
        return not isinstance(parsed, str) and is_masked(parsed)
    if isinstance(value, dict):
        return any(is_masked(v) for v in value.values())
    if isinstance(value, list):
        return any(is_masked(v) for v in value)
    return False


def _unmasked_extra(extra: str | None) -> tuple[Any, list[str]]:
    """``extra`` without its masked keys, and the dotted paths of those keys."""
    if not extra:
        return None, []
    try:
        parsed = json.loads(extra)
    except ValueError:
        return extra, []
    masked: list[str] = []

    def strip(node: Any, prefix: str) -> Any:
        if isinstance(node, dict):
            kept = {}
            for key, value in node.items():
                if value == MASK:
                    masked.append(f"{prefix}{key}")
                else:
                    kept[key] = strip(value, f"{prefix}{key}.")
            return kept
        return node

    return strip(parsed, "extra."), masked


def _pick(item: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: item.get(name) for name in fields}


def backup(
    client: AirflowClient,
    *,
    environment: dict[str, Any],
    options: BackupOptions,
    created_at: datetime,
    secrets: SecretsListing | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """The archive of the environment behind ``client``, as a dict (see :mod:`archive`)."""
    notes: list[str] = []
    until = options.until or created_at
    version = client.call("GET", "/version") or {}
    airflow_version = str(version.get("version", "")) if isinstance(version, dict) else ""

    progress("reading pools")
    pools = sorted(
        (_pick(p, POOL_FIELDS) for p in client.paged_get("/pools", "pools")), key=lambda p: str(p["name"])
    )

    progress("reading variables")
    secret_variables = set(secrets.variables if secrets else [])
    variables: list[dict[str, Any]] = []
    for var in client.paged_get("/variables", "variables"):
        masked = is_masked(var.get("value"))
        item: dict[str, Any] = {
            "key": var["key"],
            "source": "metadata-db",
            "value": None if masked else var.get("value"),
            "description": var.get("description"),
            "masked": masked,
        }
        if var["key"] in secret_variables:
            item["shadowed_by_secrets_backend"] = True
        variables.append(item)
    db_keys = {v["key"] for v in variables}
    variables.extend({"key": key, "source": "secrets-backend"} for key in sorted(secret_variables - db_keys))
    variables.sort(key=lambda v: (str(v["key"]), str(v["source"])))

    progress("reading connections")
    secret_connections = set(secrets.connections if secrets else [])
    connections: list[dict[str, Any]] = []
    for conn in client.paged_get("/connections", "connections"):
        extra, masked_fields = _unmasked_extra(conn.get("extra"))
        secret_fields = (["password"] if conn.get("password") else []) + masked_fields
        item = {**_pick(conn, CONNECTION_FIELDS), "extra": extra, "source": "metadata-db"}
        item["not_copied"] = secret_fields
        if conn["connection_id"] in secret_connections:
            item["shadowed_by_secrets_backend"] = True
        connections.append(item)
    db_ids = {c["connection_id"] for c in connections}
    connections.extend(
        {"connection_id": cid, "source": "secrets-backend"} for cid in sorted(secret_connections - db_ids)
    )
    connections.sort(key=lambda c: (str(c["connection_id"]), str(c["source"])))
    if secrets:
        notes.extend(secrets.notes)

    progress("reading DAGs")
    dags = sorted(
        (_pick(d, DAG_FIELDS) for d in client.paged_get("/dags", "dags")), key=lambda d: str(d["dag_id"])
    )

    window = {"run_after_lt": until.isoformat()}
    if options.since:
        window["run_after_gte"] = options.since.isoformat()
    progress("reading DAG runs")
    runs = client.paged_batch(
        "/dags/~/dagRuns/list", "dag_runs", {**window, "order_by": "id"}, what="DAG runs"
    )
    progress("reading task instances")
    tis = client.paged_batch(
        "/dags/~/dagRuns/~/taskInstances/list",
        "task_instances",
        {**window, "order_by": "id"},
        what="task instances",
    )
    by_run: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for ti in tis:
        by_run.setdefault((ti["dag_id"], ti["dag_run_id"]), []).append(_pick(ti, TI_FIELDS))
    run_items: list[dict[str, Any]] = []
    for run in runs:
        item = _pick(run, RUN_FIELDS)
        item["task_instances"] = sorted(
            by_run.pop((run["dag_id"], run["dag_run_id"]), []), key=lambda t: (t["task_id"], t["map_index"])
        )
        run_items.append(item)
    if by_run:
        notes.append(
            f"{sum(len(v) for v in by_run.values())} task instances of runs created during the backup "
            "were left out"
        )
    run_items.sort(key=lambda r: (str(r["dag_id"]), str(r["run_after"]), str(r["dag_run_id"])))

    sections: dict[str, list[dict[str, Any]]] = {
        "pools": pools,
        "variables": variables,
        "connections": connections,
        "dags": dags,
        "dag_runs": run_items,
    }
    if options.xcom:
        sections["xcoms"] = _xcoms(client, window, notes, progress)

    return archive.build(
        sections=sections,
        airflow_version=airflow_version,
        environment=environment,
        created_at=created_at,
        window={"since": options.since.isoformat() if options.since else None, "until": until.isoformat()},
        options={"xcom": options.xcom},
        notes=notes,
    )


def _xcoms(
    client: AirflowClient, window: dict[str, str], notes: list[str], progress: Callable[[str], None]
) -> list[dict[str, Any]]:
    progress("reading XComs")
    entries = client.paged_get("/dags/~/dagRuns/~/taskInstances/~/xcomEntries", "xcom_entries", window)
    items: list[dict[str, Any]] = []
    unreadable: list[str] = []
    for entry in entries:
        key = {
            "dag_id": entry["dag_id"],
            "dag_run_id": entry["run_id"],
            "task_id": entry["task_id"],
            "map_index": entry.get("map_index", -1),
            "key": entry["key"],
        }
        path = (
            f"/dags/{key['dag_id']}/dagRuns/{key['dag_run_id']}/taskInstances/{key['task_id']}"
            f"/xcomEntries/{key['key']}"
        )
        try:
            value = client.call("GET", path, query={"map_index": key["map_index"]})
        except (PathTooLong, ResponseTooLarge, ApiError) as error:
            unreadable.append(f"{key['dag_id']}/{key['dag_run_id']}/{key['task_id']}/{key['key']}: {error}")
            continue
        items.append({**key, "value": value.get("value") if isinstance(value, dict) else value})
    if unreadable:
        notes.append(f"{len(unreadable)} XCom entries could not be read and are not in the archive:")
        notes.extend(f"  {line}" for line in unreadable)
    return sorted(items, key=lambda x: (x["dag_id"], x["dag_run_id"], x["task_id"], x["map_index"], x["key"]))


def list_secrets_backend(clients: AwsClients, environment_name: str) -> SecretsListing:
    """What the environment's Secrets Manager backend serves, read from its configuration.

    The backend and its prefixes come from ``AirflowConfigurationOptions``
    (``secrets.backend``, ``secrets.backend_kwargs``) of GetEnvironment; the names from
    ``secretsmanager:ListSecrets``. Any failure becomes a note: the backup goes on."""
    try:
        env = clients.client("mwaa").get_environment(Name=environment_name)["Environment"]
    except (BotoCoreError, ClientError) as error:
        return SecretsListing(notes=[f"secrets backend not inspected: GetEnvironment failed ({error})"])
    options = env.get("AirflowConfigurationOptions") or {}
    backend = options.get("secrets.backend")
    if not backend:
        return SecretsListing(notes=["no secrets backend in AirflowConfigurationOptions"])
    if not str(backend).endswith("SecretsManagerBackend"):
        return SecretsListing(
            backend=backend, notes=[f"secrets backend {backend} is not listed (only Secrets Manager is)"]
        )
    try:
        kwargs = json.loads(options.get("secrets.backend_kwargs") or "{}")
    except ValueError:
        kwargs = {}
    listed: dict[str, list[str]] = {}
    notes: list[str] = []
    for kind, default in (("variables", "airflow/variables"), ("connections", "airflow/connections")):
        prefix = kwargs.get(f"{kind}_prefix", default)
        if prefix is None:
            listed[kind] = []
            continue
        try:
            listed[kind] = _secret_names(clients, str(prefix))
        except (BotoCoreError, ClientError) as error:
            listed[kind] = []
            notes.append(f"{kind} of the secrets backend not listed: {error}")
    return SecretsListing(
        backend=str(backend), variables=listed["variables"], connections=listed["connections"], notes=notes
    )


def _secret_names(clients: AwsClients, prefix: str) -> list[str]:
    names: list[str] = []
    params: dict[str, Any] = {"Filters": [{"Key": "name", "Values": [prefix + "/"]}], "MaxResults": 100}
    while True:
        page = clients.client("secretsmanager").list_secrets(**params)
        for secret in page.get("SecretList") or []:
            name = str(secret.get("Name", ""))
            if name.startswith(prefix + "/"):
                names.append(name[len(prefix) + 1 :])
        token = page.get("NextToken")
        if not token:
            return sorted(names)
        params["NextToken"] = token
