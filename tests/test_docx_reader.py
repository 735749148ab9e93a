""".docx reading: each table quirk of real reports (QUIRKS.md) and each hostile-archive case.

Where docx2python alone gets a quirk wrong, the test asserts that too: it documents why the reader
walks the XML for structure instead of trusting docx2python's tables.
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from docx2python import docx2python
from lxml import etree

from pipeline.document import DocumentError, Table
from pipeline.readers.docx import read_docx
from pipeline.readers.zipguard import MB, check_decompressed_size, check_zip
from tests.docx_builders import (
    DOCUMENT_XML,
    C,
    W,
    add_grid_after,
    add_grid_before,
    build_docx,
    edit_document_xml,
    patch_declared_size,
    replace_part,
    to_libreoffice_vmerge,
    wrap_cells_in_sdt,
    wrap_in_sdt,
    wrap_rows_in_sdt,
)

# A 4×3 table: "合计" spans three rows, "申请人" two columns.
MERGED = [
    ["类别", C("申请人", colspan=2)],
    [C("合计", rowspan=3), "自然人", "法人"],
    ["10", "2"],
    ["11", "3"],
]


def texts(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row] for row in table.grid]


def document_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(DOCUMENT_XML).decode()


def docx2python_tables(data: bytes) -> list[list[list[str]]]:
    """docx2python's own tables: cell paragraphs joined, 1×1 text blocks left out."""
    with docx2python(io.BytesIO(data)) as content:
        blocks = content.body
    tables = [[["\n".join(cell) for cell in row] for row in block] for block in blocks]
    return [t for t in tables if len(t) > 1 or len(t[0]) > 1]


def only_table(data: bytes) -> Table:
    doc = read_docx(data)
    assert len(doc.tables) == 1
    return doc.tables[0]


# --- vertical and horizontal merges ---------------------------------------------------------------


def assert_merged(table: Table) -> None:
    assert texts(table) == [
        ["类别", "申请人", "申请人"],
        ["合计", "自然人", "法人"],
        ["合计", "10", "2"],
        ["合计", "11", "3"],
    ]
    total = table.grid[1][0]
    assert (total.row, total.col, total.rowspan, total.colspan) == (1, 0, 3, 1)
    assert table.grid[2][0] is total and table.grid[3][0] is total
    assert [c.text for c in table.own_cells(2)] == ["10", "2"]


def test_bare_vmerge_word_style():
    data = build_docx([MERGED])
    assert "<w:vMerge/>" in document_xml(data)
    assert_merged(only_table(data))


def test_vmerge_continue_libreoffice_style():
    data = to_libreoffice_vmerge(build_docx([MERGED]))
    assert 'w:vMerge w:val="continue"' in document_xml(data)
    assert_merged(only_table(data))
    # why the reader has its own merge code: docx2python leaves "continue" rows empty
    assert [row[0] for row in docx2python_tables(data)[0]] == ["类别", "合计", "", ""]


def test_gridspan_is_one_cell_with_colspan():
    table = only_table(build_docx([MERGED]))
    head = table.grid[0][1]
    assert (head.text, head.colspan, head.rowspan) == ("申请人", 2, 1)
    assert table.grid[0][2] is head
    assert [c.text for c in table.own_cells(0)] == ["类别", "申请人"]


def test_text_in_a_continuation_cell_is_kept():
    def fill_continuation(root: etree._Element) -> None:
        tc = root.findall(".//{*}tr")[2].find("{*}tc")
        tc.find("{*}p").append(etree.fromstring(f'<w:r xmlns:w="{tc.nsmap["w"]}"><w:t>注</w:t></w:r>'))

    table = only_table(edit_document_xml(build_docx([MERGED]), fill_continuation))
    assert table.grid[1][0].text == "合计\n注"
    assert table.grid[1][0].rowspan == 3


