#!/usr/bin/env python3
"""Backup and restore time and archive size for 1,000 and 10,000 DAG runs, per transport.

Usage: ``.venv/bin/python bench/dr_bench.py [--sizes 1000,10000] [--repeats 3]``

Against a real local Airflow 3.3.1 (SQLite, the api-server with one worker and the DAG
processor; no scheduler, since nothing runs): a source holding two hourly DAGs with N runs
each (two task instances per run), filled once by restoring a generated archive into it
(untimed), then, for every size and transport, the median of ``--repeats`` backups of it and
the median of ``--repeats`` restores of that backup into a fresh Airflow each time (with
``keep_paused``, so that no wait for the DAG processor is counted).

Transports: ``url`` (the REST API directly, as the web-login session uses it) and ``rest-api``
(InvokeRestApi through the MWAA stand-in of tests/ops/dr/dr_standin.py, which enforces the
64-character paths, 6 MB answers and 10 requests a second). The stand-in's clock is virtual:
the transport's pacing sleeps advance it instead of waiting, and the time reported for
``rest-api`` is the measured time plus those modelled waits, i.e. what the same work would take
at MWAA's rate. Network latency to AWS and MWAA's own overhead per call are not modelled.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ops" / "dr"))

from dr_airflow import PASSWORD, USER, LocalAirflow  # noqa: E402
from dr_standin import MwaaStandIn  # noqa: E402

from mwaa_ops.airflow_api import Backoff  # noqa: E402
from mwaa_ops.aws import AwsClients, AwsSettings  # noqa: E402
from mwaa_ops.dr import archive  # noqa: E402
from mwaa_ops.dr.backup import BackupOptions, backup  # noqa: E402
from mwaa_ops.dr.client import AirflowClient  # noqa: E402
from mwaa_ops.dr.restore import RestoreOptions, restore  # noqa: E402
from mwaa_ops.dr.transport import RestApiTransport, Transport, UrlTransport  # noqa: E402

DAG_FILE = """\
from datetime import datetime, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

for dag_id, start in (("bench_1000", datetime(2019, 1, 1)), ("bench_10000", datetime(2020, 1, 1))):
    with DAG(dag_id, schedule=timedelta(hours=1), start_date=start, catchup=True):
        EmptyOperator(task_id="extract") >> EmptyOperator(task_id="load")
