"""Replay an archive into an environment without re-running anything.

Order (each step is skipped when it has nothing to do, so a second restore writes nothing):

1. Read the destination and plan every section: what to create, what to update, what is
   already there (unchanged), and what cannot be restored (skipped, with the reason).
   Check for gaps (below); refuse before writing anything unless ``allow_gaps``.
2. Pause the DAGs whose runs are about to change, so that no scheduler acts on half-restored runs.
3. Pools, variables, connections: the bulk endpoints (``PATCH /pools`` etc.), whose per-item
   errors arrive inside an HTTP 200 and are reported as errors.
4. DAG runs: ``POST /dags/{dag_id}/dagRuns`` with the archived ``logical_date``, data
   interval, ``run_after``, conf and note. Airflow 3.3.1 creates such runs as ``manual`` and
   ``queued``, with their task instances (``trigger_dag_run`` in
   ``api_fastapi/core_api/routes/public/dag_run.py``), and refuses manual run ids that carry a
   reserved prefix (``scheduled__``, ``backfill__``, ...: ``SerializedDAG.create_dagrun``), so
   those runs get ``restored__<original id>``.
5. Task-instance states (``PATCH /dags/~/dagRuns/~/taskInstances``), upstream tasks before
   downstream ones: setting a state clears the failed downstream task instances of the same run
   (``SerializedDAG.set_task_instance_state``). Only success, failed and skipped can be set
   (``PatchTaskInstanceBody``).
6. Run states (``PATCH /dags/~/dagRuns``), after the task states: marking a run success or failed
   turns its unfinished task instances into skipped (``_set_dag_run_terminal_state`` in
   ``api/common/mark_tasks.py``). Runs unfinished at backup time stay queued: their unfinished
   tasks run after unpause.
7. XComs (``POST .../xcomEntries``), when the archive has them.
8. Pause states as archived, last.

Why the scheduler re-runs nothing, and what anchors it (checked in Airflow 3.3.1's code):
the DAG processor computes ``DagModel.next_dagrun`` from the newest run of type ``scheduled`` or
``backfill`` only (``_get_latest_runs_stmt`` in ``dag_processing/collection.py``); manual runs do
not count. The scheduler, at ``next_dagrun``, skips creation when a run with that logical date
exists and moves one interval on (``_create_dag_runs`` in ``jobs/scheduler_job_runner.py``) — so
manual runs alone are not re-run, but the scheduler would still run every interval *missing*
from the archive from the DAG's ``start_date`` on, and walk the restored ones one loop each,
starting over at every parse. The newest finished scheduled run of each periodic DAG is therefore
restored as a ``backfill`` run (``POST /backfills`` for that one interval, on the paused DAG, so
it never starts; ``models/backfill.py``), which the DAG processor counts: once it has re-parsed
the file, ``next_dagrun`` is the interval after the newest restored run. The restore asks for
that parse (``PUT /parseDagFile/{file_token}``, where the path fits) and waits for
``next_dagrun`` to move before it unpauses the DAG.

Gaps: for a DAG with ``catchup`` that ends up unpaused, the intervals between the newest
restored run and now would all run at unpause. They are found with ``POST /backfills/dry_run``
(the same interval logic, without writing) and refuse the restore unless ``allow_gaps``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mwaa_ops.airflow_api import PathTooLong
from mwaa_ops.dr.archive import Archive
from mwaa_ops.dr.backup import MASK, _unmasked_extra
from mwaa_ops.dr.client import AirflowClient
from mwaa_ops.dr.transport import ApiError, ResponseTooLarge
from mwaa_ops.environment import format_duration

FINAL_RUN_STATES = frozenset({"success", "failed"})
SETTABLE_TI_STATES = frozenset({"success", "failed", "skipped"})
AUTOMATED_RUN_TYPES = frozenset({"scheduled", "backfill"})
# Run id prefixes Airflow reserves for non-manual runs (DagRunType in airflow/utils/types.py).
RESERVED_RUN_ID_PREFIXES = (
    "scheduled__",
    "backfill__",
    "operator_triggered__",
    "asset_triggered__",
    "asset_materialization__",
)
RESTORED_PREFIX = "restored__"
DEFAULT_POOL = "default_pool"
SECTION_ORDER = ("pools", "variables", "connections", "dag_runs", "task_instances", "xcoms", "dag_pause")


def instant(value: object) -> datetime | None:
    """An API timestamp (``2026-12-04T17:33:06Z`` or ``...+00:00``) as an aware datetime."""
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _set_instant(value: object) -> datetime:
    """:func:`instant` of a timestamp the caller has checked is set."""
    moment = instant(value)
    if moment is None:
        raise ValueError(f"expected an API timestamp, got {value!r}")
    return moment


def target_run_id(run_id: str) -> str:
    """The id a restored run gets: its own, unless Airflow reserves its prefix for another type."""
    return RESTORED_PREFIX + run_id if run_id.startswith(RESERVED_RUN_ID_PREFIXES) else run_id


# ---------------------------------------------------------------------------------- report


@dataclass
class SectionReport:
    """What happened (or, in a dry run, would happen) to one section's items."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def skip(self, item: str, reason: str) -> None:
        self.skipped.append({"item": item, "reason": reason})

    def to_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": self.errors,
        }


