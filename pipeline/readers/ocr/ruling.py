"""A page image → its ruled tables: deskew, find ruling lines, cut the grid into cells.

Why lines first: recognising a whole page misses isolated `0` cells and cannot say which cell a number
belongs to; the ruling lines can. The page's skew is measured on its ink (binarised against the local
paper level; the angle within ±`MAX_SKEW`° at which rows of ink line up best) and undone. A ruling
line is a run of pixels darker than the page on both sides of it (`line_masks`), long enough to
survive a morphological opening with a long thin kernel. A table is a cluster of lines; its row and
column boundaries are the line positions; two neighbouring grid slots belong to one merged cell when
the line between them is missing (less than half of that segment is inked).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MAX_SKEW = 2.0  # degrees
SKEW_STEP = 0.1
SEGMENT_INKED = 0.5
CONTRAST = 40  # grey levels below the local mean that count as ink (print)
# Ruling lines: a hairline rendered at 200 dpi is ~20 levels below the paper. Noise never makes a
# long straight run that faint, so lines are looked for with a lower contrast than print.
LINE_CONTRAST = 12  # share of a boundary segment that must be inked for it to be a line


@dataclass(frozen=True, slots=True)
class CellBox:
    """A cell of a found table: its grid position and span, and its box inside the ruling lines."""

    row: int
    col: int
    rowspan: int
    colspan: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (inside the lines)


@dataclass(frozen=True, slots=True)
class TableBox:
    """A ruled grid. One column is a frame around text (a heading boxed as a one-cell row, cut from
    its table by a page break): read as text, not as a table."""

    box: tuple[int, int, int, int]
    cells: list[CellBox]
    n_rows: int
    n_cols: int
    open_top: bool = False  # its first row has no line above it (a page break cut the table there)
    open_bottom: bool = False  # its last row has no line below it

    @property
    def is_frame(self) -> bool:
        return self.n_cols == 1


def binarise(grey: np.ndarray, contrast: int = CONTRAST) -> np.ndarray:
    """Ink mask (uint8 0/255): darker by `contrast` grey levels than the paper around it.

    The paper's level is the brightest pixel nearby (a morphological dilation), so dark print next to
    a pixel does not lower it the way a local mean would; light cell fills and uneven paper stay
    paper; no smoothing, which would erase one-pixel lines (specks are dropped later)."""
    size = max(15, (min(grey.shape) // 60) | 1)
    paper = cv2.dilate(grey, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))).astype(np.int16)
    return np.where(grey.astype(np.int16) < paper - contrast, 255, 0).astype(np.uint8)


def skew_angle(ink: np.ndarray) -> float:
    """The rotation (degrees) that makes rows of ink horizontal: the angle whose row profile is sharpest."""
    scale = 1000 / max(ink.shape)
    small = cv2.resize(ink, None, fx=min(1.0, scale), fy=min(1.0, scale), interpolation=cv2.INTER_AREA)
    h, w = small.shape
    centre = (w / 2, h / 2)
    best, best_score = 0.0, -1.0
    for step in range(int(-MAX_SKEW / SKEW_STEP), int(MAX_SKEW / SKEW_STEP) + 1):
        angle = step * SKEW_STEP
        turned = cv2.warpAffine(small, cv2.getRotationMatrix2D(centre, angle, 1.0), (w, h))
        profile = turned.sum(axis=1, dtype=np.float64)
        score = float(np.square(np.diff(profile)).sum())
        if score > best_score:
            best, best_score = angle, score
    return best


def rotate(image: np.ndarray, angle: float) -> np.ndarray:
    """Rotate about the centre, new area paper-white."""
    if abs(angle) < 1e-9:
        return image
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def line_masks(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical ruling lines: long thin runs darker than the page on *both* sides.

    A line is darker than the page a few pixels above and below it (for a vertical line: left and
    right); the edge of a grey cell fill is darker than one side only, so it is no line, and a fill
    does not turn into a band of lines; the halos of a row of blurred text are not darker than the
    paper between the characters. What survives an opening with a long thin kernel is a line."""
    g = grey.astype(np.int16)
    h, w = g.shape
    k = max(3, min(h, w) // 300)  # past a blurred line's half width at 150–300 dpi
    # The page on each side: the brightest pixel of a box k…2k away beside the pixel, 2k+1 long
    # along the line (print touching a line leaves paper between its strokes there; a grey fill
    # does not).
    along_h = cv2.dilate(grey, np.ones((1, 2 * k + 1), np.uint8)).astype(np.int16)
    along_v = cv2.dilate(grey, np.ones((2 * k + 1, 1), np.uint8)).astype(np.int16)
    up, down = _side_max(along_h, k, axis=0)
    left, right = _side_max(along_v, k, axis=1)
    h_ink = np.where(g < np.minimum(up, down) - LINE_CONTRAST, 255, 0).astype(np.uint8)
    v_ink = np.where(g < np.minimum(left, right) - LINE_CONTRAST, 255, 0).astype(np.uint8)
    # Lines run on through crossings (the side boxes see paper beside a crossing line), so a
    # horizontal line is as long as its table is wide: a long kernel leaves out rows of text, whose
    # strokes and halos join into runs of a few characters at most. Rows are lower than columns are
    # wide, and vertical text is rare: vertical lines are kept from a shorter run.
    length = max(25, min(h, w) // 40)
    h_length = max(2 * length, min(h, w) // 20)
    horizontal = cv2.morphologyEx(
        h_ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_length, 1))
    )
    vertical = cv2.morphologyEx(v_ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    return horizontal, vertical


def bridged(horizontal: np.ndarray, vertical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The line masks with the small breaks noise and JPEG leave in a printed line bridged (a pixel
    wider, too): for finding the grid, not for painting lines out (print touching a line stays)."""
    return (
        cv2.dilate(horizontal, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 3))),
        cv2.dilate(vertical, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 5))),
    )


def _side_max(image: np.ndarray, k: int, *, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """The brightest of the pixels k…2k before and after each pixel along `axis` (paper beyond the edge)."""
    n = image.shape[axis]
    pad = [(0, 0), (0, 0)]
    pad[axis] = (2 * k, 2 * k)
    padded = np.pad(image, pad, mode="constant", constant_values=255)
    before = after = None
    for d in range(k, 2 * k + 1):
        b = np.take(padded, range(2 * k - d, 2 * k - d + n), axis=axis)
        a = np.take(padded, range(2 * k + d, 2 * k + d + n), axis=axis)
        before = b if before is None else np.maximum(before, b)
        after = a if after is None else np.maximum(after, a)
    return before, after


def _positions(profile: np.ndarray, minimum: float) -> list[int]:
    """Centres of the runs of `profile` at or above `minimum` (one per printed line)."""
    above = profile >= minimum
    out, start = [], None
    for i, on in enumerate(above):
        if on and start is None:
            start = i
        elif not on and start is not None:
            out.append((start + i - 1) // 2)
            start = None
    if start is not None:
        out.append((start + len(above) - 1) // 2)
    return out


def _inked(mask: np.ndarray, fixed: int, lo: int, hi: int, *, horizontal: bool, band: int) -> bool:
    """Whether the boundary segment at `fixed` from `lo` to `hi` is a printed line."""
    if hi <= lo:
        return True
    if horizontal:
        strip = mask[max(0, fixed - band) : fixed + band + 1, lo:hi]
        covered = strip.max(axis=0) > 0
    else:
        strip = mask[lo:hi, max(0, fixed - band) : fixed + band + 1]
        covered = strip.max(axis=1) > 0
    return bool(covered.mean() >= SEGMENT_INKED)


def find_tables(horizontal: np.ndarray, vertical: np.ndarray) -> list[TableBox]:
    """The ruled tables of a deskewed page, given its line masks (`line_masks`), top to bottom."""
    lines = cv2.bitwise_or(horizontal, vertical)
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    h, w = horizontal.shape
    tables = []
    for i in range(1, count):
        x, y, bw, bh, _area = stats[i]
        if bw < w * 0.2 or bh < max(40, h * 0.02):
            continue
        table = _grid(horizontal[y : y + bh, x : x + bw], vertical[y : y + bh, x : x + bw], (x, y))
        if table is not None:
            tables.append(table)
    return sorted(tables, key=lambda t: t.box[1])


def _grid(horizontal: np.ndarray, vertical: np.ndarray, origin: tuple[int, int]) -> TableBox | None:
    h, w = horizontal.shape
    band = 3
    # A boundary is a line somewhere in the table: merged cells leave only part of it printed.
    ys = _positions(horizontal.sum(axis=1) / 255, minimum=max(20, w * 0.04))
    xs = _positions(vertical.sum(axis=0) / 255, minimum=max(20, h * 0.03))
    ys = _joined(ys, xs, horizontal, band, horizontal=True)
    xs = _joined(xs, ys, vertical, band, horizontal=False)
    if not ys or len(xs) < 2:
        return None
    ys, open_top, open_bottom = _closed(ys, xs, vertical, band)
    # A piece of a table cut by page breaks may be one row (the last row, alone on the next page).
    if len(ys) < 2:
        return None
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    parent = list(range(n_rows * n_cols))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    for r in range(n_rows):
        for c in range(n_cols):
            if c + 1 < n_cols and not _inked(
                vertical, xs[c + 1], ys[r] + band, ys[r + 1] - band, horizontal=False, band=band
            ):
                union(r * n_cols + c, r * n_cols + c + 1)
            if r + 1 < n_rows and not _inked(
                horizontal, ys[r + 1], xs[c] + band, xs[c + 1] - band, horizontal=True, band=band
            ):
                union(r * n_cols + c, (r + 1) * n_cols + c)
    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            groups.setdefault(find(r * n_cols + c), []).append((r, c))
    ox, oy = origin
    cells = []
    taken: set[tuple[int, int]] = set()
    for slots in sorted(groups.values(), key=min):
        r0, c0 = min(slots)
        r1 = max(r for r, _ in slots)
        c1 = max(c for _, c in slots)
        block = {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
        if block & taken:  # not a rectangle that fits: keep the slots as single cells
            block = set(slots) - taken
            for r, c in sorted(block):
                cells.append(_cell(r, c, r, c, xs, ys, ox, oy))
            taken |= block
            continue
        taken |= block
        cells.append(_cell(r0, c0, r1, c1, xs, ys, ox, oy))
    cells.sort(key=lambda cell: (cell.row, cell.col))
    box = (ox + xs[0], oy + ys[0], ox + xs[-1], oy + ys[-1])
    return TableBox(box, cells, n_rows, n_cols, open_top, open_bottom)


def _joined(
    positions: list[int], across: list[int], mask: np.ndarray, band: int, *, horizontal: bool
) -> list[int]:
    """The line positions whose line reaches at least two lines across it: a ruling line runs from
    one cell border to another, while the strokes of a row of text (三安全一, bridged) or of stacked
    vertical characters float inside their cell."""
    reach = band + 3
    kept = []
    for p in positions:
        strip = (
            mask[max(0, p - band) : p + band + 1, :]
            if horizontal
            else mask[:, max(0, p - band) : p + band + 1]
        )
        on = strip.max(axis=0 if horizontal else 1) > 0
        touched = sum(bool(on[max(0, q - reach) : q + reach + 1].any()) for q in across)
        if touched >= 2:
            kept.append(p)
    return kept


def _closed(ys: list[int], xs: list[int], vertical: np.ndarray, band: int) -> tuple[list[int], bool, bool]:
    """Row boundaries with the lines a page break leaves out added: Chromium draws no border where a
    table is cut, so a continued table's first row (or a cut table's last) has no line above (below)
    it and would not be a row. Where three or more vertical lines run on past the first (last)
    horizontal line and end together, a boundary is added where they end (the cell's edge on this
    page); the table's two outer lines alone do the same (a full-width row whose faint top line was
    not found). Where they end apart, nothing is added: that is no cut table's edge. Returns the
    boundaries and whether the top and the bottom are a page break's cut."""
    heights = np.diff(ys)
    gap = max(12, int(np.median(heights) * 0.4)) if len(heights) else max(12, vertical.shape[0] // 100)
    together = max(2 * band + 2, vertical.shape[0] // 200)
    on = [vertical[:, max(0, x - band) : x + band + 1].max(axis=1) > 0 for x in xs]
    tops: dict[int, int] = {}  # column line index → its top (its bottom below)
    bottoms: dict[int, int] = {}
    for i, column in enumerate(on):
        rows = np.flatnonzero(column)
        if rows.size:
            tops[i], bottoms[i] = int(rows[0]), int(rows[-1])
    last = len(xs) - 1
    out = list(ys)
    above = {i: t for i, t in tops.items() if t < ys[0] - gap}
    top = _edge(above, last, together)
    if top is not None:
        out.insert(0, top)
    below = {i: b for i, b in bottoms.items() if b > ys[-1] + gap}
    bottom = _edge(below, last, together)
    if bottom is not None:
        out.append(bottom)
    # Three or more lines ending together are a page break's cut (a row may be split there); the
    # frame alone (a full-width row whose faint top line was not found) is only a boundary.
    return out, top is not None and len(above) >= 3, bottom is not None and len(below) >= 3


def _edge(ends: dict[int, int], last: int, together: int) -> int | None:
    """Where the vertical lines running past the outermost horizontal line end, when they end
    together and are three or more, or are exactly the table's two outer lines; else None."""
    if len(ends) < 2 or max(ends.values()) - min(ends.values()) > together:
        return None
    if len(ends) == 2 and set(ends) != {0, last}:
        return None
    return int(np.median(list(ends.values())))


def _cell(r0: int, c0: int, r1: int, c1: int, xs: list[int], ys: list[int], ox: int, oy: int) -> CellBox:
    return CellBox(
        r0, c0, r1 - r0 + 1, c1 - c0 + 1, (ox + xs[c0], oy + ys[r0], ox + xs[c1 + 1], oy + ys[r1 + 1])
    )
