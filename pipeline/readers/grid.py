"""Span expansion: printed rows of (text, rowspan, colspan) → an expanded grid of shared cells.

HTML and .docx both describe tables as rows of cells with spans; this is the one place that
turns them into grid positions, following the HTML table model (a cell takes the first free
column of its row; cells spanning from above occupy their columns in later rows).

Spans are what a hostile document inflates: 1,000 rows of `rowspan=1000 colspan=1000` is a few
kilobytes of HTML and half a billion grid positions, and a long text in a cell spanning many rows is
read again in every row (extraction walks rows). A document's tables share one budget (`GridBudget`)
of grid positions and of text as rows see it (each cell's length times its rowspan), checked before
anything is allocated; past it the document is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.document import DocumentError, GridCell

MAX_SPAN = 1000  # a span larger than any real table: treat as a typo, clamp
MAX_GRID_POSITIONS = 1_000_000  # per document: ~1,000× a real report's three tables
MAX_GRID_TEXT = 10_000_000  # characters per document, each cell counted once per row it spans
_POSITIONS = "grid positions"
_TEXT = "characters read row by row (a cell once per row it spans)"
# Per document, for every reader: a real report prints 3–10 tables and a few hundred cells.
MAX_TABLES = 5_000
MAX_CELLS = 200_000


@dataclass(frozen=True, slots=True)
class CellSpec:
    """A cell as printed in a row, before expansion; paged and OCR readers add where it was printed."""

    text: str
    rowspan: int = 1
    colspan: int = 1
    page: int | None = None
    confidence: float | None = None
    box: tuple[float, float, float, float] | None = None


def parse_span(raw: str | None) -> int:
    """A span attribute as a positive int; tolerant of junk (`"2;"`, `" 3 "`, `"abc"` → 1)."""
    if not raw:
        return 1
    digits = ""
    for ch in raw.strip():
        if ch.isdigit() and ch.isascii():
            digits += ch
        else:
            break
    if not digits:
        return 1
    if len(digits) > len(str(MAX_SPAN)):  # "99999…" (int() refuses thousands of digits)
        return MAX_SPAN
    return max(1, min(int(digits), MAX_SPAN))


class GridTooLarge(DocumentError):
    """A table would expand past the budget: `amount` of `what` where `limit` were left."""

    def __init__(self, amount: int, what: str, limit: int) -> None:
        super().__init__(f"table {what}: {amount} (limit {limit})")
        self.amount, self.what, self.limit = amount, what, limit


def expand(
    rows: list[list[CellSpec]], *, max_positions: int = MAX_GRID_POSITIONS, max_text: int = MAX_GRID_TEXT
) -> list[list[GridCell]]:
    """Expand printed rows into a grid; rowspans running past the last row are cut there.

    Rows stay ragged where the source is ragged: a row is as long as its last occupied column.
    Spans below 1 count as 1, colspans above `MAX_SPAN` as `MAX_SPAN`. Raises GridTooLarge, before
    building the grid, when it would hold more than `max_positions` positions or its rows more than
    `max_text` characters (`text_volume`).
    """
    n_rows = len(rows)
    spans = [
        [(max(1, min(spec.rowspan, n_rows - r)), max(1, min(spec.colspan, MAX_SPAN))) for spec in specs]
        for r, specs in enumerate(rows)
    ]
    covered = sum(rowspan * colspan for row in spans for rowspan, colspan in row)
    if covered > max_positions:
        raise GridTooLarge(covered, _POSITIONS, max_positions)
    volume = text_volume(rows)
    if volume > max_text:
        raise GridTooLarge(volume, _TEXT, max_text)
    grid: list[list[GridCell | None]] = [[] for _ in range(n_rows)]
    for r, specs in enumerate(rows):
        here = grid[r]
        col = 0
        for spec, (rowspan, colspan) in zip(specs, spans[r], strict=True):
            if col < len(here) and here[col] is not None:  # taken by a cell spanning from above
                try:
                    col = here.index(None, col)
                except ValueError:
                    col = len(here)
            cell = GridCell(spec.text, r, col, rowspan, colspan, spec.page, spec.confidence, spec.box)
            for below in grid[r : r + rowspan]:
                if len(below) < col + colspan:
                    below.extend([None] * (col + colspan - len(below)))
                below[col : col + colspan] = [cell] * colspan
            col += colspan
    total = sum(map(len, grid))  # with the holes ragged rows leave
    if total > max_positions:
        raise GridTooLarge(total, _POSITIONS, max_positions)
    for r, row in enumerate(grid):
        if None in row:  # a hole left by ragged rows above: an empty cell of its own
            for c, cell in enumerate(row):
                if cell is None:
                    row[c] = GridCell("", r, c)
    return grid  # type: ignore[return-value]  # every None was filled


def text_volume(rows: list[list[CellSpec]]) -> int:
    """Characters of text as the table's rows hold them: each cell's length times the rows it spans."""
    n_rows = len(rows)
    return sum(
        len(spec.text) * max(1, min(spec.rowspan, n_rows - r))
        for r, specs in enumerate(rows)
        for spec in specs
    )


class GridBudget:
    """What a document's tables may still take (grid positions, text in rows): one per document."""

    def __init__(self, fmt: str, positions: int = MAX_GRID_POSITIONS, text: int = MAX_GRID_TEXT) -> None:
        self.fmt = fmt
        self.positions = positions
        self.text = text
        self.tables = 0

    def expand(self, rows: list[list[CellSpec]]) -> list[list[GridCell]]:
        """`expand` within what is left; a DocumentError naming the format past it."""
        try:
            grid = expand(rows, max_positions=self.positions, max_text=self.text)
        except GridTooLarge as exc:
            whole = MAX_GRID_POSITIONS if exc.what == _POSITIONS else MAX_GRID_TEXT
            raise DocumentError(
                f"{self.fmt}: tables too large to read ({exc.what}: {exc.amount} in table {self.tables + 1}, "
                f"{exc.limit} left of {whole} per document)"
            ) from None
        self.tables += 1
        self.positions -= sum(len(row) for row in grid)
        self.text -= text_volume(rows)
        return grid
