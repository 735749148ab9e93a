"""Value rules: printed cell text → number, null, or unreadable with a reason. Never a guess.

blank, `/`, `-`, `—`, `不适用` → null (not applicable / left empty); `0`, `无` → 0; signs;
full-width digits; thousands separators; `元` / `万元` → 万元 for amounts.
Readings are cached: most cells of most reports print the same few values ("0", "1", "/"), and a
cell spanning rows is read once per row. Reasons quote at most `SHOWN_CHARS` characters of the text.
"""

from __future__ import annotations

import math
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
MAX_COUNT = 10**9  # a count this large is implausible: cells run together, or not a count
MAX_COUNT_DIGITS = len(str(MAX_COUNT - 1))
SHOWN_CHARS = 80  # how much of a long printed text a reason quotes


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


def _shown(raw: str) -> str:
    """The printed text as a reason quotes it: stripped, repr'd, long texts cut."""
    text = raw.strip()
    return repr(text) if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]!r}… ({len(text)} characters)"


_PRINTING = re.compile(r"[^\s\u00a0\u3000\u200b\ufeff]")  # a character `_clean` keeps


def _several_lines(raw: str) -> bool:
    """Whether two or more lines of `raw` print something: found by searching, never by reading
    every line of a cell that holds thousands (a hostile `<pre>`)."""
    printing = 0
    pos = 0
    while (m := _PRINTING.search(raw, pos)) is not None:
        start = raw.rfind("\n", 0, m.start()) + 1
        end = raw.find("\n", m.start())
        if _clean(raw[start:] if end < 0 else raw[start:end]):
            printing += 1
            if printing == 2:
                return True
        if end < 0:
            return False
        pos = end + 1
    return False


@lru_cache(maxsize=65536)
def read_count(raw: str, *, signed: bool = False, integer: bool = True) -> Reading:
    """A count cell. `signed` admits +/- (本年增/减); `integer` refuses fractions.

    A count is a whole number below `MAX_COUNT`; without `integer` (the question "is this cell a
    number?", never a value that is kept) any number reads, a number too long for a float as ±inf.
    """
    if raw is not None and "\n" in raw and _several_lines(raw):
        return Reading(None, f"several values in one cell: {_shown(raw)}")
    text = _clean(raw)
    marked = _marked(raw, text)
    if marked is not None:
        return marked
    for suffix in _COUNT_SUFFIX:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    value = _number(text)
    if value is None:
        return Reading(None, f"not a number: {_shown(raw)}")
    if text.startswith("+") and not signed:
        value = abs(value)
    if integer and math.isfinite(value) and value != int(value):  # int(inf) raises: 400 digits are inf
        return Reading(None, f"not a whole number: {_shown(raw)}")
    if integer and abs(value) >= MAX_COUNT:
        return Reading(None, f"implausibly large count (cells run together?): {_shown(raw)}")
    return Reading(value)


def is_number(text: str) -> bool:
    """Whether a cell's text is a number (not blank, not an n/a mark): what a split row's lower part
    must not hold, and text must not be added under (pdf and OCR readers alike)."""
    return read_count(text, signed=True, integer=False).value is not None


def _marked(raw: str, text: str) -> Reading | None:
    """The readings every cell shares: blank / not applicable, 无 as 0, several numbers in one cell."""
    if text in _NULL_MARKS or set(text) <= {"/", "-", "—"}:
        return Reading(None)
    if text in _ZERO_MARKS:
        return Reading(0.0)
    if _SPLIT_DIGITS.search(unicodedata.normalize("NFKC", raw.strip())):
        return Reading(None, f"several numbers in one cell: {_shown(raw)}")
    return None


@lru_cache(maxsize=65536)
def read_amount(raw: str, *, column_unit: str | None = None) -> Reading:
    """A money cell, in 万元. A unit in the cell wins over the column's unit; default 万元."""
    text = _clean(raw)
    marked = _marked(raw, text)
    if marked is not None:
        return marked
    unit = column_unit or "万元"
    for suffix, name in (("万元", "万元"), ("亿元", "亿元"), ("元", "元"), ("万", "万元")):
        if text.endswith(suffix):
            text, unit = text[: -len(suffix)], name
            break
    value = _number(text.lstrip("¥￥"))
    if value is None:
        return Reading(None, f"not an amount: {_shown(raw)}")
    factor = {"万元": 1.0, "元": 1e-4, "亿元": 1e4}[unit]
    value = round(value * factor, 10)
    if not math.isfinite(value):
        return Reading(None, f"implausibly large amount: {_shown(raw)}")
    return Reading(value)


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


