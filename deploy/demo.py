"""The scale-out proven end to end on this machine: `make cluster-demo` (python -m deploy.demo) and
tests/test_cluster.py.

On the services of deploy.cluster — PostgreSQL (runs, events, schedules), Redis (Celery broker and
results), an S3 server (the data dir), two dagster-celery workers, dagster-daemon and
dagster-webserver, all on the shipped deploy/ configuration — the nightly graph runs the way it runs
in production, through the daemon and never in this process:

1. the scheduler fires `xxgk_nightly` (cron every minute here, stopped after its first tick): one
   `xxgk_sources` run per source, queued, started by the run queue, each step a Celery task;
2. while the slow source's scrape step runs, the worker running it is killed (SIGKILL to its whole
   process group: the machine lost); the broker gives the unacknowledged step to the other worker
   (`--fault process` kills only the worker's process running the step: the run fails, the daemon
   retries it);
3. the sensor starts `xxgk_tables` once every source run has finished; a second tables run is
   submitted through the webserver meanwhile, and the run queue holds it back until the first is done;
4. the tables land in s3://…/warehouse; an in-process `python -m pipeline run` on the same sources
   writes the reference tables beside.

`observe` returns what happened, read from the Postgres run storage, the S3 bucket and /proc;
`verify` turns it into named checks (the demo prints them, the test asserts them).

Sources: the bundled sample folders, and the bundled Pingtan mirror served over HTTP on 127.0.0.1
with a polite delay, so that its scrape step lasts long enough to lose a worker in the middle of it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from deploy.cluster import BIN, ROOT, Cluster, Unavailable, check_tools, free_port, group_pids, wait_until
from deploy.observed import Observed, RunInfo, StepExecution, verify

BUCKET = "xxgk-cluster"
DATA_URL = f"s3://{BUCKET}/data"
WORKERS = ("w1", "w2")
SLOW_SOURCE = "pingtan"
SOURCES = ("jugezhuang", "generated", SLOW_SOURCE)
#: The slow source's politeness delay between requests (about a dozen requests: ~6 s of scraping).
CRAWL_DELAY = 0.5
#: Broker settings for the demo: a step of a lost worker is handed on after 20 s, not 6 h (every
#: step of the demo takes less than that, or it would be handed on while it still runs).
DEMO_TRANSPORT = {"visibility_timeout": 20, "unacked_restore_interval": 2}
SOURCES_YAML = """\
sources:
  - name: jugezhuang
    region: 北京市密云区
    path: jugezhuang
  - name: generated
    region: 示例市
    path: generated
  - name: {slow}
    region: 福建省平潭综合实验区
    start_urls: ["http://127.0.0.1:{port}/index.html"]
    delay_seconds: {delay}
"""


# ------------------------------------------------------------------------------------------ setup


def write_sources(workdir: Path, site_port: int) -> Path:
    """The demo's sources: copies of the bundled sample folders, and the Pingtan mirror over HTTP."""
    folder = workdir / "sources"
    for name in ("jugezhuang", "generated"):
        shutil.copytree(ROOT / "data" / "sample" / name, folder / name)
    path = folder / "sources.yaml"
    path.write_text(
        SOURCES_YAML.format(slow=SLOW_SOURCE, port=site_port, delay=CRAWL_DELAY), encoding="utf-8"
    )
    return path


def start_site(cluster: Cluster) -> int:
    """The bundled Pingtan mirror served by a plain HTTP server on 127.0.0.1; its port."""
    import httpx

    site = cluster.workdir / "site"
    shutil.copytree(ROOT / "data" / "mirror" / "pingtan", site)
    port = free_port()
    service = cluster.start(
        "site",
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)],
    )

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/index.html", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, "the HTTP site", 30, [service])
    return port


