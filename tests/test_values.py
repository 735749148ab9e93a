"""Value rules of CONTRACT.md, table-driven: what each printed form reads as."""

import pytest

from pipeline.values import column_unit, read_amount, read_count


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("0", 0.0),
        ("12", 12.0),
        (" 12 ", 12.0),
        ("\u00a012\u00a0", 12.0),
        ("１２", 12.0),
        ("1,234", 1234.0),
        ("1，234", 1234.0),
        ("无", 0.0),
        ("", None),
        ("\u00a0", None),
        ("\u3000", None),
        ("/", None),
        ("-", None),
        ("—", None),
        ("——", None),
        ("不适用", None),
        ("5件", 5.0),
        ("3.0", 3.0),
    ],
)
def test_count_readings(raw, value):
    reading = read_count(raw)
    assert reading.unreadable is None
    assert reading.value == value


@pytest.mark.parametrize(
    ("raw", "value"), [("+408", 408.0), ("-15", -15.0), ("＋23", 23.0), ("－7", -7.0), ("0", 0.0)]
)
def test_signed_counts(raw, value):
    assert read_count(raw, signed=True).value == value


@pytest.mark.parametrize(
    "raw",
    ["abc", "1 2", "12\n3", "3.5", "1,23", "10203120001200000", "约10", "12?"],
)
def test_unreadable_counts_say_why(raw):
    reading = read_count(raw)
    assert reading.value is None
    assert reading.unreadable and raw.split("\n")[0].strip() in reading.unreadable


@pytest.mark.parametrize(
    ("raw", "unit", "value"),
    [
        ("251000元", None, 25.1),
        ("160.5964万元", None, 160.5964),
        ("75394432.52元", None, 7539.443252),
        ("24252.311082", "万元", 24252.311082),
        ("1,000", "元", 0.1),
        ("12", None, 12.0),
        ("/", None, None),
        ("无", None, 0.0),
        ("1.5亿元", None, 15000.0),
    ],
)
def test_amounts_convert_to_10k_yuan(raw, unit, value):
    reading = read_amount(raw, column_unit=unit)
    assert reading.unreadable is None
    assert reading.value == pytest.approx(value) if value is not None else reading.value is None


def test_unreadable_amount():
    assert read_amount("约25万").unreadable


@pytest.mark.parametrize(
    ("header", "unit"),
    [
        ("采购总金额（万元，保留四位小数）", "万元"),
        ("本年收费金额（单位：万元）", "万元"),
        ("采购总金额（元）", "元"),
        ("采购总金额", None),
    ],
)
def test_column_units(header, unit):
    assert column_unit(header) == unit
