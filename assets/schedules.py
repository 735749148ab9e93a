"""The nightly schedule: every source scraped and parsed, one run per source, then the tables.

At each tick (cron `XXGK_SCHEDULE_CRON`, default 02:00, Asia/Shanghai) the schedule starts one run of
the `xxgk_sources` job per source partition: sources run in parallel (the run queue's limit), a
failing site fails its own run only, and a website's failure is retried with backoff inside its run.
Every run carries the tick in the `xxgk/nightly` tag; when all of a tick's runs have finished, the
sensor `xxgk_tables_after_sources` (assets.sensors) starts `xxgk_tables` (validate, the six tables,
the identity checks) once, over all sources — whatever the outcome of each source.

Why not one run or one backfill: a run has one partition key, and an asset backfill marks everything
downstream of a failed partition as failed, so one dead site would keep the tables from being rebuilt.
"""

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg

CRON_ENV = "XXGK_SCHEDULE_CRON"
DEFAULT_CRON = "0 2 * * *"
TIMEZONE = "Asia/Shanghai"
SCHEDULE_NAME = "xxgk_nightly"
#: On every run a tick starts: the tick's scheduled time (ISO 8601), and how many source runs it started.
NIGHTLY_TAG = "xxgk/nightly"
SOURCES_TAG = "xxgk/nightly_sources"


def schedule_cron() -> str:
    """The cron string from XXGK_SCHEDULE_CRON, else the default (02:00 every day)."""
    return os.environ.get(CRON_ENV, "").strip() or DEFAULT_CRON


def nightly_schedule(sources_job: Any, sources: Sequence[str]) -> dg.ScheduleDefinition:
    """The schedule over `sources_job`, one RunRequest per source partition."""
    cron = schedule_cron()
    keys = list(sources)

    def requests(context: dg.ScheduleEvaluationContext):
        when = context.scheduled_execution_time or datetime.now(UTC)
        tick = when.isoformat()
        tags = {NIGHTLY_TAG: tick, SOURCES_TAG: str(len(keys))}
        if not keys:
            yield dg.SkipReason("no sources configured")
        for key in keys:
            yield dg.RunRequest(run_key=key, partition_key=key, tags=tags)

    try:
        return dg.ScheduleDefinition(
            name=SCHEDULE_NAME,
            cron_schedule=cron,
            execution_timezone=TIMEZONE,
            job=sources_job,
            execution_fn=requests,
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description=f"Every source scraped and parsed (one run per source), then the tables "
            f"(sensor xxgk_tables_after_sources). Cron from {CRON_ENV} (default {DEFAULT_CRON!r}), "
            f"time zone {TIMEZONE}.",
        )
    except dg.DagsterInvalidDefinitionError as exc:
        raise ValueError(f"{CRON_ENV}={cron!r} is not a valid cron schedule: {exc}") from exc
