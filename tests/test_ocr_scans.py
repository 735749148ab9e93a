"""Whole reports as scans, read back by OCR and compared cell by cell with their truth.

- The shared real report (淮安 2024), its table pages 3–5 rasterised at 150 and 200 dpi, skewed,
  noisy, blurred, JPEG-compressed, a red seal on the last page: every accepted value is right and
  every cell is right or unreadable.
- Generated reports printed by Chromium and scanned the same way, on a sample of quirks (every quirk
  at both resolutions: benchmarks/ocr_scans.py): no wrong value unless an error flags its report,
  and every cell not read is in a row or table the report says is missing.
"""

from __future__ import annotations

import pytest

from pipeline.parse import parse_document
from tests.ocr_score import score
from tests.synth import make_spec, render
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


@pytest.mark.skipif(bool(missing("chromium")), reason=str(missing("chromium")))
@pytest.mark.parametrize(
    ("seed", "quirks", "dpi", "wear"),
    [
        (21, {"t3_split_header", "label_typos", "zero_blank"}, 150, Wear(skew=0.9, seed=1)),
        (22, {"value_colspan", "thousands_sep", "na_dash"}, 200, Wear(skew=-1.5, stamp=True, seed=2)),
    ],
    ids=["150dpi", "200dpi-seal"],
)
def test_generated_scans_are_right_unreadable_or_flagged(seed, quirks, dpi, wear):
    rendering = render(make_spec(seed, template="2021"), "html", quirks)
    pdf = chromium_pdf({"r": rendering.data})["r"]
    report = parse_document(scan_pdf(pdf, dpi=dpi, wear=wear), "pdf")
    assert report.reader == "ocr"
    s = score(report, rendering.truth)
    assert s.unflagged == [], f"wrong values on a report without an error: {s.unflagged}"
    # Rows at a page's edge (no closing line) and rows cut in two are read; whatever is not read is
    # in a row or table the report says is missing.
    assert s.unexplained == []
    assert s.right >= 0.97 * s.cells, (
        f"{s.right} of {s.cells} right, {s.unreadable} unreadable, {s.missing} missing"
    )
