"""Across reports, through a real materialization: duplicates (an HTML page and its .docx attachment, a
corrected re-issue) and cross-year plausibility (carry-over, 现行有效件数 continuity)."""

import pandas as pd
import pytest

from assets.launch import launch
from pipeline.config import load_settings
from tests.synth import make_spec, render

AGENCY, REGION = "示例市示例区人民政府", "示例省示例市"


def _spec(year: int, seed: int):
    return make_spec(seed, template="2021", agency=AGENCY, year=year)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("cross")
    site = root / "docs"
    site.mkdir()
    y2021, y2022 = _spec(2021, 1), _spec(2022, 2)
    # 2021 published twice: a page and its attachment, the same numbers; plus a broken draft page
    (site / "2021.html").write_bytes(render(y2021, "html", set()).data)
    (site / "2021.docx").write_bytes(render(y2021, "docx", set()).data)
    broken = make_spec(1, template="2021", agency=AGENCY, year=2021, break_identity="T3-A")
    (site / "2021-draft.txt").write_bytes(render(broken, "txt", set()).data)
    (site / "2022.docx").write_bytes(render(y2022, "docx", set()).data)
    sources = root / "sources.yaml"
    sources.write_text(f"sources:\n  - {{name: site, region: {REGION}, path: docs}}\n", encoding="utf-8")
    launch(load_settings(sources, root / "data"))
    tables = {
        name: pd.read_parquet(root / "data" / "warehouse" / f"{name}.parquet")
        for name in ("reports", "applications", "proactive_disclosure", "validation_issues")
    }
    return tables


def test_one_canonical_report_per_region_agency_year(warehouse):
    tables = warehouse
    reports = tables["reports"].set_index("url")
    y2021 = reports.loc[["2021.html", "2021.docx", "2021-draft.txt"]]
    canonical = y2021[y2021.status == "ok"]
    assert len(canonical) == 1
    # the draft breaks T3-A, so a complete, clean document wins over it
    assert canonical.index.item() != "2021-draft.txt"
    dupes = y2021[y2021.status == "duplicate"]
    assert len(dupes) == 2 and set(dupes.duplicate_of) == {canonical.report_id.item()}
    apps = tables["applications"]
    assert set(apps.report_id) == {canonical.report_id.item(), reports.loc["2022.docx", "report_id"]}


def test_carry_over_mismatch_is_a_warning_on_the_later_report(warehouse):
    tables = warehouse
    issues = tables["validation_issues"]
    carry = issues[issues.check == "cross_year_carry_over"]
    apps = tables["applications"].set_index(["year", "row_code"])
    expected = [
        col
        for col in (
            "natural_person",
            "commercial_enterprise",
            "research_institution",
            "social_welfare_org",
            "legal_service_org",
            "other_org",
            "total",
        )
        if apps.loc[(2022, "carried_over"), col] != apps.loc[(2021, "carried_forward"), col]
    ]
    assert expected  # the two generated years do not carry over: the check has something to find
    assert sorted(carry.scope) == sorted(f"column {c}" for c in expected)
    assert set(carry.year) <= {2022} and set(carry.severity) <= {"warning"}


def test_in_force_continuity_is_checked_for_2021_tables(warehouse):
    tables = warehouse
    pro = tables["proactive_disclosure"].set_index(["year", "category_code", "metric_code"])["value"]
    issues = tables["validation_issues"]
    flagged = set(issues[issues.check == "cross_year_in_force"].scope)
    for category in ("regulations", "normative_documents"):
        expected = (
            pro[(2021, category, "in_force")]
            + pro[(2022, category, "issued")]
            - pro[(2022, category, "repealed")]
        )
        assert (f"category {category}" in flagged) == (expected != pro[(2022, category, "in_force")])
