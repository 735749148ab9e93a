"""What a reader makes of a document's bytes: table grids and paragraphs, format-free.

Every reader (docx, html, text) produces a `Document`; nothing downstream knows the format.
A `Table` is a grid whose positions point at the `GridCell` that covers them, so a cell that
spans rows or columns appears at every position it covers and is still one cell: mapping can
walk rows by distinct cells (label and order), and lineage can name the cell's origin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.report import Finding


class DocumentError(Exception):
    """A document that cannot be read: broken, hostile, unsupported. The message is the reason."""


@dataclass(frozen=True, slots=True, eq=False)
class GridCell:
    """One printed cell. `text` keeps line breaks as "\\n"; `row`/`col` are its top-left grid position.

    Paged readers also say where it was printed: `page` (1-based). A cell read by OCR carries the
    recognition's `confidence` (0–1) and its `box` (x0, y0, x1, y1) in pixels of the page image.
    """

    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    page: int | None = None
    confidence: float | None = None
    box: tuple[float, float, float, float] | None = None


@dataclass(slots=True)
class Table:
    """A table as an expanded grid: `grid[r][c]` is the cell covering that position.

    Rows may be ragged (text dumps carry no spans). `context` is the text printed just before the
    table (the nearest preceding paragraphs), which often names the section it belongs to.
    """

    index: int
    grid: list[list[GridCell]]
    context: str = ""

    def row_cells(self, r: int) -> list[GridCell]:
        """Distinct cells of row `r` in column order, each once, including those spanning from above.

        A cell covers a contiguous run of columns, so comparing with the left neighbour suffices.
        """
        row = self.grid[r]
        return [cell for i, cell in enumerate(row) if i == 0 or cell is not row[i - 1]]

    def own_cells(self, r: int) -> list[GridCell]:
        """Distinct cells that start in row `r` (not continuations of a cell spanning from above)."""
        return [c for c in self.row_cells(r) if c.row == r]

    @property
    def n_rows(self) -> int:
        return len(self.grid)


@dataclass(slots=True)
class Document:
    """A read document: its tables in document order, its paragraphs, and metadata the format offers.

    `reader` names what read the values when it is not the format's own reader (`doc`: converted
    by LibreOffice, then read as .docx; `ocr`); `pages` is the page count of a paged format.
    `findings` are what the reader itself has to say (pages it skipped, values it read by OCR).
    """

    format: str
    tables: list[Table] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    reader: str | None = None
    pages: int | None = None
    findings: list[Finding] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)  # read by OCR when tables are missing


@dataclass(frozen=True, slots=True)
class Picture:
    """A picture a document embeds (an HTML `data:` URI, a .docx's image), with the text printed just
    before it (`table_context`): pasted pictures of the statistics tables are read by OCR."""

    data: bytes
    context: str = ""


CONTEXT_PARAGRAPHS = 3  # paragraphs before a table that may name its section
CONTEXT_CHARS = 300


def table_context(paragraphs: list[str]) -> str:
    """What is printed just before a table (`Table.context`): its last few paragraphs, the end of
    them if long — section headings such as 三、收到和处理政府信息公开申请情况."""
    return "\n".join(paragraphs[-CONTEXT_PARAGRAPHS:])[-CONTEXT_CHARS:]
