"""A mock government website on 127.0.0.1 for the crawler tests: real report pages, and the ways real
sites misbehave (errors that recover, throttling, slowness, foreign redirects, oversized files).

The server logs every request (path and headers), so tests assert what the crawler did on the wire.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
LAST_MODIFIED = "Wed, 08 Jan 2025 08:00:00 GMT"
ROBOTS = b"User-agent: *\nDisallow: /xxgk/private/\n"


@dataclass
class Page:
    """One URL's answers: `first` (status, headers) for the first requests, then `status` with `body`."""

    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str | bytes] = field(default_factory=dict)  # bytes: sent as they are (GBK names)
    first: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering
    drip: float = 0.0  # seconds between the body's bytes, sent one at a time
    content_length: bool = True  # False: the body ends when the connection closes
    validators: bool = True  # ETag and Last-Modified, and 304 to matching conditional requests


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]  # lower-cased names
    at: float = 0.0  # time.monotonic() when it arrived


@dataclass(frozen=True)
class Sent:
    """An answer: its path, status and body size."""

    path: str
    status: int
    size: int


class MockSite:
    """A threaded HTTP server on an ephemeral port of 127.0.0.1, serving `pages` by path."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[Request] = []
        self.sent: list[Sent] = []
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> MockSite:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def answer(self, path: str) -> tuple[int, Page | None]:
        """Count the hit: (how many requests for `path` came before this one, its page)."""
        with self._lock:
            hit = self._hits.get(path, 0)
            self._hits[path] = hit + 1
        return hit, self.pages.get(path)


def _handler(site: MockSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            site.requests.append(Request(self.path, headers, time.monotonic()))
            hit, page = site.answer(self.path)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the crawler gave up waiting
                self._respond(hit, page)

        def _respond(self, hit: int, page: Page | None) -> None:
            if page is None:
                self._send(404, {"Content-Type": "text/plain"}, b"not found")
                return
            if hit < len(page.first):
                status, headers = page.first[hit]
                self._send(status, headers, b"")
                return
            time.sleep(page.delay)
            headers = dict(page.headers)
            if page.content_type:
                headers["Content-Type"] = page.content_type
            if page.validators:
                etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
                headers |= {"ETag": etag, "Last-Modified": LAST_MODIFIED}
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, {"ETag": etag}, b"")
                    return
            self._send(page.status, headers, page.body, length=page.content_length, drip=page.drip)

        def _send(
            self,
            status: int,
            headers: dict[str, str | bytes],
            body: bytes,
            *,
            length: bool = True,
            drip: float = 0.0,
        ) -> None:
            site.sent.append(Sent(self.path, status, len(body)))
            self.send_response(status)
            for name, value in headers.items():
                if isinstance(value, bytes):
                    self._headers_buffer.append(name.encode("ascii") + b": " + value + b"\r\n")
                else:
                    self.send_header(name, value)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not drip:
                self.wfile.write(body)
                return
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(drip)

        def log_message(self, *_args: object) -> None:
            pass

    return Handler


# --- the site's content -----------------------------------------------------------------------------

REPORT_2019 = "/xxgk/202001/t20200120_80576.htm"
REPORT_2021 = "/xxgk/202202/t20220208_80613.htm"  # answers 500 once, then the page
DOCX_PAGE = "/xxgk/att/docx.htm"  # only links its .docx attachment
DOCX = "/xxgk/att/report2022.docx"
PDF_PAGE = "/xxgk/att/pdf.htm"  # only links 全文下载 → a download URL without extension
PDF = "/xxgk/att/download?id=7"
GBK_PAGE = "/xxgk/gbk.htm"  # GBK, charset declared only in <meta>
MISSING = "/xxgk/missing.htm"  # 404
BUSY = "/xxgk/busy.htm"  # 429 with Retry-After: 7 once, then the page
SLOW = "/xxgk/slow.htm"  # answers after SLOW_DELAY seconds
MOVED = "/xxgk/moved.htm"  # redirects to a host outside allowed_domains
FOREIGN = "/foreign.htm"
OLD = "/xxgk/old.htm"  # redirects within the site to NEW
NEW = "/xxgk/new.htm"
BIG = "/xxgk/big.pdf"  # BIG_SIZE bytes without Content-Length
PRIVATE = "/xxgk/private/2012.htm"  # disallowed by robots.txt
OFFSITE = "/xxgk/offsite.htm"  # linked through a host outside allowed_domains
NOT_A_REPORT = "/xxgk/jgzn.htm"
BOTH = "/xxgk/both.htm"  # tables inline and an attachment
BOTH_PDF = "/xxgk/both.pdf"
SLOW_DELAY = 1.2
BIG_SIZE = 1_000_000


def table_page(title: str, charset: str = "utf-8", extra: str = "") -> bytes:
    """A small report page with table 三 inline."""
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    rows = "".join(
        f"<tr><td>{label}</td><td>{n}</td></tr>"
        for n, label in enumerate(["本年新收政府信息公开申请数量", "予以公开", "总计"])
    )
    html = f"<html><head>{head}<title>{title}</title></head><body><h1>{title}</h1><table>{rows}</table>{extra}</body></html>"
    return html.encode("gb18030" if charset.lower() in ("gbk", "gb2312") else charset)


def link_page(title: str, href: str, text: str) -> bytes:
    """A report page whose body is only a link to the report's attachment."""
    return f'<html><head><meta charset="utf-8"><title>{title}</title></head><body><h1>{title}</h1><p><a href="{href}">{text}</a></p></body></html>'.encode()


