"""Table 四 (administrative review and litigation): 15 numbers, 3 proceedings × 5 outcomes.

The national layout prints one data row of 15 values under a 3-row header; some agencies print
one row per proceeding instead. Values are mapped by order within the header's proceeding and
outcome order (checked against the printed header, not assumed), never by grid column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pipeline import template as T
from pipeline.document import GridCell
from pipeline.extract.rows import REVIEW, Row, looks_like_value, misread_by_ocr, numeric_count
from pipeline.labels import contains_any, normalize
from pipeline.report import Cell, Finding
from pipeline.values import Reading, read_count, split_run

_PROCEEDINGS = [p.code for p in T.REVIEW_PROCEEDINGS]
_OUTCOMES = [o.code for o in T.REVIEW_OUTCOMES]
_WIDTH = len(_PROCEEDINGS) * len(_OUTCOMES)


@dataclass(slots=True)
class ReviewResult:
    cells: list[Cell] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    found: bool = False


@lru_cache(maxsize=4096)
def _outcome(key: str) -> str | None:
    for o in T.REVIEW_OUTCOMES:
        if contains_any(key, o.keywords):
            return o.code
    return None


@lru_cache(maxsize=4096)
def _proceeding(key: str) -> str | None:
    """Which proceeding a label names; the order of tests matters (复议后起诉 contains 复议)."""
    for code in ("litigation_after_review", "litigation_direct", "administrative_review"):
        proc = next(p for p in T.REVIEW_PROCEEDINGS if p.code == code)
        if contains_any(key, proc.keywords):
            return code
    return None


def _header_orders(header: list[Row]) -> tuple[list[str], list[str]]:
    """Proceeding and outcome order as printed in the header; template order where not printed.

    The outcome order is taken from the first five neighbouring header cells that name all five
    outcomes: labels gathered across rows or cells may be parts of labels cut apart (a page break
    inside the header: 结 | 果维持), and their order is not the printed order."""
    procs: list[str] = []
    outcomes: list[str] = []
    for row in header:
        in_row: list[str | None] = []
        for cell in row.cells:
            key = normalize(cell.text)
            code = _proceeding(key)
            if code and code not in procs and not (code == "administrative_review" and "诉讼" in key):
                procs.append(code)
            in_row.append(_outcome(key) if len(key) <= 8 else None)
        if not outcomes:
            outcomes = _five_outcomes(in_row)
    if sorted(procs) != sorted(_PROCEEDINGS):
        procs = list(_PROCEEDINGS)
    if not outcomes:  # no header row names all five (e.g. labels cut by a page break): template order
        outcomes = list(_OUTCOMES)
    return procs, outcomes


def _five_outcomes(codes: list[str | None]) -> list[str]:
    """The first run of five neighbouring cells naming the five outcomes, each once; [] if none.

    Runs start where a proceeding's five columns start, counted from the row's end (its last cells
    are the value columns' headings): a run across two proceedings (其他 尚未审结 总计 | 维持 纠正)
    names all five too, in an order that is no proceeding's — read by OCR with one heading garbled,
    it would be taken."""
    n = len(_OUTCOMES)
    end = len(codes)
    while end and codes[end - 1] is None:  # an empty closing column (LibreOffice's w:gridAfter)
        end -= 1
    for start in range(end % n, end - n + 1, n):
        window = codes[start : start + n]
        if None not in window and sorted(window) == sorted(_OUTCOMES):  # type: ignore[type-var]
            return list(window)  # type: ignore[arg-type]
    return []


def _cell(proc: str, outcome: str, cell: GridCell, table_index: int, reading: Reading | None = None) -> Cell:
    reading = reading or read_count(cell.text)
    return Cell(
        REVIEW,
        proc,
        outcome,
        cell.text,
        reading.value,
        table_index,
        cell.row,
        cell.col,
        unreadable=reading.unreadable,
        row_label=next(p.label for p in T.REVIEW_PROCEEDINGS if p.code == proc),
    )


def extract(rows: list[Row]) -> ReviewResult:
    result = ReviewResult()
    header: list[Row] = []
    for i, row in enumerate(rows):
        values = [c for c in row.cells if looks_like_value(c.text)]
        tail = _value_tail(row, header)
        # the data row: 15 values (all blank is a data row too, under a header: blank cells are facts)
        if (
            len(row.cells) >= _WIDTH
            and (header or numeric_count(tail) > 0)
            and all(looks_like_value(c.text) or misread_by_ocr(c, tail, at_most=3, numbers=10) for c in tail)
        ):
            procs, outcomes = _header_orders(header)
            for k, cell in enumerate(tail):
                result.cells.append(_cell(procs[k // 5], outcomes[k % 5], cell, row.table_index))
            result.found = True
            return result
        if numeric_count(values) == 0:
            header.append(row)
            continue
        per_proc = _per_proceeding_rows(rows[i:], header)
        if per_proc:
            result.cells, result.found = per_proc, True
            return result
        _run_together(result, row)
        return result
    return result


def _value_tail(row: Row, header: list[Row]) -> list[GridCell]:
    """The data row's 15 value cells: its last 15 — unless cells printing nothing close the row and
    the header's outcome labels stand over the 15 before them. (LibreOffice turns a row's
    `w:gridAfter` into a real empty cell, in .docx and in PDF: a column the header does not have.)"""
    tail = row.cells[-_WIDTH:]
    end = len(row.cells)
    while end > _WIDTH and not normalize(row.cells[end - 1].text):
        end -= 1
    if end == len(row.cells):
        return tail
    labelled = max(
        ([c.col for c in h.cells if _outcome(normalize(c.text))] for h in header), key=len, default=[]
    )
    before = row.cells[end - _WIDTH : end]
    return before if labelled == [c.col for c in before] else tail


def _per_proceeding_rows(rows: list[Row], header: list[Row]) -> list[Cell]:
    """Transposed layout: one row per proceeding (label + 5 values)."""
    _, outcomes = _header_orders(header)
    cells: list[Cell] = []
    seen: set[str] = set()
    for row in rows:
        if len(row.cells) < 6:
            continue
        labels, values = row.cells[:-5], row.cells[-5:]
        proc = _proceeding("".join(normalize(c.text) for c in labels))
        if proc is None or proc in seen or not all(looks_like_value(c.text) for c in values):
            continue
        seen.add(proc)
        cells.extend(_cell(proc, outcomes[k], cell, row.table_index) for k, cell in enumerate(values))
    return cells if len(seen) == len(_PROCEEDINGS) else []


def _run_together(result: ReviewResult, row: Row) -> None:
    """A data row that does not hold 15 separate values: one run of digits is cut where it cuts one
    way only (values.split_run); anything else leaves all 15 values unreadable."""
    printed_cells = [c for c in row.cells if normalize(c.text)]
    anchor = printed_cells[-1] if printed_cells else row.cells[-1]
    readings = split_run(anchor.text, _WIDTH) if len(printed_cells) == 1 else None
    if readings is None:
        reason = (
            f"table 四 data row has {len(printed_cells)} cells where {_WIDTH} values were expected: "
            f"{' | '.join(c.text for c in printed_cells)[:120]!r}"
        )
        readings = [Reading(None, reason)] * _WIDTH
    for k, reading in enumerate(readings):
        result.cells.append(_cell(_PROCEEDINGS[k // 5], _OUTCOMES[k % 5], anchor, row.table_index, reading))
    result.found = True
