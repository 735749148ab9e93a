"""Statistics tables pasted into reports as pictures, read by OCR: a generated HTML report whose tables
are replaced by headless-Chromium screenshots of them (`data:` URIs), the same pictures in a .docx,
and a page mixing text tables and a picture. Every cell is compared with the generator's truth."""

from __future__ import annotations

import io

import pytest

from pipeline.parse import parse_document
from tests.ocr_score import score
from tests.synth import make_spec, render
from tests.synth.producers import missing

pytest.importorskip("cv2")
docx = pytest.importorskip("docx")
if missing("chromium"):
    pytest.skip(missing("chromium"), allow_module_level=True)

from tests.synth.scan import pictures_of, screenshot_tables  # noqa: E402

HEADINGS = (
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
)


@pytest.fixture(scope="module")
def report():
    return render(make_spec(3, template="2021"), "html", {"value_colspan", "label_typos"})


@pytest.fixture(scope="module")
def pictured(report):
    return screenshot_tables(report.data)


def _assert_all_right(parsed, truth, pictures: int) -> None:
    assert parsed.reader == "ocr"
    assert [f.message for f in parsed.findings if f.check == "ocr_values"] == [
        f"values read by OCR from {pictures} image{'s' if pictures > 1 else ''}"
    ]
    s = score(parsed, truth)
    assert s.unflagged == [] and s.wrong == []
    assert s.missing == 0 and s.right >= 0.98 * s.cells, (s.right, s.unreadable, s.cells)


def test_html_report_whose_tables_are_screenshots(report, pictured):
    parsed = parse_document(pictured, "html")
    _assert_all_right(parsed, report.truth, 3)
    ocr = [c for c in parsed.cells if c.confidence is not None]
    assert len(ocr) == len(parsed.cells)
    assert all(c.source_page is None and c.box is not None for c in ocr)  # a web page has no pages


def test_docx_report_whose_tables_are_pictures(report, pictured):
    document = docx.Document()
    document.add_paragraph(report.truth["title"])
    for heading, png in zip(HEADINGS, pictures_of(pictured), strict=True):
        document.add_paragraph(heading)
        document.add_picture(io.BytesIO(png), width=docx.shared.Cm(16))
    out = io.BytesIO()
    document.save(out)
    _assert_all_right(parse_document(out.getvalue(), "docx"), report.truth, 3)


def test_a_page_mixing_text_tables_and_a_picture_reads_both(report):
    mixed = screenshot_tables(report.data, which={1})  # table 三 a picture, 二 and 四 text
    parsed = parse_document(mixed, "html")
    _assert_all_right(parsed, report.truth, 1)
    assert {c.table for c in parsed.cells if c.confidence is not None} == {"applications"}
