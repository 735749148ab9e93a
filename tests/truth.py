"""Compare a ParsedReport with a truth JSON (format: ../shared/corpus/README.md, copied in fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import template as T
from pipeline.report import ParsedReport

FIXTURES = Path(__file__).parent / "fixtures"
APP_COLS = [c.code for c in T.APPLICATION_COLUMNS]
OUTCOMES = [o.code for o in T.REVIEW_OUTCOMES]


def load_truth(name: str) -> dict:
    return json.loads((FIXTURES / "truth" / f"{name}.json").read_text(encoding="utf-8"))


def _num(x):
    return None if x is None else float(x)


def applications_of(report: ParsedReport) -> dict[str, list]:
    out: dict[str, list] = {}
    for c in report.cells_of("applications"):
        if c.column_code in APP_COLS:
            out.setdefault(c.row_code, [None] * 7)[APP_COLS.index(c.column_code)] = c.value
    return out


def review_of(report: ParsedReport) -> dict[str, list]:
    out: dict[str, list] = {}
    for c in report.cells_of("review_litigation"):
        out.setdefault(c.row_code, [None] * 5)[OUTCOMES.index(c.column_code)] = c.value
    return out


def proactive_of(report: ParsedReport) -> list[tuple]:
    return sorted(
        (
            (
                c.article_item,
                c.category_code or "",
                c.column_code,
                c.value,
                "" if c.category_code else c.row_label,
            )
            for c in report.cells_of("proactive_disclosure")
        ),
        key=repr,
    )


def truth_proactive(truth: dict) -> list[tuple]:
    return sorted(
        (
            (
                p["article_item"],
                p["category_code"] or "",
                p["metric_code"],
                _num(p["value"]),
                "" if p["category_code"] else p["category_label"],
            )
            for p in truth["proactive"]
        ),
        key=repr,
    )


def assert_matches_truth(report: ParsedReport, truth: dict) -> None:
    """Every metadata field and every cell of the truth, exactly; nothing extra."""
    for key in ("title", "agency", "year", "template"):
        assert getattr(report, key) == truth[key], f"{key}: {getattr(report, key)!r} != {truth[key]!r}"
    assert applications_of(report) == {k: [_num(x) for x in v] for k, v in truth["applications"].items()}
    assert review_of(report) == {k: [_num(x) for x in v] for k, v in truth["review_litigation"].items()}
    assert proactive_of(report) == truth_proactive(truth)
    failed = sorted({f.check for f in report.findings if f.check in {i.code for i in T.IDENTITIES}})
    assert failed == sorted(truth.get("failed_checks", []))
