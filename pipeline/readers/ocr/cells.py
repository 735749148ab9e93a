"""The text of one table cell: its ink cut into printed lines, each line recognised.

The ruling lines are painted out of the page first (`without_lines`), so a line's edge inside a crop is
never read as `1`. A cell crop is taken inside its box; specks (connected ink smaller than a stroke) are
dropped; a cell with too little ink left is blank. Otherwise its rows of ink are grouped into printed
lines, each line cropped with a white margin of about a third of its height (the recogniser was trained
on crops like that) and recognised; the cell's text is the lines joined with "\\n" and its confidence the
lowest of them. A lone `/`, `0` or dash is told by its shape (`shapes`); a label printed one character
per line is read as one line (`vertical_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.readers.ocr import shapes
from pipeline.readers.ocr.engine import Recognised, recognise
from pipeline.readers.ocr.ink import INK_CONTRAST, ink_of, line_boxes, on_white

PAD = 0.35  # white margin around a line's ink, as a share of its height
HALO_GREY = 150  # beside a line, lighter than this is the line's blur, darker is print


@dataclass(frozen=True, slots=True)
class CellText:
    text: str
    confidence: float | None  # None: blank (nothing to recognise)


def without_lines(grey: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """The page with its ruling lines painted paper-white: the lines' dark core, and the light halo
    around it (growing the mask over everything would take the edge off a digit printed against a
    line: `0` becomes `D`)."""
    out = grey.copy()
    out[lines > 0] = 255
    # The line's blurred halo (light grey beside the core) goes too; dark print beside it stays.
    halo = cv2.dilate(lines, np.ones((5, 5), np.uint8)) > 0
    out[halo & (grey >= HALO_GREY)] = 255
    return out


def crop(grey: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A line's pixels with a white margin, as the 3-channel image the recogniser takes."""
    x0, y0, x1, y1 = box
    pad = max(3, round((y1 - y0) * PAD))
    crop = cv2.copyMakeBorder(grey[y0:y1, x0:x1], pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    return cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)


CONTRADICTION = 0.8  # a spaced reading this sure, of other digits, makes a number unreadable
_NUMBER_RE = re.compile(r"[-+]?[0-9][0-9.,]*%?")


def _recognise_checked(crops: list[np.ndarray]) -> list[Recognised]:
    """Recognise the crops; a line read as a number with another count of characters than it has
    glyphs is read again with its glyphs spaced apart, and when that reading is a number with other
    digits, read surely, its confidence is 0 (unreadable).

    Why: the recogniser's decoding merges a character repeated without a gap (`11` → `1`, `100` →
    `10`) and is sure of the result; glyphs spaced apart cannot merge. The spaced reading may add a
    point between digits (`1.05`) or misread a glyph cut in two, unsurely: only a sure reading of
    other digits contradicts the first."""
    first = recognise(crops)
    numbers = [
        i
        for i, r in enumerate(first)
        if _NUMBER_RE.fullmatch(r.text) and len(_glyphs(crops[i])) != len(r.text)
    ]
    second = recognise([spaced(crops[i]) for i in numbers])
    out = list(first)
    for i, again in zip(numbers, second, strict=True):
        text = again.text.replace(" ", "")
        contradicts = (
            _NUMBER_RE.fullmatch(text) is not None
            and again.confidence >= CONTRADICTION
            and _digits(text) != _digits(first[i].text)
        )
        if contradicts:
            out[i] = Recognised(first[i].text, 0.0)
    return out


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _glyphs(crop: np.ndarray) -> list[tuple[int, int]]:
    """The runs of inked columns of a line crop (x0, x1): one per glyph where glyphs do not touch."""
    grey = crop[..., 0] if crop.ndim == 3 else crop
    inked = (grey < 255 - INK_CONTRAST).any(axis=0)
    runs, start = [], None
    for x, on in enumerate(inked):
        if on and start is None:
            start = x
        elif not on and start is not None:
            runs.append((start, x))
            start = None
    if start is not None:
        runs.append((start, len(inked)))
    return runs