def start_webserver(cluster: Cluster) -> Callable[[], int]:
    """dagster-webserver on a free port; returns a function that waits until it answers (its port)."""
    import httpx

    port = free_port()
    service = cluster.start(
        "webserver",
        [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
    )

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def ready() -> int:
        wait_until(up, "dagster-webserver", 180, [service], poll=1)
        return port

    return ready


# ------------------------------------------------------------------------------------------ the run


class Watch:
    """Polls the run storage; meanwhile records which processes belong to the daemon and the workers."""

    def __init__(self, cluster: Cluster, instance, observed: Observed, log: Callable[[str], None]):
        self.cluster, self.instance, self.observed, self.log = cluster, instance, observed, log

    def snapshot(self) -> None:
        for name, service in self.cluster.services.items():
            if name == "daemon":
                self.observed.daemon_pids |= service.pids()
            elif name.startswith("worker-"):
                self.observed.worker_pids.setdefault(name.removeprefix("worker-"), set()).update(
                    service.pids()
                )

    def until(self, condition: Callable[[], object], what: str, timeout: float) -> object:
        self.log(f"waiting: {what}")
        watched = [s for n, s in self.cluster.services.items() if n in ("daemon", "postgres", "redis", "s3")]

        def check():
            self.snapshot()
            return condition()

        return wait_until(check, what, timeout, watched, poll=0.5)

    def runs(self, job: str, **tags: str) -> list:
        import dagster as dg

        return list(self.instance.get_runs(filters=dg.RunsFilter(job_name=job, tags=tags or None)))


def _executing(instance, run_id: str) -> list[StepExecution]:
    """The worker-side "Executing steps … in celery worker" engine events of a run."""
    import dagster as dg

    out = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        if event is None or not event.message or "in celery worker" not in event.message:
            continue
        worker = event.event_specific_data.metadata["Celery worker"].value
        out.append(StepExecution(run_id, event.step_key or "", worker))
    return out


def _finished(instance, run_id: str, step: str) -> bool:
    import dagster as dg

    kinds = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    return any(
        r.dagster_event and r.dagster_event.step_key == step for r in instance.all_logs(run_id, of_type=kinds)
    )


#: What the fault kills: the worker running the step (its whole process group: the machine lost), or
#: only the worker's process that runs the step (as the kernel's OOM killer would).
FAULTS = ("worker", "process")


def _kill_mid_step(watch: Watch, run_id: str, step: str, fault: str) -> dict[str, str]:
    """Once `step` of `run_id` has run on a worker for a second and is still running: SIGKILL that
    worker's process group, or (fault "process") the worker process running the step."""
    import dagster as dg

    instance = watch.instance

    def running():
        handed = [e for e in _executing(instance, run_id) if e.step == step]
        starts = [
            r.dagster_event.pid
            for r in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
            if r.dagster_event and r.dagster_event.step_key == step
        ]
        return handed and starts and (handed[0].worker.split("@", 1)[0], starts[0])

    worker, pid = watch.until(running, f"{step} of {SLOW_SOURCE} running on a worker", 120)
    time.sleep(1.0)
    if _finished(instance, run_id, step):
        raise RuntimeError(f"{step} of {SLOW_SOURCE} finished before it could be killed")
    watch.snapshot()
    if fault == "worker":
        watch.cluster.services[f"worker-{worker}"].kill()
        watch.log(
            f"killed worker {worker} (SIGKILL to its process group) while it ran {step} of {SLOW_SOURCE}"
        )
    else:
        os.kill(pid, signal.SIGKILL)
        watch.log(f"killed process {pid} of worker {worker} while it ran {step} of {SLOW_SOURCE}")
    return {"worker": worker, "run_id": run_id, "step": step, "fault": fault}


def scenario(cluster: Cluster, observed: Observed, log: Callable[[str], None], fault: str) -> None:
    """Everything from the services to the last tables run; fills `observed` as it goes."""
    import dagster as dg
    from dagster._core.scheduler.instigation import InstigatorType
    from dagster_graphql import DagsterGraphQLClient

    from assets.definitions import SOURCES_JOB, TABLES_JOB
    from assets.schedules import NIGHTLY_TAG, SCHEDULE_NAME

    t0 = time.monotonic()
    cluster.start_postgres()
    cluster.start_redis()
    cluster.start_s3(BUCKET)
    sources = write_sources(cluster.workdir, start_site(cluster))
    observed.seconds["services"] = time.monotonic() - t0
    log(
        f"postgres, redis, S3 and the HTTP site up ({observed.seconds['services']:.0f} s); logs in {cluster.workdir / 'logs'}"
    )

    reference_env = {
        k: v for k, v in cluster.env.items() if not k.startswith(("AWS_", "FSSPEC_", "DAGSTER_", "XXGK_"))
    }
    reference = cluster.start(
        "reference",
        [sys.executable, "-m", "pipeline", "run", "--sources", str(sources), "--data-dir", str(cluster.workdir / "reference")],
        env=reference_env,
    )  # fmt: skip
    cluster.env.update(
        XXGK_SOURCES=str(sources),
        XXGK_DATA_DIR=DATA_URL,
        XXGK_SCHEDULE_CRON="* * * * *",
        XXGK_SENSOR_INTERVAL="5",
    )
    cluster.create_schema()
    celery_yaml = cluster.celery_yaml(**DEMO_TRANSPORT)
    for name in WORKERS:
        cluster.start_worker(name, celery_yaml)
    cluster.start_daemon()
    for name in WORKERS:
        cluster.wait_worker_ready(name)
    log(f"workers {', '.join(WORKERS)} and dagster-daemon up")

    with cluster.instance() as instance:
        watch = Watch(cluster, instance, observed, log)
        sources_runs = watch.until(
            lambda: (runs := watch.runs(SOURCES_JOB)) and len(runs) >= len(SOURCES) and runs,
            "the schedule's next tick (cron every minute)",
            180,
        )
        observed.seconds["tick"] = time.monotonic() - t0
        # One tick is the night: stop the schedule, as the UI's toggle does.
        state = next(
            s
            for s in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
            if s.instigator_name == SCHEDULE_NAME
        )
        instance.stop_schedule(state.instigator_origin_id, state.selector_id)
        tick = sources_runs[0].tags[NIGHTLY_TAG]
        log(f"tick {tick}: {len(sources_runs)} source runs queued; schedule stopped")
        webserver = start_webserver(cluster)  # for the second tables run, and to watch in the UI

        slow = next(r for r in sources_runs if r.tags.get("dagster/partition") == SLOW_SOURCE)
        observed.killed = _kill_mid_step(watch, slow.run_id, "scrape", fault)

        def sources_done() -> bool:  # a run that failed may still be retried: wait for a success
            runs = watch.runs(SOURCES_JOB)
            ok = {r.tags.get("dagster/partition") for r in runs if r.status == dg.DagsterRunStatus.SUCCESS}
            return all(r.is_finished for r in runs) and ok == set(SOURCES)

        watch.until(sources_done, "every source run finished, each source with a successful run", 240)
        observed.seconds["sources"] = time.monotonic() - t0
        first = watch.until(
            lambda: watch.runs(TABLES_JOB, **{NIGHTLY_TAG: tick}), "the sensor's tables run", 90
        )
        web_port = webserver()
        second_id = DagsterGraphQLClient("127.0.0.1", port_number=web_port).submit_job_execution(
            TABLES_JOB, tags={"xxgk/demo": "second tables run"}
        )
        log(
            f"tables run {first[0].run_id[:8]} started by the sensor; a second one {second_id[:8]} submitted "
            f"through dagster-webserver (http://127.0.0.1:{web_port})"
        )
        watch.until(lambda: all(r.is_finished for r in watch.runs(TABLES_JOB)) and len(watch.runs(TABLES_JOB)) >= 2,
                    "both tables runs finished", 240)  # fmt: skip
        observed.seconds["tables"] = time.monotonic() - t0
        watch.until(lambda: reference.process.poll() is not None, "the in-process reference run", 240)
        if reference.process.returncode != 0:
            raise RuntimeError(f"python -m pipeline run failed:\n{reference.tail()}")
        _collect(instance, observed)


def _collect(instance, observed: Observed) -> None:
    """Runs, steps and daemon heartbeats from the Postgres storage; tables and objects from S3."""
    import dagster as dg

    for record in instance.get_run_records():
        run = record.dagster_run
        observed.runs.append(
            RunInfo(
                run.run_id, run.job_name, run.tags.get("dagster/partition"), run.status.value,
                record.create_timestamp.timestamp(), record.start_time, record.end_time, dict(run.tags),
            )
        )  # fmt: skip
        observed.executions += _executing(instance, run.run_id)
        for log_record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START):
            event = log_record.dagster_event
            observed.step_starts.append((run.run_id, event.step_key, event.pid))
    observed.daemons = {h.daemon_type for h in instance.get_daemon_heartbeats().values()}
    observed.instance_yaml = (Path(instance.root_directory) / "dagster.yaml").read_text(encoding="utf-8")
    observed.storage = {
        "runs": type(instance.run_storage).__name__,
        "events": type(instance.event_log_storage).__name__,
        "schedules": type(instance.schedule_storage).__name__,
        "run coordinator": type(instance.run_coordinator).__name__,
    }


