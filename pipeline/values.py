"""Value rules: printed cell text → number, null, or unreadable with a reason. Never a guess.

blank, `/`, `-`, `—`, `不适用` → null (not applicable / left empty); `0`, `无` → 0; signs;
full-width digits; thousands separators; `元` / `万元` → 万元 for amounts.
Readings are cached: most cells of most reports print the same few values ("0", "1", "/").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_NULL_MARKS = {"", "/", "-", "—", "——", "–", "－", "不适用", "N/A", "n/a", "NA", "\\", "、"}
_ZERO_MARKS = {"无", "零"}
_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?$")
_COUNT_SUFFIX = ("件", "个", "项", "次", "条", "人", "家")
_SPACES = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_SPLIT_DIGITS = re.compile(r"\d[\s\u00a0\u3000]+[\d+-]")


@dataclass(frozen=True, slots=True)
class Reading:
    """The result of reading one cell: a value (None for blank/n.a.) or an unreadable reason."""

    value: float | None
    unreadable: str | None = None


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "")
    text = text.replace("＋", "+").replace("−", "-").replace("﹣", "-").replace("–", "-")
    return _SPACES.sub("", text)


def _number(text: str) -> float | None:
    m = _NUMBER.match(text)
    if not m:
        return None
    sign, digits, frac = m.groups()
    value = float(digits.replace(",", "") + (frac or ""))
    return -value if sign == "-" else value


@lru_cache(maxsize=65536)
def read_count(raw: str, *, signed: bool = False, integer: bool = True) -> Reading:
    """A count cell. `signed` admits +/- (本年增/减); `integer` refuses fractions."""
    if raw is not None and "\n" in raw.strip() and len(_clean(raw)) > 0:
        lines = [ln for ln in raw.split("\n") if _clean(ln)]
        if len(lines) > 1:
            return Reading(None, f"several values in one cell: {raw.strip()!r}")
    text = _clean(raw)
    if text in _NULL_MARKS or set(text) <= {"/", "-", "—"}:
        return Reading(None)
    if text in _ZERO_MARKS:
        return Reading(0.0)
    if _SPLIT_DIGITS.search(unicodedata.normalize("NFKC", raw.strip())):
        return Reading(None, f"several numbers in one cell: {raw.strip()!r}")
    for suffix in _COUNT_SUFFIX:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    value = _number(text)
    if value is None:
        return Reading(None, f"not a number: {raw.strip()!r}")
    if text.startswith("+") and not signed:
        value = abs(value)
    if integer and value != int(value):
        return Reading(None, f"not a whole number: {raw.strip()!r}")
    if integer and abs(value) >= 10**9:
        return Reading(None, f"implausibly large count (cells run together?): {raw.strip()!r}")
    return Reading(value)


@lru_cache(maxsize=65536)
def read_amount(raw: str, *, column_unit: str | None = None) -> Reading:
    """A money cell, in 万元. A unit in the cell wins over the column's unit; default 万元."""
    text = _clean(raw)
    if text in _NULL_MARKS or set(text) <= {"/", "-", "—"}:
        return Reading(None)
    if text in _ZERO_MARKS:
        return Reading(0.0)
    if _SPLIT_DIGITS.search(unicodedata.normalize("NFKC", raw.strip())):
        return Reading(None, f"several numbers in one cell: {raw.strip()!r}")
    unit = column_unit or "万元"
    for suffix, name in (("万元", "万元"), ("亿元", "亿元"), ("元", "元"), ("万", "万元")):
        if text.endswith(suffix):
            text, unit = text[: -len(suffix)], name
            break
    value = _number(text.lstrip("¥￥"))
    if value is None:
        return Reading(None, f"not an amount: {raw.strip()!r}")
    factor = {"万元": 1.0, "元": 1e-4, "亿元": 1e4}[unit]
    return Reading(round(value * factor, 10))


def column_unit(header: str) -> str | None:
    """The money unit a column header declares (`采购总金额（万元）`, `（单位：元）`), if any."""
    text = _clean(header)
    if "万元" in text:
        return "万元"
    if "亿元" in text:
        return "亿元"
    if "元" in text:
        return "元"
    return None
