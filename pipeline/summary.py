"""`<data-dir>/summary.html`: what the tables say, on one self-contained page, and the same as Markdown.

Read from the written tables (reports, validation_issues, indicators), so the page never disagrees with
them. Charts are inline SVG (pipeline.svg): the file opens from the file system, offline, with no
script. Four views: reports per source and year; coverage (documents by status, per source and format);
findings per check; applications received and grant rate per agency over the years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

import pandas as pd

from pipeline import fs, svg
from pipeline.fs import DataPath

STATUSES = ("ok", "failed", "duplicate", "not_a_report", "legacy")
STATUS_COLORS = {
    "ok": "#59a14f",
    "failed": "#e15759",
    "duplicate": "#bab0ac",
    "not_a_report": "#76b7b2",
    "legacy": "#edc948",
}
TOP_AGENCIES = 8  # lines per indicator chart: the agencies with the most applications received


@dataclass(slots=True)
class Summary:
    reports: pd.DataFrame  # source, year, documents
    coverage: pd.DataFrame  # source, format, found, and one column per status
    findings: pd.DataFrame  # check, severity, findings, reports
    agencies: pd.DataFrame  # agency, year, applications_received, grant_rate
    agencies_total: int  # agencies with indicators (the charts show the TOP_AGENCIES largest)


def summary_path(data_dir: DataPath) -> DataPath:
    return data_dir / "summary.html"


def summarize(warehouse: DataPath) -> Summary:
    """The four views, from the warehouse tables."""
    reports = fs.read_parquet(warehouse / "reports.parquet", columns=["source", "year", "format", "status"])
    issues = fs.read_parquet(
        warehouse / "validation_issues.parquet", columns=["report_id", "check", "severity"]
    )
    indicators = fs.read_parquet(
        warehouse / "indicators.parquet",
        columns=["region", "agency", "year", "applications_received", "grant_rate"],
    )
    ok = reports[reports["status"] == "ok"]
    per_year = (
        ok.assign(year=ok["year"].astype("string").fillna("unknown"))
        .groupby(["source", "year"], dropna=False)
        .size()
        .rename("reports")
        .reset_index()
    )
    fmt = reports.assign(format=reports["format"].fillna("unknown"))
    coverage = pd.crosstab([fmt["source"], fmt["format"]], fmt["status"]).reindex(
        columns=list(STATUSES), fill_value=0
    )
    coverage.insert(0, "found", coverage.sum(axis=1))
    coverage = coverage.reset_index()
    findings = (
        issues.groupby(["check", "severity"], dropna=False)
        .agg(findings=("check", "size"), reports=("report_id", "nunique"))
        .reset_index()
        .sort_values(["findings", "check"], ascending=[False, True], kind="stable")
    )
    ind = indicators.copy()
    clash = ind.groupby("agency")["region"].nunique()
    shared = set(clash[clash > 1].index)
    ind["agency"] = [
        f"{r} {a}" if a in shared else a
        for r, a in zip(ind["region"].fillna(""), ind["agency"].fillna("(unknown agency)"), strict=True)
    ]
    ind = ind.dropna(subset=["year"])
    return Summary(
        reports=per_year,
        coverage=coverage,
        findings=findings,
        agencies=ind[["agency", "year", "applications_received", "grant_rate"]],
        agencies_total=int(ind["agency"].nunique()),
    )


def _top(agencies: pd.DataFrame) -> list[str]:
    totals = agencies.groupby("agency")["applications_received"].sum(min_count=1).fillna(-1)
    return list(totals.sort_values(ascending=False, kind="stable").index[:TOP_AGENCIES])


def charts(s: Summary) -> list[tuple[str, str]]:
    """(heading, SVG) of each chart."""
    sources = sorted(s.reports["source"].unique())
    by_year = [
        (str(year), dict(zip(group["source"], group["reports"], strict=True)))
        for year, group in s.reports.groupby("year", sort=True)
    ]
    coverage_rows = [
        (f"{row.source} · {row.format}", {st: int(getattr(row, st)) for st in STATUSES})
        for row in s.coverage.itertuples(index=False)
    ]
    findings_rows = [
        (str(row.check), {str(row.severity): int(row.findings)}) for row in s.findings.itertuples(index=False)
    ]
    severities = [x for x in ("error", "warning", "info") if x in set(s.findings["severity"])]
    top = _top(s.agencies)
    chosen = s.agencies[s.agencies["agency"].isin(top)]

    def series(column: str) -> dict[str, list[tuple[int, float]]]:
        out: dict[str, list[tuple[int, float]]] = {}
        for agency in top:
            rows = chosen[(chosen["agency"] == agency) & chosen[column].notna()]
            out[agency] = [(int(y), float(v)) for y, v in zip(rows["year"], rows[column], strict=True)]
        return out

    note = f" (the {len(top)} of {s.agencies_total} agencies with the most applications)"
    return [
        (
            "Reports per year and source",
            svg.stacked_bars(by_year, sources, title="Canonical reports (status ok) per year, by source"),
        ),
        (
            "Coverage",
            svg.stacked_bars(
                coverage_rows,
                STATUSES,
                colors=STATUS_COLORS,
                title="Documents found per source and format, by status",
            ),
        ),
        (
            "Findings per check",
            svg.stacked_bars(
                findings_rows,
                severities,
                colors={"error": "#e15759", "warning": "#f28e2b", "info": "#4e79a7"},
                title="validation_issues rows per check, by severity",
            ),
        ),
        (
            "Applications received",
            svg.lines(
                series("applications_received"),
                title="Applications received (new + carried over)" + note,
                y_label="applications",
            ),
        ),
        (
            "Grant rate",
            svg.lines(
                series("grant_rate"),
                title="Grant rate ((granted + partially granted) / processed)" + note,
                y_label="grant rate",
                percent=True,
            ),
        ),
    ]


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if pd.isna(v) else str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(s: Summary, generated_at: datetime | None = None) -> str:
    when = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8"><title>xxgk summary</title>',
        "<style>body{font-family:'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei',sans-serif;margin:24px;"
        "color:#222;background:#fff;max-width:820px}h1{font-size:22px}h2{font-size:17px;margin-top:32px}"
        "table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #ccc;padding:2px 6px;"
        "text-align:left}th{background:#f3f3f3}</style></head><body>",
        "<h1>Government information-disclosure annual reports: summary</h1>",
        f"<p>Written with the tables in <code>warehouse/</code> on {escape(when)}. "
        f"{int(s.coverage['found'].sum())} documents found, {int(s.coverage['ok'].sum())} canonical reports, "
        f"{int(s.findings['findings'].sum())} validation findings.</p>",
    ]
    tables = {
        "Reports per year and source": s.reports,
        "Coverage": s.coverage,
        "Findings per check": s.findings,
    }
    for heading, chart in charts(s):
        parts.append(f"<h2>{escape(heading)}</h2>")
        parts.append(chart)
        if heading in tables:
            parts.append(_html_table(tables[heading]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def markdown(s: Summary) -> str:
    """The same content as Markdown (Dagster metadata): the coverage and findings tables, and the
    largest agencies' latest indicators."""
    top = _top(s.agencies)
    latest = (
        s.agencies[s.agencies["agency"].isin(top)]
        .sort_values(["agency", "year"])
        .assign(grant_rate=lambda d: d["grant_rate"].map(lambda v: "" if pd.isna(v) else f"{v:.1%}"))
    )
    return "\n\n".join(
        [
            "**Coverage** (documents per source and format, by status)",
            s.coverage.to_markdown(index=False),
            "**Findings per check**",
            s.findings.to_markdown(index=False) if not s.findings.empty else "none",
            f"**Applications received and grant rate** ({len(top)} of {s.agencies_total} agencies)",
            latest.to_markdown(index=False) if not latest.empty else "none",
        ]
    )


def write_summary(data_dir: DataPath, warehouse: DataPath) -> tuple[DataPath, Summary]:
    """Write `<data-dir>/summary.html` atomically; return its path and the summary."""
    s = summarize(warehouse)
    path = summary_path(data_dir)
    html = render_html(s).encode("utf-8")
    fs.write_bytes(path, html)
    return path, s
