"""What an engineer sees in Dagster and an analyst gets, after one `python -m pipeline run` as `make run`
does it in a fresh clone (no DAGSTER_HOME, the default sources and data dir): the persistent instance,
the failed-document checks and warnings, the narrative cross-check in validation_issues, the indicators
table, the summary page (rendered by headless Chromium), and what the metadata keys mean."""

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from assets.definitions import SOURCES_JOB, TABLES_JOB, build_definitions
from assets.document_checks import FETCH_FAILURES, PARSE_FAILURES
from assets.metadata_keys import described, metadata_table
from assets.ownership import LAYER_TAG, OWNERS_ENV, TAGS_ENV
from pipeline.config import load_settings
from pipeline.tables import TABLE_NAMES

ROOT = Path(__file__).resolve().parents[1]
PINGTAN_2025 = ROOT / "tests" / "fixtures" / "corpus" / "t20260313_105587.htm"
STATED = '共收到政府信息公开申请</span><span style="text-indent: 2em;">154</span>'  # as the page prints it
EXTRA_SOURCES = """\
  # Every link of this listing is dead: every fetch fails, so does every parse.
  - name: dead_links
    region: 测试市
    start_urls: [mirror/dead_links/index.html]
    delay_seconds: 0
  # The 2025 Pingtan page with the applications received misstated in its text (17 for 154).
  - name: planted
    region: 测试区
    path: planted
"""
# The definitions, written out here (not taken from pipeline.tables) so the test checks them.
DENIED = (
    "denied_state_secret", "denied_prohibited_by_law", "denied_security_stability", "denied_third_party_rights",
    "denied_internal_affairs", "denied_process_information", "denied_enforcement_file",
    "denied_administrative_query",
)  # fmt: skip
UNAVAILABLE = ("unavailable_not_held", "unavailable_needs_creation", "unavailable_unclear")
NOT_PROCESSED = (
    "not_processed_petition", "not_processed_duplicate", "not_processed_publication",
    "not_processed_excessive", "not_processed_confirmation",
)  # fmt: skip
OTHER_PARTS = ("other_handling_no_correction", "other_handling_unpaid_fee", "other_handling_other")
ALL_ASSETS = ("scrape", "parse", "validate", *TABLE_NAMES, "summary")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled data/ (plus two sources) in a fresh folder; `python -m pipeline run` there."""
    work = tmp_path_factory.mktemp("clone")
    data = work / "data"
    data.mkdir()
    for name in ("sources.yaml", "sample", "mirror"):
        src = ROOT / "data" / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, data / name)
    (data / "mirror" / "dead_links").mkdir()
    shutil.copy(ROOT / "data" / "mirror" / "pingtan" / "index.html", data / "mirror" / "dead_links")
    (data / "planted").mkdir()
    page = PINGTAN_2025.read_text(encoding="utf-8")
    assert page.count(STATED) == 1
    (data / "planted" / "pingtan_2025.htm").write_text(
        page.replace(STATED, STATED.replace("154", "17")), encoding="utf-8"
    )
    with (data / "sources.yaml").open("a", encoding="utf-8") as fh:
        fh.write(EXTRA_SOURCES)
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "XXGK_SOURCES", "XXGK_DATA_DIR")}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "run"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (work / "stdout.txt").write_text(done.stdout, encoding="utf-8")
    return work


def _instance(run: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(run / "data" / "dagster_home"))


def _sources(run: Path) -> list[str]:
    return [s.name for s in load_settings(run / "data" / "sources.yaml", run / "data").sources]


# ------------------------------------------------------------------------------------------ one instance


def test_the_run_is_recorded_in_the_instance_make_dev_shows(run):
    with _instance(run) as instance:
        for name in ALL_ASSETS:
            assert instance.get_latest_materialization_event(dg.AssetKey(name)) is not None, name
        for name in ("scrape", "parse"):
            assert instance.get_materialized_partitions(dg.AssetKey(name)) == set(_sources(run))
        runs = instance.get_runs()
        assert len(runs) == len(_sources(run)) + 1
        assert {r.tags["xxgk/launched_by"] for r in runs} == {"python -m pipeline run"}
    assert f"recorded in {run / 'data' / 'dagster_home'}" in (run / "stdout.txt").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------ failures visible


def _check_results(instance: dg.DagsterInstance, asset: str, check: str) -> dict[str, dict]:
    """The latest evaluation of a partitioned check, per partition: passed, severity, plain metadata."""
    out = {}
    for record in instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(asset), check), limit=100
    ):
        evaluation = record.event.dagster_event.event_specific_data
        if record.partition not in out:  # newest first
            meta = {k: getattr(v, "value", getattr(v, "md_str", v)) for k, v in evaluation.metadata.items()}
            out[record.partition] = {"passed": evaluation.passed, "severity": evaluation.severity, **meta}
    return out


def test_failed_documents_warn_per_source_and_an_all_failed_source_is_an_error(run):
    with _instance(run) as instance:
        fetch = _check_results(instance, "scrape", FETCH_FAILURES)
        parse = _check_results(instance, "parse", PARSE_FAILURES)
        assert set(fetch) == set(parse) == set(_sources(run))
        for source in ("jugezhuang", "generated", "planted"):
            assert fetch[source]["passed"] and parse[source]["passed"]
        pingtan = fetch["pingtan"]
        assert not pingtan["passed"] and pingtan["severity"] == dg.AssetCheckSeverity.WARN
        assert (pingtan["documents"], pingtan["failed"], pingtan["all_failed"]) == (10, 6, False)
        assert "202103/t20210305_80595.htm" in pingtan["failures"] and "file not found" in pingtan["failures"]
        assert {"document": "202103/t20210305_80595.htm", "reason": "file not found"} in pingtan[
            "failed_documents"
        ]
        assert not parse["pingtan"]["passed"] and parse["pingtan"]["severity"] == dg.AssetCheckSeverity.WARN
        for results in (fetch, parse):
            dead = results["dead_links"]
            assert not dead["passed"] and dead["severity"] == dg.AssetCheckSeverity.ERROR
            assert dead["all_failed"] and dead["failed"] == dead["documents"] == 10

        # one WARNING line per failed document, in the run of that source
        (pingtan_run,) = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": "pingtan"}))
        warnings = [
            e.user_message for e in instance.all_logs(pingtan_run.run_id) if e.level == logging.WARNING
        ]
        fetch_lines = [w for w in warnings if "fetch failed:" in w]
        parse_lines = [w for w in warnings if "parse pingtan: FAILED" in w]
        assert len(fetch_lines) == 6 and len(parse_lines) == 6
        assert any("202103/t20210305_80595.htm: file not found" in w for w in fetch_lines)
    out = (run / "stdout.txt").read_text(encoding="utf-8")
    assert "fetch_failures on scrape[dead_links] (10 of 10 documents, ERROR)" in out


# ------------------------------------------------------------------------------------------ narrative, indicators


def test_a_misstated_number_is_a_narrative_mismatch_in_validation_issues(run):
    issues = pd.read_parquet(run / "data" / "warehouse" / "validation_issues.parquet")
    narrative = issues[issues["check"] == "narrative_mismatch"]
    assert len(narrative) == 1  # the bundled reports state their numbers as their tables print them
    row = narrative.iloc[0]
    assert row["region"] == "测试区" and row["year"] == 2025
    assert (row["expected"], row["actual"], row["severity"], row["scope"]) == (
        154.0,
        17.0,
        "warning",
        "received",
    )
    assert "「2025年，全区共收到政府信息公开申请17件，共办结148件，结转至2026年6件。」" in row["message"]
    apps = pd.read_parquet(run / "data" / "warehouse" / "applications.parquet")
    new = apps[(apps.report_id == row["report_id"]) & (apps.row_code == "new_received")]
    assert new["total"].tolist() == [154]  # the table's value is never changed


def _total(apps: pd.DataFrame, report: str, row: str):
    values = apps[(apps.report_id == report) & (apps.row_code == row)]["total"].tolist()
    return values[0] if values and not pd.isna(values[0]) else None


def _sum(values: list):
    return None if any(v is None for v in values) else sum(values)


def _share(part, whole):
    return None if part is None or whole in (None, 0) else part / whole


def test_indicators_equal_their_definition(run):
    warehouse = run / "data" / "warehouse"
    ind = pd.read_parquet(warehouse / "indicators.parquet")
    apps = pd.read_parquet(warehouse / "applications.parquet")
    review = pd.read_parquet(warehouse / "review_litigation.parquet")
    pro = pd.read_parquet(warehouse / "proactive_disclosure.parquet")
    reports = pd.read_parquet(warehouse / "reports.parquet")
    assert sorted(ind["report_id"]) == sorted(reports[reports.status == "ok"]["report_id"])
    assert len(ind) >= 10

    def proceeding(report: str, code: str, column: str):
        values = review[(review.report_id == report) & (review.proceeding == code)][column].tolist()
        return values[0] if values and not pd.isna(values[0]) else None

    def proactive(report: str, category: str, metrics: tuple[str, ...]):
        rows = pro[(pro.report_id == report) & (pro.category_code == category)]
        for metric in metrics:
            values = rows[rows.metric_code == metric]["value"].tolist()
            if values:
                return None if pd.isna(values[0]) else values[0]
        return None

    compared = 0
    for row in ind.to_dict("records"):
        r = row["report_id"]
        t = lambda code, r=r: _total(apps, r, code)  # noqa: E731
        printed = set(apps[apps.report_id == r]["row_code"])
        other = t("other_handling") if "other_handling" in printed else _sum([t(c) for c in OTHER_PARTS])
        processed = t("total_processed")
        reviews = proceeding(r, "administrative_review", "total")
        reviews_corrected = proceeding(r, "administrative_review", "corrected")
        lawsuits = _sum([proceeding(r, p, "total") for p in ("litigation_direct", "litigation_after_review")])
        lawsuits_corrected = _sum(
            [proceeding(r, p, "corrected") for p in ("litigation_direct", "litigation_after_review")]
        )
        expected = {
            "applications_new": t("new_received"),
            "applications_carried_over": t("carried_over"),
            "applications_received": _sum([t("new_received"), t("carried_over")]),
            "applications_processed": processed,
            "granted": t("granted"),
            "partially_granted": t("partially_granted"),
            "denied": _sum([t(c) for c in DENIED]),
            "unavailable": _sum([t(c) for c in UNAVAILABLE]),
            "not_processed": _sum([t(c) for c in NOT_PROCESSED]),
            "other_handling": other,
            "carried_forward": t("carried_forward"),
            "grant_rate": _share(_sum([t("granted"), t("partially_granted")]), processed),
            "reviews": reviews,
            "reviews_corrected": reviews_corrected,
            "review_corrected_share": _share(reviews_corrected, reviews),
            "lawsuits": lawsuits,
            "lawsuits_corrected": lawsuits_corrected,
            "lawsuit_corrected_share": _share(lawsuits_corrected, lawsuits),
            "normative_documents_issued": proactive(r, "normative_documents", ("issued", "made")),
            "normative_documents_in_force": proactive(r, "normative_documents", ("in_force",)),
            "fees_10k_yuan": proactive(r, "administrative_fees", ("fee_amount",)),
        }
        for column, value in expected.items():
            got = None if pd.isna(row[column]) else row[column]
            assert got == pytest.approx(value) if value is not None else got is None, (r, column, got, value)
            compared += value is not None
    assert compared > 150  # most indicators of these reports are printed


# ------------------------------------------------------------------------------------------ summary page


def test_the_summary_page_renders_in_headless_chromium(run, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (the Debian package `chromium`)")
    from PIL import Image

    page = run / "data" / "summary.html"
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert html.count("<svg") == 5 and "平潭综合实验区" in html
    shot = tmp_path / "summary.png"
    subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=900,1800",
            f"--screenshot={shot}", page.as_uri(),
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    image = Image.open(shot).convert("RGB")
    assert image.size == (900, 1800)
    colors = image.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50  # text, bars, lines: far from a blank page
    not_white = sum(n for n, rgb in colors if rgb != (255, 255, 255))
    assert not_white > 0.02 * 900 * 1800
    bars = {rgb for _n, rgb in colors}
    assert (0x59, 0xA1, 0x4F) in bars and (0xE1, 0x57, 0x59) in bars  # the ok and failed bars were drawn


def test_the_summary_is_markdown_metadata_on_its_asset(run):
    with _instance(run) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("summary"))
        meta = event.asset_materialization.metadata
        assert (run / meta["path"].value).resolve() == run / "data" / "summary.html"
        assert "**Coverage**" in meta["summary"].value and "pingtan" in meta["summary"].value
        assert meta["reports_ok"].value > 0


# ------------------------------------------------------------------------------------------ metadata, owners


def test_every_metadata_key_is_explained_and_the_readme_table_is_current(run):
    with _instance(run) as instance:
        for name in ALL_ASSETS:
            for record in instance.fetch_materializations(dg.AssetKey(name), limit=50).records:
                for key in record.asset_materialization.metadata:
                    assert described(name, key), (name, key)
        for asset, check in (("scrape", FETCH_FAILURES), ("parse", PARSE_FAILURES)):
            for result in _check_results(instance, asset, check).values():
                for key in set(result) - {"passed", "severity"}:
                    assert described("check fetch_failures, parse_failures", key), key
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert metadata_table() in readme, "README metadata table is stale: run `make docs`"


def test_owners_and_tags_come_from_the_environment(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv(OWNERS_ENV, "team:disclosure, data@example.org")
    monkeypatch.setenv(TAGS_ENV, "env=test,domain=xxgk")
    defs = build_definitions(load_settings(corpus, tmp_path / "data"))
    for name in ALL_ASSETS:
        spec = defs.resolve_assets_def(name).specs_by_key[dg.AssetKey(name)]
        assert spec.owners == ["team:disclosure", "data@example.org"]
        assert spec.tags["env"] == "test" and spec.tags["domain"] == "xxgk"
        assert spec.tags[LAYER_TAG] == ("stages" if name in ("scrape", "parse", "validate") else "warehouse")
    monkeypatch.setenv(OWNERS_ENV, "nobody")
    with pytest.raises(ValueError, match=OWNERS_ENV):
        build_definitions(load_settings(corpus, tmp_path / "data"))


def test_the_tables_job_runs_in_process_unless_celery_was_chosen(corpus, tmp_path, monkeypatch):
    monkeypatch.delenv("XXGK_EXECUTOR", raising=False)
    defs = build_definitions(load_settings(corpus, tmp_path / "data"))
    assert defs.resolve_job_def(TABLES_JOB).executor_def.name == "in_process"
    assert defs.resolve_job_def(SOURCES_JOB).executor_def.name == "multiprocess"


# ------------------------------------------------------------------------------------------ make dev stops


CHILD = """
import os, signal, subprocess, sys, time
from pathlib import Path
signal.signal(signal.SIGTERM, signal.SIG_IGN)   # like a service that only stops on Ctrl-C
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
try:
    Path(sys.argv[1]).touch()
    time.sleep(60)
except KeyboardInterrupt:
    grandchild.wait(timeout=10)  # it got the SIGINT too: the whole group is interrupted
    Path(sys.argv[1] + ".stopped").touch()
    sys.exit(0)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_dev_launcher_interrupts_the_whole_group_on_sigterm_and_sigint(tmp_path, sig):
    ready = tmp_path / "ready"
    launcher = (
        "import sys\nfrom assets.dev import run_group\n"
        f"sys.exit(run_group([sys.executable, '-c', {CHILD!r}, {str(ready)!r}], grace=20))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", launcher], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    start = time.monotonic()
    proc.send_signal(sig)
    assert proc.wait(timeout=15) == 0
    assert time.monotonic() - start < 10
    assert Path(str(ready) + ".stopped").exists()


def test_make_dev_uses_the_launcher_and_the_default_instance():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    dev = makefile.split("\ndev:", 1)[1].split("\n\n", 1)[0]
    # `dagster dev` itself, started and stopped: benchmarks/dev_stop.py (README, Performance)
    assert "data/dagster_home" in dev and "exec $(PY) -m assets.dev -w workspace.yaml" in dev
