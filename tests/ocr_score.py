"""How an OCR'd report compares with its truth: cells right, unreadable, missing and wrong, and wrong
values that no error on the report flags (the number that must stay 0)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline import template as T
from pipeline.report import ParsedReport

APP_COLS = [c.code for c in T.APPLICATION_COLUMNS]
OUTCOMES = [o.code for o in T.REVIEW_OUTCOMES]


@dataclass(slots=True)
class Score:
    right: int = 0
    unreadable: int = 0
    missing: int = 0  # a truth cell the report has no cell for (its row or table is reported missing)
    unexplained: list[tuple] = field(default_factory=list)  # missing, and no finding names its row/table
    wrong: list[tuple] = field(default_factory=list)
    unflagged: list[tuple] = field(default_factory=list)  # wrong, in a report without an error

    @property
    def cells(self) -> int:
        return self.right + self.unreadable + self.missing + len(self.wrong)

    def add(self, other: Score) -> None:
        self.right += other.right
        self.unreadable += other.unreadable
        self.missing += other.missing
        self.wrong += other.wrong
        self.unflagged += other.unflagged
        self.unexplained += other.unexplained


def _truth_cells(truth: dict) -> dict[tuple, float | None]:
    out: dict[tuple, float | None] = {}
    for code, values in truth["applications"].items():
        for col, v in zip(APP_COLS, values, strict=True):
            out[("applications", code, col)] = None if v is None else float(v)
    for code, values in truth["review_litigation"].items():
        for col, v in zip(OUTCOMES, values, strict=True):
            out[("review_litigation", code, col)] = None if v is None else float(v)
    for p in truth["proactive"]:
        key = (
            "proactive_disclosure",
            p["article_item"],
            p["category_code"] or p["category_label"],
            p["metric_code"],
        )
        out[key] = None if p["value"] is None else float(p["value"])
    return out


def _report_cells(report: ParsedReport) -> dict[tuple, tuple[float | None, str | None]]:
    out: dict[tuple, tuple[float | None, str | None]] = {}
    for c in report.cells:
        if c.table == "proactive_disclosure":
            key = (c.table, c.article_item, c.category_code or c.row_label, c.column_code)
        else:
            key = (c.table, c.row_code, c.column_code)
        out.setdefault(key, (c.value, c.unreadable))
    return out


def score(report: ParsedReport, truth: dict) -> Score:
    """Every truth cell: right, unreadable, missing, or wrong (and whether an error flags it)."""
    s = Score()
    got = _report_cells(report)
    flagged = any(f.severity == "error" for f in report.findings)
    named = {(f.check, f.scope) for f in report.findings}
    for key, expected in _truth_cells(truth).items():
        if key not in got:
            s.missing += 1
            row = key[2] if key[0] == "proactive_disclosure" else key[1]
            if ("missing_table", key[0]) not in named and ("missing_row", row) not in named:
                s.unexplained.append(key)
            continue
        value, unreadable = got[key]
        if unreadable:
            s.unreadable += 1
        elif value == expected:
            s.right += 1
        else:
            s.wrong.append((*key, expected, value))
            if not flagged:
                s.unflagged.append((*key, expected, value))
    return s
