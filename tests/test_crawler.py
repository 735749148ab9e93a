"""The web crawler against a mock government site on 127.0.0.1 (tests/mock_site.py).

Every behaviour is asserted on the wire (the server's request log) and in the manifest. Sleeping is
injected, timeouts are small: the whole module runs in a few seconds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import httpx
import pytest

from pipeline.config import ConfigError, ListingApi, Source, load_sources
from pipeline.sources import disposition
from pipeline.sources.http import USER_AGENT, Fetcher, retry_after
from pipeline.sources.links import (
    Link,
    is_attachment,
    is_pagination,
    is_report,
    page_links,
    parse_html,
    script_pages,
)
from pipeline.sources.listing_api import ListingApiError, api_items
from pipeline.sources.robots import Robots
from pipeline.sources.web import crawl
from pipeline.store import Manifest, RawDocument, RawStore, report_id_for
from tests import mock_site as m

DELAY = 0.2
CAP = 400_000  # above the real report pages (≤ 367 KB), below the oversized file
TIMEOUT = 0.4  # below the slow page's delay
MIRROR = Path(__file__).parents[1] / "data" / "mirror" / "pingtan"


@dataclass
class Run:
    counts: dict[str, int]
    requests: list[m.Request]
    sleeps: list[float]

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def _source(site: m.MockSite, **overrides: object) -> Source:
    settings = {
        "name": "mock",
        "region": "测试区",
        "start_urls": (site.url("/xxgk/index.html"),),
        "allowed_domains": ("127.0.0.1",),
        "max_pages": 100,
        "delay_seconds": DELAY,
    } | overrides
    return Source(**settings)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Two crawls of the mock site; before the second, the .docx attachment disappears."""
    root = tmp_path_factory.mktemp("crawl")
    store, manifest = RawStore(root / "raw"), Manifest(root / "manifest.json")
    runs = []
    with m.MockSite() as site, httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
        site.pages = m.government_site(site)
        for n in range(2):
            if n == 1:
                del site.pages[m.DOCX]
            before, sleeps = len(site.requests), []
            counts = crawl(_source(site), store, manifest, client=client, sleep=sleeps.append, max_bytes=CAP)
            runs.append(Run(counts, site.requests[before:], sleeps))
    return SimpleNamespace(site=site, store=store, manifest=manifest, first=runs[0], second=runs[1])


def _doc(crawled: SimpleNamespace, path: str) -> RawDocument:
    return crawled.manifest.entries[report_id_for("mock", crawled.site.url(path))]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the first crawl ---------------------------------------------------------------------------------


def test_first_crawl_counts(crawled):
    assert crawled.first.counts | {"skipped": 0} == {
        "discovered": 17,  # 14 report links on two listing pages, 3 attachments
        "fetched": 9,
        "not_modified": 0,
        "failed": 4,  # 404, timeout, foreign redirect, oversized
        "skipped": 0,
        "stored_new": 9,
        "listings": 2,
        "listings_failed": 0,
        "pictures": 0,  # every report page shows its tables as text
    }
    assert crawled.first.counts["skipped"] >= 3  # robots.txt, out of domain, not a report


def test_page_with_tables_inline_is_the_document(crawled):
    doc = _doc(crawled, m.REPORT_2019)
    assert (doc.status, doc.format, doc.region) == ("ok", "html", "测试区")
    assert doc.sha256 == _sha((m.CORPUS / "t20200120_80576.htm").read_bytes())
    assert crawled.store.get(doc.sha256) == (m.CORPUS / "t20200120_80576.htm").read_bytes()
    assert doc.title_hint == "平潭综合实验区2019年度政府信息公开工作年度报告"
    assert (doc.http_charset, doc.encoding, doc.encoding_source) == ("utf-8", "utf-8", "http-header")
    assert doc.etag and doc.last_modified == m.LAST_MODIFIED


