"""The PDF reader on the real 淮安 report and on PDFs built to show one behaviour each."""

from __future__ import annotations

import itertools
import re

import pytest

from pipeline.document import DocumentError
from pipeline.parse import parse_document
from pipeline.readers import pdf_text
from pipeline.readers.pdf import read_pdf
from pipeline.readers.radicals import ideographs
from tests import pdf_builders as B
from tests.synth import make_spec, render
from tests.synth.producers import libreoffice_convert, missing
from tests.truth import FIXTURES, assert_matches_truth, load_truth

HUAIAN = (FIXTURES / "corpus" / "huaian_szf_2024.pdf").read_bytes()


def test_huaian_every_value_names_its_page_and_table_three_runs_over_the_break():
    report = parse_document(HUAIAN, "pdf")
    assert_matches_truth(report, load_truth("huaian_szf_2024"))
    assert (report.reader, report.pages) == ("pdf", 6)
    assert all(c.source_page in range(1, 7) for c in report.cells)
    pages = {c.row_code: c.source_page for c in report.cells_of("applications")}
    assert pages["new_received"] == 4 and pages["carried_forward"] == 5  # one table, two pages
    moved = report.value("applications", "unavailable_needs_creation", "total")  # first row on page 5
    assert (moved.raw_text, moved.source_page) == ("11", 5)
    assert not report.findings


def test_huaian_title_comes_from_the_first_page_not_the_metadata():
    doc = read_pdf(HUAIAN)
    assert doc.title is None and doc.meta.get("pdf_title")  # the metadata title is not trusted
    assert parse_document(HUAIAN, "pdf").title == "淮安市人民政府2024年政府信息公开工作年度报告"
    # page numbers (- 1 -) are not paragraphs; wrapped lines are joined into sentences
    assert not any(pdf_text.is_page_number(p) for p in doc.paragraphs)
    assert any(p.startswith("本报告由淮安市人民政府办公室根据") and p.endswith("。") for p in doc.paragraphs)


def test_huaian_frame_around_a_paragraph_is_not_a_table():
    doc = read_pdf(HUAIAN)  # page 1 boxes its opening paragraph: one column, text only
    first_page = [t for t in doc.tables if t.grid[0][0].page == 1]
    assert first_page == []
    assert any("如对本报告有疑问" in p for p in doc.paragraphs)


def test_radicals_become_ideographs():
    assert ideographs("⼀、本年新收") == "一、本年新收"  # Kangxi radical (NFKC)
    assert ideographs("⾏政许可 ⻓期 ⻔户") == "行政许可 长期 门户"  # supplement (table)
    assert ideographs("①（一）１") == "①（一）１"  # nothing else is normalised


def _line(text: str, x0: float, x1: float, size: float = 10.0) -> pdf_text.Line:
    return pdf_text.Line(text, x0, x1, 0, size, size, first_width=size / 2)


def test_a_number_wrapped_in_a_narrow_cell_is_joined_by_geometry():
    right = 60.0  # cell's right edge; the first line runs up to it
    assert pdf_text.cell_text([_line("160.596", 20, 54), _line("4万元", 20, 40)], right) == "160.5964万元"
    # two short numbers in a wide cell are two lines: several values, left unreadable downstream
    assert pdf_text.cell_text([_line("12", 20, 30), _line("34", 20, 30)], 200.0) == "12\n34"
    # labels keep their lines (matched whitespace-free)
    assert pdf_text.cell_text([_line("商业企", 20, 54), _line("业", 20, 30)], right) == "商业企\n业"


@pytest.mark.parametrize(
    ("text", "is_number"),
    [
        ("- 4 -", True),
        ("第4页 共6页", True),
        ("12", True),
        ("—3—", True),
        ("2024年", False),
        ("第二十条", False),
    ],
)
def test_page_numbers(text, is_number):
    assert pdf_text.is_page_number(text) is is_number


def test_a_scan_without_text_layer_fails_with_the_page_count():
    """Its pages are read by OCR (tests/test_ocr_pdf.py); pictures holding no table fail the document."""
    with pytest.raises(
        DocumentError, match=r"^ocr: scanned PDF \(3 pages, no text layer\): no ruled table found"
    ):
        read_pdf(B.image_only_pdf(3))


