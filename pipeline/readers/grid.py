"""Span expansion: printed rows of (text, rowspan, colspan) → an expanded grid of shared cells.

HTML and .docx both describe tables as rows of cells with spans; this is the one place that
turns them into grid positions, following the HTML table model (a cell takes the first free
column of its row; cells spanning from above occupy their columns in later rows).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.document import GridCell

MAX_SPAN = 1000  # a span larger than any real table: treat as a typo, clamp


@dataclass(frozen=True, slots=True)
class CellSpec:
    """A cell as printed in a row, before expansion."""

    text: str
    rowspan: int = 1
    colspan: int = 1


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
    return max(1, min(int(digits), MAX_SPAN))


def expand(rows: list[list[CellSpec]]) -> list[list[GridCell]]:
    """Expand printed rows into a grid; rowspans running past the last row are cut there.

    Rows stay ragged where the source is ragged: a row is as long as its last occupied column.
    """
    n_rows = len(rows)
    grid: list[dict[int, GridCell]] = [dict() for _ in range(n_rows)]
    for r, specs in enumerate(rows):
        col = 0
        for spec in specs:
            while col in grid[r]:
                col += 1
            rowspan = min(spec.rowspan, n_rows - r)
            cell = GridCell(spec.text, r, col, rowspan, spec.colspan)
            for dr in range(rowspan):
                for dc in range(spec.colspan):
                    grid[r + dr][col + dc] = cell
            col += spec.colspan
    out: list[list[GridCell]] = []
    for r, positions in enumerate(grid):
        if not positions:
            out.append([])
            continue
        width = max(positions) + 1
        row = []
        for c in range(width):
            cell = positions.get(c)
            if cell is None:  # a hole left by ragged rows above: an empty cell of its own
                cell = GridCell("", r, c)
            row.append(cell)
        out.append(row)
    return out
