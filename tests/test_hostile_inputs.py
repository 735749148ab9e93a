"""Hostile and broken documents, through `parse_document` in every format and through the pipeline.

Every case must end in a ParsedReport or a DocumentError whose message is one line naming the format
and the reason — never another exception, never a hang. Each case is timed (wall clock, untraced)
and its peak Python memory measured (tracemalloc, in a second run: tracing slows allocation-heavy
code many times over, so it cannot time the first). Bounds: `SECONDS`, `PEAK_BYTES`.

What is refused, and where (see the readers' docstrings): zip limits and markup count before any
XML is parsed (`zipguard`), DOCTYPEs in the main part; HTML tags / cells counted in the bytes before
libxml2 builds a tree, tables and cells again in the tree, libxml2's depth limit; text lines and
cells while scanning; grid positions and text-by-rows per document (`grid.GridBudget`).
"""

from __future__ import annotations

import io
import json
import random
import re
import socket
import threading
import time
import tracemalloc
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.document import DocumentError
from pipeline.extract.applications import MAX_EXTRA_ROWS
from pipeline.parse import parse_document
from pipeline.readers import grid, html, text, zipguard
from pipeline.report import ParsedReport
from pipeline.scrape import scrape_all
from pipeline.stages import parse_all
from pipeline.store import format_for
from tests import pdf_builders
from tests.conftest import FIXTURES, SEED, SEED_NAME
from tests.docx_builders import DOCUMENT_XML, build_docx, patch_declared_size, replace_part
from tests.synth import make_spec, render

MB = 1024 * 1024
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
SECONDS = 5.0
PEAK_BYTES = 300 * MB
CORPUS = FIXTURES / "corpus"
PINGTAN_2021 = CORPUS / "t20220208_80613.htm"  # the 366 KB Word-exported page
PDF = CORPUS / "huaian_szf_2024.pdf"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# --- measuring one parse ---------------------------------------------------------------------------


@dataclass
class Outcome:
    report: ParsedReport | None
    error: str | None
    seconds: float
    peak_bytes: int


def _parse(data: bytes, fmt: str) -> tuple[ParsedReport | None, str | None]:
    try:
        return parse_document(data, fmt), None
    except DocumentError as exc:
        return None, str(exc)
    except BaseException as exc:  # anything else is the bug these tests look for
        pytest.fail(f"{fmt}: {type(exc).__name__} escaped parse_document: {exc!r}"[:500])


def measure(data: bytes, fmt: str) -> Outcome:
    """Parse twice: timed, then traced for peak memory; both must end in a result or a DocumentError."""
    start = time.perf_counter()
    report, error = _parse(data, fmt)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    try:
        _parse(data, fmt)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return Outcome(report, error, seconds, peak)


def check(data: bytes, fmt: str, reason: str | None = None, *, parses: bool = False) -> Outcome:
    """`data` read as `fmt` is refused with a reason matching `reason` (or parses, with `parses`),
    within the time and memory bounds; a refusal is one line starting with the format."""
    out = measure(data, fmt)
    assert out.seconds < SECONDS, f"{fmt}: {out.seconds:.2f} s"
    assert out.peak_bytes < PEAK_BYTES, f"{fmt}: peak {out.peak_bytes / MB:.0f} MB"
    if parses:
        assert out.report is not None, out.error
    elif reason is not None:
        assert out.error is not None, f"{fmt}: expected a refusal ({reason}), got a {out.report.kind} report"
        assert re.search(reason, out.error), out.error
    if out.error is not None:
        assert out.error.startswith(f"{fmt}: ") and "\n" not in out.error and len(out.error) < 400, out.error
    return out


# --- building blocks ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_docx() -> bytes:
    """A realistic generated report (three tables, spans) to break."""
    return render(make_spec(11, template="2021"), "docx").data


