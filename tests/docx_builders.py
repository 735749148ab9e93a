"""Build .docx test files: python-docx for the document, raw XML edits for what python-docx cannot write.

Real reports come from Word, WPS and LibreOffice, and each writes tables differently (see QUIRKS.md).
`build_docx` makes a clean Word-style file (vertical merges as bare `<w:vMerge/>`); the helpers then
rewrite word/document.xml inside the zip to reproduce one quirk each, so a test shows one thing:
`to_libreoffice_vmerge`, `add_grid_before`, `add_grid_after`, `wrap_cells_in_sdt`, `wrap_rows_in_sdt`,
`wrap_in_sdt` (any sibling elements), `edit_document_xml` (any edit). `replace_part` and
`patch_declared_size` make broken or hostile archives.

Tables are given like HTML: rows of cells (`str` or `C`), each cell listed once in the row where it
starts, with optional rowspan/colspan; cells covered by a span from above are left out of later
rows, and short rows are padded with empty cells (a python-docx table is rectangular). A table
index counts every `w:tbl` in document order, nested ones included.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import docx
from docx.document import Document as DocxDocument
from docx.table import _Cell
from lxml import etree

from pipeline.readers.grid import CellSpec, expand

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
DOCUMENT_XML = "word/document.xml"


@dataclass(frozen=True)
class C:
    """A table cell. `text` lines become paragraphs, or `<w:br/>` breaks in one paragraph if `line_breaks`.

    `nested` is a table (rows, same form as top-level tables) placed in the cell after its text.
    """

    text: str = ""
    rowspan: int = 1
    colspan: int = 1
    line_breaks: bool = False
    nested: Rows | None = None


Rows = Sequence[Sequence[str | C]]
Block = str | Rows


def build_docx(blocks: Iterable[Block], *, title: str | None = None, creator: str | None = None) -> bytes:
    """A .docx with the given blocks in order: a `str` is a body paragraph, anything else a table."""
    document = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
        else:
            _add_table(document, block)
    if title is not None:
        document.core_properties.title = title
    if creator is not None:
        document.core_properties.author = creator
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _as_cell(cell: str | C) -> C:
    return cell if isinstance(cell, C) else C(cell)


def _add_table(parent: DocxDocument | _Cell, rows: Rows) -> None:
    """Add a table sized to the rows' grid, merge the spans, write the texts (expand() places the cells)."""
    cells = [[_as_cell(c) for c in row] for row in rows]
    keyed = [
        [CellSpec(f"{r}:{i}", c.rowspan, c.colspan) for i, c in enumerate(row)] for r, row in enumerate(cells)
    ]
    grid = expand(keyed)
    table = parent.add_table(rows=len(grid), cols=max((len(row) for row in grid), default=0))
    table.style = "Table Grid"
    placed = {g.text: g for row in grid for g in row if g.text}
    for r, row in enumerate(cells):
        for i, cell in enumerate(row):
            g = placed[f"{r}:{i}"]
            target = table.cell(g.row, g.col)
            if g.rowspan > 1 or g.colspan > 1:
                target = target.merge(table.cell(g.row + g.rowspan - 1, g.col + g.colspan - 1))
            _write_cell(target, cell)


def _write_cell(target: _Cell, cell: C) -> None:
    lines = cell.text.split("\n") if cell.text else []
    if cell.line_breaks and lines:
        run = target.paragraphs[0].add_run(lines[0])
        for line in lines[1:]:
            run.add_break()
            run.add_text(line)
    elif lines:
        target.paragraphs[0].text = lines[0]
        for line in lines[1:]:
            target.add_paragraph(line)
    if cell.nested is not None:
        _add_table(target, cell.nested)


# --- zip and XML rewriting -------------------------------------------------------------------------


def replace_part(data: bytes, name: str, content: bytes | None) -> bytes:
    """The same zip with member `name` replaced by `content` (added if new, removed if None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info))
        if content is not None:
            dst.writestr(name, content)
    return out.getvalue()


def edit_document_xml(data: bytes, edit: Callable[[etree._Element], None]) -> bytes:
    """Apply `edit` to the parsed word/document.xml root and write it back into the zip."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        root = etree.fromstring(src.read(DOCUMENT_XML))
    edit(root)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return replace_part(data, DOCUMENT_XML, xml)


def tables_of(root: etree._Element) -> list[etree._Element]:
    """Every `w:tbl` in document order, nested ones included (the index the helpers take)."""
    return list(root.iter(f"{W}tbl"))


def rows_of(tbl: etree._Element) -> list[etree._Element]:
    """The table's own rows, also those inside content controls, not those of nested tables."""
    return [tr for tr in tbl.iter(f"{W}tr") if _nearest(tr, "tbl") is tbl]


def cells_of(tr: etree._Element) -> list[etree._Element]:
    """The row's own `w:tc`, also those inside content controls, not those of nested tables."""
    return [tc for tc in tr.iter(f"{W}tc") if _nearest(tc, "tr") is tr]


def _nearest(el: etree._Element, local: str) -> etree._Element | None:
    return next(el.iterancestors(f"{W}{local}"), None)


def _w(local: str, val: str | None = None) -> etree._Element:
    el = etree.Element(f"{W}{local}", nsmap={"w": W_NS})
    if val is not None:
        el.set(f"{W}val", val)
    return el


