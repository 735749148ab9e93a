"""The seven output tables of CONTRACT.md (v2): one metadata definition, DataFrame builders, atomic Parquet writes.

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

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import fs, staging
from pipeline import template as T
from pipeline.fs import DataPath
from pipeline.stages import NOT_COUNTED_AS_FAILED_CHECK, STATUS_OK, Staged

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
        Column(
            "reader",
            "string",
            "What read the values: docx, html, txt, pdf, doc (.doc/.wps converted by LibreOffice, then read "
            "as .docx), ocr (any value read from a picture); null when the document was not parsed.",
        ),
        Column("pages", "int64", "Page count of a paged document (pdf); null otherwise."),
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
        Column(
            "source_page", "int64", "1-based page the cell was printed on (paged documents); null otherwise."
        ),
        Column(
            "confidence",
            "float64",
            "OCR recognition confidence of the cell (0–1); null where no OCR was involved.",
        ),
        *(
            Column(
                f"box_{edge}",
                "float64",
                f"OCR'd cells: {what} of the cell's box, in pixels of the page image.",
            )
            for edge, what in (("x0", "left"), ("y0", "top"), ("x1", "right"), ("y1", "bottom"))
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
        Column(
            "severity", "string", "error, warning, or info (a note that is not a finding, e.g. ocr_values)."
        ),
        Column("message", "string", "What failed, naming the table, row and column."),
    ),
)


def _rows_sum(codes: Iterable[str]) -> str:
    return " + ".join(f"`{c}`" for c in codes)


_DENIED = tuple(r.code for r in T.APPLICATION_ROWS if r.group == "(三)")
_UNAVAILABLE = tuple(r.code for r in T.APPLICATION_ROWS if r.group == "(四)")
_NOT_PROCESSED = tuple(r.code for r in T.APPLICATION_ROWS if r.group == "(五)")
_OTHER_SINGLE, _OTHER_PARTS = T.OTHER_HANDLING_ALTERNATIVES
_A = "applications `total` of row"
INDICATORS = TableDef(
    "indicators",
    "One row per canonical report: the first numbers analysts ask for, each computed from the data tables "
    "as defined below (the `total` column of table 三 rows, table 四 proceedings, table 二 cells). A value is "
    "null when any of its parts is null — left blank, unreadable, or a row the report does not print — "
    "never a guess; a share is also null when its denominator is 0.",
    (
        *KEYS,
        Column("template", "string", "Template version of the report (reports.template)."),
        Column("applications_new", "int64", f"{_A} `new_received` (一、本年新收)."),
        Column("applications_carried_over", "int64", f"{_A} `carried_over` (二、上年结转)."),
        Column("applications_received", "int64", "`applications_new` + `applications_carried_over`."),
        Column("applications_processed", "int64", f"{_A} `total_processed` (（七）总计, as printed)."),
        Column("granted", "int64", f"{_A} `granted` (（一）予以公开)."),
        Column("partially_granted", "int64", f"{_A} `partially_granted` (（二）部分公开)."),
        Column("denied", "int64", f"（三）不予公开: sum of {_A}s {_rows_sum(_DENIED)}."),
        Column("unavailable", "int64", f"（四）无法提供: sum of {_A}s {_rows_sum(_UNAVAILABLE)}."),
        Column("not_processed", "int64", f"（五）不予处理: sum of {_A}s {_rows_sum(_NOT_PROCESSED)}."),
        Column(
            "other_handling",
            "int64",
            f"（六）其他处理: {_A} `{_OTHER_SINGLE[0]}` where the report prints that single row (2019), "
            f"else the sum of {_rows_sum(_OTHER_PARTS)} (2021).",
        ),
        Column("carried_forward", "int64", f"{_A} `carried_forward` (四、结转下年度继续办理)."),
        Column(
            "grant_rate",
            "float64",
            "(`granted` + `partially_granted`) / `applications_processed`: the share of the applications "
            "processed this year where information was given in whole or in part.",
        ),
        Column(
            "reviews", "int64", "review_litigation `total` of proceeding `administrative_review` (行政复议)."
        ),
        Column(
            "reviews_corrected",
            "int64",
            "review_litigation `corrected` (结果纠正) of proceeding `administrative_review`.",
        ),
        Column("review_corrected_share", "float64", "`reviews_corrected` / `reviews`."),
        Column(
            "lawsuits",
            "int64",
            "review_litigation `total` of `litigation_direct` (未经复议直接起诉) + `litigation_after_review` "
            "(复议后起诉).",
        ),
        Column(
            "lawsuits_corrected",
            "int64",
            "review_litigation `corrected` of `litigation_direct` + `litigation_after_review`.",
        ),
        Column("lawsuit_corrected_share", "float64", "`lawsuits_corrected` / `lawsuits`."),
        Column(
            "normative_documents_issued",
            "int64",
            "proactive_disclosure `value` of category `normative_documents` (规范性文件), metric `issued` "
            "(2021: 本年制发件数) or `made` (2019: 本年新制作数量).",
        ),
        Column(
            "normative_documents_in_force",
            "int64",
            "proactive_disclosure `value` of category `normative_documents`, metric `in_force` (现行有效件数; "
            "2021 template only).",
        ),
        Column(
            "fees_10k_yuan",
            "float64",
            "proactive_disclosure `value` of category `administrative_fees`, metric `fee_amount` (本年收费金额, "
            "万元; 2021 template only).",
        ),
    ),
)

TABLES: dict[str, TableDef] = {
    t.name: t
    for t in (
        REPORTS,
        APPLICATIONS,
        REVIEW_LITIGATION,
        PROACTIVE_DISCLOSURE,
        CELLS,
        VALIDATION_ISSUES,
        INDICATORS,
    )
}
TABLE_NAMES = tuple(TABLES)

# ------------------------------------------------------------------------------------------ builders
#
# Every table is built from the staging snapshot (pipeline.staging: one row per document, its cells
# and findings as list columns), column by column with pyarrow and numpy: no Python object per cell.
# Rows are ordered by the document's place in (region, agency, year, report_id) order — nulls last,
# text by code point — then by the order within the document (template order, or the printed order).

_ROW_ORDER = {r.code: i for i, r in enumerate(T.APPLICATION_ROWS)}
_ROW_LABEL = {r.code: r.label for r in T.APPLICATION_ROWS}
_PROCEEDING_ORDER = {p.code: i for i, p in enumerate(T.REVIEW_PROCEEDINGS)}
_TABLE_ORDER = ("proactive_disclosure", "applications", "review_litigation")
_APPLICATION_COLUMNS = tuple(c.code for c in T.APPLICATION_COLUMNS)
_REVIEW_OUTCOMES = tuple(c.code for c in T.REVIEW_OUTCOMES)
_INT64_LIMIT = 2.0**63

#: The snapshot columns each table reads (besides the document keys).
_KEY_COLUMNS = ["report_id", "region", "agency", "year", "parsed", "status"]
SNAPSHOT_COLUMNS: dict[str, list[str]] = {
    "reports": [
        *_KEY_COLUMNS,
        *("source", "title", "title_hint", "locator", "format", "sha256", "fetched_at", "template", "error"),
        *("duplicate_of", "parser_version", "report_findings", "cross_findings", "reader", "pages"),
    ],
    "applications": [*_KEY_COLUMNS, "cells"],
    "review_litigation": [*_KEY_COLUMNS, "cells"],
    "proactive_disclosure": [*_KEY_COLUMNS, "cells", "table_versions", "template"],
    "cells": [*_KEY_COLUMNS, "cells"],
    "validation_issues": [*_KEY_COLUMNS, "report_findings", "cross_findings"],
    "indicators": [*_KEY_COLUMNS, "cells", "table_versions", "template"],
}


def _np(array: pa.Array | pa.ChunkedArray, fill: Any = None) -> np.ndarray:
    if fill is not None:
        array = pc.fill_null(array, fill)
    return array.to_numpy(zero_copy_only=False)


def _doc_rank(snapshot: pa.Table) -> np.ndarray:
    """Each document's place in (region, agency, year, report_id) order, nulls last (one row per document:
    pandas' sort, the same as `frame`)."""
    keys = ["region", "agency", "year", "report_id"]
    df = snapshot.select(keys).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    order = df.sort_values(keys, na_position="last", kind="stable").index.to_numpy()
    rank = np.empty(snapshot.num_rows, dtype=np.int64)
    rank[order] = np.arange(snapshot.num_rows, dtype=np.int64)
    return rank


