"""Operations: partitions by source, retries, the nightly schedule and its sensor, parallel source runs,
the cluster configuration (deploy/), a run killed while writing, the README's Operations section."""

import importlib
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import httpx
import pandas as pd
import pytest
import yaml

import pipeline.scrape
from assets.definitions import SOURCES_JOB, TABLES_JOB, build_definitions
from assets.launch import launch
from assets.schedules import CRON_ENV, DEFAULT_CRON, NIGHTLY_TAG, SCHEDULE_NAME, TIMEZONE
from assets.scrape import SCRAPE_RETRY, SOURCE_FAILED
from assets.sensors import INTERVAL_ENV, PARENT_RUN_TAG, SENSOR_NAME, WILL_RETRY_TAG
from pipeline.config import load_settings
from pipeline.scrape import scrape_source
from pipeline.tables import TABLE_NAMES
from tests.conftest import SEED_NAME

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["jugezhuang", "pingtan_local", "broken_identity", "missing"]


def _defs(sources: Path, data: Path, **kwargs) -> dg.Definitions:
    return build_definitions(load_settings(sources, data), executor=dg.in_process_executor, **kwargs)


# ------------------------------------------------------------------------------------------- partitions


def test_fetch_and_parse_are_partitioned_by_source_the_rest_reads_every_partition(corpus, tmp_path):
    defs = _defs(corpus, tmp_path / "data")
    graph = defs.resolve_asset_graph()
    for key in ("scrape", "parse"):
        assert graph.get(dg.AssetKey(key)).partitions_def.get_partition_keys() == SOURCES
    for key in ("validate", *TABLE_NAMES):
        assert graph.get(dg.AssetKey(key)).partitions_def is None
    validate = defs.resolve_assets_def("validate")
    mapping = validate.get_partition_mapping_for_dep(dg.AssetKey("parse"))
    assert isinstance(mapping, dg.AllPartitionMapping)
    assert defs.resolve_job_def(SOURCES_JOB).partitions_def.get_partition_keys() == SOURCES
    assert defs.resolve_job_def(TABLES_JOB).partitions_def is None


def test_source_runs_in_parallel_processes_share_the_data_dir_safely(corpus, tmp_path):
    """Two source partitions materialized at the same moment, one in another process, then the tables."""
    data, ready, go = tmp_path / "data", tmp_path / "ready", tmp_path / "go"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "import dagster as dg\n"
        "from assets.definitions import build_definitions\n"
        "from pipeline.config import load_settings\n"
        "job = build_definitions(load_settings(sys.argv[1], sys.argv[2])).resolve_job_def('xxgk_sources')\n"
        "Path(sys.argv[3]).touch()\n"
        "while not Path(sys.argv[4]).exists():\n"
        "    time.sleep(0.005)\n"
        "result = job.execute_in_process(partition_key='pingtan_local', instance=dg.DagsterInstance.ephemeral())\n"
        "print('OK' if result.success else 'FAILED')\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", script, str(corpus), str(data), str(ready), str(go)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    defs = _defs(corpus, data)
    job = defs.resolve_job_def(SOURCES_JOB)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert other.poll() is None and time.monotonic() < deadline, other.communicate()
        time.sleep(0.005)
    go.touch()
    assert job.execute_in_process(partition_key="jugezhuang", instance=dg.DagsterInstance.ephemeral()).success
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0 and out.strip().endswith("OK"), out + err
    for name in ("jugezhuang", "pingtan_local"):
        assert (data / "raw" / "manifests" / f"{name}.json").exists()
        assert (data / "cache" / "stages" / "parse" / f"{name}.json").exists()
    assert (
        defs.resolve_job_def(TABLES_JOB).execute_in_process(instance=dg.DagsterInstance.ephemeral()).success
    )
    reports = pd.read_parquet(data / "warehouse" / "reports.parquet")
    assert reports.groupby("source").size().to_dict() == {"jugezhuang": 2, "pingtan_local": 4}


# ------------------------------------------------------------------------------------------- retries


def test_the_network_step_retries_with_exponential_backoff_and_jitter(corpus, tmp_path):
    assert SCRAPE_RETRY.max_retries >= 1 and SCRAPE_RETRY.delay
    assert SCRAPE_RETRY.backoff == dg.Backoff.EXPONENTIAL and SCRAPE_RETRY.jitter == dg.Jitter.PLUS_MINUS
    scrape = _defs(corpus, tmp_path / "data").resolve_assets_def("scrape")
    assert scrape.op.retry_policy == SCRAPE_RETRY


