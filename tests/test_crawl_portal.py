"""The crawler against a generated portal with every way real portals hide reports (tests/portal.py).

Two crawls with real sleeping (the portal's robots.txt asks for a Crawl-delay): between them the CMS
reorders its listing, so reports move between listing pages. Asserted on the wire (the server's log)
and in the manifest: every report document found exactly once with its exact bytes, nothing
forbidden or foreign requested, and the second crawl downloads no report document again.
"""

from __future__ import annotations

from itertools import pairwise
from types import SimpleNamespace

import httpx
import pytest

from pipeline.config import ListingApi, Source
from pipeline.sources.web import crawl
from pipeline.store import Manifest, RawStore
from tests import portal as p
from tests.mock_site import MockSite

N = 2 * len(p.PATTERNS)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("portal")
    store, manifest = RawStore(root / "raw"), Manifest(root / "manifest.json")
    runs = []
    with MockSite() as site, httpx.Client(timeout=2.0, trust_env=False) as client:
        portal = p.build_portal(site, N)
        site.pages = dict(portal.pages)
        source = Source(
            name="portal",
            start_urls=(site.url(p.LISTING),),
            allowed_domains=("127.0.0.1",),
            delay_seconds=0,
            listing_api=ListingApi(
                url=site.url(p.API), items="data.list", title="title", link="url", date="pubDate"
            ),
        )
        for n in range(2):
            if n == 1:
                site.pages.update(p.listing_pages(portal, order_seed=1))
            requests, sent = len(site.requests), len(site.sent)
            counts = crawl(source, store, manifest, client=client)
            runs.append(
                SimpleNamespace(counts=counts, requests=site.requests[requests:], sent=site.sent[sent:])
            )
    return SimpleNamespace(site=site, portal=portal, store=store, manifest=manifest, runs=runs)


def _url(c: SimpleNamespace, path: str) -> str:
    return c.site.url(path)


def test_every_report_document_is_found_once_with_its_bytes(crawled):
    entries = {d.locator: d for d in crawled.manifest.documents()}
    want = {_url(crawled, d.path): d for d in crawled.portal.docs}
    assert len(want) == N and set(entries) == set(want)  # every one, and nothing else
    for url, doc in want.items():
        entry = entries[url]
        assert (entry.status, entry.format) == ("ok", doc.fmt), doc.pattern
        assert crawled.store.get(entry.sha256) == doc.body, doc.pattern


def test_documents_carry_the_full_title(crawled):
    """Cut titles (..., …), titles only in a sibling span, titles from JSON: the hint is the full one."""
    entries = {e.locator: e for e in crawled.manifest.documents()}
    for doc in crawled.portal.docs:
        assert entries[_url(crawled, doc.path)].title_hint == doc.title, doc.pattern


def test_download_names_are_decoded_from_content_disposition(crawled):
    entries = {e.locator: e for e in crawled.manifest.documents()}
    ext = {"cd_rfc5987": "docx", "cd_gbk": "docx", "cd_percent": "txt", "magic": None, "content_type": None}
    for doc in crawled.portal.docs:
        if doc.pattern in ext:
            name = entries[_url(crawled, doc.path)].extra.get("filename")
            assert name == (f"{doc.title}.{ext[doc.pattern]}" if ext[doc.pattern] else None), doc.pattern


def test_nothing_forbidden_or_foreign_is_requested(crawled):
    paths = [r.path for r in crawled.site.requests]
    assert not set(paths) & set(crawled.portal.forbidden)
    assert all(r.headers["host"].startswith("127.0.0.1:") for r in crawled.site.requests)
    assert not [x for x in paths if "viewer.html" in x]  # viewers are unwrapped, never fetched
    assert "/xxgk/download/" not in paths  # a 下载中心 navigation link is no attachment
    for run in crawled.runs:
        assert [r.path for r in run.requests].count("/robots.txt") == 1


def test_crawl_delay_is_honoured_between_all_requests(crawled):
    for run in crawled.runs:
        gaps = [b.at - a.at for a, b in pairwise(run.requests[1:])]  # after robots.txt
        assert len(gaps) > N and min(gaps) >= p.CRAWL_DELAY * 0.95


def test_json_listing_is_read_until_an_empty_page(crawled):
    api = [r.path for r in crawled.runs[0].requests if r.path.startswith("/api/")]
    assert api == [p.API.format(page=k) for k in range(1, p.API_PAGES + 2)]
    dated = [e for e in crawled.manifest.documents() if "listing_date" in e.extra]
    assert len(dated) == len(crawled.portal.api_docs)


def test_reordered_listing_still_finds_every_report_and_downloads_none_again(crawled):
    first, second = crawled.runs
    before, after = p.listing_pages(crawled.portal, 0), p.listing_pages(crawled.portal, 1)
    assert before.keys() == after.keys() and before != after  # reports moved between pages
    assert second.counts["discovered"] == first.counts["discovered"]
    assert (second.counts["fetched"], second.counts["stored_new"], second.counts["failed"]) == (0, 0, 0)
    assert second.counts["not_modified"] == N
    documents = {d.path for d in crawled.portal.docs}
    full = [s.path for s in second.sent if s.path in documents and s.status == 200]
    assert full == []  # each report document answered 304
    assert sorted(s.path for s in second.sent if s.path in documents) == sorted(documents)


def test_portal_builder_covers_every_pattern(crawled):
    assert {d.pattern for d in crawled.portal.docs} == set(p.PATTERNS)
