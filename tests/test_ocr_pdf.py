"""Scanned PDF pages read by OCR (pipeline/readers/pdf.py → pipeline/readers/ocr): the real 淮安 2024 PDF
with one page replaced by a worn scan of itself, and image-only PDFs that hold nothing to read.

What is checked is honesty: every value accepted from the scanned page is the truth, the text pages'
values are unchanged, every cell says where it came from (page, confidence and box only where OCR
read it), and a scan that holds no table fails with the reason instead of giving empty tables.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from pipeline.document import DocumentError
from pipeline.parse import parse_document
from tests.truth import APP_COLS, FIXTURES, load_truth

pdfium = pytest.importorskip("pypdfium2")
pytest.importorskip("cv2")

from tests.synth.scan import Wear, degrade, image_pdf, rasterise  # noqa: E402 (needs pypdfium2, cv2)

PDF = FIXTURES / "corpus" / "huaian_szf_2024.pdf"


def _with_scanned_page(number: int, *, dpi: int, wear: Wear) -> bytes:
    """The 淮安 PDF with page `number` replaced by an image-only scan of it."""
    data = PDF.read_bytes()
    scan = pdfium.PdfDocument(
        image_pdf([degrade(rasterise(data, dpi=dpi, pages=[number])[0], wear)], dpi=dpi)
    )
    src = pdfium.PdfDocument(data)
    out = pdfium.PdfDocument.new()
    out.import_pages(src, list(range(number - 1)))
    out.import_pages(scan, [0])
    out.import_pages(src, list(range(number, len(src))))
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def test_a_scanned_page_among_text_pages_is_read_by_ocr_right_or_unreadable():
    """Page 4 (table 三's first 13 rows) scanned at 150 dpi, skewed 1.2°, with noise, blur and JPEG."""
    report = parse_document(_with_scanned_page(4, dpi=150, wear=Wear(skew=1.2, seed=4)), "pdf")
    assert report.reader == "ocr" and report.pages == 6
    assert [f.message for f in report.findings if f.check == "ocr_values"] == [
        "values read by OCR from 1 image"
    ]
    truth = load_truth("huaian_szf_2024")["applications"]
    right = unreadable = 0
    for c in report.cells_of("applications"):
        if c.row_code not in truth or c.column_code not in APP_COLS:
            continue
        expected = truth[c.row_code][APP_COLS.index(c.column_code)]
        if c.source_page == 4:  # read by OCR: right or visibly unreadable, never silently wrong
            assert c.box is not None and (c.confidence is not None or c.raw_text == "")
            if c.unreadable:
                unreadable += 1
                continue
            right += 1
        else:  # the text page 5 is read from its text layer, exactly
            assert c.source_page == 5 and c.confidence is None and c.box is None
        assert c.value == expected, (c.row_code, c.column_code, c.raw_text, c.confidence)
    assert right + unreadable == 13 * 7
    assert right >= 0.9 * 13 * 7, f"{right} right, {unreadable} unreadable"


def test_an_image_only_pdf_without_a_table_fails_with_the_reason():
    blank = np.full((1754, 1240), 250, np.uint8)
    with pytest.raises(DocumentError, match=r"scanned PDF \(2 pages, no text layer\).*no ruled table"):
        parse_document(image_pdf([blank, blank], dpi=150), "pdf")
