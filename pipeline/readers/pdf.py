"""Read a text PDF report: pdfplumber finds the tables, their cell boxes give the grid and its spans.

Why pdfplumber (MIT): measured on real reports (PDF.md), it finds every cell of 淮安's tables, keeps
Chinese text intact and exposes each cell's box, from which spans are recovered exactly; PyMuPDF is
AGPL and its table finder splits decimals, camelot pulls in OpenCV and inserts spaces.

Tables. Each page's ruled tables (`find_tables`: lines and rectangle edges, so a row closed only by
white fill rectangles is still closed) become one `Table` each, in reading order; a table that runs
over a page break is two tables, and the row stream of extraction reads them as one (as it does for
split HTML tables). The grid comes from the cell boxes: their distinct left/right edges are the
grid's columns, their tops/bottoms its rows, so a value spanning two grid columns or a label spanning
three rows is one `GridCell` with its spans; a grid position no box covers is an empty cell. A frame
with a single column (a shaded paragraph, a text box) holds paragraphs, not a table. Each glyph goes
to the cell its centre lies in (pdf_text: lines, wrapped numbers, radicals); glyphs outside tables are
the page's paragraphs. Headers, footers and page numbers are never inside a cell: a cell holds only
what is printed inside its box.

Pages. Every GridCell names its page (`cells.source_page`). A page with no glyphs but a large
picture is a scan: it is rendered at its picture's resolution and read by OCR (pipeline.readers.ocr),
its tables after the text pages' tables. A document made only of such pages from which OCR reads no
table fails with the reason; a scanned page OCR reads nothing from is named in a
`scanned_pages_skipped` warning.

Metadata. The title is taken from the first page's text, not from the PDF's Title entry, which is
often a generic placeholder (政府信息公开工作年度报告); that entry is kept in `meta`.

Safety. Size, page count, decoded stream size (pdf_limits), drawing instructions and objects per page
are bounded before the expensive step; an encrypted
PDF opens when its user password is empty, else fails with that reason; anything pdfminer raises
on a broken or hostile file (bad xref, deep nesting) becomes a one-line DocumentError. Memory and
time beyond that are the parse worker's limits (pipeline.workers).
"""

from __future__ import annotations

import bisect
import dataclasses
import io
import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.document import Document, DocumentError, GridCell, Table, table_context
from pipeline.readers import pdf_limits, pdf_text
from pipeline.readers.grid import CellSpec, GridBudget
from pipeline.readers.ocr.pdf_pages import PageRenderer
from pipeline.readers.pdf_text import Line, Margins, Paragraphs
from pipeline.report import Finding
from pipeline.values import is_number

if TYPE_CHECKING:  # the OCR modules (OpenCV, ONNX) are imported only when a page is a scan
    from pipeline.readers.ocr.image import PageImage
    from pipeline.readers.ocr.reader import Pictures

MB = 1024 * 1024
MAX_BYTES = 50 * MB  # the crawler's download cap
MAX_PAGES = 500  # a report has 3–30
MAX_PAGE_CONTENT = 3 * MB  # drawing instructions of one page, decoded; a report page has 20–300 KB
MAX_PAGE_OBJECTS = 100_000  # glyphs + lines + rectangles + curves on one page; a report page has ~2,000
SCAN_IMAGE_SHARE = 0.25  # a page without glyphs whose pictures cover this share of it is a scan
EDGE_SNAP = 1.5  # points: cell edges closer than this are the same grid line
PAGE_ALIGN = 3.0  # points: a column line on the next page this close is the same line (borders drawn
#                   as thin rectangles put a table's edges a point or two apart from page to page)

SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines", "snap_tolerance": 1}


