"""The six output tables of CONTRACT.md: one metadata definition, DataFrame builders, atomic Parquet writes.

`TABLES` is the single description of the warehouse: each column's name, type and meaning. The pyarrow
schemas enforced on write, the column schema shown in Dagster and the README's data dictionary
(`data_dictionary()`) are all derived from it, so they cannot drift apart.

Types: integer columns are nullable int64, amounts and values float64, text UTF-8 strings, times UTC
timestamps. Rows are sorted by region, agency, year, then report_id and the order of the template
(table 三 rows, table 四 proceedings) or of the printed document (table 二, cells, findings).
The three data tables hold status-`ok` reports only; `cells` and `validation_issues` cover every
parsed document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import fs
from pipeline import template as T
from pipeline.fs import DataPath
from pipeline.report import Cell
from pipeline.stages import STATUS_OK, Staged

_ARROW = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # string | int64 | float64 | timestamp
    description: str
    required: bool = False  # never null

    @property
    def field(self) -> pa.Field:
        return pa.field(
            self.name,
            _ARROW[self.type],
            nullable=not self.required,
            metadata={"description": self.description},
        )


@dataclass(frozen=True, slots=True)
class TableDef:
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([c.field for c in self.columns], metadata={"description": self.description})

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def filename(self) -> str:
        return f"{self.name}.parquet"


# ------------------------------------------------------------------------------------------ definitions

REPORT_ID = Column(
    "report_id",
    "string",
    "Stable id of the document: the source name and a hash of its URL or relative path "
    "(the same across runs and machines).",
    required=True,
)
REGION = Column("region", "string", "Region, from the source's `region` in the sources file (null if none).")
AGENCY = Column("agency", "string", "The agency as the report names itself (e.g. 巨各庄镇).")
YEAR = Column("year", "int64", "The year reported on.")
KEYS = (REPORT_ID, REGION, AGENCY, YEAR)


def _count_columns(columns: Iterable[T.ColumnDef], what: str) -> tuple[Column, ...]:
    return tuple(Column(c.code, "int64", f"{what}: {c.label}.") for c in columns)


REPORTS = TableDef(
    "reports",
    "One row per document found, parsed or not.",
    (
        REPORT_ID,
        Column("source", "string", "Name of the source in the sources file.", required=True),
        REGION,
        AGENCY,
        YEAR,
        Column("title", "string", "Title of the report (else the link text or file name)."),
        Column(
            "url", "string", "URL of the document; for a path source, its path relative to the source folder."
        ),
        Column("format", "string", "Document format: docx, doc, html, txt, pdf (wps where found)."),
        Column(
            "content_sha256",
            "string",
            "SHA-256 of the bytes parsed (the raw store's key); null if never fetched.",
        ),
        Column(
            "fetched_at", "timestamp", "When these bytes were fetched (UTC); unchanged while the bytes are."
        ),
        Column("template", "string", "Template version of the report: 2019, 2021, mixed, legacy, unknown."),
        Column(
            "status",
            "string",
            "ok, failed (unreadable document, fetch or parser error), not_a_report, legacy, duplicate.",
            required=True,
        ),
        Column("error", "string", "Why, when status is not ok."),
        Column("duplicate_of", "string", "report_id of the canonical report, when status is duplicate."),
        Column(
            "checks_failed",
            "int64",
            "Number of validation_issues rows of this document other than unreadable_cell (failed identities "
            "and other checks); null when the document was not parsed.",
        ),
        Column("parser_version", "string", "Version of the parser that produced this row.", required=True),
    ),
)

APPLICATIONS = TableDef(
    "applications",
    "Table 三 (收到和处理政府信息公开申请情况): one row per report × printed template row.",
    (
        *KEYS,
        Column("row_code", "string", "Template row code (see the row codes below).", required=True),
        Column("row_label", "string", "The template's label of the row."),
        *_count_columns(T.APPLICATION_COLUMNS, "Applications, applicant"),
    ),
)

REVIEW_LITIGATION = TableDef(
    "review_litigation",
    "Table 四 (政府信息公开行政复议、行政诉讼情况): one row per report × proceeding.",
    (
        *KEYS,
        Column(
            "proceeding",
            "string",
            "; ".join(f"{p.code} {p.label}" for p in T.REVIEW_PROCEEDINGS) + ".",
            required=True,
        ),
        *_count_columns(T.REVIEW_OUTCOMES, "Cases, outcome"),
    ),
)

PROACTIVE_DISCLOSURE = TableDef(
    "proactive_disclosure",
    "Table 二 (主动公开政府信息情况): one row per report × row × column.",
    (
        *KEYS,
        Column("article_item", "int64", "第二十条第（N）项: 1, 5, 6, 8, 9."),
        Column("category_code", "string", "Category code; null for rows the template does not have."),
        Column("category_label", "string", "Category as printed, whitespace removed."),
        Column("metric_code", "string", "Metric (column) code.", required=True),
        Column("metric_label", "string", "The template's label of the metric."),
        Column("value", "float64", "The value; amounts converted to 万元."),
        Column("unit", "string", "count or 10k_yuan (万元)."),
    ),
)

CELLS = TableDef(
    "cells",
    "Lineage: every value cell read, canonical or not, with its place in the document's own table grid.",
    (
        *KEYS,
        Column("table", "string", "proactive_disclosure, applications or review_litigation.", required=True),
        Column(
            "row_code",
            "string",
            "applications: row_code; review_litigation: proceeding; proactive_disclosure: category_code "
            "(the printed category_label where the code is null).",
        ),
        Column(
            "column_code",
            "string",
            "applications: applicant column; review_litigation: outcome; proactive_disclosure: metric_code.",
        ),
        Column("raw_text", "string", "The cell's text as printed."),
        Column("value", "float64", "The value read (null: blank, not applicable, or unreadable)."),
        Column("source_table", "int64", "0-based index of the table in the document."),
        Column("source_row", "int64", "0-based row of the cell in that table's grid."),
        Column("source_col", "int64", "0-based column of the cell in that table's grid."),
        Column(
            "unreadable",
            "string",
            "Why the cell could not be read with certainty (null when it was read). Added to the contract: "
            "tells 'left blank' from 'unreadable' without a join.",
        ),
    ),
)

VALIDATION_ISSUES = TableDef(
    "validation_issues",
    "One row per failed check or reading problem (see the check codes below).",
    (
        *KEYS,
        Column("check", "string", "Check code: T3-A, T3-B, T3-C, T4, unreadable_cell, …", required=True),
        Column("scope", "string", "The column, row or proceeding checked."),
        Column("expected", "float64", "The value the check expected (e.g. the sum of the parts)."),
        Column("actual", "float64", "The value printed."),
        Column("severity", "string", "error or warning."),
        Column("message", "string", "What failed, naming the table, row and column."),
    ),
)

TABLES: dict[str, TableDef] = {
    t.name: t
    for t in (REPORTS, APPLICATIONS, REVIEW_LITIGATION, PROACTIVE_DISCLOSURE, CELLS, VALIDATION_ISSUES)
}
TABLE_NAMES = tuple(TABLES)

# ------------------------------------------------------------------------------------------ builders

_ROW_ORDER = {r.code: i for i, r in enumerate(T.APPLICATION_ROWS)}
_ROW_LABEL = {r.code: r.label for r in T.APPLICATION_ROWS}
_PROCEEDING_ORDER = {p.code: i for i, p in enumerate(T.REVIEW_PROCEEDINGS)}
_TABLE_ORDER = {"proactive_disclosure": 0, "applications": 1, "review_litigation": 2}
_APPLICATION_COLUMNS = tuple(c.code for c in T.APPLICATION_COLUMNS)
_REVIEW_OUTCOMES = tuple(c.code for c in T.REVIEW_OUTCOMES)


def _int(value: float | None) -> int | None:
    """A count as an integer; None for null or a value that is not a whole number (it stays in cells)."""
    if value is None or value != value or not float(value).is_integer():
        return None
    return int(value)


def _keys(s: Staged) -> dict[str, Any]:
    r = s.report
    return {
        "report_id": s.doc.report_id,
        "region": s.region,
        "agency": r.agency if r else None,
        "year": r.year if r else None,
    }


def _position(c: Cell) -> tuple[int, int, int]:
    return (c.source_table, c.source_row, c.source_col)


def _canonical(staged: Iterable[Staged]) -> Iterable[Staged]:
    return (s for s in staged if s.status == STATUS_OK and s.report is not None)


def _reports_rows(staged: list[Staged]) -> list[dict]:
    rows = []
    for s in staged:
        r = s.report
        rows.append(
            {
                **_keys(s),
                "source": s.doc.source,
                "title": (r.title if r and r.title else None) or s.doc.title_hint,
                "url": s.doc.locator,
                "format": s.doc.format,
                "content_sha256": s.doc.sha256,
                "fetched_at": s.doc.fetched_at,
                "template": r.template if r else "unknown",
                "status": s.status,
                "error": s.error,
                "duplicate_of": s.duplicate_of,
                "checks_failed": s.checks_failed,
                "parser_version": s.parser_version,
                "_k": 0,
            }
        )
    return rows


def _applications_rows(staged: list[Staged]) -> list[dict]:
    rows = []
    for s in _canonical(staged):
        by_row: dict[str, dict[str, Any]] = {}
        printed_label: dict[str, str | None] = {}
        for c in s.report.cells_of("applications"):
            if c.column_code in _APPLICATION_COLUMNS:
                by_row.setdefault(c.row_code, {})[c.column_code] = _int(c.value)
                printed_label.setdefault(c.row_code, c.row_label)
        extra = iter(
            range(len(_ROW_ORDER), len(_ROW_ORDER) + len(by_row))
        )  # non-template rows: printed order
        for code, values in by_row.items():
            order = _ROW_ORDER[code] if code in _ROW_ORDER else next(extra)
            rows.append(
                {
                    **_keys(s),
                    "row_code": code,
                    "row_label": _ROW_LABEL.get(code, printed_label.get(code)),
                    **{col: values.get(col) for col in _APPLICATION_COLUMNS},
                    "_k": order,
                }
            )
    return rows


def _review_rows(staged: list[Staged]) -> list[dict]:
    rows = []
    for s in _canonical(staged):
        by_row: dict[str, dict[str, Any]] = {}
        for c in s.report.cells_of("review_litigation"):
            if c.column_code in _REVIEW_OUTCOMES:
                by_row.setdefault(c.row_code, {})[c.column_code] = _int(c.value)
        for i, (code, values) in enumerate(by_row.items()):
            rows.append(
                {
                    **_keys(s),
                    "proceeding": code,
                    **{col: values.get(col) for col in _REVIEW_OUTCOMES},
                    "_k": _PROCEEDING_ORDER.get(code, len(_PROCEEDING_ORDER) + i),
                }
            )
    return rows


def _metric_label(code: str, version: str | None) -> str | None:
    metrics = T.metrics_for(version) if version in (T.V2019, T.V2021) else {}
    metric = metrics.get(code) or T.METRIC_BY_CODE.get(code)
    return metric.label if metric else None


def _proactive_rows(staged: list[Staged]) -> list[dict]:
    rows = []
    for s in _canonical(staged):
        version = s.report.table_versions.get("proactive_disclosure") or s.report.template
        cells = sorted(
            s.report.cells_of("proactive_disclosure"), key=lambda c: (c.article_item or 99, *_position(c))
        )
        for k, c in enumerate(cells):
            category = T.CATEGORY_BY_CODE.get(c.category_code or "")
            metric = T.METRIC_BY_CODE.get(c.column_code)
            unit = c.unit or ("10k_yuan" if metric is not None and metric.amount else "count")
            rows.append(
                {
                    **_keys(s),
                    "article_item": c.article_item,
                    "category_code": c.category_code,
                    "category_label": c.row_label or (category.label if category else None),
                    "metric_code": c.column_code,
                    "metric_label": _metric_label(c.column_code, version),
                    "value": c.value,
                    "unit": unit,
                    "_k": k,
                }
            )
    return rows


def _cells_rows(staged: list[Staged]) -> list[dict]:
    rows = []
    for s in staged:
        if s.report is None:
            continue
        cells = sorted(s.report.cells, key=lambda c: (_TABLE_ORDER.get(c.table, 9), *_position(c)))
        for k, c in enumerate(cells):
            rows.append(
                {
                    **_keys(s),
                    "table": c.table,
                    "row_code": c.row_code,
                    "column_code": c.column_code,
                    "raw_text": c.raw_text,
                    "value": c.value,
                    "source_table": c.source_table,
                    "source_row": c.source_row,
                    "source_col": c.source_col,
                    "unreadable": c.unreadable,
                    "_k": k,
                }
            )
    return rows


def _issues_rows(staged: list[Staged]) -> list[dict]:
    rows = []
    for s in staged:
        for k, f in enumerate(s.findings):
            rows.append(
                {
                    **_keys(s),
                    "check": f.check,
                    "scope": f.scope,
                    "expected": f.expected,
                    "actual": f.actual,
                    "severity": f.severity,
                    "message": f.message,
                    "_k": k,
                }
            )
    return rows


_BUILDERS: dict[str, Callable[[list[Staged]], list[dict]]] = {
    "reports": _reports_rows,
    "applications": _applications_rows,
    "review_litigation": _review_rows,
    "proactive_disclosure": _proactive_rows,
    "cells": _cells_rows,
    "validation_issues": _issues_rows,
}


def _series(values: list[Any], kind: str) -> pd.Series:
    if kind == "int64":
        return pd.Series(pd.array(values, dtype="Int64"))
    if kind == "float64":
        return pd.Series([float("nan") if v is None else float(v) for v in values], dtype="float64")
    if kind == "timestamp":
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True)).astype(
            "datetime64[us, UTC]"
        )
    return pd.Series(values, dtype="str")


def frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """Rows → a DataFrame with exactly the table's columns, dtypes and row order."""
    tdef = TABLES[name]
    data = {c.name: _series([r.get(c.name) for r in rows], c.type) for c in tdef.columns}
    data["_k"] = pd.Series([r.get("_k", 0) for r in rows], dtype="int64")
    df = pd.DataFrame(data)
    df = df.sort_values(["region", "agency", "year", "report_id", "_k"], na_position="last", kind="stable")
    return df.drop(columns="_k").reset_index(drop=True)


