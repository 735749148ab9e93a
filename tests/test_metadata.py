"""Title, agency, year and kind of a document, table-driven."""

import pytest

from pipeline.document import Document
from pipeline.extract.metadata import agency_of, find_title, is_report_title, year_of


@pytest.mark.parametrize(
    ("title", "agency", "year"),
    [
        ("巨各庄镇2020年政府信息公开年报", "巨各庄镇", 2020),
        ("平潭综合实验区2021年度政府信息公开工作年度报告", "平潭综合实验区", 2021),
        ("2022年北京市海淀区民政局政府信息公开工作年度报告", "北京市海淀区民政局", 2022),
        ("关于厦门市住房和城乡建设局2020年政府信息公开工作年度报告", "厦门市住房和城乡建设局", 2020),
        ("淮安市人民政府 2024 年政府信息公开工作年度报告", "淮安市人民政府", 2024),
        ("《杭州市人民政府2023年政府信息公开工作年度报告》", "杭州市人民政府", 2023),
        ("国家税务总局宁波市税务局政府信息公开工作年度报告（2021年）", "国家税务总局宁波市税务局", 2021),
    ],
)
def test_agency_and_year_from_title(title, agency, year):
    assert agency_of(title) == agency
    assert year_of(title, Document(format="txt")) == year


@pytest.mark.parametrize(
    ("text", "is_report"),
    [
        ("平潭综合实验区2021年度政府信息公开工作年度报告", True),
        ("巨各庄镇2020年政府信息公开年报", True),
        ("关于做好2022年度政府信息公开工作年度报告编制和发布工作的通知", False),
        ("某市人民政府办公室关于印发政府信息公开工作年度报告格式的通知", False),
        ("成都市人民政府政府信息公开指南", False),
        ("2021年度部门决算报告", False),
    ],
)
def test_report_titles_and_notices(text, is_report):
    assert is_report_title(text) is is_report


def test_title_skips_page_chrome_and_sentences():
    doc = Document(
        format="html",
        title=None,
        paragraphs=[
            "当前位置：首页>政务公开>政府信息公开>政府信息公开年报",
            "来源：区政府办 发布时间：2024-01-20",
            "本报告根据《中华人民共和国政府信息公开条例》编制，年度报告全文如下。",
            "海淀区民政局2023年政府信息公开工作年度报告",
        ],
    )
    assert find_title(doc) == "海淀区民政局2023年政府信息公开工作年度报告"


def test_title_prefers_document_metadata_then_link_text():
    assert find_title(Document(format="html", title="某区2021年政府信息公开工作年度报告")) == (
        "某区2021年政府信息公开工作年度报告"
    )
    assert find_title(Document(format="docx"), title_hint="某局2022年度政府信息公开工作年度报告") == (
        "某局2022年度政府信息公开工作年度报告"
    )


def test_year_from_text_when_the_title_has_none():
    doc = Document(format="docx", paragraphs=["政府信息公开工作年度报告", "2023年，我局认真贯彻落实……"])
    assert year_of("政府信息公开工作年度报告", doc) == 2023
