"""What the cluster demo saw (deploy.demo) and the checks on it: the runs and step events read from
the Postgres run storage, the processes seen in /proc, the objects and tables on S3 — and `verify`,
which turns them into named checks (the demo prints them, tests/test_cluster.py asserts them).
Apart from the demo so that the checks read as one list, away from the machinery."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class RunInfo:
    run_id: str
    job: str
    partition: str | None
    status: str
    created: float
    started: float | None
    ended: float | None
    tags: dict[str, str]


@dataclass
class StepExecution:
    """A step handed to a Celery worker: the worker's "Executing steps … in celery worker" event."""

    run_id: str
    step: str
    worker: str  # Celery node name, w1@host


@dataclass
class Observed:
    """Everything the checks look at, gathered while the cluster ran and after it stopped."""

    runs: list[RunInfo] = field(default_factory=list)
    executions: list[StepExecution] = field(default_factory=list)
    step_starts: list[tuple[str, str, int]] = field(default_factory=list)  # run id, step, pid
    worker_pids: dict[str, set[int]] = field(default_factory=dict)  # worker name → pids seen
    daemon_pids: set[int] = field(default_factory=set)  # the daemon, its code server, its runs
    killed: dict[str, str] = field(default_factory=dict)  # worker, run_id, step, fault
    daemons: set[str] = field(default_factory=set)  # daemon types with a heartbeat
    warehouse: list[str] = field(default_factory=list)  # object names under data/warehouse/
    temporaries: list[str] = field(default_factory=list)  # *.tmp objects anywhere in the bucket
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    reference: dict[str, pd.DataFrame] = field(default_factory=dict)
    left_running: dict[str, set[int]] = field(default_factory=dict)  # after the stop: should be empty
    instance_yaml: str = ""  # $DAGSTER_HOME/dagster.yaml as the processes read it
    storage: dict[str, str] = field(default_factory=dict)  # storages and run queue: class names
    seconds: dict[str, float] = field(default_factory=dict)
    sources: tuple[str, ...] = ()  # what the night ran on: one source run each
    workers: tuple[str, ...] = ()  # the Celery workers started

    def runs_of(self, job: str) -> list[RunInfo]:
        return [r for r in self.runs if r.job == job]


