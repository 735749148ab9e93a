"""Reading government listing and report pages: which links are reports, pages, attachments.

Listings link reports by their titles (…2023年度政府信息公开工作年度报告) among hundreds of navigation
links; report pages either carry the report's tables inline or only link a .docx/.pdf attachment
(QUIRKS.md, "Documents and pages"). Everything here works on decoded text; no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from posixpath import dirname
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree, html

_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_REPORT = re.compile(r"年度报告|年报|政府信息公开.*报告")
_PAGER_TEXT = re.compile(r"^(?:下一?页|尾页|末页|\d{1,4}|\[\d{1,4}\])$")
_PAGER_HREF = re.compile(r"(?:^|/)index(?:_\d+)?\.s?html?$", re.IGNORECASE)
# TRS CMS listings build their pager in JavaScript: createPageHTML(page_count, current, "index", "html").
_TRS_PAGER = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*\d+\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']")
_ATTACHMENT_EXT = re.compile(r"\.(?:docx|doc|pdf|wps|txt)$", re.IGNORECASE)
_ATTACHMENT_TEXT = re.compile(r"附件|全文下载")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
# Words that appear in the report's tables (二、三、四) and rarely in layout tables.
_TABLE_WORDS = ("申请", "复议", "诉讼", "规范性文件", "行政许可", "行政处罚")


@dataclass(frozen=True, slots=True)
class Link:
    """An absolute link (fragment removed) and its label: the longer of its text and its title."""

    url: str
    label: str


def parse_html(text: str) -> etree._Element | None:
    """An lxml tree, or None for an empty or unparsable page (lxml refuses str with an XML declaration)."""
    try:
        return html.fromstring(_XML_DECL.sub("", text, count=1))
    except (etree.ParserError, ValueError):
        return None


def page_links(tree: etree._Element | None, base_url: str) -> list[Link]:
    """Every followable link on the page, in document order (no javascript:, mailto:, empty or self links)."""
    if tree is None:
        return []
    base = urldefrag(base_url).url
    links = []
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        try:
            url = urldefrag(urljoin(base, href)).url
            scheme = urlsplit(url).scheme
        except ValueError:  # e.g. a malformed IPv6 host: not a link anyone can follow
            continue
        if scheme not in ("http", "https", "file") or url == base:
            continue
        text = " ".join(a.text_content().split())
        title = " ".join((a.get("title") or "").split())
        links.append(Link(url=url, label=max(text, title, key=len)))
    return links


def page_title(tree: etree._Element | None) -> str | None:
    """The page's <title>, whitespace collapsed."""
    if tree is None:
        return None
    title = " ".join((tree.findtext(".//title") or "").split())
    return title or None


def is_report(label: str) -> bool:
    """A link to an annual disclosure report: its title names a year and an annual report."""
    return bool(_YEAR.search(label) and _REPORT.search(label))


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
    """A report page's attachment: a document file, or a link labelled 附件 / 全文下载."""
    return bool(_ATTACHMENT_EXT.search(urlsplit(link.url).path) or _ATTACHMENT_TEXT.search(link.label))


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
