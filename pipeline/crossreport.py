"""Checks and choices across reports: duplicates, and plausibility from one year to the next.

Duplicates — several documents reporting the same (region, agency, year): an HTML page and its
attachment, a corrected re-issue. One is canonical, by this rule, in order:
  1. complete tables first (more of 二, 三, 四 found, then fewer unreadable cells),
  2. then fewest failed identity checks,
  3. then the version read most directly: the page itself, .docx or text, before a PDF, before a
     converted .doc/.wps, before one read by OCR (`READER_PREFERENCE`),
  4. then the latest (fetched_at), then the smallest report_id so the choice is deterministic.
The others are marked duplicate, pointing at the canonical one; only canonical reports reach the
data tables.

Cross-year (warnings: plausibility, not identity): 二、上年结转 of year N should equal
四、结转下年度继续办理 of year N−1, and for 2021-format tables 现行有效件数(N) should equal
现行有效件数(N−1) + 本年制发件数(N) − 本年废止件数(N).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline import template as T
from pipeline.report import KIND_REPORT, Finding, ParsedReport

_IDENTITY_CODES = {i.code for i in T.IDENTITIES}


@dataclass(frozen=True, slots=True)
class Entry:
    """A parsed document with the identity it reports under."""

    report_id: str
    region: str | None
    agency: str | None
    year: int | None
    fetched_at: str | None
    report: ParsedReport

    @property
    def key(self) -> tuple[str, str, int] | None:
        if self.agency is None or self.year is None:
            return None
        return (self.region or "", self.agency, self.year)


#: Readers by how directly they read what was printed (lower first) when reports are otherwise equal.
READER_PREFERENCE = {"html": 0, "docx": 0, "txt": 0, "pdf": 1, "doc": 2, "ocr": 3}


def _quality(e: Entry) -> tuple[int, int, int, int]:
    """Lower is better: tables missing, unreadable cells, failed identities, reader."""
    unreadable = sum(1 for c in e.report.cells if c.unreadable)
    failed = sum(1 for f in e.report.findings if f.check in _IDENTITY_CODES)
    return (-len(e.report.tables_found), unreadable, failed, READER_PREFERENCE.get(e.report.reader or "", 1))


def _ranked(members: list[Entry]) -> list[Entry]:
    """Best first: by quality, then latest fetched, then smallest report_id (stable sorts, last key first)."""
    ranked = sorted(members, key=lambda e: e.report_id)
    ranked.sort(key=lambda e: e.fetched_at or "", reverse=True)
    ranked.sort(key=_quality)
    return ranked


def choose_canonical(entries: list[Entry]) -> dict[str, str]:
    """report_id → report_id of the canonical document, for every duplicate (canonical ones absent)."""
    groups: dict[tuple[str, str, int], list[Entry]] = {}
    for e in entries:
        if e.report.kind == KIND_REPORT and e.key is not None:
            groups.setdefault(e.key, []).append(e)
    duplicates: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        ranked = _ranked(members)
        for other in ranked[1:]:
            duplicates[other.report_id] = ranked[0].report_id
    return duplicates


def _values(report: ParsedReport, table: str) -> dict[tuple[str, str], float]:
    return {
        (c.row_code, c.column_code): c.value
        for c in report.cells_of(table)
        if c.value is not None and not c.unreadable
    }


def cross_year_findings(canonical: list[Entry]) -> list[tuple[str, Finding]]:
    """(report_id of year N, finding) for each implausible change from year N−1 to year N."""
    by_key = {e.key: e for e in canonical if e.key is not None}
    out: list[tuple[str, Finding]] = []
    for key, current in sorted(by_key.items()):
        previous = by_key.get((key[0], key[1], key[2] - 1))
        if previous is None:
            continue
        out.extend((current.report_id, f) for f in _carry_over(current, previous))
        out.extend((current.report_id, f) for f in _in_force(current, previous))
    return out


def _carry_over(current: Entry, previous: Entry) -> list[Finding]:
    now, before = _values(current.report, "applications"), _values(previous.report, "applications")
    findings = []
    for col in (c.code for c in T.APPLICATION_COLUMNS):
        actual, expected = now.get(("carried_over", col)), before.get(("carried_forward", col))
        if actual is None or expected is None or actual == expected:
            continue
        findings.append(
            Finding(
                "cross_year_carry_over",
                f"column {col}",
                expected,
                actual,
                "warning",
                f"table 三 二、上年结转 ({col}) of {current.year} is {actual:g}, but {previous.year}'s "
                f"四、结转下年度继续办理 was {expected:g} (report {previous.report_id})",
            )
        )
    return findings


def _in_force(current: Entry, previous: Entry) -> list[Finding]:
    if current.report.table_versions.get("proactive_disclosure") != T.V2021:
        return []
    now, before = (
        _values(current.report, "proactive_disclosure"),
        _values(previous.report, "proactive_disclosure"),
    )
    findings = []
    for category in ("regulations", "normative_documents"):
        terms = (
            before.get((category, "in_force")),
            now.get((category, "issued")),
            now.get((category, "repealed")),
        )
        actual = now.get((category, "in_force"))
        if actual is None or any(t is None for t in terms):
            continue
        expected = terms[0] + terms[1] - terms[2]
        if abs(expected - actual) > 1e-6:
            findings.append(
                Finding(
                    "cross_year_in_force",
                    f"category {category}",
                    expected,
                    actual,
                    "warning",
                    f"table 二 现行有效件数 ({category}) of {current.year} is {actual:g}; {previous.year}'s "
                    f"{terms[0]:g} + issued {terms[1]:g} − repealed {terms[2]:g} = {expected:g}",
                )
            )
    return findings