def comparable(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A table without what differs between two runs by design: when the documents were fetched."""
    return frame.drop(columns="fetched_at") if name == "reports" else frame


@dataclass(frozen=True)
class Check:
    title: str
    passed: bool
    detail: str = ""


def _retried_into_success(run: RunInfo, runs: list[RunInfo]) -> bool:
    """A failed run that the daemon's run retries started again, and that succeeded."""
    return any(
        r.tags.get("dagster/parent_run_id") == run.run_id
        and (r.status == "SUCCESS" or _retried_into_success(r, runs))
        for r in runs
    )


def verify(observed: Observed) -> dict[str, Check]:
    """What `observe` saw, as named checks."""
    from assets.definitions import SOURCES_JOB, TABLES_JOB
    from pipeline.tables import TABLE_NAMES

    checks: dict[str, Check] = {}
    runs = observed.runs
    sources_runs, tables_runs = observed.runs_of(SOURCES_JOB), observed.runs_of(TABLES_JOB)
    not_ok = [r for r in runs if r.status != "SUCCESS" and not _retried_into_success(r, runs)]
    checks["runs"] = Check(
        "one source run per source, then two tables runs; every run succeeded (or failed and its retry did)",
        {r.partition for r in sources_runs} == set(observed.sources) and len(tables_runs) == 2 and not not_ok,
        ", ".join(f"{r.job}[{r.partition or '-'}] {r.status}" for r in runs),
    )
    checks["daemon"] = Check(
        "the daemon ran its scheduler, sensors, run queue and run retries",
        {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR", "EVENT_LOG_CONSUMER"} <= observed.daemons,
        ", ".join(sorted(observed.daemons)),
    )
    owner = {pid: name for name, pids in observed.worker_pids.items() for pid in pids}
    handed_to: dict[tuple[str, str], set[str]] = {}  # (run, step) → the workers it was given to
    for e in observed.executions:
        handed_to.setdefault((e.run_id, e.step), set()).add(e.worker.split("@")[0])
    in_workers = [  # the step's process belongs to a worker the step was handed to, not to the daemon
        (run, step, pid) for run, step, pid in observed.step_starts
        if pid not in observed.daemon_pids and owner.get(pid) in handed_to.get((run, step), ())
    ]  # fmt: skip
    per_worker = {name: sum(owner[pid] == name for _r, _s, pid in in_workers) for name in observed.workers}
    checks["workers"] = Check(
        "every step ran in a Celery worker's process (both workers), none in the daemon's",
        bool(observed.step_starts)
        and len(in_workers) == len(observed.step_starts)
        and all(per_worker.values()),
        f"{len(in_workers)} of {len(observed.step_starts)} step starts in worker processes: {per_worker}",
    )
    killed = observed.killed
    attempts = [
        e.worker.split("@")[0] for e in observed.executions
        if (e.run_id, e.step) == (killed.get("run_id"), killed.get("step"))
    ]  # fmt: skip
    killed_run = next((r for r in runs if r.run_id == killed.get("run_id")), None)
    handed_on = (
        len(attempts) >= 2 and attempts[0] == killed.get("worker") and attempts[-1] != killed.get("worker")
        and killed_run is not None and killed_run.status == "SUCCESS"
    )  # fmt: skip
    retried = (
        killed_run is not None and killed_run.status == "FAILURE" and _retried_into_success(killed_run, runs)
    )
    checks["fault"] = Check(
        "the killed worker's step finished on the other worker (or its run failed and the retry succeeded)",
        bool(killed) and (handed_on or retried),
        f"{killed.get('fault')} of {killed.get('worker')} killed during {killed.get('step')}; "
        f"executed on: {', '.join(attempts)}; "
        f"run {killed_run.status if killed_run else '?'}",
    )
    ordered = sorted(tables_runs, key=lambda r: r.started or 0)
    apart = all(a.ended and b.started and a.ended <= b.started for a, b in itertools.pairwise(ordered))
    checks["queue"] = Check(
        "run queue: one tables run at a time (the second, queued while the first ran, waited for it)",
        len(ordered) == 2 and apart and ordered[1].created < (ordered[0].ended or 0),
        "; ".join(f"{r.run_id[:8]} {_span(r, observed)}" for r in ordered),
    )
    side_by_side = [
        (a.partition, b.partition) for a in sources_runs for b in sources_runs
        if a.run_id < b.run_id and a.started and b.started and a.ended and b.ended
        and a.started < b.ended and b.started < a.ended
    ]  # fmt: skip
    checks["parallel"] = Check(
        "run queue: source runs ran side by side",
        bool(side_by_side),
        "; ".join(f"{r.partition} {_span(r, observed)}" for r in sources_runs),
    )
    expected = sorted(f"{name}.parquet" for name in TABLE_NAMES)
    checks["warehouse"] = Check(
        "the warehouse on S3 holds the tables and nothing half-written",
        observed.warehouse == expected and not observed.temporaries,
        ", ".join(observed.warehouse + observed.temporaries),
    )
    differing = []
    for name in TABLE_NAMES:
        try:
            pd.testing.assert_frame_equal(
                comparable(name, observed.tables[name]),
                comparable(name, observed.reference[name]),
                check_exact=True,
                obj=name,
            )
        except (AssertionError, KeyError) as exc:
            differing.append(" ".join(str(exc).split()[:30]))
    checks["tables"] = Check(
        "the tables equal those of an in-process `python -m pipeline run` on the same sources",
        not differing and len(observed.tables) == len(TABLE_NAMES),
        "; ".join(differing) or ", ".join(f"{n} {len(t)} rows" for n, t in observed.tables.items()),
    )
    checks["stopped"] = Check(
        "everything started was stopped",
        not observed.left_running,
        ", ".join(f"{n}: {sorted(p)}" for n, p in observed.left_running.items()),
    )
    return checks


def _span(run: RunInfo, observed: Observed) -> str:
    base = min(r.created for r in observed.runs)
    start = f"{run.started - base:.0f}" if run.started else "?"
    end = f"{run.ended - base:.0f}" if run.ended else "?"
    return f"queued {run.created - base:.0f} s, ran {start}–{end} s"
