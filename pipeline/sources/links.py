"""Reading government listing and report pages: which links are reports, pages, attachments.

Listings link reports by their titles (…2023年度政府信息公开工作年度报告) among hundreds of navigation
links; report pages either carry the report's tables inline or only link a .docx/.pdf attachment
(QUIRKS.md, "Documents and pages"). Everything here works on decoded text; no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from posixpath import dirname
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from lxml import etree, html

_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_REPORT = re.compile(r"年度报告|年报|政府信息公开.*报告")
_PAGER_TEXT = re.compile(r"^(?:下一?页|尾页|末页|\d{1,4}|\[\d{1,4}\])$")
_PAGER_HREF = re.compile(r"(?:^|/)index(?:_\d+)?\.s?html?$", re.IGNORECASE)
# TRS CMS listings build their pager in JavaScript: createPageHTML(page_count, current, "index", "html").
_TRS_PAGER = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*\d+\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']")
_ATTACHMENT_EXT = re.compile(r"\.(?:docx|doc|pdf|wps|txt)$", re.IGNORECASE)
_ATTACHMENT_TEXT = re.compile(r"附件|全文下载|点击下载|下载全文|文件下载")
_DOWNLOAD_URL = re.compile(r"download|attach|getfile|downfile|filedown|file_?id=", re.IGNORECASE)
_HTML_PATH = re.compile(r"\.s?html?$|/$", re.IGNORECASE)
_TRUNCATED = re.compile(r"\s*(?:\.{2,}|…+|。{2,}|·{3,})\s*$")
_CUT_YEAR = re.compile(r"(?:19|20)\d{0,2}$")  # a year cut by the ellipsis: （202...
_DISCLOSURE_WORK = re.compile(r"信息公开工作")
# A navigation in an onclick handler or javascript: URL: window.open('…'), location.href = '…', …
_NAVIGATE = re.compile(
    r"""(?:window\.open|location\.(?:assign|replace))\s*\(\s*["']([^"']+)["']"""
    r"""|location(?:\.href)?\s*=\s*["']([^"']+)["']"""
)
# The literal first argument of a call in a javascript: URL, kept when it looks like a path or file.
_CALL_ARG = re.compile(r"""[\w.$]+\s*\(\s*["']([^"']+)["']""")
_URL_LIKE = re.compile(r"^(?:https?://|/|\.\.?/)|/|\.[A-Za-z]{2,5}(?:[?#]|$)")
_EMBED_ATTR = {"iframe": "src", "frame": "src", "embed": "src", "object": "data"}
_VIEWER_PARAMS = frozenset({"file", "url", "src", "filepath", "fileurl", "path"})
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
# Words that appear in the report's tables (二、三、四) and rarely in layout tables.
_TABLE_WORDS = ("申请", "复议", "诉讼", "规范性文件", "行政许可", "行政处罚")


@dataclass(frozen=True, slots=True)
class Link:
    """An absolute link (fragment removed, viewer unwrapped) and its label: the best title found for it."""

    url: str
    label: str
    text: str = ""  # the link's own text as shown (查看, 下载, a cut title…)
    embedded: bool = False  # an <iframe>/<embed>/<object> source: the page shows this document itself


def parse_html(text: str) -> etree._Element | None:
    """An lxml tree, or None for an empty or unparsable page (lxml refuses str with an XML declaration)."""
    try:
        return html.fromstring(_XML_DECL.sub("", text, count=1))
    except (etree.LxmlError, ValueError):  # LxmlError: also libxml2's resource limits on hostile pages
        return None


def page_links(tree: etree._Element | None, base_url: str) -> list[Link]:
    """Every followable link on the page, in document order: <a>/<area> hrefs, literal URLs in
    `javascript:` hrefs and onclick handlers, and frame/embed/object sources. No mailto:, empty or
    self links; pdf.js-style viewer URLs are replaced by the document they show."""
    if tree is None:
        return []
    base = urldefrag(base_url).url
    links = []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        for target, embedded in _targets(element):
            url = absolute_url(base, target)
            if url is None or url == base:
                continue
            if embedded:
                label = _clean(element.get("title") or element.get("name"))
                links.append(Link(url, label, label, embedded=True))
            else:
                text = _clean(element.text_content())
                links.append(Link(url, link_title(element, text), text))
    return links


def _targets(element: etree._Element) -> list[tuple[str, bool]]:
    """(raw URL, embedded) pairs an element points to."""
    tag = element.tag.lower()
    found = []
    if tag in ("a", "area"):
        href = (element.get("href") or "").strip()
        if href.lower().startswith("javascript:"):
            found += [(u, False) for u in script_urls(href, call=True)]
        elif href and not href.startswith("#"):
            found.append((href, False))
    if tag in _EMBED_ATTR and (src := (element.get(_EMBED_ATTR[tag]) or "").strip()):
        found.append((src, True))
    if onclick := element.get("onclick"):
        found += [(u, False) for u in script_urls(onclick)]
    return found


def script_urls(script: str, *, call: bool = False) -> list[str]:
    """Literal URLs a handler navigates to: window.open('…'), location.href='…', location.assign('…');
    with `call`, also the literal first argument of any call in a `javascript:` URL when it looks like
    a path (`javascript:openFile('/attach/2023.pdf')`). A URL built at run time is not guessed."""
    urls = [m.group(1) or m.group(2) for m in _NAVIGATE.finditer(script)]
    if call and not urls:
        urls = [m.group(1) for m in _CALL_ARG.finditer(script) if _URL_LIKE.search(m.group(1))]
    return [u.strip() for u in urls if u.strip()]


def absolute_url(base: str, target: str) -> str | None:
    """The absolute http(s)/file URL of a link target, fragment removed and viewer unwrapped."""
    try:
        url = urldefrag(urljoin(base, target)).url
        if urlsplit(url).scheme not in ("http", "https", "file"):
            return None
        return unwrap_viewer(url)
    except ValueError:  # e.g. a malformed IPv6 host: not a link anyone can follow
        return None


def unwrap_viewer(url: str) -> str:
    """The document a viewer page shows (`…/viewer.html?file=/f/2023.pdf` → `…/f/2023.pdf`), else `url`.

    pdf.js and its imitators name the document in a query parameter, resolved against the viewer."""
    for key, value in parse_qsl(urlsplit(url).query):
        if key.lower() in _VIEWER_PARAMS and _ATTACHMENT_EXT.search(urlsplit(value).path):
            inner = urldefrag(urljoin(url, value)).url
            if urlsplit(inner).scheme in ("http", "https", "file"):
                return inner
    return url


def link_title(element: etree._Element, text: str) -> str:
    """The best title for a link: its `title` attribute, its text, or (when neither is a report title)
    the text around it in its list item or table row. A title cut short (…, ...) loses to a full one."""
    candidates = [_clean(element.get("title")), text]
    if not any(is_report(c) and not is_truncated(c) for c in candidates):
        candidates += _context(element)
    return best_title(candidates)


def best_title(candidates: list[str]) -> str:
    """The fullest report-like title among candidates: untruncated before truncated, report titles
    before other text, then the longest."""
    present = [c for c in candidates if c]
    pool = [c for c in present if not is_truncated(c)] or present
    reports = [c for c in pool if is_report(c)]
    return max(reports or pool, key=len, default="")


def is_truncated(label: str) -> bool:
    """A title a CMS cut to fit the listing: it ends in ..., … or 。。。"""
    return bool(_TRUNCATED.search(label))


def _context(element: etree._Element) -> list[str]:
    """Texts next to the link in its enclosing elements (up to 3 levels), e.g. the title in
    `<li><span class="title">…</span><a>查看</a></li>`; never from an element that holds links to two
    other places or another report's link (a whole list would lend every title to every link)."""
    own = (element.get("href") or "").strip()
    child, parent = element, element.getparent()
    for _level in range(3):
        if parent is None:
            break
        others = [a for a in parent.iter("a") if (a.get("href") or "").strip() not in ("", own)]
        if len({a.get("href") for a in others}) > 1 or any(
            is_report(_clean(a.text_content())) for a in others
        ):
            break
        pieces = [parent.text] + [t for c in parent if isinstance(c.tag, str) for t in _around(c, child)]
        pieces = [_clean(p) for p in pieces]
        if any(is_report(p) for p in pieces):
            return pieces
        child, parent = parent, parent.getparent()
    return []


def _around(node: etree._Element, skip: etree._Element) -> tuple[str, ...]:
    """A sibling's text and tail; only the tail of the branch holding the link itself."""
    return (node.tail or "",) if node is skip else (node.text_content(), node.tail or "")


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def page_title(tree: etree._Element | None) -> str | None:
    """The page's <title>, whitespace collapsed."""
    if tree is None:
        return None
    title = " ".join((tree.findtext(".//title") or "").split())
    return title or None


def is_report(label: str) -> bool:
    """A link to an annual disclosure report: its title names a year and an annual report.

    A title cut short (…工作年... or …年报（202...) counts when what is left names a year, or the start
    of one, and the report or the disclosure work."""
    if _YEAR.search(label) and _REPORT.search(label):
        return True
    if not is_truncated(label):
        return False
    stem = _TRUNCATED.sub("", label)
    has_year = _YEAR.search(stem) or _CUT_YEAR.search(stem)
    return bool(has_year and (_REPORT.search(stem) or _DISCLOSURE_WORK.search(stem)))


def is_pagination(link: Link, listing_url: str) -> bool:
    """A pager link of this listing: labelled 下一页/尾页/a page number, or named index_N.html,
    and in the listing's own folder (so a 首页-style site link never widens the crawl)."""
    if not same_folder(link.url, listing_url):
        return False
    return bool(_PAGER_TEXT.match(link.label) or _PAGER_HREF.search(urlsplit(link.url).path))


def script_pages(text: str, listing_url: str) -> list[str]:
    """Pages of a TRS JavaScript pager: index.html, index_1.html, … index_{n-1}.html."""
    match = _TRS_PAGER.search(text)
    if not match:
        return []
    count, stem, ext = int(match.group(1)), match.group(2), match.group(3)
    names = [f"{stem}.{ext}"] + [f"{stem}_{i}.{ext}" for i in range(1, count)]
    return [urljoin(listing_url, name) for name in names]


def is_attachment(link: Link) -> bool:
    """A report page's attachment: a document file (by URL or by the name it is labelled with), a
    download endpoint (download.jsp?id=…, /attach/…?fileId=…), a link labelled 附件 / 全文下载, or a
    document the page embeds."""
    path = urlsplit(link.url).path
    return bool(
        link.embedded
        or _ATTACHMENT_EXT.search(path)
        or _ATTACHMENT_EXT.search(link.text)
        or _ATTACHMENT_TEXT.search(link.label)
        or (_DOWNLOAD_URL.search(link.url) and not _HTML_PATH.search(path))
    )


def has_report_table(tree: etree._Element | None) -> bool:
    """Whether the page carries the report's tables inline (not only layout tables)."""
    if tree is None:
        return False
    for table in tree.iter("table"):
        if len(table.findall(".//tr")) >= 3:
            text = table.text_content()
            if any(word in text for word in _TABLE_WORDS):
                return True
    return False


def same_folder(url: str, listing_url: str) -> bool:
    """Same scheme, host and folder as the listing page."""
    a, b = urlsplit(url), urlsplit(listing_url)
    return (a.scheme, a.netloc, dirname(a.path)) == (b.scheme, b.netloc, dirname(b.path))
