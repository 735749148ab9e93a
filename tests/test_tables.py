"""Output tables: schemas from one definition, builders from parsed reports, atomic Parquet writes."""

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import PARSER_VERSION
from pipeline import template as T
from pipeline.report import KIND_REPORT, Cell, Finding, ParsedReport
from pipeline.stages import Staged
from pipeline.store import RawDocument
from pipeline.tables import (
    TABLE_NAMES,
    TABLES,
    build_table,
    build_tables,
    data_dictionary,
    frame,
    write_table,
)


def _doc(report_id: str, source: str = "src") -> RawDocument:
    return RawDocument(
        report_id=report_id,
        source=source,
        locator=f"{report_id}.txt",
        format="txt",
        sha256="ab" * 32,
        fetched_at="2026-01-02T03:04:05+00:00",
        title_hint=f"hint {report_id}",
    )


def _report(agency: str, year: int, *cells: Cell, findings: list[Finding] | None = None) -> ParsedReport:
    return ParsedReport(
        title=f"{agency}{year}年政府信息公开工作年度报告",
        agency=agency,
        year=year,
        template="2021",
        kind=KIND_REPORT,
        tables_found=["applications"],
        table_versions={"applications": "2021", "proactive_disclosure": "2021"},
        cells=list(cells),
        findings=findings or [],
    )


def _app(row: str, col: str, value: float | None, raw: str = "", unreadable: str | None = None) -> Cell:
    return Cell(
        "applications", row, col, raw or ("" if value is None else f"{value:g}"), value, 1, 2, 3, unreadable
    )


def _staged(report_id, region, report, status="ok", error=None) -> Staged:
    findings = list(report.findings) if report else []
    return Staged(_doc(report_id), region, report, status, error, PARSER_VERSION, findings)


def test_schemas_follow_the_contract_types():
    for name, tdef in TABLES.items():
        schema = tdef.schema
        assert schema.names[:1] == ["report_id"] and {"region", "agency", "year"} <= set(schema.names), name
        assert not schema.field("report_id").nullable
        assert schema.field("year").type == pa.int64()
        assert all(f.metadata[b"description"] for f in schema), name
    assert TABLES["reports"].schema.field("fetched_at").type == pa.timestamp("us", tz="UTC")
    assert TABLES["proactive_disclosure"].schema.field("value").type == pa.float64()
    app = TABLES["applications"].schema
    assert [app.field(c.code).type for c in T.APPLICATION_COLUMNS] == [pa.int64()] * 7


def test_empty_tables_keep_their_schema(tmp_path):
    for name, df in build_tables([]).items():
        path = write_table(name, df, tmp_path / f"{name}.parquet")
        assert pq.read_schema(path).equals(TABLES[name].schema, check_metadata=False)
        assert pd.read_parquet(path).empty


def test_counts_are_nullable_integers_and_labels_come_from_the_template():
    report = _report(
        "甲局",
        2021,
        _app("new_received", "natural_person", 3.0),
        _app("new_received", "total", None),  # left blank → null, not 0
        _app("new_received", "other_org", None, raw="3?", unreadable="not a number: '3?'"),
        _app("granted", "total", 0.0, raw="无"),
    )
    apps = build_table("applications", [_staged("a", "某省", report)])
    assert apps["row_code"].tolist() == ["new_received", "granted"]  # template order
    assert apps["row_label"].tolist() == ["一、本年新收政府信息公开申请数量", "（一）予以公开"]
    first = apps.iloc[0]
    assert str(apps["natural_person"].dtype) == "Int64"
    assert first["natural_person"] == 3 and pd.isna(first["total"]) and pd.isna(first["other_org"])
    assert apps.iloc[1]["total"] == 0
    cells = build_table("cells", [_staged("a", "某省", report)])
    unreadable = cells[cells["column_code"] == "other_org"].iloc[0]
    assert (unreadable["raw_text"], unreadable["unreadable"]) == ("3?", "not a number: '3?'")
    assert pd.isna(unreadable["value"])


