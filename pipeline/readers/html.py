"""HTML pages → Document: data tables as grids, text outside them as paragraphs.

Government CMS pages wrap content in layout tables, export Word documents with `<o:p>` and `mso-*` markup,
and sometimes ship the report as HTML inside a JavaScript string (QUIRKS.md). lxml parses (never
BeautifulSoup: slow and mis-nests `<td>`; never pandas.read_html: chokes on `rowspan="2;"`, loses `<br>`).

How text is read, fast: line breaks are marked in the tree with a noncharacter (U+FDD0) at `<br>` and
around block elements; each data table's cells are read with one C-level text serialisation of the table
(cells separated by another noncharacter), then the table is replaced by a numbered marker, and the
paragraphs come from one text serialisation of the body; whitespace is normalised with `str.split`, not
per-node Python work. Every walk is iterative, and libxml2 stops at depth 256, which is reported as a
DocumentError rather than silently returning a truncated page.

Size. Past `MAX_BYTES`, or with more tags or table cells than `MAX_ELEMENTS` or `MAX_CELLS` (counted
in the bytes before libxml2 builds a tree: 50 MB of `<td>` is millions of nodes), or more tables or
cells than `MAX_TABLES` / `MAX_CELLS` in the tree (HTML from scripts included), or more `<pre>` lines
than `MAX_PRE_LINES`, a page is refused; its tables share one budget of grid positions and text
(grid.GridBudget), which span values cannot blow up.

Decisions a reader of the output should know: a table that contains tables is layout unless it is itself
a grid (≥ 3 rows of ≥ 2 cells, more rows than what it wraps, no cell with article-length text); a
one-cell table is a framed paragraph; a table nested in a data cell is its own table with its outer
table's context; `Table.context` is not reset by an intervening table.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html as htmlmod
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from pipeline.document import Document, DocumentError, Picture, Table, table_context
from pipeline.encoding import decode_html
from pipeline.readers.grid import MAX_CELLS, MAX_TABLES, CellSpec, GridBudget, parse_span

__all__ = ["MAX_BYTES", "MAX_ELEMENTS", "read_html"]

MAX_BYTES = 50 * 1024 * 1024
MAX_ELEMENTS = 500_000  # tags; a 370 KB Word-exported report has ~2,000
MAX_PRE_LINES = 1_000_000  # newlines in <pre> (other line breaks are tags); a report has none or a few
LAYOUT_CELL_CHARS = 300  # a cell holding more own text than this is page layout, not a data cell
MIN_CONTENT_ROWS = 3  # no body table this long: look for the report in <script> strings

# Noncharacters (U+FDD0..U+FDEF) are reserved for internal use, valid in XML text, and removed from input.
_LINE = "\ufdd0"  # a line break (<br>, block boundary)
_TABLE = "\ufdd1"  # around the index of a data table replaced in the tree
_CELL = "\ufdd2"  # ends each cell of the table being read
# Characters XML text cannot hold (lxml refuses them when text is set) and our own markers: removed from
# the input. C0 controls (Word's \x0b line break, stray NULs) become spaces; U+FFFE/U+FFFF are dropped.
_XML_UNSAFE_UTF8_RE = re.compile(b"\xef\xb7[\x90-\xaf]|\xef\xbf[\xbe\xbf]")
_CONTROLS_TO_SPACE = bytes.maketrans(bytes(b for b in range(32) if b not in b"\t\n\r"), b" " * (32 - 3))

_BLOCK_TAGS = (
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    "pre", "section", "article", "header", "footer", "nav", "aside", "main", "address", "figure",
    "figcaption", "form", "fieldset", "legend", "hr", "center", "caption", "table", "details", "summary",
)  # fmt: skip
_DROP_ALWAYS = ("style", "noscript", "template", "xml")  # never content; <xml>: Word's data islands
_DROP_AFTER_JS = ("script", "head", "title")  # scripts are kept until the JS-string fallback has looked

_IMAGE = "\ufdd2"  # around the index of a picture (a data: URI <img>) replaced in the tree
_TABLE_SPLIT_RE = re.compile(f"([{_TABLE}{_IMAGE}])(\\d+)\\1")
_DATA_URI_RE = re.compile(r"data:image/[a-z+.-]+;base64,", re.I)
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f")
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_REPLACEMENT_UTF8 = "\ufffd".encode()

_TABLE_HINT_RE = re.compile(r"<\s*table|\\u003c\s*table|\\x3c\s*table|&lt;\s*table", re.IGNORECASE)
_JS_TOKEN_RE = re.compile(
    r"//[^\n]*"
    r"|/\*.*?(?:\*/|\Z)"  # an unclosed comment runs to the end: no rescanning from every later "/*"
    r'|"([^"\\\n]*(?:\\.[^"\\\n]*)*)"'
    r"|'([^'\\\n]*(?:\\.[^'\\\n]*)*)'"
    r"|`([^`\\]*(?:\\.[^`\\]*)*)`",
    re.DOTALL,
)
_JS_ESCAPE_RE = re.compile(r"\\(u\{[0-9a-fA-F]{1,6}\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|.)", re.DOTALL)
_JS_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_JS_CONTINUATION = ("\n", "\r", "\r\n", "\u2028", "\u2029")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_TAG_RE = re.compile(r"<\s*/?\s*[A-Za-z]")
_HTML_TABLE_RE = re.compile(r"<\s*table", re.IGNORECASE)


def read_html(
    data: bytes, *, http_charset: str | None = None, linked: Mapping[str, bytes] | None = None
) -> Document:
    """Read an HTML page. Raises DocumentError, and nothing else, for input it cannot read.

    `linked`: the bytes of pictures the page shows by URL, by their `src` as written (fetched with the
    page: pipeline.sources.pictures); they are kept like `data:` URI pictures, where they stand."""
    if len(data) > MAX_BYTES:
        raise DocumentError(f"html: document too large ({len(data)} bytes)")
    try:
        return _read(bytes(data), http_charset, linked or {})
    except DocumentError:
        raise
    except RecursionError as exc:
        raise DocumentError("html: nesting too deep to read") from exc
    except (etree.LxmlError, ValueError, UnicodeError, MemoryError) as exc:
        raise DocumentError(f"html: cannot parse ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # a reader bug must fail one document, not the run; the message says so
        raise DocumentError(f"html: internal error ({type(exc).__name__}: {exc})") from exc


def _read(data: bytes, http_charset: str | None, linked: Mapping[str, bytes]) -> Document:
    text, encoding, how = decode_html(data, http_charset)
    if encoding == "utf-8" and how != "fallback":  # strictly valid: the bytes are already what lxml wants
        utf8 = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    else:
        utf8 = text.encode("utf-8", "replace")
    _reject_binary(utf8)
    root = _parse(utf8)
    meta = _meta(root)
    title = _title(root, meta)
    body = root.find("body")
    if body is None:
        raise DocumentError("html: no <body> content")
    etree.strip_elements(root, *_DROP_ALWAYS, with_tail=False)
    frames = _table_frames(body)
    has_content_table = any(f.is_data and len(f.rows) >= MIN_CONTENT_ROWS for f in frames)
    if not has_content_table and (
        _inline_script_html(root, body)
        or (not _has_visible_text(body) and _inline_script_html(root, body, require_table=False))
    ):
        frames = _table_frames(body)
    etree.strip_elements(root, *_DROP_AFTER_JS, with_tail=False)
    tables, paragraphs, pictures = _extract(body, frames, linked)
    if not tables and not paragraphs and not pictures:
        raise DocumentError("html: no text or tables in <body>")
    return Document(
        format="html",
        tables=tables,
        paragraphs=paragraphs,
        title=title,
        meta=meta,
        encoding=encoding,
        pictures=pictures,
    )


# --- parsing ---------------------------------------------------------------------------------------------


def _reject_binary(utf8: bytes) -> None:
    """Bytes full of control or undecodable characters are not a page (a PDF, zip or image served as HTML)."""
    sample = utf8[:16384]
    if not sample.strip():
        raise DocumentError("html: empty document")
    bad = len(sample.translate(None, _NOT_CONTROL_BYTES)) + sample.count(_REPLACEMENT_UTF8)
    if bad > max(8, len(sample) // 50):
        raise DocumentError(f"html: binary content, not a page ({bad} control/undecodable characters)")


_TAG_START_RE = re.compile(rb"<[A-Za-z]")
_CELL_START_RE = re.compile(rb"<t[dh][\s/>]", re.IGNORECASE)


def _check_size(utf8: bytes) -> None:
    """Refuse markup with more tags or cells than any report, before a tree is built (tables are
    counted in the tree: a tree never holds more than libxml2's depth limit lets it).

    Counting stops just past each limit, so a hostile page costs at most a few hundred thousand matches.
    """
    for pattern, limit, what in (
        (_TAG_START_RE, MAX_ELEMENTS, "tags"),
        (_CELL_START_RE, MAX_CELLS, "table cells"),
    ):
        if sum(1 for _ in itertools.islice(pattern.finditer(utf8), limit + 1)) > limit:
            raise DocumentError(f"html: more than {limit} {what}: too large to read")


def _parse(utf8: bytes) -> etree._Element:
    """Parse with safe options; a fatal libxml2 error (e.g. depth over 256) would drop content silently."""
    _check_size(utf8)
    parser = etree.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=False
    )
    utf8 = utf8.translate(_CONTROLS_TO_SPACE)
    if b"\xef\xb7" in utf8 or b"\xef\xbf" in utf8:
        utf8 = _XML_UNSAFE_UTF8_RE.sub(b"", utf8)
    try:
        root = etree.fromstring(utf8, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"html: cannot parse ({exc})") from exc
    if root is None:
        raise DocumentError("html: empty document")
    for err in parser.error_log:
        if err.level >= etree.ErrorLevels.FATAL:
            raise DocumentError(f"html: parser gave up at line {err.line}: {err.message.strip()}")
    return root


def _meta(root: etree._Element) -> dict[str, str]:
    """All <meta name content> pairs (first occurrence of a name wins)."""
    meta: dict[str, str] = {}
    for el in root.iter("meta"):
        name, content = el.get("name"), el.get("content")
        if name and content is not None:
            meta.setdefault(name.strip(), content.strip())
    return meta


def _title(root: etree._Element, meta: dict[str, str]) -> str | None:
    """meta ArticleTitle (the CMS's own article title), else <title>, else None."""
    for name, value in meta.items():
        if name.lower() == "articletitle" and value.strip():
            return " ".join(value.split())
    el = root.find(".//title")
    if el is not None:
        title = " ".join(_text(el).split())
        if title:
            return title
    return None


def _text(el: etree._Element) -> str:
    """All text inside `el` (not its tail), serialised by libxml2: far faster than itertext."""
    return etree.tostring(el, method="text", encoding="unicode", with_tail=False)


# --- table structure ------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Frame:
    """A <table> element, its own rows of cell elements (not those of nested tables) and its nesting."""

    el: etree._Element
    parent: _Frame | None
    parent_cell: etree._Element | None
    rows: list[list[etree._Element]] = field(default_factory=list)
    children: list[_Frame] = field(default_factory=list)
    in_row: bool = False
    open_cell: etree._Element | None = None
    is_data: bool = True
    under_data: bool = False  # some enclosing table is a data table


def _table_frames(body: etree._Element) -> list[_Frame]:
    """Tables in document order with their own rows; one C-level walk over table/tr/td/th only."""
    frames: list[_Frame] = []
    stack: list[_Frame] = []
    n_cells = 0
    for event, el in etree.iterwalk(body, events=("start", "end"), tag=("table", "tr", "td", "th")):
        tag = el.tag
        if tag == "table":
            if event == "start":
                if len(frames) >= MAX_TABLES:  # HTML from scripts comes on top of what _check_size saw
                    raise DocumentError(f"html: more than {MAX_TABLES} tables: too large to read")
                parent = stack[-1] if stack else None
                frame = _Frame(el, parent, parent.open_cell if parent else None)
                if parent is not None:
                    parent.children.append(frame)
                frames.append(frame)
                stack.append(frame)
            elif stack:
                stack.pop()
            continue
        if not stack:
            continue  # a stray row or cell outside any table: its text stays with the paragraphs
        frame = stack[-1]
        if tag == "tr":
            frame.in_row = event == "start"
            if frame.in_row:
                frame.rows.append([])
        elif event == "start":
            n_cells += 1
            if n_cells > MAX_CELLS:
                raise DocumentError(f"html: more than {MAX_CELLS} table cells: too large to read")
            if not frame.in_row:  # <table><td>: libxml2 adds no <tr>; each run of bare cells is a row
                frame.rows.append([])
                frame.in_row = True
            frame.rows[-1].append(el)
            frame.open_cell = el
        else:
            frame.open_cell = None
    for frame in frames:
        _classify(frame)
    return frames


def _classify(frame: _Frame) -> None:
    """Data or layout. Called in document order, so the parent is already classified."""
    parent = frame.parent
    frame.under_data = parent is not None and (parent.is_data or parent.under_data)
    n_cells = sum(len(row) for row in frame.rows)
    if n_cells <= 1:
        frame.is_data = False  # a one-cell box (a framed heading, a wrapper): its text is a paragraph
    elif frame.children:
        frame.is_data = _grid_around_nested(frame)


def _grid_around_nested(frame: _Frame) -> bool:
    """A table holding tables is layout, unless it is itself a grid with a small table inside one cell.

    Layout tables have few rows compared with what they wrap, or a cell that holds the article's text.
    """
    multi_cell_rows = sum(1 for row in frame.rows if len(row) >= 2)
    nested_rows = sum(len(child.rows) for child in frame.children)
    if multi_cell_rows < MIN_CONTENT_ROWS or nested_rows >= len(frame.rows):
        return False
    nested_text: dict[int, int] = {}
    for child in frame.children:
        if child.parent_cell is not None:
            key = id(child.parent_cell)
            nested_text[key] = nested_text.get(key, 0) + _visible_len(child.el)
    for row in frame.rows:
        for cell in row:
            if _visible_len(cell) - nested_text.get(id(cell), 0) > LAYOUT_CELL_CHARS:
                return False
    return True


def _visible_len(el: etree._Element) -> int:
    return len("".join(_text(el).split()))


# --- text extraction ------------------------------------------------------------------------------------


def _mark_lines(body: etree._Element, frames: list[_Frame]) -> None:
    """Put line-break markers at <br> and around blocks; keep <pre> newlines as line breaks.

    Line breaks from tags are bounded by the tag count; newlines in <pre> are counted here (10 MB of
    them would be 5 million lines, each a paragraph or a line of a cell).
    """
    pre_lines = 0
    for el in body.iter("pre"):
        for node in el.iter():
            if node.text:
                pre_lines += node.text.count("\n")
                node.text = node.text.replace("\n", _LINE)
            if node is not el and node.tail:
                pre_lines += node.tail.count("\n")
                node.tail = node.tail.replace("\n", _LINE)
        if pre_lines > MAX_PRE_LINES:
            raise DocumentError(
                f"html: more than {MAX_PRE_LINES} lines of preformatted text: too large to read"
            )
    for el in body.iter("br"):
        tail = el.tail
        el.tail = _LINE + tail if tail else _LINE
    for el in body.iter(*_BLOCK_TAGS):
        text, tail = el.text, el.tail
        el.text = _LINE + text if text else _LINE
        el.tail = _LINE + tail if tail else _LINE
    for frame in frames:  # cells of layout tables become paragraphs; data cells are read one by one
        if not frame.is_data:
            for row in frame.rows:
                for cell in row:
                    text, tail = cell.text, cell.tail
                    cell.text = _LINE + text if text else _LINE
                    cell.tail = _LINE + tail if tail else _LINE


def _clean(raw: str) -> str:
    """Whitespace runs → one space, line markers → "\\n", lines stripped, empty lines dropped.

    `str.split()` splits on all Unicode whitespace (&nbsp; U+00A0 and U+3000 included) but not on the
    noncharacter markers, and is several times faster than a regex substitution.
    """
    if _LINE not in raw:
        return " ".join(raw.split())
    return "\n".join(filter(None, [" ".join(part.split()) for part in raw.split(_LINE)]))


def _extract(
    body: etree._Element, frames: list[_Frame], linked: Mapping[str, bytes]
) -> tuple[list[Table], list[str], list[Picture]]:
    """Read data tables (innermost first), replace each in the tree by a marker, then read paragraphs;
    pictures embedded as `data:` URIs are kept, each with the paragraphs printed before it."""
    _mark_lines(body, frames)
    data = [f for f in frames if f.is_data]
    order = {id(f): i for i, f in enumerate(data)}
    specs: dict[int, list[list[CellSpec]]] = {}
    for frame in reversed(data):  # inner tables first, so an outer cell's text no longer holds them
        _move_caption_out(frame.el)
        specs[id(frame)] = _cell_specs(frame)
        tail = frame.el.tail
        frame.el.clear()
        frame.el.text = _LINE if frame.under_data else f"{_LINE}{_TABLE}{order[id(frame)]}{_TABLE}{_LINE}"
        frame.el.tail = tail
    images = _pictures(body, linked)

    paragraphs: list[str] = []
    contexts: dict[int, str] = {}
    pictures: list[Picture] = []
    pieces = _TABLE_SPLIT_RE.split(_clean(_text(body)))
    for i in range(0, len(pieces), 3):
        paragraphs.extend(line for line in pieces[i].split("\n") if line)
        if i + 2 < len(pieces):
            marker, index = pieces[i + 1], int(pieces[i + 2])
            if marker == _TABLE:
                contexts[index] = table_context(paragraphs)
            else:
                pictures.append(Picture(images[index], table_context(paragraphs)))

    tables: list[Table] = []
    context = ""
    budget = GridBudget("html")
    for i, frame in enumerate(data):
        if not frame.under_data:  # a table inside a data cell shares its outer table's context
            context = contexts.get(i, "")
        tables.append(Table(index=i, grid=budget.expand(specs[id(frame)]), context=context))
    return tables, paragraphs, pictures


def _pictures(body: etree._Element, linked: Mapping[str, bytes]) -> list[bytes]:
    """The bytes of each `<img>`, a `data:` URI's or those fetched with the page for its `src`
    (`linked`), the element replaced by a marker where it stood."""
    out: list[bytes] = []
    for img in list(body.iter("img")):
        src = (img.get("src") or "").strip()
        if img.getparent() is None:
            continue
        if src in linked:
            data = linked[src]
        elif (match := _DATA_URI_RE.match(src)) is None:
            continue
        else:
            try:
                data = base64.b64decode("".join(src[match.end() :].split()), validate=True)
            except (ValueError, binascii.Error):
                continue  # not a picture anyone can see either
        marker = etree.Element("span")
        marker.text = f"{_LINE}{_IMAGE}{len(out)}{_IMAGE}{_LINE}"
        marker.tail = img.tail
        img.getparent().replace(img, marker)
        out.append(data)
    return out


def _move_caption_out(table: etree._Element) -> None:
    """A <caption> is printed above the table: make it a paragraph there, not part of the first cell.

    An unclosed <caption> swallows the rows (libxml2 does not close it at <td>, browsers do): only its
    leading text moves out, as browsers show it.
    """
    for caption in table.findall("caption"):
        if next(caption.iter("td", "th", "tr", "table"), None) is None:
            table.addprevious(caption)
        elif caption.text:
            paragraph = etree.Element("p")
            paragraph.text = f"{_LINE}{caption.text}{_LINE}"
            caption.text = _LINE
            table.addprevious(paragraph)


def _cell_specs(frame: _Frame) -> list[list[CellSpec]]:
    """Rows of CellSpec. One serialisation of the table with a separator after each own cell, one
    normalisation over it; a nested table inside a cell has already been replaced by a line break."""
    cells = [cell for row in frame.rows for cell in row]
    for cell in cells:  # a cell's tail is the whitespace before the next cell (stray text there is dropped)
        cell.tail = _CELL
    texts = iter([_clean(part) for part in _text(frame.el).split(_CELL)])
    return [
        [
            CellSpec(next(texts), parse_span(cell.get("rowspan")), parse_span(cell.get("colspan")))
            for cell in row
        ]
        for row in frame.rows
    ]


# --- HTML inside JavaScript strings ---------------------------------------------------------------------


def _has_visible_text(body: etree._Element) -> bool:
    """Whether the body prints any text outside scripts."""
    return any(
        (el.text or "").strip() or (el.tail or "").strip()
        for el in body.iter()
        if isinstance(el.tag, str) and el.tag != "script"
    )


def _inline_script_html(root: etree._Element, body: etree._Element, *, require_table: bool = True) -> bool:
    """Put HTML found in <script> string literals into the body in place of its script; True if any.

    Normally only scripts whose string literals hold a table count (share buttons and widgets also
    write HTML); a page whose body is empty takes whatever HTML its scripts hold.
    """
    found = False
    for script in list(root.iter("script")):
        source = script.text
        if not source or (require_table and not _TABLE_HINT_RE.search(source)):
            continue
        fragment = _script_html(source, require_table=require_table)
        if fragment is None:
            continue
        container = _fragment_element(fragment)
        if container is None:
            continue
        container.tail = script.tail
        parent = script.getparent()
        if parent is not None and _inside(script, body):
            parent.replace(script, container)
        else:
            body.append(container)
        found = True
    return found


def _script_html(source: str, *, require_table: bool = True) -> str | None:
    """The HTML held by a script's string literals (in order, concatenated), if it contains a table
    (or any HTML, without `require_table`)."""
    parts: list[str] = []
    for match in _JS_TOKEN_RE.finditer(source):
        literal = next((g for g in match.groups() if g is not None), None)
        if not literal:
            continue
        value = _js_unescape(literal)
        if "&lt;" in value and not _TAG_RE.search(value):
            value = htmlmod.unescape(value)
        if _TAG_RE.search(value):
            parts.append(value)
    fragment = "".join(parts)
    if not fragment or (require_table and not _HTML_TABLE_RE.search(fragment)):
        return None
    return fragment


def _js_unescape(literal: str) -> str:
    r"""The value of a JS/JSON string literal's body: \" \' \\ \n \t \/ \uXXXX \u{X} \xXX, continuations."""
    if "\\" not in literal:
        return literal
    value = _JS_ESCAPE_RE.sub(_js_escape_value, literal)
    if _SURROGATE_RE.search(value):  # "\ud83d\ude00" is one character: pair the surrogates up
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


def _js_escape_value(match: re.Match[str]) -> str:
    esc = match.group(1)
    if esc in _JS_CONTINUATION:
        return ""
    if len(esc) > 1 and esc[0] in "ux":
        code = int(esc[2:-1] if esc.startswith("u{") else esc[1:], 16)
        return chr(code) if code <= 0x10FFFF else "\ufffd"
    return _JS_SIMPLE.get(esc, esc)


def _fragment_element(fragment: str) -> etree._Element | None:
    """An HTML fragment parsed into one <div> holding what its body holds."""
    root = _parse(f"<html><body>{fragment}</body></html>".encode("utf-8", "replace"))
    fragment_body = root.find("body")
    if fragment_body is None:
        return None
    container = etree.Element("div")
    container.text = fragment_body.text
    container.extend(list(fragment_body))
    return container


def _inside(el: etree._Element, ancestor: etree._Element) -> bool:
    """Whether `ancestor` is an ancestor of `el` (iterative walk up)."""
    node = el.getparent()
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False
