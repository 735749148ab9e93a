"""Decide how to decode a web page's bytes: BOM, HTTP header, <meta>, detector, fallback.

`requests`-style "ISO-8859-1 unless told otherwise" garbles GBK pages that declare their charset only in
<meta> (PITFALLS.md), and declarations are often wrong (a page migrated to UTF-8 still says gb2312). So every
declared charset is tried strictly and skipped when it does not fit the bytes. Bytes in, decision out: the
scraper and the HTML reader share this module, and no HTML parser is involved.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

__all__ = ["decode_html", "normalize_charset"]

META_SCAN_BYTES = 4096  # where <meta charset> must appear to count (HTML says 1024; CMS heads run longer)

# GB2312 and GBK are subsets of GB18030: decoding them as GB18030 reads every character they can hold,
# plus the ones publishers type anyway (GBK pages routinely carry GB18030-only characters).
_GB_ALIASES = frozenset(
    {
        "gb2312", "gb_2312", "gb_2312-80", "gb-2312", "csgb2312", "x-gbk", "gbk", "cp936", "ms936",
        "windows-936", "chinese", "iso-ir-58", "euc-cn", "euccn", "x-euc-cn", "gb18030", "gb-18030",
    }
)  # fmt: skip
# Names seen in the wild that Python does not know, and WHATWG labels whose meaning differs from Python's.
_ALIASES = {
    "utf8mb4": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "x-unicode20utf8": "utf-8",
    "x-user-defined": "cp1252",
}
# WHATWG: latin-1 and ASCII labels mean windows-1252 (which also fails strictly on GBK more often).
_AS_CP1252 = frozenset({"iso8859-1", "ascii", "cp1252"})
# Python codecs that are not page encodings: transforms, escapes, and UTF-7 (an XSS vector).
_NOT_PAGE_CODECS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "undefined", "idna", "punycode", "utf-7", "mbcs", "oem"}
)  # fmt: skip
# Charsets servers send by default (Apache, Tomcat): weak evidence, tried only after <meta> and detector.
_WEAK_HEADER = frozenset({"cp1252"})

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_META_RE = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)"""
    rb"""|<\?xml\b[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""",
    re.IGNORECASE,
)
_HEADER_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([^"';\s]+)""", re.IGNORECASE)
_DETECTOR_CANDIDATES = ["utf_8", "gb18030"]


def normalize_charset(name: str | None) -> str | None:
    """A declared charset label as a Python codec name fit for web pages, or None if unknown or unfit.

    GB2312/GBK (any spelling) become "gb18030"; latin-1/ascii labels become "cp1252" as browsers do.
    """
    if not name:
        return None
    label = name.strip().strip("\"'").strip().lower()
    if not label or len(label) > 40:
        return None
    if label in _GB_ALIASES:
        return "gb18030"
    label = _ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_CODECS:
        return None
    if info.name in ("gbk", "gb2312"):  # reached through a Python-only alias such as "936"
        return "gb18030"
    if info.name in _AS_CP1252:
        return "cp1252"
    return info.name


def decode_html(data: bytes, http_charset: str | None = None) -> tuple[str, str, str]:
    """Decode a page: (text, encoding name, how), how ∈ bom, http-header, meta, detector, fallback.

    Order: BOM (certain, so it wins as in browsers) → HTTP charset → <meta>/<?xml?> in the first 4 KB →
    detector limited to UTF-8/GB18030 → a weak HTTP charset → best lossy decode. ISO-8859-1 / ASCII in
    the header is what servers send by default, and GBK bytes often decode as Latin-1 without error: it
    is believed only when nothing else fits.
    A declaration that does not decode strictly is skipped. `http_charset` may be the bare charset or the
    whole Content-Type value.
    """
    data = bytes(data)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _strict(data[len(bom) :], encoding)
            if text is not None:
                return text, encoding, "bom"
            data = data[len(bom) :]
            break

    header = normalize_charset(_header_charset(http_charset))
    if header is not None and header not in _WEAK_HEADER:
        text = _strict(data, header)
        if text is not None:
            return text, header, "http-header"

    for declared in _meta_charsets(data):
        text = _strict(data, declared)
        if text is not None:
            return text, declared, "meta"

    detected = _detect(data)
    if detected is not None:
        return detected[0], detected[1], "detector"

    if header is not None and header in _WEAK_HEADER:  # neither UTF-8 nor GB18030: maybe it is Latin-1
        text = _strict(data, header)
        if text is not None:
            return text, header, "http-header"
    return (*_lossy(data), "fallback")


def _header_charset(value: str | None) -> str | None:
    """The charset of a Content-Type value, or the value itself when it is a bare charset."""
    if not value:
        return None
    match = _HEADER_CHARSET_RE.search(value)
    if match:
        return match.group(1)
    return None if ("/" in value or ";" in value) else value


def _meta_charsets(data: bytes) -> list[str]:
    """Usable charsets declared in <meta> (either form) or an XML declaration, in the order they appear."""
    out: list[str] = []
    for match in _META_RE.finditer(data, 0, META_SCAN_BYTES):
        raw = (match.group(1) or match.group(2)).decode("ascii", "replace")
        name = normalize_charset(raw)
        if name is not None and name.startswith("utf-16"):
            name = "utf-8"  # a page that can declare itself in ASCII is not UTF-16 (HTML spec)
        if name is not None and name not in out:
            out.append(name)
    return out


def _strict(data: bytes, encoding: str) -> str | None:
    """`data` decoded strictly, or None when it does not fit `encoding`."""
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _detect(data: bytes) -> tuple[str, str] | None:
    """Undeclared bytes: ASCII and valid UTF-8 are UTF-8; otherwise charset-normalizer, UTF-8/GB18030 only.

    Valid UTF-8 with non-ASCII bytes is practically never GBK text, and checking it first is much faster
    than the detector. Restricting the detector avoids its known GBK→Thai and GB2312→Big5 mistakes.
    """
    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    best = charset_normalizer.from_bytes(data, cp_isolation=_DETECTOR_CANDIDATES).best()
    if best is None:
        return None
    encoding = normalize_charset(best.encoding) or "utf-8"
    text = _strict(data, encoding)
    return None if text is None else (text, encoding)


def _lossy(data: bytes) -> tuple[str, str]:
    """Neither candidate fits strictly (a corrupt byte or two): the one with fewer replacement characters."""
    utf8 = data.decode("utf-8", errors="replace")
    gb = data.decode("gb18030", errors="replace")
    if gb.count("\ufffd") < utf8.count("\ufffd"):
        return gb, "gb18030"
    return utf8, "utf-8"