def test_attachment_only_pages_yield_the_attachment(crawled):
    docx = _doc(crawled, m.DOCX)
    assert (docx.format, docx.sha256) == ("docx", _sha(m.small_docx()))
    assert docx.title_hint == "某某局2022年度政府信息公开工作年度报告"
    assert docx.extra["page_url"] == crawled.site.url(m.DOCX_PAGE)
    assert docx.extra["link_text"] == "附件：2022年度报告.docx"
    pdf = _doc(crawled, m.PDF)  # labelled 全文下载, no extension: format from Content-Type
    assert (pdf.status, pdf.format, pdf.sha256) == ("ok", "pdf", _sha(m.PDF_BYTES))
    ids = crawled.manifest.entries
    assert report_id_for("mock", crawled.site.url(m.DOCX_PAGE)) not in ids
    assert report_id_for("mock", crawled.site.url(m.PDF_PAGE)) not in ids


def test_page_with_tables_and_attachment_keeps_both(crawled):
    """Found through 下一页 on a GBK listing page."""
    assert _doc(crawled, m.BOTH).format == "html"
    assert _doc(crawled, m.BOTH_PDF).format == "pdf"
    assert _doc(crawled, m.BOTH_PDF).extra["page_url"] == crawled.site.url(m.BOTH)


def test_gbk_page_declaring_its_charset_only_in_meta(crawled):
    doc = _doc(crawled, m.GBK_PAGE)
    assert (doc.http_charset, doc.encoding, doc.encoding_source) == (None, "gb18030", "meta")
    assert "某某乡2023年度" in crawled.store.get(doc.sha256).decode("gb18030")


def test_missing_page_is_recorded_and_the_crawl_goes_on(crawled):
    doc = _doc(crawled, m.MISSING)
    assert (doc.status, doc.error, doc.sha256) == ("failed", "HTTP 404", None)
    assert doc.title_hint == "平潭综合实验区2018年度政府信息公开工作年度报告"


def test_server_error_recovers_on_retry(crawled):
    assert crawled.first.paths().count(m.REPORT_2021) == 2
    assert _doc(crawled, m.REPORT_2021).status == "ok"


def test_429_honours_retry_after(crawled):
    assert crawled.first.paths().count(m.BUSY) == 2
    assert 7.0 in crawled.first.sleeps
    assert _doc(crawled, m.BUSY).status == "ok"


def test_slow_response_times_out_after_three_retries(crawled):
    assert crawled.first.paths().count(m.SLOW) == 4
    doc = _doc(crawled, m.SLOW)
    assert doc.status == "failed" and doc.error.startswith("ReadTimeout")


def test_sleeps_are_politeness_backoff_or_retry_after(crawled):
    """Politeness ≤ 1.5 × delay; longer waits: one backoff after the 500, three after timeouts, Retry-After."""
    long = sorted(s for s in crawled.first.sleeps if s > 1.5 * DELAY)
    assert len(long) == 5 and long[-1] == 7.0
    assert all(0.5 <= s <= 6.0 for s in long[:-1])
    assert len(crawled.first.sleeps) > len(long)  # and polite pauses between the other requests


def test_redirect_to_a_foreign_host_is_refused_and_recorded(crawled):
    doc = _doc(crawled, m.MOVED)
    assert doc.status == "failed"
    assert (
        doc.error
        == f"redirect to {crawled.site.url(m.FOREIGN, 'localhost')} refused: host 'localhost' is not in allowed_domains"
    )
    assert m.FOREIGN not in crawled.site.paths()
    assert m.OFFSITE not in crawled.site.paths()  # linked through the foreign host: never fetched


def test_redirect_within_the_site_is_followed(crawled):
    doc = _doc(crawled, m.OLD)
    assert doc.status == "ok" and doc.extra["final_url"] == crawled.site.url(m.NEW)


def test_oversized_response_is_cut_off_and_nothing_stored(crawled):
    doc = _doc(crawled, m.BIG)
    assert (doc.status, doc.error) == ("failed", f"response exceeds {CAP} bytes")
    assert not crawled.store.has(_sha(crawled.site.pages[m.BIG].body))


def test_robots_txt_is_read_once_and_obeyed(crawled):
    for run in (crawled.first, crawled.second):
        assert run.paths()[0] == "/robots.txt" and run.paths().count("/robots.txt") == 1
    assert m.PRIVATE not in crawled.site.paths()
    assert m.NOT_A_REPORT not in crawled.site.paths()
    assert report_id_for("mock", crawled.site.url(m.PRIVATE)) not in crawled.manifest.entries


