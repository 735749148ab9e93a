"""The file name a server gives a download in Content-Disposition (RFC 6266, RFC 5987), as Chinese
portals send it.

`download.jsp?id=…` and `/attach/…?fileId=…` carry no file name in the URL; the name (and so the
format) is in the header, in one of several spellings: `filename*=UTF-8''%E6%94%BF…` (RFC 5987),
`filename="%E6%94%BF….docx"` (percent-encoded UTF-8 without the `*`), a quoted name in raw UTF-8 or
GBK bytes (against the standard, common with Java and IIS servers), or RFC 2047 `=?UTF-8?B?…?=`.
The name is only ever used to tell the format and as a hint: never as a path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.header import decode_header, make_header
from urllib.parse import unquote_to_bytes

import httpx

_PARAM = re.compile(r"""([\w!#$&+.^`|~-]+\*?)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)""")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def filename(headers: Mapping[str, str]) -> str | None:
    """The file name in the response's Content-Disposition, decoded; None if there is none."""
    raw = _raw_value(headers)
    if raw is None:
        return None
    params: dict[str, str] = {}
    for name, value in _PARAM.findall(raw.decode("latin-1")):
        params.setdefault(name.lower(), value.strip())
    name = _extended(params["filename*"]) if "filename*" in params else None
    if not name and "filename" in params:
        name = _plain(params["filename"])
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name or None


def _raw_value(headers: Mapping[str, str]) -> bytes | None:
    """The header's bytes as sent (httpx would decode a GBK name as Latin-1 or UTF-8 guesswork)."""
    if isinstance(headers, httpx.Headers):
        for key, value in headers.raw:
            if key.lower() == b"content-disposition":
                return value
        return None
    value = next((v for k, v in headers.items() if k.lower() == "content-disposition"), None)
    return None if value is None else value.encode("utf-8")


def _extended(value: str) -> str | None:
    """RFC 5987 `charset'language'percent-encoded`; None if malformed or the charset is unknown."""
    parts = _unquote(value).split("'", 2)
    if len(parts) != 3:
        return None
    charset, _language, encoded = parts
    try:
        return unquote_to_bytes(encoded).decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return None


def _plain(value: str) -> str:
    """A `filename=` value: RFC 2047, percent-encoded UTF-8, raw UTF-8, raw GBK, else Latin-1."""
    text = _unquote(value)
    if text.startswith("=?") and text.endswith("?="):
        try:
            return str(make_header(decode_header(text)))
        except (LookupError, UnicodeDecodeError, ValueError):
            pass
    data = text.encode("latin-1")
    if _PERCENT.search(text):
        try:
            return unquote_to_bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return text


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value