def test_orphan_continuation_is_an_ordinary_cell():
    def orphan(root: etree._Element) -> None:
        first = root.find(".//{*}tc/{*}tcPr")
        first.append(etree.fromstring(f'<w:vMerge xmlns:w="{first.nsmap["w"]}"/>'))

    table = only_table(edit_document_xml(build_docx([[["a", "b"], ["c", "d"]]]), orphan))
    assert texts(table) == [["a", "b"], ["c", "d"]]


# --- grid offsets ----------------------------------------------------------------------------------

PLAIN = [["a", "b", "c"], ["", "", "f"], ["g", "h", ""]]


def test_grid_before_starts_the_row_at_its_column():
    data = add_grid_before(build_docx([PLAIN]), 0, 1, 2)
    assert '<w:gridBefore w:val="2"/>' in document_xml(data)
    table = only_table(data)
    assert texts(table) == PLAIN
    assert [c.colspan for c in table.own_cells(1)] == [1, 1, 1]  # one empty cell per skipped column
    # docx2python shifts the row left: "f" lands under "a"
    assert docx2python_tables(data)[0][1] == ["f"]


def test_grid_before_with_a_vertical_merge_in_the_row():
    rows = [["a", C("b", rowspan=2), "c"], ["", "f"]]
    data = to_libreoffice_vmerge(add_grid_before(build_docx([rows]), 0, 1, 1))
    assert texts(only_table(data)) == [["a", "b", "c"], ["", "b", "f"]]


def test_grid_after_ends_the_row_early_without_shifting():
    data = add_grid_after(build_docx([PLAIN]), 0, 2, 1)
    assert '<w:gridAfter w:val="1"/>' in document_xml(data)
    assert texts(only_table(data)) == [["a", "b", "c"], ["", "", "f"], ["g", "h"]]


# --- content controls and nesting ------------------------------------------------------------------


def test_cells_in_content_controls_stay_in_the_table():
    # the first cell of row 2 is a vMerge continuation: merges work through the wrapper too
    data = wrap_cells_in_sdt(build_docx([MERGED]), 0, [(0, 1), (2, 0), (2, 1)])
    assert document_xml(data).count("<w:sdtContent>") == 3
    assert_merged(only_table(data))
    assert len(docx2python_tables(data)) > 1  # docx2python splits the table


def test_rows_in_content_controls_stay_in_the_table():
    data = build_docx([MERGED])
    data = wrap_rows_in_sdt(data, 0, 2, 3)
    data = wrap_rows_in_sdt(data, 0, 3, 3)  # nested control, like a repeating-section item
    assert document_xml(data).count("<w:sdtContent>") == 2
    assert_merged(only_table(data))
    assert len(docx2python_tables(data)) > 1


def test_nested_table_is_its_own_table_and_the_outer_stays_whole():
    inner = [["内1", "内2"], ["内3", "内4"]]
    rows = [["a", C("b", nested=inner)], ["c", "d"]]
    doc = read_docx(build_docx(["前言", rows, "之后", [["x"]]]))
    outer, nested, last = doc.tables
    assert texts(outer) == [["a", "b"], ["c", "d"]]  # cell text excludes the nested table
    assert texts(nested) == [["内1", "内2"], ["内3", "内4"]]
    assert texts(last) == [["x"]]
    assert [t.index for t in doc.tables] == [0, 1, 2]
    assert nested.context == "b"  # what precedes it in its cell
    assert doc.paragraphs == ["前言", "之后"]
    assert len(docx2python_tables(build_docx([rows]))) > 1  # docx2python splits the outer table


def test_body_paragraphs_and_whole_tables_in_content_controls():
    data = build_docx(["一", "二、主动公开政府信息情况", [["x"]], "后"])
    data = wrap_in_sdt(data, lambda root: list(root.iter(f"{W}p"))[1:2])
    data = wrap_in_sdt(data, lambda root: list(root.iter(f"{W}tbl")))
    doc = read_docx(data)
    assert doc.paragraphs == ["一", "二、主动公开政府信息情况", "后"]
    assert doc.tables[0].context == "一\n二、主动公开政府信息情况"
    assert texts(doc.tables[0]) == [["x"]]