def read_pdf(data: bytes) -> Document:
    """PDF bytes → Document (tables with spans and pages, paragraphs). DocumentError if unreadable."""
    if len(data) > MAX_BYTES:
        raise DocumentError(f"pdf: {len(data)} bytes (limit {MAX_BYTES})")
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise DocumentError("pdf: not a PDF file (no %PDF header)")
    import pdfplumber  # deferred: only PDF documents pay for importing pdfminer

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # font-descriptor chatter, once per glyph run
    pdf_limits.install()

    try:
        with pdfplumber.open(io.BytesIO(data), password="") as pdf:
            return _read(pdf, data)
    except DocumentError:
        raise
    except MemoryError:
        raise
    except RecursionError:
        raise DocumentError("pdf: cannot parse (objects nested too deeply)") from None
    except Exception as exc:
        raise DocumentError(f"pdf: cannot parse ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    """A one-line reason from pdfminer's exceptions (pdfplumber wraps them)."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    name = type(inner).__name__
    if "Password" in name or "Encrypt" in name:
        return "encrypted, and the user password is not empty"
    text = " ".join(str(inner).split())[:200]
    return f"{name}: {text}" if text else name


@dataclass(slots=True)
class _Piece:
    """A table found on one page, before its grid is built (a row split by the page break above it
    is first joined back)."""

    found: _Found
    page: int
    context: str
    first_on_page: bool = False
    last_on_page: bool = False


@dataclass(slots=True)
class _Reading:
    doc: Document
    paragraphs: Paragraphs = field(default_factory=Paragraphs)
    pieces: list[_Piece | Table] = field(default_factory=list)  # Table: read by OCR from a scanned page
    scanned: list[int] = field(default_factory=list)
    text_pages: int = 0
    budget: GridBudget = field(default_factory=lambda: GridBudget("pdf"))
    ocr: Pictures | None = None


def _read(pdf, data: bytes) -> Document:
    from pdfminer.pdfpage import PDFPage

    if sum(1 for _ in itertools.islice(PDFPage.create_pages(pdf.doc), MAX_PAGES + 1)) > MAX_PAGES:
        raise DocumentError(f"pdf: more than {MAX_PAGES} pages: not a report")
    n_pages = len(pdf.pages)
    reading = _Reading(Document(format="pdf", pages=n_pages))
    title = pdf.metadata.get("Title") if isinstance(pdf.metadata, dict) else None
    if isinstance(title, str) and title.strip():
        reading.doc.meta["pdf_title"] = title.strip()
    renderer = PageRenderer(data)
    try:
        for number, page in enumerate(pdf.pages, start=1):
            try:
                scan = _read_page(reading, page, number)
            finally:
                page.close()  # its parsed objects: memory stays flat over long documents
            if scan is not None:  # read by OCR where it stands, between the text pages
                _read_scanned(reading, renderer.render(number, scan.dpi))
    finally:
        renderer.close()
    reading.doc.paragraphs = reading.paragraphs.finish()
    for above, below in itertools.pairwise(reading.pieces):
        if (
            isinstance(above, _Piece)
            and isinstance(below, _Piece)
            and above.last_on_page
            and below.first_on_page
            and below.page == above.page + 1
        ):
            _join_split_row(above.found, below.found)
    for piece in reading.pieces:
        if isinstance(piece, Table):
            reading.doc.tables.append(dataclasses.replace(piece, index=len(reading.doc.tables)))
        elif piece.found.n_rows:
            grid = _paged(reading.budget.expand(piece.found.rows()), piece.page)
            reading.doc.tables.append(Table(len(reading.doc.tables), grid, piece.context))
    if reading.ocr is not None:
        _finish_scanned(reading, reading.ocr)
    return reading.doc


def _read_scanned(reading: _Reading, image: PageImage) -> None:
    """OCR one scanned page: its tables join the pieces, its text lines the paragraphs, in page order."""
    from pipeline.readers.ocr.reader import Pictures, read_pictures

    reading.paragraphs.close()
    ocr = reading.ocr = reading.ocr or Pictures()
    tables, lines = len(ocr.tables), len(ocr.paragraphs)
    read_pictures([image], reading.budget, into=ocr, before=reading.paragraphs.done[-3:])
    reading.pieces.extend(ocr.tables[tables:])
    reading.paragraphs.done.extend(ocr.paragraphs[lines:])


def _finish_scanned(reading: _Reading, ocr: Pictures) -> None:
    """A PDF of only scanned pages must yield a table (else it fails with the reason); the document
    says what OCR read, and which scanned pages it read nothing from."""
    from pipeline.readers.ocr.document import mark_ocr
    from pipeline.readers.ocr.reader import require_tables

    doc, n = reading.doc, len(reading.scanned)
    if not reading.text_pages:
        require_tables(ocr, f"scanned PDF ({n} page{'s' if n != 1 else ''}, no text layer)")
    mark_ocr(doc, ocr)
    if ocr.unread:
        pages = ", ".join(map(str, ocr.unread))
        doc.findings.append(
            Finding(
                "scanned_pages_skipped",
                f"pages {pages}",
                None,
                None,
                "warning",
                f"pdf: {len(ocr.unread)} of {doc.pages} pages have no text layer and OCR read nothing from "
                f"them: page {pages}",
            )
        )


@dataclass(frozen=True, slots=True)
class _Scan:
    """A page that is a picture: the resolution of its largest picture, if known."""

    dpi: float | None


def _read_page(reading: _Reading, page, number: int) -> _Scan | None:
    """Read a text page into `reading`; a page that is a picture is left to OCR (a `_Scan`)."""
    content = sum(len(stream.get_data()) for stream in _streams(page.page_obj.contents))
    if content > MAX_PAGE_CONTENT:  # checked before pdfminer interprets them (seconds per MB)
        raise DocumentError(
            f"pdf: page {number} has {content} bytes of drawing instructions (limit {MAX_PAGE_CONTENT})"
        )
    objects = page.objects
    count = sum(len(objects.get(kind, ())) for kind in ("char", "line", "rect", "curve"))
    if count > MAX_PAGE_OBJECTS:
        raise DocumentError(f"pdf: page {number} has {count} drawing objects (limit {MAX_PAGE_OBJECTS})")
    chars = [c for c in page.chars if c["text"]]
    if not chars:
        if _picture_share(page) >= SCAN_IMAGE_SHARE:
            reading.scanned.append(number)
            return _Scan(_picture_dpi(page))
        return None
    reading.text_pages += 1
    settings = {**SETTINGS, "explicit_horizontal_lines": _closing_lines(page.edges)}
    found = [_Found.of(t) for t in page.find_tables(settings)]
    tables = [t for t in found if t is not None and t.n_cols > 1]
    outside: list[dict] = []
    for ch in chars:
        x, y = (ch["x0"] + ch["x1"]) / 2, (ch["top"] + ch["bottom"]) / 2
        home = next((t for t in tables if t.holds(x, y)), None)
        if home is None:
            outside.append(ch)
        else:
            home.add(ch, x, y)
    lines = [line for line in pdf_text.lines_of(outside) if not pdf_text.is_page_number(line.text)]
    margins = Margins.of(lines) or Margins(0.0, float(page.width), 0.0)
    items: list[tuple[float, int, Line | _Found]] = [(line.top, 0, line) for line in lines]
    items += [(t.top, 1, t) for t in tables]
    items.sort(key=lambda item: (item[0], item[1]))
    for i, (_top, _kind, item) in enumerate(items):
        if isinstance(item, Line):
            reading.paragraphs.add(item, margins, new_page=i == 0)
        else:
            reading.paragraphs.close()
            context = table_context(reading.paragraphs.done)
            reading.pieces.append(_Piece(item, number, context, i == 0, i == len(items) - 1))
    return None


def _streams(contents: object) -> list:
    """A page's content streams (pdfminer gives a list, one stream, or references to them)."""
    from pdfminer.pdftypes import PDFStream, resolve1

    items = contents if isinstance(contents, list) else [contents]
    return [s for s in (resolve1(item) for item in items) if isinstance(s, PDFStream)]


def _closing_lines(edges: list[dict]) -> list[dict]:
    """Horizontal rulings a table lacks where a page break cuts it: Chromium does not draw the border
    of a cell that runs on to the next page, so the table's vertical rulings stop at the break with
    nothing joining them, and its last (or, continued, first) row would not be a cell. Where three or
    more vertical rulings end at the same height and no horizontal ruling spans them there, a line
    closing them is added (it is where the cell's box ends on this page) — unless a vertical ruling
    among them goes on past that height (a row boundary inside the table)."""
    verticals = [e for e in edges if e["orientation"] == "v" and e["bottom"] - e["top"] >= EDGE_SNAP]
    horizontals = [e for e in edges if e["orientation"] == "h"]
    lines: list[dict] = []
    for end in ("top", "bottom"):
        for y, group in _clusters(verticals, end):
            if len(group) < 3:
                continue
            x0, x1 = min(e["x0"] for e in group), max(e["x1"] for e in group)
            if _covered(horizontals, y, x0, x1) or _runs_on(verticals, end, y, x0, x1):
                continue
            lines.append(
                {
                    "object_type": "line",
                    "x0": x0,
                    "x1": x1,
                    "top": y,
                    "bottom": y,
                    "width": x1 - x0,
                    "height": 0,
                }
            )
    return lines


def _runs_on(verticals: list[dict], end: str, y: float, x0: float, x1: float) -> bool:
    """Whether a vertical ruling between x0 and x1 goes on past `y` (below it for a bottom end,
    above it for a top end): then `y` is a row boundary inside the table, not where a page cut it."""
    inside = (e for e in verticals if x0 - EDGE_SNAP <= e["x0"] <= x1 + EDGE_SNAP)
    if end == "bottom":
        return any(e["bottom"] > y + EDGE_SNAP and e["top"] <= y + EDGE_SNAP for e in inside)
    return any(e["top"] < y - EDGE_SNAP and e["bottom"] >= y - EDGE_SNAP for e in inside)


def _clusters(edges: list[dict], end: str) -> list[tuple[float, list[dict]]]:
    """Edges grouped by the height of their `end` (within EDGE_SNAP)."""
    out: list[tuple[float, list[dict]]] = []
    for e in sorted(edges, key=lambda e: e[end]):
        if out and e[end] - out[-1][0] <= EDGE_SNAP:
            out[-1][1].append(e)
        else:
            out.append((e[end], [e]))
    return out


def _covered(horizontals: list[dict], y: float, x0: float, x1: float) -> bool:
    """Whether horizontal rulings at height `y` run from x0 to x1 (gaps up to EDGE_SNAP)."""
    spans = sorted((e["x0"], e["x1"]) for e in horizontals if abs(e["top"] - y) <= EDGE_SNAP)
    reach = x0
    for a, b in spans:
        if a > reach + EDGE_SNAP:
            break
        reach = max(reach, b)
    return reach >= x1 - EDGE_SNAP


def _picture_dpi(page) -> float | None:
    """The resolution of the page's largest picture as placed on the page (pixels per inch across)."""
    best, dpi = 0.0, None
    for im in page.images:
        width = float(im["x1"] - im["x0"])
        size = im.get("srcsize") or (0, 0)
        if width > 0 and size[0] and width * float(im["bottom"] - im["top"]) > best:
            best, dpi = width * float(im["bottom"] - im["top"]), float(size[0]) * 72.0 / width
    return dpi


def _picture_share(page) -> float:
    area = float(page.width * page.height) or 1.0
    covered = sum(max(0.0, (im["x1"] - im["x0"]) * (im["bottom"] - im["top"])) for im in page.images)
    return covered / area


def _paged(grid: list[list[GridCell]], page: int) -> list[list[GridCell]]:
    """The grid with its page on every cell, one object per printed cell as `expand` made it."""
    moved: dict[int, GridCell] = {}

    def on_page(cell: GridCell) -> GridCell:
        if id(cell) not in moved:
            moved[id(cell)] = dataclasses.replace(cell, page=page)
        return moved[id(cell)]

    return [[on_page(cell) for cell in row] for row in grid]


def _join_split_row(above: _Found, below: _Found) -> None:
    """A row that a page break cut in two: its lower part (the first row below the break) goes back
    into the last row above it.

    It is the same row only when every cell of the first row below has a cell of exactly the same
    columns in the last row above (a row under a header of other spans does not), holds no number
    (the start of a new data row does), and prints text only below text that is not a number (a
    repeated header prints over numbers). The text of each lower cell is appended to its upper cell,
    line after line; a label that spans on over further rows below the break keeps its part there
    (the row stream reads a label continued across tables).
    """
    if not below.n_rows or not above.n_rows:
        return
    last = above.n_rows - 1
    moves: list[tuple[_Box, str]] = []
    for box in (b for b in below.cells if b.r0 == 0):
        c0, c1 = above.column_line(below.xs[box.c0]), above.column_line(below.xs[box.c1])
        if c0 is None or c1 is None:
            return
        target = above.at.get((last, c0))
        if target is None or (target.c0, target.c1) != (c0, c1):
            return
        text, upper = below.text(box), above.text(target)
        if text and (is_number(text) or not upper or is_number(upper)):
            return
        if text and box.r1 == 1:
            moves.append((target, text))
    for target, text in moves:
        target.extra.append(text)
    below.drop_first_row()


@dataclass(slots=True)
class _Box:
    r0: int
    c0: int
    r1: int  # exclusive
    c1: int
    right: float  # the cell's right edge in points
    chars: list[dict] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # text of its part below a page break


class _Found:
    """A table pdfplumber found on a page: its grid lines, its cell boxes and the glyphs in each."""

    def __init__(self, boxes: list[tuple[float, float, float, float]]) -> None:
        self.xs = _snap(x for b in boxes for x in (b[0], b[2]))
        self.ys = _snap(y for b in boxes for y in (b[1], b[3]))
        self.top, self.bottom = self.ys[0], self.ys[-1]
        self.left, self.right = self.xs[0], self.xs[-1]
        self.cells: list[_Box] = []
        self.at: dict[tuple[int, int], _Box] = {}
        for x0, top, x1, bottom in boxes:
            c0, c1 = _index(self.xs, x0), _index(self.xs, x1)
            r0, r1 = _index(self.ys, top), _index(self.ys, bottom)
            if c1 <= c0 or r1 <= r0:
                continue
            if any((r, c) in self.at for r in range(r0, r1) for c in range(c0, c1)):
                continue  # overlapping boxes: the first one found keeps the positions
            box = _Box(r0, c0, r1, c1, x1)
            self.cells.append(box)
            for r in range(r0, r1):
                for c in range(c0, c1):
                    self.at[(r, c)] = box

    @classmethod
    def of(cls, table) -> _Found | None:
        boxes = [tuple(map(float, cell)) for cell in table.cells]
        return cls(boxes) if boxes else None

    @property
    def n_cols(self) -> int:
        return len(self.xs) - 1

    @property
    def n_rows(self) -> int:
        return len(self.ys) - 1

    def column_line(self, x: float) -> int | None:
        """The index of the column line at `x`, if the table has one there."""
        i = _index(self.xs, x)
        return i if abs(self.xs[i] - x) <= PAGE_ALIGN else None

    def holds(self, x: float, y: float) -> bool:
        return self.left <= x <= self.right and self.top <= y <= self.bottom

    def add(self, ch: dict, x: float, y: float) -> None:
        """Give a glyph (centre x, y) to the cell whose box holds it; between boxes it is dropped
        (a glyph on a ruling line belongs to no cell)."""
        c = min(max(bisect.bisect_right(self.xs, x) - 1, 0), self.n_cols - 1)
        r = min(max(bisect.bisect_right(self.ys, y) - 1, 0), self.n_rows - 1)
        box = self.at.get((r, c))
        if box is not None:
            box.chars.append(ch)

    def rows(self) -> list[list[CellSpec]]:
        """Printed rows for `grid.expand`: each cell at its own row; a hole before a cell is filled with
        an empty cell so that expansion puts every cell in the column its box starts at, a hole at the
        end of a row is not (nothing is printed there: the row is ragged, as in HTML)."""
        rows: list[list[CellSpec]] = []
        for r in range(self.n_rows):
            specs: list[CellSpec] = []
            holes = 0
            for c in range(self.n_cols):
                box = self.at.get((r, c))
                if box is None:
                    holes += 1
                elif box.r0 == r and box.c0 == c:
                    specs.extend([CellSpec("")] * holes)
                    holes = 0
                    specs.append(CellSpec(self.text(box), box.r1 - box.r0, box.c1 - box.c0))
                else:
                    specs.extend([CellSpec("")] * holes)
                    holes = 0
            rows.append(specs)
        return rows

    def text(self, box: _Box) -> str:
        printed = pdf_text.cell_text(pdf_text.lines_of(box.chars), box.right)
        return "\n".join(t for t in (printed, *box.extra) if t)

    def drop_first_row(self) -> None:
        """Forget row 0 (joined to the table above); cells spanning on below it start at row 1."""
        self.ys = self.ys[1:]
        self.top = self.ys[0]
        kept = []
        for box in self.cells:
            if box.r1 <= 1:
                continue
            box.r0, box.r1 = max(box.r0, 1) - 1, box.r1 - 1
            kept.append(box)
        self.cells = kept
        self.at = {(r, c): box for box in kept for r in range(box.r0, box.r1) for c in range(box.c0, box.c1)}


def _snap(values: Iterator[float]) -> list[float]:
    """Distinct coordinates, those closer than EDGE_SNAP merged (their first value kept)."""
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > EDGE_SNAP:
            out.append(v)
    return out


def _index(edges: list[float], value: float) -> int:
    """The grid line nearest `value`."""
    i = bisect.bisect_left(edges, value)
    if i == len(edges):
        return i - 1
    if i > 0 and value - edges[i - 1] < edges[i] - value:
        return i - 1
    return i
