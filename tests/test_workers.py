"""The parse worker pool (pipeline.workers) and the parse stage on it: a slow document, a memory-hungry one
and a worker that dies each fail alone with a clear reason; results with workers equal results in-process.

Slow and memory-hungry documents are stood for by the pool's test-only hook (XXGK_PARSE_TEST_HOOKS=1:
a worker sleeps, or allocates until its cap, when the bytes carry a marker); one real document, a large
HTML table, also goes over a small memory cap."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.scrape import scrape_all
from pipeline.stages import parse_source
from pipeline.workers import TEST_HOOKS_ENV, Job, Limits, parse_job, parse_jobs
from tests.conftest import PINGTAN, SEED, SEED_NAME, make_corpus

ROOT = Path(__file__).resolve().parents[1]
GENERATED = sorted((ROOT / "data" / "sample" / "generated").glob("*.docx"))


def _jobs() -> list[Job]:
    jobs = [Job("seed", SEED.read_bytes(), "txt")]
    jobs += [Job(p.name, p.read_bytes(), "html") for p in PINGTAN]
    jobs += [Job(p.name, p.read_bytes(), "docx") for p in GENERATED[:2]]
    jobs.append(Job("broken.docx", b"PK\x03\x04 not really a zip", "docx"))
    return jobs


@pytest.fixture
def hooks(monkeypatch):
    monkeypatch.setenv(TEST_HOOKS_ENV, "1")  # read by the workers only (they inherit the environment)


def _by_key(outcomes) -> dict:
    return {o.key: o for o in outcomes}


def test_limits_come_from_the_environment():
    assert Limits.from_env({}) == Limits(workers=os.cpu_count() or 1, timeout=60.0, memory_mb=1500)
    env = {"XXGK_PARSE_WORKERS": "3", "XXGK_PARSE_TIMEOUT": "2.5", "XXGK_PARSE_MEMORY_MB": "0"}
    assert Limits.from_env(env) == Limits(workers=3, timeout=2.5, memory_mb=0)
    assert Limits.from_env({"XXGK_PARSE_WORKERS": "0"}).workers == 1
    with pytest.raises(ValueError, match="XXGK_PARSE_TIMEOUT"):
        Limits.from_env({"XXGK_PARSE_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="negative"):
        Limits.from_env({"XXGK_PARSE_MEMORY_MB": "-1"})


def test_results_with_workers_equal_results_in_process():
    jobs = _jobs()
    alone = _by_key(parse_jobs(jobs, Limits(workers=1)))
    pooled = _by_key(parse_jobs(jobs, Limits(workers=2, timeout=60, memory_mb=1500)))
    assert set(pooled) == set(alone) == {j.key for j in jobs}
    for key, outcome in alone.items():
        assert (pooled[key].ok, pooled[key].error, pooled[key].cacheable) == (
            outcome.ok,
            outcome.error,
            outcome.cacheable,
        ), key
        assert pooled[key].encoded == outcome.encoded, key  # byte for byte: the same cache entries
    assert not alone["broken.docx"].ok and alone["broken.docx"].cacheable
    assert all(alone[j.key].ok for j in jobs if j.key != "broken.docx")


def test_a_slow_document_fails_alone_and_its_worker_is_replaced(hooks):
    jobs = _jobs()
    slow = Job("slow", SEED.read_bytes() + b"\nxxgk-test:sleep\n", "txt")
    start = time.monotonic()
    got = _by_key(parse_jobs([jobs[0], slow, *jobs[1:]], Limits(workers=2, timeout=1.5, memory_mb=1500)))
    assert time.monotonic() - start < 30  # the hook sleeps for an hour
    assert (got["slow"].ok, got["slow"].error, got["slow"].cacheable) == (
        False,
        "parse exceeded 1.5 s",
        False,
    )
    for job in jobs:  # every other document parsed, as in-process
        assert got[job.key].encoded == parse_job(job).encoded, job.key


def test_a_memory_hungry_document_fails_alone(hooks):
    jobs = _jobs()[:3]
    hungry = Job("hungry", SEED.read_bytes() + b"\nxxgk-test:allocate\n", "txt")
    got = _by_key(parse_jobs([hungry, *jobs], Limits(workers=2, timeout=60, memory_mb=400)))
    assert (got["hungry"].ok, got["hungry"].error, got["hungry"].cacheable) == (
        False,
        "parse exceeded memory limit (400 MB)",
        False,
    )
    for job in jobs:
        assert got[job.key].ok and got[job.key].encoded == parse_job(job).encoded, job.key


def test_a_real_document_over_the_memory_cap_fails_with_the_reason():
    """A 2 MB HTML table of 120,000 cells (within the reader's limits) needs more than 100 MB to read."""
    rows = "".join(f"<tr><td>行{i}</td><td>{i}</td><td>{i}</td><td>{i}</td></tr>" for i in range(30_000))
    big = "<html><head><meta charset='utf-8'><title>某局2021年政府信息公开工作年度报告</title></head>"
    big += f"<body><table>{rows}</table></body></html>"
    jobs = [Job("big", big.encode("utf-8"), "html"), Job("seed", SEED.read_bytes(), "txt")]
    got = _by_key(parse_jobs(jobs, Limits(workers=2, timeout=60, memory_mb=100)))
    assert (got["big"].ok, got["big"].error, got["big"].cacheable) == (
        False,
        "parse exceeded memory limit (100 MB)",
        False,
    )
    assert got["seed"].ok


def _workers_of_this_process() -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"pipeline.workers import _serve" in cmdline:
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker through /proc")
def test_a_worker_that_dies_fails_only_its_document(hooks):
    def kill_the_worker():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pids = _workers_of_this_process()
            if pids:
                time.sleep(0.5)  # let it take the job
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_worker)
    killer.start()
    stuck = Job("stuck", b"xxgk-test:sleep", "txt")
    got = list(parse_jobs([stuck], Limits(workers=2, timeout=60, memory_mb=1500)))
    killer.join()
    assert [(o.key, o.ok, o.error, o.cacheable) for o in got] == [
        ("stuck", False, "parse worker died on SIGKILL (killed: out of memory?)", False)
    ]