@pytest.fixture(scope="module")
def small_docx() -> bytes:
    """A small report-like .docx with every part python-docx writes: cheap to parse, for the many cases
    where what matters is a part, not the report."""
    title = "某市2024年政府信息公开工作年度报告"
    return build_docx(
        [title, "三、收到和处理政府信息公开申请情况", [["申请人情况", "自然人"], ["一、本年新收", "3"]]],
        title=title,
    )


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def zip_of(parts: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return out.getvalue()


def with_body(data: bytes, body: str, *, stored: bool = False) -> bytes:
    """The docx with its main part's body content replaced by `body` (raw WordprocessingML); `stored`
    writes the package uncompressed (repetitive XML would otherwise trip the ratio check first)."""
    parts = members(data)
    xml = parts[DOCUMENT_XML].decode()
    start = xml.index("<w:body>") + len("<w:body>")
    parts[DOCUMENT_XML] = (xml[:start] + body + xml[xml.index("</w:body>") :]).encode()
    return zip_of(parts, method=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)


def varied(n: int, seed: int = 1) -> list[str]:
    """n different short CJK texts (so that XML built from them compresses like real XML, not a bomb)."""
    rng = random.Random(seed)
    return ["".join(chr(0x4E00 + rng.randrange(20000)) for _ in range(6)) for _ in range(n)]


def paragraph(text_: str) -> str:
    return f"<w:p><w:r><w:t>{text_}</w:t></w:r></w:p>"


def html_page(body: str) -> bytes:
    return f"<html><head><title>t</title></head><body>{body}</body></html>".encode()


class Listener:
    """A TCP port on 127.0.0.1 that counts connections: a parser that fetches anything shows up here."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.02)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def secret(tmp_path: Path) -> tuple[Path, str]:
    """A local file whose content must never reach a parse result (external entities, XInclude)."""
    marker = f"XXGK-SECRET-{random.Random().getrandbits(64):016x}"
    path = tmp_path / "secret.txt"
    path.write_text(marker, encoding="utf-8")
    return path, marker


def leaks(out: Outcome, marker: str) -> bool:
    return marker in (out.error or "") or (out.report is not None and marker in repr(out.report.to_dict()))


# --- .docx: zip bombs ----------------------------------------------------------------------------------


def test_docx_too_many_members(small_docx):
    parts = members(small_docx) | {f"word/media/m{i}.bin": b"" for i in range(zipguard.MAX_MEMBERS + 1)}
    check(zip_of(parts), "docx", rf"members \(limit {zipguard.MAX_MEMBERS}\)")


def test_docx_declared_size_over_the_limit(small_docx):
    data = patch_declared_size(small_docx, "word/styles.xml", zipguard.MAX_MEMBER_UNCOMPRESSED + 1)
    check(data, "docx", "declares")


def test_docx_declared_total_over_the_limit(small_docx):
    """Members each under the member and ratio limits, adding up past the total limit."""
    names = [f"word/media/image{i}.png" for i in range(3)]
    parts = members(small_docx) | {name: random.Random(i).randbytes(400_000) for i, name in enumerate(names)}
    data = zip_of(parts, method=zipfile.ZIP_STORED)
    for name in names:
        data = patch_declared_size(data, name, 70 * MB)  # 175:1 against 400 KB stored
    check(data, "docx", "uncompressed in all")


def test_docx_member_larger_than_declared_is_caught_by_the_crc(good_docx):
    """zipfile stops at the declared size; the CRC of what it read then fails."""
    real = zipfile.ZipFile(io.BytesIO(good_docx)).getinfo(DOCUMENT_XML).file_size
    check(
        patch_declared_size(good_docx, DOCUMENT_XML, real // 100),
        "docx",
        r"word/document\.xml is unreadable \(Bad CRC",
    )


def test_docx_member_smaller_than_declared_is_harmless(good_docx):
    """Declaring more than there is only makes the directory checks stricter: the report still reads."""
    real = zipfile.ZipFile(io.BytesIO(good_docx)).getinfo(DOCUMENT_XML).file_size
    check(patch_declared_size(good_docx, DOCUMENT_XML, real * 2), "docx", parses=True)


def test_docx_compression_ratio_bomb(small_docx):
    check(replace_part(small_docx, "word/media/zeros.bin", bytes(50 * MB)), "docx", "zip bomb")


def test_docx_compression_ratio_bomb_in_the_main_part(small_docx):
    xml = members(small_docx)[DOCUMENT_XML].decode()
    bomb = xml.replace("<w:body>", "<w:body>" + paragraph("零" * (8 * MB)), 1)
    check(replace_part(small_docx, DOCUMENT_XML, bomb.encode()), "docx", "zip bomb")


def test_docx_nested_zip_is_never_opened(small_docx):
    """A zip bomb inside the package is only bytes: nothing recurses into members."""
    inner = zip_of({f"z{i}": bytes(2 * MB) for i in range(20)})
    check(replace_part(small_docx, "word/embeddings/bomb.zip", inner), "docx", parses=True)


# --- .docx: too much markup, spans, nesting ------------------------------------------------------------


def test_docx_too_much_markup_for_docx2python(small_docx):
    """3 MB of varied paragraphs: no zip limit trips, but docx2python would walk it for minutes."""
    body = "".join(paragraph(t) for t in varied(zipguard.MAX_MARKUP // 6))
    check(with_body(small_docx, body), "docx", "XML tags in its parts: too large")


def test_docx_markup_in_utf16_is_counted_too(small_docx):
    """XML in another encoding is parsed to be counted (docx2python would read it all the same)."""
    xml = members(small_docx)[DOCUMENT_XML].decode()
    body = "".join(paragraph(t) for t in varied(zipguard.MAX_MARKUP // 6))
    big = xml.replace("<w:body>", "<w:body>" + body, 1).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    data = replace_part(small_docx, DOCUMENT_XML, big.encode("utf-16"))
    check(data, "docx", "XML tags in its parts: too large")


def test_docx_markup_in_a_part_docx2python_reads_besides_the_body(small_docx):
    body = "".join(paragraph(t) for t in varied(zipguard.MAX_MARKUP // 6))
    footnotes = f'<w:footnotes xmlns:w="{W_NS}"><w:footnote w:id="1">{body}</w:footnote></w:footnotes>'
    check(replace_part(small_docx, "word/footnotes.xml", footnotes.encode()), "docx", "XML tags")


def test_docx_span_bomb(small_docx):
    """2,000 rows of one cell spanning 1,000 grid columns: 2 million positions from 100 KB of XML."""
    row = '<w:tr><w:tc><w:tcPr><w:gridSpan w:val="1000"/></w:tcPr><w:p/></w:tc></w:tr>'
    check(
        with_body(small_docx, f"<w:tbl>{row * 2000}</w:tbl>", stored=True), "docx", "spans add .* grid cells"
    )


def test_docx_one_huge_span_does_not_hang_docx2python(small_docx):
    """docx2python adds gridSpan − 1 empty cells one by one: 99,999,999 of them is a hang."""
    row = '<w:tr><w:tc><w:tcPr><w:gridSpan w:val="99999999"/></w:tcPr><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc></w:tr>'
    check(with_body(small_docx, f"<w:tbl>{row * 3}</w:tbl>"), "docx", parses=True)


def test_docx_junk_span_and_grid_before_values_are_clamped(small_docx):
    """5,000-digit values (int() refuses past 4,300 digits) and junk read as clamped spans."""
    row = (
        f'<w:tr><w:trPr><w:gridBefore w:val="{"9" * 5000}"/></w:trPr>'
        f'<w:tc><w:tcPr><w:gridSpan w:val="{"9" * 5000}"/></w:tcPr><w:p/></w:tc>'
        '<w:tc><w:tcPr><w:gridSpan w:val="two"/></w:tcPr><w:p/></w:tc></w:tr>'
    )
    check(with_body(small_docx, f"<w:tbl>{row * 3}</w:tbl>"), "docx", parses=True)


NUMBERING = (
    '<w:numbering xmlns:w="{ns}"><w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0">'
    '<w:start w:val="{start}"/><w:numFmt w:val="lowerRoman"/></w:lvl></w:abstractNum>'
    '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>'
)


def numbered(text_: str, ilvl: str = "0") -> str:
    return (
        f'<w:p><w:pPr><w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="1"/></w:numPr></w:pPr>'
        f"<w:r><w:t>{text_}</w:t></w:r></w:p>"
    )


@pytest.mark.parametrize(
    ("start", "ilvl", "items"),
    [("1000000000", "0", 3), ("1000000", "0", 300), ("1", "999999999", 3)],
    ids=["roman-from-a-billion", "roman-from-a-million", "list-level-a-billion"],
)
def test_docx_list_numbering_does_not_blow_up(small_docx, start, ilvl, items):
    """docx2python writes Roman numerals as "i" * n folded (a gigabyte for a list starting at 10⁹,
    quadratic over a long list) and indents by "\t" * ilvl."""
    data = replace_part(small_docx, "word/numbering.xml", NUMBERING.format(ns=W_NS, start=start).encode())
    out = check(
        with_body(data, "".join(numbered(f"第{i}项", ilvl) for i in range(items))), "docx", parses=True
    )
    assert out.report is not None


@pytest.mark.parametrize("wrapper", ["<w:tbl><w:tr><w:tc>", "<w:sdt><w:sdtContent>", "<w:customXml>"])
def test_docx_deep_nesting(small_docx, wrapper):
    """100,000 levels (stored, past the ratio check): libxml2's depth limit refuses it, quickly."""
    check(with_body(small_docx, wrapper * 100_000, stored=True), "docx", "unreadable|XML tags")


# --- .docx: entities, external resources, traversal ------------------------------------------------


def doctype(xml: str, decl: str, old: str, new: str) -> bytes:
    declaration, _, rest = xml.partition("\n") if xml.startswith("<?xml") else ("", "", xml)
    return f"{declaration}\n{decl}\n{rest.replace(old, new, 1)}".encode()


def test_docx_entity_expansion_in_the_main_part(small_docx):
    lols = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    xml = members(small_docx)[DOCUMENT_XML].decode()
    data = replace_part(
        small_docx,
        DOCUMENT_XML,
        doctype(xml, f'<!DOCTYPE w:document [<!ENTITY l0 "lol">{lols}]>', "<w:t>", "<w:t>&l9;"),
    )
    out = check(data, "docx", "DOCTYPE|entity amplification")  # the pre-parse or docx2python's parse
    assert "lollol" not in out.error


PARTS = [
    DOCUMENT_XML,
    "word/styles.xml",
    "docProps/core.xml",
    "[Content_Types].xml",
    "_rels/.rels",
    "word/_rels/document.xml.rels",
]


@pytest.mark.filterwarnings("ignore")  # docx2python warns about the entity nodes it meets
@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("kind", ["file", "network", "parameter"])
def test_docx_external_entities_read_no_file_and_no_network(small_docx, part, kind, secret, listener):
    path, marker = secret
    url = f"http://127.0.0.1:{listener.port}/xxe"
    decl = {
        "file": f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{path}">]>',
        "network": f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{url}">]>',
        "parameter": f'<!DOCTYPE x [<!ENTITY % p SYSTEM "{url}"> %p; <!ENTITY % q SYSTEM "file://{path}"> %q;]>',
    }[kind]
    xml = members(small_docx)[part].decode()
    tag = re.search(r"<(?!\?|!)[^>]*[^/]>", xml.partition("\n")[2] or xml).group(0)  # first open tag
    out = check(replace_part(small_docx, part, doctype(xml, decl, tag, tag + "&xxe;")), "docx")
    assert not leaks(out, marker)
    assert listener.hits == 0


def test_docx_xinclude_is_not_processed(small_docx, secret):
    path, marker = secret
    xi = f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{path}" parse="text"/>'
    out = check(with_body(small_docx, f"<w:p><w:r><w:t>{xi}</w:t></w:r></w:p>"), "docx")
    assert not leaks(out, marker)


@pytest.mark.parametrize(
    "target",
    ["../../../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "SECRET", "http://127.0.0.1:{port}/x"],
)
def test_docx_relationship_targets_outside_the_package_are_not_followed(small_docx, target, secret, listener):
    path, marker = secret
    target = str(path) if target == "SECRET" else target.format(port=listener.port)
    rels = members(small_docx)["word/_rels/document.xml.rels"].decode()
    extra = (
        f'<Relationship Id="rIdX1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" '
        f'Target="{target}"/><Relationship Id="rIdX2" TargetMode="External" '
        f'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes" Target="{target}"/>'
    )
    data = replace_part(
        small_docx,
        "word/_rels/document.xml.rels",
        rels.replace("</Relationships>", extra + "</Relationships>").encode(),
    )
    out = check(data, "docx")
    assert not leaks(out, marker) and "root:" not in repr(out)
    assert listener.hits == 0


@pytest.mark.parametrize(
    "name", ["../evil.xml", "word/../../evil.xml", "/etc/evil.xml", "C:\\evil.xml", "..\\..\\evil.xml"]
)
def test_docx_path_traversal_member_names(small_docx, name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check(replace_part(small_docx, name, b"<x/>"), "docx", "path traversal")
    assert list(tmp_path.iterdir()) == []  # nothing extracted anywhere


# --- .docx: truncated, corrupt, broken packages, wrong contents -----------------------------------------


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.9, 0.999])
def test_docx_truncated(good_docx, keep):
    check(good_docx[: int(len(good_docx) * keep)], "docx", "corrupt or truncated|unreadable")


def test_docx_without_its_end_record(good_docx):
    check(good_docx[: good_docx.rfind(b"PK\x05\x06")], "docx", "corrupt or truncated")


@pytest.mark.parametrize("seed", range(6))
def test_docx_corrupt_bytes(good_docx, seed):
    rng = random.Random(seed)
    data = bytearray(good_docx)
    for _ in range(8):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    check(bytes(data), "docx")


@pytest.mark.parametrize(
    ("drop", "reason"),
    [
        ("[Content_Types].xml", None),
        ("_rels/.rels", "no main document part"),
        ("word/_rels/document.xml.rels", None),
        (DOCUMENT_XML, r"no word/document\.xml"),
    ],
)
def test_docx_with_a_part_missing(small_docx, drop, reason):
    check(replace_part(small_docx, drop, None), "docx", reason)


@pytest.mark.parametrize("part", ["_rels/.rels", "word/_rels/document.xml.rels", "[Content_Types].xml"])
@pytest.mark.parametrize("junk", [b"", b"<Relationships", b"\xff\xfe\x00garbage", b"<a><b></a>"])
def test_docx_broken_package_parts(small_docx, part, junk):
    check(replace_part(small_docx, part, junk), "docx")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not a zip archive"),
        (PDF.read_bytes(), r"not a zip archive \(a PDF\)"),
        (OLE2 + random.Random(1).randbytes(20_000), "legacy binary .doc"),
        ("巨各庄镇2020年政府信息公开工作年度报告\n一、总体情况\n".encode("gbk") * 50, "not a zip archive"),
        (random.Random(2).randbytes(50_000), "not a zip archive"),
        (b"PK\x03\x04" + random.Random(3).randbytes(5000), "corrupt or truncated"),
    ],
    ids=["empty", "pdf", "legacy-doc", "gbk-text", "garbage", "zip-magic-garbage"],
)
def test_docx_wrong_contents(data, reason):
    check(data, "docx", reason)


