"""The synthetic report generator (tests/synth): reproducible, consistent, and its truth is right.

The truth of a rendering is checked against the rendering itself with small reference readers
written here (HTML via lxml, .docx via its XML, text dumps line by line) and a reference value
reader following CONTRACT.md — independent of the project's own readers and value rules.
"""

from __future__ import annotations

import io
import json
import random
import re
import unicodedata
import zipfile
from decimal import Decimal
from pathlib import Path

import docx
import lxml.html
import pytest
from lxml import etree

from pipeline import template as T
from pipeline.labels import normalize
from tests.docx_builders import W, cells_of, rows_of
from tests.synth import (
    FORMATS,
    QUIRKS,
    build,
    failed_identities,
    for_format,
    make_spec,
    random_quirks,
    render,
)
from tests.synth import quirks as Q
from tests.synth.spec import APP_COLUMNS, OUTCOMES, PROCEEDINGS

ROOT = Path(__file__).resolve().parent.parent
CORPUS_TRUTH = ROOT / "tests/fixtures/truth/pingtan_2021.json"
GENERATED_TRUTH = ROOT / "tests/fixtures/truth/generated"
GENERATED_DOCS = ROOT / "data/sample/generated"


# ---------------------------------------------------------------- reference readers


def _html_text(data: bytes) -> str:
    head = data[:4000].decode("ascii", "replace").lower()
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8")
    elif "charset=gb" in head:
        text = data.decode("gb18030")
    else:
        text = data.decode("utf-8")
    m = re.search(
        r'<script type="text/javascript">\n(?:var content = "(.*?)";\n|document\.write\("(.*?)"\);\n).*?</script>',
        text,
        re.S,
    )
    if m:  # the body is a JavaScript string literal (html_js): decode it and put it in place
        text = text[: m.start()] + json.loads('"' + (m.group(1) or m.group(2)) + '"') + text[m.end() :]
    return text


def read_html(data: bytes) -> list[list[list[str]]]:
    root = lxml.html.fromstring(_html_text(data))
    tables = []
    for t in root.iter("table"):
        rows = []
        for tr in t.iter("tr"):
            cells = []
            for td in tr.findall("td"):
                for br in td.iter("br"):
                    br.tail = "\n" + (br.tail or "")
                cells.append(td.text_content())
            rows.append(cells)
        tables.append(rows)
    return tables


