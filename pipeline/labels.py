"""Label normalisation: the many printed forms of one template label → one comparable key.

Labels arrive broken by line breaks (vertical text: 结\\n果\\n维\\n持), padded with spaces
(`总 计`), with half- or full-width parentheses, `、` or `，` or `．` for `.`, and curly quotes.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WHITESPACE = re.compile(r"[\s\u200b\ufeff]+")  # zero-width space and BOM too, as values.py has them
_ENUM_PUNCT = str.maketrans({"、": ".", "，": ".", ",": ".", "．": ".", "。": ".", "：": ":", "﹒": "."})
_DROP = str.maketrans("", "", "“”\"'‘’「」『』")


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Comparable key of a label: NFKC, no whitespace at all, ASCII brackets, `.` for enumerations.

    NFKC runs again once whitespace and quotes are gone when that joined a base character to a
    combining mark (`U ̄` → `Ū`), so a key is its own key and a break inside a label changes nothing.
    Cached: the same few hundred labels recur in every report.
    """
    if not text:
        return ""
    key = unicodedata.normalize("NFKC", text)
    key = key.translate(_ENUM_PUNCT).translate(_DROP)
    key = key.replace("〔", "(").replace("〕", ")").replace("[", "(").replace("]", ")")
    key = _WHITESPACE.sub("", key)
    return key if unicodedata.is_normalized("NFKC", key) else unicodedata.normalize("NFKC", key)


def printed(text: str) -> str:
    """A label as printed, whitespace removed (what the tables show as `*_label`)."""
    return _WHITESPACE.sub("", text or "")


_GROUP = re.compile(r"\(([一二三四五六七八九十])\)")
_TOP = re.compile(r"^([一二三四五六七八九十])\.")
_ITEM = re.compile(r"^(\d{1,2})\.")


_GROUP_CUT = re.compile(r"^\(([一二三四五六七八九十])$")


def group_marker(key: str) -> str | None:
    """The first `(三)`-style marker of a normalised label, or None. A label that is only the
    marker's start, `(五`, names the group too: a page break cut it (`（五` | `）不予处理`)."""
    m = _GROUP.search(key) or _GROUP_CUT.match(key)
    return f"({m.group(1)})" if m else None


def top_marker(key: str) -> str | None:
    """A leading `三.`-style section marker of a normalised label, or None."""
    m = _TOP.match(key)
    return m.group(1) if m else None


def item_number(key: str) -> int | None:
    """A leading `2.` item number of a normalised label (after any group marker), or None."""
    key = _GROUP.sub("", key, count=1) if key.startswith("(") else key
    m = _ITEM.match(key)
    return int(m.group(1)) if m else None


def contains_any(key: str, keywords: tuple[str, ...]) -> bool:
    return any(k in key for k in keywords)
