"""Properties of the value rules, label keys, matchers, span expansion and extraction, over generated input.

Deterministic: every test runs derandomized (the same examples on every machine and run), with no
example database and moderate example counts, so the whole file takes seconds.
"""

from __future__ import annotations

import itertools
import math
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import template as T
from pipeline.document import Document, DocumentError, Table
from pipeline.extract import metadata, proactive, review, rows
from pipeline.extract.applications import _column_code, _RowClassifier
from pipeline.labels import group_marker, item_number, normalize, printed, top_marker
from pipeline.parse import extract_report
from pipeline.readers.grid import CellSpec, GridTooLarge, expand, parse_span
from pipeline.values import MAX_COUNT, Reading, column_unit, read_amount, read_count, split_run


def props(examples: int = 200) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# Text that reaches the interesting branches: digits (ASCII, full-width, other scripts), signs, marks,
# units, separators, every kind of space and line break, CJK, and anything else.
VALUE_PIECES = st.sampled_from(
    [
        *"0123456789０１２３４５６７８９٣+-－＋−﹣–—/\\.,，、 \t\n\r\u00a0\u3000\u200b\ufeff",
        *("元", "万", "亿", "件", "个", "无", "零", "不适用", "N/A", "¥", "约", "e", "E", "_", "x"),
    ]
)
value_text = st.one_of(st.lists(VALUE_PIECES, max_size=12).map("".join), st.text(max_size=12))
SPACES = st.sampled_from([" ", "\u00a0", "\u3000", "\t", ""])


# --- value rules ---------------------------------------------------------------------------------


def valid(reading: Reading, *, finite: bool = True) -> bool:
    """Exactly one of: a value (finite), blank (no value, no reason), unreadable (a one-line reason)."""
    if reading.unreadable is not None:
        return reading.value is None and bool(reading.unreadable.strip()) and "\n" not in reading.unreadable
    if reading.value is None or not finite:
        return not (reading.value is not None and math.isnan(reading.value))
    return math.isfinite(reading.value)


@props(400)
@given(value_text, st.booleans(), st.booleans())
def test_any_text_reads_as_a_value_a_blank_or_unreadable(text, signed, integer):
    count = read_count(text, signed=signed, integer=integer)
    assert valid(count, finite=integer)  # without `integer`, 400 digits are a number: inf
    if count.value is not None and integer:
        assert count.value == int(count.value) and abs(count.value) < MAX_COUNT
    if count.value is None and count.unreadable is None:  # blank: no digit was printed
        assert not any(unicodedata.category(ch) == "Nd" for ch in unicodedata.normalize("NFKC", text))
    amount = read_amount(text, column_unit=None)
    assert valid(amount)


@props(100)
@given(st.text(max_size=40))
def test_a_column_header_names_at_most_one_unit(header):
    assert column_unit(header) in (None, "元", "万元", "亿元")


FULL_WIDTH = str.maketrans("0123456789,+-", "０１２３４５６７８９，＋－")


@props(300)
@given(
    st.integers(-(10**8), MAX_COUNT - 1),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["", "件", "个", "项"]),
    SPACES,
    SPACES,
)
def test_printed_integers_read_back(n, plus, full_width, thousands, unit, before, after):
    """str(n) in every printed form of QUIRKS.md (sign, full-width, 1,234, unit, padding) → n."""
    digits = f"{abs(n):,}" if thousands else str(abs(n))
    text = ("-" if n < 0 else "+" if plus else "") + digits + unit
    if full_width:
        text = text.translate(FULL_WIDTH)
    text = before + text + after
    assert read_count(text, signed=True) == Reading(float(n))
    if n >= 0:
        assert read_count(text).value == n  # unsigned: a leading + is dropped


@props(150)
@given(st.integers(MAX_COUNT, 10**30))
def test_implausibly_large_counts_are_unreadable(n):
    reading = read_count(str(n))
    assert reading.value is None and "implausibly large" in reading.unreadable


