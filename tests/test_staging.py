"""The validate stage's staging snapshot (pipeline.staging): what the tables are built from, reused from one
run to the next, brought up to date when the parse results moved on, and the cross-report checks run on
the few cells they read."""

import copy

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import crossreport, staging
from pipeline.config import load_settings
from pipeline.parse import parse_file
from pipeline.report import Cell, Finding
from pipeline.scrape import scrape_all
from pipeline.stages import (
    STATUS_OK,
    Staged,
    _cross_report,
    load_snapshot,
    load_staged,
    parse_all,
    snapshot_path,
    validate_all,
)
from pipeline.store import RawDocument
from pipeline.tables import SNAPSHOT_COLUMNS, TABLE_NAMES, build_arrow, build_table, to_frame
from tests.conftest import FIXTURES, SEED, SEED_NAME, make_corpus

P2021 = parse_file(FIXTURES / "corpus" / "t20220208_80613.htm")
P2019 = parse_file(FIXTURES / "corpus" / "t20200120_80576.htm")
SEED_REPORT = parse_file(SEED)


@pytest.fixture(autouse=True)
def in_process(monkeypatch):
    monkeypatch.setenv("XXGK_PARSE_WORKERS", "1")  # these tests are about what follows the parse


def _settings(root):
    settings = load_settings(make_corpus(root), root / "data")
    scrape_all(settings)
    parse_all(settings)
    return settings


def _tables(settings) -> dict[str, pd.DataFrame]:
    return {n: to_frame(build_arrow(n, load_snapshot(settings, SNAPSHOT_COLUMNS[n]))) for n in TABLE_NAMES}


# ---------------------------------------------------------------------------------------------- reuse


def test_a_second_validation_reuses_the_snapshot_and_reads_only_what_was_parsed_since(tmp_path):
    settings = _settings(tmp_path)
    first = validate_all(settings)
    assert (first.documents, first.loaded, first.reused) == (7, 7, 0)  # x.docx: a cached failure
    tables = _tables(settings)

    again = validate_all(settings)
    assert (again.documents, again.loaded, again.reused) == (7, 0, 7)
    assert (again.status, again.checks) == (first.status, first.checks)
    for name, df in _tables(settings).items():
        pd.testing.assert_frame_equal(df, tables[name], check_exact=True, obj=name)

    # one new document: only it is read from the parse cache
    (tmp_path / "docs" / "jugezhuang" / "copy.txt").write_bytes(SEED.read_bytes())  # the seed again
    scrape_all(settings)
    parse_all(settings)
    third = validate_all(settings)
    assert (third.documents, third.loaded, third.reused) == (8, 1, 7)
    assert third.status == {"duplicate": 1, "failed": 1, "ok": 6}


def test_tables_follow_parse_results_newer_than_the_snapshot(tmp_path):
    settings = _settings(tmp_path)
    validate_all(settings)
    written = snapshot_path(settings).read_bytes()
    (tmp_path / "docs" / "jugezhuang" / "x.docx").unlink()
    (tmp_path / "docs" / "broken_identity" / "again.txt").write_bytes(SEED.read_bytes())
    scrape_all(settings)
    parse_all(settings)  # no validate after it
    said = []
    reports = to_frame(
        build_arrow("reports", load_snapshot(settings, SNAPSHOT_COLUMNS["reports"], log=said.append))
    )
    assert said == ["tables: parse results changed since the last validation: validating again in memory"]
    assert len(reports) == 8 and "again.txt" in set(reports["url"])
    assert snapshot_path(settings).read_bytes() == written  # persisting it is the validate stage's job


def test_a_parse_that_changes_nothing_leaves_its_stage_file_and_the_snapshot_current(tmp_path):
    settings = _settings(tmp_path)
    parse_all(settings)  # now from the cache: the stage file says so
    validate_all(settings)
    files = sorted((tmp_path / "data" / "cache" / "stages" / "parse").glob("*.json"))
    before = [p.read_bytes() for p in files]
    parse_all(settings)
    assert [p.read_bytes() for p in files] == before
    said = []
    assert load_snapshot(settings, ["report_id"], log=said.append).num_rows == 7
    assert said == []  # no validation again in memory


def test_tables_without_a_validation_say_what_to_run(tmp_path):
    settings = _settings(tmp_path)
    with pytest.raises(FileNotFoundError, match="run the 'validate' stage first"):
        load_snapshot(settings)


