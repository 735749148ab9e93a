"""Named quirk switches: each reproduces one thing real reports do (see shared QUIRKS.md).

`QUIRKS` maps a name to the formats it applies to and what it does. A quirk asked for a format it
does not apply to is ignored by that format's renderer (`applicable` filters); an unknown name is
an error. Quirks only change how a report is *printed*; when a printing changes what a correct
parser must output (a zero printed blank is null, an ambiguous run-together row is unreadable),
the truth built with the rendering says so.

Also here: the printed variants of labels (typos, short forms, punctuation) and the printing of
numbers (zeros, not-applicable marks, signs, full-width digits, thousands separators, units).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

HTML, DOCX, TXT = "html", "docx", "txt"
FORMATS = (HTML, DOCX, TXT)
ALL = frozenset(FORMATS)
_HD = frozenset({HTML, DOCX})


@dataclass(frozen=True, slots=True)
class Quirk:
    name: str
    formats: frozenset[str]
    description: str


_Q = [
    # structure
    Quirk("t2_separate_tables", ALL, "table 二 printed as one table per 第二十条 block, not one table"),
    Quirk("t3_split_header", ALL, "table 三 split in two tables (page break), the 3-row header repeated"),
    Quirk(
        "t3_split_label",
        ALL,
        "table 三 split at a group boundary with 三、本年度办理结果 repeated (one table or two)",
    ),
    Quirk("extra_subtotal_column", ALL, "table 三 carries an extra 法人或其他组织小计 column"),
    Quirk(
        "extra_rows",
        ALL,
        "table 二 carries rows the template lacks (行政检查/行政确认 under 其他对外管理服务事项, 其他主动公开文件)",
    ),
    Quirk("value_colspan", ALL, "one value column of table 三 (header and data) is 2 grid columns wide"),
    Quirk(
        "header_colspan_shift",
        ALL,
        "table 三 header puts a colspan on 自然人 while data rows put it on 商业企业 (平潭 2021)",
    ),
    # labels
    Quirk(
        "label_typos",
        ALL,
        "typos and short forms: 行政法复议, 行政止公开, 行政事业型收费, 1.逾期不补正, 合计 for 总计 …",
    ),
    Quirk("label_punct", ALL, "1、 for 1., ， for 、, half-width ( ) for （ ）"),
    Quirk("label_br", ALL, "labels broken by a line break (<br>, <w:br/>, a continuation line)"),
    Quirk("label_paras", ALL, "labels broken into several paragraphs in one cell (商业</p><p>企业)"),
    Quirk("label_spaces", ALL, "labels padded with spaces (办 理结果, 总 计)"),
    Quirk("vertical_text", ALL, "vertical labels, one character per line (结\\n果\\n维\\n持)"),
    # values
    Quirk("zero_blank", ALL, "some zeros printed as an empty cell (→ null)"),
    Quirk("zero_nbsp", _HD, "some zeros printed as a non-breaking space, &nbsp; in HTML (→ null)"),
    Quirk("zero_wu", ALL, "some zeros printed as 无 (→ 0)"),
    Quirk("na_slash", ALL, "not-applicable rows of zeros printed as / (→ null)"),
    Quirk("na_dash", ALL, "not-applicable rows of zeros printed as - (→ null)"),
    Quirk("na_emdash", ALL, "not-applicable rows of zeros printed as — (→ null)"),
    Quirk("signed_change", ALL, "本年增/减 printed with an explicit sign (+408)"),
    Quirk("fullwidth_digits", ALL, "some numbers in full-width digits (１２)"),
    Quirk("thousands_sep", ALL, "numbers of 1000 or more with thousands separators (1,234)"),
    Quirk(
        "amount_units",
        ALL,
        "amounts with a unit in the cell (251000元, 160.5964万元) or in the header (采购总金额（元）)",
    ),
    # HTML
    Quirk("html_word", frozenset({HTML}), "Word-exported HTML: mso-* styles, <o:p>, MsoNormal classes"),
    Quirk(
        "html_trs",
        frozenset({HTML}),
        "government CMS page: TRS_Editor body, breadcrumb 当前位置, 来源/发布时间, 附件下载, 上一篇",
    ),
    Quirk("html_js", frozenset({HTML}), "the report body inside a JavaScript string written by a script"),
    Quirk("html_gbk", frozenset({HTML}), "GBK bytes, the charset declared only in <meta>"),
    Quirk("html_bom", frozenset({HTML}), "UTF-8 with a byte-order mark"),
    Quirk("html_bad_rowspan", frozenset({HTML}), 'span attributes with junk: rowspan="2;"'),
    # docx
    Quirk(
        "docx_vmerge_continue", frozenset({DOCX}), 'LibreOffice vertical merges: <w:vMerge w:val="continue"/>'
    ),
    Quirk(
        "docx_grid_before",
        frozenset({DOCX}),
        "rows with w:gridBefore / w:gridAfter (table 三 header, table 四)",
    ),
    Quirk("docx_sdt", frozenset({DOCX}), "cells and rows inside w:sdt content controls"),
    Quirk("docx_nested_table", frozenset({DOCX}), "a table nested in a cell of table 三 (the corner note)"),
    # text dump
    Quirk(
        "text_run_together",
        frozenset({TXT}),
        "lossy dump: the value cells of a row run together (10203120001200000); ambiguous ones unreadable",
    ),
]
QUIRKS: dict[str, Quirk] = {q.name: q for q in _Q}

ZERO_FORMS = {"zero_blank": "", "zero_nbsp": "\u00a0", "zero_wu": "无"}
NA_FORMS = {"na_slash": "/", "na_dash": "-", "na_emdash": "—"}


def check(quirks: Iterable[str]) -> frozenset[str]:
    """The quirk names as a frozenset; ValueError on an unknown name."""
    names = frozenset(quirks)
    unknown = names - QUIRKS.keys()
    if unknown:
        raise ValueError(f"unknown quirks {sorted(unknown)}; known: {sorted(QUIRKS)}")
    return names


def applicable(quirks: Iterable[str], fmt: str) -> frozenset[str]:
    """The quirks of `quirks` that apply to format `fmt` (unknown names raise)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    return frozenset(q for q in check(quirks) if fmt in QUIRKS[q].formats)