def test_every_request_carries_the_user_agent(crawled):
    assert {r.headers.get("user-agent") for r in crawled.site.requests} == {USER_AGENT}


# --- the second crawl --------------------------------------------------------------------------------


def test_second_crawl_gets_304s_and_stores_nothing_new(crawled):
    counts = crawled.second.counts
    assert (counts["fetched"], counts["stored_new"], counts["not_modified"]) == (0, 0, 8)
    conditional = {r.path for r in crawled.second.requests if "if-none-match" in r.headers}
    assert {m.REPORT_2019, m.REPORT_2021, m.PDF, m.GBK_PAGE, m.BOTH, m.BOTH_PDF, m.DOCX} <= conditional
    assert all(
        r.headers.get("if-modified-since") == m.LAST_MODIFIED
        for r in crawled.second.requests
        if r.path in conditional
    )


def test_vanished_document_keeps_its_bytes(crawled):
    doc = _doc(crawled, m.DOCX)
    assert (doc.status, doc.sha256) == ("ok", _sha(m.small_docx()))
    assert doc.extra["last_error"] == "HTTP 404"
    assert crawled.store.has(doc.sha256)


def test_failed_documents_are_retried(crawled):
    assert m.MISSING in crawled.second.paths() and m.SLOW in crawled.second.paths()
    assert crawled.second.counts["failed"] == 5  # the four of the first crawl and the vanished .docx


# --- budget, politeness, robots and links in isolation -----------------------------------------------


def test_max_pages_caps_the_fetches(tmp_path):
    with m.MockSite() as site, httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
        site.pages = m.government_site(site)
        manifest = Manifest(tmp_path / "m.json")
        counts = crawl(
            _source(site, max_pages=3), RawStore(tmp_path), manifest, client=client, sleep=lambda _s: None
        )
    # A page's retries belong to it: the 500 and its retry are one fetch.
    fetched = [p for p in site.paths() if p != "/robots.txt"]
    assert fetched == ["/xxgk/index.html", m.REPORT_2019, m.REPORT_2021, m.REPORT_2021]
    assert counts["fetched"] == 2 and counts["skipped"] > 10
    assert len(manifest.entries) == 2  # what was not fetched is not recorded as failed


def test_politeness_delay_is_randomised_around_delay_seconds():
    sleeps: list[float] = []
    with m.MockSite() as site, httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
        site.pages = {"/a": m.Page(b"a")}
        fetcher = Fetcher(client, delay=2.0, sleep=sleeps.append, rng=random.Random(1), clock=lambda: 0.0)
        responses = [fetcher.get(site.url("/a")) for _ in range(4)]
    assert all(r.ok and r.content == b"a" for r in responses)
    assert len(sleeps) == 3 and len(set(sleeps)) == 3  # none before the first request
    assert all(1.0 <= s <= 3.0 for s in sleeps)


def test_too_many_redirects_fail():
    with m.MockSite() as site, httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
        site.pages = {"/loop": m.Page(status=302, headers={"Location": "/loop"}, validators=False)}
        response = Fetcher(client, delay=0, sleep=lambda _s: None).get(site.url("/loop"))
    assert response.error == "more than 5 redirects" and site.paths().count("/loop") == 6


def test_retry_after_seconds_and_dates_are_capped():
    assert retry_after("7") == 7.0
    assert retry_after("3600") == 60.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert 55 < retry_after(httpx_date_in(58)) <= 58
    assert retry_after("soon") is None and retry_after(None) is None