@props(300)
@given(
    st.integers(0, 10**12), st.integers(0, 999_999), st.sampled_from(["元", "万元", "亿元", "万", ""]), SPACES
)
def test_printed_amounts_read_back_in_10k_yuan(whole, frac, unit, pad):
    text = f"{pad}{whole}.{frac:06d}{unit}{pad}"
    factor = {"元": 1e-4, "万元": 1.0, "万": 1.0, "亿元": 1e4, "": 1.0}[unit]
    reading = read_amount(text)
    assert reading.unreadable is None
    assert reading.value == pytest.approx((whole + frac / 1e6) * factor, rel=1e-12)


def test_numbers_past_a_float_are_unreadable_not_a_crash():
    """float("1" * 400) is inf: int(inf) raised OverflowError; an amount of inf was kept."""
    for text in ("1" * 400, "9" * 5000, "1" * 400 + ".5"):
        assert "implausibly large" in read_count(text).unreadable
        assert read_count(text, integer=False).value == math.inf  # a number (for "is it a value?")
        assert "implausibly large" in read_amount(text).unreadable


# --- split_run -----------------------------------------------------------------------------------------


def cuts(digits: str, n: int) -> list[tuple[str, ...]]:
    """Every cut of `digits` into `n` numbers without leading zeros (brute force: the specification)."""
    out = []
    for points in itertools.combinations(range(1, len(digits)), n - 1):
        parts = tuple(digits[a:b] for a, b in zip((0, *points), (*points, len(digits)), strict=True))
        if all(p == "0" or not p.startswith("0") for p in parts):
            out.append(parts)
    return out


@props(400)
@given(st.text("0001123456789", min_size=0, max_size=16), st.integers(2, 8))
def test_split_run_recovers_exactly_the_cells_every_cut_agrees_on(digits, n):
    readings = split_run(digits, n)
    if len(digits) < n:
        assert readings is None
        return
    assert readings is not None and len(readings) == n and all(valid(r) for r in readings)
    options = cuts(digits, n)
    for i, reading in enumerate(readings):
        values = {int(cut[i]) for cut in options}
        if reading.value is not None:  # recovered: the one value of every valid cut, a plausible count
            assert values == {reading.value} and reading.value < MAX_COUNT
        else:
            assert reading.unreadable
            assert len(values) != 1 or next(iter(values)) >= MAX_COUNT or len(digits) > 9 * n
    if all(r.value is not None for r in readings):  # all recovered: they print the run back
        assert "".join(str(int(r.value)) for r in readings) == digits


@props(200)
@given(st.one_of(value_text, st.text(max_size=30)), st.integers(2, 15))
def test_split_run_takes_only_runs_of_digits(text, n):
    readings = split_run(text, n)
    printing = "".join(
        unicodedata.normalize("NFKC", text).replace("\u200b", "").replace("\ufeff", "").split()
    )
    if readings is not None:
        assert printing.isascii() and printing.isdigit() and len(printing) >= n and len(readings) == n


@pytest.mark.parametrize("length", [200, 5000])
def test_split_run_of_a_long_run_is_unreadable_and_quick(length):
    readings = split_run("1" * length, 15)
    assert readings is not None and all(r.value is None for r in readings)


# --- label keys -----------------------------------------------------------------------------------------

LABELS = sorted(
    {r.label for r in T.APPLICATION_ROWS}
    | {c.label for c in T.APPLICATION_COLUMNS}
    | {c.label for c in T.PROACTIVE_CATEGORIES}
    | {m.label for m in T.PROACTIVE_METRICS}
    | {p.label for p in (*T.REVIEW_PROCEEDINGS, *T.REVIEW_OUTCOMES)}
    | {
        "（三）1、属于国家秘密",
        "(六)2.其他",
        "一，本年新收",
        "危及“三安全一稳定”",
        "商业\n企业",
        "第二十条第（一）项",
    }
)
label = st.one_of(st.sampled_from(LABELS), st.text(max_size=20))
BREAKS = st.sampled_from([" ", "\n", "\r\n", "\t", "\u3000", "\u00a0", "\u200b", "\ufeff", "  \n "])