def _canonical(snapshot: pa.Table) -> np.ndarray:
    """Documents whose values reach the data tables: status ok, parsed."""
    return _np(pc.and_(pc.equal(snapshot.column("status"), STATUS_OK), snapshot.column("parsed")), False)


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, … within each run of equal values of a sorted array."""
    n = len(groups)
    if not n:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return np.arange(n, dtype=np.int64) - np.repeat(starts, np.diff(np.r_[starts, n]))


def _keys(snapshot: pa.Table, docs: np.ndarray) -> dict[str, pa.Array]:
    index = pa.array(docs, pa.int64())
    return {name: snapshot.column(name).take(index) for name in ("report_id", "region", "agency", "year")}


def _finish(name: str, columns: dict[str, Any], order: np.ndarray) -> pa.Table:
    """The table's columns, in its schema, rows in `order`."""
    tdef = TABLES[name]
    arrays = []
    for c in tdef.columns:
        value = columns[c.name]
        arrays.append(
            value.cast(_ARROW[c.type])
            if isinstance(value, pa.Array | pa.ChunkedArray)
            else pa.array(value, _ARROW[c.type])
        )
    table = pa.Table.from_arrays(arrays, schema=tdef.schema)
    return table.take(pa.array(order, pa.int64()))


def _cells(snapshot: pa.Table, keep: np.ndarray, table: str | None = None) -> tuple[pa.Table, np.ndarray]:
    """The cells of the documents in `keep` (and of `table`), in printed order, with their document."""
    cells, parents = staging.flatten(snapshot, "cells")
    parents = _np(parents).astype(np.int64)
    mask = keep[parents] if len(parents) else np.zeros(0, dtype=bool)
    if table is not None and len(parents):
        mask &= _np(pc.equal(cells.column("table"), table), False)
    if mask.all():  # no copy when every cell is kept (the cells table)
        return cells, parents
    return cells.filter(pa.array(mask)), parents[mask]