def test_docx_named_html_and_txt(good_docx):
    check(good_docx, "html", "binary content")
    check(good_docx, "txt", "binary data")


# --- HTML ---------------------------------------------------------------------------------------------


def test_html_over_the_size_limit():
    check(b" " * (html.MAX_BYTES + 1), "html", "too large")


@pytest.mark.parametrize("tag", ["<div>", "<table><tr><td>", "<span>", "<b><i>", "<ul><li>"])
def test_html_nested_100000_levels(tag):
    check(html_page(tag * 100_000 + "x"), "html", "depth|too large")


def test_html_50000_tables():
    table = "<table><tr><td>行</td><td>1</td></tr><tr><td>列</td><td>2</td></tr></table>"
    check(html_page(table * 50_000), "html", f"more than {grid.MAX_TABLES} tables")


def test_html_table_of_100000_cells_parses_in_bounded_time():
    rows = ("<tr>" + "<td>1</td>" * 10 + "</tr>") * 10_000
    out = check(html_page(f"<table>{rows}</table>"), "html", parses=True)
    assert out.report is not None


def test_html_thousands_of_rows_in_a_report_section():
    """As data rows of table 三 (label + 7 values): the rows past the template's are read up to a
    bound, then the rest is left with a finding (each costs lineage cells and a finding)."""
    head = "<p>某市2024年政府信息公开工作年度报告</p><p>三、收到和处理政府信息公开申请情况</p>"
    rows = "<tr><td>（一）予以公开</td>" + "<td>1</td>" * 7 + "</tr>"
    rows += "".join(f"<tr><td>行{i}</td>" + "<td>2</td>" * 7 + "</tr>" for i in range(2_500))
    out = check(html_page(f"{head}<table>{rows}</table>"), "html", parses=True)
    assert len(out.report.cells) == 7 * (1 + MAX_EXTRA_ROWS)
    assert any("the rest" in f.message for f in out.report.findings)