def for_format(fmt: str) -> list[str]:
    """Every quirk name that applies to `fmt`, sorted."""
    return sorted(q.name for q in _Q if fmt in q.formats)


def random_quirks(rng: random.Random, fmt: str, k: int | None = None) -> frozenset[str]:
    """A random set of quirks for `fmt` (k of them; default 0–6), for corpora and benchmarks."""
    names = for_format(fmt)
    if k is None:
        k = rng.choice((0, 1, 2, 2, 3, 3, 4, 5, 6))
    return frozenset(rng.sample(names, min(k, len(names))))


# ---------------------------------------------------------------- label variants

#: Typos and short forms seen in real reports, by the code of the label they stand for.
#: Every variant still contains a keyword of its template entry (tests check this).
TYPOS: dict[str, tuple[str, ...]] = {
    "denied_prohibited_by_law": ("2.其他法律行政止公开", "2.其他法律行政法规禁止公开"),
    "administrative_fees": ("行政事业型收费",),
    "other_handling_no_correction": ("1.逾期不补正", "1.申请人逾期不补正"),
    "other_handling_unpaid_fee": ("2.逾期未缴纳费用", "2.申请人逾期未按收费通知要求缴纳费用"),
    "not_processed_confirmation": ("5.要求行政机关确认或重新出具已获取的信息",),
    "unavailable_needs_creation": ("2.没有现成信息需要另行制作的",),
    "partially_granted": ("（二）部分公开",),
    "new_received": ("一、本年新收政府信息公开申请数",),
    "total": ("合计",),
    "total_processed": ("（七）合计",),
    "denied_security_stability": ('3.危及"三安全一稳定"',),
}
HEADING_TYPOS = {4: "四、政府信息公开行政法复议、行政诉讼情况"}

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_HALF_PARENS = str.maketrans("（）", "()")


def punct_variant(rng: random.Random, text: str) -> str:
    """`1、` for `1.`, `，` for `、`, half-width brackets — one or more of them."""
    out = text
    choices = []
    if "." in out[:3]:
        choices.append(lambda s: s.replace(".", rng.choice(("、", "．")), 1))
    if "、" in out:
        choices.append(lambda s: s.replace("、", "，", 1))
    if "（" in out:
        choices.append(lambda s: s.translate(_HALF_PARENS))
    for f in rng.sample(choices, rng.randint(1, len(choices))) if choices else ():
        out = f(out)
    return out


def space_variant(rng: random.Random, text: str) -> str:
    """A space (ASCII or ideographic) inside the label: 办 理结果, 总 计."""
    if len(text) < 2:
        return text
    i = rng.randrange(1, len(text))
    return text[:i] + rng.choice((" ", "  ", "\u3000")) + text[i:]


def break_variant(rng: random.Random, text: str, parts: int = 2) -> list[str]:
    """The label cut in `parts` pieces (for <br> or several paragraphs)."""
    if len(text) < 4:
        return [text]
    cuts = sorted(rng.sample(range(1, len(text)), min(parts - 1, len(text) - 1)))
    pieces, prev = [], 0
    for c in [*cuts, len(text)]:
        pieces.append(text[prev:c])
        prev = c
    return pieces


def vertical(text: str) -> str:
    return "\n".join(text)


# ---------------------------------------------------------------- numbers


def plain(v: int) -> str:
    return str(v)


def fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def thousands(v: int) -> str:
    return f"{v:,}"


def decimal_text(d: Decimal, min_places: int = 0) -> str:
    """A Decimal as printed: no exponent, no trailing zeros beyond `min_places`."""
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if min_places:
        whole, _, frac = text.partition(".")
        text = f"{whole}.{frac.ljust(min_places, '0')}"
    return text


# ---------------------------------------------------------------- run-together rows


def segment_values(digits: str, n: int) -> list[set[int]]:
    """For a run of digits printed for `n` cells without separators: the values each cell can take.

    A segmentation cuts `digits` into `n` non-empty numbers without leading zeros ("0" alone is a
    number, "05" is not). A cell whose set has one member is recoverable; any other is unreadable.
    With no valid segmentation at all, every set is empty.
    """
    L = len(digits)

    def ok(a: int, b: int) -> bool:
        return b > a and (digits[a] != "0" or b - a == 1)

    # forward[i]: positions reachable after i cells; backward[i]: positions from which cells i..n-1 fit
    forward = [set() for _ in range(n + 1)]
    forward[0].add(0)
    for i in range(n):
        for a in forward[i]:
            for b in range(a + 1, L + 1):
                if ok(a, b):
                    forward[i + 1].add(b)
    backward = [set() for _ in range(n + 1)]
    backward[n].add(L)
    for i in range(n - 1, -1, -1):
        for b in backward[i + 1]:
            for a in range(0, b):
                if ok(a, b):
                    backward[i].add(a)
    out = []
    for i in range(n):
        vals = set()
        for a in forward[i] & backward[i]:
            for b in forward[i + 1] & backward[i + 1]:
                if ok(a, b):
                    vals.add(int(digits[a:b]))
        out.append(vals)
    return out
