"""Cells the recogniser is unsure of but whose shape is plain, told by their shape alone.

The recogniser reads a lone `/` at 0.4–0.7 and a lone `0` at 0.5–0.9 in some fonts, and a lone bar as
anything (`■`, `一`). Each test here accepts one shape and refuses its near neighbours (`1` and `7`
for the slash; `6`, `8`, `9` and the closed `4` for the zero; a dot for the bar); a cell they do not
accept goes to the recogniser as before. For print touching a ruling line, whose painting took part of
it, the lines are cut off by geometry instead and only these tests are applied (`against_a_line`).
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.readers.ocr.ink import INK_CONTRAST, despeckle, ink_of, line_boxes, on_white

LINE_DARK = 0.85  # a column or row of a cell this dark over its length is a ruling line, not print
MAX_LINE_WIDTH = 6  # pixels of ruling line (with its blur) cut from each side of a cell at most


def inside_lines(cell: np.ndarray) -> np.ndarray:
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


def against_a_line(original: np.ndarray, box: tuple[int, int, int, int]) -> str | None:
    """What a cell whose print touches its side is, once the lines are cut off instead of painted
    out: "0" for a lone ring, "—" for a lone short bar, else None. Shape tests only: no other reading is taken from this crop."""
    x0, y0, x1, y1 = box
    cell = inside_lines(on_white(original[y0:y1, x0:x1]))
    ink = ink_of(cell)
    found = line_boxes(ink)
    if len(found) != 1:
        return None
    if is_zero(ink, found[0]):
        return "0"
    return "—" if is_bar(cell, ink, found[0]) else None


def is_bar(cell: np.ndarray, ink: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """A lone short bar, told by the spread of its darkness: at 150 dpi a hyphen is some 7 × 5 pixels
    of blur, too small for its outline to show the bar, but its darkness spreads half as far again
    across as up and down (a dot's spreads alike, a 0's or 1's further up and down)."""
    x0, y0, x1, y1 = box
    count, _labels, _stats, _ = cv2.connectedComponentsWithStats(despeckle(ink[y0:y1, x0:x1]), connectivity=8)
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


def is_dash(ink: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """A cell whose only ink is one flat bar: the dash printed for "not applicable". The recogniser
    reads a lone bar as anything (`■`, `一`); its shape is unambiguous."""
    x0, y0, x1, y1 = box
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(despeckle(ink[y0:y1, x0:x1]), connectivity=8)
    if count != 2:
        return False
    _x, _y, width, height, area = stats[1]
    # A hyphen is short: blurred at 150–200 dpi it is a bar some twice as wide as it is high.
    return height * 1.6 <= width and area >= 0.6 * width * height and height <= max(6, ink.shape[0] // 6)


def is_slash(ink: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """A cell whose only ink is one thin stroke leaning right: the `/` printed for "not applicable".
    The recogniser reads a lone slash unsurely (0.4–0.7); its shape is unambiguous: every row of it
    is one stroke wide (a `7` has its bar) and the stroke moves left steadily going down, by a good
    part of its height (a `1` or `l` stands upright)."""
    x0, y0, x1, y1 = box
    count, labels, stats, _ = cv2.connectedComponentsWithStats(despeckle(ink[y0:y1, x0:x1]), connectivity=8)
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


def is_zero(ink: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """A cell whose only ink is one ring: the `0` printed in most cells of a report. The recogniser
    is unsure of a lone `0` in some fonts (0.5–0.9, full-width ０ most), and its shape is plain: one
    stroke closing round one hole that fills the middle of it. A 6 or 9 has its hole off centre, an
    8 two holes, a blotted or broken digit none."""
    x0, y0, x1, y1 = box
    glyph = despeckle(ink[y0:y1, x0:x1])
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