def test_html_too_many_cells_or_tags_are_counted_before_parsing():
    check(html_page("<table><tr>" + "<td>" * (grid.MAX_CELLS + 1) + "</table>"), "html", "table cells")
    check(html_page("<b>" * (html.MAX_ELEMENTS + 1)), "html", "tags")


def test_html_at_the_byte_limit():
    """Just under 50 MB of text (2 MB paragraphs): within every limit, read in bounded time and memory."""
    filler = "本机关严格落实政府信息公开条例。".encode()
    para = b"<p>" + filler * (2_000_000 // len(filler)) + b"</p>\n"
    data = b"<html><body>" + para * ((html.MAX_BYTES - 100) // len(para)) + b"</body></html>"
    assert html.MAX_BYTES - len(data) < len(para)
    check(data, "html", parses=True)


def test_html_of_long_text_runs_past_libxml2s_buffer_limit():
    """The same bytes in 100 KB paragraphs: libxml2 2.14 (huge_tree off) gives up 16 MB in ("Buffer size
    limit exceeded"), a refusal that says so; a libxml2 that reads it must do it within the bounds."""
    filler = "本机关严格落实政府信息公开条例。".encode()
    para = b"<p>" + filler * (100_000 // len(filler)) + b"</p>\n"
    check(b"<html><body>" + para * 500 + b"</body></html>", "html")


def test_html_span_bomb():
    rows = '<tr><td rowspan="1000" colspan="1000">x</td></tr>' * 1000
    check(html_page(f"<table>{rows}</table>"), "html", "tables too large to read .*grid positions")


def test_html_long_text_repeated_down_a_rowspan():
    big = "政府信息公开" * 100_000
    rows = f'<tr><td rowspan="1000">{big}</td><td>1</td></tr>' + "<tr><td>x</td></tr>" * 999
    check(html_page(f"<table>{rows}</table>"), "html", "tables too large to read .*characters")


def test_html_junk_spans_are_tolerated():
    rows = f'<tr><td colspan="{"9" * 5000}">a</td><td rowspan="-3">b</td></tr><tr><td>c</td><td>d</td></tr>'
    check(html_page(f"<table>{rows}{rows}</table>"), "html", parses=True)


def test_html_preformatted_text_of_millions_of_lines():
    check(html_page("<pre>" + "1\n" * (html.MAX_PRE_LINES + 1) + "</pre>"), "html", "preformatted")


def test_html_entities_and_external_resources_are_never_read(secret, listener):
    path, marker = secret
    url = f"http://127.0.0.1:{listener.port}/x"
    page = (
        f'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{path}"><!ENTITY net SYSTEM "{url}">'
        f'<!ENTITY l0 "lol"><!ENTITY l1 "&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;">]>'
        f'<html><head><link rel="stylesheet" href="{url}"><script src="{url}"></script></head>'
        f'<body><p>&xxe;&net;&l1;</p><img src="file://{path}"><iframe src="{url}"></iframe>'
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{path}" parse="text"/></body></html>'
    )
    out = check(page.encode(), "html")
    assert not leaks(out, marker)
    assert listener.hits == 0


@pytest.mark.parametrize("keep", [0.01, 0.3, 0.5, 0.77, 0.999])
def test_html_truncated(keep):
    data = PINGTAN_2021.read_bytes()
    check(data[: int(len(data) * keep)], "html")


@pytest.mark.parametrize("seed", range(4))
def test_html_corrupt_bytes(seed):
    rng = random.Random(seed)
    data = bytearray(PINGTAN_2021.read_bytes())
    for _ in range(200):
        data[rng.randrange(len(data))] = rng.randrange(256)
    check(bytes(data), "html")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty document"),
        (b" \r\n\t" * 1000, "empty document"),
        (random.Random(4).randbytes(100_000), "binary content"),
        (PDF.read_bytes(), "binary content"),
        (OLE2 + random.Random(5).randbytes(20_000), "binary content"),
        ("巨各庄镇2020年政府信息公开工作年度报告\n一、总体情况\n".encode("gbk") * 50, None),
    ],
    ids=["empty", "blank", "garbage", "pdf", "legacy-doc", "gbk-text"],
)
def test_html_wrong_contents(data, reason):
    check(data, "html", reason)


# --- text dumps ------------------------------------------------------------------------------------------


def test_txt_over_the_size_limit():
    check(b"x" * (text.MAX_TEXT_BYTES + 1), "txt", "too large")


def test_txt_20_mb_of_lines():
    check(b"\t1\n" * (text.MAX_TEXT_BYTES // 3), "txt", "lines: too large")


def test_txt_20_mb_in_one_line_parses():
    line = "本机关严格落实政府信息公开条例。".encode()
    check(line * (text.MAX_TEXT_BYTES // len(line)), "txt", parses=True)


def test_txt_one_cell_of_many_lines_parses():
    """Continuation lines of one cell (each used to copy the whole cell: quadratic)."""
    check(b"\tx\n" + b"y\n" * (text.MAX_LINES - 10), "txt", parses=True)


def test_txt_too_many_cells_and_tables():
    check(b"\tx\n" * (grid.MAX_CELLS + 1), "txt", "table cells")
    check(b"\tx\n\n\n" * (grid.MAX_TABLES + 1), "txt", "tables")


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.999])
def test_txt_truncated(keep):
    data = SEED.read_bytes()
    check(data[: int(len(data) * keep)], "txt")  # may cut a UTF-8 character in two


def test_txt_in_gbk_and_with_stray_bytes():
    text_ = SEED.read_text(encoding="utf-8")
    check(text_.encode("gb18030"), "txt", parses=True)
    noisy = bytearray(SEED.read_bytes())
    for i in random.Random(6).sample(range(len(noisy)), 100):
        noisy[i] = 0xFF
    check(bytes(noisy), "txt")


def test_txt_run_together_digits_are_cut_in_bounded_time():
    """Rows each printing one run of digits for their 7 cells, every run cut every possible way (that
    was O(n·L²) per run; a 5,000-digit run raised ValueError): 10,000 such rows, a few hundred read."""
    rng = random.Random(7)
    head = (
        "某市2024年政府信息公开工作年度报告\n三、收到和处理政府信息公开申请情况\n\t申请人情况\n\t自然人\n\n"
    )
    rows = "".join(f"\t（一）予以公开\n\t{rng.randrange(10**62, 10**63)}\n\n" for _ in range(10_000))
    out = check((head + "\t行\n\t" + "7" * 5000 + "\n\n" + rows).encode(), "txt", parses=True)
    cells = out.report.cells_of("applications")
    assert cells and all(c.unreadable for c in cells)
    assert len(cells) == 14  # the odd row and the first （一）; repeats are findings, up to the bound
    assert sum(f.check == "duplicate_row" for f in out.report.findings) == MAX_EXTRA_ROWS - 1
    assert any("the rest" in f.message for f in out.report.findings)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty document"),
        (b"\r\n \t\r\n", "empty document"),
        (b"\x00" * 100, "binary data"),
        (PDF.read_bytes(), None),
        (random.Random(8).randbytes(100_000), None),
        (OLE2 + bytes(1000), "binary data"),
    ],
    ids=["empty", "blank", "nul", "pdf", "garbage", "legacy-doc"],
)
def test_txt_wrong_contents(data, reason):
    check(data, "txt", reason)


# --- unsupported formats --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["", "xls", "odt"])
def test_unsupported_formats_are_refused(fmt):
    out = measure(PDF.read_bytes(), fmt)
    assert out.error and "not supported" in out.error and "\n" not in out.error


# --- PDF --------------------------------------------------------------------------------------------------


def test_pdf_decompression_bomb_is_refused_at_the_stream_limit():
    check(pdf_builders.decompression_bomb(200), "pdf", "expands past .* bytes \\(decompression bomb\\)")


def test_pdf_of_thousands_of_pages_is_refused_before_reading_them():
    out = check(pdf_builders.many_pages(5000), "pdf", r"more than 500 pages")
    assert out.seconds < 2


def test_pdf_nested_50000_levels_deep():
    check(pdf_builders.deep_nesting(50_000), "pdf", parses=True)  # the nesting is never resolved


def test_pdf_with_a_broken_checksum_is_repaired_in_linear_time():
    import zlib

    content = zlib.compress(pdf_builders.HELLO + b" " * 3_000_000)[:-4] + b"\x00\x00\x00\x00"
    data = pdf_builders.pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
            pdf_builders.FONT,
        ]
    )
    check(data, "pdf", parses=True)


