"""One printing of a `ReportSpec`: a format-neutral document model plus the truth for it.

`build(spec, fmt, quirks)` decides everything about how the report is printed — paragraphs, the
three tables with their spans, every label and every cell text — and, alongside, records what a
correct parser must read from it (the truth dict, in the corpus truth format of
shared/corpus/README.md). The renderers (`render_html`, `render_docx`, `render_text`) only turn
the model into bytes; they make no choice that changes the truth.

Tables follow the HTML model: rows of cells, each cell listed once in the row where it starts,
with rowspan/colspan; `word_rows` gives the Word model (vertical-merge continuation cells in
every covered row) that .docx and text dumps use. All choices are drawn from a random generator
seeded by the spec's seed and the quirks that apply to the format, so a build is reproducible.

Truth value rules (shared CONTRACT.md): blank, `&nbsp;`, `/`, `-`, `—` → null; `0` and `无` → 0;
amounts in 万元; counts as ints. `unreadable` lists [table, row_code, column_code] of cells a
correct parser cannot read with certainty (their value is null); `failed_checks` lists the
identities that the readable published numbers break.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from pipeline import template as T
from tests.synth import quirks as Q
from tests.synth.spec import (
    APP_COLUMNS,
    LEGACY,
    NARRATIVE_OFFSET,
    NOT_A_REPORT,
    OUTCOMES,
    PROCEEDINGS,
    ProactiveRow,
    ReportSpec,
    failed_identities,
)

_NUMERALS = {v: k for k, v in T.ARTICLE_ITEMS.items()}  # 1 → 一
SUBTOTAL = T.EXTRA_APPLICATION_COLUMNS[0]

# Fixed texts of the national form that are not labels of a value (not in pipeline.template).
CORNER_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
APPLICANTS = "申请人情况"
LEGAL_PERSONS = "法人或其他组织"
LITIGATION = "行政诉讼"
INFO_CONTENT = "信息内容"
PARTIAL_NOTE = "（区分处理的，只计这一情形，不计其他情形）"
SECTIONS = {
    1: ("一、总体情况", "一、总体情况", "一、概述"),
    2: ("二、主动公开政府信息情况",),
    3: ("三、收到和处理政府信息公开申请情况",),
    4: ("四、政府信息公开行政复议、行政诉讼情况",),
    5: ("五、存在的主要问题及改进情况", "五、存在的主要问题及改进措施"),
    6: ("六、其他需要报告的事项",),
}


# ---------------------------------------------------------------- the document model


@dataclass(slots=True, eq=False)
class LCell:
    """A printed cell. `paras` are its paragraphs; a "\\n" inside one is a line break (<br>, w:br)."""

    paras: tuple[str, ...] = ("",)
    rowspan: int = 1
    colspan: int = 1
    role: str = "label"  # label | header | value | note
    sdt: bool = False  # docx: the cell sits in its own content control
    nested: LTable | None = None  # docx: a table nested in the cell after its paragraphs
    join: int | None = None  # txt: cells of one join group are dumped run together

    @property
    def text(self) -> str:
        return "\n".join(self.paras)


@dataclass(slots=True, eq=False)
class LTable:
    name: str
    rows: list[list[LCell]]
    grid_before: dict[int, int] = field(default_factory=dict)  # docx: row → w:gridBefore
    grid_after: dict[int, int] = field(default_factory=dict)  # docx: row → w:gridAfter
    row_sdt: list[tuple[int, int]] = field(default_factory=list)  # docx: rows first..last in one w:sdt
    page_break_before: bool = False  # split tables: the second part follows a page break


@dataclass(slots=True)
class LPara:
    text: str
    style: str = "body"  # title | subtitle | heading | subheading | body


Block = LPara | LTable


@dataclass(slots=True)
class Layout:
    spec: ReportSpec
    fmt: str
    quirks: frozenset[str]
    title: str
    blocks: list[Block]
    truth: dict
    publisher: str  # HTML page chrome: 来源 (may differ from the agency in the title)
    published: str  # HTML page chrome: 发布时间
    rng_seed: str  # for renderers' own cosmetic choices (styles, chrome), never the truth


def word_rows(table: LTable) -> tuple[list[list[tuple[LCell, int, bool]]], int]:
    """The Word model of a table: per row, (cell, grid column, is_continuation) in column order.

    A cell spanning rows appears in each covered row: first as itself, then as a continuation
    (a `w:vMerge` continue cell, or an empty cell in a text dump). Returns the rows and the
    number of grid columns (including w:gridBefore / w:gridAfter).
    """
    n = len(table.rows)
    taken: set[tuple[int, int]] = set()  # positions covered by cells spanning from rows above
    out: list[list[tuple[LCell, int, bool]]] = [[] for _ in range(n)]
    width = 0
    for r, row in enumerate(table.rows):
        col = table.grid_before.get(r, 0)
        entries = out[r]
        for cell in row:
            while (r, col) in taken:
                col += 1
            entries.append((cell, col, False))
            for dr in range(1, min(cell.rowspan, n - r)):
                out[r + dr].append((cell, col, True))
                for dc in range(cell.colspan):
                    taken.add((r + dr, col + dc))
            col += cell.colspan
        width = max(width, col + table.grid_after.get(r, 0))
        if len(entries) > 1:
            entries.sort(key=lambda e: e[1])
    return out, width


# ---------------------------------------------------------------- building


class _Builder:
    def __init__(self, spec: ReportSpec, fmt: str, quirks: frozenset[str]):
        self.spec = spec
        self.fmt = fmt
        self.q = quirks
        self.rng_seed = f"xxgk-synth-layout:{spec.seed}:{','.join(sorted(quirks))}"
        self.rng = random.Random(self.rng_seed)
        self.proactive: list[dict] = []
        self.apps: dict[str, list] = {}
        self.review: dict[str, list] = {}
        self.unreadable: list[list[str]] = []
        self.zero_form: str | None = None
        self.zero_rate = 0.0
        self.na_form = None
        self.joins = 0
        self.pending_joins: list[tuple[str, str, list[tuple[LCell, str, int]]]] = []

    # ---- labels

    def label(
        self, text: str, code: str | None = None, *, vertical: float = 0.0, breakable: bool = True
    ) -> LCell:
        rng, q = self.rng, self.q
        if "label_typos" in q and code in Q.TYPOS and rng.random() < 0.6:
            text = rng.choice(Q.TYPOS[code])
        if "label_punct" in q and rng.random() < 0.45:
            text = Q.punct_variant(rng, text)
        if vertical and "vertical_text" in q and rng.random() < vertical:
            return LCell((Q.vertical(text),))
        if "label_spaces" in q and rng.random() < 0.25:
            text = Q.space_variant(rng, text)
        if breakable and "label_br" in q and len(text) >= 6 and rng.random() < 0.3:
            return LCell(("\n".join(Q.break_variant(rng, text)),))
        if breakable and "label_paras" in q and len(text) >= 4 and rng.random() < 0.3:
            return LCell(tuple(Q.break_variant(rng, text, rng.choice((2, 2, 3)))))
        return LCell((text,))

    def plain_label(self, text: str, **kw) -> LCell:
        """An extra row's label: only whitespace-type breaks, so that its printed text stays known."""
        rng, q = self.rng, self.q
        if "label_spaces" in q and rng.random() < 0.25:
            text = Q.space_variant(rng, text)
        if "label_br" in q and len(text) >= 4 and rng.random() < 0.3:
            return LCell(("\n".join(Q.break_variant(rng, text)),), **kw)
        return LCell((text,), **kw)

    # ---- numbers

    def start_table(self) -> None:
        """Per table, an agency writes its zeros one way: pick the form and how often it is used."""
        forms = [f for f in Q.ZERO_FORMS if f in self.q]
        self.zero_form = Q.ZERO_FORMS[self.rng.choice(forms)] if forms else None
        self.zero_rate = self.rng.choice((0.3, 0.7, 1.0))
        nas = [f for f in Q.NA_FORMS if f in self.q]
        self.na_form = Q.NA_FORMS[self.rng.choice(nas)] if nas else None

    def count_text(self, v: int, *, signed: bool = False, protected: bool = False, na: bool = False):
        """(printed text, truth value) of a count."""
        rng, q = self.rng, self.q
        if v == 0 and not protected:
            if na and self.na_form is not None:
                return self.na_form, None
            if self.zero_form is not None and rng.random() < self.zero_rate:
                return self.zero_form, (0 if self.zero_form == "无" else None)
        text = str(abs(v))
        if "thousands_sep" in q and abs(v) >= 1000 and rng.random() < 0.8:
            text = Q.thousands(abs(v))
        if "fullwidth_digits" in q and rng.random() < 0.3:
            text = Q.fullwidth(text)
        if v < 0:
            text = "-" + text
        elif signed and v > 0 and "signed_change" in q:
            text = "+" + text
        return text, v

    def amount_text(self, d: Decimal, unit: str, *, na: bool = False):
        """(printed text, truth value in 万元) of an amount under a header declaring `unit`.

        unit: "" (no unit: 万元 by default), "万元", "万元4" (万元, 保留四位小数) or "元".
        """
        rng, q = self.rng, self.q
        truth = float(d)
        if d == 0:
            if na and self.na_form is not None:
                return self.na_form, None
            if self.zero_form is not None and rng.random() < self.zero_rate:
                return self.zero_form, (0.0 if self.zero_form == "无" else None)
        yuan = d * 10000
        suffix = ""
        if unit == "元":
            number = yuan
            if "amount_units" in q and rng.random() < 0.3:
                suffix = "元"
        else:
            number = d
            if "amount_units" in q:
                r = rng.random()
                if r < (0.45 if unit == "" else 0.15):
                    number, suffix = yuan, "元"
                elif r < 0.8:
                    suffix = "万元"
        places = 4 if unit == "万元4" and suffix != "元" else 0
        if "thousands_sep" in q and number >= 1000 and rng.random() < 0.7:
            text = f"{number.normalize():,f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
        else:
            text = Q.decimal_text(number, places)
        if "fullwidth_digits" in q and rng.random() < 0.2:
            text = Q.fullwidth(text)
        return text + suffix, truth

    def value_cell(self, text: str, colspan: int = 1) -> LCell:
        return LCell((text,), colspan=colspan, role="value")

    # ---- document

    def build(self) -> Layout:
        spec = self.spec
        if spec.kind == LEGACY:
            blocks, title = self.legacy()
        elif spec.kind == NOT_A_REPORT:
            blocks, title = self.notice()
        else:
            blocks, title = self.report()
        truth = self.truth(title)
        publisher = self.publisher()
        year = (spec.year or 2023) + 1
        published = f"{year}-{self.rng.randint(1, 3):02d}-{self.rng.randint(1, 28):02d} {self.rng.randint(8, 18):02d}:{self.rng.randint(0, 59):02d}"
        return Layout(spec, self.fmt, self.q, title, blocks, truth, publisher, published, self.rng_seed)

    def publisher(self) -> str:
        a = self.spec.agency
        return self.rng.choice((a, a + "办公室", a.removesuffix("人民政府") + "政务公开办公室", "本站"))

    def truth(self, title: str) -> dict:
        spec = self.spec
        if spec.kind != "report":
            return {
                "document": None,
                "format": self.fmt,
                "kind": spec.kind,
                "agency": spec.agency if spec.kind == LEGACY else None,
                "year": spec.year,
                "title": title,
                "template": "legacy" if spec.kind == LEGACY else "unknown",
                "failed_checks": [],
                "unreadable": [],
                "proactive": [],
                "applications": {},
                "review_litigation": {},
                "quirks": sorted(self.q),
                "generator": {"seed": spec.seed, "level": spec.level},
            }
        self.resolve_joins()
        apps = {code: self.apps[code] for code in spec.application_rows()}
        review = {p: self.review[p] for p in PROCEEDINGS}
        return {
            "document": None,
            "format": self.fmt,
            "kind": "report",
            "agency": spec.agency,
            "year": spec.year,
            "title": title,
            "template": spec.template,
            "failed_checks": failed_identities(apps, review, self.unreadable),
            "unreadable": self.unreadable,
            "proactive": self.proactive,
            "applications": apps,
            "review_litigation": review,
            "quirks": sorted(self.q),
            "generator": {
                "seed": spec.seed,
                "level": spec.level,
                "proactive_version": spec.proactive_version,
                "other_handling_version": spec.other_handling_version,
            },
        }

    def resolve_joins(self) -> None:
        """Run-together rows: each cell is readable only if every segmentation agrees on it."""
        for table, row_code, cells in self.pending_joins:
            digits = "".join(c.paras[0] for c, _, _ in cells)
            sets = Q.segment_values(digits, len(cells))
            target = self.apps if table == "applications" else self.review
            for (_cell, col, j), options in zip(cells, sets, strict=True):
                if j < 0:  # a printed column the data tables do not have (小计): lineage only
                    if len(options) != 1:
                        self.unreadable.append([table, row_code, col])
                    continue
                if len(options) == 1:
                    assert target[row_code][j] == next(iter(options))
                else:
                    target[row_code][j] = None
                    self.unreadable.append([table, row_code, col])

    # ---- a report in the national format

    def report(self) -> tuple[list[Block], str]:
        spec, rng = self.spec, self.rng
        title = spec.title
        blocks: list[Block] = [LPara(title, "title")]
        if rng.random() < 0.25:
            blocks.append(LPara(f"（{spec.year + 1}年1月{rng.randint(5, 31)}日）", "subtitle"))
        blocks += [LPara(p) for p in _intro(rng, spec)]
        blocks.append(LPara(rng.choice(SECTIONS[1]), "heading"))
        blocks += _overview(rng, spec)
        blocks.append(LPara(SECTIONS[2][0], "heading"))
        blocks += self.table2()
        blocks.append(LPara(SECTIONS[3][0], "heading"))
        blocks += self.table3()
        heading4 = SECTIONS[4][0]
        if "label_typos" in self.q and rng.random() < 0.5:
            heading4 = Q.HEADING_TYPOS[4]
        blocks.append(LPara(heading4, "heading"))
        blocks.append(self.table4())
        blocks.append(LPara(rng.choice(SECTIONS[5]), "heading"))
        blocks += [LPara(p) for p in _problems(rng, spec)]
        blocks.append(LPara(SECTIONS[6][0], "heading"))
        blocks += [LPara(p) for p in _other(rng, spec)]
        if rng.random() < 0.5:
            blocks.append(LPara(spec.agency if not spec.agency.endswith("镇") else spec.agency + "人民政府"))
            blocks.append(LPara(f"{spec.year + 1}年1月{rng.randint(5, 31)}日"))
        return blocks, title

    # ---- table 二

    def table2(self) -> list[Block]:
        spec, rng, q = self.spec, self.rng, self.q
        version = spec.proactive_version
        assert version is not None
        metrics = T.metrics_for(version)
        self.start_table()
        extras = {r.label: r for r in spec.extra_proactive}
        split_parent = None  # seed style: 其他对外管理服务事项 split into 行政检查 / 行政确认
        appended: dict[int, list[ProactiveRow]] = {}
        if "extra_rows" in q:
            options = ["documents", "inspection"] + (["split"] if version == T.V2019 else [])
            chosen = set(rng.sample(options, rng.randint(1, len(options))))
            if "split" in chosen:
                split_parent = "other_management_services"
                chosen.discard("inspection")
            for r in spec.extra_proactive:
                if r.label == "其他主动公开文件" and "documents" in chosen:
                    appended.setdefault(r.article_item, []).append(r)
                if r.label == "行政检查" and "inspection" in chosen:
                    appended.setdefault(r.article_item, []).append(r)
        separate = "t2_separate_tables" in q
        blocks_def = [b for b in T.PROACTIVE_BLOCKS if b.version == version]
        out: list[Block] = []
        rows_all: list[list[LCell]] = []
        table_label_cols = 2 if split_parent else 1
        for blk in blocks_def:
            label_cols = table_label_cols
            if separate:
                label_cols = 2 if (split_parent and blk.article_item == 5) else 1
            ncols = label_cols + 3
            rows: list[list[LCell]] = []
            head = f"第二十条第（{_NUMERALS[blk.article_item]}）项"
            if "label_punct" in q and rng.random() < 0.3:
                head = head.translate(str.maketrans("（）", "()"))
            head_cell = LCell((head,), colspan=ncols, role="header")
            head_as_para = separate and rng.random() < 0.3
            if not head_as_para:
                rows.append([head_cell])
            widths = {3: (1, 1, 1), 2: (1, 2), 1: (3,)}[len(blk.metrics)]
            header = [LCell((INFO_CONTENT,), colspan=label_cols, role="header")]
            units: dict[str, str] = {}
            for m, w in zip(blk.metrics, widths, strict=True):
                mdef = metrics[m]
                text = mdef.label
                if mdef.amount and version == T.V2019:
                    units[m] = ""
                    if "amount_units" in q:
                        amounts = [r.values[m] for r in spec.proactive if m in r.values]
                        few_places = all(-a.as_tuple().exponent <= 4 for a in amounts)  # type: ignore[operator]
                        unit = rng.choice(("", "万元", "元") + (("万元4",) if few_places else ()))
                        units[m] = unit
                        text += {
                            "": "",
                            "万元": "（万元）",
                            "元": "（元）",
                            "万元4": "（万元，保留四位小数）",
                        }[unit]
                elif mdef.amount:
                    units[m] = "万元"
                cell = self.label(text, breakable=True)
                cell.colspan, cell.role = w, "header"
                header.append(cell)
            rows.append(header)
            for row in spec.proactive:
                if row.article_item != blk.article_item:
                    continue
                if row.category_code == split_parent:
                    subs = [extras["行政检查"], extras["行政确认"]]
                    for i, sub in enumerate(subs):
                        cells: list[LCell] = []
                        if i == 0:
                            cells.append(self.label(row.label, row.category_code, breakable=True))
                            cells[0].rowspan = len(subs)
                        cells.append(self.plain_label(sub.label))
                        rows.append(cells + self.proactive_values(sub, blk.metrics, widths, units))
                    continue
                label = self.label(row.label, row.category_code)
                label.colspan = label_cols
                rows.append([label, *self.proactive_values(row, blk.metrics, widths, units)])
                if row.category_code == blk.categories[-1]:
                    for extra in appended.get(blk.article_item, []):
                        label = self.plain_label(extra.label, colspan=label_cols)
                        rows.append([label, *self.proactive_values(extra, blk.metrics, widths, units)])
            if separate:
                if head_as_para:
                    out.append(LPara(head, "subheading"))
                out.append(LTable(f"t2-{blk.article_item}", rows))
            else:
                rows_all += rows
        if not separate:
            out.append(LTable("t2", rows_all))
        return out

    def proactive_values(
        self, row: ProactiveRow, metrics: tuple[str, ...], widths, units: dict[str, str]
    ) -> list[LCell]:
        cells = []
        all_zero = all(row.values[m] == 0 for m in metrics)
        na_row = all_zero and self.na_form is not None and self.rng.random() < 0.6
        for m, w in zip(metrics, widths, strict=True):
            v = row.values[m]
            mdef = T.metrics_for(self.spec.proactive_version)[m]  # type: ignore[arg-type]
            na = na_row or (self.na_form is not None and v == 0 and self.rng.random() < 0.15)
            if mdef.amount:
                text, truth = self.amount_text(v, units.get(m, ""), na=na)  # type: ignore[arg-type]
            else:
                text, truth = self.count_text(int(v), signed=mdef.signed, na=na)
            cells.append(self.value_cell(text, w))
            entry = {
                "article_item": row.article_item,
                "category_code": row.category_code,
                "metric_code": m,
                "value": truth,
            }
            if row.category_code is None:
                entry["category_label"] = row.label
            self.proactive.append(entry)
        return cells

    # ---- table 三

    def table3(self) -> list[Block]:
        spec, rng, q = self.spec, self.rng, self.q
        self.start_table()
        version = spec.other_handling_version
        rows_codes = spec.application_rows()
        # value columns: code → (header width, data width); None code = the extra 小计 column
        vcols: list[str] = list(APP_COLUMNS)
        if "extra_subtotal_column" in q:
            vcols.insert(6, SUBTOTAL.code)
        hw = dict.fromkeys(vcols, 1)
        dw = dict.fromkeys(vcols, 1)
        if "header_colspan_shift" in q:
            hw["natural_person"] = 2
            dw["commercial_enterprise"] = 2
        if "value_colspan" in q:
            target = rng.choice(("research_institution", "social_welfare_org", "other_org"))
            hw[target] = dw[target] = 2
        run_together = "text_run_together" in q and self.fmt == Q.TXT

        def header_rows() -> list[list[LCell]]:
            corner_text = CORNER_NOTE if rng.random() < 0.85 else ""
            corner = LCell((corner_text,), rowspan=3, colspan=3, role="note")
            r0 = [corner, LCell((APPLICANTS,), colspan=sum(hw.values()), role="header")]
            natural = self.label(T.APPLICATION_COLUMNS[0].label, "natural_person")
            natural.rowspan, natural.colspan, natural.role = 2, hw["natural_person"], "header"
            orgs = [c for c in vcols if c in APP_COLUMNS[1:6] or c == SUBTOTAL.code]
            legal = self.label(LEGAL_PERSONS)
            legal.colspan, legal.role = sum(hw[c] for c in orgs), "header"
            total = self.label(T.APPLICATION_COLUMNS[6].label, "total", vertical=0.3)
            total.rowspan, total.role = 2, "header"
            r1 = [natural, legal, total]
            r2 = []
            labels = {c.code: c.label for c in T.APPLICATION_COLUMNS}
            for c in orgs:
                text = labels.get(c) or rng.choice((SUBTOTAL.label, "小计"))
                cell = self.label(text, c, vertical=0.15)
                cell.colspan, cell.role = hw[c], "header"
                r2.append(cell)
            return [r0, r1, r2]

        def values(code: str) -> list[LCell]:
            vals = spec.applications[code]
            out_vals: list = list(vals)
            cells = []
            join = None
            if run_together:
                self.joins += 1
                join = self.joins
                joined: list[tuple[LCell, str, int]] = []
            all_zero = all(v == 0 for v in vals)
            na_row = all_zero and self.na_form is not None and rng.random() < 0.1
            for c in vcols:
                if c == SUBTOTAL.code:
                    v, j = sum(vals[1:6]), -1
                else:
                    j = APP_COLUMNS.index(c)
                    v = vals[j]
                protected = ("applications", code, c) in spec.protected or run_together
                text, truth = self.count_text(v, protected=protected, na=na_row and not protected)
                if run_together:
                    text = str(v)
                cell = self.value_cell(text, dw[c])
                cell.join = join
                cells.append(cell)
                if j >= 0:
                    out_vals[j] = truth
                if run_together:
                    joined.append((cell, c, j))
            self.apps[code] = out_vals
            if run_together:
                self.pending_joins.append(("applications", code, joined))
            return cells

        def row_label(code: str) -> str:
            r = T.APPLICATION_ROW_BY_CODE[code]
            if r.item is not None:
                return r.label.split("）", 1)[1]
            if code == "partially_granted" and rng.random() < 0.8:
                return r.label + PARTIAL_NOTE
            return r.label

        # the rows under 三、本年度办理结果 as units: a single row (一)(二)(六 2019)(七) or a group
        units: list[tuple[str | None, list[str]]] = []
        for code in rows_codes:
            r = T.APPLICATION_ROW_BY_CODE[code]
            if r.group in ("一", "二", "四"):
                continue
            if r.item is not None:
                if units and units[-1][0] == r.group:
                    units[-1][1].append(code)
                else:
                    units.append((r.group, [code]))
            else:
                units.append((None, [code]))

        def section3(part: list[tuple[str | None, list[str]]], label: bool) -> list[list[LCell]]:
            n = sum(len(codes) for _, codes in part)
            rows: list[list[LCell]] = []
            first = True
            for group, codes in part:
                for i, code in enumerate(codes):
                    cells: list[LCell] = []
                    if first:
                        if label:
                            cell = self.label("三、" + T.APPLICATION_GROUPS["三"][0], vertical=0.7)
                        else:
                            cell = LCell(("",))
                        cell.rowspan = n
                        cells.append(cell)
                        first = False
                    if group is None:
                        cell = self.label(row_label(code), code)
                        cell.colspan = 2
                        cells.append(cell)
                    else:
                        if i == 0:
                            g = self.label(f"（{group[1]}）{T.APPLICATION_GROUPS[group][0]}", vertical=0.3)
                            g.rowspan = len(codes)
                            cells.append(g)
                        cells.append(self.label(row_label(code), code))
                    rows.append(cells + values(code))
            return rows

        def top(code: str) -> list[LCell]:
            cell = self.label(row_label(code), code)
            cell.colspan = 3
            return [cell, *values(code)]

        split_header = "t3_split_header" in q
        split_label = "t3_split_label" in q
        tables: list[LTable] = []
        head = header_rows()
        if split_header or split_label:
            k = rng.randint(2, len(units) - 1)  # split before unit k: (一)(二) stay in part A
            part_a, part_b = units[:k], units[k:]
            rows_a = [*head, top("new_received"), top("carried_over"), *section3(part_a, True)]
            if split_header:
                rows_b = header_rows() + section3(part_b, split_label)
                tables = [LTable("t3", rows_a), LTable("t3-b", [*rows_b, top("carried_forward")])]
            elif rng.random() < 0.5:  # 平潭 2019: one table, the label cell printed twice
                tables = [LTable("t3", rows_a + section3(part_b, True) + [top("carried_forward")])]
            else:
                tables = [
                    LTable("t3", rows_a),
                    LTable("t3-b", [*section3(part_b, True), top("carried_forward")]),
                ]
        else:
            rows = [*head, top("new_received"), top("carried_over"), *section3(units, True)]
            tables = [LTable("t3", [*rows, top("carried_forward")])]
        if len(tables) == 2:
            tables[1].page_break_before = True
        assert version is not None
        self.docx_table3(tables[0])
        return list(tables)

    def docx_table3(self, table: LTable) -> None:
        """docx quirks on table 三: gridBefore on the header rows, sdt rows, a nested table."""
        if self.fmt != Q.DOCX:
            return
        if "docx_grid_before" in self.q:
            # an extra narrow grid column 0: header rows start after it (w:gridBefore=1), data rows'
            # first label cell covers it (one more gridSpan); columns stay aligned.
            rows, _ = word_rows(table)
            for r in range(3):
                table.grid_before[r] = 1
            for r, row in enumerate(rows):
                for cell, col, cont in row:
                    if r >= 3 and col == 0 and not cont:
                        cell.colspan += 1
        if "docx_sdt" in self.q:
            table.row_sdt.append((3, 4))  # 一、 and 二、 in one content control (a repeating section)
        if "docx_nested_table" in self.q:
            corner = table.rows[0][0]
            note = corner.paras
            corner.paras = ("",)
            corner.nested = LTable("nested", [[LCell(note, role="note")]])

    # ---- table 四

    def table4(self) -> LTable:
        spec, q = self.spec, self.q
        self.start_table()
        outcome_labels = [o.label for o in T.REVIEW_OUTCOMES]
        r0 = [
            self.label(T.REVIEW_PROCEEDINGS[0].label, "administrative_review"),
            self.label(LITIGATION),
        ]
        r0[0].colspan, r0[1].colspan = 5, 10
        r1 = []
        for code, text in zip(OUTCOMES, outcome_labels, strict=True):
            cell = self.label(text, code, vertical=0.5)
            cell.rowspan, cell.role = 2, "header"
            r1.append(cell)
        for p in T.REVIEW_PROCEEDINGS[1:]:
            cell = self.label(p.label, p.code)
            cell.colspan, cell.role = 5, "header"
            r1.append(cell)
        r2 = []
        for _ in range(2):
            for code, text in zip(OUTCOMES, outcome_labels, strict=True):
                cell = self.label(text, code, vertical=0.3)
                cell.role = "header"
                r2.append(cell)
        run_together = "text_run_together" in q and self.fmt == Q.TXT
        r3 = []
        join = None
        if run_together:
            self.joins += 1
            join = self.joins
        joined = []
        for p in PROCEEDINGS:
            vals = spec.review[p]
            out = []
            for j, (o, v) in enumerate(zip(OUTCOMES, vals, strict=True)):
                protected = ("review_litigation", p, o) in spec.protected or run_together
                text, truth = self.count_text(v, protected=protected)
                if run_together:
                    text = str(v)
                cell = self.value_cell(text)
                cell.join = join
                r3.append(cell)
                out.append(truth)
                if run_together:
                    joined.append((cell, p, o, j))
            self.review[p] = out
        if run_together:
            # one run of 15 cells: segment it whole, then hand each proceeding its five
            digits = "".join(c.paras[0] for c, *_ in joined)
            sets = Q.segment_values(digits, len(joined))
            for (_cell, p, o, j), options in zip(joined, sets, strict=True):
                if len(options) != 1:
                    self.review[p][j] = None
                    self.unreadable.append(["review_litigation", p, o])
        table = LTable("t4", [r0, r1, r2, r3])
        if self.fmt == Q.DOCX and "docx_grid_before" in q:
            r0[1].colspan += 1  # an extra trailing grid column that only 行政诉讼 reaches
            for r in (1, 2, 3):
                table.grid_after[r] = 1
        if self.fmt == Q.DOCX and "docx_sdt" in q:
            for cell in r3:
                cell.sdt = True
        return table

    # ---- legacy report and not-a-report

    def legacy(self) -> tuple[list[Block], str]:
        spec, rng = self.spec, self.rng
        y, a = spec.year, spec.agency
        assert y is not None
        n_pub = rng.randint(50, 5000)
        n_app = rng.randint(0, 80)
        granted = rng.randint(0, n_app)
        part = rng.randint(0, n_app - granted)
        rows = [
            ["统计指标", "单位", "统计数"],
            ["一、主动公开情况", "", ""],
            ["（一）主动公开政府信息数", "条", str(n_pub)],
            ["其中：主动公开规范性文件数", "条", str(rng.randint(0, 60))],
            ["（二）通过不同渠道和方式公开政府信息的情况", "", ""],
            ["1.政府公报公开政府信息数", "条", str(rng.randint(0, 100))],
            ["2.政府网站公开政府信息数", "条", str(n_pub)],
            ["二、回应解读情况", "", ""],
            ["三、依申请公开情况", "", ""],
            ["（一）收到申请数", "件", str(n_app)],
            ["（二）申请办理结果", "", ""],
            ["1.按时办结数", "件", str(n_app)],
            ["2.同意公开答复数", "件", str(granted)],
            ["3.同意部分公开答复数", "件", str(part)],
            ["4.不同意公开答复数", "件", str(n_app - granted - part)],
            ["四、行政复议数量", "件", str(rng.randint(0, 3))],
            ["五、行政诉讼数量", "件", str(rng.randint(0, 3))],
            ["六、依申请公开信息收取的费用", "万元", "0"],
        ]
        table = LTable(
            "legacy",
            [[LCell((t,), role="value" if i == 2 else "label") for i, t in enumerate(r)] for r in rows],
        )
        blocks: list[Block] = [
            LPara(spec.title, "title"),
            LPara(
                f"本报告是根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求，由{a}编制的{y}年度政府信息公开工作年度报告。"
                f"全文包括概述，主动公开政府信息情况，依申请公开政府信息情况，政府信息公开的收费及减免情况，"
                f"因政府信息公开申请行政复议、提起行政诉讼的情况，存在的主要问题及改进措施等。本报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。"
            ),
            LPara("一、概述", "heading"),
            LPara(
                f"{y}年，{a}认真贯彻落实《条例》，进一步健全政府信息公开工作机制，全年主动公开政府信息{n_pub}条。"
            ),
            LPara("二、主动公开政府信息情况", "heading"),
            LPara("主动公开的主要内容包括机构职能、政策法规、规划计划、财政预决算、人事信息等。"),
            LPara("三、依申请公开政府信息情况", "heading"),
            LPara(f"全年共受理政府信息公开申请{n_app}件，均已按时答复。"),
            LPara("四、政府信息公开的收费及减免情况", "heading"),
            LPara("本年度未收取任何费用。"),
            LPara("五、因政府信息公开申请行政复议、提起行政诉讼的情况", "heading"),
            LPara("本年度未发生因政府信息公开引起的行政复议、行政诉讼案件。"),
            LPara("六、存在的主要问题及改进措施", "heading"),
            LPara("信息公开的及时性、全面性还需进一步提高，下一步将加强培训，完善制度。"),
            LPara("附表：政府信息公开情况统计表", "subheading"),
            table,
        ]
        return blocks, spec.title

    def notice(self) -> tuple[list[Block], str]:
        rng, a = self.rng, self.spec.agency
        y = rng.randint(2019, 2025)
        kind = rng.choice(("notice", "guide"))
        if kind == "notice":
            title = f"关于做好{y}年度政府信息公开工作年度报告编制和发布工作的通知"
            rows = [
                ["序号", "工作事项", "完成时限"],
                ["1", "各单位编制本单位政府信息公开工作年度报告", f"{y + 1}年1月15日前"],
                ["2", "报送年度报告电子版及统计数据", f"{y + 1}年1月20日前"],
                ["3", "在政府网站政府信息公开专栏发布", f"{y + 1}年1月31日前"],
            ]
            blocks: list[Block] = [
                LPara(title, "title"),
                LPara("各镇（街道）、区政府各部门："),
                LPara(
                    "根据《中华人民共和国政府信息公开条例》和《国务院办公厅政府信息与政务公开办公室关于印发"
                    "〈中华人民共和国政府信息公开工作年度报告格式〉的通知》要求，现就做好"
                    f"{y}年度政府信息公开工作年度报告编制和发布工作通知如下："
                ),
                LPara("一、严格按照格式要求编制", "heading"),
                LPara(
                    "年度报告应包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
                    "政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。"
                ),
                LPara("二、时间安排", "heading"),
                LTable("notice", [[LCell((t,)) for t in r] for r in rows]),
                LPara("三、工作要求", "heading"),
                LPara("各单位要高度重视，确保数据准确、内容完整，按时完成发布。"),
                LPara(f"{a}办公室"),
                LPara(f"{y}年12月{rng.randint(1, 28)}日"),
            ]
        else:
            title = f"{a}政府信息公开指南"
            blocks = [
                LPara(title, "title"),
                LPara("为了更好地提供政府信息公开服务，根据《中华人民共和国政府信息公开条例》，编制本指南。"),
                LPara("一、主动公开", "heading"),
                LPara("（一）公开范围。本机关主动公开的政府信息包括机构职能、规范性文件、规划计划等。"),
                LPara("（二）公开方式。通过政府网站、政府公报、新闻发布会等方式公开。"),
                LPara("二、依申请公开", "heading"),
                LPara(
                    "公民、法人或者其他组织可以向本机关申请获取政府信息，本机关自收到申请之日起20个工作日内予以答复。"
                ),
                LPara("三、监督和救济", "heading"),
                LPara(
                    "申请人认为本机关在政府信息公开工作中侵犯其合法权益的，可以依法申请行政复议或者提起行政诉讼。"
                ),
            ]
        return blocks, title