def httpx_date_in(seconds: float) -> str:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize(
    ("status", "body", "allowed"),
    [
        (200, b"User-agent: *\nDisallow: /private/\n", False),
        (200, b"User-agent: xxgk\nDisallow: /\n\nUser-agent: *\nAllow: /\n", False),
        (200, b"User-agent: other\nDisallow: /\n", True),
        (404, b"", True),  # RFC 9309: unavailable → allow all
        (301, b"", True),  # redirects that could not be followed: unavailable
        (503, b"", False),  # unreachable → disallow all
        (0, b"", False),  # no answer
    ],
)
def test_robots_follows_rfc9309(status, body, allowed):
    fetched: list[str] = []
    robots = Robots(lambda url: (fetched.append(url), (status, body))[1], USER_AGENT)
    assert robots.allowed("https://www.example.gov.cn/private/a.htm") is allowed
    assert robots.allowed("https://www.example.gov.cn/private/b.htm") is allowed
    assert fetched == ["https://www.example.gov.cn/robots.txt"]  # once per host


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("平潭综合实验区2025年度政府信息公开工作年度报告", True),
        ("市教育局2020年政府信息公开工作报告", True),
        ("2019年信息公开年报", True),
        ("政府信息公开工作年度报告", False),  # no year
        ("2024年政府工作报告", False),
        ("政府信息公开指南", False),
    ],
)
def test_report_links_are_recognised_by_title(label, expected):
    assert is_report(label) is expected


def test_pagination_stays_in_the_listing_folder():
    listing = "https://a.gov.cn/xxgk/nb/index.html"
    assert is_pagination(Link("https://a.gov.cn/xxgk/nb/index_1.html", "下一页"), listing)
    assert is_pagination(Link("https://a.gov.cn/xxgk/nb/index_3.html", ""), listing)
    assert is_pagination(Link("https://a.gov.cn/xxgk/nb/index_3.html", "4"), listing)
    assert not is_pagination(Link("https://a.gov.cn/index.html", "首页"), listing)
    assert not is_pagination(Link("https://a.gov.cn/xxgk/other/index_1.html", "下一页"), listing)
    assert not is_pagination(Link("https://a.gov.cn/xxgk/nb/202401/t1.htm", "2023年度报告"), listing)


def test_trs_javascript_pager():
    text = '<script>createPageHTML(3, 0, "index", "shtml");</script>'
    assert script_pages(text, "https://a.gov.cn/nb/") == [
        "https://a.gov.cn/nb/index.shtml",
        "https://a.gov.cn/nb/index_1.shtml",
        "https://a.gov.cn/nb/index_2.shtml",
    ]


def test_attachments_by_extension_or_label():
    assert is_attachment(Link("https://a.gov.cn/f/2023.DOCX", "点击查看"))
    assert is_attachment(Link("https://a.gov.cn/down.jsp?id=1", "全文下载"))
    assert is_attachment(Link("https://a.gov.cn/f/b.pdf?v=2", ""))
    assert not is_attachment(Link("https://a.gov.cn/f/t1.htm", "上一篇"))


# --- file:// mirrors ---------------------------------------------------------------------------------


def _no_network() -> httpx.Client:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"network request to {request.url}")

    return httpx.Client(transport=httpx.MockTransport(refuse))


def test_crawl_the_pingtan_mirror(tmp_path):
    source = Source(name="pingtan", start_urls=((MIRROR / "index.html").as_uri(),), allowed_domains=("",))
    manifest = Manifest(tmp_path / "m.json")
    with _no_network() as client:
        counts = crawl(source, RawStore(tmp_path / "raw"), manifest, client=client, sleep=pytest.fail)
    ok = sorted(d.locator for d in manifest.documents() if d.status == "ok")
    assert ok == [
        "202001/t20200120_80576.htm",
        "202202/t20220208_80613.htm",
        "202403/t20240308_87885.htm",
        "202603/t20260313_105587.htm",
    ]
    failed = [d for d in manifest.documents() if d.status == "failed"]
    assert len(failed) == 6 and {d.error for d in failed} == {"file not found"}
    assert counts["discovered"] == 10 and counts["fetched"] == 4 and counts["failed"] == 6
    doc = manifest.entries[report_id_for("pingtan", "202403/t20240308_87885.htm")]
    assert doc.title_hint == "平潭综合实验区2023年度政府信息公开工作年度报告"
    assert (doc.encoding, doc.encoding_source) == ("utf-8", "meta")

    with _no_network() as client:  # no validators on disk: unchanged bytes are recognised by their hash
        again = crawl(source, RawStore(tmp_path / "raw"), manifest, client=client, sleep=pytest.fail)
    assert (again["fetched"], again["not_modified"], again["stored_new"], again["failed"]) == (0, 4, 0, 6)
    assert manifest.entries[doc.report_id].fetched_at == doc.fetched_at


