"""Read a .docx report: docx2python for the text, our own walk of its XML tree for table structure.

Why this split. docx2python is the project's reader for .docx text (runs, breaks, tabs, fields,
hyperlinks, content controls), but its tables come out wrong in exactly the ways real reports need
(PITFALLS.md): `w:vMerge w:val="continue"` reads as empty cells, `w:gridBefore` shifts cells left,
a cell or row inside a content control (`w:sdt`) or a nested table splits the table. Re-aligning
its nested lists to the XML would be guesswork in precisely those cases, so we don't: we walk the
very lxml tree docx2python parsed (`File.root_element`), and docx2python's `Par` objects carry the
`w:p` element they came from (`Par.elem`). Each paragraph's text is looked up by element identity:
exact alignment, no positional matching, one parse. Structure comes from the walk:
rows and cells through `w:sdt`/`w:customXml` wrappers, `w:gridSpan` → colspan, `w:vMerge`
(restart/continue/bare) → rowspan by grid column, `w:gridBefore` → empty leading cells, nested
tables → tables of their own; grids are built only by `expand()`.

Safety. `check_zip` vets the archive first and `check_markup` bounds the XML docx2python will walk;
the main part's real decompressed size is counted before docx2python reads it; tables share one
grid budget (`grid.GridBudget`). docx2python parses every part with lxml's default parser, so for the duration
of the read this thread's default parser is a safe one (no entity expansion, no network, no DTD
loading, no huge trees); a DOCTYPE in the main part is refused outright. Anything docx2python or
lxml raise on bad input becomes a one-line DocumentError.

Speed. docx2python's per-element Python walk dominates; the extra work here (one decompression pass
to count bytes, one structural walk that never descends into runs) is a few percent of it.
`duplicate_merged_cells=False` spares docx2python the deep copies of merged cells we don't use.

Text. A paragraph's text is docx2python's (auto-numbering rendered its way, e.g. "1)" or "--"), with
tabs as spaces, each line stripped and blank lines dropped; a cell's text is its paragraphs joined
by "\\n" (a `<w:br/>` is a line break too). Text in a vMerge continuation cell (normally empty) is
appended to the merged cell, never dropped. Text boxes and headers/footers are not read.
`Table.context` is the last 3 non-empty paragraphs before the table (≤ 300 chars, the end kept):
body paragraphs for a top-level table, the cell's own paragraphs for a nested one.
"""

from __future__ import annotations

import functools
import io
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from docx2python import docx2python
from docx2python import numbering_formats as _numbering_formats
from docx2python.depth_collector import Par
from docx2python.docx_output import DocxContent
from docx2python.docx_reader import File
from lxml import etree

from pipeline.document import Document, DocumentError, Picture, Table, table_context
from pipeline.readers.grid import MAX_SPAN, CellSpec, GridBudget, parse_span
from pipeline.readers.zipguard import (
    MAX_MEMBER_UNCOMPRESSED,
    SAFE_XML,
    check_decompressed_size,
    check_markup,
    check_zip,
)

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = f"{{{_W_NS}}}"
_P, _TBL, _TR, _TC = f"{_W}p", f"{_W}tbl", f"{_W}tr", f"{_W}tc"
_SDT, _SDT_CONTENT, _CUSTOM_XML = f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml"
_VAL, _BODY = f"{_W}val", f"{_W}body"
_GRID_SPAN, _ILVL = f"{_W}gridSpan", f"{_W}ilvl"
MAX_SPAN_CELLS = 100_000  # empty cells docx2python adds for spans; a real report's spans add ~100
MAX_LIST_LEVEL = 8  # Word's list levels are 0–8
_BLOCKS, _ROWS, _CELLS = frozenset({_P, _TBL}), frozenset({_TR}), frozenset({_TC})

META_KEYS = ("title", "creator", "created", "modified")
_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
_EMBED = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"
_RELS = "word/_rels/document.xml.rels"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
MAX_PICTURES = 50  # pictures kept for OCR; a report pastes its 3 tables, a few pages of scans at most