def _integers(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(values as int64, valid): a count is null unless the value is a whole number."""
    v = _np(values, np.nan).astype(np.float64)
    valid = np.isfinite(v) & (v == np.floor(v)) & (np.abs(v) < _INT64_LIMIT)
    return np.where(valid, v, 0).astype(np.int64), valid


def _rows_of(snapshot: pa.Table, table: str, columns: tuple[str, ...]) -> dict[str, Any]:
    """Table 三 / 四 cells of canonical reports as rows: one per (document, printed row code), with its
    first appearance, printed label and the value of each column (the last one printed wins)."""
    cells, docs = _cells(snapshot, _canonical(snapshot), table)
    column = _np(pc.index_in(cells.column("column_code"), pa.array(columns)), -1).astype(np.int64)
    keep = column >= 0
    cells, docs, column = cells.filter(pa.array(keep)), docs[keep], column[keep]
    encoded = pc.dictionary_encode(pc.fill_null(cells.column("row_code"), "")).combine_chunks()
    codes = encoded.dictionary.to_pylist()
    row = _np(encoded.indices).astype(np.int64)
    group = docs * max(1, len(codes)) + row
    unique, first = np.unique(group, return_index=True)
    inverse = np.searchsorted(unique, group)
    width = len(columns)
    cell_key = inverse * width + column
    last_unique, last_reversed = np.unique(cell_key[::-1], return_index=True)
    last = len(cell_key) - 1 - last_reversed
    values, valid = _integers(cells.column("value"))
    matrix = np.zeros((len(unique), width), dtype=np.int64)
    present = np.zeros((len(unique), width), dtype=bool)
    matrix[last_unique // width, last_unique % width] = values[last]
    present[last_unique // width, last_unique % width] = valid[last]
    # rows in (document, first appearance) order: their rank within the document
    by_appearance = np.lexsort((first, docs[first]))
    rank = np.empty(len(unique), dtype=np.int64)
    rank[by_appearance] = _rank_within(docs[first][by_appearance])
    return {
        "docs": docs[first],
        "first": first,
        "rank": rank,
        "code": [codes[i] for i in row[first]],
        "label": cells.column("row_label").take(pa.array(first, pa.int64())).to_pylist(),
        "values": {c: pa.array(matrix[:, i], pa.int64(), mask=~present[:, i]) for i, c in enumerate(columns)},
    }


def _reports(snapshot: pa.Table) -> pa.Table:
    n = snapshot.num_rows
    parsed = pc.fill_null(snapshot.column("parsed"), False)
    title = snapshot.column("title")
    has_title = pc.fill_null(pc.and_kleene(pc.is_valid(title), pc.not_equal(title, "")), False)
    failed_checks = np.zeros(n, dtype=np.int64)
    for column in ("report_findings", "cross_findings"):
        findings, parents = staging.flatten(snapshot, column)
        if findings.num_rows:
            counted = ~_np(
                pc.is_in(findings.column("check"), pa.array(sorted(NOT_COUNTED_AS_FAILED_CHECK))), False
            )
            failed_checks += np.bincount(_np(parents).astype(np.int64)[counted], minlength=n)
    fetched = pd.to_datetime(pd.Series(snapshot.column("fetched_at").to_pylist(), dtype=object), utc=True)
    columns = {
        **_keys(snapshot, np.arange(n)),
        "source": snapshot.column("source"),
        "title": pc.if_else(has_title, title, snapshot.column("title_hint")),
        "url": snapshot.column("locator"),
        "format": snapshot.column("format"),
        "content_sha256": snapshot.column("sha256"),
        "fetched_at": pa.array(fetched.astype("datetime64[us, UTC]"), pa.timestamp("us", tz="UTC")),
        "template": pc.if_else(parsed, snapshot.column("template"), "unknown"),
        "status": snapshot.column("status"),
        "error": snapshot.column("error"),
        "duplicate_of": snapshot.column("duplicate_of"),
        "checks_failed": pa.array(failed_checks, pa.int64(), mask=~_np(parsed, False)),
        "parser_version": snapshot.column("parser_version"),
        "reader": snapshot.column("reader"),
        "pages": snapshot.column("pages"),
    }
    return _finish("reports", columns, np.argsort(_doc_rank(snapshot), kind="stable"))


def _applications(snapshot: pa.Table) -> pa.Table:
    rows = _rows_of(snapshot, "applications", _APPLICATION_COLUMNS)
    unknown = np.array([code not in _ROW_ORDER for code in rows["code"]], dtype=bool)
    # rows the template does not have come after its rows, in printed order
    extra = np.empty(len(unknown), dtype=np.int64)
    among_unknown = np.flatnonzero(unknown)[np.lexsort((rows["first"][unknown], rows["docs"][unknown]))]
    extra[among_unknown] = _rank_within(rows["docs"][among_unknown])
    order_in_report = (
        np.array([_ROW_ORDER.get(code, -1) for code in rows["code"]], dtype=np.int64)
        if len(unknown)
        else np.zeros(0, dtype=np.int64)
    )
    order_in_report = np.where(unknown, len(_ROW_ORDER) + extra, order_in_report)
    columns = {
        **_keys(snapshot, rows["docs"]),
        "row_code": rows["code"],
        "row_label": [
            _ROW_LABEL.get(code, label) for code, label in zip(rows["code"], rows["label"], strict=True)
        ],
        **rows["values"],
    }
    return _finish("applications", columns, np.lexsort((order_in_report, _doc_rank(snapshot)[rows["docs"]])))


def _review(snapshot: pa.Table) -> pa.Table:
    rows = _rows_of(snapshot, "review_litigation", _REVIEW_OUTCOMES)
    order_in_report = np.array(
        [
            _PROCEEDING_ORDER.get(code, len(_PROCEEDING_ORDER) + i)
            for code, i in zip(rows["code"], rows["rank"], strict=True)
        ],
        dtype=np.int64,
    )
    columns = {**_keys(snapshot, rows["docs"]), "proceeding": rows["code"], **rows["values"]}
    return _finish(
        "review_litigation",
        columns,
        np.lexsort((rows["first"], order_in_report, _doc_rank(snapshot)[rows["docs"]])),
    )


def _metric_label(code: str, version: str | None) -> str | None:
    metrics = T.metrics_for(version) if version in (T.V2019, T.V2021) else {}
    metric = metrics.get(code) or T.METRIC_BY_CODE.get(code)
    return metric.label if metric else None


def _proactive(snapshot: pa.Table) -> pa.Table:
    cells, docs = _cells(snapshot, _canonical(snapshot), "proactive_disclosure")
    templates = snapshot.column("template").to_pylist()
    versions = [
        json.loads(tv or "{}").get("proactive_disclosure") or template
        for tv, template in zip(snapshot.column("table_versions").to_pylist(), templates, strict=True)
    ]
    codes = cells.column("column_code").to_pylist()
    labels: dict[tuple[str, str | None], str | None] = {}
    metric_labels = []
    for code, doc in zip(codes, docs.tolist(), strict=True):
        key = (code, versions[doc])
        if key not in labels:
            labels[key] = _metric_label(*key)
        metric_labels.append(labels[key])
    printed = cells.column("row_label")
    category = [
        (c.label if (c := T.CATEGORY_BY_CODE.get(code or "")) else None)
        for code in cells.column("category_code").to_pylist()
    ]
    has_printed = pc.fill_null(pc.and_kleene(pc.is_valid(printed), pc.not_equal(printed, "")), False)
    unit = cells.column("unit")
    default_unit = [
        "10k_yuan" if (m := T.METRIC_BY_CODE.get(code)) is not None and m.amount else "count"
        for code in codes
    ]
    has_unit = pc.fill_null(pc.and_kleene(pc.is_valid(unit), pc.not_equal(unit, "")), False)
    item = _np(cells.column("article_item"), 0).astype(np.int64)
    columns = {
        **_keys(snapshot, docs),
        "article_item": cells.column("article_item"),
        "category_code": cells.column("category_code"),
        "category_label": pc.if_else(has_printed, printed, pa.array(category, pa.string())),
        "metric_code": cells.column("column_code"),
        "metric_label": metric_labels,
        "value": cells.column("value"),
        "unit": pc.if_else(has_unit, unit, pa.array(default_unit, pa.string())),
    }
    order = np.lexsort(
        (
            np.arange(len(docs)),
            _np(cells.column("source_col"), -1),
            _np(cells.column("source_row"), -1),
            _np(cells.column("source_table"), -1),
            np.where(item == 0, 99, item),
            _doc_rank(snapshot)[docs],
        )
    )
    return _finish("proactive_disclosure", columns, order)


def _cells_table(snapshot: pa.Table) -> pa.Table:
    cells, docs = _cells(snapshot, _np(snapshot.column("parsed"), False))
    table_order = _np(pc.index_in(cells.column("table"), pa.array(_TABLE_ORDER)), 9)
    columns = {
        **_keys(snapshot, docs),
        **{name: cells.column(name) for name in ("table", "row_code", "column_code", "raw_text", "value")},
        **{name: cells.column(name) for name in ("source_table", "source_row", "source_col", "unreadable")},
        **{name: cells.column(name) for name in ("source_page", "confidence")},
        **{
            f"box_{edge}": _list_item(cells.column("box"), i)
            for i, edge in enumerate(("x0", "y0", "x1", "y1"))
        },
    }
    order = np.lexsort(
        (
            np.arange(len(docs)),
            _np(cells.column("source_col"), -1),
            _np(cells.column("source_row"), -1),
            _np(cells.column("source_table"), -1),
            table_order,
            _doc_rank(snapshot)[docs],
        )
    )
    return _finish("cells", columns, order)


def _list_item(lists: pa.ChunkedArray | pa.Array, index: int) -> pa.ChunkedArray | pa.Array:
    """Item `index` of each list (null where the list is null or shorter)."""
    if isinstance(lists, pa.ChunkedArray):
        return pa.chunked_array([_list_item(chunk, index) for chunk in lists.chunks], pa.float64())
    lengths = _np(pc.list_value_length(lists), 0)
    long_enough = pa.array(lengths > index)
    safe = pc.if_else(long_enough, lists, pa.scalar([0.0] * (index + 1), lists.type))
    return pc.if_else(long_enough, pc.list_element(safe, index), pa.scalar(None, pa.float64()))


def _issues(snapshot: pa.Table) -> pa.Table:
    """The report's own findings, then the checks across reports, per document."""
    parts, docs, within = [], [], []
    own = _np(pc.list_value_length(snapshot.column("report_findings")), 0).astype(np.int64)
    for column, offset in (("report_findings", 0), ("cross_findings", 1)):
        findings, parents = staging.flatten(snapshot, column)
        parents = _np(parents).astype(np.int64)
        parts.append(findings)
        docs.append(parents)
        within.append(_rank_within(parents) + (own[parents] if offset else 0))
    findings = pa.concat_tables(parts)
    docs_all, within_all = np.concatenate(docs), np.concatenate(within)
    columns = {**_keys(snapshot, docs_all), **{c: findings.column(c) for c in findings.column_names}}
    return _finish("validation_issues", columns, np.lexsort((within_all, _doc_rank(snapshot)[docs_all])))


def _sum_all(frame: pd.DataFrame, columns: Iterable[str]) -> pd.Series:
    """Row sums that are null when any term is null (or its column absent)."""
    part = frame.reindex(columns=list(columns))
    return part.sum(axis=1, min_count=part.shape[1]).astype("Int64")


def _share(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    num = numerator.astype("Float64")
    den = denominator.astype("Float64")
    return (num / den.where(den != 0)).astype("float64")


def _proactive_value(pro: pd.DataFrame, category: str, metrics: tuple[str, ...]) -> pd.Series:
    """The value of (category, first of `metrics` printed) per report_id."""
    rows = pro[(pro["category_code"] == category) & pro["metric_code"].isin(metrics)].copy()
    rows["_order"] = rows["metric_code"].map({m: i for i, m in enumerate(metrics)})
    rows = rows.sort_values("_order", kind="stable").drop_duplicates("report_id")
    return rows.set_index("report_id")["value"]


def _whole(values: pd.Series) -> pd.Series:
    """Counts: whole numbers as Int64, anything else null."""
    v = values.astype("float64")
    return v.where(np.isfinite(v) & (v == np.floor(v))).astype("Int64")


def _indicators(snapshot: pa.Table) -> pa.Table:
    """One row per canonical report, from the three data tables as they are written (INDICATORS)."""
    docs = np.flatnonzero(_canonical(snapshot))
    docs = docs[np.argsort(_doc_rank(snapshot)[docs], kind="stable")]
    keys = _keys(snapshot, docs)
    ids = keys["report_id"].to_pylist()
    apps = to_frame(_applications(snapshot)).drop_duplicates(["report_id", "row_code"])
    a = apps.set_index(["report_id", "row_code"])["total"].unstack().reindex(ids)
    single = set(apps.loc[apps["row_code"] == _OTHER_SINGLE[0], "report_id"])
    review = to_frame(_review(snapshot)).drop_duplicates(["report_id", "proceeding"])
    total = review.set_index(["report_id", "proceeding"])["total"].unstack().reindex(ids)
    corrected = review.set_index(["report_id", "proceeding"])["corrected"].unstack().reindex(ids)
    pro = to_frame(_proactive(snapshot))
    litigation = ("litigation_direct", "litigation_after_review")
    out = pd.DataFrame(index=pd.Index(ids, name="report_id"))
    out["applications_new"] = _sum_all(a, ["new_received"])
    out["applications_carried_over"] = _sum_all(a, ["carried_over"])
    out["applications_received"] = _sum_all(a, ["new_received", "carried_over"])
    out["applications_processed"] = _sum_all(a, ["total_processed"])
    out["granted"] = _sum_all(a, ["granted"])
    out["partially_granted"] = _sum_all(a, ["partially_granted"])
    out["denied"] = _sum_all(a, _DENIED)
    out["unavailable"] = _sum_all(a, _UNAVAILABLE)
    out["not_processed"] = _sum_all(a, _NOT_PROCESSED)
    out["other_handling"] = _sum_all(a, _OTHER_SINGLE).where(
        out.index.isin(single), _sum_all(a, _OTHER_PARTS)
    )
    out["carried_forward"] = _sum_all(a, ["carried_forward"])
    out["grant_rate"] = _share(_sum_all(a, ["granted", "partially_granted"]), out["applications_processed"])
    out["reviews"] = _sum_all(total, ["administrative_review"])
    out["reviews_corrected"] = _sum_all(corrected, ["administrative_review"])
    out["review_corrected_share"] = _share(out["reviews_corrected"], out["reviews"])
    out["lawsuits"] = _sum_all(total, litigation)
    out["lawsuits_corrected"] = _sum_all(corrected, litigation)
    out["lawsuit_corrected_share"] = _share(out["lawsuits_corrected"], out["lawsuits"])
    out["normative_documents_issued"] = _whole(
        _proactive_value(pro, "normative_documents", ("issued", "made")).reindex(ids)
    )
    out["normative_documents_in_force"] = _whole(
        _proactive_value(pro, "normative_documents", ("in_force",)).reindex(ids)
    )
    out["fees_10k_yuan"] = _proactive_value(pro, "administrative_fees", ("fee_amount",)).reindex(ids)
    columns: dict[str, Any] = {
        **keys,
        "template": snapshot.column("template").take(pa.array(docs, pa.int64())),
    }
    for c in INDICATORS.columns[len(KEYS) + 1 :]:
        series = out[c.name]
        columns[c.name] = pa.array(series.to_numpy(dtype=object, na_value=None), _ARROW[c.type])
    return _finish("indicators", columns, np.arange(len(docs)))


_BUILDERS: dict[str, Callable[[pa.Table], pa.Table]] = {
    "reports": _reports,
    "applications": _applications,
    "review_litigation": _review,
    "proactive_disclosure": _proactive,
    "cells": _cells_table,
    "validation_issues": _issues,
    "indicators": _indicators,
}


def build_arrow(name: str, snapshot: pa.Table) -> pa.Table:
    """The table `name` from a staging snapshot (it needs the columns SNAPSHOT_COLUMNS[name])."""
    return _BUILDERS[name](snapshot)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table of the warehouse as a DataFrame: nullable Int64 for counts, as `frame` makes them."""
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def build_table(name: str, staged: list[Staged]) -> pd.DataFrame:
    return to_frame(build_arrow(name, staging.from_staged(staged)))


def build_tables(staged: list[Staged]) -> dict[str, pd.DataFrame]:
    snapshot = staging.from_staged(staged)
    return {name: to_frame(build_arrow(name, snapshot)) for name in TABLE_NAMES}


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
    """Rows (dicts) → a DataFrame with exactly the table's columns, dtypes and row order."""
    tdef = TABLES[name]
    data = {c.name: _series([r.get(c.name) for r in rows], c.type) for c in tdef.columns}
    data["_k"] = pd.Series([r.get("_k", 0) for r in rows], dtype="int64")
    df = pd.DataFrame(data)
    df = df.sort_values(["region", "agency", "year", "report_id", "_k"], na_position="last", kind="stable")
    return df.drop(columns="_k").reset_index(drop=True)


# ------------------------------------------------------------------------------------------ writing


def to_arrow(name: str, df: pd.DataFrame | pa.Table) -> pa.Table:
    """The data under the table's schema, exactly; raises if a column is missing or mistyped."""
    tdef = TABLES[name]
    names = df.column_names if isinstance(df, pa.Table) else list(df.columns)
    missing = [c for c in tdef.names if c not in names]
    if missing:
        raise ValueError(f"table {name}: missing columns {missing}")
    if isinstance(df, pa.Table):
        return df.select(tdef.names).cast(tdef.schema).replace_schema_metadata(_schema_metadata(name))
    return pa.Table.from_pandas(df[tdef.names], schema=tdef.schema, preserve_index=False)


@functools.cache
def _schema_metadata(name: str) -> dict[bytes, bytes]:
    """The schema metadata a DataFrame of the table writes (description, and pandas' own: so that
    `pd.read_parquet` gives Int64 counts whichever way the table was built)."""
    return pa.Table.from_pandas(
        frame(name, []), schema=TABLES[name].schema, preserve_index=False
    ).schema.metadata


def write_table(name: str, df: pd.DataFrame | pa.Table, path: DataPath) -> DataPath:
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


def rewrite_between(path: Path, start: str, end: str, body: str) -> bool:
    """Replace what a file holds between two marker lines (generated docs); True when it changed."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{start}\n{body}{end}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def update_readme(path: Path) -> bool:
    """Rewrite the README's data dictionary between its markers; True when the text changed."""
    return rewrite_between(path, README_START, README_END, data_dictionary() + "\n")