def build(spec: ReportSpec, fmt: str, quirks: Iterable[str] = ()) -> Layout:
    """The printing of `spec` in format `fmt` with the applicable `quirks`, and its truth."""
    return _Builder(spec, fmt, Q.applicable(quirks, fmt)).build()


# ---------------------------------------------------------------- narrative text


def _short(spec: ReportSpec) -> str:
    a = spec.agency
    if a.endswith(("镇", "镇人民政府", "街道办事处")):
        return "镇" if "镇" in a else "街道"
    if a.endswith(("区", "区人民政府")):
        return "区"
    if a.endswith(("县", "县人民政府")):
        return "县"
    if a.endswith(("局", "委员会", "厅")):
        return "局" if a.endswith("局") else ("委" if a.endswith("委员会") else "厅")
    return "市"


def _intro(rng: random.Random, spec: ReportSpec) -> list[str]:
    y = spec.year
    notice = "国办公开办函〔2021〕30号" if spec.proactive_version == T.V2021 else "国办公开办函〔2019〕60号"
    out = [
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《国务院办公厅政府信息与政务公开办公室关于印发"
        f"〈中华人民共和国政府信息公开工作年度报告格式〉的通知》（{notice}）要求编制。本报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。"
        f"如对本报告有任何疑问，请与{spec.agency}政务公开办公室联系。"
    ]
    return out if rng.random() < 0.8 else []


