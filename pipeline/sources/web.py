"""The web crawler: a source's listing pages (and their pagination) or JSON listing endpoint → report
pages → attachments and embedded documents.

Each document found goes into the raw store (content-addressed: names from servers are never paths)
and is upserted into the source's manifest; the caller saves it. A document the site stops serving
keeps its last good bytes (a report once published stays in the tables). Nothing here raises for a
site's misbehaviour: every failure is counted, logged and recorded, and the crawl goes on.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urldefrag, urlsplit
from urllib.request import url2pathname

import httpx
from lxml import etree

from pipeline.config import Source
from pipeline.encoding import decode_html
from pipeline.sources import disposition, pictures
from pipeline.sources.http import MAX_BYTES, USER_AGENT, Fetcher, Response, http_charset
from pipeline.sources.links import (
    Link,
    absolute_url,
    has_report_table,
    is_attachment,
    is_pagination,
    is_report,
    page_links,
    parse_html,
    script_pages,
)
from pipeline.sources.listing_api import ListingApiError, api_items
from pipeline.sources.robots import Robots
from pipeline.store import Manifest, RawDocument, RawStore, format_for, now_utc, report_id_for

COUNT_KEYS = (
    "discovered",  # report links and attachments found (unique URLs)
    "fetched",  # documents with new or changed bytes
    "not_modified",  # documents answered 304, or with the bytes already in the manifest
    "failed",  # documents that could not be fetched (recorded in the manifest)
    "skipped",  # links not followed: not a report, out of domain, robots.txt, max_pages reached
    "stored_new",  # objects new to the raw store
    "listings",  # listing pages read
    "listings_failed",  # listing pages that could not be fetched
    "pictures",  # pictures of report pages fetched with them (their tables may be pictures)
)
_MAGIC = ((b"%PDF", "pdf"), (b"PK\x03\x04", "docx"), (b"\xd0\xcf\x11\xe0", "doc"))
# Report page (0) → attachment or embedded page (1) → its attachment (2): a wrapper page showing the
# report in an <iframe> that itself embeds the PDF is two steps from the report link.
MAX_DEPTH = 2


def crawl(
    source: Source,
    store: RawStore,
    manifest: Manifest,
    *,
    log: Callable[[str], None] | None = None,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_bytes: int = MAX_BYTES,
) -> dict[str, int]:
    """Crawl one web source into `store` and `manifest` (the caller saves it); returns COUNT_KEYS counts.

    `source.max_pages` caps the pages fetched per run (listings, report pages, attachments; a page's
    retries and redirects are part of it, robots.txt is not). What it leaves out waits for the next run.
    `client` and `sleep` are for tests and callers with their own transport settings.
    """
    own_client = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
    try:
        say = log or (lambda _msg: None)
        fetcher = Fetcher(
            http,
            delay=source.delay_seconds,
            sleep=sleep,
            max_bytes=max_bytes,
            deadline=source.download_deadline_seconds,
            log=lambda msg: say(f"{source.name}: {msg}"),
        )
        return _Crawl(source, store, manifest, fetcher, say).run()
    finally:
        if own_client:
            http.close()


class _Crawl:
    """One run over one source: its scope, robots.txt, page budget, counts and manifest."""

    def __init__(
        self,
        source: Source,
        store: RawStore,
        manifest: Manifest,
        fetcher: Fetcher,
        log: Callable[[str], None],
    ) -> None:
        self.source, self.store, self.manifest, self.fetcher, self.log = source, store, manifest, fetcher, log
        self.counts = dict.fromkeys(COUNT_KEYS, 0)
        self.robots = Robots(self._fetch_robots, USER_AGENT)
        hosts = [*source.start_urls, *([source.listing_api.url] if source.listing_api else [])]
        self.domains = source.allowed_domains or tuple(urlsplit(u).hostname or "" for u in hosts)
        self.mirrors = [_mirror_root(u) for u in source.start_urls if urlsplit(u).scheme == "file"]
        self.pages_left = source.max_pages
        self.budget_spent = False
        self.seen: set[str] = set()  # every URL met this run, so that none is fetched or counted twice
        self.paced: set[str] = set()  # hosts whose robots.txt Crawl-delay has been applied

    def run(self) -> dict[str, int]:
        """Every listing page (all of them, up to max_pages: a report that moved to another page
        since the last run is still met), then the JSON listing; each URL once."""
        queue = deque(urldefrag(u).url for u in self.source.start_urls)
        self.seen.update(queue)
        while queue:
            page = self._listing(queue.popleft())
            if page is None:
                continue
            text, links, url = page
            pager = [link.url for link in links if is_pagination(link, url)] + script_pages(text, url)
            # A listing shown in a frame of the listing page is read as a listing page too.
            frames = [link.url for link in links if link.embedded and not is_attachment(link)]
            for next_url in pager + frames:
                if next_url not in self.seen and not self._outside(next_url):
                    self.seen.add(next_url)
                    queue.append(next_url)
            self._links(link for link in links if not link.embedded)
        if self.source.listing_api is not None:
            self._listing_api()
        return self.counts

    def _links(self, links: Iterable[Link], extra: dict[Link, dict[str, str]] | None = None) -> None:
        """Listed links: reports are fetched, the rest skipped. Reports first: the same URL may also be
        linked as "详情" before its titled link."""
        for link in sorted(links, key=lambda link: not is_report(link.label)):
            if link.url in self.seen:
                continue
            self.seen.add(link.url)
            if is_report(link.label):
                self.counts["discovered"] += 1
                self._fetch_document(link, link.label, None, 0, (extra or {}).get(link))
            else:
                self.counts["skipped"] += 1

    def _listing_api(self) -> None:
        """The JSON listing: pages from first_page until one lists nothing (or repeats the previous
        one, as endpoints that ignore the page number do), within max_pages."""
        api = self.source.listing_api
        assert api is not None
        previous: list[str] | None = None
        page = api.first_page
        while True:
            url = api.page_url(page)
            response = self._get(url)
            if response is None:
                return
            if not response.ok:
                self.counts["listings_failed"] += 1
                return
            try:
                items, unusable = api_items(
                    response.content, http_charset(response.headers), api, response.url
                )
            except ListingApiError as exc:
                self.counts["listings_failed"] += 1
                self.log(f"{self.source.name}: listing_api {url}: {exc}")
                return
            self.counts["listings"] += 1
            self.counts["skipped"] += unusable
            urls = [item.url for item in items]
            if not items or urls == previous:
                return
            links = {Link(item.url, item.title, item.title): item for item in items}
            dates = {link: {"listing_date": item.date} for link, item in links.items() if item.date}
            self._links(links, dates)
            previous, page = urls, page + 1

    # --- pages -------------------------------------------------------------------------------------

    def _listing(self, url: str) -> tuple[str, list[Link], str] | None:
        """A listing page's text, links and final URL; None when it was skipped or failed."""
        response = self._get(url)
        if response is None:
            return None
        if not response.ok:
            self.counts["listings_failed"] += 1
            return None
        self.counts["listings"] += 1
        text, _encoding, _how = decode_html(response.content, http_charset(response.headers))
        return text, page_links(parse_html(text), response.url), response.url

    def _fetch_document(
        self, link: Link, title: str, page: Link | None, depth: int, extra: dict[str, str] | None = None
    ) -> bool:
        """A report link (depth 0) or an attachment / embedded document of a page, titled by the
        report's link on the listing. A page is the document if it carries the report's tables or
        nothing else yields one; its attachments and frames are followed down to MAX_DEPTH.
        Whether a document was recorded (kept, unchanged or failed) at this URL or below it."""
        response = self._document(link.url, title)
        if response is None:
            return self._id(link.url) in self.manifest.entries
        extra = dict(extra or {})
        if page is not None:
            extra |= {"page_url": self._locator(page.url), "link_text": link.text or link.label}
        if response.not_modified:
            previous = self.manifest.entries[self._id(link.url)]
            if previous.format != "html" or previous.sha256 is None:
                return True
            content, charset = self.store.get(previous.sha256), previous.http_charset
        else:
            fmt, name = _format(response)
            if name:
                extra["filename"] = name
            if fmt != "html":
                self._keep(link.url, response, fmt, title, extra=extra)
                return True
            content, charset = response.content, http_charset(response.headers)
        text, encoding, how = decode_html(content, charset)
        tree = parse_html(text)
        inline = has_report_table(tree)
        found = False
        if depth < MAX_DEPTH:
            for attachment in page_links(tree, response.url):
                if attachment.url in self.seen or not is_attachment(attachment):
                    continue
                if inline and attachment.embedded and not _looks_like_document(attachment.url):
                    continue  # a page with its tables inline needs no frame (header, footer, widgets)
                self.seen.add(attachment.url)
                self.counts["discovered"] += 1
                found |= self._fetch_document(attachment, title, link, depth + 1)
        # An embedded page is the report only with the tables; a linked one (附件) always.
        if response.ok and (inline or (not found and not link.embedded)):
            if not pictures.shows_all_tables(tree):
                extra |= self._pictures(link.url, tree, response)
            self._keep(link.url, response, "html", title, (encoding, how), extra)
            return True
        if response.ok:
            self._forget_failure(link.url)
        return found or not response.ok

    def _pictures(self, url: str, tree: etree._Element | None, response: Response) -> dict[str, str]:
        """The manifest extra recording the pictures a report page shows by URL (its tables may be
        pictures), each fetched and stored; the same page bytes as last time reuse the last record.
        A picture that cannot be fetched is logged and left out: the missing table says so."""
        previous = self.manifest.entries.get(self._id(url))
        if previous is not None and previous.sha256 == hashlib.sha256(response.content).hexdigest():
            kept = previous.extra.get(pictures.EXTRA_KEY)
            if kept and all(self.store.has(sha) for _src, sha in pictures.decode(previous.extra)):
                return {pictures.EXTRA_KEY: kept}
        found: list[tuple[str, str]] = []
        for src in pictures.picture_sources(tree):
            target = absolute_url(response.url, src)
            if target is None:
                continue
            got = self._get(target)
            if got is None:
                continue
            if not got.ok:
                self.log(f"{self.source.name}: picture {target} of {url}: {got.error or got.status}")
                continue
            if not pictures.is_picture(got.content):
                continue  # an SVG logo, an error page: no table picture
            sha, new = self.store.put(got.content)
            self.counts["stored_new"] += new
            self.counts["pictures"] += 1
            found.append((src, sha))
        return {pictures.EXTRA_KEY: pictures.encode(found)} if found else {}

    # --- fetching ----------------------------------------------------------------------------------

    def _get(self, url: str, headers: dict[str, str] | None = None) -> Response | None:
        """One fetch within scope, robots.txt and max_pages; None (counted as skipped) when not allowed."""
        if self.pages_left <= 0:
            self.counts["skipped"] += 1
            if not self.budget_spent:
                self.budget_spent = True
                self.log(f"{self.source.name}: max_pages ({self.source.max_pages}) reached; the rest waits")
            return None
        if reason := self._refusal(url):
            self.counts["skipped"] += 1
            self.log(f"{self.source.name}: skip {url}: {reason}")
            return None
        self.pages_left -= 1
        response = self.fetcher.get(url, headers, guard=self._refusal)
        self.log(f"{self.source.name}: {_describe(url, response)}")
        return response

    def _document(self, url: str, title_hint: str) -> Response | None:
        """A document fetch, conditional on what the manifest holds; a 200 or 304, else recorded as failed."""
        previous = self.manifest.entries.get(self._id(url))
        headers = {}
        if previous and previous.status == "ok" and previous.sha256 and self.store.has(previous.sha256):
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        response = self._get(url, headers)
        if response is None:
            return None
        if response.ok:
            return response
        if response.not_modified and previous is not None and headers:
            self.counts["not_modified"] += 1
            previous.extra.pop("last_error", None)
            previous.extra.pop("last_error_at", None)
            return response
        self._failed(url, title_hint, response.error or f"unexpected HTTP {response.status}")
        return None

    def _fetch_robots(self, url: str) -> tuple[int, bytes]:
        """robots.txt through the same polite fetcher; an error without an HTTP answer counts as status 0."""
        response = self.fetcher.get(url, guard=self._outside)
        self.log(f"{self.source.name}: {_describe(url, response)}")
        answered = response.error is None or response.status >= 300
        return (response.status if answered else 0), response.content

    # --- manifest ----------------------------------------------------------------------------------

    def _keep(
        self,
        url: str,
        response: Response,
        fmt: str | None,
        title_hint: str,
        decided: tuple[str, str] | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Store the bytes and upsert the entry; the same bytes as before leave fetched_at as it was."""
        report_id = self._id(url)
        previous = self.manifest.entries.get(report_id)
        sha, new = self.store.put(response.content)
        self.counts["stored_new"] += new
        unchanged = previous is not None and previous.status == "ok" and previous.sha256 == sha
        self.counts["not_modified" if unchanged else "fetched"] += 1
        extra = dict(extra or {})
        if response.url != url:
            extra["final_url"] = self._locator(response.url)
        encoding, how = decided or (None, None)
        self.manifest.upsert(
            RawDocument(
                report_id=report_id,
                source=self.source.name,
                locator=self._locator(url),
                format=fmt,
                sha256=sha,
                size=len(response.content),
                fetched_at=previous.fetched_at if unchanged and previous else now_utc(),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                http_charset=http_charset(response.headers),
                encoding=encoding,
                encoding_source=how,
                title_hint=title_hint or None,
                region=self.source.region,
                extra=extra,
            )
        )

    def _failed(self, url: str, title_hint: str, error: str) -> None:
        """A failed fetch: a document fetched before keeps its bytes (and status ok), noting the error."""
        self.counts["failed"] += 1
        report_id = self._id(url)
        previous = self.manifest.entries.get(report_id)
        if previous is not None and previous.status == "ok" and previous.sha256:
            previous.extra.update(last_error=error, last_error_at=now_utc())
            return
        self.manifest.upsert(
            RawDocument(
                report_id=report_id,
                source=self.source.name,
                locator=self._locator(url),
                format=format_for(url),
                fetched_at=now_utc(),
                status="failed",
                error=error,
                title_hint=title_hint or None,
                region=self.source.region,
            )
        )

    def _forget_failure(self, url: str) -> None:
        """A page that failed before and now turns out to only link its attachment is no document."""
        report_id = self._id(url)
        previous = self.manifest.entries.get(report_id)
        if previous is not None and previous.status == "failed" and previous.sha256 is None:
            del self.manifest.entries[report_id]

    # --- scope -------------------------------------------------------------------------------------

    def _refusal(self, url: str) -> str | None:
        """Why `url` must not be fetched (scope, then robots.txt), or None."""
        if reason := self._outside(url):
            return reason
        if not self.robots.allowed(url):
            return "disallowed by robots.txt"
        self._pace(url)
        return None

    def _pace(self, url: str) -> None:
        """Apply the host's robots.txt Crawl-delay (once per host) where it is longer than delay_seconds."""
        host = urlsplit(url).hostname or ""
        if host in self.paced or urlsplit(url).scheme not in ("http", "https"):
            return
        self.paced.add(host)
        delay = self.robots.crawl_delay(url)
        if delay is not None and delay > self.source.delay_seconds:
            self.fetcher.set_crawl_delay(host, delay)
            self.log(f"{self.source.name}: {host} asks for Crawl-delay {delay:g} s; honoured")

    def _outside(self, url: str) -> str | None:
        """Why `url` is out of this source's scope: allowed_domains, or the local mirror's folder."""
        parts = urlsplit(url)
        if parts.scheme == "file":
            return None if self._mirror_of(url) else "outside the local mirror"
        if parts.scheme not in ("http", "https"):
            return f"scheme {parts.scheme!r} is not crawled"
        host = parts.hostname or ""
        if any(d and (host == d or host.endswith("." + d)) for d in self.domains):
            return None
        return f"host {host!r} is not in allowed_domains"

    def _mirror_of(self, url: str) -> Path | None:
        path = _file_path(url)
        return next((root for root in self.mirrors if path.is_relative_to(root)), None)

    def _locator(self, url: str) -> str:
        """The URL, or for a local mirror the path inside it: report ids stay the same on every machine."""
        root = self._mirror_of(url) if urlsplit(url).scheme == "file" else None
        return _file_path(url).relative_to(root).as_posix() if root else url

    def _id(self, url: str) -> str:
        return report_id_for(self.source.name, self._locator(url))


def _file_path(url: str) -> Path:
    return Path(url2pathname(urlsplit(url).path)).resolve()


def _mirror_root(start_url: str) -> Path:
    """The folder a file:// start URL may be crawled within: its own folder."""
    path = _file_path(start_url)
    return path if urlsplit(start_url).path.endswith("/") else path.parent


def _format(response: Response) -> tuple[str | None, str | None]:
    """(format, file name the server gave). The format comes from the Content-Disposition file name,
    else the final URL's name, else the Content-Type, else the bytes' magic number."""
    name = disposition.filename(response.headers)
    fmt = (format_for(name) if name else None) or format_for(
        response.url, response.headers.get("content-type")
    )
    return fmt or next((f for magic, f in _MAGIC if response.content.startswith(magic)), None), name


def _looks_like_document(url: str) -> bool:
    """A URL naming a document file (.pdf, .docx, …) rather than a page."""
    return format_for(urlsplit(url).path) not in (None, "html")


def _describe(url: str, response: Response) -> str:
    if response.error:
        return f"GET {url} failed: {response.error}"
    if response.not_modified:
        return f"GET {url} → 304 not modified"
    return f"GET {url} → {response.status}, {len(response.content)} bytes"
