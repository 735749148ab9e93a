"""Table 三 (applications): rows by label and hierarchy, value columns by header and order.

A data row is its label cells followed by V value cells (V = 7, or 8 with an extra 法人或其他组织小计
column). Values are taken in order from the right, so a value cell spanning two grid columns or a
header whose colspans sit on other columns than the data rows' does not shift anything. Row labels
are matched by keywords (with known variants and typos) inside the group the row sits in — （三）
不予公开 etc., printed in a spanning cell or on an earlier row — and by item number as a fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pipeline import template as T
from pipeline.document import GridCell
from pipeline.extract.rows import APPLICATIONS, Row, looks_like_value, misread_by_ocr
from pipeline.labels import contains_any, group_marker, item_number, normalize, printed, top_marker
from pipeline.report import Cell, Finding
from pipeline.values import Reading, read_count, split_run

_GROUP_LABELS = ("法人或其他组织", "申请人情况")
# Data rows beyond the template's 26 (unknown, or repeating one) before the rest of the section is
# left unread: real reports print a few; a hostile one 100,000, each costing lineage and findings.
MAX_EXTRA_ROWS = 200


@dataclass(slots=True)
class ApplicationsResult:
    cells: list[Cell] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    version: str | None = None
    found: bool = False


@lru_cache(maxsize=4096)
def _column_code(key: str) -> str | None:
    """The column a header label names; group headers (法人或其他组织) name none."""
    if "小计" in key:
        return "legal_person_subtotal"
    if not key or any(key.startswith(g) for g in _GROUP_LABELS):
        return None
    for col in T.APPLICATION_COLUMNS:
        if contains_any(key, col.keywords):
            return col.code
    return None


def column_order(header_rows: list[Row]) -> list[str]:
    """Value columns in printed order, from the header rows.

    With spans known, each grid column takes the lowest header cell naming a column; without spans
    (text dumps), columns come in template order with an extra 小计 column where it is printed.
    """
    header = _Header()
    for row in header_rows:
        header.add(row)
    return header.order()


class _Header:
    """Header rows as they stream by, folded into what `column_order` needs as each one arrives.

    A table 三 section may hold any number of rows before its first data row (a hostile or odd
    document: thousands); re-reading all of them for every row would be quadratic.
    """

    def __init__(self) -> None:
        self.by_col: dict[int, tuple[int, str]] = {}
        self.codes: set[str] = set()  # every column named, in any table
        self.table: int | None = None
        self.has_spans = False
        self._order: list[str] | None = None

    def add(self, row: Row) -> None:
        if row.table_index != self.table:
            # Grid columns of two tables do not line up (a header cut by a page break): positions
            # come from the latest table's header rows only.
            self.table, self.by_col, self._order = row.table_index, {}, None
        for cell in row.cells:
            if (cell.rowspan > 1 or cell.colspan > 1) and not self.has_spans:
                self.has_spans, self._order = True, None
            code = _column_code(normalize(cell.text))
            if code is None:
                continue
            for c in range(cell.col, cell.col + cell.colspan):
                self.by_col[c] = (row.r, code)
            self.codes.add(code)
            self._order = None

    def order(self) -> list[str]:
        if self._order is None:
            self._order = self._compute()
        return self._order

    def _compute(self) -> list[str]:
        by_col = self.by_col
        if self.has_spans and by_col:
            ordered: list[str] = []
            for c in sorted(by_col):
                code = by_col[c][1]
                if not ordered or ordered[-1] != code:
                    ordered.append(code)
            if len(ordered) == len(set(ordered)) and set(ordered) >= {c.code for c in T.APPLICATION_COLUMNS}:
                return ordered
        order = [c.code for c in T.APPLICATION_COLUMNS]
        if "legal_person_subtotal" in self.codes:
            order.insert(order.index("other_org") + 1, "legal_person_subtotal")
        return order


class _RowClassifier:
    """Tracks the group (（三）…) a row sits in while rows stream by, and names each row."""

    def __init__(self) -> None:
        self.group: str | None = None

    def classify(self, label_texts: list[str]) -> str | None:
        keys = [k for k in (normalize(t) for t in label_texts) if k]
        if not keys:
            return None
        joined = "".join(keys)
        leaf = keys[-1]
        for key in keys:
            g = group_marker(key)
            if g or top_marker(key):
                self.group = g
        if "结转下年" in joined:
            return "carried_forward"
        if "上年结转" in joined:
            return "carried_over"
        if "新收" in joined:
            return "new_received"
        leaf_group = group_marker(leaf)
        group = leaf_group or self.group
        simple = {"(一)": "granted", "(二)": "partially_granted", "(七)": "total_processed"}
        if leaf_group in simple and item_number(leaf) is None:
            return simple[leaf_group]
        if leaf_group is None and item_number(leaf) is None:
            for code in ("granted", "partially_granted", "total_processed"):
                if contains_any(leaf, T.APPLICATION_ROW_BY_CODE[code].keywords):
                    return code
        if group == "(六)" and item_number(leaf) is None and contains_any(leaf, ("其他处理",)):
            return "other_handling"
        code = self._within_group(group, leaf)
        if code is None and group is not None:
            code = self._in_any_group(leaf)
        return code

    def _in_any_group(self, leaf: str) -> str | None:
        """A row whose group label was lost (printed on another page than its rows, cut away): the
        one template row anywhere whose keywords it holds and whose item number it carries. The
        group then follows that row."""
        item = item_number(leaf)
        body = leaf.split(".", 1)[1] if item is not None and "." in leaf else leaf
        matches = [
            r
            for r in T.APPLICATION_ROWS
            if r.item is not None and (item is None or r.item == item) and contains_any(body, r.keywords)
        ]
        if len(matches) != 1:
            return None
        self.group = matches[0].group
        return matches[0].code

    @staticmethod
    def _within_group(group: str | None, leaf: str) -> str | None:
        item = item_number(leaf)
        candidates = T.rows_for_group(group) if group else [r for r in T.APPLICATION_ROWS if r.item]
        candidates = [r for r in candidates if r.item is not None]
        body = leaf.split(".", 1)[1] if item is not None and "." in leaf else leaf
        by_keyword = [r for r in candidates if contains_any(body, r.keywords)]
        if len(by_keyword) > 1:  # "其他" is also part of 其他法律…: prefer the longest keyword hit
            by_keyword.sort(key=lambda r: -max(len(k) for k in r.keywords if k in body))
        if by_keyword:
            return by_keyword[0].code
        if item is not None and group:
            for r in candidates:
                if r.item == item:
                    return r.code
        return None


def _stacked_values(text: str) -> bool:
    """Several numbers stacked in one cell (`12\n3`): a data cell, read later as unreadable."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    return len(lines) > 1 and all(looks_like_value(ln) for ln in lines)