def _overview(rng: random.Random, spec: ReportSpec) -> list[Block]:
    y, me = spec.year, "我" + _short(spec)
    new = spec.applications["new_received"][6]
    published = rng.randint(100, 20000)
    paras = [
        (
            "（一）主动公开",
            f"{y}年，{me}坚持以公开为常态、不公开为例外，全年主动公开政府信息{published}条，"
            "重点做好财政预决算、重大建设项目、公共资源配置等领域信息公开。",
        ),
        ("（二）依申请公开", _applications_sentence(spec, new)),
        (
            "（三）政府信息管理",
            "严格落实信息发布“三审三校”制度，健全保密审查机制，及时清理更新政府信息公开目录。",
        ),
        (
            "（四）平台建设",
            "持续优化政府网站政府信息公开专栏，完善政策文件库，加强政务新媒体管理。",
        ),
        (
            "（五）监督保障",
            f"将政务公开纳入年度绩效考核，全年组织业务培训{rng.randint(1, 12)}次。",
        ),
    ]
    k = rng.randint(2, 5)
    blocks: list[Block] = []
    if rng.random() < 0.3:
        blocks.append(LPara(f"{y}年，{me}深入贯彻落实《条例》，围绕中心工作扎实推进政务公开。"))
    for head, text in paras[:k]:
        if rng.random() < 0.6:
            blocks.append(LPara(head, "subheading"))
            blocks.append(LPara(text))
        else:
            blocks.append(LPara(head + text))
    return blocks


