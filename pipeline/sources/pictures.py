"""Pictures an HTML report shows by URL (`<img src="W0202401.png">`): its statistics tables pasted as
pictures. They are part of the page, not documents of their own: the crawler (and the folder
collector) fetches them with the page and records in its manifest entry which stored bytes stand for
which `src` (`extra["pictures"]`, JSON `[[src, sha256], …]` in page order). The parse stage hands
those bytes to the HTML reader, which reads them by OCR where they stand, as it reads `data:` URIs.

Pictures are fetched only for a page that does not show all three statistics tables as text (a page
whose tables are text needs none: logos and QR codes are not fetched for every report).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

EXTRA_KEY = "pictures"
MAX_PICTURES = 20  # per page: three tables, or a few scanned pages; more is a gallery, not a report
MAX_PICTURE_BYTES = 20 * 1024 * 1024
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
# Words of each statistics table (二, 三, 四): a page whose tables hold all three needs no pictures.
_TABLE_WORDS = (("规范性文件", "行政许可", "行政处罚"), ("申请",), ("复议", "诉讼"))


def picture_sources(tree: etree._Element | None) -> list[str]:
    """The `src` of each `<img>` linked by URL (not a `data:` URI), as written, in page order, once
    each, at most MAX_PICTURES."""
    if tree is None:
        return []
    out: list[str] = []
    for img in tree.iter("img"):
        src = (img.get("src") or "").strip()
        if src and not src.lower().startswith(("data:", "javascript:")) and src not in out:
            out.append(src)
            if len(out) == MAX_PICTURES:
                break
    return out


def shows_all_tables(tree: etree._Element | None) -> bool:
    """Whether the page's own tables hold the words of tables 二, 三 and 四 (then its pictures are
    not the report's tables)."""
    if tree is None:
        return False
    text = "".join(table.text_content() for table in tree.iter("table"))
    return all(any(word in text for word in words) for words in _TABLE_WORDS)


def is_picture(data: bytes) -> bool:
    """PNG, JPEG or GIF bytes (what a report page shows; an SVG logo or an error page is none)."""
    return data.startswith(_MAGIC)


def encode(pairs: list[tuple[str, str]]) -> str:
    """The manifest value: `[[src, sha256], …]`."""
    return json.dumps([list(pair) for pair in pairs], ensure_ascii=False)


def decode(extra: Mapping[str, str]) -> list[tuple[str, str]]:
    """(src, sha256) pairs a manifest entry records; none when it records none (or garbage)."""
    try:
        pairs = json.loads(extra.get(EXTRA_KEY) or "[]")
    except ValueError:
        return []
    return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list) and len(p) == 2]


def local_pictures(page: Path, tree: etree._Element | None, root: Path) -> list[tuple[str, bytes]]:
    """(src, bytes) of the pictures a saved page links by relative path to files inside `root` (a
    browser's "save page": `report_files/image001.png`). Nothing outside `root` (symbolic links
    resolved), nothing that is not a picture or is too large."""
    out = []
    root = root.resolve()
    for src in picture_sources(tree):
        parts = urlsplit(src)
        if parts.scheme or parts.netloc or not parts.path:
            continue
        path = (page.parent / unquote(parts.path)).resolve()
        if not path.is_relative_to(root) or not path.is_file():  # resolved: a link out of root is out
            continue
        try:
            if path.stat().st_size > MAX_PICTURE_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if is_picture(data):
            out.append((src, data))
    return out
