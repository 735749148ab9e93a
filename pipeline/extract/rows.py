"""Rows of all tables as one stream, each assigned to table 二, 三 or 四.

Reports print the three tables as one table, as three, as five for table 二, or split across page
breaks with or without repeated headers. Working on a stream of rows, each labelled with the
section it belongs to, makes all of those the same case: a section starts where its markers
appear (or where the text just before a table names it) and runs until another one starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.document import Document, GridCell, Table
from pipeline.labels import normalize
from pipeline.values import read_count

PROACTIVE = "proactive_disclosure"
APPLICATIONS = "applications"
REVIEW = "review_litigation"

_APPLICATION_MARKERS = ("申请人情况", "本列数据", "勾稽关系", "本年新收", "自然人", "商业企业")
_CONTEXT_HEADINGS: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (PROACTIVE, ("主动公开政府信息情况", "主动公开情况", "主动公开")),
    (APPLICATIONS, ("收到和处理政府信息公开申请", "依申请公开", "收到和处理")),
    (REVIEW, ("行政复议.行政诉讼", "行政复议", "行政诉讼")),
    (None, ("存在的主要问题", "改进情况", "其他需要报告")),
)


@dataclass(slots=True)
class Row:
    """One printed row: its table, its index in that table's grid, and its distinct cells."""

    table: Table
    r: int
    cells: list[GridCell]
    key: str  # normalised text of the whole row

    @property
    def table_index(self) -> int:
        return self.table.index


def make_row(table: Table, r: int) -> Row:
    cells = table.row_cells(r)
    return Row(table, r, cells, "".join(normalize(c.text) for c in cells))


def looks_like_value(text: str) -> bool:
    """True for cells a value reader accepts (numbers, blanks, n/a marks, 无)."""
    return read_count(text, signed=True, integer=False).unreadable is None


def misread_by_ocr(cell: GridCell, values: list[GridCell], *, at_most: int, numbers: int) -> bool:
    """An OCR'd cell read as something that is no value (`I` for `1`, `■` for a dash), in a row of
    values: the row is data and that cell unreadable, not a row to skip. At most `at_most` such cells
    in the row, and at least `numbers` cells around them that are values."""
    misread = [c for c in values if c.confidence is not None and not looks_like_value(c.text)]
    return cell in misread and len(misread) <= at_most and len(values) - len(misread) >= numbers


def numeric_count(cells: list[GridCell]) -> int:
    """How many cells carry a number (not blank, not n/a)."""
    n = 0
    for c in cells:
        reading = read_count(c.text, signed=True, integer=False)
        if reading.unreadable is None and reading.value is not None:
            n += 1
    return n


def row_marker(key: str) -> str | None:
    """The section a row itself announces, if any."""
    if "第二十条" in key:
        return PROACTIVE
    if "行政复议" in key and ("行政诉讼" in key or "维持" in key or "复议后" in key):
        return REVIEW
    if any(m in key for m in _APPLICATION_MARKERS):
        return APPLICATIONS
    return None


def context_section(context: str) -> tuple[bool, str | None]:
    """The section named last in the text printed just before a table: (named anything, section).

    A heading of a narrative section (五、存在的主要问题…) ends the tables: (True, None).
    """
    key = normalize(context)
    best: tuple[int, str | None] | None = None
    for section, headings in _CONTEXT_HEADINGS:
        for h in headings:
            pos = key.rfind(h.replace(".", ""))
            if pos >= 0 and (best is None or pos > best[0]):
                best = (pos, section)
            if pos >= 0:
                break
    return (best is not None, best[1] if best else None)


def segment(doc: Document) -> dict[str, list[Row]]:
    """Assign every row of every table to a section; rows before any section are dropped."""
    out: dict[str, list[Row]] = {PROACTIVE: [], APPLICATIONS: [], REVIEW: []}
    current: str | None = None
    for table in doc.tables:
        first = True
        for r in range(table.n_rows):
            row = make_row(table, r)
            if not row.cells:
                continue
            marker = row_marker(row.key)
            if marker is None and first:
                named, section = context_section(table.context)
                if named:
                    current = section
            first = False
            if marker is not None:
                current = marker
            if current is not None:
                out[current].append(row)
    return out