def read_docx(data: bytes) -> list[list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    body = root.find(f"{W}body")
    tables = []
    for tbl in body.findall(f"{W}tbl"):  # top-level tables only
        rows = []
        for tr in rows_of(tbl):
            cells = []
            for tc in cells_of(tr):
                vm = tc.find(f"{W}tcPr/{W}vMerge")
                if vm is not None and vm.get(f"{W}val") != "restart":
                    continue  # a continuation of a cell above
                paras = []
                for p in tc.findall(f"{W}p"):
                    paras.append(
                        "".join(t.text or "" if t.tag == f"{W}t" else "\n" for t in p.iter(f"{W}t", f"{W}br"))
                    )
                cells.append("\n".join(paras))
            rows.append(cells)
        tables.append(rows)
    return tables


def read_txt(data: bytes) -> list[list[list[str]]]:
    tables: list[list[list[str]]] = []
    rows: list[list[str]] | None = None
    row: list[str] = []
    last = "para"
    for line in data.decode("utf-8").split("\n"):
        if line.startswith("\t"):
            if rows is None:
                rows = []
            row.append(line[1:])
            last = "cell"
        elif line == "":
            if row:
                rows.append(row)  # type: ignore[union-attr]
                row = []
            last = "blank"
        elif last == "cell":
            row[-1] += "\n" + line  # a continuation line of a multi-line cell
        else:
            if rows:
                tables.append(rows)
            rows = None
            last = "para"
    if rows:
        tables.append(rows)
    return tables


READERS = {"html": read_html, "docx": read_docx, "txt": read_txt}


def ref_value(text: str, *, amount: bool = False, unit: str = "万元"):
    """CONTRACT value rules, written independently of pipeline.values."""
    t = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    if t in ("", "/", "-", "—"):
        return None
    if t == "无":
        return 0
    if t.endswith("万元"):
        t, unit = t[:-2], "万元"
    elif t.endswith("元"):
        t, unit = t[:-1], "元"
    v = Decimal(t.replace(",", ""))
    if amount:
        return float(v / 10000) if unit == "元" else float(v)
    assert v == int(v), text
    return int(v)


def _unit(header: str) -> str:
    h = unicodedata.normalize("NFKC", header)
    return "元" if "(元)" in h else "万元"


def read_values(fmt: str, data: bytes, layout) -> dict:
    """Read the three tables back, by the order of rows the template prescribes."""
    tables = READERS[fmt](data)
    names = [b.name for b in layout.blocks if hasattr(b, "rows")]
    if fmt == "txt":  # a dump cannot show where one table ends and the next begins: split by row counts
        runs: list[list] = []
        prev = None
        for b in layout.blocks:
            if hasattr(b, "rows"):
                if prev is None or not hasattr(prev, "rows"):
                    runs.append([])
                runs[-1].append(b)
            prev = b
        assert len(tables) == len(runs), (len(tables), names)
        split = []
        for run, rows in zip(runs, tables, strict=True):
            assert len(rows) == sum(len(b.rows) for b in run)
            for b in run:
                split.append(rows[: len(b.rows)])
                rows = rows[len(b.rows) :]
        tables = split
    assert len(tables) == len(names), (len(tables), names)
    by_name = dict(zip(names, tables, strict=True))
    truth = layout.truth
    # table 二: rows in printed order, each with the metrics of its block
    t2_rows = [r for n in names if n.startswith("t2") for r in by_name[n]]
    groups: list[tuple[tuple, list[str]]] = []
    for e in truth["proactive"]:
        key = (e["article_item"], e["category_code"], e.get("category_label"))
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].append(e["metric_code"])
    data_rows = [r for r in t2_rows if "第二十条" not in r[0] and "信息内容" not in r[0]]
    headers = [r for r in t2_rows if "信息内容" in r[0]]
    assert len(data_rows) == len(groups)
    proactive = []
    header_iter = iter(headers)
    item = None
    units: dict[str, str] = {}
    for row, ((art, _code, _label), metrics) in zip(data_rows, groups, strict=True):
        if art != item:
            item = art
            header = next(header_iter)
            units = {m: _unit(h) for m, h in zip(metrics, header[-len(metrics) :], strict=True)}
        for m, text in zip(metrics, row[-len(metrics) :], strict=True):
            amount = T.METRIC_BY_CODE[m].amount
            proactive.append(ref_value(text, amount=amount, unit=units[m]))
    # table 三
    t3_rows = []
    for n in names:
        if n.startswith("t3"):
            rows = by_name[n]
            skip = 3 if any("申请人情况" in c for c in rows[0]) else 0
            t3_rows += rows[skip:]
    codes = layout.spec.application_rows()
    assert len(t3_rows) == len(codes)
    n_vals = 8 if "extra_subtotal_column" in layout.quirks else 7
    apps = {}
    for code, row in zip(codes, t3_rows, strict=True):
        vals = [ref_value(t) for t in row[-n_vals:]]
        if n_vals == 8:
            del vals[6]
        apps[code] = vals
    last = by_name["t4"][-1]
    assert len(last) == 15
    review = {p: [ref_value(t) for t in last[5 * i : 5 * i + 5]] for i, p in enumerate(PROCEEDINGS)}
    return {"proactive": proactive, "applications": apps, "review_litigation": review}


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < 1e-9


# ---------------------------------------------------------------- the spec


def test_same_seed_same_spec_and_bytes():
    for fmt in FORMATS:
        q = random_quirks(random.Random(3), fmt, k=5)
        a = render(make_spec(42), fmt, q)
        b = render(make_spec(42), fmt, q)
        assert a.data == b.data
        assert a.truth == b.truth
    assert render(make_spec(42), "html").data != render(make_spec(43), "html").data