# Printed variants of one character that must give one key (QUIRKS.md: half/full width, enumerations).
VARIANTS = {
    "（": "(",
    "）": ")",
    "〔": "(",
    "〕": ")",
    "[": "(",
    "]": ")",
    "、": ".",
    "，": ".",
    ",": ".",
    "．": ".",
    "。": ".",
    "﹒": ".",
    "：": ":",
    **{chr(0xFF10 + d): str(d) for d in range(10)},
}


@props(400)
@given(label)
def test_normalize_is_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)


@props(300)
@given(label, st.lists(st.tuples(st.integers(0, 40), BREAKS), max_size=6))
def test_line_breaks_and_spaces_anywhere_do_not_change_the_key(text, inserts):
    broken = text
    for pos, brk in sorted(inserts, reverse=True):
        pos = min(pos, len(broken))
        broken = broken[:pos] + brk + broken[pos:]
    assert normalize(broken) == normalize(text)


@props(300)
@given(st.sampled_from(LABELS), st.data())
def test_full_and_half_width_variants_give_one_key(text, data):
    """Each bracket, enumeration mark, colon or digit printed in any of its variants: the same key."""
    by_key: dict[str, list[str]] = {}
    for variant, key in VARIANTS.items():
        by_key.setdefault(key, [key]).append(variant)
    out = []
    for ch in text:
        key = VARIANTS.get(ch, ch)
        out.append(data.draw(st.sampled_from(by_key[key])) if key in by_key else ch)
    assert normalize("".join(out)) == normalize(text)


@props(200)
@given(st.text(max_size=30))
def test_printed_drops_whitespace_only(text):
    assert printed(text) == "".join(text.replace("\u200b", " ").replace("\ufeff", " ").split())


# --- matchers and classifiers never raise --------------------------------------------------------------

any_text = st.one_of(st.sampled_from(LABELS), st.text(max_size=30), value_text)


@props(300)
@given(st.lists(st.lists(any_text, max_size=4), max_size=6))
def test_row_classifier_never_raises(label_rows):
    classifier = _RowClassifier()
    codes = {r.code for r in T.APPLICATION_ROWS}
    for labels in label_rows:
        assert classifier.classify(labels) in codes | {None}


@props(300)
@given(any_text, st.sampled_from([None, 1, 5, 6, 8, 9, 3]))
def test_matchers_never_raise(text, item):
    key = normalize(text)
    assert proactive._metric(text) is None or proactive._metric(text).code in T.METRIC_BY_CODE
    assert proactive._category(text, item) in {*T.CATEGORY_BY_CODE, None}
    assert proactive._block_item(text) in {*T.ARTICLE_ITEMS.values(), None}
    assert review._outcome(key) in {*(o.code for o in T.REVIEW_OUTCOMES), None}
    assert review._proceeding(key) in {*(p.code for p in T.REVIEW_PROCEEDINGS), None}
    assert _column_code(key) in {*(c.code for c in T.APPLICATION_COLUMNS), "legal_person_subtotal", None}
    assert rows.row_marker(key) in {rows.PROACTIVE, rows.APPLICATIONS, rows.REVIEW, None}
    named, section = rows.context_section(text)
    assert section is None or named
    group_marker(key), top_marker(key), item_number(key)
    metadata.is_report_title(text), metadata.agency_of(text)
    rows.looks_like_value(text), rows.numeric_count([])


# --- span expansion ----------------------------------------------------------------------------------------

spans = st.integers(-2, 5)
span_rows = st.lists(st.lists(st.tuples(spans, spans), max_size=5), max_size=7)


