"""Duplicates and cross-year plausibility, on real parsed reports."""

import copy

from pipeline.crossreport import Entry, choose_canonical, cross_year_findings
from pipeline.parse import parse_file
from pipeline.report import Finding
from tests.truth import FIXTURES

SEED = parse_file(FIXTURES / "corpus" / "000_7085f7ec705a095f.txt")
P2021 = parse_file(FIXTURES / "corpus" / "t20220208_80613.htm")


def _entry(report_id, report, year=None, fetched_at="2026-01-01T00:00:00+00:00", region="r"):
    return Entry(report_id, region, report.agency, year or report.year, fetched_at, report)


def test_duplicate_with_fewer_tables_loses():
    partial = copy.deepcopy(SEED)
    partial.tables_found = partial.tables_found[:1]
    dupes = choose_canonical([_entry("a-page", partial), _entry("b-attachment", SEED)])
    assert dupes == {"a-page": "b-attachment"}


def test_duplicate_with_failed_identity_loses_then_latest_wins():
    broken = copy.deepcopy(SEED)

    broken.findings.append(Finding("T3-A", "column total", 1, 2, "error", "x"))
    assert choose_canonical([_entry("a", broken), _entry("b", SEED)]) == {"a": "b"}
    older, newer = _entry("a", SEED, fetched_at="2026-01-01"), _entry("b", SEED, fetched_at="2026-02-01")
    assert choose_canonical([older, newer]) == {"a": "b"}
    assert choose_canonical([_entry("b", SEED), _entry("a", SEED)]) == {"b": "a"}  # full tie: smallest id


def test_other_regions_and_years_are_not_duplicates():
    assert choose_canonical([_entry("a", SEED, region="x"), _entry("b", SEED, region="y")]) == {}
    assert choose_canonical([_entry("a", SEED, year=2020), _entry("b", SEED, year=2021)]) == {}


def test_carry_over_mismatch_is_a_warning_on_the_later_year():
    later = copy.deepcopy(P2021)  # 2021 carried_forward total is 1
    later.year = 2022
    for c in later.cells:
        if c.row_code == "carried_over" and c.column_code == "total":
            c.value = 5.0
    findings = cross_year_findings([_entry("y2021", P2021), _entry("y2022", later)])
    carry = [(rid, f) for rid, f in findings if f.check == "cross_year_carry_over"]
    # 2021 carried 1 forward (natural_person 1, total 1); the altered 2022 prints 0 and 5
    assert [(rid, f.scope, f.expected, f.actual, f.severity) for rid, f in carry] == [
        ("y2022", "column natural_person", 1.0, 0.0, "warning"),
        ("y2022", "column total", 1.0, 5.0, "warning"),
    ]


def test_in_force_continuity_for_2021_tables():
    later = copy.deepcopy(P2021)
    later.year = 2022  # in_force 665 again, issued 69, repealed 3 → expected 731
    findings = [f for _, f in cross_year_findings([_entry("a", P2021), _entry("b", later)])]
    in_force = [f for f in findings if f.check == "cross_year_in_force"]
    assert [(f.scope, f.expected, f.actual) for f in in_force] == [
        ("category normative_documents", 731.0, 665.0)
    ]


def test_the_page_or_docx_beats_its_pdf_when_both_read_cleanly_and_a_cleaner_pdf_beats_a_worse_page():
    import pytest

    from pipeline.parse import parse_document
    from tests.synth import make_spec, render
    from tests.synth.producers import chromium_pdf, missing

    if reason := missing("chromium"):
        pytest.skip(reason)
    page = render(make_spec(31, template="2021"), "html", set())
    pdf = parse_document(chromium_pdf({"x": page.data})["x"], "pdf")
    html = parse_document(page.data, "html")
    assert (html.reader, pdf.reader) == ("html", "pdf") and html.cells and pdf.cells
    newer_pdf = _entry("a-pdf", pdf, fetched_at="2026-03-01")  # newer, yet the page is read more directly
    assert choose_canonical([newer_pdf, _entry("b-page", html)]) == {"a-pdf": "b-page"}
    worse_page = copy.deepcopy(html)
    worse_page.cells[0].unreadable = "not a number: 'x'"
    assert choose_canonical([newer_pdf, _entry("b-page", worse_page)]) == {"b-page": "a-pdf"}