@pytest.mark.parametrize("template", ["2019", "2021", "mixed"])
def test_identities_hold(template):
    for seed in range(300):
        spec = make_spec(seed, template=template)
        assert spec.failed_checks == []
        assert failed_identities(spec.applications, spec.review) == []
        for code, vals in spec.applications.items():
            assert all(isinstance(v, int) and v >= 0 for v in vals), code
        for vals in spec.review.values():
            assert all(v >= 0 for v in vals)


@pytest.mark.parametrize("code", [i.code for i in T.IDENTITIES])
def test_break_identity_breaks_exactly_that_one(code):
    for seed in range(60):
        spec = make_spec(seed, break_identity=code)
        assert spec.failed_checks == [code]
        for fmt in FORMATS:
            assert render(spec, fmt, random_quirks(random.Random(seed), fmt)).truth["failed_checks"] == [
                code
            ] or (
                fmt == "txt"  # a run-together row can hide the broken cells: then the check is not possible
            )


def test_break_several_and_random():
    spec = make_spec(5, break_identity=["T3-A", "T4"])
    assert spec.failed_checks == ["T3-A", "T4"]
    assert len(make_spec(6, break_identity=True).failed_checks) == 1


def test_templates_and_mixed_variants():
    s19 = make_spec(1, template="2019")
    assert "other_handling" in s19.applications and "other_handling_other" not in s19.applications
    assert {e.category_code for e in s19.proactive} >= {"government_procurement", "other_management_services"}
    s21 = make_spec(1, template="2021")
    assert "other_handling" not in s21.applications and "other_handling_unpaid_fee" in s21.applications
    assert all(e.article_item != 9 for e in s21.proactive)
    m = make_spec(1, template="mixed", mixed_variant="proactive2021")
    assert (m.proactive_version, m.other_handling_version) == ("2021", "2019")
    assert "other_handling" in m.applications
    m2 = make_spec(1, template="mixed", mixed_variant="proactive2019")
    assert (m2.proactive_version, m2.other_handling_version) == ("2019", "2021")
    assert render(m, "docx").truth["template"] == "mixed"


# ---------------------------------------------------------------- renderers and truth


def _check_truth_shape(truth: dict) -> None:
    reference = json.loads(CORPUS_TRUTH.read_text(encoding="utf-8"))
    assert set(reference) <= set(truth)
    json.dumps(truth, ensure_ascii=False)  # serialisable
    assert truth["kind"] in ("report", "legacy", "not_a_report")
    if truth["kind"] != "report":
        assert truth["applications"] == {} and truth["proactive"] == [] and truth["review_litigation"] == {}
        return
    assert truth["template"] in ("2019", "2021", "mixed")
    assert set(truth["review_litigation"]) == set(PROCEEDINGS)
    assert all(len(v) == 5 for v in truth["review_litigation"].values())
    codes = list(truth["applications"])
    assert codes in ([r.code for r in T.APPLICATION_ROWS if v in r.versions] for v in ("2019", "2021"))
    assert all(len(v) == 7 for v in truth["applications"].values())
    for e in truth["proactive"]:
        assert set(e) - {"category_label"} == {"article_item", "category_code", "metric_code", "value"}
        assert (e["category_code"] is None) == ("category_label" in e)
        assert e["metric_code"] in T.METRIC_BY_CODE
    ref_entry = reference["proactive"][0]
    assert set(ref_entry) <= set(truth["proactive"][0])
    for table, row, col in truth["unreadable"]:
        if table == "applications":
            assert truth["applications"][row][APP_COLUMNS.index(col)] is None
        else:
            assert truth["review_litigation"][row][OUTCOMES.index(col)] is None


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_each_quirk_renders_in_its_formats(quirk):
    for fmt in QUIRKS[quirk].formats:
        for seed in range(4):
            spec = make_spec(seed * 11 + 1, template=("2019", "2021", "mixed", None)[seed])
            r = render(spec, fmt, {quirk})
            assert r.data and quirk in r.quirks
            _check_truth_shape(r.truth)
            if fmt == "docx":
                assert len(docx.Document(io.BytesIO(r.data)).tables) >= 3


def test_inapplicable_quirks_are_ignored_unknown_rejected():
    r = render(make_spec(1), "txt", {"html_gbk", "docx_sdt", "zero_wu"})
    assert r.quirks == {"zero_wu"}
    with pytest.raises(ValueError):
        render(make_spec(1), "html", {"no_such_quirk"})


