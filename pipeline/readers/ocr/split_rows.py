"""A table row a page break cut in two, on scanned pages: its lower part goes back into its upper part.

Browsers let a tall row break across pages and draw no border where they cut it, so on the scan the
last row of one page and the first row of the next are open (no closing line: `ruling._closed`
added the page's edge as their boundary). Read apart, the upper part holds the values and the start
of the label, the lower part the end of the label ("申请") and no value: the template row would not
be recognised from either half.

The two parts are joined only when they cannot be anything else (the rule the text PDF reader
follows, `pdf._join_split_row`): every cell of the lower part sits under a cell of the upper part
spanning exactly the same columns (the tables' left or right edges aligned: a scan's page offset
differs; an empty lower cell beyond the upper table's edge is a column whose lines no row joins on
that page), no lower cell holds a number (a new data row does), and text is only
added to a cell that holds text that is no number (a repeated header prints over numbers).
"""

from __future__ import annotations

import dataclasses

from pipeline.document import GridCell, Table
from pipeline.values import is_number

X_TOLERANCE = 0.006  # of the table's width: where a column's lines fall on two scans of one print


def join_split_row(above: Table, below: Table) -> Table | None:
    """Move the first row of `below` (a page's first table) into the last row of `above` (the previous
    page's last table) when it is that row's lower part. Returns `below` as it then stands: without
    that row (None when nothing is left), or unchanged when the rows are not one."""
    if not above.grid or not below.grid:
        return below
    upper, lower = above.row_cells(len(above.grid) - 1), below.row_cells(0)
    if any(c.box is None for c in upper + lower):
        return below
    moves = None
    for shift in _shifts(above, below):
        moves = _matches(upper, lower, shift, max(4.0, X_TOLERANCE * _extent(above)[1]))
        if moves is not None:
            break
    if moves is None:
        return below
    joined: dict[int, GridCell] = {}
    for match, cell in moves.values():
        confidences = [c for c in (match.confidence, cell.confidence) if c is not None]
        joined[id(match)] = dataclasses.replace(
            match,
            text=f"{match.text}\n{cell.text}",
            confidence=min(confidences) if confidences else None,
        )
    above.grid = [[joined.get(id(c), c) for c in row] for row in above.grid]
    return _without_first_row(below)


def _matches(
    upper: list[GridCell], lower: list[GridCell], shift: float, tolerance: float
) -> dict[int, tuple[GridCell, GridCell]] | None:
    """The upper cell each lower cell's text goes to, when every lower cell sits under an upper cell
    of the same columns (its x shifted by `shift`) and the texts allow the join; else None."""
    moves: dict[int, tuple[GridCell, GridCell]] = {}
    for cell in lower:
        assert cell.box is not None
        match = next(
            (
                u
                for u in upper
                if u.box is not None
                and abs(u.box[0] + shift - cell.box[0]) <= tolerance
                and abs(u.box[2] + shift - cell.box[2]) <= tolerance
            ),
            None,
        )
        if match is None:
            if cell.text.strip() or not _outside(cell, upper, shift, tolerance):
                return None
            continue  # an empty cell of a column the upper table lacks (its lines joined by no row)
        text, over = cell.text.strip(), match.text.strip()
        if text and (is_number(text) or not over or is_number(over)):
            return None
        if text and cell.rowspan == 1:
            moves[id(match)] = (match, cell)
    return moves


def _outside(cell: GridCell, upper: list[GridCell], shift: float, tolerance: float) -> bool:
    """Whether `cell` lies left or right of the whole upper row."""
    assert cell.box is not None
    left = min(u.box[0] for u in upper if u.box is not None) + shift
    right = max(u.box[2] for u in upper if u.box is not None) + shift
    return cell.box[2] <= left + tolerance or cell.box[0] >= right - tolerance


def _shifts(above: Table, below: Table) -> list[float]:
    """Where the lower table may stand against the upper one: their left edges aligned, or their
    right edges (a column whose lines no row joins on one page is not part of its table there)."""
    left_a, width_a = _extent(above)
    left_b, width_b = _extent(below)
    return [left_b - left_a, (left_b + width_b) - (left_a + width_a)]


def _extent(table: Table) -> tuple[float, float]:
    """The table's left edge and width in its picture's pixels."""
    boxes = [c.box for row in table.grid for c in row if c.box is not None]
    if not boxes:
        return 0.0, 0.0
    left = min(b[0] for b in boxes)
    return left, max(b[2] for b in boxes) - left


def _without_first_row(table: Table) -> Table | None:
    """The table less its first row; cells spanning on below it keep the rows they cover there."""
    if len(table.grid) == 1:
        return None
    moved: dict[int, GridCell] = {}

    def up(cell: GridCell) -> GridCell:
        if id(cell) not in moved:
            starts_above = cell.row == 0
            moved[id(cell)] = dataclasses.replace(
                cell,
                row=max(0, cell.row - 1),
                rowspan=cell.rowspan - 1 if starts_above else cell.rowspan,
            )
        return moved[id(cell)]

    return Table(table.index, [[up(c) for c in row] for row in table.grid[1:]], table.context)
