"""Label normalisation and the row classifier: every printed variant of QUIRKS.md finds its code."""

import pytest

from pipeline.extract.applications import _RowClassifier
from pipeline.labels import group_marker, item_number, normalize


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("总 计", "总计"),
        ("结\n果\n维\n持", "结果维持"),
        ("(三)1、属于国家秘密", "(三)1.属于国家秘密"),
        ("（三）1．属于国家秘密", "(三)1.属于国家秘密"),
        ("危及“三安全一稳定”", "危及三安全一稳定"),
        ("办 理结果", "办理结果"),
        ("商业\n企业", "商业企业"),
        ("１.重复申请", "1.重复申请"),
        ("一，本年新收", "一.本年新收"),
    ],
)
def test_normalize(raw, key):
    assert normalize(raw) == key


def test_markers():
    assert group_marker("(三)不予公开") == "(三)"
    assert item_number("2.其他法律行政法规禁止公开") == 2
    assert item_number("(六)3.其他") == 3
    assert item_number("予以公开") is None


@pytest.mark.parametrize(
    ("labels", "code"),
    [
        (["一、本年新收政府信息公开申请数量"], "new_received"),
        (["二、上年结转政府信息公开申请数量"], "carried_over"),
        (["三、本年度办理结果", "（一）予以公开"], "granted"),
        (
            ["三、本年度办 理结果", "(二)部分公开（区分处理的，只计这一情形，不计其他情形）"],
            "partially_granted",
        ),
        (["三、本年度办理结果", "（三）不予\n公开", "1.属于国家秘密"], "denied_state_secret"),
        (["", "", "2.其他法律行政止公开"], "denied_prohibited_by_law"),
        (["", "", "3、危及“三安全一稳定”"], "denied_security_stability"),
        (["（四）无法提供", "1，本机关不掌握相关政府信息"], "unavailable_not_held"),
        (["（五）不予处理", "5.要求行政机关确认或重新出具已获取信息"], "not_processed_confirmation"),
        (["（六）其他处理"], "other_handling"),
        (["（六）其他处理", "1.逾期不补正"], "other_handling_no_correction"),
        (
            ["(六)其他处理", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"],
            "other_handling_unpaid_fee",
        ),
        (["（六）其他处理", "3.其他"], "other_handling_other"),
        (["（七）总 计"], "total_processed"),
        (["四、结转下年度继续办理"], "carried_forward"),
    ],
)
def test_row_classifier(labels, code):
    assert _RowClassifier().classify(labels) == code


def test_classifier_remembers_the_group_across_rows():
    """Text dumps print a group label once; its later sub-rows carry only the item."""
    c = _RowClassifier()
    assert c.classify(["（三）不予公开", "1.属于国家秘密"]) == "denied_state_secret"
    assert c.classify(["", "8.属于行政查询事项"]) == "denied_administrative_query"
    assert c.classify(["（四）无法提供", "3.补正后申请内容仍不明确"]) == "unavailable_unclear"
    assert c.classify(["", "2.无法识别的标签"]) == "unavailable_needs_creation"  # item number decides