def _web_sources(tmp_path: Path) -> Path:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - {name: site, start_urls: ['https://www.example.gov.cn/zfxxgk/nb/'], delay_seconds: 0}\n"
        "  - {name: gone, path: nowhere}\n",
        encoding="utf-8",
    )
    return sources


def test_a_website_that_fails_is_retried_and_a_missing_folder_is_not(tmp_path, monkeypatch):
    calls: list[str] = []

    def flaky_crawl(source, store, manifest, *, log=None):  # no network: the crawler is replaced
        calls.append(source.name)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused")
        return {"discovered": 0, "fetched": 0, "not_modified": 0, "failed": 0, "listings": 1}

    monkeypatch.setattr(pipeline.scrape, "crawl", flaky_crawl)
    quick = dg.RetryPolicy(
        max_retries=2, delay=0.05, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    )
    job = _defs(_web_sources(tmp_path), tmp_path / "data", retry_policy=quick).resolve_job_def(SOURCES_JOB)

    site = job.execute_in_process(partition_key="site", instance=dg.DagsterInstance.ephemeral())
    assert site.success and calls == ["site", "site"]
    retried = [e for e in site.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert [e.step_key for e in retried] == ["scrape"]

    gone = job.execute_in_process(
        partition_key="gone", instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert not gone.success
    assert not [e for e in gone.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    (failure,) = gone.get_step_failure_events()
    metadata = failure.event_specific_data.user_failure_data.metadata
    assert metadata[SOURCE_FAILED].value is True and "does not exist" in metadata["error"].value


def test_a_website_whose_listing_pages_all_fail_is_a_failed_source(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {name: site, start_urls: [mirror/none/index.html], delay_seconds: 0}\n",
        encoding="utf-8",
    )
    settings = load_settings(sources, tmp_path / "data")
    result = scrape_source(settings.sources[0], settings)
    assert not result.ok and "listing pages" in result.error
    assert result.counts["listings_failed"] == 1


# ------------------------------------------------------------------------------------------- schedule


def test_the_nightly_schedule_cron_comes_from_the_environment(corpus, tmp_path, monkeypatch):
    monkeypatch.delenv(CRON_ENV, raising=False)
    schedule = _defs(corpus, tmp_path).resolve_schedule_def(SCHEDULE_NAME)
    assert (schedule.cron_schedule, schedule.execution_timezone) == (DEFAULT_CRON, TIMEZONE)
    assert TIMEZONE == "Asia/Shanghai"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING

    monkeypatch.setenv(CRON_ENV, "30 3 * * 1-5")
    assert _defs(corpus, tmp_path).resolve_schedule_def(SCHEDULE_NAME).cron_schedule == "30 3 * * 1-5"

    monkeypatch.setenv(CRON_ENV, "every night")
    with pytest.raises(ValueError, match=CRON_ENV):
        _defs(corpus, tmp_path)


def test_the_sensor_interval_comes_from_the_environment(corpus, tmp_path, monkeypatch):
    monkeypatch.delenv(INTERVAL_ENV, raising=False)
    assert _defs(corpus, tmp_path).resolve_sensor_def(SENSOR_NAME).minimum_interval_seconds == 60
    monkeypatch.setenv(INTERVAL_ENV, "5")
    assert _defs(corpus, tmp_path).resolve_sensor_def(SENSOR_NAME).minimum_interval_seconds == 5
    for wrong in ("0", "soon", "-5"):
        monkeypatch.setenv(INTERVAL_ENV, wrong)
        with pytest.raises(ValueError, match=INTERVAL_ENV):
            _defs(corpus, tmp_path)


def _evaluate(sensor: dg.SensorDefinition, instance, defs, cursor=None):
    return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))


def test_a_nightly_tick_runs_every_source_then_the_tables_once(corpus, tmp_path):
    """Schedule → one run per source (one of them fails) → the sensor starts the tables, once."""
    defs = _defs(corpus, tmp_path / "data")
    instance = dg.DagsterInstance.ephemeral()
    schedule, sensor = defs.resolve_schedule_def(SCHEDULE_NAME), defs.resolve_sensor_def(SENSOR_NAME)
    tick = datetime(2026, 3, 1, 2, 0, tzinfo=ZoneInfo(TIMEZONE))
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=tick, repository_def=defs.get_repository_def()
    )
    requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == SOURCES
    assert {r.tags[NIGHTLY_TAG] for r in requests} == {tick.isoformat()}
    assert schedule.job_name == SOURCES_JOB

    assert "no nightly" in _evaluate(sensor, instance, defs).skip_message
    job = defs.resolve_job_def(SOURCES_JOB)
    for request in requests[:-1]:
        job.execute_in_process(partition_key=request.partition_key, tags=request.tags, instance=instance)
    waiting = _evaluate(sensor, instance, defs)
    assert not waiting.run_requests and "3 of 4" in waiting.skip_message

    last = requests[-1]  # `missing`: its scrape fails, its run fails
    assert not job.execute_in_process(
        partition_key=last.partition_key, tags=last.tags, instance=instance, raise_on_error=False
    ).success
    ready = _evaluate(sensor, instance, defs)
    (request,) = ready.run_requests
    assert (
        request.run_key == f"tables-{tick.isoformat()}" and request.tags["xxgk/failed_sources"] == "missing"
    )
    assert not _evaluate(sensor, instance, defs, cursor=ready.cursor).run_requests  # once per tick

    tables = defs.resolve_job_def(TABLES_JOB).execute_in_process(instance=instance, tags=request.tags)
    assert tables.success
    assert {e.check_name for e in tables.get_asset_check_evaluations()} == {
        "identity_t3_a", "identity_t3_b", "identity_t3_c", "identity_t4"
    }  # fmt: skip
    assert len(pd.read_parquet(tmp_path / "data" / "warehouse" / "reports.parquet")) == 7