@pytest.mark.parametrize("fmt", FORMATS)
def test_truth_matches_what_is_printed(fmt):
    """Read every rendering back with the reference readers: the values are the truth's."""
    rng = random.Random(fmt)
    names = [q for q in for_format(fmt) if q != "text_run_together"]
    for seed in range(120):
        quirks = frozenset(rng.sample(names, rng.randint(0, 10)))
        spec = make_spec(seed, template=(None, "2019", "2021", "mixed")[seed % 4])
        layout = build(spec, fmt, quirks)
        r = render(spec, fmt, quirks)
        got = read_values(fmt, r.data, layout)
        truth = r.truth
        assert truth["unreadable"] == []
        want = [e["value"] for e in truth["proactive"]]
        assert len(got["proactive"]) == len(want)
        for g, w, e in zip(got["proactive"], want, truth["proactive"], strict=True):
            assert _same(g, w), (seed, sorted(quirks), e, g)
        assert got["applications"] == truth["applications"], (seed, sorted(quirks))
        assert got["review_litigation"] == truth["review_litigation"], (seed, sorted(quirks))
        _check_truth_shape(truth)


def test_values_in_truth_follow_contract():
    """Zero forms: blank, &nbsp;, /, -, — are null, 无 is 0; amounts are 万元 floats."""
    seen = set()
    for seed in range(40):
        spec = make_spec(seed)
        for fmt in ("html", "docx"):
            r = render(spec, fmt, {"zero_blank", "zero_nbsp", "zero_wu", "na_slash", "amount_units"})
            vals = [v for row in r.truth["applications"].values() for v in row]
            seen |= {type(v) for v in vals}
            amounts = [e["value"] for e in r.truth["proactive"] if T.METRIC_BY_CODE[e["metric_code"]].amount]
            assert all(a is None or isinstance(a, float) for a in amounts)
    assert seen == {int, type(None)}


def test_run_together_text_is_lossy_and_truth_says_so():
    unreadable_total = 0
    for seed in range(60):
        spec = make_spec(seed)
        r = render(spec, "txt", {"text_run_together"})
        text = r.data.decode("utf-8")
        digits = "".join(str(v) for p in PROCEEDINGS for v in spec.review[p])
        assert "\t" + digits + "\n" in text  # the 15 cells of table 四, run together
        truth = r.truth
        bad = {tuple(u) for u in truth["unreadable"]}
        unreadable_total += len(bad)
        sets = Q.segment_values(digits, 15)
        for i, (p, o) in enumerate((p, o) for p in PROCEEDINGS for o in OUTCOMES):
            readable = len(sets[i]) == 1
            assert (("review_litigation", p, o) not in bad) == readable
            got = truth["review_litigation"][p][OUTCOMES.index(o)]
            assert got == (spec.review[p][OUTCOMES.index(o)] if readable else None)
        for code, vals in truth["applications"].items():
            for j, v in enumerate(vals):
                assert v is None or v == spec.applications[code][j]
                assert (v is None) == (("applications", code, APP_COLUMNS[j]) in bad)
        assert truth["failed_checks"] == []
    assert unreadable_total > 0


def test_segmentation():
    sets = Q.segment_values("10203120001200000", 15)
    assert any(len(s) > 1 for s in sets)
    assert Q.segment_values("000", 3) == [{0}, {0}, {0}]
    assert Q.segment_values("100", 2) == [{10}, {0}]
    assert Q.segment_values("11", 2) == [{1}, {1}]
    assert Q.segment_values("123", 2) == [{1, 12}, {23, 3}]


def test_label_variants_keep_a_keyword():
    rows = {r.code: r.keywords for r in T.APPLICATION_ROWS}
    cols = {c.code: c.keywords for c in (*T.APPLICATION_COLUMNS, *T.REVIEW_OUTCOMES)}
    cats = {c.code: c.keywords for c in T.PROACTIVE_CATEGORIES}
    for code, variants in Q.TYPOS.items():
        keywords = rows.get(code) or cols.get(code) or cats.get(code)
        assert keywords, code
        for v in variants:
            assert any(k in normalize(v) for k in keywords), (code, v)
    rng = random.Random(0)
    for r in T.APPLICATION_ROWS:
        for _ in range(20):
            key = normalize(Q.punct_variant(rng, r.label))
            assert any(k in key for k in r.keywords)
            assert normalize(Q.space_variant(rng, r.label)) == normalize(r.label)


