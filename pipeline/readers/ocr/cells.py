"""The text of one table cell: its ink cut into printed lines, each line recognised.

The ruling lines are painted out of the page first (`without_lines`), so a line's edge inside a crop is
never read as `1`. A cell crop is taken inside its box; specks (connected ink smaller than a stroke) are
dropped; a cell with too little ink left is blank. Otherwise its rows of ink are grouped into printed
lines, each line cropped with a white margin of about a third of its height (the recogniser was trained
on crops like that) and recognised; the cell's text is the lines joined with "\\n" and its confidence the
lowest of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.readers.ocr.engine import Recognised, recognise

MIN_INK_PIXELS = 10  # less ink than this in a cell (specks dropped) is paper and dust
SPECK_PIXELS = 4  # connected ink smaller than this is noise, not a stroke
LINE_GAP = 2  # blank pixel rows that separate two printed lines
PAD = 0.35  # white margin around a line's ink, as a share of its height
HALO_GREY = 150  # beside a line, lighter than this is the line's blur, darker is print
INK_CONTRAST = 40  # grey levels below the cell's paper that count as ink


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


def _despeckle(ink: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return ink
    keep = stats[:, cv2.CC_STAT_AREA] >= SPECK_PIXELS
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def line_boxes(ink: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of the printed lines in an ink crop, top to bottom."""
    cleaned = _despeckle(ink)
    if int(np.count_nonzero(cleaned)) < MIN_INK_PIXELS:
        return []
    rows = np.count_nonzero(cleaned, axis=1) > 0
    runs: list[tuple[int, int]] = []
    start, end, gap = None, 0, 0
    for y, on in enumerate(rows):
        if on:
            if start is None:
                start = y
            gap, end = 0, y
        elif start is not None:
            gap += 1
            if gap >= LINE_GAP:
                runs.append((start, end + 1))
                start = None
    if start is not None:
        runs.append((start, end + 1))
    boxes = []
    for y0, y1 in runs:
        band = cleaned[y0:y1]
        if int(np.count_nonzero(band)) < MIN_INK_PIXELS // 2 or y1 - y0 < 4:
            continue  # a speck
        cols = np.flatnonzero(np.count_nonzero(band, axis=0))
        boxes.append((int(cols[0]), y0, int(cols[-1]) + 1, y1))
    return boxes


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