def test_the_sensor_waits_for_the_retry_of_a_failed_source_run(corpus, tmp_path):
    """With run retries on (deploy/dagster.yaml) a failed run is tagged dagster/will_retry and started
    again moments later: the tables wait for that retry, not for the failure."""
    defs = _defs(corpus, tmp_path / "data")
    instance = dg.DagsterInstance.ephemeral()
    schedule, sensor = defs.resolve_schedule_def(SCHEDULE_NAME), defs.resolve_sensor_def(SENSOR_NAME)
    tick = datetime(2026, 3, 2, 2, 0, tzinfo=ZoneInfo(TIMEZONE))
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=tick, repository_def=defs.get_repository_def()
    )
    job = defs.resolve_job_def(SOURCES_JOB)
    runs = {
        r.partition_key: job.execute_in_process(
            partition_key=r.partition_key, tags=r.tags, instance=instance, raise_on_error=False
        )
        for r in schedule.evaluate_tick(context).run_requests
    }
    failed = runs["missing"]
    assert not failed.success
    instance.add_run_tags(failed.run_id, {WILL_RETRY_TAG: "true"})  # as the instance tags it
    waiting = _evaluate(sensor, instance, defs)
    assert not waiting.run_requests and "1 failed source run(s) about to be retried" in waiting.skip_message

    retry_tags = {**failed.dagster_run.tags, PARENT_RUN_TAG: failed.run_id}
    job.execute_in_process(partition_key="missing", tags=retry_tags, instance=instance, raise_on_error=False)
    (request,) = _evaluate(sensor, instance, defs).run_requests
    assert request.tags["xxgk/failed_sources"] == "missing"  # the retry failed too


# ------------------------------------------------------------------------------------------- cluster

PG_ENV = {
    "DAGSTER_PG_HOST": "db.internal",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "secret",
    "DAGSTER_PG_DB": "dagster",
}
CELERY_ENV = {"XXGK_CELERY_BROKER": "redis://broker:6379/0", "XXGK_CELERY_BACKEND": "redis://broker:6379/1"}


def _configured(data) -> dict:
    """A configurable class's config (dagster.yaml section), checked against the class's own schema."""
    from dagster._config import process_config

    klass = getattr(importlib.import_module(data.module_name), data.class_name)
    result = process_config(klass.config_type(), yaml.safe_load(data.config_yaml) or {})
    assert result.success, result.errors
    return result.value


def test_deploy_dagster_yaml_is_a_valid_instance_with_postgres_storage(monkeypatch):
    """Parsed and checked by Dagster's own instance schema and each class's config schema; no database."""
    from dagster._core.instance.config import dagster_instance_config
    from dagster._core.instance.ref import InstanceRef

    for key, value in PG_ENV.items():
        monkeypatch.setenv(key, value)
    dagster_instance_config(str(ROOT / "deploy"))  # raises on an unknown or mistyped key
    ref = InstanceRef.from_dir(str(ROOT / "deploy"))
    assert (ref.storage_data.module_name, ref.storage_data.class_name) == (
        "dagster_postgres",
        "DagsterPostgresStorage",
    )
    storage = _configured(ref.storage_data)["postgres_db"]
    assert (storage["hostname"], storage["port"], storage["db_name"]) == ("db.internal", 5432, "dagster")
    for data in (ref.run_storage_data, ref.event_storage_data, ref.schedule_storage_data):
        assert data.module_name == "dagster_postgres"
        _configured(data)
    queue = _configured(ref.run_coordinator_data)
    assert ref.run_coordinator_data.class_name == "QueuedRunCoordinator"
    assert {"key": "xxgk/stage", "value": "tables", "limit": 1} in queue["tag_concurrency_limits"]

    monkeypatch.delenv("DAGSTER_PG_PASSWORD")
    from dagster._config import process_config

    klass = importlib.import_module("dagster_postgres").DagsterPostgresStorage
    assert not process_config(klass.config_type(), yaml.safe_load(ref.storage_data.config_yaml)).success


