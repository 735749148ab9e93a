"""Identity checks (勾稽关系) of one report, driven by `template.IDENTITIES`.

A failed identity is a finding — recorded, never repaired. A check is evaluated only when its
total and at least one part were printed and no term is unreadable: blank parts count as 0 (how
agencies print zero), but a blank total or an unreadable term leaves nothing certain to compare.
"""

from __future__ import annotations

from pipeline import template as T
from pipeline.report import Cell, Finding, ParsedReport

_EPS = 1e-6


def _terms(identity_side, present: set[str]) -> list[str]:
    """Expand `any_of` alternatives to the codes the report actually prints."""
    codes: list[str] = []
    for term in identity_side:
        if isinstance(term, tuple):
            for alternative in term:
                if any(code in present for code in alternative):
                    codes.extend(alternative)
                    break
        else:
            codes.append(term)
    return codes


def _sum(cells: list[Cell | None]) -> float | None:
    """Sum of printed values; None when a term is unreadable or no term was printed."""
    if any(c is not None and c.unreadable for c in cells):
        return None
    values = [c.value for c in cells if c is not None and c.value is not None]
    if not values:
        return None
    return float(sum(values))


def _check(
    identity: T.Identity, scope: str, lhs: list[Cell | None], rhs: list[Cell | None]
) -> Finding | None:
    left, right = _sum(lhs), _sum(rhs)
    if left is None or right is None or abs(left - right) <= _EPS:
        return None
    table = {"applications": "table 三", "review_litigation": "table 四"}[identity.table]
    message = f"{identity.code} fails in {table}, {scope}: printed {left:g}, parts sum to {right:g} ({identity.description})"
    ocr = sorted((c for c in lhs + rhs if c is not None and c.confidence is not None), key=_by_confidence)
    if not ocr:
        return Finding(identity.code, scope, right, left, identity.severity, message)
    # Read by OCR: a misread is as likely as a misprint, so it is an error, naming the least sure cells.
    shown = ", ".join(
        f"{c.row_code}/{c.column_code} {c.raw_text!r} (confidence {c.confidence:.2f})"
        for c in ocr[:OCR_NAMED]
    )
    return Finding(identity.code, scope, right, left, "error", f"{message}; read by OCR, least sure: {shown}")


OCR_NAMED = 3  # cells an OCR'd identity failure names, least confident first


def _by_confidence(cell: Cell) -> float:
    return cell.confidence if cell.confidence is not None else 1.0


def check_identities(report: ParsedReport) -> list[Finding]:
    findings: list[Finding] = []
    for identity in T.IDENTITIES:
        index = {(c.row_code, c.column_code): c for c in report.cells_of(identity.table)}
        rows = sorted({r for r, _ in index}, key=lambda r: r)
        cols = sorted({c for _, c in index})
        present_rows = set(rows)
        if identity.axis == "column":
            lhs_codes = _terms(identity.lhs, present_rows)
            rhs_codes = _terms(identity.rhs, present_rows)
            if not any(code in present_rows for code in lhs_codes):
                continue
            for col in _ordered(cols, identity.table):
                finding = _check(
                    identity,
                    f"column {col}",
                    [index.get((r, col)) for r in lhs_codes],
                    [index.get((r, col)) for r in rhs_codes],
                )
                if finding:
                    findings.append(finding)
        else:
            for row in _ordered(rows, identity.table, rows=True):
                if (row, identity.lhs[0]) not in index:
                    continue
                scope = f"proceeding {row}" if identity.table == "review_litigation" else f"row {row}"
                finding = _check(
                    identity,
                    scope,
                    [index.get((row, c)) for c in identity.lhs],
                    [index.get((row, c)) for c in identity.rhs],
                )
                if finding:
                    findings.append(finding)
    return findings


def _ordered(codes: list[str], table: str, rows: bool = False) -> list[str]:
    """Codes in template order (findings read in the order of the printed table)."""
    if table == "applications":
        order = [r.code for r in T.APPLICATION_ROWS] if rows else [c.code for c in T.APPLICATION_COLUMNS]
    else:
        order = [p.code for p in T.REVIEW_PROCEEDINGS] if rows else [o.code for o in T.REVIEW_OUTCOMES]
    known = [c for c in order if c in codes]
    return known + [c for c in codes if c not in order and (not rows or table != "applications")]
