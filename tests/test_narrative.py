"""The narrative cross-check (pipeline.narrative): numbers the text states against the tables.

No false alarm on the real reports (their text and tables agree), the mismatch found where one is
planted in a copy, the conservative skips, and generated reports whose text agrees or disagrees.
"""

from pathlib import Path

import pytest

from pipeline.narrative import CHECK, compare, narrative_findings, statements
from pipeline.parse import extract_report, parse_document, parse_file, read_document
from pipeline.readers.pdf import read_pdf
from pipeline.report import Cell, ParsedReport
from pipeline.template import CHECK_DESCRIPTIONS
from tests.synth import make_spec, render
from tests.synth.spec import NARRATIVE_OFFSET

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = FIXTURES / "corpus"

#: What each real report's text states, as (kind, number): every one agrees with its tables.
REAL_STATEMENTS = {
    "000_7085f7ec705a095f.txt": [("received", 1)],
    "t20200120_80576.htm": [],
    "t20220208_80613.htm": [("received", 70), ("processed", 69), ("carried_forward", 1)],
    "t20240308_87885.htm": [
        ("received", 81),
        ("processed", 81),
        ("granted_or_partially", 42),
        ("reviews", 2),
        ("lawsuits", 7),
    ],
    "t20260313_105587.htm": [
        ("received", 154),
        ("processed", 148),
        ("carried_forward", 6),
        ("reviews", 36),
        ("lawsuits", 9),
    ],
}


def _report(
    apps: dict[str, int] | None = None, review: dict[str, int] | None = None, year=2024
) -> ParsedReport:
    """A report with these table 三 totals and table 四 totals."""
    report = ParsedReport(year=year)
    for row, total in (apps or {}).items():
        report.cells.append(Cell("applications", row, "total", str(total), total, 0, 0, 0))
    for proceeding, total in (review or {}).items():
        report.cells.append(Cell("review_litigation", proceeding, "total", str(total), total, 0, 0, 0))
    return report


def test_the_check_is_registered_with_the_other_check_codes():
    assert CHECK in CHECK_DESCRIPTIONS


@pytest.mark.parametrize("name", sorted(REAL_STATEMENTS))
def test_real_reports_state_what_their_tables_print(name):
    report = parse_file(CORPUS / name)
    doc = read_document((CORPUS / name).read_bytes(), "txt" if name.endswith(".txt") else "html")
    found = compare(report, doc.paragraphs)
    assert [(c.statement.claim.name, c.statement.value) for c in found] == REAL_STATEMENTS[name]
    assert all(c.agrees and c.expected == c.statement.value for c in found)
    assert not [f for f in report.findings if f.check == CHECK]


def test_a_planted_mismatch_in_a_copy_of_a_real_report_is_found(tmp_path):
    page = (CORPUS / "t20240308_87885.htm").read_text(encoding="utf-8")
    assert page.count("行政复议案件2件") == 1
    copy = tmp_path / "planted.htm"
    copy.write_text(page.replace("行政复议案件2件", "行政复议案件5件"), encoding="utf-8")
    report = parse_file(copy)
    (finding,) = [f for f in report.findings if f.check == CHECK]
    assert (finding.scope, finding.expected, finding.actual, finding.severity) == (
        "reviews",
        2.0,
        5.0,
        "warning",
    )
    assert "table 四 行政复议" in finding.message and "行政复议案件5件、行政诉讼案件7件" in finding.message
    assert report.value("review_litigation", "administrative_review", "total").value == 2  # never changed


def test_the_huaian_text_agrees_with_its_tables():
    """The real PDF (淮安 2024) read by the PDF reader: its paragraphs against its own tables."""
    pdf = (CORPUS / "huaian_szf_2024.pdf").read_bytes()
    report = parse_document(pdf, "pdf")
    assert not [f for f in report.findings if f.check == "narrative_mismatch"]
    found = compare(report, read_pdf(pdf).paragraphs)
    assert [(c.statement.claim.name, c.statement.value, c.agrees) for c in found] == [
        ("received", 3119, True),
        ("reviews", 351, True),
        ("lawsuits", 46, True),
    ]


