"""Mutation fuzzing of real documents: every mutant parses or is refused, quickly, with a DocumentError.

Sources: the four Pingtan report pages (corpus HTML), the seed text dump, and generated .docx reports
whose XML members are mutated (bytes flipped, truncated, tags duplicated or dropped, a DOCTYPE with
entities inserted, span and merge values mangled, [Content_Types].xml or relationships removed or
broken) and re-zipped. A fixed seed makes the mutants the same on every run; a failure names the
source, the mutant's number and its mutations, so it can be rebuilt with `mutants(...)`.

Each mutant must end, within `SECONDS`, in a ParsedReport or a DocumentError with a one-line
message naming the format; anything else (another exception, an overrun) fails the test. An alarm
stops a mutant that hangs in Python code, so a hang fails the test instead of stalling the suite.

Regression cases found by this fuzzer are kept at the bottom, each minimal.
"""

from __future__ import annotations

import io
import random
import re
import signal
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from lxml import etree

from pipeline.document import DocumentError
from pipeline.parse import parse_document
from pipeline.report import ParsedReport
from tests.conftest import FIXTURES, SEED
from tests.synth import make_spec, render

SEED_VALUE = 20261126
SECONDS = 5.0
HANG = 30  # seconds before the alarm calls a mutant hung
CORPUS_PAGES = sorted((FIXTURES / "corpus").glob("t*.htm"))
DOCUMENT_XML = "word/document.xml"


# --- running one mutant ----------------------------------------------------------------------------


class Hung(Exception):
    pass


@contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def ring(_signum, _frame):
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def outcome(data: bytes, fmt: str, what: str) -> tuple[ParsedReport | None, str | None, float]:
    """Parse one mutant: (report, refusal, seconds); fails the test on anything else."""
    start = time.perf_counter()
    try:
        with alarm(HANG):
            report, error = parse_document(data, fmt), None
    except DocumentError as exc:
        report, error = None, str(exc)
    except Hung as exc:
        pytest.fail(f"{what}: hung ({exc})")
    except Exception as exc:
        pytest.fail(f"{what}: {type(exc).__name__} escaped parse_document: {exc!r}"[:600])
    seconds = time.perf_counter() - start
    assert seconds < SECONDS, f"{what}: {seconds:.2f} s"
    if error is not None:
        assert error.startswith(f"{fmt}: ") and "\n" not in error and len(error) < 400, f"{what}: {error!r}"
    return report, error, seconds


def run_all(cases: Iterator[tuple[str, bytes]], fmt: str) -> dict[str, int]:
    counts = {"parsed": 0, "refused": 0}
    for what, data in cases:
        report, _error, _seconds = outcome(data, fmt, what)
        counts["parsed" if report is not None else "refused"] += 1
    return counts


# --- byte and text mutations ---------------------------------------------------------------------------

TOKENS = [
    b"<table>", b"</table>", b"<tr>", b"</tr>", b"<td>", b"</td>", b"<th colspan=0>", b'<td rowspan="999999">',
    b'<td colspan="9999999999">', b"<td rowspan=-1>", b"<br>", b"<p>", b"</p>", b"<pre>", b"<script>",
    b"</script>", b"<!--", b"-->", b"<![CDATA[", b"]]>", b"&#0;", b"&#xFFFF;", b"&nbsp;", b"&lol;",
    b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", "\ufdd0\ufdd1\ufdd2".encode(), b"\t", b"\n\n\n", b"\r",
    "（三）不予公开".encode(), "第二十条第（一）项".encode(), "行政复议".encode(), "申请人情况".encode(),
    "总计".encode(), b"9" * 400, b"0" * 64, b"1,234", "１２".encode(), b"<meta charset=gbk>",
    b"<meta charset=utf-16>", b"<?xml version='1.0' encoding='utf-16'?>",
]  # fmt: skip


def flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def delete(rng: random.Random, data: bytes) -> bytes:
    a = rng.randrange(len(data) + 1)
    return data[:a] + data[a + rng.randint(1, max(1, len(data) // 10)) :]


def duplicate(rng: random.Random, data: bytes) -> bytes:
    a = rng.randrange(len(data) + 1)
    b = min(len(data), a + rng.randint(1, max(1, len(data) // 8)))
    return data[:b] + data[a:b] * rng.randint(1, 4) + data[b:]


def insert(rng: random.Random, data: bytes) -> bytes:
    a = rng.randrange(len(data) + 1)
    piece = rng.choice(TOKENS) if rng.random() < 0.8 else rng.randbytes(rng.randint(1, 64))
    return data[:a] + piece * rng.randint(1, 3) + data[a:]


def swap(rng: random.Random, data: bytes) -> bytes:
    cut = sorted(rng.randrange(len(data) + 1) for _ in range(3))
    a, b, c = cut
    return data[:a] + data[b:c] + data[a:b] + data[c:]


BYTE_MUTATIONS: list[Callable[[random.Random, bytes], bytes]] = [
    flip,
    truncate,
    delete,
    duplicate,
    insert,
    swap,
]


def tag_mutation(rng: random.Random, data: bytes) -> bytes:
    """Markup-aware: drop, duplicate or re-span one element's tag (end tags included)."""
    tags = list(re.finditer(rb"<(/?)(\w+)([^<>]*)>", data))
    if not tags:
        return insert(rng, data)
    m = rng.choice(tags)
    choice = rng.randrange(4)
    if choice == 0:  # drop the tag
        return data[: m.start()] + data[m.end() :]
    if choice == 1:  # duplicate it a few times
        return data[: m.end()] + m.group(0) * rng.randint(1, 5) + data[m.end() :]
    if choice == 2:  # a span attribute with a hostile value
        value = rng.choice([b"0", b"-3", b"2;", b"abc", b"999999", b"9" * 5000, b'"', b""])
        attr = rng.choice([b"rowspan", b"colspan"])
        return data[: m.start()] + b"<" + m.group(2) + b" " + attr + b'="' + value + b'">' + data[m.end() :]
    other = rng.choice([b"td", b"tr", b"table", b"th", b"p", b"div", b"pre", b"script", b"caption", b"li"])
    return data[: m.start()] + b"<" + m.group(1) + other + m.group(3) + b">" + data[m.end() :]


# What a cell may print, and what breaks naive readings of it.
CELL_VALUES = [
    "9" * 400, "1" * 5000, "0" * 30, "1e5", "1 2", "3\n4", "１２", "+5", "-0", "1,23", "12.5", "251000元",
    "1.5亿元", "/", "无", "", "\u00a0", "—", "10203120001200000", "(三)", "第二十条第(一)项", "∞", "NaN",
]  # fmt: skip


def cell_mutation(rng: random.Random, data: bytes) -> bytes:
    """Extraction-aware: one table cell (HTML) or run of text (.docx) now prints a hostile value."""
    found = list(re.finditer(rb"(<td[^<>]*>|<w:t(?: [^<>]*)?>)([^<]*)", data))
    if not found:
        return insert(rng, data)
    m = rng.choice(found)
    value = rng.choice(CELL_VALUES).encode()
    return data[: m.start(2)] + value + data[m.end(2) :]


HTML_MUTATIONS = [*BYTE_MUTATIONS, tag_mutation, tag_mutation, cell_mutation, cell_mutation]


def mutate(
    rng: random.Random, data: bytes, ops: list[Callable[[random.Random, bytes], bytes]]
) -> tuple[bytes, str]:
    names = []
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(ops)
        data = op(rng, data)
        names.append(op.__name__)
    return data, "+".join(names)


def mutants(data: bytes, n: int, seed: int, ops) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    for k in range(n):
        mutant, how = mutate(rng, data, ops)
        yield f"mutant {k} ({how})", mutant


# --- the corpus HTML pages and the seed text dump --------------------------------------------------------


@pytest.mark.parametrize("page", CORPUS_PAGES, ids=lambda p: p.name)
def test_mutated_corpus_pages(page: Path):
    data = page.read_bytes()
    counts = run_all(mutants(data, 40, SEED_VALUE + zlib.crc32(page.name.encode()), HTML_MUTATIONS), "html")
    assert counts["parsed"] > 0  # most mutants are still pages: the fuzzer reaches the extractor


def line_mutation(rng: random.Random, data: bytes) -> bytes:
    """Text-dump aware: duplicate, drop, join, tab-prefix or blank-separate lines; runs of digits."""
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    choice = rng.randrange(6)
    if choice == 0:
        lines[i:i] = lines[i : i + rng.randint(1, 30)] * rng.randint(1, 3)
    elif choice == 1:
        del lines[i : i + rng.randint(1, 10)]
    elif choice == 2 and i + 1 < len(lines):
        lines[i : i + 2] = [lines[i] + lines[i + 1]]
    elif choice == 3:
        lines[i] = b"\t" + lines[i]
    elif choice == 4:
        lines[i:i] = [b"", b""] if rng.random() < 0.5 else [b" ", b"\t"]
    else:
        lines[i] = b"\t" + "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 200))).encode()
    return b"\n".join(lines)


def test_mutated_seed_text_dump():
    counts = run_all(
        mutants(SEED.read_bytes(), 120, SEED_VALUE, [*BYTE_MUTATIONS, line_mutation, line_mutation]), "txt"
    )
    assert counts["parsed"] > 60


# --- generated .docx, mutated member by member ---------------------------------------------------------------

DOCTYPES = [
    '<!DOCTYPE w:document [<!ENTITY a "x"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE w:document SYSTEM "http://127.0.0.1:9/dtd">',
    "<!DOCTYPE w:document>",
]
DOCX_VALUES = ["0", "-1", "2", "abc", "", "999999", "9" * 5000, "restart", "continue", "1.5"]


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def rezip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return out.getvalue()


def xml_mutation(rng: random.Random, xml: bytes) -> tuple[bytes, str]:
    choice = rng.randrange(8)
    if choice == 0:
        return flip(rng, xml), "flip"
    if choice == 1:
        return truncate(rng, xml), "truncate"
    if choice == 2:  # duplicate an element: a row, a cell, a paragraph, a table
        tag = rng.choice([b"w:tr", b"w:tc", b"w:p", b"w:tbl", b"w:r"])
        found = list(re.finditer(rb"<" + tag + rb"[ >].*?</" + tag + rb">", xml, re.DOTALL))
        if found:
            m = rng.choice(found)
            return xml[: m.end()] + m.group(0) * rng.randint(1, 4) + xml[
                m.end() :
            ], f"duplicate {tag.decode()}"
        return xml, "duplicate (none)"
    if choice == 3:  # drop an end tag or a start tag
        tags = list(re.finditer(rb"</?w:\w+[^<>]*>", xml))
        m = rng.choice(tags) if tags else None
        return (xml[: m.start()] + xml[m.end() :], "drop tag") if m else (xml, "drop (none)")
    if choice == 4:  # a DOCTYPE, with entities, in front of the root
        decl = rng.choice(DOCTYPES).encode()
        head, sep, rest = xml.partition(b"?>")
        return (head + sep + decl + rest if sep else decl + xml), "doctype"
    if choice == 5:  # hostile span / merge values
        attr = rng.choice([b"w:gridSpan", b"w:vMerge", b"w:gridBefore", b"w:gridAfter", b"w:ilvl"])
        value = rng.choice(DOCX_VALUES).encode()
        pattern = rb"<" + attr + rb'( w:val="[^"]*")?/>'
        if re.search(pattern, xml):
            return re.sub(
                pattern, b"<" + attr + b' w:val="' + value + b'"/>', xml, count=rng.randint(1, 5)
            ), (f"{attr.decode()}={value[:12].decode()}")
        props = {b"w:gridBefore": b"w:trPr", b"w:gridAfter": b"w:trPr"}.get(attr, b"w:tcPr")
        new = b"<" + props + b"><" + attr + b' w:val="' + value + b'"/>'
        return xml.replace(b"<" + props + b">", new, rng.randint(1, 3)), f"add {attr.decode()}"
    if choice == 6:
        return cell_mutation(rng, xml), "cell value"
    return insert(rng, xml), "insert"


def docx_mutation(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    try:
        parts = unzip(data)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):  # an earlier step broke the zip
        return flip(rng, data), "zip bytes flipped"
    choice = rng.randrange(10)
    if choice < 6:
        parts[DOCUMENT_XML], how = xml_mutation(rng, parts[DOCUMENT_XML])
        return rezip(parts), f"document.xml: {how}"
    if choice == 6:
        parts.pop("[Content_Types].xml", None)
        return rezip(parts), "no [Content_Types].xml"
    if choice == 7:
        name = rng.choice(["_rels/.rels", "word/_rels/document.xml.rels"])
        if rng.random() < 0.3:
            parts.pop(name, None)
            return rezip(parts), f"no {name}"
        rels = parts.get(name, b"")
        broken = rng.choice(
            [
                lambda r: r.replace(b'Target="', b'Target="../../', 1),
                lambda r: r.replace(b"officeDocument", b"officeDokument"),
                lambda r: r.replace(b'Target="word/document.xml"', b'Target="word/missing.xml"'),
                lambda r: r.replace(b'Id="rId', b'Id="rIdX'),
                lambda r: truncate(rng, r),
            ]
        )
        parts[name] = broken(rels)
        return rezip(parts), f"broken {name}"
    if choice == 8:  # another member mutated: styles, core properties, numbering
        name = rng.choice([n for n in parts if n.endswith(".xml") and n != DOCUMENT_XML])
        parts[name], how = xml_mutation(rng, parts[name])
        return rezip(parts), f"{name}: {how}"
    return flip(rng, data), "zip bytes flipped"


@pytest.fixture(scope="module")
def docx_reports() -> list[bytes]:
    return [
        render(make_spec(21, template="2019"), "docx").data,
        render(
            make_spec(22, template="2021"), "docx", {"docx_vmerge_continue", "docx_grid_before", "docx_sdt"}
        ).data,
    ]


@pytest.mark.parametrize("which", [0, 1])
def test_mutated_docx_reports(docx_reports, which):
    rng = random.Random(SEED_VALUE + which)
    counts = {"parsed": 0, "refused": 0}
    data = docx_reports[which]
    for k in range(60):
        mutant, how = data, []
        for _ in range(rng.randint(1, 2)):
            mutant, step = docx_mutation(rng, mutant)
            how.append(step)
        report, _error, _seconds = outcome(mutant, "docx", f"docx {which} mutant {k} ({'; '.join(how)})")
        counts["parsed" if report is not None else "refused"] += 1
    assert counts["parsed"] > 0 and counts["refused"] > 0


# --- regression cases found by the fuzzer (minimal) ----------------------------------------------------------

REPORT_HEAD = "<p>某市2024年政府信息公开工作年度报告</p><p>三、收到和处理政府信息公开申请情况</p>"
APPLICANTS = "<tr><td>申请人情况</td><td>自然人</td></tr>"


def test_regression_a_count_too_long_for_a_float_is_unreadable():
    """A value cell of 400 digits read as a float is inf; `int(inf)` raised OverflowError (docx mutant 50)."""
    row = "<tr><td>（一）予以公开</td><td>" + "9" * 400 + "</td>" + "<td>1</td>" * 6 + "</tr>"
    report, _, _ = outcome(
        f"<html><body>{REPORT_HEAD}<table>{APPLICANTS}{row}</table></body></html>".encode(), "html", "inf"
    )
    [cell] = [c for c in report.cells if c.column_code == "natural_person"]
    assert cell.value is None and "implausibly large" in cell.unreadable


def test_regression_a_run_of_thousands_of_digits_is_cut_quickly():
    """A row printing one run of 5,000 digits for its 7 cells: every cut was tried (O(n·L²), minutes),
    then int() of a 4,301-digit piece raised ValueError (html mutant 442)."""
    row = "<tr><td>（一）予以公开</td><td>" + "1" * 5000 + "</td></tr>"
    report, _, seconds = outcome(
        f"<html><body>{REPORT_HEAD}<table>{APPLICANTS}{row}</table></body></html>".encode(), "html", "run"
    )
    cells = [c for c in report.cells if c.row_code == "granted"]
    assert len(cells) == 7 and all(c.value is None and "cells run together" in c.unreadable for c in cells)
    assert seconds < 1


def test_regression_a_huge_grid_span_in_docx_is_clamped():
    """`w:gridSpan w:val="999999"`: docx2python added 999,998 empty cells one by one (27 s; docx mutant 149)."""
    from tests.docx_builders import W, build_docx, edit_document_xml

    def span(root):
        tc_pr = root.find(f".//{W}tc/{W}tcPr")
        tc_pr.append(etree.fromstring(f'<w:gridSpan xmlns:w="{W[1:-1]}" w:val="999999"/>'))

    data = edit_document_xml(
        build_docx(["某市2024年政府信息公开工作年度报告", [["a", "1"], ["b", "2"]]]), span
    )
    report, _, seconds = outcome(data, "docx", "gridSpan")
    assert report is not None and seconds < 2
