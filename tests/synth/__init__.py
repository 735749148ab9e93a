"""Synthetic annual reports with their truth: the generator behind tests, demo data and benchmarks.

    from tests.synth import make_spec, render

    spec = make_spec(7, template="2021", break_identity="T4")
    r = render(spec, "docx", {"docx_vmerge_continue", "zero_blank", "t3_split_label"})
    r.data    # the document's bytes
    r.truth   # what a correct parser must output for exactly these bytes (corpus truth format)

`make_spec` draws a report's content (agency, year, template version, every table value; always
consistent with the identities unless `break_identity`); `render` prints it in one format
("html", "docx", "txt") with named quirks (`QUIRKS`, each applicable to some formats — others are
ignored for that format); the truth is built alongside the printing (`layout.build`), so it says
exactly what a correct parser must read: nulls for blank / not-applicable cells, amounts in 万元,
unreadable cells, the identities the published numbers break. Everything is reproducible from the
seed and the quirk set. Legacy reports (2008–2018) and documents that are not reports come from
`make_spec(seed, kind="legacy" | "not_a_report")`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from tests.synth import render_docx, render_html, render_text
from tests.synth.layout import Layout, build
from tests.synth.quirks import FORMATS, QUIRKS, applicable, for_format, random_quirks
from tests.synth.spec import KINDS, LEVELS, TEMPLATES, ReportSpec, failed_identities, make_spec

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "KINDS",
    "LEVELS",
    "QUIRKS",
    "TEMPLATES",
    "Rendering",
    "ReportSpec",
    "applicable",
    "build",
    "dumps_truth",
    "failed_identities",
    "for_format",
    "make_spec",
    "random_quirks",
    "render",
    "truth_for",
]

EXTENSIONS = {"html": "html", "docx": "docx", "txt": "txt"}
_RENDERERS = {
    "html": render_html.render_layout,
    "docx": render_docx.render_layout,
    "txt": render_text.render_layout,
}


@dataclass(frozen=True, slots=True)
class Rendering:
    """One printed document: its bytes, its format, the quirks applied, and its truth dict."""

    fmt: str
    data: bytes
    truth: dict
    quirks: frozenset[str]

    @property
    def ext(self) -> str:
        return EXTENSIONS[self.fmt]


def render(
    spec: ReportSpec, fmt: str = "html", quirks: Iterable[str] = (), *, document: str | None = None
) -> Rendering:
    """Print `spec` as `fmt` with the quirks that apply to it; `document` names it in the truth."""
    layout: Layout = build(spec, fmt, quirks)
    data = _RENDERERS[fmt](layout)
    truth = dict(layout.truth)
    truth["document"] = document
    return Rendering(fmt, data, truth, layout.quirks)


def truth_for(spec: ReportSpec, fmt: str = "html", quirks: Iterable[str] = ()) -> dict:
    """The truth of `render(spec, fmt, quirks)` without rendering the bytes."""
    return build(spec, fmt, quirks).truth


def dumps_truth(truth: dict) -> str:
    """A truth dict as JSON laid out like the corpus truth files: one table row or entry per line."""

    def one(v) -> str:
        return json.dumps(v, ensure_ascii=False)

    lines = []
    for key, value in truth.items():
        if key == "proactive" and value:
            inner = ",\n".join(f"  {one(e)}" for e in value)
            lines.append(f" {one(key)}: [\n{inner}\n ]")
        elif key in ("applications", "review_litigation") and value:
            inner = ",\n".join(f"  {one(k)}: {one(v)}" for k, v in value.items())
            lines.append(f" {one(key)}: {{\n{inner}\n }}")
        else:
            lines.append(f" {one(key)}: {one(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"
