"""Crawl coverage on a generated portal: every pattern that hides reports, measured end to end.

    python -m benchmarks.crawl_portal [--n 162] [--workdir DIR]

Serves tests/portal.py's portal (n report documents, each behind one pattern in turn: cut titles,
titles in a sibling span, download endpoints typed by Content-Disposition / Content-Type / bytes,
pdf.js viewers, frames, onclick and javascript: links, a 3-page JSON listing; robots.txt with a
Crawl-delay, `*` and `$` rules; links to a foreign host) on 127.0.0.1, runs `python -m pipeline run`
on it, reorders the listing (reports move between pages), runs again, and reports:
- documents found: report documents in `reports.parquet` / report documents on the portal;
- cells exact: documents whose title, agency, year and every cell of the three tables equal the
  truth (PDF documents are counted as found only; reading them is the PDF reader's business);
- requests to paths robots.txt disallows, and to hosts outside allowed_domains;
- the re-crawl: report documents answered in full (200) rather than 304.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from tests import portal as p
from tests.mock_site import MockSite
from tests.truth import APP_COLS, OUTCOMES

ROOT = Path(__file__).resolve().parent.parent


def _run(sources: Path, data: Path) -> float:
    started = time.monotonic()
    cmd = [sys.executable, "-m", "pipeline", "run", "--sources", str(sources), "--data-dir", str(data)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout + proc.stderr)
    return time.monotonic() - started


def _exact(doc: p.PortalDoc, row: pd.Series, tables: dict[str, pd.DataFrame]) -> bool:
    truth = doc.truth or {}
    if (row.status, row.agency, row.year, row.title) != (
        "ok",
        truth["agency"],
        truth["year"],
        truth["title"],
    ):
        return False
    apps = tables["applications"][tables["applications"].report_id == row.report_id].set_index("row_code")
    got = {k: [None if pd.isna(v) else int(v) for v in r] for k, r in apps[APP_COLS].iterrows()}
    review = tables["review_litigation"][tables["review_litigation"].report_id == row.report_id]
    got4 = {k: [int(v) for v in r] for k, r in review.set_index("proceeding")[OUTCOMES].iterrows()}
    pro = tables["proactive_disclosure"][tables["proactive_disclosure"].report_id == row.report_id]
    got2 = sorted(
        (
            r.article_item,
            r.category_code or r.category_label,
            r.metric_code,
            None if pd.isna(r.value) else r.value,
        )
        for r in pro.itertuples()
    )
    want2 = sorted(
        (x["article_item"], x["category_code"] or x["category_label"], x["metric_code"], x["value"])
        for x in truth["proactive"]
    )
    return got == truth["applications"] and got4 == truth["review_litigation"] and got2 == want2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=9 * len(p.PATTERNS))
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="xxgk-crawl-"))
    work.mkdir(parents=True, exist_ok=True)
    with MockSite() as site:
        portal = p.build_portal(site, args.n)
        site.pages = dict(portal.pages)
        sources = work / "sources.yaml"
        sources.write_text("sources:\n" + p.sources_yaml(site), encoding="utf-8")
        data = work / "data"
        first = _run(sources, data)
        first_requests = list(site.requests)
        sent_before = len(site.sent)
        site.pages.update(p.listing_pages(portal, order_seed=1))
        second = _run(sources, data)
        again = [s for s in site.sent[sent_before:] if s.path in {d.path for d in portal.docs}]
    tables = {
        t: pd.read_parquet(data / "warehouse" / f"{t}.parquet")
        for t in ("reports", "applications", "review_litigation", "proactive_disclosure")
    }
    reports = tables["reports"].set_index("url")
    docs = portal.docs
    found = [d for d in docs if site.url(d.path) in reports.index]
    readable = [d for d in docs if d.truth is not None]
    exact = [
        d
        for d in readable
        if site.url(d.path) in reports.index and _exact(d, reports.loc[site.url(d.path)], tables)
    ]
    forbidden = [r for r in site.requests if r.path in portal.forbidden]
    foreign = [r for r in site.requests if not r.headers.get("host", "").startswith("127.0.0.1:")]
    full_again = [s for s in again if s.status == 200]
    print(
        f"| portal | {len(docs)} report documents ({len(readable)} html/docx/txt, {len(docs) - len(readable)} pdf), "
        f"{len(p.PATTERNS)} patterns, {len(first_requests)} requests in the first crawl |"
    )
    print("|---|---|")
    print(f"| documents found | {len(found)} / {len(docs)} ({100 * len(found) / len(docs):.1f} %) |")
    print(f"| rows in reports.parquet | {len(reports)} |")
    print(
        f"| cells exact | {len(exact)} / {len(readable)} documents ({100 * len(exact) / len(readable):.1f} %) |"
    )
    print(f"| requests to robots-disallowed paths | {len(forbidden)} |")
    print(f"| requests to foreign hosts | {len(foreign)} |")
    print(
        f"| re-crawl after a reorder: report documents downloaded in full again | {len(full_again)} / {len(again)} |"
    )
    print(f"| wall time: first run, re-crawl | {first:.1f} s, {second:.1f} s |")
    missing = sorted(
        {d.pattern for d in docs if d not in found} | {d.pattern for d in readable if d not in exact}
    )
    if missing:
        print(f"patterns with misses: {missing}")


if __name__ == "__main__":
    main()
