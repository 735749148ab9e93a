"""JSON listing endpoints (CONTRACT.md v2, `listing_api`): one page of JSON → the reports it lists.

Many portals fill their listing page from an endpoint such as `/api/list?channel=12&page=3`; the page
itself holds no links. The source names the endpoint and where the items, titles, links and dates are;
no JavaScript is run. Everything here works on bytes already fetched; no network.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pipeline.config import ListingApi
from pipeline.sources.links import absolute_url

# JSONP: callback({...}); — the same JSON inside a function call.
_JSONP = re.compile(r"^\s*[\w.$]+\s*\((.*)\)\s*;?\s*$", re.DOTALL)


class ListingApiError(ValueError):
    """The endpoint's answer is not the JSON the source describes; the message says why."""


@dataclass(frozen=True, slots=True)
class ApiItem:
    """One listed document: its absolute URL, its title and (if configured) its date as given."""

    url: str
    title: str
    date: str | None = None


def api_items(
    content: bytes, charset: str | None, api: ListingApi, page_url: str
) -> tuple[list[ApiItem], int]:
    """The items of one page, links made absolute against the page's URL; and how many items had no
    usable title or link. Raises ListingApiError when the answer is not JSON."""
    document = _load(content, charset)
    listed = _lookup(document, api.items)
    if listed is None:
        return [], 0
    if isinstance(listed, dict):
        listed = list(listed.values())
    if not isinstance(listed, list):
        raise ListingApiError(f"'{api.items}' holds {type(listed).__name__}, not a list of items")
    items, unusable = [], 0
    for entry in listed:
        title, link = _text(_lookup(entry, api.title)), _text(_lookup(entry, api.link))
        url = absolute_url(page_url, link) if link else None
        if not url:
            unusable += 1
            continue
        date = _text(_lookup(entry, api.date)) if api.date else None
        items.append(ApiItem(url=url, title=title, date=date or None))
    return items, unusable


def _load(content: bytes, charset: str | None) -> object:
    text = None
    for encoding in (charset, "utf-8-sig", "gb18030"):
        if not encoding:
            continue
        try:
            text = content.decode(encoding)
            break
        except (LookupError, UnicodeDecodeError):
            continue
    if text is None:
        raise ListingApiError("the answer is not text")
    if match := _JSONP.match(text):
        text = match.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ListingApiError(f"the answer is not JSON ({exc.msg} at line {exc.lineno})") from None


def _lookup(value: object, path: str) -> object:
    """`data.list` → value["data"]["list"]; a number indexes a list; None where the path ends early."""
    for key in (k for k in path.split(".") if k):
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def _text(value: object) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())