def _is_dash(ink: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """A cell whose only ink is one flat bar: the dash printed for "not applicable". The recogniser
    reads a lone bar as anything (`■`, `一`); its shape is unambiguous."""
    x0, y0, x1, y1 = box
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(_despeckle(ink[y0:y1, x0:x1]), connectivity=8)
    if count != 2:
        return False
    _x, _y, width, height, area = stats[1]
    # A hyphen is short: blurred at 150–200 dpi it is a bar some twice as wide as it is high.
    return height * 1.6 <= width and area >= 0.6 * width * height and height <= max(6, ink.shape[0] // 6)


def _is_slash(ink: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """A cell whose only ink is one thin stroke leaning right: the `/` printed for "not applicable".
    The recogniser reads a lone slash unsurely (0.4–0.7); its shape is unambiguous: every row of it
    is one stroke wide (a `7` has its bar) and the stroke moves left steadily going down, by a good
    part of its height (a `1` or `l` stands upright)."""
    x0, y0, x1, y1 = box
    count, labels, stats, _ = cv2.connectedComponentsWithStats(_despeckle(ink[y0:y1, x0:x1]), connectivity=8)
    if count != 2:
        return False
    height = int(stats[1][cv2.CC_STAT_HEIGHT])
    if height < 8:
        return False
    rows = [np.flatnonzero(labels[y] == 1) for y in range(labels.shape[0])]
    rows = [r for r in rows if r.size]
    widths = np.array([r[-1] - r[0] + 1 for r in rows], dtype=float)
    centres = np.array([(r[0] + r[-1]) / 2 for r in rows], dtype=float)
    if widths.max() > max(3.0, 2.2 * float(np.median(widths))) or float(np.median(widths)) > 0.3 * height:
        return False
    ys = np.arange(len(centres), dtype=float)
    slope, intercept = np.polyfit(ys, centres, 1)
    residual = float(np.abs(centres - (slope * ys + intercept)).max())
    return -slope * (len(centres) - 1) >= 0.2 * height and residual <= max(2.0, 0.08 * height)


def _is_zero(ink: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """A cell whose only ink is one ring: the `0` printed in most cells of a report. The recogniser
    is unsure of a lone `0` in some fonts (0.5–0.9, full-width ０ most), and its shape is plain: one
    stroke closing round one hole that fills the middle of it. A 6 or 9 has its hole off centre, an
    8 two holes, a blotted or broken digit none."""
    x0, y0, x1, y1 = box
    glyph = _despeckle(ink[y0:y1, x0:x1])
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(glyph, connectivity=8)
    if count != 2:
        return False
    _x, _y, width, height, _area = stats[1]
    if height < 10 or not 1.0 <= height / max(1, width) <= 2.6:
        return False
    contours, hierarchy = cv2.findContours(glyph, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    outer = [c for c, h in zip(contours, hierarchy[0], strict=True) if h[3] < 0]
    holes = [c for c, h in zip(contours, hierarchy[0], strict=True) if h[3] >= 0 and cv2.contourArea(c) >= 4]
    if len(outer) != 1 or len(holes) != 1:
        return False
    hx, hy, hw, hh = cv2.boundingRect(holes[0])
    centre_x, centre_y = (hx + hw / 2 - _x) / width, (hy + hh / 2 - _y) / height
    # Round inside and out: an ellipse fills ~π/4 of its box (less, traced through pixel centres);
    # the closed 4 is a triangle on a stem (~0.3 outside, ~0.45 inside).
    return (
        hh >= 0.55 * height
        and hw >= 0.3 * width
        and abs(centre_x - 0.5) <= 0.18  # no digit has its hole off to a side: 6 and 9 have it above/below
        and abs(centre_y - 0.5) <= 0.1
        and cv2.contourArea(outer[0]) >= 0.55 * width * height
        and cv2.contourArea(holes[0]) >= 0.55 * hw * hh
    )


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


def _on_white(cell: np.ndarray) -> np.ndarray:
    """The cell's pixels with its background made paper-white: a grey-filled cell (a block heading
    of table 二) is read like any other, and the white margin of a line crop does not frame it."""
    paper = float(np.percentile(cell, 90))
    if paper >= 250 or paper < 64:
        return cell
    return np.clip(cell.astype(np.float32) * (255.0 / paper), 0, 255).astype(np.uint8)


LINE_DARK = 0.85  # a column or row of a cell this dark over its length is a ruling line, not print
MAX_LINE_WIDTH = 6  # pixels of ruling line (with its blur) cut from each side of a cell at most


def _inside_lines(cell: np.ndarray) -> np.ndarray:
    """The cell's pixels with the ruling lines along its sides cut off by geometry (columns and rows
    dark over nearly their whole length) instead of painted out, so print touching a line keeps its
    strokes: a `0` flush against the left line loses its left side to the painting (read `D`)."""
    paper = float(np.percentile(cell, 90))
    dark = cell < paper - INK_CONTRAST
    h, w = dark.shape
    left, right, top, bottom = 0, w, 0, h
    while left < min(MAX_LINE_WIDTH, w - 1) and dark[:, left].mean() >= LINE_DARK:
        left += 1
    while w - right < MAX_LINE_WIDTH and right - 1 > left and dark[:, right - 1].mean() >= LINE_DARK:
        right -= 1
    while top < min(MAX_LINE_WIDTH, h - 1) and dark[top, left:right].mean() >= LINE_DARK:
        top += 1
    while (
        h - bottom < MAX_LINE_WIDTH and bottom - 1 > top and dark[bottom - 1, left:right].mean() >= LINE_DARK
    ):
        bottom -= 1
    return cell[top:bottom, left:right]


BAR_SPREAD = 1.5  # a bar's darkness spreads this much further across than up and down (digits: < 1)


def _against_a_line(original: np.ndarray, box: tuple[int, int, int, int]) -> str | None:
    """What a cell whose print touches its side is, once the lines are cut off instead of painted
    out: "0" for a lone ring, "—" for a lone short bar, else None. Shape tests only: no other reading is taken from this crop."""
    x0, y0, x1, y1 = box
    cell = _inside_lines(_on_white(original[y0:y1, x0:x1]))
    ink = np.where(cell < 255 - INK_CONTRAST, 255, 0).astype(np.uint8)
    found = line_boxes(ink)
    if len(found) != 1:
        return None
    if _is_zero(ink, found[0]):
        return "0"
    return "—" if _is_bar(cell, ink, found[0]) else None


def _is_bar(cell: np.ndarray, ink: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """A lone short bar, told by the spread of its darkness: at 150 dpi a hyphen is some 7 × 5 pixels
    of blur, too small for its outline to show the bar, but its darkness spreads half as far again
    across as up and down (a dot's spreads alike, a 0's or 1's further up and down)."""
    x0, y0, x1, y1 = box
    count, _labels, _stats, _ = cv2.connectedComponentsWithStats(
        _despeckle(ink[y0:y1, x0:x1]), connectivity=8
    )
    if count != 2 or y1 - y0 > max(6, ink.shape[0] // 6):
        return False
    patch = cell[max(0, y0 - 1) : y1 + 1, max(0, x0 - 1) : x1 + 1].astype(np.float64)
    weight = np.clip(float(np.percentile(cell, 90)) - patch, 0, None)
    total = weight.sum()
    if total <= 0:
        return False
    ys, xs = np.mgrid[0 : patch.shape[0], 0 : patch.shape[1]]
    spread_x = np.sqrt((weight * (xs - (weight * xs).sum() / total) ** 2).sum() / total)
    spread_y = np.sqrt((weight * (ys - (weight * ys).sum() / total) ** 2).sum() / total)
    return spread_x >= BAR_SPREAD * max(spread_y, 0.5)


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
        cell = _on_white(grey[cy0:cy1, cx0:cx1])
        ink = np.where(cell < 255 - INK_CONTRAST, 255, 0).astype(np.uint8)
        found = line_boxes(ink)
        if len(found) == 1 and _is_dash(ink, found[0]):
            dashes.add(i)
            continue
        if len(found) == 1 and _is_slash(ink, found[0]):
            slashes.add(i)
            continue
        if len(found) == 1 and _is_zero(ink, found[0]):
            zeros.add(i)
            continue
        if len(found) == 1 and original is not None and (found[0][0] <= 1 or found[0][2] >= ink.shape[1] - 1):
            shape = _against_a_line(original, (x0, y0, x1, y1))
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