def test_pdf_page_with_too_many_drawing_instructions():
    rects = b"".join(b"%d %d 1 1 re f\n" % (i % 500, i // 500) for i in range(300_000))
    check(pdf_builders.one_page(rects, flate=True), "pdf", "bytes of drawing instructions")


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_pdf_truncated(keep):
    data = PDF.read_bytes()
    check(data[: int(len(data) * keep)], "pdf")


@pytest.mark.parametrize("seed", range(4))
def test_pdf_corrupt_bytes(seed):
    data = bytearray(PDF.read_bytes())
    rng = random.Random(seed)
    for _ in range(200):
        data[rng.randrange(len(data))] = rng.randrange(256)
    check(bytes(data), "pdf")


# --- the whole pipeline: a folder of hostile files next to a good report ------------------------------------


def hostile_folder(good_docx: bytes, secret: Path, port: int) -> dict[str, bytes]:
    """File name → bytes: every kind of bad document, named as a path source would find it."""
    xml = members(good_docx)[DOCUMENT_XML].decode()
    xxe = doctype(
        xml, f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">]>', "<w:t>", "<w:t>&xxe;"
    )
    net = doctype(
        xml, f'<!DOCTYPE w:document [<!ENTITY n SYSTEM "http://127.0.0.1:{port}/">]>', "<w:t>", "<w:t>&n;"
    )
    return {
        "bomb-members.docx": zip_of(
            members(good_docx) | {f"m/{i}": b"" for i in range(zipguard.MAX_MEMBERS + 1)}
        ),
        "bomb-declared.docx": patch_declared_size(good_docx, "word/styles.xml", 150 * MB),
        "bomb-actual.docx": patch_declared_size(good_docx, DOCUMENT_XML, 1000),
        "bomb-ratio.docx": replace_part(good_docx, "word/media/zeros.bin", bytes(50 * MB)),
        "bomb-markup.docx": with_body(
            good_docx, "".join(paragraph(t) for t in varied(zipguard.MAX_MARKUP // 6))
        ),
        "entity-file.docx": replace_part(good_docx, DOCUMENT_XML, xxe),
        "entity-network.docx": replace_part(good_docx, DOCUMENT_XML, net),
        "traversal.docx": replace_part(good_docx, "../../evil.xml", b"<x/>"),
        "truncated.docx": good_docx[: len(good_docx) // 2],
        "a-pdf.docx": PDF.read_bytes(),
        "an-old-doc.docx": OLE2 + random.Random(1).randbytes(5000),
        "gbk-text.docx": "政府信息公开工作年度报告".encode("gbk") * 20,
        "garbage.docx": random.Random(2).randbytes(5000),
        "empty.docx": b"",
        "a-docx.html": good_docx,
        "garbage.html": random.Random(3).randbytes(5000),
        "empty.html": b"",
        "huge.html": b" " * (html.MAX_BYTES + 1),
        "deep.html": html_page("<div>" * 100_000),
        "tables.html": html_page("<table><tr><td>a</td><td>1</td></tr></table>" * (grid.MAX_TABLES + 1)),
        "spans.html": html_page(
            "<table>" + '<tr><td rowspan="1000" colspan="1000">x</td></tr>' * 1000 + "</table>"
        ),
        "garbage.txt": b"\x00" + random.Random(4).randbytes(5000),
        "empty.txt": b"",
        "huge.txt": b"x" * (text.MAX_TEXT_BYTES + 1),
        "lines.txt": b"\t1\n" * (text.MAX_LINES + 1),
        "x..\\..\\escape.docx": b"",  # names with ../ in them (a file name cannot hold '/')
        "x..%2F..%2Fescape.txt": b"",
        "bomb.pdf": pdf_builders.decompression_bomb(200),
        "pages.pdf": pdf_builders.many_pages(5000),
        "truncated.pdf": PDF.read_bytes()[: len(PDF.read_bytes()) // 3],
        "encrypted-or-not.pdf": b"%PDF-1.7\n" + random.Random(5).randbytes(3000),
    }


def cached_report(data_dir: Path, record) -> ParsedReport:
    """The ParsedReport the parse stage cached for a record."""
    payload = json.loads((data_dir / record.cache_file).read_bytes())
    assert payload["ok"], payload
    return ParsedReport.from_dict(payload["report"])


def snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and skip not in p.parents
    }


def test_pipeline_records_each_hostile_document_as_failed_and_parses_the_good_one(
    tmp_path, good_docx, secret, listener
):
    secret_path, marker = secret
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / SEED_NAME).write_bytes(SEED.read_bytes())
    bad = hostile_folder(good_docx, secret_path, listener.port)
    for name, data in bad.items():
        (docs / "sub" / name).write_bytes(data)
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: hostile\n    path: docs\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    before = snapshot(tmp_path, data_dir)

    settings = load_settings(sources, data_dir)
    start = time.perf_counter()
    [scraped] = scrape_all(settings)
    records, stats = parse_all(settings)
    elapsed = time.perf_counter() - start

    assert scraped.ok and scraped.counts["discovered"] == len(bad) + 1
    by_locator = {r.doc.locator: r for r in records}
    assert set(by_locator) == {SEED_NAME} | {f"sub/{name}" for name in bad}
    good = by_locator.pop(SEED_NAME)
    assert good.error is None, good.error
    report = cached_report(data_dir, good)
    assert report.kind == "report" and report.year == 2020 and report.cells
    for locator, record in by_locator.items():
        fmt = format_for(locator)
        assert record.error, f"{locator}: not failed"
        assert record.error.startswith(f"{fmt}: ") and "\n" not in record.error, (locator, record.error)
        assert len(record.error) < 400 and marker not in record.error, (locator, record.error)
    assert stats.failed == len(bad)
    assert listener.hits == 0
    assert elapsed < 60

    # names are never paths: everything written is under the data dir, the raw store is content-addressed
    assert snapshot(tmp_path, data_dir) == before
    written = [p for p in data_dir.rglob("*") if p.is_file()]
    assert all(data_dir in p.parents for p in written)
    assert not any("escape" in p.name or ".." in p.name for p in written)
    for p in written:
        assert marker.encode() not in p.read_bytes()[:5_000_000], p
