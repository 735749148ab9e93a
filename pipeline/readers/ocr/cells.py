"""The text of one table cell: its ink cut into printed lines, each line recognised.

The ruling lines are painted out of the page first (`without_lines`), so a line's edge inside a crop is
never read as `1`. A cell crop is taken inside its box; specks (connected ink smaller than a stroke) are
dropped; a cell with too little ink left is blank. Otherwise its rows of ink are grouped into printed
lines, each line cropped with a white margin of about a third of its height (the recogniser was trained
on crops like that) and recognised; the cell's text is the lines joined with "\\n" and its confidence the
lowest of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.readers.ocr.engine import recognise

MIN_INK_PIXELS = 10  # less ink than this in a cell (specks dropped) is paper and dust
SPECK_PIXELS = 4  # connected ink smaller than this is noise, not a stroke
LINE_GAP = 2  # blank pixel rows that separate two printed lines
PAD = 0.35  # white margin around a line's ink, as a share of its height


@dataclass(frozen=True, slots=True)
class CellText:
    text: str
    confidence: float | None  # None: blank (nothing to recognise)


def without_lines(grey: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """The page with its ruling lines painted paper-white (the masks are a pixel wider than the lines
    already: growing them more would take the edge off a digit printed against a line)."""
    out = grey.copy()
    out[lines > 0] = 255
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


def read_cells(grey: np.ndarray, ink: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[CellText]:
    """Recognise every cell of a page in one batch (the recogniser is fastest on many crops at once).

    `grey` and `ink` are the page without its ruling lines."""
    crops: list[np.ndarray] = []
    owners: list[int] = []
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        inset = 2
        cx0, cy0, cx1, cy1 = x0 + inset, y0 + inset, x1 - inset, y1 - inset
        if cx1 - cx0 < 4 or cy1 - cy0 < 4:
            continue
        for lx0, ly0, lx1, ly1 in line_boxes(ink[cy0:cy1, cx0:cx1]):
            crops.append(crop(grey, (cx0 + lx0, cy0 + ly0, cx0 + lx1, cy0 + ly1)))
            owners.append(i)
    lines: list[list[tuple[str, float]]] = [[] for _ in boxes]
    for owner, result in zip(owners, recognise(crops), strict=True):
        lines[owner].append((result.text, result.confidence))
    out = []
    for read in lines:
        if not read:
            out.append(CellText("", None))
        else:
            out.append(CellText("\n".join(t for t, _ in read), min(c for _, c in read)))
    return out
