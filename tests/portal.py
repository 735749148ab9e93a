"""A generated government portal for tests/mock_site.py: every way real portals hide their reports.

`build_portal(site, n)` lays out n report documents (synthetic reports with their truth: html, docx,
txt; PDFs are fetched, not read) behind the patterns of PATTERNS, in turn: titles cut short with the
full one in `title`, titles only in a sibling span, download endpoints typed by each spelling of
Content-Disposition or only by Content-Type or by their bytes, pdf.js viewers, frames, onclick and
javascript: links, and a JSON listing endpoint of 3 pages. Around them: links robots.txt forbids
(`*`, `$`, and an Allow that wins by length), a report on a foreign host, a header frame, and a
robots.txt with a Crawl-delay. The HTML listing spreads its reports over pages whose order follows
`order_seed`: another seed moves reports between pages, as a CMS does when something is published.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from tests.mock_site import PDF_BYTES, MockSite, Page
from tests.synth import make_spec, render

CRAWL_DELAY = 0.05
ROBOTS = f"""User-agent: *
Crawl-delay: {CRAWL_DELAY}
Disallow: /xxgk/*/private/
Disallow: /*.bak$
Disallow: /xxgk/archive/
Allow: /xxgk/archive/*.htm$
""".encode()
LISTING = "/xxgk/nb/index.html"
API = "/api/list?channel=12&page={page}"
PER_LISTING_PAGE = 8
API_PAGES = 3
OCTET = "application/octet-stream"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

#: pattern → format of the report document behind it
PATTERNS = {
    "title_attr": "html",  # link text cut with "...", the full title in title=""
    "ellipsis_attachment": "docx",  # text cut with "…"; the page links 附件：….docx
    "span_title": "html",  # <li><span class="title">…</span><a>查看</a></li>
    "cd_rfc5987": "docx",  # download.jsp?id=: filename*=UTF-8''%E6…
    "cd_gbk": "docx",  # /attach/file?fileId=: filename="<GBK bytes>"
    "cd_percent": "txt",  # linked from the listing itself: filename="%E6….txt"
    "content_type": "docx",  # download.jsp?id=: no name, the Content-Type says docx
    "magic": "docx",  # /attach/get?fileId=: octet-stream, no name: the bytes say PK
    "viewer": "pdf",  # the listing links pdf.js: viewer.html?file=/xxgk/files/N.pdf
    "iframe_page": "html",  # the report page frames the report (and a site header)
    "iframe_viewer": "pdf",  # the report page frames pdf.js showing the PDF
    "object": "docx",  # <object data="files/N.docx">
    "onclick": "html",  # <a href="javascript:void(0)" onclick="window.open('…')">
    "location": "html",  # <li onclick="location.href='…'">
    "javascript": "txt",  # <a href="javascript:openFile('/xxgk/files/N.txt')">
    "archive": "html",  # under /xxgk/archive/, allowed by the longer Allow …*.htm$
    "api_page": "html",  # JSON listing item → report page
    "api_file": "docx",  # JSON listing item → the .docx itself (relative link)
}


@dataclass(frozen=True)
class PortalDoc:
    """One report document on the portal: where it is served, how it is reached, what it says."""

    path: str
    fmt: str
    pattern: str
    title: str
    body: bytes
    truth: dict | None  # None for PDFs: fetched and stored, not read here


@dataclass
class Portal:
    pages: dict[str, Page]
    docs: list[PortalDoc]
    forbidden: list[str]  # report-titled paths robots.txt disallows
    foreign: str  # a report-titled URL on a host outside allowed_domains
    listed: list[str]  # the HTML listing's entries (<li> markup)
    api_docs: list[PortalDoc]


def build_portal(site: MockSite, n: int, *, seed: int = 1, order_seed: int = 0) -> Portal:
    """n report documents behind the patterns, in turn; their pages, listings and robots.txt."""
    portal = Portal(pages={}, docs=[], forbidden=[], foreign="", listed=[], api_docs=[])
    names = list(PATTERNS)
    seen: set[tuple[str, int]] = set()
    spec_seed = seed * 100_000
    for i in range(n):
        pattern = names[i % len(names)]
        fmt = PATTERNS[pattern]
        while True:  # one document per (agency, year): none is a duplicate of another
            spec_seed += 1
            spec = make_spec(spec_seed)
            if (spec.agency, spec.year) not in seen:
                seen.add((spec.agency, spec.year))
                break
        rendering = render(spec, "html" if fmt == "pdf" else fmt)
        title = rendering.truth["title"]
        body = PDF_BYTES + f"% {i}\n".encode() if fmt == "pdf" else rendering.data
        truth = None if fmt == "pdf" else rendering.truth
        _PATTERN_BUILDERS[pattern](portal, i, title, body, truth, pattern)
    portal.pages["/robots.txt"] = Page(ROBOTS, "text/plain", validators=False)
    portal.pages["/xxgk/common/header.html"] = Page("<html><body><h1>政务公开</h1></body></html>".encode())
    _noise(portal, site)
    portal.pages.update(listing_pages(portal, order_seed))
    portal.pages.update(api_pages(portal))
    return portal


def listing_pages(portal: Portal, order_seed: int) -> dict[str, Page]:
    """The HTML listing: PER_LISTING_PAGE entries per page, in an order drawn from `order_seed`."""
    entries = list(portal.listed)
    random.Random(order_seed).shuffle(entries)
    chunks = [entries[i : i + PER_LISTING_PAGE] for i in range(0, len(entries), PER_LISTING_PAGE)] or [[]]
    pages = {}
    for k, chunk in enumerate(chunks):
        name = "index.html" if k == 0 else f"index_{k}.html"
        pager = f'<a href="index_{k + 1}.html">下一页</a>' if k + 1 < len(chunks) else ""
        body = (
            '<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body>'
            '<a href="/">首页</a><a href="/xxgk/">政务公开</a>'
            f'<ul class="list">{"".join(chunk)}</ul><div class="page">{pager}</div></body></html>'
        )
        pages[f"/xxgk/nb/{name}"] = Page(body.encode(), validators=False)
    return pages


def api_pages(portal: Portal) -> dict[str, Page]:
    """The JSON listing: the items dealt over API_PAGES pages under data.list, then an empty list."""
    docs = portal.api_docs
    pages = {}
    for page in range(1, API_PAGES + 2):
        chunk = docs[page - 1 :: API_PAGES] if page <= API_PAGES else []
        items = [
            {"title": d.title, "url": _api_link(d), "pubDate": f"2024-01-{1 + j:02d}"}
            for j, d in enumerate(chunk)
        ]
        body = json.dumps({"code": 0, "data": {"total": len(docs), "list": items}}, ensure_ascii=False)
        pages[API.format(page=page)] = Page(
            body.encode(), "application/json; charset=utf-8", validators=False
        )
    return pages


# --- the patterns ------------------------------------------------------------------------------------


def _li(href: str, text: str, title: str | None = None) -> str:
    attr = f' title="{escape(title)}"' if title else ""
    return f'<li><a href="{escape(href)}"{attr}>{escape(text)}</a><span class="date">2024-03-08</span></li>'


def _report_page(title: str, inner: str) -> bytes:
    return (
        f'<html><head><meta charset="utf-8"><title>{escape(title)}</title></head><body>'
        f'<div class="header"><a href="/">首页</a><a href="/xxgk/download/">下载中心</a></div>'
        f"<h1>{escape(title)}</h1>{inner}</body></html>"
    ).encode()


def _doc(
    portal: Portal, path: str, fmt: str, pattern: str, title: str, body: bytes, truth: dict | None
) -> PortalDoc:
    doc = PortalDoc(path, fmt, pattern, title, body, truth)
    portal.docs.append(doc)
    return doc


def _content_type(fmt: str) -> str:
    return {
        "html": "text/html; charset=utf-8",
        "txt": "text/plain; charset=utf-8",
        "pdf": "application/pdf",
    }.get(fmt, DOCX_TYPE)


def _served(portal: Portal, path: str, body: bytes, fmt: str, **kw: object) -> None:
    portal.pages[path] = Page(body, kw.pop("content_type", _content_type(fmt)), **kw)  # type: ignore[arg-type]


def _html_page(portal, i, title, body, truth, pattern, *, markup) -> None:
    path = f"/xxgk/nb/2024/t{i}.htm"
    _served(portal, path, body, "html")
    _doc(portal, path, "html", pattern, title, body, truth)
    portal.listed.append(markup(f"2024/t{i}.htm"))


def _title_attr(portal, i, title, body, truth, pattern) -> None:
    _html_page(portal, i, title, body, truth, pattern, markup=lambda h: _li(h, title[:16] + "...", title))


def _span_title(portal, i, title, body, truth, pattern) -> None:
    def markup(href: str) -> str:
        return (
            f'<li><span class="title">{escape(title)}</span><a href="{href}">查看</a>'
            '<span class="date">2024-03-08</span></li>'
        )

    _html_page(portal, i, title, body, truth, pattern, markup=markup)


def _onclick(portal, i, title, body, truth, pattern) -> None:
    def markup(href: str) -> str:
        return f'<li><a href="javascript:void(0)" onclick="window.open(\'{href}\')">{escape(title)}</a></li>'

    _html_page(portal, i, title, body, truth, pattern, markup=markup)


def _location(portal, i, title, body, truth, pattern) -> None:
    _html_page(
        portal,
        i,
        title,
        body,
        truth,
        pattern,
        markup=lambda h: f"<li onclick=\"location.href='{h}'\">{escape(title)}</li>",
    )


def _archive(portal, i, title, body, truth, pattern) -> None:
    path = f"/xxgk/archive/t{i}.htm"
    _served(portal, path, body, "html")
    _doc(portal, path, "html", pattern, title, body, truth)
    portal.listed.append(_li(path, title))
    portal.forbidden.append(path + "?print=1")  # the same page for printing: Disallow wins without $
    portal.listed.append(_li(path + "?print=1", title + "（打印版）"))


def _wrapper(portal: Portal, i: int, title: str, inner: str, text: str | None = None) -> None:
    """A report page at /xxgk/nb/2024/p{i}.htm that only shows its document through `inner`."""
    portal.pages[f"/xxgk/nb/2024/p{i}.htm"] = Page(_report_page(title, inner))
    portal.listed.append(_li(f"2024/p{i}.htm", text or title, title if text else None))


def _ellipsis_attachment(portal, i, title, body, truth, pattern) -> None:
    path = f"/xxgk/nb/2024/att/{i}.docx"
    _doc(portal, path, "docx", pattern, title, body, truth)
    _served(portal, path, body, "docx")
    _wrapper(
        portal, i, title, f'<p><a href="att/{i}.docx">附件：{escape(title)}.docx</a></p>', title[:14] + "…"
    )


def _download(
    portal, i, title, body, truth, pattern, *, path, href, label, fmt, headers, content_type
) -> None:
    _doc(portal, path, fmt, pattern, title, body, truth)
    portal.pages[path] = Page(body, content_type, headers=headers)
    if label is None:  # linked from the listing itself
        portal.listed.append(_li(href, title))
    else:
        _wrapper(portal, i, title, f'<p><a href="{escape(href)}">{label}</a></p>')


def _cd_rfc5987(portal, i, title, body, truth, pattern) -> None:
    name = quote(f"{title}.docx", safe="")
    _download(
        portal,
        i,
        title,
        body,
        truth,
        pattern,
        path=f"/download.jsp?id={i}",
        href=f"/download.jsp?id={i}",
        label="全文下载",
        fmt="docx",
        content_type=OCTET,
        headers={"Content-Disposition": f"attachment; filename=\"report.bin\"; filename*=UTF-8''{name}"},
    )


def _cd_gbk(portal, i, title, body, truth, pattern) -> None:
    raw = b'attachment; filename="' + f"{title}.docx".encode("gbk") + b'"'
    _download(
        portal,
        i,
        title,
        body,
        truth,
        pattern,
        path=f"/attach/file?fileId={i}",
        href=f"/attach/file?fileId={i}",
        label="附件1",
        fmt="docx",
        content_type=OCTET,
        headers={"Content-Disposition": raw},
    )


def _cd_percent(portal, i, title, body, truth, pattern) -> None:
    name = quote(f"{title}.txt", safe="")
    _download(
        portal,
        i,
        title,
        body,
        truth,
        pattern,
        path=f"/download.jsp?id={i}",
        href=f"/download.jsp?id={i}",
        label=None,
        fmt="txt",
        content_type=OCTET,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _content_type_only(portal, i, title, body, truth, pattern) -> None:
    _download(
        portal,
        i,
        title,
        body,
        truth,
        pattern,
        path=f"/download.jsp?id={i}",
        href=f"/download.jsp?id={i}",
        label="点击下载",
        fmt="docx",
        content_type=DOCX_TYPE,
        headers={},
    )


def _magic(portal, i, title, body, truth, pattern) -> None:
    _download(
        portal,
        i,
        title,
        body,
        truth,
        pattern,
        path=f"/attach/get?fileId={i}",
        href=f"/attach/get?fileId={i}",
        label=None,
        fmt="docx",
        content_type=OCTET,
        headers={},
    )


def _viewer(portal, i, title, body, truth, pattern) -> None:
    path = f"/xxgk/files/{i}.pdf"
    _doc(portal, path, "pdf", pattern, title, body, truth)
    _served(portal, path, body, "pdf")
    portal.listed.append(_li(f"/pdfjs/web/viewer.html?file={path}", title))


def _iframe_page(portal, i, title, body, truth, pattern) -> None:
    path = f"/xxgk/nb/2024/content/{i}.html"
    _doc(portal, path, "html", pattern, title, body, truth)
    _served(portal, path, body, "html")
    frames = f'<iframe src="/xxgk/common/header.html"></iframe><iframe src="content/{i}.html"></iframe>'
    _wrapper(portal, i, title, frames)


def _iframe_viewer(portal, i, title, body, truth, pattern) -> None:
    path = f"/xxgk/files/{i}.pdf"
    _doc(portal, path, "pdf", pattern, title, body, truth)
    _served(portal, path, body, "pdf")
    viewer = f"/pdfjs/web/viewer.html?file={quote(path, safe='')}"
    _wrapper(portal, i, title, f'<iframe src="{viewer}" width="100%"></iframe>')


def _object(portal, i, title, body, truth, pattern) -> None:
    path = f"/xxgk/nb/2024/files/{i}.docx"
    _doc(portal, path, "docx", pattern, title, body, truth)
    _served(portal, path, body, "docx")
    _wrapper(portal, i, title, f'<object data="files/{i}.docx" type="{DOCX_TYPE}"></object>')


def _javascript(portal, i, title, body, truth, pattern) -> None:
    path = f"/xxgk/files/{i}.txt"
    _doc(portal, path, "txt", pattern, title, body, truth)
    _served(portal, path, body, "txt")
    portal.listed.append(_li(f"javascript:openFile('{path}')", title))


def _api_page(portal, i, title, body, truth, pattern) -> None:
    path = f"/xxgk/api/t{i}.htm"
    _served(portal, path, body, "html")
    portal.api_docs.append(_doc(portal, path, "html", pattern, title, body, truth))


def _api_file(portal, i, title, body, truth, pattern) -> None:
    path = f"/xxgk/api/files/{i}.docx"
    _served(portal, path, body, "docx")
    portal.api_docs.append(_doc(portal, path, "docx", pattern, title, body, truth))


def _api_link(doc: PortalDoc) -> str:
    """Items link absolutely, or relative to the endpoint (/api/list → /xxgk/…)."""
    return doc.path if doc.fmt == "html" else ".." + doc.path


def _noise(portal: Portal, site: MockSite) -> None:
    """Links no polite crawler of this source may follow, each titled like a report."""
    for path in ("/xxgk/nb/2023/private/t1.htm", "/xxgk/files/2019.bak"):
        portal.pages[path] = Page(b"<html><body>forbidden</body></html>")
        portal.forbidden.append(path)
        portal.listed.append(_li(path, "某某局2019年度政府信息公开工作年度报告（内部）"))
    portal.foreign = site.url("/xxgk/nb/2024/foreign.htm", host="localhost")
    portal.listed.append(_li(portal.foreign, "外区2022年政府信息公开工作年度报告"))


_PATTERN_BUILDERS = {
    "title_attr": _title_attr,
    "ellipsis_attachment": _ellipsis_attachment,
    "span_title": _span_title,
    "cd_rfc5987": _cd_rfc5987,
    "cd_gbk": _cd_gbk,
    "cd_percent": _cd_percent,
    "content_type": _content_type_only,
    "magic": _magic,
    "viewer": _viewer,
    "iframe_page": _iframe_page,
    "iframe_viewer": _iframe_viewer,
    "object": _object,
    "onclick": _onclick,
    "location": _location,
    "javascript": _javascript,
    "archive": _archive,
    "api_page": _api_page,
    "api_file": _api_file,
}


def sources_yaml(
    site: MockSite, name: str = "portal", *, region: str = "测试市测试区", extra: str = ""
) -> str:
    """A sources-file entry crawling the portal from its HTML listing and its JSON endpoint."""
    return (
        f"  - name: {name}\n    region: {region}\n"
        f"    start_urls: [{site.url(LISTING)}]\n"
        f"    listing_api:\n      url: {site.url(API)}\n      items: data.list\n"
        "      title: title\n      link: url\n      date: pubDate\n"
        f"    allowed_domains: ['127.0.0.1']\n    delay_seconds: 0\n{extra}"
    )