def _read_bucket(cluster: Cluster, observed: Observed) -> None:
    from pipeline.tables import TABLE_NAMES

    s3 = cluster.s3()
    keys = s3.find(BUCKET)
    prefix = f"{BUCKET}/data/warehouse/"
    observed.warehouse = sorted(k.removeprefix(prefix) for k in keys if k.startswith(prefix))
    observed.temporaries = [k for k in keys if k.endswith(".tmp")]
    options = cluster.storage_options()
    for name in TABLE_NAMES:
        observed.tables[name] = pd.read_parquet(
            f"{DATA_URL}/warehouse/{name}.parquet", storage_options=options
        )
        observed.reference[name] = pd.read_parquet(
            cluster.workdir / "reference" / "warehouse" / f"{name}.parquet"
        )


def observe(workdir: Path, log: Callable[[str], None] = print, fault: str = "worker") -> Observed:
    """Start everything in `workdir`, run the night with `fault` (FAULTS), stop everything (also on
    failure); what happened."""
    if fault not in FAULTS:
        raise ValueError(f"fault {fault!r}: expected one of {', '.join(FAULTS)}")
    observed = Observed(sources=SOURCES, workers=WORKERS)
    t0 = time.monotonic()
    cluster = Cluster(workdir)
    try:
        scenario(cluster, observed, log, fault)
        _read_bucket(cluster, observed)
    except Exception as exc:  # what the services said, before their folder goes
        logs = "\n".join(
            f"--- {s.name} (last lines of {s.log.name})\n{s.tail(25)}" for s in cluster.services.values()
        )
        raise RuntimeError(f"cluster demo failed: {exc}\n{logs}") from exc
    finally:
        groups = {name: service.pgid for name, service in cluster.services.items()}
        cluster.close()
        observed.left_running = {name: pids for name, pgid in groups.items() if (pids := group_pids(pgid))}
    observed.seconds["total"] = time.monotonic() - t0
    return observed


# ------------------------------------------------------------------------------------------ CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) afterwards")
    parser.add_argument(
        "--fault",
        choices=FAULTS,
        default="worker",
        help="kill the whole worker running the slow step (default), or only its process running it",
    )
    args = parser.parse_args(argv)
    try:
        check_tools()
    except Unavailable as exc:
        print(f"cannot run the cluster demo here: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the services on `kill` too
    workdir = Path(tempfile.mkdtemp(prefix="xxgk-cluster-"))
    started = time.monotonic()
    say = lambda message: print(f"[{time.monotonic() - started:5.0f} s] {message}", flush=True)  # noqa: E731
    try:
        observed = observe(workdir, log=say, fault=args.fault)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    checks = verify(observed).values()
    for check in checks:
        print(f"{'ok  ' if check.passed else 'FAIL'} {check.title}\n       {check.detail}")
    failed = sum(not check.passed for check in checks)
    print(f"{len(checks) - failed} passed, {failed} failed ({observed.seconds['total']:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