def build_table(name: str, staged: list[Staged]) -> pd.DataFrame:
    return frame(name, _BUILDERS[name](staged))


def build_tables(staged: list[Staged]) -> dict[str, pd.DataFrame]:
    return {name: build_table(name, staged) for name in TABLE_NAMES}


# ------------------------------------------------------------------------------------------ writing


def to_arrow(name: str, df: pd.DataFrame) -> pa.Table:
    """The DataFrame under the table's schema, exactly; raises if a column is missing or mistyped."""
    tdef = TABLES[name]
    missing = [c for c in tdef.names if c not in df.columns]
    if missing:
        raise ValueError(f"table {name}: missing columns {missing}")
    return pa.Table.from_pandas(df[tdef.names], schema=tdef.schema, preserve_index=False)


def write_table(name: str, df: pd.DataFrame, path: DataPath) -> DataPath:
    """Write atomically (`pipeline.fs.atomic_write`): locally a temporary file in the same folder, then
    os.replace; on object storage one PUT. Readers never see half a file, even if the run is killed."""
    table = to_arrow(name, df)
    fs.atomic_write(path, lambda target: pq.write_table(table, target))
    return path


# ------------------------------------------------------------------------------------------ documentation


def _md_table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def data_dictionary() -> str:
    """The README's data dictionary, generated from TABLES and the template (never edited by hand)."""
    out = [
        "## Data dictionary",
        "",
        "<!-- generated by pipeline.tables.data_dictionary(); do not edit by hand -->",
        "",
        "Parquet files in `<data-dir>/warehouse/`. Integer columns are nullable int64, amounts float64, text UTF-8 "
        "strings, times UTC timestamps. Rows are sorted by region, agency, year (then report_id and template "
        "order). Required columns are never null.",
    ]
    for t in TABLES.values():
        out += ["", f"### `{t.filename()}`", "", t.description, ""]
        out += _md_table(
            ("column", "type", "description"),
            (
                (f"`{c.name}`", c.type + (" (required)" if c.required else ""), c.description)
                for c in t.columns
            ),
        )
    out += ["", "### Codes", "", "Table 三 rows (`applications.row_code`):", ""]
    out += _md_table(
        ("row_code", "label", "versions"),
        ((r.code, r.label, ", ".join(sorted(r.versions))) for r in T.APPLICATION_ROWS),
    )
    out += ["", "Table 四 proceedings and outcomes:", ""]
    out += _md_table(
        ("code", "label"), ((c.code, c.label) for c in (*T.REVIEW_PROCEEDINGS, *T.REVIEW_OUTCOMES))
    )
    out += ["", "Table 二 categories (`category_code`) and metrics (`metric_code`):", ""]
    out += _md_table(
        ("category_code", "label", "article_item"),
        ((c.code, c.label, str(c.article_item)) for c in T.PROACTIVE_CATEGORIES),
    )
    out += [""]
    out += _md_table(
        ("metric_code", "label", "template", "unit"),
        ((m.code, m.label, m.version, "10k_yuan" if m.amount else "count") for m in T.PROACTIVE_METRICS),
    )
    out += ["", "Checks (`validation_issues.check`):", ""]
    out += _md_table(("check", "meaning"), sorted(T.CHECK_DESCRIPTIONS.items()))
    return "\n".join(out) + "\n"


README_START, README_END = "<!-- data-dictionary:start -->", "<!-- data-dictionary:end -->"


def update_readme(path: Path) -> bool:
    """Rewrite the README's data dictionary between its markers; True when the text changed."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    new = f"{head}{README_START}\n{data_dictionary()}\n{README_END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text
