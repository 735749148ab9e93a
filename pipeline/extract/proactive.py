"""Table 二 (proactive disclosure): blocks of 第二十条第（N）项, each with its metric header and rows.

Each block announces itself (第二十条第（N）项, as a row of its own or as a cell spanning the block's
rows), then prints a header (信息内容 | metric labels) and category rows. Metrics are read from the
block's header, so the version (2019: 本年新制作数量…; 2021: 本年制发件数…) is known per block;
values are taken in order from the right (a single value may span 3 columns). Rows the template
does not have (行政检查 under 其他对外管理服务事项, 其他主动公开文件) are kept with their printed label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline import template as T
from pipeline.document import GridCell
from pipeline.extract.rows import PROACTIVE, Row, looks_like_value, numeric_count
from pipeline.labels import contains_any, normalize, printed
from pipeline.report import Cell, Finding
from pipeline.values import column_unit, read_amount, read_count

_ITEM = re.compile(r"第\(?([一二三四五六七八九十]+)\)?项")


@dataclass(slots=True)
class ProactiveResult:
    cells: list[Cell] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    versions: set[str] = field(default_factory=set)
    found: bool = False


@dataclass(frozen=True, slots=True)
class _Metric:
    code: str
    version: str | None  # None: the same in both versions (decisions)
    amount: bool
    signed: bool
    unit: str | None  # money unit declared by the header


@lru_cache(maxsize=4096)
def _block_item(text: str) -> int | None:
    """The article item a 第二十条第（N）项 label names, or None."""
    key = normalize(text)
    m = _ITEM.search(key) if "第二十条" in key else None
    return T.ARTICLE_ITEMS.get(m.group(1)) if m else None


@lru_cache(maxsize=4096)
def _metric(header_text: str) -> _Metric | None:
    key = normalize(header_text)
    for m in T.PROACTIVE_METRICS:
        if contains_any(key, m.keywords):
            shared = m.code == "decisions"
            return _Metric(
                m.code, None if shared else m.version, m.amount, m.signed, column_unit(header_text)
            )
    return None


def _default_metrics(item: int, n_values: int, versions: set[str]) -> list[_Metric] | None:
    """Template metrics for a block printed without a header, when the count of values decides."""
    fits = [b for b in (T.block(item, v) for v in (T.V2019, T.V2021)) if b and len(b.metrics) == n_values]
    if len(fits) > 1:
        fits = [b for b in fits if b.version in versions] or []
    if len(fits) != 1:
        return None
    b = fits[0]
    return [
        _Metric(
            c,
            None if c == "decisions" else b.version,
            T.METRIC_BY_CODE[c].amount,
            T.METRIC_BY_CODE[c].signed,
            None,
        )
        for c in b.metrics
    ]


@lru_cache(maxsize=4096)
def _category(label: str, item: int | None) -> str | None:
    key = normalize(label)
    for cat in sorted(T.PROACTIVE_CATEGORIES, key=lambda c: -max(len(k) for k in c.keywords)):
        if contains_any(key, cat.keywords) and (item is None or cat.article_item == item):
            return cat.code
    return None


def _read(metric: _Metric, cell: GridCell) -> tuple[float | None, str | None]:
    if metric.amount:
        r = read_amount(cell.text, column_unit=metric.unit)
    else:
        r = read_count(cell.text, signed=metric.signed)
    return r.value, r.unreadable


def extract(rows: list[Row]) -> ProactiveResult:
    result = ProactiveResult()
    item: int | None = None
    metrics: list[_Metric] | None = None
    table_index: int | None = None
    for row in rows:
        if row.table_index != table_index:  # a block title printed as a paragraph just before the table
            table_index = row.table_index
            heading = _block_item(row.table.context.rsplit("\n", 1)[-1])
            if heading is not None:
                item, metrics = heading, None
        cells = []
        for c in row.cells:
            block_item = _block_item(c.text)
            if block_item is not None:
                if c.row == row.r:
                    item, metrics = block_item, None
                continue
            cells.append(c)
        if not cells or item is None:
            continue
        header = [_metric(c.text) for c in cells[1:]]
        if numeric_count(cells) == 0 and any(header):
            metrics = [m for m in header if m is not None]
            continue
        _data_row(result, row, cells, item, metrics)
    return result


def _data_row(
    result: ProactiveResult, row: Row, cells: list[GridCell], item: int, metrics: list[_Metric] | None
) -> None:
    width = len(metrics) if metrics else None
    if width is None:
        values = [c for c in cells if looks_like_value(c.text)]
        metrics = _default_metrics(item, len(values), result.versions)
        if metrics is None:
            if numeric_count(values):
                result.findings.append(
                    Finding(
                        "unknown_layout",
                        f"article_item {item}",
                        None,
                        None,
                        "warning",
                        f"table 二 第（{item}）项: values without a header naming their columns "
                        f"(table {row.table_index}, row {row.r}); not read",
                    )
                )
            return
        width = len(metrics)
    if len(cells) < width + 1:
        return
    labels, values = cells[:-width], cells[-width:]
    readings = [_read(metric, cell) for metric, cell in zip(metrics, values, strict=True)]
    # A row of nothing but unreadable text is no data row, unless OCR read it: then its values are
    # unreadable, visibly, rather than the row silently gone.
    misread = any(c.confidence is not None and c.text.strip() for c in values)
    if (all(unreadable for _, unreadable in readings) and not misread) or not any(
        normalize(c.text) for c in labels
    ):
        return
    label = printed(labels[-1].text) or printed("".join(c.text for c in labels))
    code = _category(labels[-1].text, item)
    for metric, cell, (value, unreadable) in zip(metrics, values, readings, strict=True):
        if metric.version:
            result.versions.add(metric.version)
        result.cells.append(
            Cell(
                PROACTIVE,
                code or label,
                metric.code,
                cell.text,
                value,
                row.table_index,
                cell.row,
                cell.col,
                unreadable=unreadable,
                row_label=label,
                article_item=item,
                category_code=code,
                unit="10k_yuan" if metric.amount else "count",
            )
        )
    result.found = True
