"""Characters of a PDF page → lines → the text of a cell or of the page's paragraphs.

A PDF holds positioned glyphs, not text. Lines are rebuilt from the glyphs' vertical midpoints,
ordered left to right, with a space where the gap is wider than a third of the glyph size (Latin
digits set between CJK text: `2024 年`). A glyph printed twice at almost the same place (fake bold)
is kept once.

Cell text keeps its lines apart ("\\n"): a vertical label is one character per line, a wrapped label
two lines, and labels are matched whitespace-free anyway. One exception: a number wrapped inside a
narrow cell (`160.596` / `4万元`). Its first line runs up to the cell's right edge, so the lines are
joined when that line ends a number fragment, the next starts one, and the next line's first glyph
would not have fitted beside it. Lines of two different cells are never joined (the caller hands one
cell's glyphs at a time).

Paragraph text: a line continues the paragraph above when that one ran up to the right margin, the
sizes match, the gap is a normal line gap and this line is not indented; consecutive heading lines
(larger than the body text) form one paragraph (a title printed on two lines). Page numbers
(`- 4 -`, `第4页 共6页`) are dropped.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import median

from pipeline.readers.radicals import ideographs

Char = dict  # pdfplumber's char: text, x0, x1, top, bottom, size, …

_NUMBER_END = re.compile(r"[0-9０-９.．,，]$")
_NUMBER_START = re.compile(r"^[0-9０-９.．,，万元亿%％]")
_PAGE_NUMBER = re.compile(
    r"^[-—–－\s]*(第\s*)?\d{1,4}(\s*页)?(\s*[/／]\s*\d{1,4}|\s*共\s*\d{1,4}\s*页)?[-—–－\s]*$"
)
SPACE_GAP = 0.3  # a gap wider than this share of the glyph size is a space
FAKE_BOLD = 0.5  # the same glyph again within this share of its width: printed twice, kept once


@dataclass(slots=True)
class Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    first_width: float  # width of the first glyph: would it have fitted on the line above?

    @property
    def height(self) -> float:
        return self.bottom - self.top


def lines_of(chars: Iterable[Char]) -> list[Line]:
    """The glyphs as lines, top to bottom, each left to right."""
    ordered = sorted(chars, key=lambda c: (c["top"] + c["bottom"]) / 2)
    groups: list[list[Char]] = []
    mid = -1e9
    for ch in ordered:
        m = (ch["top"] + ch["bottom"]) / 2
        if groups and abs(m - mid) <= 0.4 * max(ch["size"], 1.0):
            groups[-1].append(ch)
        else:
            groups.append([ch])
            mid = m
    return [line for group in groups if (line := _line(group)) is not None]


def _line(group: list[Char]) -> Line | None:
    group.sort(key=lambda c: c["x0"])
    parts: list[str] = []
    kept: list[Char] = []
    prev: Char | None = None
    for ch in group:
        text = ch["text"]
        if prev is not None:
            if text == prev["text"] and abs(ch["x0"] - prev["x0"]) < FAKE_BOLD * max(
                prev["x1"] - prev["x0"], 0.1
            ):
                continue
            if ch["x0"] - prev["x1"] > SPACE_GAP * max(ch["size"], prev["size"], 1.0):
                parts.append(" ")
        parts.append(text)
        kept.append(ch)
        prev = ch
    text = ideographs("".join(parts)).strip()
    if not text:
        return None
    printing = [c for c in kept if c["text"].strip()]
    return Line(
        text=text,
        x0=printing[0]["x0"],
        x1=printing[-1]["x1"],
        top=min(c["top"] for c in printing),
        bottom=max(c["bottom"] for c in printing),
        size=median(c["size"] for c in printing),
        first_width=printing[0]["x1"] - printing[0]["x0"],
    )


# ------------------------------------------------------------------------------------------------- cells

WRAP_SLACK = 2.0  # points: rounding and kerning at the right edge of a wrapped line


def cell_text(lines: Sequence[Line], right: float) -> str:
    """A cell's lines as its text; `right` is the cell's right edge (its inner width ends before it)."""
    if not lines:
        return ""
    out = [lines[0].text]
    for above, line in itertools.pairwise(lines):
        wrapped = (
            _NUMBER_END.search(above.text) is not None
            and _NUMBER_START.search(line.text) is not None
            and above.x1 + line.first_width > right - _padding(above) - WRAP_SLACK
        )
        if wrapped and " " not in above.text and " " not in line.text:
            out[-1] += line.text
        else:
            out.append(line.text)
    return "\n".join(out)


def _padding(line: Line) -> float:
    """Cell padding at the right: Word's default is 0.19 cm (5.4 pt); never more than a glyph."""
    return min(5.4, line.size)


# ------------------------------------------------------------------------------------------------- paragraphs


def is_page_number(text: str) -> bool:
    return _PAGE_NUMBER.match(text) is not None


@dataclass(slots=True)
class Margins:
    """The text block of a page: where body lines start and end, and the body text size."""

    left: float
    right: float
    body_size: float

    @classmethod
    def of(cls, lines: Sequence[Line]) -> Margins | None:
        if not lines:
            return None
        sizes = sorted(line.size for line in lines)
        return cls(
            left=min(line.x0 for line in lines),
            right=max(line.x1 for line in lines),
            body_size=sizes[len(sizes) // 2],
        )


class Paragraphs:
    """Builds paragraphs from lines in reading order, page after page (a paragraph may run on)."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self._open: list[str] = []
        self._last: Line | None = None
        self._last_margins: Margins | None = None
        self._heading = False

    def add(self, line: Line, margins: Margins, *, new_page: bool = False) -> None:
        if is_page_number(line.text):
            return
        last = self._last
        heading = line.size >= margins.body_size + 1.5
        if last is None:
            joins = False
        elif heading or self._heading:
            joins = (
                heading
                and self._heading
                and abs(line.size - last.size) < 0.5
                and not new_page
                and line.top - last.bottom < 1.2 * line.size
            )
        else:
            last_margins = self._last_margins or margins
            ran_to_edge = last.x1 >= last_margins.right - 1.5 * last.size
            indented = line.x0 > margins.left + 1.0 * line.size
            close = new_page or line.top - last.bottom < 1.0 * max(line.size, last.size)
            joins = ran_to_edge and not indented and close and abs(line.size - last.size) < 0.5
        if joins:
            self._open.append(line.text)
        else:
            self.close()
            self._open = [line.text]
        self._last, self._last_margins, self._heading = line, margins, heading

    def close(self) -> None:
        """End the open paragraph (a table or the end of the document follows)."""
        if self._open:
            self.done.append(_join(self._open))
        self._open = []
        self._last = None

    def finish(self) -> list[str]:
        self.close()
        return self.done


def _join(lines: list[str]) -> str:
    """Wrapped lines as one text: no space between CJK characters, one between Latin words."""
    out = lines[0]
    for line in lines[1:]:
        if (
            out
            and line
            and out[-1].isascii()
            and out[-1].isalnum()
            and line[0].isascii()
            and line[0].isalnum()
        ):
            out += " "
        out += line
    return out