def test_the_celery_executor_is_selected_by_the_environment_and_its_config_resolves(
    corpus, tmp_path, monkeypatch
):
    for key, value in CELERY_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XXGK_EXECUTOR", "celery")
    defs = build_definitions(load_settings(corpus, tmp_path / "data"))
    for name in (SOURCES_JOB, TABLES_JOB):
        job = defs.resolve_job_def(name)
        assert job.executor_def.name == "celery"
        execution = dg.validate_run_config(job, {})["execution"]["celery"]  # no broker contacted
        assert (execution["broker"], execution["backend"]) == tuple(CELERY_ENV.values())

    # What `dagster-celery worker start -y deploy/celery.yaml` does before starting Celery: validate the
    # file, resolve the environment, write the worker's Celery settings module under DAGSTER_HOME.
    from dagster_celery.cli import get_config_dir

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    settings = Path(get_config_dir(str(ROOT / "deploy" / "celery.yaml"))) / "dagster_celery_config.py"
    text = settings.read_text(encoding="utf-8")
    assert f"broker_url = '{CELERY_ENV['XXGK_CELERY_BROKER']}'" in text
    assert f"result_backend = '{CELERY_ENV['XXGK_CELERY_BACKEND']}'" in text

    monkeypatch.setenv("XXGK_EXECUTOR", "spark")
    with pytest.raises(ValueError, match="XXGK_EXECUTOR"):
        build_definitions(load_settings(corpus, tmp_path / "data"))


def test_dagster_definitions_validate_with_the_celery_executor(tmp_path):
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path), "XXGK_EXECUTOR": "celery", **CELERY_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful" in done.stderr + done.stdout


# ------------------------------------------------------------------------------------------- crash safety

KILLED_WRITER = """
import sys, time
from pathlib import Path
import pyarrow.parquet as pq

def write_half_then_hang(table, where, *args, **kwargs):
    with open(where, "wb") as fh:  # `where`: what the pipeline told the Parquet writer to write to
        fh.write(b"PAR1 half a table")
    Path(sys.argv[1]).touch()
    time.sleep(600)

pq.write_table = write_half_then_hang
from pipeline.__main__ import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_run_killed_while_writing_leaves_the_previous_tables_readable(corpus, tmp_path):
    data = tmp_path / "data"
    assert launch(load_settings(corpus, data)).success
    warehouse = data / "warehouse"
    before = {name: pd.read_parquet(warehouse / f"{name}.parquet") for name in TABLE_NAMES}
    # New input (a second copy of the seed), so that the killed run would have written other tables.
    docs = corpus.parent / "docs" / "jugezhuang"
    (docs / "copy.txt").write_bytes((docs / SEED_NAME).read_bytes())
    marker = tmp_path / "writing"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_WRITER,
            str(marker),
            "run",
            "--sources",
            str(corpus),
            "--data-dir",
            str(data),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the run never reached a table write"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    assert sorted(p.name for p in warehouse.glob("*.parquet")) == sorted(f"{n}.parquet" for n in TABLE_NAMES)
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(pd.read_parquet(warehouse / f"{name}.parquet"), before[name], obj=name)
    leftovers = [p.name for p in warehouse.iterdir() if not p.name.endswith(".parquet")]
    assert leftovers and all(
        n.startswith(".") and n.endswith(".tmp") for n in leftovers
    )  # hidden, not tables


# ------------------------------------------------------------------------------------------- README


def test_readme_operations_section_covers_schedule_monitor_partitions_and_scale():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Operations" in readme
    section = readme.split("## Operations", 1)[1].split("\n## ", 1)[0]
    for needle in (
        CRON_ENV, "dagster-daemon", "Asia/Shanghai", SCHEDULE_NAME, SENSOR_NAME, SOURCES_JOB, TABLES_JOB,
        "--partition", "backfill", "XXGK_EXECUTOR", "XXGK_CELERY_BROKER", "DAGSTER_PG_HOST",
        "deploy/dagster.yaml", "deploy/celery.yaml", "s3://", "FSSPEC_S3_ENDPOINT_URL", "xxgk[cluster]",
    ):  # fmt: skip
        assert needle in section, needle
    for path in ("deploy/dagster.yaml", "deploy/celery.yaml"):
        assert (ROOT / path).exists()