def test_all_quirks_together_leave_the_grids_unchanged():
    def shape(data: bytes) -> list[list[tuple]]:
        tables = read_docx(data).tables
        return [[(c.text, c.row, c.col, c.rowspan, c.colspan) for row in t.grid for c in row] for t in tables]

    clean = build_docx(report_blocks())
    quirky = to_libreoffice_vmerge(clean)
    quirky = wrap_cells_in_sdt(quirky, 1, [(r, 0) for r in range(4, 28)])  # incl. vMerge continuations
    quirky = wrap_rows_in_sdt(quirky, 2, 3, 29)
    quirky = wrap_rows_in_sdt(quirky, 0, 0, 29)
    assert shape(quirky) == shape(clean)


# --- cell text -------------------------------------------------------------------------------------


def test_line_break_inside_a_cell():
    data = build_docx([[[C("结\n果", line_breaks=True), "x"]]])
    assert "<w:br/>" in document_xml(data)
    assert only_table(data).grid[0][0].text == "结\n果"


def test_paragraphs_of_a_cell_are_joined_stripped_and_blank_ones_dropped():
    data = build_docx([[[C("  商业 \n\n 企业  "), "x"]]])
    assert document_xml(data).count("<w:p>") >= 3
    assert only_table(data).grid[0][0].text == "商业\n企业"


def test_tab_is_a_space():
    data = build_docx([[["办理\t结果"]]])
    assert "<w:tab/>" in document_xml(data)
    assert only_table(data).grid[0][0].text == "办理 结果"


# --- paragraphs, context, metadata -----------------------------------------------------------------


def test_body_paragraphs_exclude_table_text():
    doc = read_docx(build_docx(["  标题  ", "", [["表内"]], "正文"]))
    assert doc.paragraphs == ["标题", "正文"]


def test_context_is_the_last_three_nonempty_paragraphs_before_a_table():
    doc = read_docx(
        build_docx(["一", "二", "", "三", "二、主动公开政府信息情况", [["x"]], "四", [["y"]], [["z"]]])
    )
    assert [t.context for t in doc.tables] == [
        "二\n三\n二、主动公开政府信息情况",
        "三\n二、主动公开政府信息情况\n四",
        "三\n二、主动公开政府信息情况\n四",
    ]


def test_context_is_capped_at_the_end_nearest_the_table():
    doc = read_docx(build_docx(["甲" * 400 + "情况如下：", [["x"]]]))
    context = doc.tables[0].context
    assert len(context) == 300
    assert context.endswith("情况如下：")


def test_core_property_title_and_meta():
    doc = read_docx(build_docx(["x"], title=" 2024年政府信息公开工作年度报告 ", creator="某办"))
    assert doc.title == "2024年政府信息公开工作年度报告"
    assert doc.meta["title"] == doc.title
    assert doc.meta["creator"] == "某办"
    assert {"created", "modified"} <= doc.meta.keys()
    assert doc.format == "docx"


def test_empty_core_title_is_none():
    doc = read_docx(build_docx(["x"]))
    assert doc.title is None
    assert "title" not in doc.meta


def test_docx_without_core_properties():
    doc = read_docx(replace_part(build_docx(["x"]), "docProps/core.xml", None))
    assert (doc.title, doc.meta, doc.paragraphs) == (None, {}, ["x"])


def test_lxml_default_parser_is_restored():
    before = etree.get_default_parser()
    read_docx(build_docx(["x"]))
    assert etree.get_default_parser() is before


# --- a realistic report ----------------------------------------------------------------------------