def test_mirror_crawl_stays_inside_the_mirror_folder(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "a").mkdir(parents=True)
    shutil.copy(m.CORPUS / "t20240308_87885.htm", mirror / "a" / "2023.htm")
    (tmp_path / "outside.htm").write_bytes(m.table_page("2022年度政府信息公开工作年度报告"))
    links = (
        '<a href="a/2023.htm">2023年度报告</a><a href="../outside.htm">2022年度政府信息公开工作年度报告</a>'
    )
    (mirror / "index.html").write_text(f"<html><body>{links}</body></html>", encoding="utf-8")
    source = Source(name="local", start_urls=((mirror / "index.html").as_uri(),))
    manifest = Manifest(tmp_path / "m.json")
    with _no_network() as client:
        counts = crawl(source, RawStore(tmp_path / "raw"), manifest, client=client)
    assert [d.locator for d in manifest.documents()] == ["a/2023.htm"]
    assert counts["skipped"] == 1


# --- titles, script links, viewers, downloads, robots patterns, deadline, JSON listing -------------


def _links(body: str, base: str = "https://a.gov.cn/xxgk/nb/index.html") -> list[Link]:
    return page_links(parse_html(f"<html><body>{body}</body></html>"), base)


def test_cut_title_loses_to_the_full_title_attribute():
    full = "北京市密云区穆家峪镇人民政府2019年政府信息公开工作年度报告"
    [link] = _links(
        f'<a href="a.htm" title="{full}">北京市密云区穆家峪镇人民政府2019年政府信息公开工作年...</a>'
    )
    assert (link.label, link.text) == (full, "北京市密云区穆家峪镇人民政府2019年政府信息公开工作年...")


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("北京市密云区穆家峪镇人民政府2019年政府信息公开工作年...", True),  # only the cut text is left
        ("区人民政府国有资产监督管理委员会政府信息公开年报（202…", True),  # the year itself cut
        ("2024年政府信息公开指南...", False),
        ("某某局2019年政府信息公开工作年", False),  # not cut: a title that is not a report's
    ],
)
def test_cut_titles_are_recognised_when_nothing_fuller_exists(label, expected):
    assert is_report(label) is expected


def test_title_from_the_enclosing_row_but_never_from_a_whole_list():
    [link] = _links(
        '<ul><li><span class="title">某局2020年政府信息公开工作年度报告</span><a href="b.htm">查看</a></li></ul>'
    )
    assert link.label == "某局2020年政府信息公开工作年度报告"
    two = _links(
        '<div><p>某局2020年政府信息公开工作年度报告</p><a href="1.htm">查看</a><a href="2.htm">查看</a>'
        '<a href="3.htm">查看</a></div>'
    )
    assert [x.label for x in two] == ["查看", "查看", "查看"]  # a title shared by three links is no one's


def test_links_from_scripts_frames_and_viewers():
    links = _links(
        '<a href="javascript:void(0)" onclick="window.open(\'c.htm\')">c</a>'
        "<li onclick=\"window.location.href = 'd.htm'\">d</li>"
        "<a href=\"javascript:openFile('/attach/e.pdf')\">e</a>"
        "<a href=\"javascript:showTab('tab1')\">not a URL</a>"
        '<a href="/pdfjs/web/viewer.html?file=%2Ff%2Fx.pdf">x</a>'
        '<iframe src="/f/y.pdf"></iframe><object data="z.docx"></object><embed src="w.doc">'
    )
    assert [(x.url.removeprefix("https://a.gov.cn"), x.embedded) for x in links] == [
        ("/xxgk/nb/c.htm", False),
        ("/xxgk/nb/d.htm", False),
        ("/attach/e.pdf", False),
        ("/f/x.pdf", False),
        ("/f/y.pdf", True),
        ("/xxgk/nb/z.docx", True),
        ("/xxgk/nb/w.doc", True),
    ]
    assert all(is_attachment(x) for x in links[2:])


