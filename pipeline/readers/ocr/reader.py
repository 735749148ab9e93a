"""Pictures → tables and paragraphs, as every reader produces them; a scan unreadable as a whole fails.

`read_pictures` takes the decoded page images of one document (a scanned PDF's pages, an HTML page's
`<img>`s, a .docx's pictures, a picture file) in order and returns what OCR found: tables as grids of
cells that carry page, confidence and box; paragraphs from the text lines outside them, each table's
context being the few lines printed before it. A picture without a ruled table gives no table.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.document import DocumentError, Table
from pipeline.readers.grid import CellSpec, GridBudget
from pipeline.readers.ocr.image import MIN_SIDE, PageImage
from pipeline.readers.ocr.page import OcrTable, read_page
from pipeline.readers.ocr.split_rows import join_split_row

CONTEXT_LINES = 3
CONTEXT_CHARS = 300


@dataclass(slots=True)
class Pictures:
    """What OCR read from a document's pictures."""

    tables: list[Table] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    pictures: int = 0  # pictures OCR'd
    seconds: float = 0.0
    unread: list[int] = field(default_factory=list)  # pages of pictures too small, or with nothing read
    open_end: int | None = None  # page whose last table runs on past its end (cut by the page break)
    split_rows: int = 0  # rows cut by a page break, joined back

    @property
    def cells(self) -> int:
        return sum(len(t.grid) for t in self.tables)


def read_pictures(
    images: Iterable[PageImage],
    budget: GridBudget,
    *,
    first_index: int = 0,
    into: Pictures | None = None,
    before: list[str] | None = None,
) -> Pictures:
    """OCR every picture (taken one at a time: a long scan is rendered page by page); tables are
    numbered from `first_index` (after a document's text tables). `into` adds to what earlier calls
    read (a PDF's scanned pages, read one by one between its text pages); `before` is the text printed
    before the pictures (the first table's context)."""
    out = Pictures() if into is None else into
    start = time.perf_counter()
    recent: list[str] = list(before or [])[-CONTEXT_LINES:]
    for image in images:
        if min(image.grey.shape[:2]) < MIN_SIDE:
            out.unread.append(image.page)
            continue  # an icon, a logo, a rule: too small to hold a report's table
        out.pictures += 1
        page = read_page(image)
        if not page.lines and not page.tables:
            out.unread.append(image.page)
        items: list[tuple[int, str | OcrTable]] = [(y, text) for y, text in page.lines]
        items += [(t.top, t) for t in page.tables]
        continued = out.open_end == image.page - 1 and image.paged
        out.open_end = None
        for _y, item in sorted(items, key=lambda pair: pair[0]):
            if isinstance(item, str):
                out.paragraphs.append(item)
                recent = [*recent, item][-CONTEXT_LINES:]
                continue
            context = "\n".join(recent)[-CONTEXT_CHARS:]
            grid = budget.expand(_rows(item, image.page if image.paged else None))
            table: Table | None = Table(first_index + len(out.tables), grid, context)
            if continued and item.open_top and out.tables:
                table = join_split_row(out.tables[-1], table)
                out.split_rows += table is None or len(table.grid) < len(grid)
            continued = False
            if table is not None:
                out.tables.append(table)
        if page.tables and page.tables[-1].open_bottom and image.paged:
            out.open_end = image.page
    out.seconds += time.perf_counter() - start
    return out


def _rows(table: OcrTable, page: int | None) -> list[list[CellSpec]]:
    rows: list[list[CellSpec]] = []
    for cell in table.cells:
        while len(rows) <= cell.row:
            rows.append([])
        rows[cell.row].append(
            CellSpec(
                cell.text,
                cell.rowspan,
                cell.colspan,
                page,
                None if cell.confidence is None else round(cell.confidence, 4),
                tuple(float(v) for v in cell.box),
            )
        )
    return rows


def require_tables(found: Pictures, what: str) -> None:
    """A document that is only pictures must yield a table with text, else it fails with the reason."""
    if not found.pictures:
        raise DocumentError(f"ocr: {what}: no picture large enough to hold a table (under {MIN_SIDE} pixels)")
    if not found.tables:
        raise DocumentError(
            f"ocr: {what}: no ruled table found in {found.pictures} picture(s) "
            "(blank, not a table, or resolution too low)"
        )
    if not any(cell.text.strip() for t in found.tables for row in t.grid for cell in row):
        raise DocumentError(f"ocr: {what}: tables found but no text could be read (resolution too low?)")