def report_blocks() -> list:
    """A report shaped like the real ones: 22 paragraphs and tables 二, 三, 四 of ~30 rows each."""
    paras = [f"（{i}）本机关严格落实政府信息公开条例，第{i}项工作情况如下。" for i in range(1, 18)]
    t2 = [[C("第二十条第（一）项", colspan=4)], ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]]
    t2 += [[f"规章{i}", str(i), "0", str(i * 3)] for i in range(14)]
    t2 += [[C("第二十条第（五）项", colspan=4)], ["信息内容", C("本年处理决定数量", colspan=3)]]
    t2 += [[f"行政许可{i}", C(str(i * 7), colspan=3)] for i in range(12)]
    head = [C("本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和", colspan=3, rowspan=3)]
    t3 = [
        [*head, C("申请人情况", colspan=7)],
        [C("自然人", rowspan=2), C("法人或其他组织", colspan=5), C("总计", rowspan=2)],
        ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"],
        [C("一、本年新收政府信息公开申请数量", colspan=3), *map(str, range(7))],
        [C("三、本年度办理结果", rowspan=24), C("（一）予以公开", colspan=2), *map(str, range(7))],
    ]
    t3 += [[C(f"（{i}）结果", colspan=2), *map(str, range(7))] for i in range(2, 25)]
    t4 = [
        [C("行政复议", colspan=5), C("行政诉讼", colspan=10)],
        [
            *(C(x, rowspan=2) for x in ("维持", "纠正", "其他", "未结", "总计")),
            C("未经复议", colspan=5),
            C("复议后", colspan=5),
        ],
        ["维持", "纠正", "其他", "未结", "总计"] * 2,
    ]
    t4 += [[str((r * 15 + c) % 9) for c in range(15)] for r in range(27)]
    return [
        "某市人民政府2024年政府信息公开工作年度报告",
        "一、总体情况",
        *paras[:14],
        "二、主动公开政府信息情况",
        t2,
        "三、收到和处理政府信息公开申请情况",
        t3,
        "四、政府信息公开行政复议、行政诉讼情况",
        t4,
        *paras[14:],
    ]


def test_realistic_report():
    doc = read_docx(build_docx(report_blocks()))
    assert [t.n_rows for t in doc.tables] == [30, 28, 30]
    assert [t.context.splitlines()[-1] for t in doc.tables] == [
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
    ]
    t3 = doc.tables[1]
    result = t3.grid[4][0]
    assert (result.text, result.rowspan) == ("三、本年度办理结果", 24)
    assert [c.text for c in t3.own_cells(5)] == ["（2）结果", *map(str, range(7))]
    assert len(doc.paragraphs) == 22


# --- hostile and broken archives -------------------------------------------------------------------


def test_too_many_members():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for i in range(2001):
            zf.writestr(f"word/media/m{i}.bin", b"")
    with pytest.raises(DocumentError, match="2001 members"):
        read_docx(out.getvalue())


def test_compression_ratio_bomb():
    data = replace_part(build_docx(["x"]), "word/media/zeros.bin", bytes(50 * MB))
    with pytest.raises(DocumentError, match="zip bomb"):
        read_docx(data)


def test_declared_size_too_large():
    data = patch_declared_size(build_docx(["x"]), "word/styles.xml", 150 * MB)
    with pytest.raises(DocumentError, match="declares"):
        read_docx(data)


VARIED_TEXT = "".join(chr(0x4E00 + i * 7919 % 20000) for i in range(400_000))  # ~1.2 MB, not a bomb


def test_declared_size_lie_is_caught_while_reading():
    real = build_docx([VARIED_TEXT])  # document.xml is ~1.2 MB; it claims 1 KB
    data = patch_declared_size(real, DOCUMENT_XML, 1000)
    check_zip(data).close()  # the directory looks harmless…
    with pytest.raises(DocumentError, match=r"^docx: word/document\.xml is unreadable \(Bad CRC"):
        read_docx(data)  # …the bytes are not: zipfile stops at the claimed size, the CRC fails


def test_decompressed_size_guard_stops_past_the_limit():
    with check_zip(build_docx([VARIED_TEXT])) as zf:
        assert check_decompressed_size(zf, DOCUMENT_XML, 2 * MB) > MB
        with pytest.raises(DocumentError, match="decompresses past"):
            check_decompressed_size(zf, DOCUMENT_XML, 100_000)


