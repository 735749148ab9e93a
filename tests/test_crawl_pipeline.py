"""Crawled reports flow through parse → tables exactly like local files; a re-crawl changes nothing.

A real HTTP server on 127.0.0.1 serves the Pingtan mirror (data/mirror/pingtan: the real listing page
and four report pages), another the generated portal (tests/portal.py: one report behind each pattern
that hides reports, and a JSON listing); `python -m pipeline run` crawls both as web sources.
"""

from pathlib import Path

import pandas as pd
import pytest

from tests import portal as p
from tests.cli import run_pipeline
from tests.mock_site import MockSite, Page
from tests.truth import APP_COLS, OUTCOMES, load_truth

ROOT = Path(__file__).resolve().parents[1]
MIRROR = ROOT / "data" / "mirror" / "pingtan"
TRUTH = {2019: "pingtan_2019", 2021: "pingtan_2021", 2023: "pingtan_2023", 2025: "pingtan_2025"}


def _files(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """Serve the mirror over HTTP, crawl it twice; yield (data dir, files after run 1, after run 2)."""
    with MockSite() as site, MockSite() as portal_site:
        portal = p.build_portal(portal_site, len(p.PATTERNS))
        portal_site.pages = dict(portal.pages)
        for path in MIRROR.rglob("*.htm*"):
            site.pages["/" + path.relative_to(MIRROR).as_posix()] = Page(body=path.read_bytes())
        site.pages["/robots.txt"] = Page(body=b"User-agent: *\nAllow: /\n", content_type="text/plain")
        work = tmp_path_factory.mktemp("crawl")
        sources = work / "sources.yaml"
        sources.write_text(
            "sources:\n  - name: pingtan\n    region: 福建省平潭综合实验区\n"
            f"    start_urls: [{site.url('/index.html')}]\n    delay_seconds: 0\n"
            + p.sources_yaml(portal_site),
            encoding="utf-8",
        )
        data = work / "data"
        run_pipeline(sources, data)
        first_raw, first_cache = _files(data / "raw" / "objects"), _files(data / "cache" / "parsed")
        tables_1 = {
            t: pd.read_parquet(data / "warehouse" / f"{t}.parquet") for t in ("applications", "reports")
        }
        requests_before, portal_sent = len(site.requests), len(portal_site.sent)
        portal_site.pages.update(p.listing_pages(portal, order_seed=1))  # reports move between pages
        run_pipeline(sources, data)
        second = {
            "raw": _files(data / "raw" / "objects"),
            "cache": _files(data / "cache" / "parsed"),
            "conditional": [r for r in site.requests[requests_before:] if "if-none-match" in r.headers],
            "portal_sent": portal_site.sent[portal_sent:],
        }
        yield data, (first_raw, first_cache, tables_1), second, (portal_site, portal)


def test_crawled_reports_match_truth(crawled):
    data, _, _, _ = crawled
    reports = pd.read_parquet(data / "warehouse" / "reports.parquet")
    reports = reports[reports.source == "pingtan"]
    ok = reports[reports.status == "ok"]
    assert sorted(ok.year) == sorted(TRUTH)
    assert set(reports[reports.status == "failed"].error.str.contains("404")) == {True}
    apps = pd.read_parquet(data / "warehouse" / "applications.parquet")
    review = pd.read_parquet(data / "warehouse" / "review_litigation.parquet")
    for year, name in TRUTH.items():
        truth = load_truth(name)
        rid = ok[ok.year == year].report_id.item()
        got = apps[apps.report_id == rid].set_index("row_code")[APP_COLS]
        assert {k: [None if pd.isna(v) else int(v) for v in row] for k, row in got.iterrows()} == truth[
            "applications"
        ]
        got4 = review[review.report_id == rid].set_index("proceeding")[OUTCOMES]
        assert {k: [int(v) for v in row] for k, row in got4.iterrows()} == truth["review_litigation"]
        assert ok[ok.year == year].url.item().startswith("http://127.0.0.1:")


def test_recrawl_stores_nothing_new_and_parses_nothing(crawled):
    data, (first_raw, first_cache, tables_1), second, _ = crawled
    assert second["raw"] == first_raw  # no object written again
    assert second["cache"] == first_cache  # no document parsed again
    assert len(second["conditional"]) >= 4  # the report pages were asked for with their ETag
    for table, before in tables_1.items():
        after = pd.read_parquet(data / "warehouse" / f"{table}.parquet")
        if table == "reports":  # a failed fetch is retried each run: its fetched_at is the last attempt
            assert (after[after.fetched_at != before.fetched_at].status == "failed").all()
            before, after = before.drop(columns="fetched_at"), after.drop(columns="fetched_at")
        pd.testing.assert_frame_equal(before, after)


def test_portal_reports_are_all_found_and_read_exactly(crawled):
    """Every report document behind every pattern is one row; every cell as the truth has it
    (PDFs: found and stored; reading them is the PDF reader's business)."""
    data, _, _, (site, portal) = crawled
    reports = pd.read_parquet(data / "warehouse" / "reports.parquet")
    reports = reports[reports.source == "portal"].set_index("url")
    assert sorted(reports.index) == sorted(site.url(d.path) for d in portal.docs)
    apps = pd.read_parquet(data / "warehouse" / "applications.parquet")
    review = pd.read_parquet(data / "warehouse" / "review_litigation.parquet")
    proactive = pd.read_parquet(data / "warehouse" / "proactive_disclosure.parquet")
    for doc in portal.docs:
        row = reports.loc[site.url(doc.path)]
        assert row.format == doc.fmt, doc.pattern
        if doc.truth is None:
            continue
        truth = doc.truth
        assert (row.status, row.agency, row.year, row.title) == (
            "ok",
            truth["agency"],
            truth["year"],
            truth["title"],
        )
        got = apps[apps.report_id == row.report_id].set_index("row_code")[APP_COLS]
        assert {k: [None if pd.isna(v) else int(v) for v in r] for k, r in got.iterrows()} == truth[
            "applications"
        ], doc.pattern
        got4 = review[review.report_id == row.report_id].set_index("proceeding")[OUTCOMES]
        assert {k: [int(v) for v in r] for k, r in got4.iterrows()} == truth["review_litigation"], doc.pattern
        got2 = proactive[proactive.report_id == row.report_id]
        assert sorted(
            (
                r.article_item,
                r.category_code or r.category_label,
                r.metric_code,
                None if pd.isna(r.value) else r.value,
            )
            for r in got2.itertuples()
        ) == sorted(
            (x["article_item"], x["category_code"] or x["category_label"], x["metric_code"], x["value"])
            for x in truth["proactive"]
        ), doc.pattern


def test_portal_recrawl_downloads_no_report_again(crawled):
    _, _, second, (_site, portal) = crawled
    documents = {d.path for d in portal.docs}
    answered = [(s.path, s.status) for s in second["portal_sent"] if s.path in documents]
    assert sorted(path for path, _ in answered) == sorted(documents)
    assert {status for _, status in answered} == {304}
