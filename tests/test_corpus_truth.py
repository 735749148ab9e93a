"""Real published reports parse to exactly their truth (every metadata field and every cell)."""

import json

import pytest

from pipeline.parse import parse_file
from tests.truth import FIXTURES, assert_matches_truth, load_truth

CORPUS = {
    "000_7085f7ec705a095f.txt": "seed_jugezhuang_2020",
    "t20200120_80576.htm": "pingtan_2019",
    "t20220208_80613.htm": "pingtan_2021",
    "t20240308_87885.htm": "pingtan_2023",
    "t20260313_105587.htm": "pingtan_2025",
    "huaian_szf_2024.pdf": "huaian_szf_2024",
}


@pytest.mark.parametrize(("file", "truth"), sorted(CORPUS.items()))
def test_corpus_report_matches_truth(file, truth):
    report = parse_file(FIXTURES / "corpus" / file)
    assert report.kind == "report"
    assert_matches_truth(report, load_truth(truth))
    assert not [f for f in report.findings if f.check == "unreadable_cell"]


def test_every_value_keeps_its_lineage():
    report = parse_file(FIXTURES / "corpus" / "000_7085f7ec705a095f.txt")
    cell = report.value("review_litigation", "litigation_direct", "upheld")
    assert (cell.raw_text, cell.value) == ("12", 12.0)
    change = next(
        c for c in report.cells if c.row_code == "administrative_penalty" and c.column_code == "change"
    )
    assert change.raw_text == "+408" and change.value == 408.0
    assert all(c.source_table >= 0 and c.source_row >= 0 and c.source_col >= 0 for c in report.cells)


GENERATED = sorted((FIXTURES / "truth" / "generated").glob("*.json"))


@pytest.mark.parametrize("truth_file", GENERATED, ids=[p.stem for p in GENERATED])
def test_bundled_generated_docx_matches_truth(truth_file):
    """The .docx reports `make run` ships (data/sample/generated) parse to their generator truth."""
    docx = FIXTURES.parents[1] / "data" / "sample" / "generated" / f"{truth_file.stem}.docx"
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    assert_matches_truth(parse_file(docx), truth)


LEGACY = sorted((FIXTURES / "truth" / "legacy").glob("*.json"))


@pytest.mark.parametrize("truth_file", LEGACY, ids=[p.stem for p in LEGACY])
def test_bundled_legacy_doc_matches_truth(truth_file):
    """The Word 97 .doc `make run` ships (data/sample/legacy), converted by LibreOffice."""
    from tests.synth.producers import missing

    if reason := missing("libreoffice"):
        pytest.skip(reason)
    doc = FIXTURES.parents[1] / "data" / "sample" / "legacy" / f"{truth_file.stem}.doc"
    report = parse_file(doc)
    assert report.reader == "doc"
    assert_matches_truth(report, json.loads(truth_file.read_text(encoding="utf-8")))