"""
STARTS = {1000: datetime(2019, 1, 1, tzinfo=UTC), 10000: datetime(2020, 1, 1, tzinfo=UTC)}
ENV = "bench"


class VirtualClock:
    """Real time plus modelled waits: ``sleep`` adds to the offset instead of waiting."""

    def __init__(self) -> None:
        self.waited = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.waited

    def sleep(self, seconds: float) -> None:
        self.waited += max(0.0, seconds)


@dataclass
class Sample:
    seconds: float
    requests: int
    throttled: int = 0
    size_gz: int = 0
    size_json: int = 0


def generated_archive(size: int) -> dict[str, Any]:
    """``size`` finished hourly runs of ``bench_<size>``, as a backup of a source would hold them."""
    start = STARTS[size]
    runs: list[dict[str, Any]] = []
    for i in range(size):
        when = (start + timedelta(hours=i)).isoformat()
        runs.append(
            {
                "dag_id": f"bench_{size}",
                "dag_run_id": f"scheduled__{when}",
                "run_type": "scheduled",
                "state": "success",
                "logical_date": when,
                "data_interval_start": when,
                "data_interval_end": when,
                "run_after": when,
                "conf": {},
                "note": None,
                "task_instances": [
                    {"task_id": task, "map_index": -1, "state": "success", "try_number": 1, "note": None}
                    for task in ("extract", "load")
                ],
            }
        )
    return archive.build(
        sections={"dag_runs": runs, "dags": [{"dag_id": f"bench_{size}", "is_paused": True}]},
        airflow_version="3.3.1",
        environment={"name": "generated"},
        created_at=datetime.now(UTC),
        window={"since": None, "until": None},
        options={"xcom": False},
        notes=[],
    )


def airflow(root: Path, dags: Path) -> LocalAirflow:
    instance = LocalAirflow(root=root, dags_folder=dags)
    instance.prepare()
    instance.start("api-server", "dag-processor")
    instance.wait_healthy(timeout=180)
    instance.wait_for_dags({"bench_1000", "bench_10000"}, timeout=180)
    return instance


def transport_for(name: str, instance: LocalAirflow) -> tuple[Transport, Callable[[], dict[str, Any]]]:
    """The transport, and a function returning its counters after the work."""
    if name == "url":
        url = UrlTransport.with_password(instance.url, USER, PASSWORD, backoff=Backoff())
        return url, lambda: {"requests": url.calls, "throttled": 0, "waited": 0.0}
    clock = VirtualClock()
    stand_in = MwaaStandIn(airflow_url=instance.url, token=instance.token, environment_name=ENV, clock=clock)
    clients = AwsClients(AwsSettings(region="us-east-1"), factory=lambda service: stand_in)
    rest = RestApiTransport(clients, ENV, backoff=Backoff(sleep=clock.sleep), clock=clock, sleep=clock.sleep)

    def counters() -> dict[str, Any]:
        assert stand_in.refused["path"] == 0 and stand_in.refused["size"] == 0, stand_in.refused
        return {"requests": rest.calls, "throttled": stand_in.refused["rate"], "waited": clock.waited}

    return rest, counters


def alive(instance: LocalAirflow) -> None:
    for name, process in instance.processes.items():
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited during the benchmark:\n{instance.log_tail(name)}")


def timed(work: Callable[[], Any], counters: Callable[[], dict[str, Any]]) -> tuple[Any, Sample]:
    began = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - began
    count = counters()
    return result, Sample(
        seconds=elapsed + count["waited"], requests=count["requests"], throttled=count["throttled"]
    )


def run_restore(client: AirflowClient, source: archive.Archive) -> Any:
    report = restore(
        client,
        source,
        options=RestoreOptions(keep_paused=True),
        now=lambda: datetime.now(UTC),
        sleep=time.sleep,
        clock=time.monotonic,
    )
    assert report.ok, report.to_json()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1000,10000", help="comma-separated run counts (1000 and/or 10000)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--transports", default="url,rest-api")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    transports = args.transports.split(",")
    work = Path(tempfile.mkdtemp(prefix="dr-bench-"))
    dags = work / "dags"
    dags.mkdir()
    (dags / "bench.py").write_text(DAG_FILE)
    results: dict[tuple[str, int, str], list[Sample]] = {}
    source = airflow(work / "source", dags)
    try:
        url = UrlTransport.with_password(source.url, USER, PASSWORD)
        for size in sizes:
            began = time.perf_counter()
            run_restore(
                AirflowClient(url),
                archive.loads(archive.dumps(generated_archive(size), compress=False), source="generated"),
            )
            alive(source)
            print(f"filled the source with {size} runs in {time.perf_counter() - began:.0f} s", flush=True)
        backups: dict[int, Path] = {}
        for size in sizes:
            window = BackupOptions(since=STARTS[size], until=STARTS[size] + timedelta(hours=size))
            for name in transports:
                for rep in range(args.repeats):
                    transport, counters = transport_for(name, source)

                    def run_backup(t: Transport = transport, w: BackupOptions = window) -> Any:
                        return backup(
                            AirflowClient(t),
                            environment={"name": ENV},
                            options=w,
                            created_at=datetime.now(UTC),
                        )

                    data, sample = timed(run_backup, counters)
                    path = work / f"backup-{size}.json.gz"
                    sample.size_gz = archive.write(data, path)
                    sample.size_json = len(archive.dumps(data, compress=False))
                    assert data["sections"]["dag_runs"]["count"] == size
                    backups[size] = path
                    alive(source)
                    results.setdefault(("backup", size, name), []).append(sample)
                    print(
                        f"backup  {size:>6} {name:<9} #{rep + 1}: {sample.seconds:8.1f} s, "
                        f"{sample.requests} requests",
                        flush=True,
                    )
    finally:
        source.stop()

    for size in sizes:
        saved = archive.read(backups[size])
        for name in transports:
            for rep in range(args.repeats):
                dest = airflow(work / f"dest-{size}-{name}-{rep}", dags)
                try:
                    transport, counters = transport_for(name, dest)

                    def run(t: Transport = transport, a: archive.Archive = saved) -> Any:
                        return run_restore(AirflowClient(t), a)

                    _, sample = timed(run, counters)
                    alive(dest)
                finally:
                    dest.stop()
                    shutil.rmtree(work / f"dest-{size}-{name}-{rep}", ignore_errors=True)
                results.setdefault(("restore", size, name), []).append(sample)
                print(
                    f"restore {size:>6} {name:<9} #{rep + 1}: {sample.seconds:8.1f} s, "
                    f"{sample.requests} requests",
                    flush=True,
                )

    print()
    print(
        f"median of {args.repeats} runs; rest-api = measured time + modelled InvokeRestApi pacing "
        "(9 requests/s)"
    )
    print("| operation | runs | transport | median time | range | requests | archive (gzip / JSON) |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for (operation, size, name), samples in results.items():
        times = [s.seconds for s in samples]
        sizes_text = (
            f"{samples[-1].size_gz / 1024:,.0f} KiB / {samples[-1].size_json / 1024:,.0f} KiB"
            if operation == "backup"
            else ""
        )
        print(
            f"| {operation} | {size:,} | {name} | {statistics.median(times):,.1f} s | "
            f"{min(times):,.1f}-{max(times):,.1f} s | {samples[-1].requests:,} | {sizes_text} |"
        )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