def test_the_hongze_case():
    """淮安市洪泽区 2024: 受理…申请 17 件 in the text, 95 in table 三."""
    report = _report({"new_received": 95, "carried_over": 0})
    (finding,) = narrative_findings(report, ["2024年，全区共受理政府信息公开申请17件，均按时答复。"])
    assert (finding.check, finding.expected, finding.actual) == (CHECK, 95.0, 17.0)
    assert "「2024年，全区共受理政府信息公开申请17件，均按时答复。」" in finding.message
    assert "paragraph 1" in finding.message


def test_received_may_include_the_carried_over_applications():
    report = _report({"new_received": 95, "carried_over": 5})
    assert narrative_findings(report, ["全年共收到政府信息公开申请100件。"]) == []
    assert narrative_findings(report, ["全年共收到政府信息公开申请95件。"]) == []
    assert len(narrative_findings(report, ["全年共收到政府信息公开申请99件。"])) == 1


@pytest.mark.parametrize(
    "sentence",
    [
        "较上年共收到政府信息公开申请增加17件。",
        "2023年共收到政府信息公开申请50件。",  # another year
        "其中自然人申请80件、商业企业1件。",  # parts
        "全年主动公开政府信息7700余条。",  # no counterpart, and approximate
        "共收到政府信息公开申请约17件。",
        "按时办结率100%。",
        "答复3050件（含上年度结转申请34件，另有103件顺延到下年度答复）。",  # 答复 is not 办结
        "行政复议结果维持1件、纠正1件。",  # outcomes, not the total
        "全年共收到政府信息公开申请十七件。",  # not digits
        "受理各类群众诉求259起。",  # not applications
    ],
)
def test_statements_whose_meaning_is_not_certain_are_not_read(sentence):
    assert statements([sentence], 2024) == []


def test_only_the_clause_that_states_the_total_is_read():
    found = statements(["全年共收到政府信息公开申请17件，较上年增加5件，其中自然人申请15件。"], 2024)
    assert [(s.claim.name, s.value) for s in found] == [("received", 17)]


def test_nothing_is_compared_with_a_blank_or_unreadable_table_value():
    report = _report({"carried_over": 0})
    report.cells.append(
        Cell("applications", "new_received", "total", "?", None, 0, 0, 0, unreadable="garbled")
    )
    (comparison,) = compare(report, ["全年共收到政府信息公开申请17件。"])
    assert (
        comparison.expected is None and narrative_findings(report, ["全年共收到政府信息公开申请17件。"]) == []
    )


@pytest.mark.parametrize("fmt", ["html", "docx", "txt"])
def test_generated_reports_whose_text_agrees_or_disagrees(fmt):
    for seed in (3, 11, 29):
        spec = make_spec(seed, template="2021" if seed % 2 else "2019")
        if not spec.applications["new_received"][6]:
            continue
        for mode in ("agree", "disagree"):
            spec.narrative = mode
            rendering = render(spec, fmt)
            doc = read_document(rendering.data, fmt)
            report = extract_report(doc)
            kinds = [c.statement.claim.name for c in compare(report, doc.paragraphs)]
            assert kinds == ["received", "processed", "carried_forward", "reviews", "lawsuits"], (seed, kinds)
            mismatches = [f for f in report.findings if f.check == CHECK]
            if mode == "agree":
                assert mismatches == [], (seed, mismatches)
            else:
                new = spec.applications["new_received"][6]
                carried = spec.applications["carried_over"][6]
                if new + NARRATIVE_OFFSET == new + carried:  # the other reading of 收到 agrees
                    assert mismatches == []
                    continue
                (finding,) = mismatches
                assert (finding.scope, finding.expected, finding.actual) == (
                    "received",
                    new,
                    new + NARRATIVE_OFFSET,
                )