def read_docx(data: bytes) -> Document:
    """Tables (spans resolved), body paragraphs and core properties of a .docx; DocumentError if unreadable."""
    with check_zip(data) as zf:
        try:
            check_markup(zf)
            with (
                _safe_default_parser(),
                docx2python(io.BytesIO(data), duplicate_merged_cells=False) as content,
            ):
                main = _main_part(content)
                check_decompressed_size(zf, main.path, MAX_MEMBER_UNCOMPRESSED)
                doc, embeds = _read(content, main, set(zf.namelist()))
                doc.pictures = _pictures(zf, embeds)
                return doc
        except DocumentError:
            raise
        except Exception as exc:  # docx2python and lxml raise anything on hostile or broken input
            raise DocumentError(f"docx: unreadable ({_one_line(exc)})") from exc


def _one_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


@contextmanager
def _safe_default_parser() -> Iterator[None]:
    """Make this thread's lxml default parser (the one docx2python uses) a safe one, then restore it.

    lxml parsers are not thread-safe, which is why the default is per thread: a fresh one per read.
    Comments and processing instructions are dropped because docx2python cannot walk them.
    """
    previous = etree.get_default_parser()
    etree.set_default_parser(etree.XMLParser(**SAFE_XML))
    try:
        yield
    finally:
        etree.set_default_parser(previous)


def _main_part(content: DocxContent) -> File:
    try:
        return content.docx_reader.file_of_type("officeDocument")
    except KeyError:
        raise DocumentError("docx: no main document part (word/document.xml)") from None


def _read(content: DocxContent, main: File, members: set[str]) -> tuple[Document, list[tuple[str, str]]]:
    """The document, and the body's pictures as (relationship id, context) in order."""
    root = main.root_element
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise DocumentError(f"docx: {main.path} has a DOCTYPE (entity declarations are refused)")
    body = root.find(f"{_W}body")
    if body is None:
        raise DocumentError(f"docx: {main.path} has no w:body (not WordprocessingML transitional)")
    _bound_values(root)
    walker = _Walker({par.elem: "".join(par.run_strings) for par in _pars(main) if par.elem is not None})
    paragraphs = walker.blocks(body)
    meta = _core_properties(content, members)
    doc = Document(
        format="docx",
        tables=walker.finished_tables(),
        paragraphs=paragraphs,
        title=meta.get("title"),
        meta=meta,
    )
    return doc, walker.pictures


def _pictures(zf, embeds: list[tuple[str, str]]) -> list[Picture]:
    """The bytes of the body's pictures (word/media/…), each with the text before it; a picture the
    package does not hold is left out (Word shows a broken image for it)."""
    if not embeds or _RELS not in zf.namelist():
        return []
    check_decompressed_size(zf, _RELS, MAX_MEMBER_UNCOMPRESSED)
    rels = etree.fromstring(zf.read(_RELS), etree.XMLParser(**SAFE_XML))
    targets = {
        r.get("Id"): r.get("Target") or "" for r in rels.iter(_REL) if r.get("TargetMode") != "External"
    }
    out: list[Picture] = []
    for rid, context in embeds[:MAX_PICTURES]:
        target = targets.get(rid, "")
        name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"word/{target}")
        if not target or name not in zf.namelist():
            continue
        check_decompressed_size(zf, name, MAX_MEMBER_UNCOMPRESSED)
        out.append(Picture(zf.read(name), context))
    return out


