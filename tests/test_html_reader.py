"""HTML reader: real Pingtan pages, crafted quirk pages, hostile input.

Each quirk test is built so that it fails when the quirk's handling is removed (see the comment on each).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.document import Document, DocumentError, Table
from pipeline.readers.html import MAX_BYTES, read_html

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = FIXTURES / "corpus"
HTML = FIXTURES / "html"


def read(html: str, **kwargs) -> Document:
    return read_html(html.encode("utf-8"), **kwargs)


def texts(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row] for row in table.grid]


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def rows(n: int, a: str = "a", b: str = "b") -> str:
    return f"<tr><td>{a}</td><td>{b}</td></tr>" * n


# --- the real corpus ----------------------------------------------------------------------------------------

# file, year, truth file, rows of table 三, (row, col) of （七）总计, its colspan, 总计 column, natural-person
# value of 一、本年新收 at grid[3][3], total of （七）总计
CORPUS_PAGES = [
    ("t20200120_80576.htm", 2019, "pingtan_2019.json", 26, (24, 1), 2, 9, "23", "23"),
    ("t20220208_80613.htm", 2021, "pingtan_2021.json", 28, (26, 1), 2, 10, "64", "69"),
    ("t20240308_87885.htm", 2023, "pingtan_2023.json", 28, (26, 1), 2, 9, "80", "81"),
    ("t20260313_105587.htm", 2025, "pingtan_2025.json", 28, (26, 1), 2, 9, "151", "148"),
]


@pytest.fixture(scope="module")
def corpus() -> dict[str, Document]:
    return {name: read_html((CORPUS / name).read_bytes()) for name, *_ in CORPUS_PAGES}


@pytest.mark.parametrize(("name", "year"), [(p[0], p[1]) for p in CORPUS_PAGES])
def test_corpus_page_has_three_tables_with_section_context(corpus, name, year):
    doc = corpus[name]
    assert doc.format == "html"
    assert doc.encoding == "utf-8"
    assert doc.title == f"平潭综合实验区{year}年度政府信息公开工作年度报告"
    assert doc.meta["PubDate"].startswith(str(year + 1))
    assert doc.meta["Url"].endswith(name)
    assert [t.index for t in doc.tables] == [0, 1, 2]
    # the heading printed just before each table is the last line of its context
    assert doc.tables[0].context.endswith("二、主动公开政府信息情况")
    assert doc.tables[1].context.endswith("三、收到和处理政府信息公开申请情况")
    assert doc.tables[2].context.endswith("四、政府信息公开行政复议、行政诉讼情况")
    assert all(len(t.context) <= 300 for t in doc.tables)
    # table 四: 4 rows × 15 columns, one data row
    assert [len(r) for r in doc.tables[2].grid] == [15] * 4
    # sections after the tables are paragraphs; chrome is kept as paragraphs too
    assert "一、总体情况" in doc.paragraphs
    assert any(p.startswith("五、") for p in doc.paragraphs)
    assert any(p.startswith("当前位置") for p in doc.paragraphs)


@pytest.mark.parametrize(
    ("name", "n_rows", "total_at", "total_colspan", "total_col", "natural_new", "total_value"),
    [(p[0], *p[3:]) for p in CORPUS_PAGES],
)
def test_corpus_table3_grid(
    corpus, name, n_rows, total_at, total_colspan, total_col, natural_new, total_value
):
    table = corpus[name].tables[1]
    assert table.n_rows == n_rows
    row, col = total_at
    total = table.grid[row][col]
    assert total.text == "（七）总计"
    assert (total.row, total.col, total.colspan) == (row, col, total_colspan)
    assert table.grid[3][0].text == "一、本年新收政府信息公开申请数量"
    assert table.grid[3][3].text == natural_new
    assert table.grid[row][total_col].text == total_value
    corner = table.grid[0][0]
    assert corner.text.startswith("（本列数据的勾稽关系为")
    assert (corner.rowspan, corner.colspan) == (3, 3)
    assert table.grid[2][2] is corner


@pytest.mark.parametrize(("name", "truth"), [(p[0], p[2]) for p in CORPUS_PAGES])
def test_corpus_table3_rows_match_truth(corpus, name, truth):
    """Distinct value cells of three rows, in order, equal the hand-checked truth (spans included)."""
    applications = json.loads((FIXTURES / "truth" / truth).read_text("utf-8"))["applications"]
    table = corpus[name].tables[1]
    by_label = {}
    for r in range(table.n_rows):
        cells = table.row_cells(r)
        labels = [c.text for c in cells if not c.text.isdigit()]
        by_label[labels[-1] if labels else ""] = [int(c.text) for c in cells if c.text.isdigit()]
    assert by_label["一、本年新收政府信息公开申请数量"] == applications["new_received"]
    assert by_label["（七）总计"] == applications["total_processed"]
    assert by_label["四、结转下年度继续办理"] == applications["carried_forward"]


def test_corpus_2021_value_cells_span_two_columns(corpus):
    """平潭 2021: 自然人 header spans 2 columns while its values sit in 1 and 商业企业 values span 2."""
    table = corpus["t20220208_80613.htm"].tables[1]
    assert table.grid[1][3].text == "自然人" and table.grid[1][3].colspan == 2
    assert table.grid[2][3].text == ""
    assert table.grid[2][4].text == "商业\n企业" and table.grid[2][4].colspan == 2
    assert table.grid[3][4] is table.grid[3][5]
    assert len(table.grid[3]) == 11


def test_corpus_2019_result_label_is_split_in_two_cells(corpus):
    table = corpus["t20200120_80576.htm"].tables[1]
    first, second = table.grid[5][0], table.grid[15][0]
    assert first is not second
    assert first.text == second.text == "三、本年度办理结果"
    assert (first.row, first.rowspan, second.row, second.rowspan) == (5, 10, 15, 10)


def test_corpus_word_export_page_has_no_markup_noise(corpus):
    """The 366 KB Word-exported page: vertical labels keep one line per character, no mso/o:p leaks."""
    doc = corpus["t20220208_80613.htm"]
    assert doc.tables[2].grid[1][0].text == "结\n果\n维\n持"
    everything = "\n".join(doc.paragraphs + [c.text for t in doc.tables for r in t.grid for c in r])
    for noise in ("mso-", "o:p", "\u00a0", "\ufdd0", "\ufdd1", "\ufdd2", "require("):
        assert noise not in everything


def test_corpus_line_break_inside_label(corpus):
    table = corpus["t20260313_105587.htm"].tables[1]
    assert table.grid[5][0].text == "三、本\n年度办\n理结果"
    # `行政机关</p><p style=...>不再处理` inside one cell
    assert table.grid[23][2].text == "1.申请人无正当理由逾期不补正、行政机关\n不再处理其政府信息公开申请"


# --- spans --------------------------------------------------------------------------------------------------


def test_rowspan_and_colspan_expand_to_shared_cells():
    doc = read(
        page(
            "<table><tr><th rowspan=2>项目</th><th colspan=2>数量</th></tr>"
            "<tr><th>甲</th><th>乙</th></tr><tr><td>规章</td><td>1</td><td>2</td></tr></table>"
        )
    )
    (table,) = doc.tables
    assert texts(table) == [["项目", "数量", "数量"], ["项目", "甲", "乙"], ["规章", "1", "2"]]
    assert table.grid[0][0] is table.grid[1][0]
    assert table.grid[0][1] is table.grid[0][2]


def test_bad_span_values_are_tolerated():
    doc = read(
        page(
            '<table><tr><td rowspan="2;">a</td><td colspan="2px">b</td><td colspan="abc">c</td></tr>'
            '<tr><td rowspan="0">d</td><td>e</td><td>f</td></tr></table>'
        )
    )
    assert texts(doc.tables[0]) == [["a", "b", "b", "c"], ["a", "d", "e", "f"]]


def test_cells_without_tr_form_a_row():
    # libxml2 adds no <tr> around bare cells: without an implicit row they would be lost or join a closed row
    doc = read(page("<table><td>a<td>b</table><table><tr><td>x</td><td>y</td></tr><td>z</td></table>"))
    assert [texts(t) for t in doc.tables] == [[["a", "b"]], [["x", "y"], ["z"]]]


# --- cell and paragraph text --------------------------------------------------------------------------------


def test_br_and_blocks_become_line_breaks():
    doc = read(
        page(
            "<table><tr><td>商业</p><p>企业</td><td>结<br>果<br/>维<br>持</td>"
            "<td><div>法律</div><div>服务</div>机构</td><td><ul><li>一</li><li>二</li></ul></td></tr></table>"
        )
    )
    assert texts(doc.tables[0]) == [["商业\n企业", "结\n果\n维\n持", "法律\n服务\n机构", "一\n二"]]


def test_whitespace_nbsp_and_ideographic_space_collapse_but_printed_spaces_stay():
    doc = read(
        page(
            "<table><tr><td>  总 计  </td><td>x&nbsp;&nbsp; y\u3000\u3000z</td><td>&nbsp;</td>"
            "<td>办\n   理结果</td><td><p>&nbsp;</p><p>0</p><p> </p></td></tr></table>"
        )
    )
    assert texts(doc.tables[0]) == [["总 计", "x y z", "", "办 理结果", "0"]]


def test_pre_keeps_its_line_breaks():
    doc = read(page("<pre>一、总体情况\n  本年度\n\n二、主动公开</pre>"))
    assert doc.paragraphs == ["一、总体情况", "本年度", "二、主动公开"]


def test_script_style_noscript_and_head_are_not_text():
    doc = read(
        page(
            "<p>正文</p><script>var a = '脚本';</script><style>p {color: red}</style>"
            "<noscript>请启用脚本</noscript><template><p>模板</p></template>",
            head="<title>标题</title><script>var b = 1;</script>",
        )
    )
    assert doc.paragraphs == ["正文"]
    assert doc.title == "标题"


def test_word_export_markup_gb2312_meta():
    """Word "Save as Web Page": gb2312 in <meta> only, <o:p>, mso styles, conditional comments, lists."""
    doc = read_html((HTML / "word_export_gb2312.htm").read_bytes())
    assert doc.encoding == "gb18030"
    assert doc.title == "某某镇2021年政府信息公开工作年度报告"
    # 镕 is GBK but not GB2312: decoding as declared would fail; decoded as GB18030 it reads
    assert "本年度朱镕基路社区共收到申请5件。" in doc.paragraphs
    # the list number Word puts inside <![if !supportLists]> is printed text
    assert "一、 总体情况" in doc.paragraphs
    assert doc.meta["ProgId"] == "Word.Document"
    (table,) = doc.tables
    assert table.context.endswith("三、收到和处理政府信息公开申请情况")
    assert texts(table)[0][3:] == ["自然人", "商业\n企业"]
    assert texts(table)[1][3:] == ["", ""]  # <o:p>&nbsp;</o:p> is an empty cell
    assert texts(table)[2] == ["三、本年度办理结果", "（七）总 计", "（七）总 计", "5", "0"]
    everything = "\n".join(doc.paragraphs + [c.text for r in table.grid for c in r])
    for noise in ("Administrator", "Print", "false", "mso-", "Style Definitions", "o:p"):
        assert noise not in everything


def test_conditional_comments_are_dropped():
    doc = read(page("<p>前<!--[if gte mso 9]><xml><w:View>Print</w:View></xml><![endif]-->后</p>"))
    assert doc.paragraphs == ["前后"]


# --- table nesting ------------------------------------------------------------------------------------------


def test_layout_table_wrapping_a_data_table():
    doc = read(
        page(
            "<p>当前位置：首页</p>"
            "<table><tr><td><p>二、主动公开政府信息情况</p>"
            f"<table>{rows(3)}</table>说明文字</td></tr>"
            "<tr><td>版权所有</td></tr></table>"
        )
    )
    (table,) = doc.tables  # the wrapper is not a data table...
    assert texts(table) == [["a", "b"]] * 3
    # ...and its own text is not lost: it is paragraphs, in order around the data table
    assert doc.paragraphs == ["当前位置：首页", "二、主动公开政府信息情况", "说明文字", "版权所有"]
    assert table.context == "当前位置：首页\n二、主动公开政府信息情况"


def test_layout_table_with_a_long_text_cell_is_layout():
    article = "本报告" * 200
    doc = read(
        page(
            f"<table><tr><td>导航</td><td>{article}<table>{rows(3)}</table></td></tr>"
            f"<tr><td>x</td><td>y</td></tr><tr><td>x</td><td>y</td></tr><tr><td>x</td><td>y</td></tr></table>"
        )
    )
    assert [texts(t) for t in doc.tables] == [[["a", "b"]] * 3]
    assert article in doc.paragraphs


def test_table_nested_in_a_data_cell_is_its_own_table():
    doc = read(
        page(
            "<h3>表二</h3><table><tr><td>x</td><td>见下表<table><tr><td>in1</td><td>in2</td></tr></table>"
            f"合计</td></tr>{rows(4)}</table>"
        )
    )
    outer, inner = doc.tables
    assert (outer.index, inner.index) == (0, 1)
    assert outer.grid[0][1].text == "见下表\n合计"  # the inner table's text is not in the outer cell
    assert texts(inner) == [["in1", "in2"]]
    assert outer.n_rows == 5
    assert inner.context == outer.context == "表二"


def test_one_cell_table_is_a_paragraph():
    doc = read(
        page(f"<table><tr><td>三、收到和处理政府信息公开申请情况</td></tr></table><table>{rows(3)}</table>")
    )
    assert len(doc.tables) == 1
    assert doc.paragraphs == ["三、收到和处理政府信息公开申请情况"]
    assert doc.tables[0].context == "三、收到和处理政府信息公开申请情况"


def test_caption_is_context_not_cell_text():
    doc = read(page(f"<table><caption>表三 申请情况</caption>{rows(2, '项目', '数量')}</table>"))
    assert texts(doc.tables[0]) == [["项目", "数量"]] * 2
    assert doc.tables[0].context == "表三 申请情况"


def test_unclosed_caption_does_not_swallow_the_rows():
    doc = read(page("<table><caption>表三<td>a<td>b</table><p>说明</p>"))
    assert texts(doc.tables[0]) == [["a", "b"]]
    assert doc.paragraphs == ["表三", "说明"]


def test_context_is_last_three_paragraphs_capped():
    long = "很长的段落" * 100
    doc = read(
        page(
            f"<p>一</p><p>二</p><p>三</p><p>四</p><table>{rows(2)}</table><p>{long}</p><table>{rows(2)}</table>"
        )
    )
    first, second = doc.tables
    assert first.context == "二\n三\n四"
    assert len(second.context) == 300 and second.context.endswith("很长的段落")


# --- HTML inside JavaScript strings -------------------------------------------------------------------------

TABLE_HTML = '<p>三、收到和处理政府信息公开申请情况</p><table border="1"><tr><td>自然人</td><td>商业企业</td></tr><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></table>'


def _js_double(html: str) -> str:
    return "var content = " + json.dumps(html, ensure_ascii=False).replace("/", "\\/") + ";"


def _js_document_write(html: str) -> str:
    half = len(html) // 2
    return "".join(f"document.write('{part}');\n" for part in (html[:half], html[half:]))


def _js_json_unicode(html: str) -> str:
    return "window.__DATA__ = " + json.dumps({"article": {"body": html}}).replace("<", "\\u003c") + ";"


def _js_hex(html: str) -> str:
    return "var s = '" + html.replace("<", "\\x3c").replace(">", "\\x3e") + "';"


def _js_entities(html: str) -> str:
    return 'var s = "' + html.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") + '";'


@pytest.mark.parametrize(
    "script",
    [_js_double, _js_document_write, _js_json_unicode, _js_hex, _js_entities],
    ids=lambda f: f.__name__,
)
def test_html_in_a_javascript_string_is_read(script):
    doc = read(page(f"<div>当前位置：首页</div><script>{script(TABLE_HTML)}</script><div>版权所有</div>"))
    (table,) = doc.tables
    assert texts(table) == [["自然人", "商业企业"], ["1", "2"], ["3", "4"]]
    assert table.context.endswith("三、收到和处理政府信息公开申请情况")
    # the fragment takes the script's place among the paragraphs
    assert doc.paragraphs == ["当前位置：首页", "三、收到和处理政府信息公开申请情况", "版权所有"]


def test_javascript_escapes_are_decoded():
    source = r"""var c = '<table><tr><td>\u4e2d\u6587</td><td>it\'s \"ok\"</td></tr><tr><td>a\\b</td><td>\ud83d\ude00</td></tr><tr><td>1<\/td><td>\x41</td></tr></table>';"""
    doc = read(page(f"<script>{source}</script>"))
    assert texts(doc.tables[0]) == [["中文", 'it\'s "ok"'], ["a\\b", "\U0001f600"], ["1", "A"]]


def test_json_script_fixture_with_layout_wrapper():
    doc = read_html((HTML / "js_json_content.htm").read_bytes())
    (table,) = doc.tables
    assert table.n_rows == 4 and len(table.grid[3]) == 15
    assert table.grid[1][0].text == "结果\n维持"
    assert [c.text for c in table.grid[3]][5:10] == ["2", "0", "0", "1", "3"]
    assert table.context.endswith("四、政府信息公开行政复议、行政诉讼情况")
    assert "五、存在的主要问题及改进情况" in doc.paragraphs
    assert doc.paragraphs[0].startswith("当前位置")
    assert doc.paragraphs[-1] == "版权所有：某某区人民政府"


def test_script_tables_are_ignored_when_the_body_has_a_table():
    doc = read(
        page(
            f"<table>{rows(3, 'real', 'x')}</table><script>var t = '<table>{rows(3, 'js', 'y')}</table>';</script>"
        )
    )
    assert [texts(t)[0][0] for t in doc.tables] == ["real"]


def test_hostile_script_is_scanned_in_linear_time():
    source = "var a = '<table>'; " + "/*a" * 50_000 + "'x" * 50_000
    start = time.perf_counter()
    doc = read(page(f"<p>正文</p><script>{source}</script>"))
    assert time.perf_counter() - start < 2.0
    assert doc.paragraphs == ["正文"]


def test_script_html_without_a_table_is_ignored():
    doc = read(page("<p>正文</p><script>document.write('<a href=\"#\">分享到微信</a>');</script>"))
    assert doc.tables == [] and doc.paragraphs == ["正文"]


# --- encodings ----------------------------------------------------------------------------------------------

CHINESE = "平潭综合实验区（七）总计"


def _charset_page(meta: str = "") -> str:
    return page(f"<table>{rows(1, CHINESE, '总 计')}</table>", head=meta)


def test_utf8_with_bom():
    doc = read_html(b"\xef\xbb\xbf" + _charset_page().encode("utf-8"))
    assert doc.encoding == "utf-8"
    assert doc.tables[0].grid[0][0].text == CHINESE


def test_utf8_without_bom_or_meta():
    doc = read_html(_charset_page().encode("utf-8"))
    assert doc.encoding == "utf-8" and doc.tables[0].grid[0][0].text == CHINESE


@pytest.mark.parametrize("declared", ["gbk", "GB2312", "x-gbk", "gb_2312-80"])
def test_gbk_declared_only_in_meta(declared):
    data = _charset_page(f'<meta http-equiv="Content-Type" content="text/html; charset={declared}">').encode(
        "gbk"
    )
    doc = read_html(data)
    assert doc.encoding == "gb18030"
    assert doc.tables[0].grid[0][0].text == CHINESE


def test_gbk_without_any_declaration_is_detected():
    doc = read_html(_charset_page().encode("gbk"))
    assert doc.encoding == "gb18030" and doc.tables[0].grid[0][0].text == CHINESE


def test_http_charset_overrides_meta():
    # KOI8-R decodes any bytes: without the header the page would come out as mojibake
    data = _charset_page('<meta charset="koi8-r">').encode("utf-8")
    doc = read_html(data, http_charset="text/html; charset=utf-8")
    assert doc.encoding == "utf-8" and doc.tables[0].grid[0][0].text == CHINESE
    data = _charset_page('<meta charset="koi8-r">').encode("gbk")
    doc = read_html(data, http_charset="GBK")
    assert doc.encoding == "gb18030" and doc.tables[0].grid[0][0].text == CHINESE


def test_wrong_declared_charset_falls_through():
    doc = read_html(_charset_page('<meta charset="utf-8">').encode("gbk"))
    assert doc.encoding == "gb18030" and doc.tables[0].grid[0][0].text == CHINESE
    doc = read_html(_charset_page('<meta charset="gb2312">').encode("utf-8"))
    assert doc.encoding == "utf-8" and doc.tables[0].grid[0][0].text == CHINESE


def test_meta_and_title():
    head = '<title> 页面 标题 </title><meta name="Author" content="办公室"><meta name="ArticleTitle" content="报告">'
    doc = read(page("<p>x</p>", head=head))
    assert doc.title == "报告" and doc.meta == {"Author": "办公室", "ArticleTitle": "报告"}
    assert read(page("<p>x</p>", head="<title> 页面\n标题 </title>")).title == "页面 标题"
    assert read(page("<p>x</p>")).title is None


# --- hostile and broken input -------------------------------------------------------------------------------


def test_oversized_input_is_rejected():
    with pytest.raises(DocumentError, match=rf"html: document too large \({MAX_BYTES + 1} bytes\)"):
        read_html(b" " * (MAX_BYTES + 1))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b" \n\t ",
        random.Random(7).randbytes(20000),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(8).randbytes(4000),
        b"PK\x03\x04\x14\x00\x06\x00" + bytes(4000),
        b"<html><head><title>x</title></head></html>",
    ],
    ids=["empty", "blank", "random", "png", "zip", "no-body"],
)
def test_unreadable_input_raises_document_error(data):
    with pytest.raises(DocumentError, match=r"^html: "):
        read_html(data)


def test_marker_characters_in_the_input_cannot_forge_structure():
    # the reader marks lines, tables and cells with U+FDD0..U+FDD2 internally; input copies are removed
    doc = read(
        page(f"<p>\ufdd10\ufdd1x</p><table><tr><td>a\ufdd2b</td><td>c\ufdd0d</td></tr>{rows(1)}</table>")
    )
    assert doc.paragraphs == ["0x"]
    assert texts(doc.tables[0]) == [["ab", "cd"], ["a", "b"]]


def test_control_and_non_xml_characters_do_not_fail_the_page():
    # lxml refuses text with C0 controls or U+FFFE: one stray byte must not fail a whole report
    doc = read(
        page("<p>a\x00b\x0bc\x1fd\x0ce</p><table><tr><td>1\x01</td><td>\ufffe2\uffff</td></tr></table>")
    )
    assert doc.paragraphs == ["a b c d e"]
    assert texts(doc.tables[0]) == [["1", "2"]]


@pytest.mark.parametrize("tag", ["<div>", "<table><tr><td>", "<span>"])
def test_deep_nesting_is_handled_quickly_and_never_truncated_silently(tag):
    data = (f"<html><body><p>before</p>{tag * 50_000}x<p>after</p></body></html>").encode()
    start = time.perf_counter()
    try:
        doc = read_html(data)
    except DocumentError as exc:
        assert "depth" in str(exc)  # libxml2 stops at depth 256: reported, not a truncated document
    else:
        assert "after" in doc.paragraphs
    assert time.perf_counter() - start < 2.0


FUZZ_PARTS = [
    "<table>", "</table>", "<tr>", "<td rowspan='2;'>", "<td colspan=9999>", "</td>", "<p>", "<br>",
    "<script>var s='<table><tr><td>x", "</script>", "\\u003ctable", "&nbsp;", "中文", "\x00", "\ufdd1",
    "\x0b", "\ufffe", "\\u0001", "/*",
    "<!--", "-->", "<![if x]>", "<o:p>", "<caption>", "</tr>", "<th>", "'", '"', "\ud800",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FUZZ_PARTS), max_size=60))
def test_arbitrary_markup_never_raises_anything_but_document_error(parts):
    data = "".join(parts).encode("utf-8", "surrogatepass")
    try:
        doc = read_html(data)
    except DocumentError as exc:
        assert "internal error" not in str(exc)  # the safety net for reader bugs must not be needed
        return
    for table in doc.tables:
        for r, row in enumerate(table.grid):
            for c, cell in enumerate(row):
                assert cell.row <= r < cell.row + cell.rowspan and cell.col <= c < cell.col + cell.colspan
                assert "\ufdd0" not in cell.text and "\ufdd1" not in cell.text
    assert not any(ch in p for p in doc.paragraphs for ch in "\ufdd0\ufdd1\ufdd2")