def _applications_sentence(spec: ReportSpec, new: int) -> str:
    """The overview's paragraph on applications; with `spec.narrative`, the figures it restates."""
    if spec.narrative is None:
        if not new:
            return "本年度未收到政府信息公开申请。"
        return f"全年共收到政府信息公开申请{new}件，均在法定期限内予以答复，未发生因答复不及时引发的投诉。"
    apps, review = spec.applications, spec.review
    stated = new + (NARRATIVE_OFFSET if spec.narrative == "disagree" else 0)
    lawsuits = review["litigation_direct"][4] + review["litigation_after_review"][4]
    return (
        f"全年共收到政府信息公开申请{stated}件，共办结{apps['total_processed'][6]}件，"
        f"{apps['carried_forward'][6]}件结转下年度继续办理。本年度发生因政府信息公开引起的行政复议"
        f"{review['administrative_review'][4]}件、行政诉讼{lawsuits}件。"
    )


def _problems(rng: random.Random, spec: ReportSpec) -> list[str]:
    me = "我" + _short(spec)
    out = [
        "政务公开工作仍存在一些不足：一是公开内容的全面性还需提升；二是政策解读形式较为单一；三是工作人员业务能力有待加强。",
        f"{(spec.year or 2020) + 1}年，{me}将进一步加强业务培训，丰富政策解读形式，提升政务公开工作质量。",
    ]
    return out[: rng.randint(1, 2)]


def _other(rng: random.Random, spec: ReportSpec) -> list[str]:
    if spec.proactive_version == T.V2021 or spec.other_handling_version == T.V2021:
        return [
            rng.choice(
                (
                    "本年度未收取政府信息公开信息处理费。",
                    "依据《政府信息公开信息处理费管理办法》，本年度未产生信息处理费。",
                    "无。",
                )
            )
        ]
    return [rng.choice(("无。", "本年度无其他需要报告的事项。"))]