def test_html_quirks_show_in_bytes():
    spec = make_spec(9)
    assert render(spec, "html", {"html_bom"}).data.startswith(b"\xef\xbb\xbf")
    gbk = render(spec, "html", {"html_gbk"}).data
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    assert spec.agency in gbk.decode("gb18030") and b"charset=" in gbk[:600].lower()
    assert re.search(rb'rowspan="\d+;"', render(spec, "html", {"html_bad_rowspan"}).data)
    word = render(spec, "html", {"html_word"}).data.decode()
    assert "mso-" in word and "<o:p>" in word
    trs = render(spec, "html", {"html_trs"}).data.decode()
    assert "TRS_Editor" in trs and "当前位置" in trs and "发布时间" in trs
    js = render(spec, "html", {"html_js"}).data.decode()
    assert "</table>" not in js and "<\\/table>" in js
    assert "document.getElementById" in js or "document.write" in js


def test_docx_quirks_show_in_xml():
    spec = make_spec(9)

    def xml(quirks):
        with zipfile.ZipFile(io.BytesIO(render(spec, "docx", quirks).data)) as z:
            return z.read("word/document.xml").decode()

    plain = xml(set())
    assert "<w:vMerge/>" in plain and 'w:val="continue"' not in plain
    assert '<w:vMerge w:val="continue"/>' in xml({"docx_vmerge_continue"})
    grid = xml({"docx_grid_before"})
    assert "<w:gridBefore" in grid and "<w:gridAfter" in grid
    assert xml({"docx_sdt"}).count("<w:sdt>") >= 16
    nested = etree.fromstring(xml({"docx_nested_table"}).encode())
    assert any(t.getparent().tag == f"{W}tc" for t in nested.iter(f"{W}tbl"))


def test_legacy_and_not_a_report():
    for seed in range(10):
        leg = make_spec(seed, kind="legacy")
        assert 2008 <= leg.year <= 2018
        for fmt in FORMATS:
            r = render(leg, fmt)
            assert r.truth["kind"] == "legacy" and r.truth["template"] == "legacy"
            assert r.truth["year"] == leg.year and str(leg.year) in r.truth["title"]
            _check_truth_shape(r.truth)
        nar = make_spec(seed, kind="not_a_report")
        for fmt in FORMATS:
            r = render(nar, fmt)
            assert r.truth["kind"] == "not_a_report" and r.truth["year"] is None
            _check_truth_shape(r.truth)


def test_title_names_agency_and_year():
    for seed in range(50):
        spec = make_spec(seed)
        t = render(spec, "txt").truth
        assert t["title"].startswith((spec.agency, "关于" + spec.agency))
        assert f"{spec.year}年" in t["title"]
        assert t["title"] in render(spec, "txt").data.decode()


# ---------------------------------------------------------------- the bundled generated samples


def _generated():
    return sorted(GENERATED_TRUTH.glob("*.json"))


@pytest.mark.skipif(not GENERATED_TRUTH.exists(), reason="no generated samples")
@pytest.mark.parametrize("path", _generated(), ids=lambda p: p.stem)
def test_generated_samples_are_reproducible(path):
    truth = json.loads(path.read_text(encoding="utf-8"))
    gen = truth["generator"]
    spec = make_spec(gen["seed"], **gen["make_spec"])
    r = render(spec, truth["format"], truth["quirks"], document=truth["document"])
    fresh = json.loads(json.dumps(r.truth, ensure_ascii=False))
    assert {k: v for k, v in fresh.items() if k != "generator"} == {
        k: v for k, v in truth.items() if k != "generator"
    }
    doc = ROOT / truth["document"]
    assert doc.exists()
    with zipfile.ZipFile(doc) as a, zipfile.ZipFile(io.BytesIO(r.data)) as b:
        assert a.read("word/document.xml") == b.read("word/document.xml")
