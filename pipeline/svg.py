"""Two small chart kinds as inline SVG (no plotting library, no script): stacked horizontal bars and lines.

The summary page (pipeline.summary) is opened from the file system, offline: SVG written here is part of
the HTML, its text drawn by the browser (CJK labels with the system's fonts), and it scales with the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
FONT = "font-family:'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei',sans-serif;font-size:12px"


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _legend(series: Sequence[str], colors: Mapping[str, str], x: float, y: float) -> list[str]:
    out, cx = [], x
    for name in series:
        out.append(f'<rect x="{cx:.0f}" y="{y - 10:.0f}" width="12" height="12" fill="{colors[name]}"/>')
        out.append(f'<text x="{cx + 16:.0f}" y="{y:.0f}">{escape(name)}</text>')
        cx += 28 + 8 * len(name) + (6 * sum(1 for ch in name if ord(ch) > 0x2E80))
    return out


def stacked_bars(
    rows: Sequence[tuple[str, Mapping[str, float]]],
    series: Sequence[str],
    *,
    title: str,
    colors: Mapping[str, str] | None = None,
    width: int = 760,
) -> str:
    """One horizontal bar per row, stacked by series, the total printed at its end."""
    colors = colors or {name: color(i) for i, name in enumerate(series)}
    label_w, bar_h, gap, top = 190, 18, 6, 48
    height = top + len(rows) * (bar_h + gap) + 20
    biggest = max((sum(values.values()) for _, values in rows), default=0) or 1
    scale = (width - label_w - 60) / biggest
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" style="{FONT}"><title>{escape(title)}</title>',
        f'<text x="0" y="16" style="font-size:14px;font-weight:bold">{escape(title)}</text>',
        *_legend(series, colors, label_w, 38),
    ]
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar_h + gap)
        out.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        x = float(label_w)
        for name in series:
            v = float(values.get(name, 0) or 0)
            if v <= 0:
                continue
            w = v * scale
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h}" fill="{colors[name]}">'
                f"<title>{escape(label)} · {escape(name)}: {v:g}</title></rect>"
            )
            x += w
        out.append(f'<text x="{x + 4:.1f}" y="{y + 13}">{sum(values.values()):g}</text>')
    out.append("</svg>")
    return "\n".join(out)


def lines(
    series: Mapping[str, Sequence[tuple[int, float]]],
    *,
    title: str,
    y_label: str,
    percent: bool = False,
    width: int = 760,
    height: int = 300,
) -> str:
    """One line (with dots) per series over integer x values (years)."""
    points = [p for values in series.values() for p in values]
    left, right, top, bottom = 60, 20, 48, 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 24 * ((len(series) + 3) // 4)}" '
        f'width="{width}" height="{height + 24 * ((len(series) + 3) // 4)}" role="img" style="{FONT}">'
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" style="font-size:14px;font-weight:bold">{escape(title)}</text>',
    ]
    if not points:
        out += [f'<text x="{left}" y="{top + 20}">no data</text>', "</svg>"]
        return "\n".join(out)
    xs = sorted({x for x, _ in points})
    y_max = max(y for _, y in points) or 1
    y_max = 1.0 if percent else y_max * 1.1
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: int) -> float:
        return left + (plot_w / 2 if len(xs) == 1 else plot_w * xs.index(x) / (len(xs) - 1))

    def py(y: float) -> float:
        return top + plot_h - plot_h * y / y_max

    out.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>'
    )
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>')
    for k in range(5):
        v = y_max * k / 4
        text = f"{v:.0%}" if percent else f"{v:.0f}"
        out.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{text}</text>')
        out.append(
            f'<line x1="{left}" y1="{py(v):.1f}" x2="{left + plot_w}" y2="{py(v):.1f}" stroke="#eee"/>'
        )
    for x in xs:
        out.append(f'<text x="{px(x):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{x}</text>')
    out.append(
        f'<text x="12" y="{top + plot_h / 2:.0f}" transform="rotate(-90 12 {top + plot_h / 2:.0f})" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    for i, (name, values) in enumerate(series.items()):
        c = color(i)
        pts = sorted(values)
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
        for x, y in pts:
            shown = f"{y:.1%}" if percent else f"{y:g}"
            out.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="{c}">'
                f"<title>{escape(name)} {x}: {shown}</title></circle>"
            )
        lx, ly = left + (i % 4) * (plot_w / 4), height + 24 * (i // 4)
        out.append(f'<rect x="{lx:.0f}" y="{ly - 10}" width="12" height="12" fill="{c}"/>')
        out.append(f'<text x="{lx + 16:.0f}" y="{ly}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)
