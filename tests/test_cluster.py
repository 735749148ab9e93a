"""The scale-out for real (deploy.demo, `make cluster-demo`): PostgreSQL, Redis, an S3 server,
dagster-daemon, dagster-webserver and two dagster-celery workers started on this machine on the shipped
deploy/ configuration; the nightly schedule's tick, the source runs on the workers, one worker killed
mid-step, the sensor's tables run and a second one held back by the run queue — then everything
stopped. One run of all that (about 3 minutes) serves every test here.

Marked `cluster`: `pytest -m cluster` runs it alone, `-m "not cluster"` leaves it out. Skips, with the
reason, where PostgreSQL or redis-server is not installed.
"""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from assets.definitions import SOURCES_JOB, TABLES_JOB
from deploy.cluster import DEPLOY, Unavailable, check_tools
from deploy.demo import DEMO_TRANSPORT, SOURCES, WORKERS, observe
from deploy.observed import Observed, comparable, verify
from pipeline.tables import TABLE_NAMES

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def observed() -> Iterator[Observed]:
    try:
        check_tools()
    except Unavailable as exc:
        pytest.skip(str(exc))
    # Not pytest's tmp_path: its folders are private to this user, and PostgreSQL runs as another.
    workdir = Path(tempfile.mkdtemp(prefix="xxgk-cluster-"))
    try:
        yield observe(workdir, log=lambda message: print(message, flush=True))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def checks(observed):
    return verify(observed)


def test_the_shipped_configuration_was_the_instance(observed):
    assert observed.instance_yaml == (DEPLOY / "dagster.yaml").read_text(encoding="utf-8")
    assert observed.storage == {
        "runs": "PostgresRunStorage",
        "events": "PostgresEventLogStorage",
        "schedules": "PostgresScheduleStorage",
        "run coordinator": "QueuedRunCoordinator",
    }
    assert set(DEMO_TRANSPORT) == {"visibility_timeout", "unacked_restore_interval"}  # all the demo changes


def test_the_daemon_ran_the_night_and_every_run_succeeded_in_postgres(observed, checks):
    assert checks["daemon"].passed, checks["daemon"].detail
    assert checks["runs"].passed, checks["runs"].detail
    sources_runs = observed.runs_of(SOURCES_JOB)
    assert sorted({r.partition for r in sources_runs}) == sorted(SOURCES)
    ticks = {r.tags.get("xxgk/nightly") for r in sources_runs}
    assert len(ticks) == 1 and None not in ticks  # one tick of the schedule started them all
    assert all(r.tags.get("dagster/schedule_name") == "xxgk_nightly" for r in sources_runs)
    by_sensor = [r for r in observed.runs_of(TABLES_JOB) if r.tags.get("dagster/sensor_name")]
    assert len(by_sensor) == 1 and by_sensor[0].tags["xxgk/nightly"] in ticks
    assert by_sensor[0].tags["xxgk/failed_sources"] == "none"


def test_every_step_ran_on_the_celery_workers(observed, checks):
    assert checks["workers"].passed, checks["workers"].detail
    steps = {(run, step) for run, step, _pid in observed.step_starts}
    for run in observed.runs_of(SOURCES_JOB):
        assert {(run.run_id, "scrape"), (run.run_id, "parse")} <= steps
    assert {e.worker.split("@")[0] for e in observed.executions} == set(WORKERS)
    assert not {pid for _run, _step, pid in observed.step_starts} & observed.daemon_pids


def test_a_worker_killed_mid_step_costs_nothing(observed, checks):
    assert observed.killed["step"] == "scrape" and observed.killed["worker"] in WORKERS
    assert checks["fault"].passed, checks["fault"].detail
    assert checks["warehouse"].passed, checks["warehouse"].detail


def test_the_run_queue_limits_held(checks):
    assert checks["queue"].passed, checks["queue"].detail
    assert checks["parallel"].passed, checks["parallel"].detail


def test_the_tables_on_s3_equal_an_in_process_run(observed, checks):
    assert checks["tables"].passed, checks["tables"].detail
    assert sorted(observed.tables) == sorted(TABLE_NAMES)
    reports = observed.tables["reports"]
    assert set(reports["source"]) == set(SOURCES) and len(reports) > 0
    for name in TABLE_NAMES:  # the same, once more, without the checks' wrapping
        expected = comparable(name, observed.reference[name])
        assert comparable(name, observed.tables[name]).equals(expected), name


def test_everything_started_was_stopped(observed, checks):
    assert checks["stopped"].passed, checks["stopped"].detail
    assert observed.seconds["total"] < 600
