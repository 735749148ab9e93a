"""Charset decisions for web pages: header, BOM, <meta>, detector, fallback."""

from __future__ import annotations

import codecs

import pytest

from pipeline.encoding import META_SCAN_BYTES, decode_html, normalize_charset

TEXT = "平潭综合实验区2021年度政府信息公开工作年度报告：（七）总计 商业企业 科研机构 社会公益组织"


def html(meta: str = "", text: str = TEXT) -> str:
    return f"<html><head>{meta}<title>报告</title></head><body><p>{text}</p></body></html>"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("gbk", "gb18030"),
        ("GBK", "gb18030"),
        ("GB2312", "gb18030"),
        ("x-gbk", "gb18030"),
        ("gb_2312-80", "gb18030"),
        ("cp936", "gb18030"),
        ("GB18030", "gb18030"),
        ("utf-8", "utf-8"),
        ("UTF8", "utf-8"),
        (' "utf-8" ', "utf-8"),
        ("utf8mb4", "utf-8"),
        ("big5", "big5"),
        ("ISO-8859-1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("bogus", None),
        ("base64", None),
        ("rot13", None),
        ("unicode_escape", None),
        ("utf-7", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_charset(label, expected):
    assert normalize_charset(label) == expected


def test_meta_charset_gbk():
    text, encoding, how = decode_html(html('<meta charset="gbk">').encode("gbk"))
    assert (encoding, how) == ("gb18030", "meta")
    assert TEXT in text


def test_meta_http_equiv_gb2312_reads_gbk_and_gb18030_characters():
    # 镕 is in GBK but not GB2312, 䶮 only in GB18030: publishers declare gb2312 and type both
    body = TEXT + "朱镕基 刘䶮"
    data = html('<meta http-equiv="Content-Type" content="text/html; charset=GB2312">', body).encode(
        "gb18030"
    )
    text, encoding, how = decode_html(data)
    assert (encoding, how) == ("gb18030", "meta")
    assert "朱镕基 刘䶮" in text


def test_xml_declaration_counts_as_meta():
    data = ('<?xml version="1.0" encoding="gbk"?>' + html()).encode("gbk")
    assert decode_html(data)[1:] == ("gb18030", "meta")


def test_http_header_wins_over_meta():
    data = html('<meta charset="gbk">').encode("utf-8")  # both decode strictly: the header decides
    text, encoding, how = decode_html(data, "utf-8")
    assert (encoding, how) == ("utf-8", "http-header")
    assert TEXT in text


def test_http_header_may_be_a_whole_content_type():
    data = html('<meta charset="utf-8">').encode("gbk")
    assert decode_html(data, 'text/html; charset="GBK"')[1:] == ("gb18030", "http-header")


def test_invalid_header_charset_falls_to_meta():
    data = html('<meta charset="gbk">').encode("gbk")
    assert decode_html(data, "no-such-charset")[1:] == ("gb18030", "meta")


def test_latin1_header_is_a_server_default_and_loses_to_meta():
    data = html('<meta charset="gbk">').encode("gbk")
    text, encoding, how = decode_html(data, "text/html; charset=ISO-8859-1")
    assert (encoding, how) == ("gb18030", "meta")
    assert TEXT in text


def test_latin1_header_loses_to_the_detector_too():
    # the classic garbling: a GBK page without <meta> served with the server's default ISO-8859-1
    data = html().encode("gbk")
    text, encoding, how = decode_html(data, "text/html; charset=ISO-8859-1")
    assert (encoding, how) == ("gb18030", "detector")
    assert TEXT in text


def test_latin1_header_is_used_when_nothing_else_fits():
    data = "<p>Caf\u00e9 \u00e0 la cr\u00e8me \u00bb \u00ff\u00ff</p>".encode(
        "cp1252"
    )  # not UTF-8, not GB18030
    text, encoding, how = decode_html(data, "iso-8859-1")
    assert (encoding, how) == ("cp1252", "http-header")
    assert "Café à la crème" in text


def test_header_that_does_not_fit_falls_through():
    data = html('<meta charset="gbk">').encode("gbk")
    assert decode_html(data, "utf-8")[1:] == ("gb18030", "meta")


@pytest.mark.parametrize(
    ("bom", "codec", "expected"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
    ],
)
def test_bom(bom, codec, expected):
    text, encoding, how = decode_html(bom + html().encode(codec))
    assert (encoding, how) == (expected, "bom")
    assert text.startswith("<html>")  # the BOM is not part of the text


def test_bom_wins_over_a_wrong_header():
    data = codecs.BOM_UTF8 + html().encode("utf-8")
    # KOI8-R decodes any bytes, so a header-first order would return mojibake here
    text, encoding, how = decode_html(data, "koi8-r")
    assert (encoding, how) == ("utf-8", "bom")
    assert TEXT in text


def test_meta_declaring_utf8_on_gbk_bytes_falls_to_detector():
    text, encoding, how = decode_html(html('<meta charset="utf-8">').encode("gbk"))
    assert (encoding, how) == ("gb18030", "detector")
    assert TEXT in text


def test_meta_declaring_gbk_on_utf8_bytes_falls_to_detector():
    text, encoding, how = decode_html(html('<meta charset="gb2312">').encode("utf-8"))
    assert (encoding, how) == ("utf-8", "detector")
    assert TEXT in text


def test_unknown_meta_charset_is_skipped():
    assert decode_html(html('<meta charset="klingon">').encode("gbk"))[1:] == ("gb18030", "detector")


def test_meta_utf16_without_bom_means_utf8():
    data = html('<meta charset="utf-16">').encode("utf-8")
    assert decode_html(data)[1:] == ("utf-8", "meta")


def test_meta_after_the_scan_window_is_ignored():
    filler = "<!--" + "x" * META_SCAN_BYTES + "-->"
    data = (filler + html('<meta charset="big5">')).encode("gbk")
    assert decode_html(data)[1:] == ("gb18030", "detector")


def test_undeclared_utf8_and_ascii():
    assert decode_html(html().encode("utf-8"))[1:] == ("utf-8", "detector")
    assert decode_html(b"<p>plain</p>")[1:] == ("utf-8", "detector")


def test_undeclared_gbk_uses_the_restricted_detector():
    text, encoding, how = decode_html(html().encode("gbk"))
    assert (encoding, how) == ("gb18030", "detector")
    assert TEXT in text


def test_corrupt_gbk_falls_back_to_the_least_damaged_decoding():
    data = html().encode("gbk")
    cut = data.index(b"<p>") + 3
    data = data[:cut] + b"\xff" + data[cut:]  # one invalid byte: neither candidate decodes strictly
    text, encoding, how = decode_html(data)
    assert (encoding, how) == ("gb18030", "fallback")
    assert text.count("\ufffd") == 1
    assert TEXT in text


def test_garbage_decodes_without_raising():
    text, encoding, how = decode_html(bytes(range(256)) * 4)
    assert how == "fallback" and encoding in ("utf-8", "gb18030")
    assert "\ufffd" in text