def _bound_values(root: etree._Element) -> None:
    """Clamp, in the tree docx2python is about to walk, the values it trusts to size its work.

    docx2python adds `gridSpan − 1` empty cells for every cell, one at a time (`w:gridSpan
    w:val="99999999"` is a hang; 5,000 digits an exception), and indents a numbered paragraph with
    `"\t" * int(ilvl)` (`w:ilvl w:val="999999999"` is a gigabyte). Spans are clamped as we read
    them (`parse_span`) and their extra cells counted (past `MAX_SPAN_CELLS`, refused); list levels
    are clamped to Word's 0–8, junk reading as 0. Real documents are unchanged.
    """
    extra = 0
    for el in root.iter(_GRID_SPAN):
        span = parse_span(el.get(_VAL))
        el.set(_VAL, str(span))
        extra += span - 1
    if extra > MAX_SPAN_CELLS:
        raise DocumentError(
            f"docx: cell spans add {extra} grid cells (limit {MAX_SPAN_CELLS}): too large to read"
        )
    for el in root.iter(_ILVL):
        raw = (el.get(_VAL) or "").strip()
        level = int(raw) if raw.isascii() and raw.isdecimal() and len(raw) <= 2 else 0
        el.set(_VAL, str(min(level, MAX_LIST_LEVEL)))