# ---------------------------------------------------------------------------------------------- the stage


def _corpus_settings(root: Path):
    settings = load_settings(make_corpus(root), root / "data")
    scrape_all(settings)
    return settings


def _stage(settings, limits: Limits):
    out = {}
    for source in settings.sources[:3]:
        records, stats = parse_source(settings, source, limits=limits)
        out[source.name] = (
            [(r.doc.report_id, r.error, r.cache_file, r.cache_digest) for r in records],
            stats,
        )
    return out


def test_the_parse_stage_gives_the_same_records_and_cache_with_workers_or_without(tmp_path):
    alone, pooled = _corpus_settings(tmp_path / "a"), _corpus_settings(tmp_path / "b")
    one = _stage(alone, Limits(workers=1))
    two = _stage(pooled, Limits(workers=2))
    assert one == two
    cache = {
        p.relative_to(tmp_path / "a" / "data"): p.read_bytes()
        for p in (tmp_path / "a" / "data").glob("cache/parsed/**/*.json")
    }
    assert len(cache) == 7
    for rel, data in cache.items():
        assert (tmp_path / "b" / "data" / rel).read_bytes() == data


def test_a_slow_document_is_a_failed_record_and_is_tried_again_next_run(tmp_path, hooks):
    settings = _corpus_settings(tmp_path)
    folder = tmp_path / "docs" / "jugezhuang"
    (folder / "slow.txt").write_bytes(SEED.read_bytes() + b"\nxxgk-test:sleep\n")
    scrape_all(settings)
    source = settings.source("jugezhuang")
    limits = Limits(workers=2, timeout=1, memory_mb=1500)
    records, stats = parse_source(settings, source, limits=limits)
    by_name = {r.doc.locator: r for r in records}
    assert (by_name["slow.txt"].error, by_name["slow.txt"].cache_file) == ("parse exceeded 1 s", None)
    assert by_name[SEED_NAME].ok
    assert (stats.documents, stats.parsed, stats.failed) == (3, 3, 2)  # slow.txt and the broken x.docx
    _records, again = parse_source(settings, source, limits=limits)
    assert (again.parsed, again.cache_hits, again.failed) == (1, 2, 2)  # only the slow one is parsed again
