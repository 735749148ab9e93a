"""Report metadata: title, agency, year, and what kind of document this is.

The title comes from the document's own metadata when it reads like a report title, else from the
first paragraphs; the agency is the body that names itself in the title (巨各庄镇, 平潭综合实验区),
which may differ from the publisher in the page metadata; the year is the year reported on.
"""

from __future__ import annotations

import re

from pipeline.document import Document
from pipeline.labels import printed

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_REPORT_WORDS = ("年度报告", "年报", "工作报告", "年度工作报告")
_DISCLOSURE_WORDS = ("政府信息公开", "政务公开", "信息公开")
_TITLE_SUFFIX = re.compile(r"(政府信息公开|政务公开|信息公开).*$")


_NOT_A_REPORT = re.compile(
    r"(通知|通报|公告|意见|函|方案|办法|批复|决定|规定|要点|工作要求)$|关于(做好|印发|开展)"
)


def is_report_title(text: str) -> bool:
    """An annual-report title (…政府信息公开工作年度报告), not a notice about such reports."""
    key = printed(text)
    if _NOT_A_REPORT.search(key):
        return False
    return any(w in key for w in _REPORT_WORDS) and any(w in key for w in _DISCLOSURE_WORDS)


_CHROME = re.compile(r"^(当前位置|您的位置|你的位置|您现在的位置|位置|来源|发布时间|时间)[:：]|[>»＞›]")


def _title_like(text: str) -> bool:
    """A line that can be a title: short, not a sentence, not page chrome (breadcrumbs, 来源/时间)."""
    key = printed(text)
    return 4 <= len(key) <= 60 and not key.endswith(("。", "；", "：", ":", "，")) and not _CHROME.search(key)


def find_title(doc: Document, title_hint: str | None = None) -> str | None:
    """The document's title: metadata, else an early paragraph, else the listing's link text.

    The first title-like text that names an annual report — or a notice about reports, which makes
    the document not a report — wins; sentences that merely mention 年度报告 are not titles.
    """
    candidates = [t for t in (doc.title, *doc.paragraphs[:15], title_hint) if t and _title_like(t)]
    for text in candidates:
        if is_report_title(text) or _NOT_A_REPORT.search(printed(text)):
            return printed(text)
    return printed(candidates[0]) if candidates else None


def year_of(title: str | None, doc: Document) -> int | None:
    """The year reported on: from the title, else the first year named in the opening text."""
    if title:
        m = _YEAR.search(title)
        if m:
            return int(m.group(1))
    for text in doc.paragraphs[:10]:
        m = _YEAR.search(text)
        if m:
            return int(m.group(1))
    return None


def agency_of(title: str | None) -> str | None:
    """The body named in the title: before the year (X2020年…), else between year and 政府信息公开."""
    if not title:
        return None
    text = printed(title)
    text = re.sub(r"^(关于|[（(]?\d+[)）])", "", text)
    m = _YEAR.search(text)
    if m and m.start() > 0:
        agency = _TITLE_SUFFIX.sub("", text[: m.start()])  # also "X局政府信息公开工作年度报告（2021年）"
    elif m:
        agency = _TITLE_SUFFIX.sub("", text[m.end() :])
    else:
        agency = _TITLE_SUFFIX.sub("", text)
    agency = agency.strip("《》“”\"'：:，,、 ").removesuffix("的")
    agency = re.sub(r"(关于|公布|发布)$", "", agency)
    return agency or None
