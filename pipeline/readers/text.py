"""Text dumps of .docx reports (the seed's style) → Document.

Layout: a table cell is a line starting with a TAB; lines without a TAB that follow a cell continue
that cell (a line break inside it; a line of only spaces is an empty line inside the cell); an
empty line ends a table row; an unindented line outside a
row is a paragraph and ends the current table. Two blank lines in a row also end a table.
Text dumps carry no spans: rows come out ragged, and merged cells appear once (or as empty cells).
"""

from __future__ import annotations

from pipeline.document import Document, DocumentError, GridCell, Table
from pipeline.encoding import decode_html
from pipeline.readers.grid import MAX_CELLS, MAX_TABLES

MAX_TEXT_BYTES = 20 * 1024 * 1024
MAX_LINES = 500_000  # a report's dump has a few hundred; each line becomes a cell, a paragraph or a line


class _Builder:
    """Accumulates rows and tables while scanning lines once.

    A cell is kept as its list of lines until its row ends (appending to a string would copy the
    cell once per line: quadratic for a cell of a million lines). Cells and tables are counted as
    they come, and a dump with more than any report prints is refused there.
    """

    def __init__(self) -> None:
        self.doc = Document(format="txt")
        self.rows: list[list[list[str]]] = []
        self.row: list[list[str]] | None = None
        self.n_cells = 0

    def end_row(self) -> None:
        if self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def end_table(self) -> None:
        self.end_row()
        if self.rows:
            if len(self.doc.tables) >= MAX_TABLES:
                raise DocumentError(f"txt: more than {MAX_TABLES} tables: too large to read")
            grid = [
                [GridCell("\n".join(lines).strip(), r, c) for c, lines in enumerate(row)]
                for r, row in enumerate(self.rows)
            ]
            context = "\n".join(self.doc.paragraphs[-3:])[-300:]
            self.doc.tables.append(Table(index=len(self.doc.tables), grid=grid, context=context))
            self.rows = []


def read_text(data: bytes) -> Document:
    """Parse a text dump. Encoding: BOM, else UTF-8, else GB18030 (via the shared decoder)."""
    if len(data) > MAX_TEXT_BYTES:
        raise DocumentError(f"txt: document too large ({len(data)} bytes)")
    if b"\x00" in data[:4096]:
        raise DocumentError("txt: binary data, not a text dump")
    text, encoding, _how = decode_html(data)
    if not text.strip():
        raise DocumentError("txt: empty document")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.count("\n") >= MAX_LINES:
        raise DocumentError(f"txt: more than {MAX_LINES} lines: too large to read")
    b = _Builder()
    b.doc.encoding = encoding
    blank_run = 0
    for line in text.split("\n"):
        if not line.startswith("\t") and not line.strip() and (not line or b.row is None):  # ends a row
            blank_run += 1
            b.end_row()
            if blank_run >= 2:
                b.end_table()
            continue
        blank_run = 0
        if line.startswith("\t"):
            if b.row is None:
                b.row = []
            b.row.append([line[1:]])
            b.n_cells += 1
            if b.n_cells > MAX_CELLS:
                raise DocumentError(f"txt: more than {MAX_CELLS} table cells: too large to read")
        elif b.row is not None:
            b.row[-1].append(line)
        else:
            b.end_table()
            b.doc.paragraphs.append(line.strip())
    b.end_table()
    return b.doc
