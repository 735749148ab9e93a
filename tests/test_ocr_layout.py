"""The layout rules of OCR'd tables, each on a drawn page or a built grid: a table cut by a page break
(no line above its first row, none below its last), a row cut in two and joined back only when it can
be nothing else, strokes of text that are no ruling line, the `/` of "not applicable" told from `1`
and `7` by its shape, and vertical labels (竖排) read as one line. The scan tests read whole reports."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.document import GridCell, Table

cv2 = pytest.importorskip("cv2")

from pipeline.readers.ocr import cells, ruling, shapes  # noqa: E402
from pipeline.readers.ocr.ink import line_boxes  # noqa: E402
from pipeline.readers.ocr.split_rows import join_split_row  # noqa: E402

XS = [100, 400, 500, 600, 700]  # column lines of the drawn tables
ROW = 60


def _tables(page: np.ndarray) -> list[ruling.TableBox]:
    return ruling.find_tables(*ruling.bridged(*ruling.line_masks(page)))


def _page(*, top: int | None, ys: list[int], bottom: int | None, v_top: int, v_bottom: list[int] | int):
    """A white page with a ruled table: horizontal lines at `ys` (and `top`/`bottom` when given),
    vertical lines from `v_top` down to `v_bottom` (one per column line, or all the same)."""
    page = np.full((1400, 1000), 255, np.uint8)
    ends = v_bottom if isinstance(v_bottom, list) else [v_bottom] * len(XS)
    for x, end in zip(XS, ends, strict=True):
        cv2.line(page, (x, v_top), (x, end), 0, 2)
    for y in [*ys, *(v for v in (top, bottom) if v is not None)]:
        cv2.line(page, (XS[0], y), (XS[-1], y), 0, 2)
    return page


def _row_tops(table: ruling.TableBox) -> list[int]:
    return sorted({c.box[1] for c in table.cells})


def test_a_table_cut_at_the_top_and_bottom_keeps_its_first_and_last_rows():
    ys = [200 + ROW * i for i in range(6)]
    page = _page(top=None, ys=ys, bottom=None, v_top=100, v_bottom=ys[-1] + 90)
    (table,) = _tables(page)
    assert table.open_top and table.open_bottom
    assert _row_tops(table)[0] == pytest.approx(100, abs=4)  # the row above the first line is a row
    assert table.box[3] == pytest.approx(ys[-1] + 90, abs=4)
    assert table.n_rows == len(ys) + 1


def test_a_closed_table_gets_no_line_added():
    ys = [200 + ROW * i for i in range(6)]
    (table,) = _tables(_page(top=None, ys=ys, bottom=None, v_top=ys[0], v_bottom=ys[-1]))
    assert not table.open_top and not table.open_bottom
    assert table.n_rows == len(ys) - 1


def test_vertical_lines_ending_apart_are_no_cut_edge():
    ys = [200 + ROW * i for i in range(6)]
    ends = [ys[-1] + 30, ys[-1] + 90, ys[-1] + 150, ys[-1], ys[-1]]
    (table,) = _tables(_page(top=None, ys=ys, bottom=None, v_top=ys[0], v_bottom=ends))
    assert not table.open_bottom and table.box[3] == pytest.approx(ys[-1], abs=4)


def test_strokes_of_a_row_of_text_inside_a_cell_are_no_ruling_line():
    ys = [200 + ROW * i for i in range(6)]
    page = _page(top=None, ys=ys, bottom=None, v_top=ys[0], v_bottom=ys[-1])
    for y in (ys[1] + 25, ys[1] + 28):  # 三安全一 bridged: a bar 120 px long floating in its cell
        cv2.line(page, (180, y), (300, y), 0, 2)
    (table,) = _tables(page)
    assert table.n_rows == len(ys) - 1


def _cell(
    text: str, row: int, col: int, x0: float, x1: float, *, rowspan: int = 1, page: int = 1
) -> GridCell:
    return GridCell(
        text, row, col, rowspan, 1, page, 0.99 if text else None, (x0, 10.0 * row, x1, 10.0 * row + 9)
    )


def _table(rows: list[list[GridCell]], index: int = 0) -> Table:
    grid = [[None] * len(rows[0]) for _ in rows]
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            grid[r][c] = cell
    return Table(index, grid)


def _above() -> Table:
    label = _cell("（六）其他处理", 0, 0, 0, 100, rowspan=2)
    return _table(
        [
            [label, _cell("1.申请人无正当理由逾期不补正", 0, 1, 100, 400), _cell("0", 0, 2, 400, 500)],
            [label, _cell("2.申请人逾期未按收费通知要求缴纳费", 1, 1, 100, 400), _cell("3", 1, 2, 400, 500)],
        ]
    )


def _below(continuation: str, value: str, *, shift: float = 0.0) -> Table:
    group = _cell("", 0, 0, 0 + shift, 100 + shift, rowspan=2, page=2)
    return _table(
        [
            [
                group,
                _cell(continuation, 0, 1, 100 + shift, 400 + shift, page=2),
                _cell(value, 0, 2, 400 + shift, 500 + shift, page=2),
            ],
            [
                group,
                _cell("3.其他", 1, 1, 100 + shift, 400 + shift, page=2),
                _cell("1", 1, 2, 400 + shift, 500 + shift, page=2),
            ],
        ],
        index=1,
    )


def test_the_lower_part_of_a_row_cut_by_a_page_break_goes_back_into_it():
    above = _above()
    below = join_split_row(above, _below("用、行政机关不再处理其政府信息公开申请", "", shift=-37.0))
    assert (
        above.grid[1][1].text == "2.申请人逾期未按收费通知要求缴纳费\n用、行政机关不再处理其政府信息公开申请"
    )
    assert above.grid[1][2].text == "3" and above.grid[1][1].page == 1
    assert below is not None and len(below.grid) == 1
    assert [c.text for c in below.row_cells(0)] == ["", "3.其他", "1"]
    assert all(c.row == 0 for c in below.row_cells(0))


@pytest.mark.parametrize(
    ("continuation", "value", "why"),
    [("3.其他", "7", "the first row below holds a number: a new data row"), ("", "12", "a number alone")],
)
def test_a_row_starting_a_page_is_not_joined_to_the_row_above(continuation, value, why):
    above, below = _above(), _below(continuation, value)
    assert join_split_row(above, below) is below, why
    assert above.grid[1][1].text == "2.申请人逾期未按收费通知要求缴纳费"


def test_text_is_never_added_under_a_number_or_to_other_columns():
    above = _above()
    below = _below("", "")
    below.grid[0][2] = _cell("合计", 0, 2, 400, 500, page=2)  # text under the number 3
    assert join_split_row(above, below) is below
    other = _below("用、行政机关不再处理", "")
    other.grid[0][1] = _cell("用、行政机关不再处理", 0, 1, 150, 400, page=2)  # not the same column
    assert join_split_row(_above(), other) is other


def _ink(draw) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    ink = np.zeros((60, 60), np.uint8)
    draw(ink)
    (box,) = line_boxes(ink)
    return ink, box


def test_a_slash_is_told_from_a_one_and_a_seven_by_its_shape():
    slash, box = _ink(lambda im: cv2.line(im, (38, 10), (24, 44), 255, 2))
    assert shapes.is_slash(slash, box)
    one, box = _ink(
        lambda im: (cv2.line(im, (30, 10), (30, 44), 255, 2), cv2.line(im, (30, 10), (25, 15), 255, 2))
    )
    assert not shapes.is_slash(one, box)
    seven, box = _ink(
        lambda im: (cv2.line(im, (20, 10), (40, 10), 255, 2), cv2.line(im, (40, 10), (27, 44), 255, 2))
    )
    assert not shapes.is_slash(seven, box)


def test_a_vertical_label_is_grouped_into_characters_strokes_and_all():
    # 三 (three strokes), 、 and 本, one per line down a column 30 px wide.
    lines = [(0, 0, 30, 3), (3, 12, 27, 15), (0, 25, 30, 28), (2, 40, 12, 48), (0, 60, 30, 90)]
    assert cells.vertical_text(lines) == [(0, 0, 30, 28), (2, 40, 12, 48), (0, 60, 30, 90)]
    assert cells.vertical_text([(0, 0, 300, 28), (0, 40, 200, 68)]) is None  # two lines of a label
    wrapped = [(0, 0, 60, 28), (0, 40, 60, 68), (0, 80, 58, 108), (0, 120, 40, 148)]  # 2 characters a line
    assert cells.vertical_text(wrapped) is None
    assert cells.vertical_text([(0, 0, 30, 28)]) is None


def test_a_zero_is_told_from_six_eight_nine_and_a_blot_by_its_shape():
    zero, box = _ink(lambda im: cv2.ellipse(im, (30, 28), (9, 16), 0, 0, 360, 255, 2))
    assert shapes.is_zero(zero, box)

    def six(im):
        cv2.ellipse(im, (30, 36), (9, 9), 0, 0, 360, 255, 2)
        cv2.ellipse(im, (38, 30), (17, 18), 0, 180, 270, 255, 2)

    def eight(im):
        cv2.ellipse(im, (30, 19), (7, 7), 0, 0, 360, 255, 2)
        cv2.ellipse(im, (30, 36), (9, 9), 0, 0, 360, 255, 2)

    for shape in (six, eight, lambda im: cv2.ellipse(im, (30, 28), (9, 16), 0, 0, 360, 255, -1)):
        ink, box = _ink(shape)
        assert not shapes.is_zero(ink, box)
    nine, box = _ink(lambda im: cv2.flip(six(im) or im, -1, dst=im))
    assert not shapes.is_zero(nine, box)


def test_a_closed_four_is_no_zero():
    """The 4 of the 淮安 report's font at 200 dpi closes a triangle whose hole sits near the middle."""

    def four(im):
        cv2.line(im, (34, 10), (22, 34), 255, 2)
        cv2.line(im, (22, 34), (40, 34), 255, 2)
        cv2.line(im, (34, 10), (34, 46), 255, 2)

    ink, box = _ink(four)
    assert not shapes.is_zero(ink, box)


