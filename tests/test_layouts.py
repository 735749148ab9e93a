"""Layouts real agencies print that the national template does not: transposed table 四, block labels in
a spanning first column, all three tables in one, a continuation table without header."""

from pipeline.parse import parse_document
from tests.truth import applications_of, review_of


def _table(rows: list[list[str]]) -> str:
    """HTML rows; a cell written `text|r2` or `text|c3` spans 2 rows or 3 columns."""
    out = []
    for row in rows:
        cells = []
        for cell in row:
            text, _, span = cell.partition("|")
            attr = (
                f' rowspan="{span[1:]}"' if span.startswith("r") else f' colspan="{span[1:]}"' if span else ""
            )
            cells.append(f"<td{attr}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(out) + "</table>"


def _page(*parts: str) -> bytes:
    body = "".join(parts)
    return f"<html><head><title>某区2022年政府信息公开工作年度报告</title></head><body>{body}</body></html>".encode()


APP_HEADER = [
    ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）|c2", "申请人情况|c7"],
    ["", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
    ["", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
]


def _app_rows(first: int, last: int) -> list[list[str]]:
    labels = [
        ("一、本年新收政府信息公开申请数量|c2", "new_received"),
        ("二、上年结转政府信息公开申请数量|c2", "carried_over"),
        ("（一）予以公开|c2", "granted"),
        ("（二）部分公开|c2", "partially_granted"),
        ("（七）总计|c2", "total_processed"),
        ("四、结转下年度继续办理|c2", "carried_forward"),
    ]
    values = {
        "new_received": 5,
        "carried_over": 1,
        "granted": 3,
        "partially_granted": 2,
        "total_processed": 5,
        "carried_forward": 1,
    }
    return [
        [label, str(values[code]), "0", "0", "0", "0", "0", str(values[code])]
        for label, code in labels[first:last]
    ]


REVIEW_TRANSPOSED = _table(
    [
        ["", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"],
        ["行政复议", "1", "0", "0", "0", "1"],
        ["行政诉讼（未经复议直接起诉）", "2", "1", "0", "0", "3"],
        ["行政诉讼（复议后起诉）", "0", "0", "0", "1", "1"],
    ]
)


def test_transposed_table_four_maps_by_row_label():
    report = parse_document(_page("<p>四、政府信息公开行政复议、行政诉讼情况</p>", REVIEW_TRANSPOSED), "html")
    assert review_of(report) == {
        "administrative_review": [1.0, 0.0, 0.0, 0.0, 1.0],
        "litigation_direct": [2.0, 1.0, 0.0, 0.0, 3.0],
        "litigation_after_review": [0.0, 0.0, 0.0, 1.0, 1.0],
    }


def test_block_label_in_a_spanning_first_column():
    table = _table(
        [
            ["第二十条第（一）项|r4", "信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
            ["规章", "0", "0", "3"],
            ["行政规范性文件", "4", "1", "20"],
            ["", "", "", ""],
            ["第二十条第（五）项|r2", "信息内容", "本年处理决定数量|c3"],
            ["行政许可", "77|c3"],
        ]
    )
    report = parse_document(_page("<p>二、主动公开政府信息情况</p>", table), "html")
    got = {
        (c.article_item, c.category_code, c.column_code): c.value
        for c in report.cells_of("proactive_disclosure")
    }
    assert got == {
        (1, "regulations", "issued"): 0.0,
        (1, "regulations", "repealed"): 0.0,
        (1, "regulations", "in_force"): 3.0,
        (1, "normative_documents", "issued"): 4.0,
        (1, "normative_documents", "repealed"): 1.0,
        (1, "normative_documents", "in_force"): 20.0,
        (5, "administrative_licensing", "decisions"): 77.0,
    }


def test_one_table_holding_all_three():
    rows = [
        ["第二十条第（五）项|c9"],
        ["信息内容|c2", "本年处理决定数量|c7"],
        ["行政许可|c2", "9|c7"],
        *APP_HEADER,
        *_app_rows(0, 6),
        ["行政复议|c5", "行政诉讼|c4"],
        ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "未经复议直接起诉", "", "复议后起诉", ""],
        ["1", "0", "0", "0", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"],
    ]
    report = parse_document(_page(_table(rows)), "html")
    assert report.tables_found == ["proactive_disclosure", "applications", "review_litigation"]
    assert applications_of(report)["granted"] == [3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0]
    assert review_of(report)["administrative_review"] == [1.0, 0.0, 0.0, 0.0, 1.0]


def test_table_three_continued_in_a_second_table_without_header():
    first = _table(APP_HEADER + _app_rows(0, 3))
    second = _table(_app_rows(3, 6))
    report = parse_document(
        _page("<p>三、收到和处理政府信息公开申请情况</p>", first, "<p>- 5 -</p>", second), "html"
    )
    apps = applications_of(report)
    assert set(apps) == {
        "new_received",
        "carried_over",
        "granted",
        "partially_granted",
        "total_processed",
        "carried_forward",
    }
    assert apps["carried_forward"] == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert not [f for f in report.findings if f.check in ("T3-A", "unknown_row")]