def test_download_endpoints_are_attachments_but_download_centres_are_not():
    assert is_attachment(Link("https://a.gov.cn/attach/get?fileId=3", "下载"))
    assert is_attachment(Link("https://a.gov.cn/download.jsp?id=9", "2023年报"))
    assert is_attachment(Link("https://a.gov.cn/x/y?id=9", "某局2023年报.pdf", "某局2023年报.pdf"))
    assert not is_attachment(Link("https://a.gov.cn/xxgk/download/", "下载中心"))
    assert not is_attachment(Link("https://a.gov.cn/xxgk/download/index.html", "下载中心"))


NAME = "政府信息公开年报.docx"


@pytest.mark.parametrize(
    "raw",
    [
        b"attachment; filename*=UTF-8''" + quote(NAME).encode(),
        b"attachment; filename=\"fallback.bin\"; filename*=utf-8''" + quote(NAME).encode(),
        b'attachment; filename="' + quote(NAME).encode() + b'"',  # percent-encoded without the *
        b'attachment; filename="' + NAME.encode("gbk") + b'"',  # raw GBK bytes
        b"attachment; filename=" + NAME.encode("utf-8"),  # raw UTF-8, unquoted
        b"attachment; filename*=GBK''" + quote(NAME.encode("gbk")).encode(),
        b'inline; filename="=?UTF-8?B?' + base64.b64encode(NAME.encode()) + b'?="',
    ],
)
def test_content_disposition_names(raw):
    headers = httpx.Headers([(b"Content-Disposition", raw)])
    assert disposition.filename(headers) == NAME


def test_content_disposition_absent_or_without_name():
    assert disposition.filename(httpx.Headers({})) is None
    assert disposition.filename(httpx.Headers({"Content-Disposition": "attachment"})) is None
    assert (
        disposition.filename(httpx.Headers({"Content-Disposition": 'attachment; filename="../../a.pdf"'}))
        == "a.pdf"
    )


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/xxgk/2023/private/a.htm", False),  # Disallow: /xxgk/*/private/
        ("/files/old.bak", False),  # Disallow: /*.bak$
        ("/files/old.bak.htm", True),
        ("/archive/t1.htm", True),  # Allow: /archive/*.htm$ is longer than Disallow: /archive/
        ("/archive/t1.htm?print=1", False),
        ("/archive/list.html", False),
    ],
)
def test_robots_wildcards_and_longest_match(path, allowed):
    body = (
        b"User-agent: *\nCrawl-delay: 4\nDisallow: /xxgk/*/private/\nDisallow: /*.bak$\n"
        b"Disallow: /archive/\nAllow: /archive/*.htm$\n"
    )
    robots = Robots(lambda _url: (200, body), USER_AGENT)
    assert robots.allowed("https://a.gov.cn" + path) is allowed
    assert robots.crawl_delay("https://a.gov.cn/") == 4.0


def test_crawl_delay_is_the_floor_of_the_randomised_delay():
    sleeps: list[float] = []
    with m.MockSite() as site, httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
        site.pages = {"/a": m.Page(b"a")}
        fetcher = Fetcher(client, delay=1.0, sleep=sleeps.append, rng=random.Random(1), clock=lambda: 0.0)
        fetcher.set_crawl_delay("127.0.0.1", 5.0)
        for _ in range(4):
            fetcher.get(site.url("/a"))
    assert sleeps == [5.0, 5.0, 5.0]  # delay_seconds 1 would have given 0.5–1.5 s


def test_drip_feeding_server_cannot_hold_a_download_past_the_deadline():
    """Each byte arrives well inside the read timeout; the deadline ends the download, without retry."""
    with m.MockSite() as site, httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
        site.pages = {"/drip.pdf": m.Page(m.PDF_BYTES, "application/pdf", drip=0.05)}
        started = time.monotonic()
        response = Fetcher(client, delay=0, sleep=lambda _s: None, deadline=0.5).get(site.url("/drip.pdf"))
        took = time.monotonic() - started
    assert response.error is not None and response.error.startswith("download exceeded 0.5 s")
    assert site.paths() == ["/drip.pdf"]  # not retried
    assert took < 0.5 + TIMEOUT + 0.3  # len(PDF_BYTES) × 0.05 s would be 2.4 s


