"""Ink in a cell crop: which pixels are print, specks dropped, and where its printed lines are.

Shared by the cell reader (`cells`) and the shape tests (`shapes`)."""

from __future__ import annotations

import cv2
import numpy as np

MIN_INK_PIXELS = 10  # less ink than this in a cell (specks dropped) is paper and dust
SPECK_PIXELS = 4  # connected ink smaller than this is noise, not a stroke
LINE_GAP = 2  # blank pixel rows that separate two printed lines
INK_CONTRAST = 40  # grey levels below the cell's paper that count as ink


def ink_of(cell: np.ndarray) -> np.ndarray:
    """The ink mask (uint8 0/255) of a cell already on white paper (`on_white`)."""
    return np.where(cell < 255 - INK_CONTRAST, 255, 0).astype(np.uint8)


def despeckle(ink: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return ink
    keep = stats[:, cv2.CC_STAT_AREA] >= SPECK_PIXELS
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def line_boxes(ink: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of the printed lines in an ink crop, top to bottom."""
    cleaned = despeckle(ink)
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


def on_white(cell: np.ndarray) -> np.ndarray:
    """The cell's pixels with its background made paper-white: a grey-filled cell (a block heading
    of table 二) is read like any other, and the white margin of a line crop does not frame it."""
    paper = float(np.percentile(cell, 90))
    if paper >= 250 or paper < 64:
        return cell
    return np.clip(cell.astype(np.float32) * (255.0 / paper), 0, 255).astype(np.uint8)
