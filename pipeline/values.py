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


_DIGIT_RUN = re.compile(r"^\d+$")


def split_run(raw: str, n: int) -> list[Reading] | None:
    """A run of digits printed for `n` cells without separators (lossy text dumps: `0000000` for 7).

    Every way to cut the run into `n` numbers without leading zeros is considered; a cell whose value
    is the same in every cut is recovered, any other is unreadable. None when `raw` is not such a run.
    """
    digits = _clean(raw)
    if not _DIGIT_RUN.match(digits) or len(digits) < n or n < 2:
        return None
    options = _cell_options(digits, n)
    if not any(options):
        return [Reading(None, f"cells run together: {digits!r} cannot be cut into {n} numbers")] * n
    out = []
    for i, values in enumerate(options):
        if len(values) == 1:
            out.append(Reading(float(next(iter(values)))))
        else:
            shown = ", ".join(str(v) for v in sorted(values)[:4])
            out.append(
                Reading(
                    None,
                    f"cells run together: {digits!r} printed for {n} cells; cell {i + 1} "
                    f"could be any of {shown}{'…' if len(values) > 4 else ''}",
                )
            )
    return out


def _cell_options(digits: str, n: int) -> list[set[int]]:
    """For each of `n` cells, the values it takes across all valid cuts of `digits`."""
    length = len(digits)

    def ok(a: int, b: int) -> bool:
        return digits[a] != "0" or b - a == 1

    forward: list[set[int]] = [set() for _ in range(n + 1)]  # positions reachable after i cells
    forward[0].add(0)
    for i in range(n):
        for a in forward[i]:
            forward[i + 1].update(b for b in range(a + 1, length + 1) if ok(a, b))
    backward: list[set[int]] = [set() for _ in range(n + 1)]  # positions from which cells i.. fit
    backward[n].add(length)
    for i in range(n - 1, -1, -1):
        for b in backward[i + 1]:
            backward[i].update(a for a in range(b) if ok(a, b))
    return [
        {int(digits[a:b]) for a in forward[i] & backward[i] for b in backward[i + 1] if b > a and ok(a, b)}
        for i in range(n)
    ]