def _cell_against_a_line(draw) -> np.ndarray:
    """A 150-dpi cell (paper 245) with its left ruling line, print drawn flush against it, blurred."""
    cell = np.full((60, 50), 245, np.uint8)
    cv2.line(cell, (1, 0), (1, 59), 20, 2)
    draw(cell)
    return cv2.GaussianBlur(cell, (0, 0), 0.8)


def test_print_flush_against_a_line_is_told_by_its_shape_with_the_line_cut_off():
    zero = _cell_against_a_line(lambda im: cv2.ellipse(im, (8, 30), (5, 9), 0, 0, 360, 30, 1))
    assert shapes.against_a_line(zero, (0, 0, 50, 60)) == "0"
    dash = _cell_against_a_line(lambda im: cv2.line(im, (3, 30), (9, 30), 40, 2))
    assert shapes.against_a_line(dash, (0, 0, 50, 60)) == "—"

    def eight(im):
        cv2.ellipse(im, (8, 25), (4, 5), 0, 0, 360, 30, 1)
        cv2.ellipse(im, (8, 36), (5, 6), 0, 0, 360, 30, 1)

    for other in (
        eight,
        lambda im: cv2.line(im, (8, 22), (8, 38), 30, 2),
        lambda im: cv2.circle(im, (7, 30), 2, 30, -1),
    ):
        assert shapes.against_a_line(_cell_against_a_line(other), (0, 0, 50, 60)) is None


def test_a_full_width_first_row_without_its_top_line_is_a_row_but_no_cut():
    ys = [200 + ROW * i for i in range(6)]
    page = _page(top=None, ys=ys, bottom=None, v_top=ys[0], v_bottom=ys[-1])
    for x in (XS[0], XS[-1]):  # only the frame runs up past the first line: a row 第二十条第（一）项
        cv2.line(page, (x, ys[0] - ROW), (x, ys[0]), 0, 2)
    (table,) = _tables(page)
    assert _row_tops(table)[0] == pytest.approx(ys[0] - ROW, abs=4) and not table.open_top
    inner = _page(top=None, ys=ys, bottom=None, v_top=ys[0], v_bottom=ys[-1])
    for x in (XS[1], XS[2]):  # two inner lines running up are no table edge
        cv2.line(inner, (x, ys[0] - ROW), (x, ys[0]), 0, 2)
    (table,) = _tables(inner)
    assert _row_tops(table)[0] == pytest.approx(ys[0], abs=4)