def to_libreoffice_vmerge(data: bytes) -> bytes:
    """Write vertical-merge continuations as LibreOffice does: `<w:vMerge w:val="continue"/>`, not bare."""

    def edit(root: etree._Element) -> None:
        for vmerge in root.iter(f"{W}vMerge"):
            if vmerge.get(f"{W}val") is None:
                vmerge.set(f"{W}val", "continue")

    return edit_document_xml(data, edit)


def _span(tc: etree._Element) -> int:
    span = tc.find(f"{W}tcPr/{W}gridSpan")
    return 1 if span is None else int(span.get(f"{W}val"))


def _set_row_property(tr: etree._Element, local: str, n: int) -> None:
    """Put `<w:{local} w:val=n/>` into the row's `w:trPr` (created after `w:tblPrEx` if missing)."""
    tr_pr = tr.find(f"{W}trPr")
    if tr_pr is None:
        tr_pr = _w("trPr")
        tr.insert(1 if tr.find(f"{W}tblPrEx") is not None else 0, tr_pr)
    tr_pr.insert(0, _w(local, str(n)))


def _drop_cells(tcs: list[etree._Element], n: int) -> None:
    """Remove cells from the front of `tcs` until exactly `n` grid columns are gone."""
    dropped = 0
    for tc in tcs:
        if dropped == n:
            return
        dropped += _span(tc)
        tc.getparent().remove(tc)
    if dropped != n:
        raise ValueError(f"cells do not cover exactly {n} grid columns")


def add_grid_before(data: bytes, table_idx: int, row_idx: int, n: int) -> bytes:
    """Make a row start at grid column `n`, as WPS writes indented rows: its first cells covering `n`
    columns are removed (their text is lost) and `<w:gridBefore w:val=n/>` declares the gap."""

    def edit(root: etree._Element) -> None:
        tr = rows_of(tables_of(root)[table_idx])[row_idx]
        _drop_cells(cells_of(tr), n)
        _set_row_property(tr, "gridBefore", n)

    return edit_document_xml(data, edit)


def add_grid_after(data: bytes, table_idx: int, row_idx: int, n: int) -> bytes:
    """Make a row end `n` grid columns early: its last cells covering `n` columns are removed and
    `<w:gridAfter w:val=n/>` declares the gap."""

    def edit(root: etree._Element) -> None:
        tr = rows_of(tables_of(root)[table_idx])[row_idx]
        _drop_cells(cells_of(tr)[::-1], n)
        _set_row_property(tr, "gridAfter", n)

    return edit_document_xml(data, edit)


def _wrap_in_sdt(elements: list[etree._Element]) -> None:
    """Move sibling elements into one `<w:sdt><w:sdtPr/><w:sdtContent>…` at the first one's place."""
    parent = elements[0].getparent()
    if any(el.getparent() is not parent for el in elements):
        raise ValueError("elements to wrap must be siblings")
    sdt = _w("sdt")
    sdt.append(_w("sdtPr"))
    content = etree.SubElement(sdt, f"{W}sdtContent")
    parent.insert(parent.index(elements[0]), sdt)
    content.extend(elements)


def wrap_in_sdt(data: bytes, select: Callable[[etree._Element], list[etree._Element]]) -> bytes:
    """Wrap the sibling elements `select(document root)` returns in one content control (`w:sdt`).

    Any block can be wrapped: body paragraphs (`root.iter(f"{W}p")`), whole tables, rows, cells.
    """
    return edit_document_xml(data, lambda root: _wrap_in_sdt(select(root)))


def wrap_cells_in_sdt(data: bytes, table_idx: int, cells: Iterable[tuple[int, int]]) -> bytes:
    """Wrap each given cell, as (row index, index of the `w:tc` in its row), in its own content control."""

    def edit(root: etree._Element) -> None:
        rows = rows_of(tables_of(root)[table_idx])
        for tc in [cells_of(rows[r])[i] for r, i in cells]:
            _wrap_in_sdt([tc])

    return edit_document_xml(data, edit)


def wrap_rows_in_sdt(data: bytes, table_idx: int, first: int, last: int) -> bytes:
    """Wrap rows `first`..`last` (inclusive, siblings) in one content control, like a repeating section.

    Calling it again on rows already wrapped nests the controls, as Word does for repeating-section items.
    """
    return wrap_in_sdt(data, lambda root: rows_of(tables_of(root)[table_idx])[first : last + 1])


def patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    """The same zip with member `name`'s declared uncompressed size set to `size` (a lying zip).

    Both the local header and the central directory entry are patched; the data and CRC are not.
    """
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(name)
    struct.pack_into("<I", out, info.header_offset + 22, size)  # local header: uncompressed size
    entry = struct.unpack_from("<I", out, out.rfind(b"PK\x05\x06") + 16)[0]  # end record → directory
    while out[entry : entry + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", out, entry + 28)
        if out[entry + 46 : entry + 46 + name_len] == name.encode():
            struct.pack_into("<I", out, entry + 24, size)  # central directory: uncompressed size
            return bytes(out)
        entry += 46 + name_len + extra_len + comment_len
    raise KeyError(name)