def test_text_and_scanned_pages_together_say_which_pages_were_skipped():
    data = B.spliced((HUAIAN, [0, 1, 2, 3]), (B.image_only_pdf(1), None), (HUAIAN, [4, 5]))
    report = parse_document(data, "pdf")
    [skipped] = [f for f in report.findings if f.check == "scanned_pages_skipped"]
    assert skipped.severity == "warning" and skipped.scope == "pages 5"
    assert "1 of 7 pages" in skipped.message and "page 5" in skipped.message
    assert report.pages == 7 and report.cells  # the text pages are read all the same


def test_a_blank_page_is_neither_text_nor_a_scan():
    doc = read_pdf(B.spliced((HUAIAN, [0]), (B.one_page(b""), None)))
    assert doc.pages == 2 and not doc.findings


@pytest.fixture(scope="module")
def encrypted() -> dict[str, bytes]:
    if reason := missing("libreoffice"):
        pytest.skip(reason)
    docx = render(make_spec(21, template="2021"), "docx").data
    user = '{"EncryptFile":{"type":"boolean","value":"true"},"DocumentOpenPassword":{"type":"string","value":"s"}}'
    owner = '{"RestrictPermissions":{"type":"boolean","value":"true"},"PermissionPassword":{"type":"string","value":"o"}}'
    return {
        "user": libreoffice_convert({"x": docx}, f"pdf:writer_pdf_Export:{user}", out_ext="pdf")["x"],
        "owner": libreoffice_convert({"x": docx}, f"pdf:writer_pdf_Export:{owner}", out_ext="pdf")["x"],
    }


def test_encrypted_with_an_empty_user_password_opens(encrypted):
    assert b"/Encrypt" in encrypted["owner"]
    report = parse_document(encrypted["owner"], "pdf")
    assert report.kind == "report" and report.cells


def test_encrypted_with_a_user_password_fails_with_that_reason(encrypted):
    with pytest.raises(
        DocumentError, match=r"^pdf: cannot parse \(encrypted, and the user password is not empty\)$"
    ):
        read_pdf(encrypted["user"])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not a PDF file"),
        (b"<html>not a pdf</html>", "not a PDF file"),
        (HUAIAN[: len(HUAIAN) // 3], "cannot parse"),
        (B.pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]), None),
    ],
    ids=["empty", "html", "truncated", "no-pages"],
)
def test_broken_pdfs_fail_with_one_line(data, reason):
    try:
        doc = read_pdf(data)
    except DocumentError as exc:
        assert reason and re.search(reason, str(exc)) and "\n" not in str(exc), exc
    else:
        assert reason is None and not doc.tables


def test_a_dangling_startxref_is_repaired_by_scanning():
    data = B.pdf_file(
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"], xref_offset=999
    )
    assert read_pdf(data).pages == 0


def _ruled_table(last_row_closed_by: str) -> bytes:
    """A 3-column, 3-row table of text; its last row's bottom edge is a ruling line or only the
    edge of a white cell-fill rectangle (what WPS prints before a page break)."""
    ops = [b"0 0 0 RG 0.5 w"]
    xs, ys = (72, 200, 330, 460), (700, 670, 640, 610)
    for y in ys[:3]:
        ops.append(b"%d %d m %d %d l S" % (xs[0], y, xs[-1], y))
    for x in xs:
        ops.append(b"%d %d m %d %d l S" % (x, ys[0], x, ys[-1]))
    if last_row_closed_by == "line":
        ops.append(b"%d %d m %d %d l S" % (xs[0], ys[3], xs[-1], ys[3]))
    else:  # white fill rectangles, one per cell of the last row
        ops.append(b"1 1 1 rg")
        ops += [
            b"%d %d %d %d re f" % (x0, ys[3], x1 - x0, ys[2] - ys[3]) for x0, x1 in itertools.pairwise(xs)
        ]
        ops.append(b"0 0 0 rg")
    texts = [["a", "1", "2"], ["b", "3", "4"], ["c", "5", "6"]]
    for r, row in enumerate(texts):
        for c, text in enumerate(row):
            ops.append(b"BT /F1 10 Tf %d %d Td (%s) Tj ET" % (xs[c] + 5, ys[r] - 20, text.encode()))
    return B.one_page(b"\n".join(ops))


@pytest.mark.parametrize("closed_by", ["line", "white fill"])
def test_a_row_closed_only_by_white_fill_rectangles_is_still_a_row(closed_by):
    [table] = read_pdf(_ruled_table(closed_by)).tables
    assert [[c.text for c in table.row_cells(r)] for r in range(table.n_rows)] == [
        ["a", "1", "2"],
        ["b", "3", "4"],
        ["c", "5", "6"],
    ]