@props(400)
@given(span_rows)
def test_expand_places_every_cell_consistently(spec_rows):
    """Each position shows a cell whose rectangle holds it; each printed cell starts where it is placed,
    in printed order; spans are at least 1 and stop at the last row; holes are empty 1×1 cells."""
    specs = [
        [CellSpec(f"{r}:{i}", rs, cs) for i, (rs, cs) in enumerate(row)] for r, row in enumerate(spec_rows)
    ]
    grid = expand(specs)
    table = Table(0, grid)
    assert len(grid) == len(specs)
    order = {f"{r}:{i}": (r, i) for r, row in enumerate(specs) for i in range(len(row))}
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            assert cell.row <= r < cell.row + cell.rowspan and cell.col <= c < cell.col + cell.colspan
            assert cell.rowspan >= 1 and cell.colspan >= 1 and cell.row + cell.rowspan <= len(grid)
            if cell.text == "":
                assert (cell.row, cell.col, cell.rowspan, cell.colspan) == (r, c, 1, 1)
    for r, row in enumerate(specs):
        starting = [c for c in table.own_cells(r) if c.text]
        assert [c.text for c in starting] == [s.text for s in row]
        assert all(grid[r][c.col] is c for c in starting)
    # a cell's rectangle shows another cell only where a cell placed after it overwrote it
    for row in grid:
        for cell in {id(c): c for c in row if c.text}.values():
            for rr in range(cell.row, cell.row + cell.rowspan):
                for cc in range(cell.col, cell.col + cell.colspan):
                    if cc < len(grid[rr]) and grid[rr][cc] is not cell:
                        assert grid[rr][cc].text == "" or order[grid[rr][cc].text] > order[cell.text]


@props(200)
@given(span_rows, st.integers(0, 60))
def test_expand_within_a_budget_or_refused(spec_rows, budget):
    specs = [[CellSpec("x", rs, cs) for rs, cs in row] for row in spec_rows]
    try:
        grid = expand(specs, max_positions=budget)
    except GridTooLarge as exc:
        assert isinstance(exc, DocumentError) and exc.amount > budget
    else:
        assert sum(map(len, grid)) <= budget


@props(200)
@given(st.one_of(st.none(), st.text(max_size=12), st.from_regex(r"\s*[0-9]{1,6000}[;px ]*", fullmatch=True)))
def test_parse_span_is_always_a_sane_span(raw):
    assert 1 <= parse_span(raw) <= 1000


# --- extraction on arbitrary small documents ----------------------------------------------------------------

CELL_TEXT = st.one_of(
    st.sampled_from(LABELS),
    st.sampled_from(
        ["", "0", "1", "12", "/", "—", "无", "1 2", "3\n4", "0000000", "10203120001200000", "251000元"]
    ),
    st.integers(-5, 10**6).map(str),
    st.text(max_size=8),
)
CONTEXTS = st.sampled_from(
    [
        "",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "五、存在的主要问题",
    ]
)


@st.composite
def documents(draw) -> Document:
    tables = []
    for index in range(draw(st.integers(0, 3))):
        n_rows = draw(st.integers(0, 8))
        specs = [
            [
                CellSpec(draw(CELL_TEXT), draw(st.integers(1, 3)), draw(st.integers(1, 3)))
                for _ in range(draw(st.integers(0, 9)))
            ]
            for _ in range(n_rows)
        ]
        tables.append(Table(index, expand(specs), draw(CONTEXTS)))
    paragraphs = draw(
        st.lists(
            st.one_of(
                st.sampled_from(["某市2024年政府信息公开工作年度报告", "2017年报"]), st.text(max_size=20)
            ),
            max_size=4,
        )
    )
    return Document(
        "html", tables=tables, paragraphs=paragraphs, title=draw(st.none() | st.text(max_size=20))
    )


@props(300)
@given(documents())
def test_extraction_never_raises_and_points_into_the_document(doc):
    report = extract_report(doc)
    assert report.kind in ("report", "legacy", "not_a_report")
    for cell in report.cells:
        table = doc.tables[cell.source_table]
        assert 0 <= cell.source_row < table.n_rows and 0 <= cell.source_col < len(table.grid[cell.source_row])
        assert table.grid[cell.source_row][cell.source_col].text == cell.raw_text
        assert cell.value is None or math.isfinite(cell.value)
        assert cell.unreadable is None or cell.value is None
    for finding in report.findings:
        assert finding.check in T.CHECK_DESCRIPTIONS, finding
