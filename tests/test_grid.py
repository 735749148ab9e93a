"""Span expansion: the table model every reader shares."""

import pytest

from pipeline.readers.grid import CellSpec, expand, parse_span


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 1), ("", 1), ("2", 2), ("2;", 2), (" 3 ", 3), ("abc", 1), ("0", 1), ("99999", 1000), ("２", 1)],
)
def test_parse_span_tolerates_junk(raw, expected):
    assert parse_span(raw) == expected


def test_rowspan_and_colspan_share_one_cell():
    rows = [
        [CellSpec("a", rowspan=2), CellSpec("b", colspan=2)],
        [CellSpec("c"), CellSpec("d")],
    ]
    grid = expand(rows)
    assert [[c.text for c in row] for row in grid] == [["a", "b", "b"], ["a", "c", "d"]]
    assert grid[0][0] is grid[1][0]
    assert grid[0][1] is grid[0][2]
    assert (grid[1][2].row, grid[1][2].col) == (1, 2)


def test_rowspan_past_last_row_is_cut():
    grid = expand([[CellSpec("a", rowspan=5), CellSpec("b")], [CellSpec("c")]])
    assert grid[0][0].rowspan == 2
    assert [c.text for c in grid[1]] == ["a", "c"]


def test_ragged_rows_stay_ragged():
    grid = expand([[CellSpec("a")], [CellSpec("b"), CellSpec("c"), CellSpec("d")]])
    assert [len(r) for r in grid] == [1, 3]