def test_listing_api_failures_are_counted_and_the_html_listing_still_crawled(tmp_path):
    with m.MockSite() as site, httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
        site.pages = m.government_site(site)
        site.pages["/api/list?page=1"] = m.Page(b"<html>error</html>", validators=False)
        api = ListingApi(url=site.url("/api/list?page={page}"), items="data.list", title="t", link="u")
        counts = crawl(
            _source(site, listing_api=api),
            RawStore(tmp_path),
            Manifest(tmp_path / "m.json"),
            client=client,
            sleep=lambda _s: None,
            max_bytes=CAP,
        )
    assert counts["listings"] == 2 and counts["listings_failed"] == 1
    assert [p for p in site.paths() if p.startswith("/api/")] == ["/api/list?page=1"]


def test_listing_api_items_jsonp_relative_links_and_repeated_pages():
    api = ListingApi(url="https://a.gov.cn/api/list?p={page}", items="data.rows", title="info.t", link="u")
    body = 'cb({"data": {"rows": [{"info": {"t": "某局2023年报"}, "u": "../xxgk/1.htm"}, {"info": {}}]}});'
    items, unusable = api_items(body.encode(), None, api, api.page_url(1))
    assert [(i.url, i.title) for i in items] == [
        ("https://a.gov.cn/xxgk/1.htm", "某局2023年报")
    ] and unusable == 1
    assert api_items(b'{"data": null}', None, api, api.page_url(2)) == ([], 0)
    with pytest.raises(ListingApiError, match="not JSON"):
        api_items(b"<html>", None, api, api.page_url(3))


def test_listing_api_that_ignores_the_page_number_is_read_once(tmp_path):
    item = {"title": "某局2023年度政府信息公开工作年度报告", "url": "/xxgk/r.htm"}
    body = json.dumps({"list": [item]}, ensure_ascii=False).encode()
    with m.MockSite() as site, httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
        site.pages = {
            f"/api?page={k}": m.Page(body, "application/json", validators=False) for k in range(1, 9)
        }
        site.pages["/xxgk/r.htm"] = m.Page(m.table_page(item["title"]))
        api = ListingApi(url=site.url("/api?page={page}"), items="list", title="title", link="url")
        source = _source(site, start_urls=(), listing_api=api)
        counts = crawl(
            source, RawStore(tmp_path), Manifest(tmp_path / "m.json"), client=client, sleep=lambda _s: None
        )
    assert [p for p in site.paths() if p.startswith("/api")] == ["/api?page=1", "/api?page=2"]
    assert counts["fetched"] == 1 and counts["listings"] == 2


def test_sources_file_listing_api_keys(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - name: api_only\n    listing_api:\n"
        "      url: https://www.example.gov.cn/api/list?channel=12&page={page}\n"
        "      first_page: 0\n      items: data.list\n      title: title\n      link: url\n"
        "    download_deadline_seconds: 30\n",
        encoding="utf-8",
    )
    [source] = load_sources(path)
    assert source.is_web and source.start_urls == () and source.allowed_domains == ("www.example.gov.cn",)
    assert source.listing_api == ListingApi(
        url="https://www.example.gov.cn/api/list?channel=12&page={page}",
        items="data.list",
        title="title",
        link="url",
        first_page=0,
    )
    assert source.listing_api.page_url(3).endswith("&page=3") and source.download_deadline_seconds == 30
    for bad, message in (
        ("      url: https://e.gov.cn/api/list\n      items: a\n      title: t\n      link: u\n", "{page}"),
        ("      url: https://e.gov.cn/api?p={page}\n      items: a\n      title: t\n", "'link'"),
        (
            "      url: https://e.gov.cn/api?p={page}\n      items: a\n      title: t\n      link: u\n      pages: 3\n",
            "unknown",
        ),
    ):
        path.write_text(f"sources:\n  - name: bad\n    listing_api:\n{bad}", encoding="utf-8")
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_sources(path)