def test_a_snapshot_of_another_version_is_not_read(tmp_path):
    settings = _settings(tmp_path)
    validate_all(settings)
    path = snapshot_path(settings)
    table, inputs = staging.read(path)
    staging.write(path, table, inputs)
    assert staging.read(path) is not None
    pq.write_table(table.replace_schema_metadata({staging.META_VERSION: b"0"}), path)
    assert staging.read(path) is None
    assert validate_all(settings).loaded == 7  # rebuilt from the parse cache


def test_load_staged_gives_the_reports_back(tmp_path):
    settings = _settings(tmp_path)
    validate_all(settings)
    staged = {(s.doc.source, s.doc.locator): s for s in load_staged(settings)}
    seed = staged["jugezhuang", SEED_NAME]
    assert seed.status == STATUS_OK and seed.report == SEED_REPORT
    broken = staged["jugezhuang", "x.docx"]
    assert broken.report is None and broken.status == "failed" and broken.error
    reports = build_table("reports", list(staged.values()))
    pd.testing.assert_frame_equal(reports, _tables(settings)["reports"], check_exact=True)


# ---------------------------------------------------------------------------------------------- cross-report


def _doc(report_id: str, fetched_at: str) -> RawDocument:
    return RawDocument(report_id, "src", f"{report_id}.txt", "txt", "ab" * 32, fetched_at=fetched_at)


def _variants() -> list[Staged]:
    """Reports that exercise every rule of pipeline.crossreport: duplicates that differ in tables found,
    unreadable cells, failed identities and fetch time; consecutive years with carry-over and in-force
    mismatches."""
    out = []

    def add(report_id, report, fetched_at="2026-01-01T00:00:00+00:00", region="某省"):
        out.append(
            Staged(_doc(report_id, fetched_at), region, report, STATUS_OK, None, "1", list(report.findings))
        )

    add("seed-a", SEED_REPORT)
    partial = copy.deepcopy(SEED_REPORT)
    partial.tables_found = partial.tables_found[:1]
    add("seed-b", partial)
    unreadable = copy.deepcopy(SEED_REPORT)
    unreadable.cells[5].unreadable, unreadable.cells[5].value = "not a number", None
    add("seed-c", unreadable)
    broken = copy.deepcopy(SEED_REPORT)
    broken.findings.append(Finding("T3-A", "column total", 1, 2, "error", "x"))
    add("seed-d", broken, fetched_at="2026-03-01T00:00:00+00:00")
    add("seed-e", copy.deepcopy(SEED_REPORT), fetched_at="2026-02-01T00:00:00+00:00")
    add("p2021", P2021)
    later = copy.deepcopy(P2021)
    later.year = 2022
    for c in later.cells:
        if c.row_code == "carried_over" and c.column_code == "total":
            c.value = 5.0
        if c.row_code == "regulations" and c.column_code == "in_force":
            c.value = (c.value or 0) + 3
    later.cells.append(Cell("applications", "carried_over", "total", "7", 7.0, 9, 9, 9))  # printed twice
    add("p2022", later)
    earlier = copy.deepcopy(P2021)
    earlier.year = 2020
    add("p2020", earlier)
    add("p2019", P2019, region="福建省")
    add("other-region", copy.deepcopy(SEED_REPORT), region="某市")
    return out


def test_cross_report_checks_on_the_cells_they_read_equal_those_on_whole_reports():
    staged = _variants()
    entries = [
        crossreport.Entry(
            s.doc.report_id, s.region, s.report.agency, s.report.year, s.doc.fetched_at, s.report
        )
        for s in staged
    ]
    duplicates = crossreport.choose_canonical(entries)
    findings = crossreport.cross_year_findings([e for e in entries if e.report_id not in duplicates])
    assert duplicates and {f.check for _, f in findings} == {"cross_year_carry_over", "cross_year_in_force"}

    table = staging.from_staged(staged)
    status, errors = [STATUS_OK] * len(staged), [None] * len(staged)
    duplicate_of, cross = _cross_report(table, status, errors)
    ids = [s.doc.report_id for s in staged]
    assert {ids[i]: d for i, d in enumerate(duplicate_of) if d} == duplicates
    assert [(ids[i], Finding(**f)) for i in range(len(ids)) for f in cross[i]] == sorted(
        findings, key=lambda item: ids.index(item[0])
    )
    assert [s for s in status if s != STATUS_OK] == ["duplicate"] * len(duplicates)
