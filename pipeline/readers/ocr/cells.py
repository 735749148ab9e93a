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
    return height * 3 <= width and area >= 0.6 * width * height and height <= max(6, ink.shape[0] // 6)


def _on_white(cell: np.ndarray) -> np.ndarray:
    """The cell's pixels with its background made paper-white: a grey-filled cell (a block heading
    of table 二) is read like any other, and the white margin of a line crop does not frame it."""
    paper = float(np.percentile(cell, 90))
    if paper >= 250 or paper < 64:
        return cell
    return np.clip(cell.astype(np.float32) * (255.0 / paper), 0, 255).astype(np.uint8)


def read_cells(grey: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[CellText]:
    """Recognise every cell of a page in one batch (the recogniser is fastest on many crops at once).

    `grey` is the page without its ruling lines."""
    crops: list[np.ndarray] = []
    owners: list[int] = []
    dashes: set[int] = set()
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
        for box in found:
            crops.append(crop(cell, box))
            owners.append(i)
    lines: list[list[tuple[str, float]]] = [[] for _ in boxes]
    for owner, result in zip(owners, _recognise_checked(crops), strict=True):
        lines[owner].append((result.text, result.confidence))
    out = []
    for i, read in enumerate(lines):
        if i in dashes:
            out.append(CellText("—", 1.0))
        elif not read:
            out.append(CellText("", None))
        else:
            out.append(CellText("\n".join(t for t, _ in read), min(c for _, c in read)))
    return out