def spaced(crop: np.ndarray) -> np.ndarray:
    """The crop with white columns put between its glyphs, a third of the crop's height each."""
    gap = np.full((crop.shape[0], max(2, crop.shape[0] // 3), *crop.shape[2:]), 255, crop.dtype)
    pieces, last = [], 0
    for _x0, x1 in _glyphs(crop)[:-1]:
        pieces += [crop[:, last:x1], gap]
        last = x1
    pieces.append(crop[:, last:])
    return np.ascontiguousarray(np.concatenate(pieces, axis=1))


VERTICAL_RUNS = 2  # a column of at least this many one-character lines is vertical text
CHAR_SQUARE = 1.2  # a character's ink is at most this much taller than the column is wide


def vertical_text(lines: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]] | None:
    """The characters of a label printed one per line (竖排: 三、本年度办理结果 down a narrow
    column), as boxes, when `lines` are that; else None.

    Why: cut into rows of ink, a character whose strokes lie apart (三, 二, 六) becomes several
    "lines" of one stroke each, read as 一 or as nothing. Strokes are grouped again into squares as
    tall as the column is wide, and the characters are then read side by side as one line."""
    if len(lines) < VERTICAL_RUNS:
        return None
    size = max(b[2] - b[0] for b in lines)
    top, bottom = lines[0][1], lines[-1][3]
    if size < 8 or bottom - top < 2.2 * size:
        return None
    if max(b[3] - b[1] for b in lines) < 0.75 * size:
        return None  # no line is one square character: lines of a few characters each (a wrapped label)
    chars: list[list[int]] = []
    for x0, y0, x1, y1 in lines:
        if chars and y1 - chars[-1][1] <= CHAR_SQUARE * size:
            box = chars[-1]
            box[0], box[2], box[3] = min(box[0], x0), max(box[2], x1), y1
        else:
            chars.append([x0, y0, x1, y1])
    if len(chars) < VERTICAL_RUNS or any(b[3] - b[1] > CHAR_SQUARE * size for b in chars):
        return None
    return [(b[0], b[1], b[2], b[3]) for b in chars]


def side_by_side(cell: np.ndarray, chars: list[tuple[int, int, int, int]]) -> np.ndarray:
    """The characters of a vertical label set in one line, as the recogniser's 3-channel crop."""
    size = max(max(b[2] - b[0], b[3] - b[1]) for b in chars)
    gap = max(2, size // 6)
    pieces = []
    for x0, y0, x1, y1 in chars:
        square = np.full((size, size), 255, cell.dtype)
        h, w = y1 - y0, x1 - x0
        oy, ox = (size - h) // 2, (size - w) // 2
        square[oy : oy + h, ox : ox + w] = cell[y0:y1, x0:x1]
        pieces += [square, np.full((size, gap), 255, cell.dtype)]
    line = np.ascontiguousarray(np.concatenate(pieces[:-1], axis=1))
    return crop(line, (0, 0, line.shape[1], line.shape[0]))


def read_cells(
    grey: np.ndarray, boxes: list[tuple[int, int, int, int]], original: np.ndarray | None = None
) -> list[CellText]:
    """Recognise every cell of a page in one batch (the recogniser is fastest on many crops at once).

    `grey` is the page without its ruling lines; `original` the page with them (for print that
    touches a line, whose painting took part of it)."""
    crops: list[np.ndarray] = []
    owners: list[int] = []
    dashes: set[int] = set()
    slashes: set[int] = set()
    zeros: set[int] = set()
    by_line: dict[int, list[np.ndarray]] = {}  # vertical labels: their lines' crops, if needed after all
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        inset = 2
        cx0, cy0, cx1, cy1 = x0 + inset, y0 + inset, x1 - inset, y1 - inset
        if cx1 - cx0 < 4 or cy1 - cy0 < 4:
            continue
        cell = on_white(grey[cy0:cy1, cx0:cx1])
        ink = ink_of(cell)
        found = line_boxes(ink)
        if len(found) == 1 and shapes.is_dash(ink, found[0]):
            dashes.add(i)
            continue
        if len(found) == 1 and shapes.is_slash(ink, found[0]):
            slashes.add(i)
            continue
        if len(found) == 1 and shapes.is_zero(ink, found[0]):
            zeros.add(i)
            continue
        if len(found) == 1 and original is not None and (found[0][0] <= 1 or found[0][2] >= ink.shape[1] - 1):
            shape = shapes.against_a_line(original, (x0, y0, x1, y1))
            if shape is not None:
                (zeros if shape == "0" else dashes).add(i)
                continue
        if chars := vertical_text(found):
            crops.append(side_by_side(cell, chars))
            owners.append(i)
            by_line[i] = [crop(cell, box) for box in found]
            continue
        for box in found:
            crops.append(crop(cell, box))
            owners.append(i)
    lines: list[list[tuple[str, float]]] = [[] for _ in boxes]
    for owner, result in zip(owners, _recognise_checked(crops), strict=True):
        lines[owner].append((result.text, result.confidence))
    # A vertical reading with a digit in it is no label: such a cell is read line by line, as printed.
    numeric = [i for i in by_line if any(ch.isdigit() for t, _ in lines[i] for ch in t)]
    again = _recognise_checked([c for i in numeric for c in by_line[i]])
    for i in numeric:
        lines[i], again = [(r.text, r.confidence) for r in again[: len(by_line[i])]], again[len(by_line[i]) :]
    out = []
    for i, read in enumerate(lines):
        if i in dashes:
            out.append(CellText("—", 1.0))
        elif i in slashes:
            out.append(CellText("/", 1.0))
        elif i in zeros:
            out.append(CellText("0", 1.0))
        elif not read:
            out.append(CellText("", None))
        else:
            out.append(CellText("\n".join(t for t, _ in read), min(c for _, c in read)))
    return out