_DIGIT_RUN = re.compile(r"^[0-9]+$")
_OPTIONS_KEPT = 5  # a reason lists 4 options and whether there are more


def split_run(raw: str, n: int) -> list[Reading] | None:
    """A run of digits printed for `n` cells without separators (lossy text dumps: `0000000` for 7).

    Every way to cut the run into `n` numbers without leading zeros is considered; a cell whose value
    is the same in every cut is recovered, any other is unreadable. None when `raw` is not such a run.
    A run longer than `n` plausible counts can print (`MAX_COUNT_DIGITS` each) is unreadable as a
    whole, and a recovered value too large for a count is unreadable, as `read_count` has it.
    """
    digits = _clean(raw)
    if not _DIGIT_RUN.match(digits) or len(digits) < n or n < 2:
        return None
    if len(digits) > MAX_COUNT_DIGITS * n:
        return [
            Reading(
                None,
                f"cells run together: {len(digits)} digits printed for {n} cells, more than {n} "
                f"counts of at most {MAX_COUNT_DIGITS} digits can have",
            )
        ] * n
    options = _cell_options(digits, n)
    if not options[0]:
        return [Reading(None, f"cells run together: {digits!r} cannot be cut into {n} numbers")] * n
    out = []
    for i, values in enumerate(options):
        if len(values) == 1 and len(values[0]) <= MAX_COUNT_DIGITS:
            out.append(Reading(float(values[0])))
        elif len(values) == 1:
            out.append(
                Reading(
                    None,
                    f"cells run together: {digits!r}; cell {i + 1} can only be {values[0]}, "
                    "implausibly large for a count",
                )
            )
        else:
            shown = ", ".join(values[:4])
            out.append(
                Reading(
                    None,
                    f"cells run together: {digits!r} printed for {n} cells; cell {i + 1} "
                    f"could be any of {shown}{'…' if len(values) > 4 else ''}",
                )
            )
    return out


def _cell_options(digits: str, n: int) -> list[list[str]]:
    """For each of `n` cells, the smallest values (up to 5, ascending) it takes across all valid cuts
    of `digits`; all empty when there is no valid cut.

    A cut puts cell i on digits[a:b] where a is reachable after i cells and the rest fits from b.
    Positions are bits of Python ints: a cell starting on a zero ends right after it; one starting
    on any other digit may end anywhere later, so reachability is one shift or one mask per cell
    (O(n) big-int operations, not O(n·L²) set work). Values are compared as strings (no leading
    zeros: shorter is smaller, then lexicographic), so no long run is ever converted to an int.
    """
    length = len(digits)
    zeros = nonzeros = 0
    for pos, ch in enumerate(digits):
        if ch == "0":
            zeros |= 1 << pos
        else:
            nonzeros |= 1 << pos
    every_end = (1 << (length + 1)) - 1
    forward = [1]  # bit p: the first i cells can take exactly p digits
    for _ in range(n):
        reach = forward[-1]
        after = (reach & zeros) << 1
        starts = reach & nonzeros
        if starts:
            first = (starts & -starts).bit_length() - 1
            after |= every_end & ~((1 << (first + 1)) - 1)
        forward.append(after)
    if not (forward[n] >> length) & 1:
        return [[] for _ in range(n)]
    backward = [0] * n + [1 << length]  # bit p: cells i.. fit exactly in digits[p:]
    for i in range(n - 1, -1, -1):
        ends = backward[i + 1]
        backward[i] = ((ends >> 1) & zeros) | (nonzeros & ((1 << (ends.bit_length() - 1)) - 1))
    options: list[list[str]] = []
    for i in range(n):
        ends = backward[i + 1]
        values: set[str] = set()
        if forward[i] & zeros & (ends >> 1):
            values.add("0")
        starts = forward[i] & nonzeros
        size = 1
        while starts and len(values) < _OPTIONS_KEPT and size <= length:
            fits = starts & (ends >> size)
            while fits:
                low = fits & -fits
                a = low.bit_length() - 1
                values.add(digits[a : a + size])
                fits ^= low
            size += 1
        options.append(sorted(values, key=lambda v: (len(v), v))[:_OPTIONS_KEPT])
    return options