@dataclass
class RestoreReport:
    dry_run: bool
    sections: dict[str, SectionReport] = field(
        default_factory=lambda: {name: SectionReport() for name in SECTION_ORDER}
    )
    gaps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: str | None = None
    writes: int = 0

    @property
    def errors(self) -> list[str]:
        return [f"{name}: {e}" for name, s in self.sections.items() for e in s.errors]

    @property
    def ok(self) -> bool:
        return self.refused is None and not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "refused": self.refused,
            "sections": {name: s.to_json() for name, s in self.sections.items()},
            "gaps": self.gaps,
            "notes": self.notes,
            "writes": self.writes,
        }


@dataclass(frozen=True, kw_only=True)
class RestoreOptions:
    dry_run: bool = False
    allow_gaps: bool = False
    keep_paused: bool = False
    parse_timeout: float = 300.0
    parse_interval: float = 5.0


@dataclass
class _RunPlan:
    item: dict[str, Any]
    run_id: str  # the id in the destination (known once created, for anchors)
    action: str  # create | update | unchanged | skip
    anchor: bool = False
    set_state: str | None = None
    note: str | None = None
    ti_updates: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------------------------- restore


class Restorer:
    """One restore of ``archive`` through ``client``; :meth:`run` returns the report."""

    def __init__(
        self,
        client: AirflowClient,
        archive: Archive,
        *,
        options: RestoreOptions,
        now: Callable[[], datetime],
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        progress: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.client = client
        self.archive = archive
        self.options = options
        self.now = now
        self.sleep = sleep
        self.clock = clock
        self.progress = progress
        self.report = RestoreReport(dry_run=options.dry_run)
        self.batch = client.transport.limits.write_batch

    def section(self, name: str) -> SectionReport:
        return self.report.sections[name]

    def write(self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None) -> Any:
        self.report.writes += 1
        return self.client.call(method, path, query=query, body=body)

    def bulk(self, path: str, actions: list[dict[str, Any]], section: str) -> None:
        self.report.writes += 1
        self.section(section).errors.extend(self.client.bulk(path, actions))

    # -- the whole restore ---------------------------------------------------------------------

    def run(self) -> RestoreReport:
        self.progress("reading the destination")
        dest_dags = {d["dag_id"]: d for d in self.client.paged_get("/dags", "dags")}
        pools = self._plan_pools()
        variables = self._plan_variables()
        connections = self._plan_connections()
        runs = self._plan_runs(dest_dags)
        pauses = self._plan_pauses(dest_dags)
        self._check_gaps(dest_dags, runs, pauses)
        xcoms = self._plan_xcoms(runs) if self.archive.has("xcoms") else []
        if self.report.refused or self.options.dry_run:
            self._count_planned(pools, variables, connections, runs, xcoms)
            return self.report

        initially_paused = {d: bool(v.get("is_paused")) for d, v in dest_dags.items()}
        touched = sorted({p.item["dag_id"] for p in runs if p.action in {"create", "update"}})
        to_pause = [d for d in touched if not dest_dags[d].get("is_paused")]
        for dag_id in to_pause:
            self.write("PATCH", f"/dags/{dag_id}", body={"is_paused": True})
        if to_pause:
            self.report.notes.append(f"paused during the restore: {', '.join(to_pause)}")
            dest_dags = {**dest_dags, **{d: {**dest_dags[d], "is_paused": True} for d in to_pause}}

        self._apply_simple("pools", "/pools", pools)
        self._apply_simple("variables", "/variables", variables)
        self._apply_simple("connections", "/connections", connections)
        anchors = self._apply_runs(runs)
        self._apply_xcoms(runs, xcoms)
        self._apply_pauses(pauses, anchors, dest_dags, initially_paused)
        return self.report

    # -- pools, variables, connections ----------------------------------------------------------

    def _plan_pools(self) -> dict[str, list[dict[str, Any]]]:
        dest = {p["name"]: p for p in self.client.paged_get("/pools", "pools")}
        plan: dict[str, list[dict[str, Any]]] = {"create": [], "update": [], "unchanged": []}
        for pool in self.archive.items("pools"):
            body = {
                "name": pool["name"],
                "slots": pool["slots"],
                "description": pool.get("description"),
                "include_deferred": bool(pool.get("include_deferred")),
            }
            current = dest.get(pool["name"])
            if current is None:
                plan["create"].append(body)
                continue
            compared = ("slots", "include_deferred") if pool["name"] == DEFAULT_POOL else tuple(body)
            if all(current.get(k) == body[k] for k in compared):
                plan["unchanged"].append(body)
            else:
                plan["update"].append(body)
            if pool["name"] == DEFAULT_POOL and current.get("description") != body["description"]:
                self.section("pools").skip(
                    f"{DEFAULT_POOL} description",
                    "Airflow does not let the default pool's description change",
                )
        return plan

    def _plan_variables(self) -> dict[str, list[dict[str, Any]]]:
        report = self.section("variables")
        dest = {v["key"]: v for v in self.client.paged_get("/variables", "variables")}
        plan: dict[str, list[dict[str, Any]]] = {"create": [], "update": [], "unchanged": []}
        for var in self.archive.items("variables"):
            key = str(var["key"])
            if var.get("source") == "secrets-backend":
                report.skip(key, "served by the secrets backend; not copied (the destination reads its own)")
                continue
            if var.get("masked"):
                report.skip(
                    key,
                    "value masked by the API (sensitive key): set it in the destination or in its "
                    "secrets backend",
                )
                continue
            body = {"key": key, "value": var.get("value"), "description": var.get("description")}
            current = dest.get(key)
            if current is None:
                plan["create"].append(body)
            elif current.get("value") == body["value"] and current.get("description") == body["description"]:
                plan["unchanged"].append(body)
            else:
                plan["update"].append(body)
            if var.get("shadowed_by_secrets_backend"):
                self.report.notes.append(f"variable {key}: the source's secrets backend also serves it")
        return plan

    def _plan_connections(self) -> dict[str, list[dict[str, Any]]]:
        report = self.section("connections")
        dest = {c["connection_id"]: c for c in self.client.paged_get("/connections", "connections")}
        plan: dict[str, list[dict[str, Any]]] = {"create": [], "update": [], "unchanged": []}
        fields = ("conn_type", "description", "host", "login", "schema", "port")
        for conn in self.archive.items("connections"):
            cid = str(conn["connection_id"])
            if conn.get("source") == "secrets-backend":
                report.skip(cid, "served by the secrets backend; not copied (the destination reads its own)")
                continue
            not_copied = list(conn.get("not_copied") or [])
            body: dict[str, Any] = {"connection_id": cid, **{k: conn.get(k) for k in fields}}
            extra = conn.get("extra")
            current = dest.get(cid)
            if current is None:
                body["extra"] = _extra_text(extra)
                plan["create"].append(body)
            else:
                dest_extra, dest_masked = _unmasked_extra(current.get("extra"))
                if all(current.get(k) == body[k] for k in fields) and dest_extra == extra:
                    plan["unchanged"].append(body)
                    continue
                # Masked keys the destination already holds are sent as the mask, which the API
                # merges back to the stored value (update_orm_from_pydantic / secrets_masker.merge).
                body["extra"] = _extra_text(_with_masks(extra, [m for m in not_copied if m in dest_masked]))
                plan["update"].append(body)
            if not_copied:
                report.skip(
                    f"{cid} ({', '.join(not_copied)})",
                    "secret fields are not in the backup: set them in the destination or its secrets backend "
                    "(the connection's other fields are restored)",
                )
        return plan

    def _apply_simple(self, name: str, path: str, plan: dict[str, list[dict[str, Any]]]) -> None:
        report = self.section(name)
        report.unchanged += len(plan["unchanged"])
        if not plan["create"] and not plan["update"]:
            return
        self.progress(f"{name}: {len(plan['create'])} to create, {len(plan['update'])} to update")
        actions: list[dict[str, Any]] = []
        if plan["create"]:
            actions.append({"action": "create", "entities": plan["create"], "action_on_existence": "fail"})
        # Airflow lets only slots and include_deferred change on default_pool
        # (services/public/pools.py), so its update carries that mask.
        special = [e for e in plan["update"] if name == "pools" and e.get("name") == DEFAULT_POOL]
        ordinary = [e for e in plan["update"] if e not in special]
        if ordinary:
            actions.append({"action": "update", "entities": ordinary, "action_on_non_existence": "fail"})
        if special:
            actions.append(
                {
                    "action": "update",
                    "entities": special,
                    "update_mask": ["slots", "include_deferred"],
                    "action_on_non_existence": "fail",
                }
            )
        before = len(report.errors)
        self.bulk(path, actions, name)
        if len(report.errors) == before:
            report.created += len(plan["create"])
            report.updated += len(plan["update"])

    # -- DAG runs -------------------------------------------------------------------------------

    def _plan_runs(self, dest_dags: dict[str, dict[str, Any]]) -> list[_RunPlan]:
        runs_report = self.section("dag_runs")
        items = self.archive.items("dag_runs")
        missing: dict[str, int] = {}
        present: list[dict[str, Any]] = []
        for item in items:
            if item["dag_id"] in dest_dags:
                present.append(item)
            else:
                missing[item["dag_id"]] = missing.get(item["dag_id"], 0) + 1
        for dag_id, count in sorted(missing.items()):
            runs_report.skip(
                f"{dag_id} ({count} runs)", "DAG not in the destination: deploy its file, then restore again"
            )
        if not present:
            return []
        dest_runs, dest_tis = self._dest_runs(present)
        by_logical = {
            (r["dag_id"], instant(r.get("logical_date"))): r for r in dest_runs if r.get("logical_date")
        }
        by_id = {(r["dag_id"], r["dag_run_id"]): r for r in dest_runs}
        anchors = self._anchor_candidates(present, dest_dags)

        plans: list[_RunPlan] = []
        for item in present:
            logical = instant(item.get("logical_date"))
            run_id = target_run_id(str(item["dag_run_id"]))
            current = (
                by_logical.get((item["dag_id"], logical)) if logical else by_id.get((item["dag_id"], run_id))
            )
            if current is None:
                plan = _RunPlan(item=item, run_id=run_id, action="create", anchor=id(item) in anchors)
                if plan.anchor:
                    plan.run_id = "backfill__" + logical.isoformat() if logical else run_id
                plans.append(plan)
                continue
            plan = _RunPlan(item=item, run_id=current["dag_run_id"], action="unchanged")
            if current.get("state") == "running":
                plan.action = "skip"
                runs_report.skip(
                    f"{item['dag_id']} {current['dag_run_id']}", "running in the destination; left as it is"
                )
                plans.append(plan)
                continue
            self._diff_run(plan, current, dest_tis.get((item["dag_id"], current["dag_run_id"]), {}))
            plans.append(plan)
        return plans

    def _dest_runs(
        self, items: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[tuple[str, str], dict[tuple[str, int], dict[str, Any]]]]:
        """The destination's runs and task instances in the archive's ``run_after`` range."""
        dag_ids = sorted({r["dag_id"] for r in items})
        afters = sorted(str(_set_instant(r["run_after"]).isoformat()) for r in items if r.get("run_after"))
        window = {"dag_ids": dag_ids, "order_by": "id"}
        if afters:
            window.update({"run_after_gte": afters[0], "run_after_lte": afters[-1]})
        runs = self.client.paged_batch("/dags/~/dagRuns/list", "dag_runs", window, what="destination runs")
        tis = self.client.paged_batch(
            "/dags/~/dagRuns/~/taskInstances/list",
            "task_instances",
            window,
            what="destination task instances",
        )
        by_run: dict[tuple[str, str], dict[tuple[str, int], dict[str, Any]]] = {}
        for ti in tis:
            by_run.setdefault((ti["dag_id"], ti["dag_run_id"]), {})[(ti["task_id"], int(ti["map_index"]))] = (
                ti
            )
        return runs, by_run

    def _anchor_candidates(
        self, items: list[dict[str, Any]], dest_dags: dict[str, dict[str, Any]]
    ) -> set[int]:
        """The newest finished scheduled run of each periodic DAG, to be restored as a backfill run."""
        newest: dict[str, dict[str, Any]] = {}
        for item in items:
            if (
                item.get("run_type") in AUTOMATED_RUN_TYPES
                and item.get("state") in FINAL_RUN_STATES
                and item.get("logical_date")
                and not item.get("conf")
                and dest_dags[item["dag_id"]].get("timetable_periodic")
            ):
                best = newest.get(item["dag_id"])
                if best is None or _set_instant(item["logical_date"]) > _set_instant(best["logical_date"]):
                    newest[item["dag_id"]] = item
        return {id(item) for item in newest.values()}

    def _diff_run(
        self, plan: _RunPlan, current: dict[str, Any], dest_tis: dict[tuple[str, int], dict[str, Any]]
    ) -> None:
        """Turn ``plan`` into an update when the destination's states differ from the archive's."""
        item = plan.item
        plan.ti_updates = self._ti_updates(item, plan.run_id, dest_tis, count=True)
        archived_state = item.get("state")
        if archived_state in FINAL_RUN_STATES and current.get("state") != archived_state:
            plan.set_state = archived_state
        if (item.get("note") or None) != (current.get("note") or None):
            plan.note = item.get("note") or ""
        if plan.ti_updates or plan.set_state or plan.note is not None:
            plan.action = "update"

    def _ti_updates(
        self,
        item: dict[str, Any],
        run_id: str,
        dest_tis: dict[tuple[str, int], dict[str, Any]],
        *,
        count: bool,
    ) -> list[dict[str, Any]]:
        """Entities for the bulk task-instance update of one run; skips are reported once."""
        report = self.section("task_instances")
        run_final = item.get("state") in FINAL_RUN_STATES
        updates: list[dict[str, Any]] = []
        for ti in item.get("task_instances") or []:
            label = f"{item['dag_id']} {item['dag_run_id']} {ti['task_id']}"
            state = ti.get("state")
            if int(ti.get("map_index", -1)) != -1:
                if count:
                    report.skip(
                        f"{label}[{ti['map_index']}]",
                        "mapped task instance: its expansion cannot be recreated over the REST API",
                    )
                continue
            current = dest_tis.get((ti["task_id"], -1))
            if current is None:
                if count:
                    report.skip(label, "task not in the destination's DAG")
                continue
            if state in SETTABLE_TI_STATES:
                note_differs = (ti.get("note") or None) != (current.get("note") or None)
                if current.get("state") != state or note_differs:
                    entity: dict[str, Any] = {
                        "dag_id": item["dag_id"],
                        "dag_run_id": run_id,
                        "task_id": ti["task_id"],
                        "map_index": -1,
                    }
                    if current.get("state") != state:
                        entity["new_state"] = state
                    if note_differs:
                        entity["note"] = ti.get("note") or ""
                    updates.append(entity)
                elif count:
                    report.unchanged += 1
            elif count and current.get("state") == state:
                report.unchanged += 1
            elif count and run_final:
                report.skip(
                    label,
                    f"state {state or 'none'} cannot be set over the REST API (only success, failed, "
                    "skipped); it becomes skipped when the run's final state is set",
                )
            elif count:
                report.skip(label, f"not finished at backup time ({state or 'none'}): runs after unpause")
        return updates

    def _apply_runs(self, plans: list[_RunPlan]) -> dict[str, datetime]:
        """Create, then set task states, then run states; returns the anchored DAGs' dates."""
        runs_report = self.section("dag_runs")
        ti_report = self.section("task_instances")
        creates = [p for p in plans if p.action == "create"]
        anchors: dict[str, datetime] = {}
        backfills: list[int] = []
        if creates:
            self.progress(f"dag runs: creating {len(creates)}")
        for index, plan in enumerate(creates, 1):
            if index % 100 == 0:
                self.progress(f"dag runs: {index} of {len(creates)} created")
            try:
                if plan.anchor:
                    backfill = self._create_anchor(plan)
                    if backfill is not None:
                        backfills.append(backfill)
                        anchors[plan.item["dag_id"]] = _set_instant(plan.item["logical_date"])
                        runs_report.created += 1
                        continue
                self._trigger(plan)
                runs_report.created += 1
            except (ApiError, PathTooLong) as error:
                plan.action = "skip"
                runs_report.errors.append(f"{plan.item['dag_id']} {plan.item['dag_run_id']}: {error}")
        runs_report.unchanged += sum(1 for p in plans if p.action == "unchanged")

        created = [p for p in creates if p.action == "create"]
        if created:
            _, dest_tis = self._dest_runs([p.item for p in created])
            dest_runs = {key[1] for key in dest_tis}
            for plan in created:
                if plan.anchor and plan.run_id not in dest_runs:
                    # The backfill names its run itself: find it by the DAG and logical date.
                    plan.run_id = self._find_run_id(plan.item) or plan.run_id
                plan.ti_updates = self._ti_updates(
                    plan.item, plan.run_id, dest_tis.get((plan.item["dag_id"], plan.run_id), {}), count=True
                )
                if plan.item.get("state") in FINAL_RUN_STATES:
                    plan.set_state = plan.item["state"]
                if plan.anchor and plan.item.get("note"):
                    plan.note = plan.item["note"]

        active = [p for p in plans if p.action in {"create", "update"}]
        self._set_ti_states(active)
        ti_report.updated += sum(len(p.ti_updates) for p in active)
        state_entities = []
        for plan in active:
            entity: dict[str, Any] = {"dag_id": plan.item["dag_id"], "dag_run_id": plan.run_id}
            if plan.set_state:
                entity["state"] = plan.set_state
            if plan.note is not None:
                entity["note"] = plan.note
            if len(entity) > 2:
                state_entities.append(entity)
        for chunk in _chunks(state_entities, self.batch):
            self.progress(f"dag runs: setting {len(chunk)} run states")
            self.bulk("/dags/~/dagRuns", [{"action": "update", "entities": chunk}], "dag_runs")
        runs_report.updated += sum(1 for p in plans if p.action == "update")
        for backfill in backfills:
            # Its one run is finished: marking the backfill complete lets the next one start
            # (one active backfill per DAG) without waiting for the scheduler.
            try:
                self.write("PUT", f"/backfills/{backfill}/cancel")
            except ApiError as error:
                if error.status != 409:  # 409: the scheduler marked it complete already
                    runs_report.errors.append(f"backfill {backfill}: {error}")
        return anchors

    def _trigger(self, plan: _RunPlan) -> None:
        item = plan.item
        body: dict[str, Any] = {
            "dag_run_id": plan.run_id,
            "logical_date": item.get("logical_date"),
            "conf": item.get("conf") or {},
        }
        if item.get("logical_date") and item.get("data_interval_start") and item.get("data_interval_end"):
            body["data_interval_start"] = item["data_interval_start"]
            body["data_interval_end"] = item["data_interval_end"]
        if item.get("run_after"):
            body["run_after"] = item["run_after"]
        if item.get("note"):
            body["note"] = item["note"]
        self.write("POST", f"/dags/{item['dag_id']}/dagRuns", body=body)

    def _create_anchor(self, plan: _RunPlan) -> int | None:
        """A one-interval backfill on the paused DAG; None when Airflow will not create it."""
        item = plan.item
        body = {
            "dag_id": item["dag_id"],
            "from_date": item["logical_date"],
            "to_date": item["logical_date"],
            "max_active_runs": 1,
            "reprocess_behavior": "none",
        }
        try:
            backfill = self.write("POST", "/backfills", body=body)
        except ApiError as error:
            if error.status in {400, 404, 409, 422}:
                self.report.notes.append(
                    f"{item['dag_id']}: the newest scheduled run could not be restored as a backfill run "
                    f"({error.detail}); restored as manual, so the scheduler's next run is not anchored"
                )
                plan.anchor = False
                plan.run_id = target_run_id(str(item["dag_run_id"]))
                return None
            raise
        return int(backfill["id"])

    def _find_run_id(self, item: dict[str, Any]) -> str | None:
        page = self.client.call(
            "POST",
            "/dags/~/dagRuns/list",
            body={
                "dag_ids": [item["dag_id"]],
                "logical_date_gte": item["logical_date"],
                "logical_date_lte": item["logical_date"],
                "page_limit": 1,
            },
        )
        runs = page.get("dag_runs") or []
        return str(runs[0]["dag_run_id"]) if runs else None

    def _set_ti_states(self, plans: list[_RunPlan]) -> None:
        """Bulk task-state updates, one action per depth of the DAG (upstream first)."""
        updates = [(p.item["dag_id"], e) for p in plans for e in p.ti_updates]
        if not updates:
            return
        depths: dict[str, dict[str, int]] = {}
        for dag_id in sorted({d for d, _ in updates}):
            tasks = self.client.call("GET", f"/dags/{dag_id}/tasks").get("tasks") or []
            depths[dag_id] = task_depths(
                {t["task_id"]: list(t.get("downstream_task_ids") or []) for t in tasks}
            )
        by_depth: dict[int, list[dict[str, Any]]] = {}
        for dag_id, entity in updates:
            by_depth.setdefault(depths[dag_id].get(entity["task_id"], 0), []).append(entity)
        self.progress(f"task instances: setting {len(updates)} states")
        for depth in sorted(by_depth):
            for chunk in _chunks(by_depth[depth], self.batch):
                self.bulk(
                    "/dags/~/dagRuns/~/taskInstances",
                    [{"action": "update", "entities": chunk, "action_on_non_existence": "skip"}],
                    "task_instances",
                )

    # -- XComs ----------------------------------------------------------------------------------

    def _plan_xcoms(self, runs: list[_RunPlan]) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
        report = self.section("xcoms")
        target = {(p.item["dag_id"], p.item["dag_run_id"]): p for p in runs}
        existing: set[tuple[str, str, str, int, str]] = set()
        if any(p.action != "create" for p in runs):
            window = self.archive.data.get("window") or {}
            query = {"run_after_lt": window.get("until")}
            if window.get("since"):
                query["run_after_gte"] = window["since"]
            for entry in self.client.paged_get(
                "/dags/~/dagRuns/~/taskInstances/~/xcomEntries", "xcom_entries", query
            ):
                existing.add(
                    (
                        entry["dag_id"],
                        entry["run_id"],
                        entry["task_id"],
                        int(entry["map_index"]),
                        entry["key"],
                    )
                )
        max_path = self.client.transport.limits.max_path
        plan: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for xcom in self.archive.items("xcoms"):
            run = target.get((xcom["dag_id"], xcom["dag_run_id"]))
            label = f"{xcom['dag_id']} {xcom['dag_run_id']} {xcom['task_id']} {xcom['key']}"
            if run is None or run.action == "skip":
                report.skip(label, "its run is not restored")
                continue
            key = (xcom["dag_id"], run.run_id, xcom["task_id"], int(xcom["map_index"]), xcom["key"])
            path = f"/dags/{xcom['dag_id']}/dagRuns/{run.run_id}/taskInstances/{xcom['task_id']}/xcomEntries"
            needed = f"{path}/{xcom['key']}" if key in existing else path
            if max_path is not None and len(needed) > max_path:
                report.skip(
                    label,
                    f"REST path of {len(needed)} characters, over InvokeRestApi's {max_path}: "
                    "restore XComs with --transport web-login",
                )
                continue
            if key not in existing:
                plan.append(("create", xcom, None))
                continue
            try:
                current = self.client.call(
                    "GET", f"{path}/{xcom['key']}", query={"map_index": xcom["map_index"]}
                )
            except (ApiError, PathTooLong, ResponseTooLarge) as error:
                report.skip(label, f"cannot read the destination's value: {error}")
                continue
            plan.append(("unchanged" if current.get("value") == xcom["value"] else "update", xcom, current))
        return plan

    def _apply_xcoms(
        self, runs: list[_RunPlan], plan: list[tuple[str, dict[str, Any], dict[str, Any] | None]]
    ) -> None:
        report = self.section("xcoms")
        target = {(p.item["dag_id"], p.item["dag_run_id"]): p.run_id for p in runs}
        for action, xcom, _ in plan:
            if action == "unchanged":
                report.unchanged += 1
                continue
            run_id = target[(xcom["dag_id"], xcom["dag_run_id"])]
            path = f"/dags/{xcom['dag_id']}/dagRuns/{run_id}/taskInstances/{xcom['task_id']}/xcomEntries"
            try:
                if action == "create":
                    self.write(
                        "POST",
                        path,
                        body={"key": xcom["key"], "value": xcom["value"], "map_index": xcom["map_index"]},
                    )
                    report.created += 1
                else:
                    self.write(
                        "PATCH",
                        f"{path}/{xcom['key']}",
                        body={"value": xcom["value"], "map_index": xcom["map_index"]},
                    )
                    report.updated += 1
            except (ApiError, PathTooLong) as error:
                report.errors.append(f"{xcom['dag_id']} {run_id} {xcom['task_id']} {xcom['key']}: {error}")

    # -- pause states and gaps ------------------------------------------------------------------

    def _plan_pauses(self, dest_dags: dict[str, dict[str, Any]]) -> dict[str, bool]:
        report = self.section("dag_pause")
        targets: dict[str, bool] = {}
        for dag in self.archive.items("dags"):
            dag_id = dag["dag_id"]
            if dag_id not in dest_dags:
                report.skip(dag_id, "DAG not in the destination: deploy its file, then restore again")
                continue
            paused = bool(dag.get("is_paused"))
            if not paused and self.options.keep_paused:
                report.skip(dag_id, "left paused (--keep-paused): unpause it when ready")
                paused = True
            targets[dag_id] = paused
        return targets

    def _check_gaps(
        self, dest_dags: dict[str, dict[str, Any]], runs: list[_RunPlan], pauses: dict[str, bool]
    ) -> None:
        """Intervals that catchup would run once a DAG is unpaused (see the module docstring)."""
        anchors = {p.item["dag_id"]: instant(p.item["logical_date"]) for p in runs if p.anchor}
        archived = {
            (p.item["dag_id"], instant(p.item.get("logical_date")))
            for p in runs
            if p.item.get("logical_date")
        }
        now = self.now()
        for dag_id, paused in sorted(pauses.items()):
            dag = dest_dags[dag_id]
            if paused or not dag.get("timetable_periodic"):
                continue
            details = self.client.call("GET", f"/dags/{dag_id}/details")
            if not details.get("catchup"):
                continue
            anchor = anchors.get(dag_id)
            start = instant(dag.get("next_dagrun_logical_date"))
            if anchor is not None and (start is None or start <= anchor):
                start = anchor
            if start is None or start >= now:
                continue
            try:
                answer = self.client.call(
                    "POST",
                    "/backfills/dry_run",
                    body={"dag_id": dag_id, "from_date": start.isoformat(), "to_date": now.isoformat()},
                )
            except ResponseTooLarge:
                self.report.gaps.append({"dag_id": dag_id, "intervals": None, "first": start.isoformat()})
                continue
            except ApiError:
                continue  # e.g. no interval has ended yet
            dates = sorted(
                d
                for d in (instant(b.get("logical_date")) for b in answer.get("backfills") or [])
                if d is not None and (anchor is None or d > anchor) and (dag_id, d) not in archived
            )
            if dates:
                self.report.gaps.append(
                    {
                        "dag_id": dag_id,
                        "intervals": len(dates),
                        "first": dates[0].isoformat(),
                        "last": dates[-1].isoformat(),
                    }
                )
        if self.report.gaps and not self.options.allow_gaps:
            self.report.refused = (
                "catchup would run the intervals listed under gaps as soon as their DAGs are unpaused; "
                "pass --allow-gaps to accept that, or --keep-paused to restore with every DAG paused"
            )

    def _apply_pauses(
        self,
        targets: dict[str, bool],
        anchors: dict[str, datetime],
        dest_dags: dict[str, dict[str, Any]],
        originally: dict[str, bool],
    ) -> None:
        """Pause states as archived; ``originally`` (before the restore) decides updated or unchanged."""
        report = self.section("dag_pause")
        waiting = {d: a for d, a in anchors.items() if targets.get(d) is False}
        not_ready = self._wait_for_parse(waiting) if waiting else set()
        for dag_id, paused in sorted(targets.items()):
            if dag_id in not_ready:
                report.skip(
                    dag_id,
                    f"left paused: the DAG processor had not re-parsed it within "
                    f"{format_duration(self.options.parse_timeout)}; unpause it once its next run is after "
                    f"{anchors[dag_id].isoformat()}",
                )
                continue
            current = originally.get(dag_id)
            if current == paused:
                report.unchanged += 1
            else:
                report.updated += 1
            if dest_dags[dag_id].get("is_paused") != paused:
                self.write("PATCH", f"/dags/{dag_id}", body={"is_paused": paused})

    def _wait_for_parse(self, anchors: dict[str, datetime]) -> set[str]:
        """Ask for a re-parse of each anchored DAG and wait until ``next_dagrun`` passes its anchor."""
        for dag_id in sorted(anchors):
            token = self.client.call("GET", f"/dags/{dag_id}").get("file_token")
            try:
                self.write("PUT", f"/parseDagFile/{token}")
            except (PathTooLong, ApiError) as error:
                self.progress(f"{dag_id}: no re-parse request ({error}); waiting for the DAG processor's own")
        start = self.clock()
        pending = dict(anchors)
        while True:
            for dag_id in sorted(pending):
                dag = self.client.call("GET", f"/dags/{dag_id}")
                nxt = instant(dag.get("next_dagrun_logical_date"))
                if nxt is None or nxt > pending[dag_id]:
                    del pending[dag_id]
            elapsed = self.clock() - start
            if not pending:
                return set()
            self.progress(
                f"waiting for the DAG processor to re-parse {', '.join(sorted(pending))} "
                f"({format_duration(elapsed)} elapsed)"
            )
            if elapsed >= self.options.parse_timeout:
                return set(pending)
            self.sleep(min(self.options.parse_interval, self.options.parse_timeout - elapsed))

    # -- dry run counts -------------------------------------------------------------------------

    def _count_planned(
        self,
        pools: dict[str, list[dict[str, Any]]],
        variables: dict[str, list[dict[str, Any]]],
        connections: dict[str, list[dict[str, Any]]],
        runs: list[_RunPlan],
        xcoms: list[tuple[str, dict[str, Any], dict[str, Any] | None]],
    ) -> None:
        for name, changes in (("pools", pools), ("variables", variables), ("connections", connections)):
            report = self.section(name)
            report.created += len(changes["create"])
            report.updated += len(changes["update"])
            report.unchanged += len(changes["unchanged"])
        runs_report = self.section("dag_runs")
        ti_report = self.section("task_instances")
        for plan in runs:
            if plan.action == "create":
                runs_report.created += 1
                # A new run's task instances all start without a state.
                fresh = {(ti["task_id"], -1): {"state": None} for ti in plan.item.get("task_instances") or []}
                ti_report.updated += len(self._ti_updates(plan.item, plan.run_id, fresh, count=True))
            elif plan.action == "update":
                runs_report.updated += 1
                ti_report.updated += len(plan.ti_updates)
            elif plan.action == "unchanged":
                runs_report.unchanged += 1
        xcom_report = self.section("xcoms")
        for action, _, _ in xcoms:
            if action == "create":
                xcom_report.created += 1
            elif action == "update":
                xcom_report.updated += 1
            else:
                xcom_report.unchanged += 1


def task_depths(downstream: dict[str, list[str]]) -> dict[str, int]:
    """Each task's depth: the longest path to it from a task with no upstream (0)."""
    upstream: dict[str, set[str]] = {task: set() for task in downstream}
    for task, children in downstream.items():
        for child in children:
            upstream.setdefault(child, set()).add(task)
    depth: dict[str, int] = {}

    def visit(task: str, seen: frozenset[str]) -> int:
        if task in depth:
            return depth[task]
        if task in seen:  # a cycle cannot occur in a DAG; guard anyway
            return 0
        parents = upstream.get(task, set())
        depth[task] = 0 if not parents else 1 + max(visit(p, seen | {task}) for p in parents)
        return depth[task]

    for task in upstream:
        visit(task, frozenset())
    return depth


def _chunks(items: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + size]


def _extra_text(extra: Any) -> str | None:
    if extra is None:
        return None
    return extra if isinstance(extra, str) else json.dumps(extra)


def _with_masks(extra: Any, paths: list[str]) -> Any:
    """``extra`` with the mask put back at dotted ``paths`` (``extra.token``)."""
    if not paths or not isinstance(extra, dict):
        return extra
    result = json.loads(json.dumps(extra))
    for path in paths:
        parts = path.split(".")[1:]
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = MASK
    return result


def restore(
    client: AirflowClient,
    archive: Archive,
    *,
    options: RestoreOptions,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Callable[[str], None] = lambda _: None,
) -> RestoreReport:
    """Restore ``archive`` through ``client``; see the module docstring for the order."""
    return Restorer(
        client, archive, options=options, now=now, sleep=sleep, clock=clock, progress=progress
    ).run()