def small_docx() -> bytes:
    """A tiny zip standing in for a .docx (the crawler never opens it); the same bytes on every call."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo("word/document.xml", date_time=(2024, 1, 1, 0, 0, 0)), "<w:document/>")
    return buffer.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _listing(links: list[tuple[str, str]], charset: str) -> bytes:
    items = "".join(f'<li><a href="{href}" title="{text}">{text}</a></li>' for href, text in links)
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    html = f'<html><head>{head}<title>政府信息公开年报</title></head><body><a href="/">首页</a><ul>{items}</ul></body></html>'
    return html.encode("gb18030" if charset == "gbk" else charset)


def government_site(site: MockSite) -> dict[str, Page]:
    """The mock site: listing /xxgk/index.html → index_1.html (GBK), and one page per behaviour."""
    year = "平潭综合实验区{}年度政府信息公开工作年度报告".format
    index = [
        ("./202001/t20200120_80576.htm", year(2019)),
        ("./202202/t20220208_80613.htm", year(2021)),
        ("att/docx.htm", "某某局2022年度政府信息公开工作年度报告"),
        ("att/pdf.htm", "某某镇2020年政府信息公开工作报告"),
        ("gbk.htm", "某某乡2023年度政府信息公开工作年度报告"),
        ("missing.htm", year(2018)),
        ("busy.htm", "2017年度信息公开年报"),
        ("slow.htm", year(2016)),
        ("moved.htm", year(2015)),
        ("old.htm", year(2014)),
        ("big.pdf", year(2013)),
        ("private/2012.htm", year(2012)),
        (site.url(OFFSITE, host="localhost"), year(2011)),
        ("jgzn.htm", "机构职能"),
        ("index_1.html", "下一页"),
    ]
    page_two = [("both.htm", year(2024)), ("index.html", "上一页"), ("index_1.html", "尾页")]
    return {
        "/robots.txt": Page(ROBOTS, "text/plain", validators=False),
        "/xxgk/index.html": Page(_listing(index, "utf-8"), validators=False),
        "/xxgk/index_1.html": Page(_listing(page_two, "gbk"), "text/html", validators=False),
        REPORT_2019: Page((CORPUS / "t20200120_80576.htm").read_bytes()),
        REPORT_2021: Page((CORPUS / "t20220208_80613.htm").read_bytes(), first=[(500, {})]),
        DOCX_PAGE: Page(link_page("某某局2022年度报告", "report2022.docx", "附件：2022年度报告.docx")),
        DOCX: Page(small_docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        PDF_PAGE: Page(link_page("某某镇2020年报告", "download?id=7", "全文下载")),
        PDF: Page(PDF_BYTES, "application/pdf"),
        GBK_PAGE: Page(table_page("某某乡2023年度政府信息公开工作年度报告", "gb2312"), "text/html"),
        BUSY: Page(table_page("2017年度信息公开年报"), first=[(429, {"Retry-After": "7"})]),
        SLOW: Page(table_page(year(2016)), delay=SLOW_DELAY),
        MOVED: Page(status=302, headers={"Location": site.url(FOREIGN, host="localhost")}, validators=False),
        FOREIGN: Page(table_page("foreign")),
        OLD: Page(status=301, headers={"Location": NEW}, validators=False),
        NEW: Page(table_page(year(2014))),
        BIG: Page(b"%PDF" + b"0" * BIG_SIZE, "application/pdf", content_length=False),
        PRIVATE: Page(table_page(year(2012))),
        OFFSITE: Page(table_page(year(2011))),
        NOT_A_REPORT: Page("<html><body>机构职能</body></html>".encode()),
        BOTH: Page(table_page(year(2024), extra='<p><a href="both.pdf">附件下载</a></p>')),
        BOTH_PDF: Page(PDF_BYTES + b"% both\n", "application/pdf"),
    }
