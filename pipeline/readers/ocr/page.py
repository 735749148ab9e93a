"""One page image → its tables (cells with text, confidence and box) and the text lines outside them.

Order of work: deskew (on the ink), find the ruled tables, paint the ruling lines out, recognise every
cell crop in one batch, then recognise the rows of text outside the tables (headings, the report's
title, page numbers) so that tables keep their context and the document its title.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.readers.ocr import cells, ruling
from pipeline.readers.ocr.engine import recognise
from pipeline.readers.ocr.image import PageImage
from pipeline.readers.ocr.ink import line_boxes

TEXT_MIN_CONFIDENCE = 0.5  # a line outside the tables read less surely than this is noise, not text
HEADING_HEIGHT = 1.25  # a line this much taller than the page's median line is in a heading's type
MAX_LINE_HEIGHT = 40  # pixels per 1,000 of page height: taller rows of ink are pictures, seals, not text


@dataclass(slots=True)
class OcrCell:
    row: int
    col: int
    rowspan: int
    colspan: int
    text: str
    confidence: float | None
    box: tuple[int, int, int, int]


@dataclass(slots=True)
class OcrTable:
    cells: list[OcrCell]
    top: int  # y of its top line, to order it among the page's text lines
    open_top: bool = False  # no line above its first row / below its last: cut by a page break
    open_bottom: bool = False


@dataclass(slots=True)
class OcrPage:
    page: int
    angle: float
    tables: list[OcrTable] = field(default_factory=list)
    lines: list[tuple[int, str]] = field(default_factory=list)  # (y, text) outside the tables


def read_page(image: PageImage) -> OcrPage:
    angle = ruling.skew_angle(ruling.binarise(image.grey))
    grey = ruling.rotate(image.grey, angle)
    horizontal, vertical = ruling.line_masks(grey)
    grids = ruling.find_tables(*ruling.bridged(horizontal, vertical))
    found = [g for g in grids if not g.is_frame]
    # Only the lines of the grids found are painted out: a "line" elsewhere is a stroke of print
    # (a bold title's 一), which must stay. A frame's text is read with the text outside the tables.
    ruled = np.zeros_like(horizontal)
    for table in grids:
        x0, y0, x1, y1 = table.box
        ruled[max(0, y0 - 4) : y1 + 5, max(0, x0 - 4) : x1 + 5] = 255
    clean = cells.without_lines(grey, (horizontal | vertical) & ruled)
    page = OcrPage(image.page, angle)
    boxes = [c.box for t in found for c in t.cells]
    texts = iter(cells.read_cells(clean, boxes, grey))
    for table in found:
        out = []
        for c in table.cells:
            read = next(texts)
            out.append(OcrCell(c.row, c.col, c.rowspan, c.colspan, read.text, read.confidence, c.box))
        page.tables.append(OcrTable(out, table.box[1], table.open_top, table.open_bottom))
    page.lines = _text_outside(clean, [t.box for t in found])
    return page


def _text_outside(grey: np.ndarray, tables: list[tuple[int, int, int, int]]) -> list[tuple[int, str]]:
    """Text lines outside the tables: the page's rows of ink (tables painted white), each recognised.

    Rows of ink, not a text detector: detection on a whole 200-dpi page costs several seconds, and
    what is printed outside a report's tables is plain lines of text (headings, title, page numbers)."""
    page = grey.copy()
    for x0, y0, x1, y1 in tables:
        page[max(0, y0 - 3) : y1 + 4, max(0, x0 - 3) : x1 + 4] = 255
    ink = ruling.binarise(page)
    boxes = [b for b in line_boxes(ink) if b[3] - b[1] <= MAX_LINE_HEIGHT * grey.shape[0] / 1000]
    read_lines = []
    for box, read in zip(boxes, recognise([cells.crop(page, b) for b in boxes]), strict=True):
        if read.text and read.confidence >= TEXT_MIN_CONFIDENCE:
            read_lines.append((box, read.text))
    return _join_headings(read_lines)


def _join_headings(lines: list[tuple[tuple[int, int, int, int], str]]) -> list[tuple[int, str]]:
    """(y, text) of each line, a heading printed over several lines (a title: agency, then year and
    report name, in a larger type than the body) joined into one, as a text reader joins it."""
    if not lines:
        return []
    body = float(np.median([b[3] - b[1] for b, _ in lines]))
    out: list[tuple[int, str]] = []
    last: tuple[int, int, int, int] | None = None
    for box, text in lines:
        height = box[3] - box[1]
        tall = height >= HEADING_HEIGHT * body
        if (
            last is not None
            and tall
            and last[3] - last[1] >= HEADING_HEIGHT * body
            and abs(height - (last[3] - last[1])) <= 0.15 * height
            and box[1] - last[3] < height
        ):
            out[-1] = (out[-1][0], out[-1][1] + text)
        else:
            out.append(((box[1] + box[3]) // 2, text))
        last = box
    return out
