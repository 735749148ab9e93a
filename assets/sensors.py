"""The sensor that completes the nightly run: the tables once every source run of a tick has finished.

It lists runs in the instance's run storage and compares tags: cheap, well inside the 60 s evaluation
limit. It never crawls (PITFALLS.md) — the sources file is read when the definitions load, which is
also where the partitions come from (assets.definitions).
"""

import os
from typing import Any

import dagster as dg

from assets.schedules import NIGHTLY_TAG, SOURCES_TAG

SENSOR_NAME = "xxgk_tables_after_sources"
RECENT_RUNS = 500  # how far back to look for the latest nightly tick
#: Dagster's tags: on a failed run that the daemon's run retries will start again, and on that retry.
WILL_RETRY_TAG = "dagster/will_retry"
PARENT_RUN_TAG = "dagster/parent_run_id"
#: Seconds between two evaluations of the sensor (the daemon's sensor loop runs every 5 s at most).
INTERVAL_ENV = "XXGK_SENSOR_INTERVAL"
DEFAULT_INTERVAL = 60


def sensor_interval() -> int:
    """XXGK_SENSOR_INTERVAL, else 60 s: how long after the last source run the tables may wait to start."""
    value = os.environ.get(INTERVAL_ENV, "").strip() or str(DEFAULT_INTERVAL)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{INTERVAL_ENV}={value!r}: expected a whole number of seconds, at least 1")
    return int(value)


def tables_after_sources(sources_job_name: str, tables_job: Any) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        job=tables_job,
        minimum_interval_seconds=sensor_interval(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts xxgk_tables once all the source runs of a nightly tick have finished "
        "(succeeded or failed): a failing site never keeps the tables from being rebuilt.",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        instance = context.instance
        recent = instance.get_runs(filters=dg.RunsFilter(job_name=sources_job_name), limit=RECENT_RUNS)
        tick = next((run.tags[NIGHTLY_TAG] for run in recent if NIGHTLY_TAG in run.tags), None)
        if tick is None:
            return dg.SkipReason("no nightly source runs yet")
        if context.cursor == tick:
            return dg.SkipReason(f"tables already requested for the tick {tick}")
        runs = instance.get_runs(filters=dg.RunsFilter(job_name=sources_job_name, tags={NIGHTLY_TAG: tick}))
        expected = max(int(run.tags.get(SOURCES_TAG, 0)) for run in runs)
        finished = [run for run in runs if run.is_finished]
        if len(finished) < len(runs) or len(runs) < expected:
            return dg.SkipReason(
                f"tick {tick}: {len(finished)} of {max(expected, len(runs))} source runs finished"
            )
        # A run that failed and that the run retries (deploy/dagster.yaml) will start again is not the
        # source's last word: wait for its retry (created moments after the failure).
        retried = {run.tags.get(PARENT_RUN_TAG) for run in runs}
        awaited = [
            run for run in runs if run.tags.get(WILL_RETRY_TAG) == "true" and run.run_id not in retried
        ]
        if awaited:
            return dg.SkipReason(f"tick {tick}: {len(awaited)} failed source run(s) about to be retried")
        # A source retried at run level has several runs: it failed only if none of them succeeded.
        ok = {run.tags.get("dagster/partition") for run in runs if run.status == dg.DagsterRunStatus.SUCCESS}
        failed = sorted({run.tags.get("dagster/partition", "?") for run in runs} - ok)
        context.update_cursor(tick)
        return dg.RunRequest(
            run_key=f"tables-{tick}",
            tags={NIGHTLY_TAG: tick, "xxgk/failed_sources": ",".join(failed) or "none"},
        )

    return _sensor
