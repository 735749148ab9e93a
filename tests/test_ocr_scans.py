"""Whole reports as scans, read back by OCR and compared cell by cell with their truth.

- The shared real report (淮安 2024), its table pages 3–5 rasterised at 150 and 200 dpi, skewed,
  noisy, blurred, JPEG-compressed, a red seal on the last page: every accepted value is right and
  every cell is right or unreadable.
- Generated reports printed by Chromium and scanned the same way, every HTML quirk of the generator
  in six reports, three at each resolution (every quirk at both: benchmarks/ocr_scans.py): no wrong
  value unless an error flags its report, every cell not read in a row or table the report says is
  missing, and at least 97 % of cells right.
"""

from __future__ import annotations

import pytest

from pipeline.parse import parse_document
from tests.ocr_score import score
from tests.synth import for_format, make_spec, render
from tests.synth.producers import chromium_pdf, missing
from tests.truth import FIXTURES, load_truth

pytest.importorskip("cv2")
pytest.importorskip("pypdfium2")

from tests.synth.scan import Wear, scan_pdf

PDF = FIXTURES / "corpus" / "huaian_szf_2024.pdf"


@pytest.mark.parametrize(("dpi", "skew"), [(150, 1.2), (200, -1.8)])
def test_huaian_scanned_every_accepted_value_right_every_cell_right_or_unreadable(dpi, skew):
    scan = scan_pdf(PDF.read_bytes(), dpi=dpi, wear=Wear(skew=skew, stamp=True, seed=dpi), pages=[3, 4, 5])
    report = parse_document(scan, "pdf")
    assert report.reader == "ocr" and report.pages == 3
    assert [f.message for f in report.findings if f.check == "ocr_values"] == [
        "values read by OCR from 3 images"
    ]
    s = score(report, load_truth("huaian_szf_2024"))
    assert s.wrong == [] and s.missing == 0
    assert s.right >= 0.93 * s.cells, f"{s.right} of {s.cells} right, {s.unreadable} unreadable"
    assert all(c.source_page in (1, 2, 3) and c.box is not None for c in report.cells)


# Every quirk of the generator for HTML, in six reports of compatible quirks, each scanned at one of
# the two resolutions (every quirk at both, one report each: `make bench-ocr`, figures in the README).
QUIRK_GROUPS = [
    ({"amount_units", "html_bom", "na_dash", "zero_blank", "label_br"}, 150, Wear(skew=0.9, seed=1)),
    (
        {"extra_rows", "html_gbk", "na_emdash", "zero_nbsp", "label_paras"},
        200,
        Wear(skew=-1.5, stamp=True, seed=2),
    ),
    (
        {"extra_subtotal_column", "html_js", "na_slash", "zero_wu", "label_punct"},
        150,
        Wear(skew=-2.0, seed=3),
    ),
    (
        {"fullwidth_digits", "html_trs", "label_spaces", "signed_change", "t2_separate_tables"},
        200,
        Wear(skew=1.8, seed=4),
    ),
    (
        {"header_colspan_shift", "html_word", "label_typos", "t3_split_header", "thousands_sep"},
        150,
        Wear(skew=0.5, stamp=True, seed=5),
    ),
    ({"html_bad_rowspan", "t3_split_label", "value_colspan", "vertical_text"}, 200, Wear(skew=-0.7, seed=6)),
]


@pytest.fixture(scope="module")
def printed():
    """The six reports, rendered and printed by Chromium in one batch."""
    if missing("chromium"):
        pytest.skip(missing("chromium"))
    renderings = {
        i: render(make_spec(40 + i, template="2021"), "html", q) for i, (q, _, _) in enumerate(QUIRK_GROUPS)
    }
    assert all(set(r.quirks) == QUIRK_GROUPS[i][0] for i, r in renderings.items())  # every quirk applied
    pdfs = chromium_pdf({str(i): r.data for i, r in renderings.items()})
    return {i: (pdfs[str(i)], r.truth) for i, r in renderings.items()}


def test_every_html_quirk_is_covered_by_the_scan_groups():
    assert set().union(*(q for q, _, _ in QUIRK_GROUPS)) == set(for_format("html"))


@pytest.mark.parametrize("group", range(len(QUIRK_GROUPS)), ids=lambda i: f"{QUIRK_GROUPS[i][1]}dpi-{i}")
def test_generated_scans_are_right_unreadable_or_flagged(printed, group):
    pdf, truth = printed[group]
    _quirks, dpi, wear = QUIRK_GROUPS[group]
    report = parse_document(scan_pdf(pdf, dpi=dpi, wear=wear), "pdf")
    assert report.reader == "ocr"
    s = score(report, truth)
    assert s.unflagged == [], f"wrong values on a report without an error: {s.unflagged}"
    # Rows at a page's edge (no closing line) and rows cut in two are read; whatever is not read is
    # in a row or table the report says is missing.
    assert s.unexplained == []
    assert s.right >= 0.97 * s.cells, (
        f"{s.right} of {s.cells} right, {s.unreadable} unreadable, {s.missing} missing"
    )
