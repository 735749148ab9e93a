"""The Dagster definitions: scrape → parse (partitioned by source) → validate → the seven tables → the
summary page, checks,
the jobs, the nightly schedule and its sensor.

Loaded by `workspace.yaml` (`dagster dev -w workspace.yaml`, `dagster definitions validate`), lazily
(`defs` is a `@dg.definitions` function: importing this module reads no file). `python -m pipeline run`
builds the same graph for its own sources file (`assets.launch`).

Partitions: a `StaticPartitionsDefinition` of the source names, read from the sources file
(`XXGK_SOURCES`) when the definitions load. Chosen over dynamic partitions kept in sync by a sensor:
the partition set is always exactly the configured sources, with no instance state to keep in step, no
sensor to run first, and it works the same on an ephemeral instance (`python -m pipeline run`, tests,
`dagster asset materialize --partition NAME`). The price: after editing the sources file, reload the
code location (the UI's "Reload", or restart `dagster dev` / the code server) — the same as for any
code change. Partition by source, never by document (PITFALLS.md): tens of sources, not tens of
thousands of documents.

Executor: `XXGK_EXECUTOR` = `multiprocess` (default) or `celery` (steps on Celery workers, `deploy/`;
needs `pip install xxgk[cluster]`, a persistent instance with Postgres storage and a shared data dir
such as `s3://…`). With `multiprocess`, the sources job runs each step in its own process and the
tables job runs in the run's own process: its steps are short and run one after the other, and a process
per step cost most of its time (README, Performance). `python -m pipeline run` always runs in-process,
whatever this says.

Owners and tags of every asset come from the environment (`assets.ownership`).
"""

import os

import dagster as dg

from assets.checks import IDENTITY_CHECKS
from assets.ownership import with_ownership
from assets.parse import parse_asset, validate
from assets.resources import XxgkConfig
from assets.schedules import nightly_schedule
from assets.scrape import SCRAPE_RETRY, scrape_asset
from assets.sensors import tables_after_sources
from assets.summary import summary
from assets.tables import TABLE_ASSETS
from pipeline.config import Settings, load_settings

SOURCES_JOB = "xxgk_sources"
TABLES_JOB = "xxgk_tables"
EXECUTOR_ENV = "XXGK_EXECUTOR"
#: Celery broker and result backend of the `celery` executor (the same as deploy/celery.yaml).
CELERY_BROKER_ENV = "XXGK_CELERY_BROKER"
CELERY_BACKEND_ENV = "XXGK_CELERY_BACKEND"
STAGE_TAG = "xxgk/stage"  # sources | tables: for the run queue's tag concurrency limits (deploy/dagster.yaml)

PARTITIONED = ("scrape", "parse")
UNPARTITIONED = ("validate", *TABLE_ASSETS, "summary")
ALL_CHECKS: list[dg.AssetChecksDefinition] = list(IDENTITY_CHECKS)


def source_partitions(settings: Settings) -> dg.StaticPartitionsDefinition:
    """One partition per configured source, named after it."""
    return dg.StaticPartitionsDefinition([source.name for source in settings.sources])


def build_assets(
    partitions_def: dg.PartitionsDefinition, *, retry_policy: dg.RetryPolicy | None = SCRAPE_RETRY
) -> list[dg.AssetsDefinition]:
    """scrape and parse partitioned by source; validate and the tables over all sources."""
    return with_ownership(
        [
            scrape_asset(partitions_def, retry_policy),
            parse_asset(partitions_def),
            validate,
            *TABLE_ASSETS.values(),
            summary,
        ]
    )


def executor_name() -> str:
    """XXGK_EXECUTOR: multiprocess (default) or celery."""
    name = os.environ.get(EXECUTOR_ENV, "").strip().lower() or "multiprocess"
    if name not in ("multiprocess", "celery"):
        raise ValueError(f"{EXECUTOR_ENV}={name!r}: expected 'multiprocess' or 'celery'")
    return name


def executor_from_env() -> dg.ExecutorDefinition:
    """The executor named by XXGK_EXECUTOR: multiprocess (default) or celery."""
    name = executor_name()
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "celery":
        try:
            from dagster_celery import celery_executor
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                f"{EXECUTOR_ENV}=celery needs dagster-celery: pip install 'xxgk[cluster]'"
            ) from exc
        return celery_executor.configured(
            {"broker": {"env": CELERY_BROKER_ENV}, "backend": {"env": CELERY_BACKEND_ENV}},
            name="celery",
        )
    raise AssertionError(name)  # pragma: no cover - executor_name() allows only the two


def tables_executor_from_env() -> dg.ExecutorDefinition:
    """The tables job's executor: Celery when the operator chose it, else in-process (no process per step)."""
    return executor_from_env() if executor_name() == "celery" else dg.in_process_executor


def build_definitions(
    settings: Settings | None = None,
    *,
    executor: dg.ExecutorDefinition | None = None,
    retry_policy: dg.RetryPolicy | None = SCRAPE_RETRY,
) -> dg.Definitions:
    """The whole graph for `settings` (default: XXGK_SOURCES / XXGK_DATA_DIR, read now for the partitions
    and again by the resource at run time)."""
    resource = (
        XxgkConfig()
        if settings is None
        else XxgkConfig(sources_file=str(settings.sources_file), data_dir=str(settings.data_dir))
    )
    settings = settings or load_settings()
    partitions = source_partitions(settings)
    assets = build_assets(partitions, retry_policy=retry_policy)
    sources_job = dg.define_asset_job(
        SOURCES_JOB,
        selection=dg.AssetSelection.assets(*PARTITIONED),
        tags={STAGE_TAG: "sources"},
        description="Scrape and parse one source (partition). The nightly schedule starts one run per source.",
    )
    tables_job = dg.define_asset_job(
        TABLES_JOB,
        selection=dg.AssetSelection.assets(*UNPARTITIONED),
        tags={STAGE_TAG: "tables"},
        description="Validate every source's parsed reports, rewrite the seven tables and the summary page; "
        "identity checks. Runs in-process unless XXGK_EXECUTOR=celery.",
        executor_def=executor or tables_executor_from_env(),
    )
    return dg.Definitions(
        assets=assets,
        asset_checks=ALL_CHECKS,
        jobs=[sources_job, tables_job],
        schedules=[nightly_schedule(sources_job, partitions.get_partition_keys())],
        sensors=[tables_after_sources(SOURCES_JOB, tables_job)],
        resources={"xxgk": resource},
        executor=executor or executor_from_env(),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What `workspace.yaml` loads: the graph on XXGK_SOURCES / XXGK_DATA_DIR, executor from XXGK_EXECUTOR."""
    return build_definitions()