def _roman(n: int, *, upper: bool) -> str:
    """docx2python's Roman numerals, from the digits: its own build `"i" * n` and fold it, which is
    quadratic over a long list and a memory bomb for a list starting at 10⁹. Past 3,999 (where its
    docstring says Roman numerals stop and it writes thousands of "m") the number is decimal."""
    if n < 1:
        raise ValueError(f"the Romans hadn't figured out {n}")
    if n > _ROMAN_MAX:
        return str(n)
    out = "m" * (n // 1000)
    for digit, (one, five, ten) in zip(
        (n // 100 % 10, n // 10 % 10, n % 10),
        (("c", "d", "m"), ("x", "l", "c"), ("i", "v", "x")),
        strict=True,
    ):
        out += (
            "",
            one,
            one * 2,
            one * 3,
            one + five,
            five,
            five + one,
            five + one * 2,
            five + one * 3,
            one + ten,
        )[digit]
    return out.upper() if upper else out


_ROMAN_MAX = 3999
_numbering_formats.lower_roman = functools.partial(_roman, upper=False)
_numbering_formats.upper_roman = functools.partial(_roman, upper=True)


def _pars(main: File) -> Iterator[Par]:
    """Every docx2python `Par` of the main part (its content is nested [table][row][cell][par])."""
    for tbl in main.content:
        for row in tbl:
            for cell in row:
                yield from cell


def _core_properties(content: DocxContent, members: set[str]) -> dict[str, str]:
    """Title, creator, created, modified where present and non-empty; none if docProps/core.xml is missing.

    Checked first: docx2python warns when the part is not declared and fails when it is declared
    but absent, and metadata is not worth refusing a report for.
    """
    parts = content.docx_reader.files_of_type("core-properties")
    if not parts or parts[0].path not in members:
        return {}
    props = content.core_properties
    return {key: value.strip() for key in META_KEYS if (value := props.get(key)) and value.strip()}


def _children(el: etree._Element, wanted: frozenset[str]) -> Iterator[etree._Element]:
    """Children of `el` with a tag in `wanted`, seen through content controls and custom-XML wrappers.

    `w:sdt` and `w:customXml` may wrap paragraphs, tables, rows or cells; what they wrap belongs
    to the enclosing container, so a wrapped row is still a row of the same table.
    """
    for child in el:
        tag = child.tag
        if tag in wanted:
            yield child
        elif tag == _SDT:
            sdt_content = child.find(_SDT_CONTENT)
            if sdt_content is not None:
                yield from _children(sdt_content, wanted)
        elif tag == _CUSTOM_XML:
            yield from _children(child, wanted)


def _paragraph_text(raw: str) -> str:
    """docx2python's paragraph text with tabs as spaces, each line stripped, blank lines dropped."""
    lines = (line.strip() for line in raw.replace("\t", " ").split("\n"))
    return "\n".join(line for line in lines if line)


@dataclass(slots=True)
class _Cell:
    """A cell while its rows are read: a vertical merge below it grows `rowspan`."""

    text: str
    colspan: int = 1
    rowspan: int = 1


@dataclass
class _Walker:
    """Walks the XML for structure, taking each paragraph's text from docx2python by element."""

    par_texts: dict[etree._Element, str]
    tables: list[Table | None] = field(default_factory=list)
    budget: GridBudget = field(default_factory=lambda: GridBudget("docx"))
    pictures: list[tuple[str, str]] = field(default_factory=list)  # body pictures: (r:embed, context)

    def finished_tables(self) -> list[Table]:
        """The tables in document order (every slot is filled once its table has been read)."""
        return [t for t in self.tables if t is not None]

    def blocks(self, container: etree._Element) -> list[str]:
        """Non-empty paragraph texts of a body or cell, in order; its tables go to `self.tables`."""
        texts: list[str] = []
        for block in _children(container, _BLOCKS):
            if block.tag == _P:
                if text := _paragraph_text(self.par_texts[block]):
                    texts.append(text)
                if container.tag == _BODY:
                    context = table_context(texts)
                    self.pictures += [(b.get(_EMBED, ""), context) for b in block.iter(_BLIP)]
            else:
                self.table(block, table_context(texts))
        return texts

    def table(self, tbl: etree._Element, context: str) -> None:
        """Read one table; its index is taken before its cells are read, so nested tables come after it."""
        index = len(self.tables)
        self.tables.append(None)
        rows: list[list[_Cell]] = []
        above: dict[int, _Cell] = {}
        for tr in _children(tbl, _ROWS):
            row, above = self.row(tr, above)
            rows.append(row)
        specs = [[CellSpec(c.text, c.rowspan, c.colspan) for c in row] for row in rows]
        self.tables[index] = Table(index, self.budget.expand(specs), context)

    def row(self, tr: etree._Element, above: dict[int, _Cell]) -> tuple[list[_Cell], dict[int, _Cell]]:
        """The cells starting in this row, and the cells of this row by start column (for the next row).

        A vMerge continuation (bare or "continue") extends the cell that starts at the same grid
        column in the row above; with nothing there it is an ordinary cell. gridBefore columns get
        empty placeholder cells; gridAfter needs nothing (the row just ends early).
        """
        col = _grid_before(tr)
        row = [_Cell("") for _ in range(col)]
        starts: dict[int, _Cell] = {}
        for tc in _children(tr, _CELLS):
            tc_pr = tc.find(f"{_W}tcPr")
            colspan = parse_span(_val(tc_pr, "gridSpan"))
            text = "\n".join(self.blocks(tc))
            merged = above.get(col) if _continues_vmerge(tc_pr) else None
            if merged is not None:
                merged.rowspan += 1
                merged.text = "\n".join(t for t in (merged.text, text) if t)  # text is never dropped
                starts[col] = merged
            else:
                starts[col] = cell = _Cell(text, colspan)
                row.append(cell)
            col += colspan
        return row, starts


def _val(parent: etree._Element | None, local: str) -> str | None:
    """`w:val` of child `w:{local}` of `parent`; None if either is missing."""
    if parent is None:
        return None
    child = parent.find(f"{_W}{local}")
    return None if child is None else child.get(_VAL)


def _continues_vmerge(tc_pr: etree._Element | None) -> bool:
    """True for `<w:vMerge/>` (Word, WPS) and `<w:vMerge w:val="continue"/>` (LibreOffice)."""
    if tc_pr is None:
        return False
    vmerge = tc_pr.find(f"{_W}vMerge")
    return vmerge is not None and vmerge.get(_VAL) != "restart"


def _grid_before(tr: etree._Element) -> int:
    """Grid columns skipped before the row's first cell (`w:trPr/w:gridBefore`); junk reads as 0."""
    raw = (_val(tr.find(f"{_W}trPr"), "gridBefore") or "").strip()
    if not (raw.isascii() and raw.isdecimal()):
        return 0
    if len(raw) > len(str(MAX_SPAN)):  # "99999…": clamped like a span (int() refuses 5,000 digits)
        return MAX_SPAN
    return min(int(raw), MAX_SPAN)