def test_rows_are_sorted_by_region_agency_year_and_data_tables_hold_ok_reports_only():
    staged = [
        _staged("r3", "乙省", _report("丙局", 2021, _app("granted", "total", 1.0))),
        _staged("r2", "甲省", _report("乙局", 2022, _app("granted", "total", 2.0))),
        _staged("r1", "甲省", _report("乙局", 2020, _app("granted", "total", 3.0))),
        _staged("r0", None, _report("甲局", 2020, _app("granted", "total", 4.0))),
        _staged("rf", "甲省", None, status="failed", error="broken"),
        _staged("rn", "甲省", _report("丁局", 2020, _app("granted", "total", 5.0)), status="not_a_report"),
    ]
    reports = build_table("reports", staged)
    assert reports["report_id"].tolist() == ["r3", "rn", "r1", "r2", "rf", "r0"]  # by code point; nulls last
    apps = build_table("applications", staged)
    assert apps["report_id"].tolist() == ["r3", "r1", "r2", "r0"]
    failed = reports.set_index("report_id").loc["rf"]
    assert (failed["status"], failed["error"], failed["title"], failed["template"]) == (
        "failed",
        "broken",
        "hint rf",
        "unknown",
    )
    assert pd.isna(failed["agency"]) and pd.isna(failed["checks_failed"])
    assert str(reports["fetched_at"].dtype) == "datetime64[us, UTC]"


def test_checks_failed_counts_failed_checks_not_unreadable_cells():
    findings = [
        Finding("T3-A", "column total", 2.0, 1.0, "error", "x"),
        Finding("T3-C", "row granted", 2.0, 1.0, "error", "x"),
        Finding("unreadable_cell", "granted/total", None, None, "warning", "x"),
    ]
    report = _report("甲局", 2021, _app("granted", "total", 1.0), findings=findings)
    reports = build_table("reports", [_staged("a", "甲省", report)])
    assert reports.loc[0, "checks_failed"] == 2
    issues = build_table("validation_issues", [_staged("a", "甲省", report)])
    assert issues["check"].tolist() == ["T3-A", "T3-C", "unreadable_cell"]
    assert issues["agency"].tolist() == ["甲局"] * 3


def test_proactive_rows_carry_template_labels_and_units():
    cells = [
        Cell("proactive_disclosure", "regulations", "issued", "1", 1.0, 0, 3, 1, None, "规章", 1, "regulations", "count"),
        Cell(
            "proactive_disclosure", "administrative_fees", "fee_amount", "12.5", 12.5, 0, 9, 1, None,
            "行政事业性收费", 8, "administrative_fees", "10k_yuan",
        ),
        Cell("proactive_disclosure", "行政检查", "decisions", "0", 0.0, 0, 7, 1, None, "行政检查", 5, None, "count"),
    ]  # fmt: skip
    df = build_table("proactive_disclosure", [_staged("a", "甲省", _report("甲局", 2021, *cells))])
    assert df["article_item"].tolist() == [1, 5, 8]
    assert df["metric_label"].tolist() == ["本年制发件数", "本年处理决定数量", "本年收费金额（单位：万元）"]
    assert df["unit"].tolist() == ["count", "count", "10k_yuan"]
    assert pd.isna(df.loc[1, "category_code"]) and df.loc[1, "category_label"] == "行政检查"


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "reports.parquet"
    old = frame("reports", [])
    write_table("reports", old, path)
    before = path.read_bytes()

    def half_then_fail(table, where, *args, **kwargs):
        with open(where, "wb") as fh:
            fh.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", half_then_fail)
    new = build_table("reports", [_staged("a", "甲省", _report("甲局", 2021))])
    with pytest.raises(OSError, match="disk full"):
        write_table("reports", new, path)
    assert path.read_bytes() == before
    assert pd.read_parquet(path).empty
    assert os.listdir(tmp_path) == ["reports.parquet"]  # no temporary file left behind


def test_a_dataframe_that_breaks_the_schema_is_refused(tmp_path):
    bad = frame("reports", []).drop(columns=["status"])
    with pytest.raises(ValueError, match="status"):
        write_table("reports", bad, tmp_path / "reports.parquet")
    assert not (tmp_path / "reports.parquet").exists()


def test_data_dictionary_documents_every_column_and_code():
    text = data_dictionary()
    for name in TABLE_NAMES:
        assert f"### `{name}.parquet`" in text
        for column in TABLES[name].columns:
            assert f"| `{column.name}` |" in text
    for row in T.APPLICATION_ROWS:
        assert f"| {row.code} |" in text
    for check in T.CHECK_DESCRIPTIONS:
        assert f"| {check} |" in text


def test_readme_data_dictionary_is_the_generated_one():
    readme = Path(__file__).resolve().parents[1] / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert data_dictionary() in text, "regenerate the README's data dictionary: make docs"
