"""OCR of pictures of tables (pipeline/readers/ocr): real scans of a real report, degraded, read back.

The 淮安 2024 PDF's page 4 (table 三, first 16 rows) is rasterised anti-aliased at 200 dpi as a scanner
sees it, skewed 0.8°, given noise and JPEG artefacts, and parsed as a picture file. Honesty is what is
checked: every value accepted is the truth, and a digit blotted out never becomes a silent wrong value.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from pipeline import template as T
from pipeline.document import Document, DocumentError, GridCell, Table
from pipeline.parse import extract_report, parse_document
from pipeline.readers.ocr.settings import MIN_CONFIDENCE_ENV, min_confidence_from_env
from pipeline.store import format_for
from tests.truth import FIXTURES, load_truth

pdfium = pytest.importorskip("pypdfium2")
cv2 = pytest.importorskip("cv2")
Image = pytest.importorskip("PIL.Image")

PDF = FIXTURES / "corpus" / "huaian_szf_2024.pdf"
COLS = [c.code for c in T.APPLICATION_COLUMNS]


def _page(dpi: int, page: int = 4) -> np.ndarray:
    pdf = pdfium.PdfDocument(str(PDF))
    return np.asarray(pdf[page - 1].render(scale=dpi / 72, grayscale=True).to_pil())


def _scan(grey: np.ndarray, *, skew: float, seed: int = 7) -> bytes:
    """Degrade like a scanner: rotate, blur a little, add noise, save as JPEG."""
    h, w = grey.shape
    turned = cv2.warpAffine(grey, cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0), (w, h), borderValue=255)
    blurred = cv2.GaussianBlur(turned, (0, 0), 0.6)
    noisy = np.clip(blurred + np.random.default_rng(seed).normal(0, 6, blurred.shape), 0, 255).astype(
        np.uint8
    )
    out = io.BytesIO()
    Image.fromarray(noisy).save(out, format="JPEG", quality=70)
    return out.getvalue()


def _png(grey: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(grey).save(out, format="PNG")
    return out.getvalue()


def _applications_check(report) -> tuple[int, int, list]:
    """(right, unreadable, wrong) over the table 三 values the page prints, against the truth."""
    truth = load_truth("huaian_szf_2024")["applications"]
    right, unreadable, wrong = 0, 0, []
    for c in report.cells_of("applications"):
        if c.row_code not in truth or c.column_code not in COLS:
            continue
        expected = truth[c.row_code][COLS.index(c.column_code)]
        if c.unreadable:
            unreadable += 1
        elif c.value == expected:
            right += 1
        else:
            wrong.append((c.row_code, c.column_code, expected, c.raw_text, c.confidence))
    return right, unreadable, wrong


@pytest.fixture(scope="module")
def scanned_report():
    return parse_document(_scan(_page(200), skew=0.8), "image")


def test_a_skewed_noisy_scan_reads_right_or_unreadable_never_wrong(scanned_report):
    report = scanned_report
    assert report.reader == "ocr"
    ocr = [f for f in report.findings if f.check == "ocr_values"]
    assert [(f.severity, f.message) for f in ocr] == [("info", "values read by OCR from 1 image")]
    right, unreadable, wrong = _applications_check(report)
    assert wrong == []
    # Page 4 prints rows 一 to (四)1 of table 三: 13 rows of 7 values.
    assert right + unreadable == 13 * 7
    assert right >= 0.9 * 13 * 7, f"only {right} of 91 values read ({unreadable} unreadable)"
    for c in report.cells_of("applications"):
        assert c.source_page == 1 and c.box is not None and len(c.box) == 4
        assert c.confidence is not None or c.raw_text == ""
        if c.unreadable is None and c.value is not None:
            assert c.confidence >= 0.90


def test_a_blotted_digit_is_never_a_silent_wrong_value():
    """Blot out part of `3001` (自然人, 本年新收): unreadable, or under a failing identity — never silent."""
    grey = _page(200).copy()
    clean = parse_document(_png(grey), "image")
    target = clean.value("applications", "new_received", "natural_person")
    assert target is not None and target.box is not None
    x0, y0, x1, y1 = (int(v) for v in target.box)
    # The ink of the first digit: a thick stroke across it, as a pen mark or a fold would leave.
    ys, xs = np.nonzero(grey[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3] < 128)
    left = x0 + 3 + xs.min()
    grey[y0 + 3 + ys.min() : y0 + 3 + ys.max(), left : left + 6] = 40
    report = parse_document(_png(grey), "image")
    cell = report.value("applications", "new_received", "natural_person")
    _right, _unreadable, wrong = _applications_check(report)
    errors = [f for f in report.findings if f.severity == "error" and f.check != "missing_table"]
    if cell is None:  # the row itself was lost: a warning says so
        assert any(f.check == "missing_row" and "本年新收" in f.message for f in report.findings)
    else:
        assert cell.unreadable or cell.value == 3001 or errors, f"{cell.raw_text!r} accepted silently"
    if wrong:
        assert errors, f"wrong values without an error: {wrong}"
        assert any("read by OCR" in f.message for f in errors)


def test_a_blank_scan_fails_with_the_reason():
    blank = np.full((1600, 1200), 250, np.uint8)
    with pytest.raises(DocumentError, match="no ruled table found"):
        parse_document(_png(blank), "image")
    with pytest.raises(DocumentError, match="no picture large enough"):
        parse_document(_png(np.full((100, 80), 250, np.uint8)), "image")
    with pytest.raises(DocumentError, match="not a readable picture"):
        parse_document(b"\x89PNG\r\n\x1a\n broken", "image")


def _ocr_document(confidence: float) -> Document:
    """A table 三 as OCR would hand it over: one value cell with the given confidence."""
    header = ["", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    rows = [[GridCell(t, 0, c) for c, t in enumerate(header)]]
    values = ["3001", "53", "0", "0", "61", "4", "3119"]
    rows.append(
        [GridCell("一、本年新收政府信息公开申请数量", 1, 0, page=1, confidence=0.99, box=(0, 0, 1, 1))]
        + [
            GridCell(
                v, 1, c + 1, page=1, confidence=confidence if c == 0 else 0.99, box=(10.0, 20.0, 30.0, 40.0)
            )
            for c, v in enumerate(values)
        ]
    )
    return Document("image", tables=[Table(0, rows, "三、收到和处理政府信息公开申请情况")], reader="ocr")


def test_an_unsure_value_is_unreadable_with_the_confidence_in_the_reason():
    report = extract_report(_ocr_document(0.62))
    cell = report.value("applications", "new_received", "natural_person")
    assert cell.value is None and cell.unreadable == "OCR confidence 0.62 < 0.90"
    assert cell.confidence == 0.62 and cell.box == [10.0, 20.0, 30.0, 40.0] and cell.source_page == 1
    assert any(f.check == "unreadable_cell" and "OCR confidence 0.62" in f.message for f in report.findings)
    sure = extract_report(_ocr_document(0.62), ocr_min_confidence=0.5)
    assert sure.value("applications", "new_received", "natural_person").value == 3001


def test_an_identity_failing_on_ocr_values_is_an_error_naming_the_least_sure_cells():
    doc = _ocr_document(0.95)
    doc.tables[0].grid[1][1] = GridCell("3000", 1, 1, page=1, confidence=0.95, box=(1, 1, 2, 2))
    report = extract_report(doc)
    failing = [f for f in report.findings if "fails in table 三" in f.message]
    assert failing and all(f.severity == "error" for f in failing)
    assert "new_received/natural_person '3000' (confidence 0.95)" in failing[0].message


def test_the_threshold_comes_from_the_environment_and_is_checked():
    assert min_confidence_from_env({}) == 0.90
    assert min_confidence_from_env({MIN_CONFIDENCE_ENV: "0.97"}) == 0.97
    for bad in ("x", "1.5", "-0.1"):
        with pytest.raises(ValueError, match=MIN_CONFIDENCE_ENV):
            min_confidence_from_env({MIN_CONFIDENCE_ENV: bad})


def test_the_threshold_is_part_of_the_parse_cache_key(monkeypatch):
    from pipeline.stages import _inputs_digest
    from pipeline.store import RawDocument

    doc = RawDocument("r", "s", "scan.png", "image", sha256="ab" * 32)
    monkeypatch.delenv(MIN_CONFIDENCE_ENV, raising=False)
    default = _inputs_digest(doc)
    monkeypatch.setenv(MIN_CONFIDENCE_ENV, "0.95")
    assert _inputs_digest(doc) != default


def test_picture_files_are_a_readable_format():
    assert [format_for(n) for n in ("a.PNG", "b.jpg", "c.jpeg", "d.gif")] == ["image"] * 4
    assert format_for("x", "image/jpeg") == "image"


def test_parse_cli_shows_unsure_values_as_unreadable_and_the_ocr_summary():
    from pipeline.cli_parse import render_text

    text = render_text(extract_report(_ocr_document(0.62)))
    row = next(line for line in text.splitlines() if line.strip().startswith("new_received"))
    assert row.split()[1:] == ["??", "53", "0", "0", "61", "4", "3119"]
    assert "OCR: 7 cells read from pictures, 1 unreadable (??), lowest accepted confidence 0.99" in text
    assert "OCR confidence 0.62 < 0.90" in text