@pytest.mark.parametrize("name", ["../evil.xml", "word/../../evil.xml", "/etc/evil.xml", "C:\\evil.xml"])
def test_path_traversal_member_name(name):
    data = replace_part(build_docx(["x"]), name, b"x")
    with pytest.raises(DocumentError, match="path traversal"):
        read_docx(data)


def test_truncated_zip():
    data = build_docx(["x"])
    with pytest.raises(DocumentError, match="corrupt or truncated"):
        read_docx(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "legacy binary .doc"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF"),
        ("<html>政府信息公开</html>".encode(), "maybe a legacy .doc"),
        (b"", "maybe a legacy .doc"),
    ],
)
def test_not_a_zip(data, reason):
    with pytest.raises(DocumentError, match="not a zip archive") as err:
        read_docx(data)
    assert reason in str(err.value)


def test_missing_document_xml():
    data = replace_part(build_docx(["x"]), DOCUMENT_XML, None)
    with pytest.raises(DocumentError, match=r"no word/document\.xml"):
        read_docx(data)


def test_missing_package_relationships():
    data = replace_part(build_docx(["x"]), "_rels/.rels", None)
    with pytest.raises(DocumentError, match="no main document part"):
        read_docx(data)


def with_doctype(data: bytes, doctype: str, replace: tuple[str, str]) -> bytes:
    xml = document_xml(data).replace(*replace)
    declaration, _, rest = xml.partition("\n")
    return replace_part(data, DOCUMENT_XML, f"{declaration}\n{doctype}\n{rest}".encode())


def test_xml_entity_bomb():
    lols = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    data = with_doctype(
        build_docx(["boom", [["x"]]]), f'<!DOCTYPE w:document [<!ENTITY l0 "lol">{lols}]>', ("boom", "&l9;")
    )
    start = time.perf_counter()
    try:
        doc = read_docx(data)
    except DocumentError as err:
        assert "\n" not in str(err)
    else:
        assert "lollol" not in "".join(doc.paragraphs)
    assert time.perf_counter() - start < 5


@pytest.mark.filterwarnings("ignore:skipping invalid tag name")  # docx2python meets the entity node
@pytest.mark.parametrize("target", ["file:///etc/passwd", "/etc/passwd", "http://127.0.0.1:9/x"])
def test_external_entity_is_never_read(target):
    data = with_doctype(
        build_docx(["leak"]), f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{target}">]>', ("leak", "&xxe;")
    )
    with pytest.raises(DocumentError, match="DOCTYPE") as err:
        read_docx(data)
    assert "root:" not in str(err.value)


@pytest.mark.parametrize("entity", ['<!ENTITY xxe SYSTEM "file:///etc/passwd">', '<!ENTITY xxe "expanded">'])
def test_entities_in_other_parts_are_not_expanded(entity):
    """docx2python parses core.xml (and styles, numbering, rels) itself: with the safe parser too."""
    with zipfile.ZipFile(io.BytesIO(build_docx(["x"], title="T"))) as zf:
        core = zf.read("docProps/core.xml").decode()
    declaration, _, rest = core.partition("\n")
    hostile = f"{declaration}\n<!DOCTYPE x [{entity}]>\n{rest}".replace(">T<", ">&xxe;<")
    doc = read_docx(replace_part(build_docx(["x"]), "docProps/core.xml", hostile.encode()))
    assert doc.title is None
    assert "root:" not in repr(doc) and "expanded" not in repr(doc)


@pytest.mark.parametrize(
    "xml",
    [b"", b"<w:document", b"\xff\xfe\x00garbage", b"<?xml version='1.0'?><other/>", b"<a><b></a>"],
)
def test_broken_document_xml_is_a_document_error(xml):
    with pytest.raises(DocumentError) as err:
        read_docx(replace_part(build_docx(["x"]), DOCUMENT_XML, xml))
    assert "\n" not in str(err.value)
