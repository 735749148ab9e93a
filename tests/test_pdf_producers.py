"""Every quirk of the generator, printed the way agencies publish it, reads exactly.

Producers (real programs, skipped with the reason where one is missing; `.ci/run` installs both):
- headless Chromium's print-to-PDF of the generated HTML (browser-printed reports);
- LibreOffice's PDF export of the generated .docx (Word/WPS exports);
- LibreOffice's Word 97 .doc of the generated .docx, read back through pipeline.convert.

Each quirk is printed once per producer, in one of the three templates in turn (the full sweep over
every template is `python -m benchmarks.pdf_sweep`, figures in the README). Page breaks are forced
inside table 二, inside a group of table 三 and between its groups, and inside table 四.
"""

from __future__ import annotations

import lxml.html
import pytest

from pipeline.convert import Converter
from pipeline.parse import parse_document
from tests.synth import QUIRKS, make_spec, render
from tests.synth.producers import chromium_pdf, libreoffice_convert, missing
from tests.truth import APP_COLS as APPLICATION_COLUMNS
from tests.truth import assert_matches_truth

TEMPLATES = ("2019", "2021", "mixed")


def _cases(fmt: str) -> dict[str, object]:
    quirks = sorted(q for q, spec in QUIRKS.items() if fmt in spec.formats)
    out = {}
    for i, quirk in enumerate(quirks):
        template = TEMPLATES[i % len(TEMPLATES)]
        seed = sum(map(ord, quirk + fmt + template))
        out[quirk] = render(make_spec(seed, template=template), fmt, {quirk})
    return out


HTML_CASES = _cases("html")
DOCX_CASES = _cases("docx")


def _blank_rows(truth: dict) -> set[str]:
    """Rows whose every value is null (blank or n/a marks): if printed blank, a browser prints them
    as a sliver with no room for text."""
    rows = {k for k, v in truth["applications"].items() if all(x is None for x in v)}
    if all(all(x is None for x in v) for v in truth["review_litigation"].values()):
        rows.add("review_litigation")
    return rows


def assert_exact(data: bytes, fmt: str, truth: dict, *, reader: str | None = None) -> None:
    report = parse_document(data, fmt)
    if reader:
        assert report.reader == reader
    assert_matches_truth(report, truth)
    unreadable = sorted([c.table, c.row_code, c.column_code] for c in report.cells if c.unreadable)
    assert unreadable == sorted(truth.get("unreadable", []))


@pytest.fixture(scope="module")
def chromium_pdfs() -> dict[str, bytes]:
    if reason := missing("chromium"):
        pytest.skip(reason)
    return chromium_pdf({q: r.data for q, r in HTML_CASES.items()})


@pytest.fixture(scope="module")
def libreoffice_outputs() -> dict[str, dict[str, bytes]]:
    if reason := missing("libreoffice"):
        pytest.skip(reason)
    docx = {q: r.data for q, r in DOCX_CASES.items()}
    return {"pdf": libreoffice_convert(docx, "pdf"), "doc": libreoffice_convert(docx, "doc")}


@pytest.mark.parametrize("quirk", sorted(HTML_CASES))
def test_chromium_printed_pdf(chromium_pdfs, quirk):
    truth = HTML_CASES[quirk].truth
    try:
        assert_exact(chromium_pdfs[quirk], "pdf", truth, reader="pdf")
    except AssertionError:
        blank = _blank_rows(truth)
        if not blank:
            raise
        # A row printed with every cell empty collapses to a sliver with no room for text: it is
        # reported missing, never guessed; every other value is exact.
        report = parse_document(chromium_pdfs[quirk], "pdf")
        named = " ".join(f.scope + f.message for f in report.findings if f.check.startswith("missing"))
        assert all(row in named for row in blank), (blank, named)
        for cell in report.cells:
            if cell.table == "applications" and cell.row_code in truth["applications"]:
                column = APPLICATION_COLUMNS.index(cell.column_code)
                assert cell.value == truth["applications"][cell.row_code][column]


@pytest.mark.parametrize("quirk", sorted(DOCX_CASES))
def test_libreoffice_exported_pdf(libreoffice_outputs, quirk):
    assert_exact(libreoffice_outputs["pdf"][quirk], "pdf", DOCX_CASES[quirk].truth, reader="pdf")


@pytest.fixture(scope="module")
def converted_docs(libreoffice_outputs) -> dict[str, bytes]:
    """The .doc files converted back by the pipeline's converter (one LibreOffice run for all)."""
    with Converter() as converter:
        results = converter.convert({q: (data, "doc") for q, data in libreoffice_outputs["doc"].items()})
        assert converter.conversions == len(results)
    return results


@pytest.mark.parametrize("quirk", sorted(DOCX_CASES))
def test_word97_doc(libreoffice_outputs, converted_docs, quirk):
    assert libreoffice_outputs["doc"][quirk][:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a real OLE2 .doc
    report = parse_document(converted_docs[quirk], "docx", reader="doc")
    assert report.reader == "doc"
    assert_matches_truth(report, DOCX_CASES[quirk].truth)


def test_one_doc_read_end_to_end_by_parse_document(libreoffice_outputs):
    """The path `python -m pipeline parse x.doc` takes: convert (cold LibreOffice), then read."""
    quirk = sorted(DOCX_CASES)[0]
    assert_exact(libreoffice_outputs["doc"][quirk], "doc", DOCX_CASES[quirk].truth, reader="doc")
    # a .wps saved in Word's format by WPS Office reads the same way
    assert_exact(libreoffice_outputs["doc"][quirk], "wps", DOCX_CASES[quirk].truth, reader="doc")


# --- page breaks where they hurt --------------------------------------------------------------------------

BREAKS = {
    "table 二 between categories": "行政处罚",
    "table 三 inside group (三)": "4.保护第三方",
    "table 三 between groups (三) and (四)": "1.本机关不掌握",
    "table 三 between groups (五) and (六)": "（六）",
}


def _with_breaks(html: bytes) -> bytes:
    """The report with a forced page break before each row named in BREAKS and before table 四's data row."""
    root = lxml.html.fromstring(html.decode("utf-8"))
    rows = list(root.iter("tr"))
    for marker in BREAKS.values():
        row = next(r for r in rows if marker in r.text_content().replace(" ", ""))
        row.set("style", "break-before: page")
    review = [t for t in root.iter("table") if "行政复议" in t.text_content()][-1]
    review.findall(".//tr")[-1].set("style", "break-before: page")
    return lxml.html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>").encode("utf-8")


@pytest.mark.parametrize("template", TEMPLATES)
def test_page_breaks_inside_every_table(template):
    if reason := missing("chromium"):
        pytest.skip(reason)
    rendering = render(make_spec(5, template=template), "html", set())
    pdf = chromium_pdf({"x": _with_breaks(rendering.data)})["x"]
    report = parse_document(pdf, "pdf")
    assert_matches_truth(report, rendering.truth)
    pages = {
        table: {c.source_page for c in report.cells_of(table)}
        for table in ("proactive_disclosure", "applications")
    }
    assert len(pages["proactive_disclosure"]) >= 2 and len(pages["applications"]) >= 3
    review_pages = {c.source_page for c in report.cells_of("review_litigation")}
    assert len(review_pages) == 1 and review_pages.pop() == report.pages  # data row alone on the last page