def _misread(cell: GridCell, values: list[GridCell]) -> bool:
    return misread_by_ocr(cell, values, at_most=2, numbers=3)


def _split(row: Row, width: int) -> tuple[list[GridCell], list[GridCell], list[Reading]] | None:
    """A data row as (label cells, one cell per value column, readings); None for other rows.

    Normally the last `width` cells are the values. A lossy text dump may print the row's numbers as
    one run of digits (`0000000`): that one cell then stands for every column, each value recovered
    only where the run cuts one way (values.split_run).
    """
    if len(row.cells) >= width + 1:
        labels, values = row.cells[:-width], row.cells[-width:]
        if all(looks_like_value(c.text) or _stacked_values(c.text) or _misread(c, values) for c in values):
            return labels, values, [read_count(c.text) for c in values]
    if len(row.cells) >= 2:
        readings = split_run(row.cells[-1].text, width)
        if readings is not None:
            return row.cells[:-1], [row.cells[-1]] * width, readings
    return None


def extract(rows: list[Row]) -> ApplicationsResult:
    result = ApplicationsResult()
    header = _Header()
    order: list[str] | None = None
    classifier = _RowClassifier()
    seen: set[str] = set()
    extra = 0
    for row in rows:
        width = len(order) if order else len(header.order())
        split = _split(row, width)
        if split is None or not any(normalize(c.text) for c in split[0]):
            if order is None:
                header.add(row)
            continue
        order = order or header.order()
        labels, values, readings = split
        code = classifier.classify([c.text for c in labels])
        if code is None or code in seen:
            extra += 1
            if extra > MAX_EXTRA_ROWS:
                result.findings.append(_too_many_rows(row))
                break
        if code is None:
            _unknown_row(result, row, labels, values, readings, order)
            continue
        if code in seen:
            result.findings.append(
                Finding(
                    "duplicate_row",
                    code,
                    None,
                    None,
                    "warning",
                    f"table 三 row {code} printed twice (table {row.table_index}, row {row.r}); first kept",
                )
            )
            continue
        seen.add(code)
        result.found = True
        label = printed(labels[-1].text) if labels else ""
        result.cells.extend(_row_cells(code, label, row, order, values, readings))
    codes = seen
    if "other_handling" in codes:
        result.version = T.V2019
    elif codes & {"other_handling_no_correction", "other_handling_unpaid_fee", "other_handling_other"}:
        result.version = T.V2021
    return result


def _row_cells(
    row_code: str, label: str, row: Row, order: list[str], values: list[GridCell], readings: list[Reading]
) -> list[Cell]:
    """One Cell per value column of a data row, each pointing at the printed cell it was read from."""
    return [
        Cell(
            APPLICATIONS,
            row_code,
            col_code,
            cell.text,
            reading.value,
            row.table_index,
            cell.row,
            cell.col,
            unreadable=reading.unreadable,
            row_label=label,
        )
        for col_code, cell, reading in zip(order, values, readings, strict=True)
    ]


def _too_many_rows(row: Row) -> Finding:
    return Finding(
        "unknown_row",
        f"row {row.r}",
        None,
        None,
        "warning",
        f"table 三: more than {MAX_EXTRA_ROWS} data rows that are not template rows or repeat one; "
        f"the rest, from table {row.table_index} row {row.r} on, is not read",
    )


def _unknown_row(
    result: ApplicationsResult,
    row: Row,
    labels: list[GridCell],
    values: list[GridCell],
    readings: list[Reading],
    order: list[str],
) -> None:
    """A data row the template does not have: kept in lineage under its printed label."""
    label = printed("".join(c.text for c in labels if c.row == row.r)) or f"row {row.r}"
    result.cells.extend(_row_cells(label, label, row, order, values, readings))
    result.findings.append(
        Finding(
            "unknown_row",
            label,
            None,
            None,
            "warning",
            f"table 三: row {label!r} (table {row.table_index}, row {row.r}) is not a template row; kept in cells",
        )
    )
