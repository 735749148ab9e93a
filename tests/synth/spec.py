"""What a synthetic report says: agency, year, template version and every value of its tables.

A `ReportSpec` is the *content* of one report, independent of how it is printed. `make_spec(seed)`
draws one at random but reproducibly (same seed and options → same spec), with table 三 and
table 四 consistent with every identity of `pipeline.template.IDENTITIES` — unless asked to break
some (`break_identity`), in which case the published numbers break exactly those identities and
the truth lists them under `failed_checks`.

How the content is printed (labels, zeros, spans, quirks) is decided by `tests.synth.layout`; what
a correct parser must output for one printing is `tests.synth.layout.build(...).truth`.

Labels and codes come from `pipeline.template`; nothing here retypes them.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pipeline import template as T

# Document kinds (the same words as pipeline.report)
REPORT = "report"
LEGACY = "legacy"
NOT_A_REPORT = "not_a_report"
KINDS = (REPORT, LEGACY, NOT_A_REPORT)

TEMPLATES = (T.V2019, T.V2021, "mixed")
MIXED = "mixed"

APP_COLUMNS: tuple[str, ...] = tuple(c.code for c in T.APPLICATION_COLUMNS)
ORG_COLUMNS: tuple[str, ...] = APP_COLUMNS[1:6]
OUTCOMES: tuple[str, ...] = tuple(o.code for o in T.REVIEW_OUTCOMES)
PROCEEDINGS: tuple[str, ...] = tuple(p.code for p in T.REVIEW_PROCEEDINGS)

#: Rows of table 二 the template does not have, as agencies print them (QUIRKS.md). `parent` is the
#: template category an agency splits into such rows (the seed splits 其他对外管理服务事项 into two).
EXTRA_CATEGORY_LABELS = {
    "inspection": ("行政检查", 5, "other_management_services"),
    "confirmation": ("行政确认", 5, "other_management_services"),
    "other_documents": ("其他主动公开文件", 1, None),
}

# Agency names: a few pools, combined. No digits and no 年 in names (they would fake a year).
_PLACES = [
    "东城",
    "西湖",
    "江宁",
    "海淀",
    "龙岗",
    "青山",
    "永和",
    "长宁",
    "平阳",
    "安溪",
    "清河",
    "金水",
    "白云",
    "南山",
    "北塘",
    "武进",
    "雁塔",
    "和平",
    "鼓楼",
    "天河",
    "宝安",
    "洪泽",
    "密云",
    "黄陂",
    "江北",
    "城阳",
    "历下",
    "新城",
    "临川",
    "崇明",
    "秀洲",
    "柯城",
    "云岩",
    "盘龙",
    "城关",
    "仓山",
    "思明",
    "丰泽",
    "西秀",
    "兴庆",
]
_CITIES = [
    "淮安",
    "平潭",
    "福州",
    "南京",
    "苏州",
    "武汉",
    "成都",
    "西安",
    "杭州",
    "宁波",
    "厦门",
    "泉州",
    "贵阳",
    "昆明",
    "兰州",
    "银川",
    "合肥",
    "芜湖",
    "济南",
    "青岛",
]
_PROVINCES = ["福建", "江苏", "湖北", "四川", "陕西", "浙江", "贵州", "云南", "甘肃", "安徽", "山东", "河南"]
_TOWNS = [
    "巨各庄",
    "桃源",
    "石门",
    "梅溪",
    "龙泉",
    "新桥",
    "马头",
    "白沙",
    "高桥",
    "清溪",
    "凤凰",
    "双河",
    "柳林",
    "花园",
    "三江",
    "大兴",
]
_BUREAUS = [
    "生态环境局",
    "教育局",
    "自然资源和规划局",
    "市场监督管理局",
    "交通运输局",
    "卫生健康委员会",
    "财政局",
    "人力资源和社会保障局",
    "住房和城乡建设局",
    "农业农村局",
    "民政局",
    "水利局",
    "文化和旅游局",
    "应急管理局",
    "商务局",
]
_DEPTS = ["生态环境厅", "教育厅", "自然资源厅", "交通运输厅", "民政厅", "财政厅", "水利厅", "商务厅"]

#: level → (typical new applications per year, natural persons' share)
_LEVELS: dict[str, tuple[int, float]] = {
    "town": (3, 0.9),
    "district": (60, 0.85),
    "bureau": (30, 0.75),
    "city": (300, 0.8),
    "province": (120, 0.7),
}
LEVELS = tuple(_LEVELS)


@dataclass(slots=True)
class ProactiveRow:
    """One row of table 二: a template category (`category_code`) or an agency's own row (code None).

    `values` maps metric codes of the row's block to a count (int) or an amount in 万元 (Decimal,
    at most 6 decimals). `parent` names the template category an extra row may be printed under.
    """

    article_item: int
    category_code: str | None
    label: str
    values: dict[str, int | Decimal]
    parent: str | None = None


@dataclass(slots=True)
class ReportSpec:
    """The content of one synthetic document. See the module docstring.

    `template` is "2019", "2021" or "mixed"; `proactive_version` / `other_handling_version` say
    which version table 二 and table 三's （六） follow (both equal `template` unless mixed).
    """

    seed: int
    kind: str
    agency: str
    year: int | None
    level: str
    template: str | None
    proactive_version: str | None = None
    other_handling_version: str | None = None
    title: str = ""
    proactive: list[ProactiveRow] = field(default_factory=list)
    extra_proactive: list[ProactiveRow] = field(default_factory=list)
    applications: dict[str, list[int]] = field(default_factory=dict)
    review: dict[str, list[int]] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    #: cells whose printed form must stay a plain number (they carry a broken identity):
    #: (table, row_code, column_code)
    protected: set[tuple[str, str, str]] = field(default_factory=set)
    #: Narrative numbers (pipeline.narrative): None — the overview states only 共收到…申请X件 (as it always
    #: did); "agree" — it also states 办结, 结转下年度, 行政复议 and 行政诉讼, all as the tables print them;
    #: "disagree" — the same, with 共收到…申请 stated as new_received + NARRATIVE_OFFSET.
    narrative: str | None = None

    @property
    def is_report(self) -> bool:
        return self.kind == REPORT

    def application_rows(self) -> list[str]:
        """Row codes of table 三 this report prints, in template order."""
        return application_rows(self.other_handling_version or T.V2021)

    def truth(self, fmt: str = "html", quirks: Iterable[str] = ()) -> dict:
        """The truth for one printing of this spec (see `tests.synth.layout.build`)."""
        from tests.synth.layout import build

        return build(self, fmt, quirks).truth


NARRATIVE_OFFSET = 7


def application_rows(version: str) -> list[str]:
    return [r.code for r in T.APPLICATION_ROWS if version in r.versions]


# ---------------------------------------------------------------- identities


def failed_identities(
    applications: Mapping[str, Sequence[int | None]],
    review: Mapping[str, Sequence[int | None]],
    unreadable: Iterable[Sequence[str]] = (),
) -> list[str]:
    """Codes of the identities (template.IDENTITIES) that the given values break, in template order.

    Values are lists in column order (APP_COLUMNS, OUTCOMES); None (blank / not applicable) counts
    as 0. An identity instance touching an unreadable cell, given as (table, row, column), cannot
    be checked and is skipped.
    """
    bad = {(t, r, c) for t, r, c in unreadable}
    failed: list[str] = []
    for ident in T.IDENTITIES:
        if _identity_fails(ident, applications, review, bad):
            failed.append(ident.code)
    return failed


def _resolve_terms(terms, present: set[str]) -> list[str]:
    out: list[str] = []
    for term in terms:
        if isinstance(term, tuple):  # any_of: the first alternative present in the report
            for alt in term:
                if all(code in present for code in alt):
                    out.extend(alt)
                    break
        else:
            out.append(term)
    return out


def _identity_fails(ident: T.Identity, applications, review, bad) -> bool:
    if ident.table == "applications":
        table, data, columns = "applications", applications, APP_COLUMNS
    else:
        table, data, columns = "review_litigation", review, OUTCOMES
    if not data:
        return False
    if ident.axis == "column":  # terms are row codes, checked per column
        present = set(data)
        lhs = _resolve_terms(ident.lhs, present)
        rhs = _resolve_terms(ident.rhs, present)
        if any(code not in present for code in lhs + rhs):
            return False
        lrows = [data[c] for c in lhs]
        rrows = [data[c] for c in rhs]
        for j, col in enumerate(columns):
            if bad and any((table, code, col) in bad for code in lhs + rhs):
                continue
            if sum(row[j] or 0 for row in lrows) != sum(row[j] or 0 for row in rrows):
                return True
        return False
    # axis "row": terms are column codes, checked per row
    idx = {c: j for j, c in enumerate(columns)}
    lhs_i = [idx[c] for c in ident.lhs]
    rhs_i = [idx[c] for c in ident.rhs]
    for row, vals in data.items():
        if bad and any((table, row, columns[j]) in bad for j in lhs_i + rhs_i):
            continue
        if sum(vals[j] or 0 for j in lhs_i) != sum(vals[j] or 0 for j in rhs_i):
            return True
    return False


# ---------------------------------------------------------------- generation


def _agency(rng: random.Random, level: str) -> str:
    place, city, prov = rng.choice(_PLACES), rng.choice(_CITIES), rng.choice(_PROVINCES)
    if level == "town":
        town = rng.choice(_TOWNS)
        return rng.choice((f"{town}镇", f"{town}镇人民政府", f"{place}区{town}镇", f"{town}街道办事处"))
    if level == "district":
        suffix = rng.choice(("区", "县"))
        return rng.choice(
            (
                f"{place}{suffix}",
                f"{place}{suffix}人民政府",
                f"{city}市{place}{suffix}",
                f"{city}市{place}区人民政府",
            )
        )
    if level == "bureau":
        return rng.choice((f"{city}市{rng.choice(_BUREAUS)}", f"{place}区{rng.choice(_BUREAUS)}"))
    if level == "city":
        return rng.choice((f"{city}市人民政府", f"{city}市", f"{city}市人民政府办公室"))
    return f"{prov}省{rng.choice(_DEPTS)}"


def _title(rng: random.Random, agency: str, year: int) -> str:
    core = rng.choice(
        (
            f"{agency}{year}年政府信息公开工作年度报告",
            f"{agency}{year}年政府信息公开工作年度报告",
            f"{agency}{year}年度政府信息公开工作年度报告",
            f"{agency}{year}年政府信息公开年报",
            f"{agency}{year}年度政府信息公开工作报告",
        )
    )
    if rng.random() < 0.12:
        core = "关于" + core
    return core


def _choose_template(rng: random.Random, year: int) -> str:
    if year <= 2020:
        r = rng.random()
        return T.V2019 if r < 0.85 else (T.V2021 if r < 0.95 else MIXED)
    return T.V2021 if rng.random() < 0.92 else MIXED


def _split(rng: random.Random, total: int, weights: Sequence[float]) -> list[int]:
    """`total` items spread over len(weights) bins by weight (multinomial, exact sum)."""
    out = [0] * len(weights)
    if total <= 0:
        return out
    cum = []
    acc = 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    if total > 200:  # proportional bulk, then a random remainder
        for i, w in enumerate(weights):
            out[i] = int(total * w / acc * rng.uniform(0.8, 1.2))
        while sum(out) > total:
            i = rng.randrange(len(out))
            if out[i] > 0:
                out[i] -= 1
        rest = total - sum(out)
    else:
        rest = total
    for _ in range(rest):
        x = rng.random() * acc
        for i, c in enumerate(cum):
            if x < c:
                out[i] += 1
                break
        else:
            out[-1] += 1
    return out


def _applications(rng: random.Random, level: str, other_version: str) -> dict[str, list[int]]:
    scale, natural_share = _LEVELS[level]
    rows = application_rows(other_version)
    leaves = _resolve_terms(
        next(i for i in T.IDENTITIES if i.code == "T3-B").rhs, set(rows)
    )  # the leaf rows of （七）总计, in template order
    weights = {code: 0.15 for code in leaves}
    weights.update(
        granted=8.0,
        partially_granted=2.0,
        unavailable_not_held=4.0,
        denied_process_information=0.6,
        denied_third_party_rights=0.5,
        unavailable_unclear=0.8,
        not_processed_petition=0.8,
        not_processed_duplicate=0.6,
        other_handling=0.7,
        other_handling_no_correction=0.5,
        other_handling_other=0.5,
    )
    data = {code: [0] * 7 for code in rows}
    if rng.random() < 0.12:  # many small agencies received nothing at all
        return data
    mean = scale * rng.uniform(0.2, 2.0)
    for j, _col in enumerate(APP_COLUMNS[:6]):
        if j == 0:
            expected = mean * natural_share
        else:
            expected = mean * (1 - natural_share) * (0.55 if j == 1 else 0.45 / 4)
            if rng.random() < 0.5:
                expected = 0
        new = round(rng.expovariate(1 / expected)) if expected > 0 else 0
        carried_in = rng.choice((0, 0, 0, rng.randint(0, max(1, new // 10))))
        carried_out = rng.choice((0, 0, rng.randint(0, max(0, (new + carried_in) // 8))))
        processed = new + carried_in - carried_out
        data["new_received"][j] = new
        data["carried_over"][j] = carried_in
        data["carried_forward"][j] = carried_out
        data["total_processed"][j] = processed
        for code, n in zip(leaves, _split(rng, processed, [weights[c] for c in leaves]), strict=True):
            data[code][j] = n
    for vals in data.values():
        vals[6] = sum(vals[:6])
    return data


def _review(rng: random.Random, level: str) -> dict[str, list[int]]:
    scale = _LEVELS[level][0]
    out = {}
    for p in PROCEEDINGS:
        if rng.random() < 0.45:
            parts = [0, 0, 0, 0]
        else:
            n = int(rng.expovariate(1 / max(1.0, scale / 15)))
            parts = _split(rng, n, (6, 1, 1.5, 1.5))
        out[p] = [*parts, sum(parts)]
    return out


def _amount(rng: random.Random, level: str) -> Decimal:
    """An amount in 万元 with 0, 2, 4 or 6 decimals (i.e. whole 元 or fen at most)."""
    if rng.random() < 0.25:
        return Decimal(0)
    scale = {"town": 50, "district": 2000, "bureau": 800, "city": 20000, "province": 8000}[level]
    wan = rng.uniform(0.01, 2) * scale
    places = rng.choice((0, 2, 4, 4, 6, 6))
    return Decimal(round(wan, places)).quantize(Decimal(1).scaleb(-places))


def _count(rng: random.Random, level: str, big: float = 1.0, zero: float = 0.3) -> int:
    if rng.random() < zero:
        return 0
    scale = {"town": 5, "district": 120, "bureau": 60, "city": 900, "province": 300}[level] * big
    return int(rng.expovariate(1 / scale))


def _block_values(rng: random.Random, level: str, metrics: Sequence[str], category: str | None) -> dict:
    vals: dict[str, int | Decimal] = {}
    no_rules = category == "regulations" and level in ("town", "bureau", "district")
    for m in metrics:
        if m in ("procurement_amount", "fee_amount"):
            vals[m] = _amount(rng, level)
        elif m == "change":
            prev = int(vals.get("previous_items", 0))
            vals[m] = 0 if rng.random() < 0.4 else rng.randint(-min(prev, 40), max(3, prev // 3 + 5))
        elif no_rules:
            vals[m] = 0
        elif category == "regulations":  # few bodies make 规章, and few of them
            vals[m] = _count(rng, level, big=0.02 if m != "in_force" else 0.2, zero=0.5)
        elif m in ("total_published", "in_force", "previous_items"):
            vals[m] = _count(rng, level, big=6, zero=0.15)
        elif m in ("decisions",) and category in ("administrative_licensing", "administrative_penalty"):
            vals[m] = _count(rng, level, big=8, zero=0.15)
        else:
            vals[m] = _count(rng, level)
    if "published" in vals and "made" in vals:
        vals["published"] = (
            min(int(vals["published"]), int(vals["made"])) if rng.random() < 0.7 else vals["published"]
        )
    if "total_published" in vals:
        vals["total_published"] = max(int(vals["total_published"]), int(vals.get("published", 0)))
    if "in_force" in vals:
        vals["in_force"] = max(int(vals["in_force"]), int(vals.get("issued", 0)))
    return vals


def category_label(code: str, version: str) -> str:
    """The printed label of a template category in one version (2021 prints 行政规范性文件)."""
    label = T.CATEGORY_BY_CODE[code].label
    if code == "normative_documents" and version == T.V2021:
        return "行政" + label
    return label


def _proactive(rng: random.Random, level: str, version: str) -> tuple[list[ProactiveRow], list[ProactiveRow]]:
    rows: list[ProactiveRow] = []
    extra: list[ProactiveRow] = []
    for blk in T.PROACTIVE_BLOCKS:
        if blk.version != version:
            continue
        for cat in blk.categories:
            rows.append(
                ProactiveRow(
                    blk.article_item,
                    cat,
                    category_label(cat, version),
                    _block_values(rng, level, blk.metrics, cat),
                )
            )
    for label, item, parent in EXTRA_CATEGORY_LABELS.values():
        blk = T.block(item, version)
        if blk is None:
            continue
        extra.append(
            ProactiveRow(item, None, label, _block_values(rng, level, blk.metrics, None), parent=parent)
        )
    return rows, extra


def _break(rng: random.Random, spec: ReportSpec, code: str) -> None:
    """Perturb the published numbers so that identity `code` fails and the others still hold."""
    apps, review = spec.applications, spec.review
    rows = spec.application_rows()
    leaves = _resolve_terms(next(i for i in T.IDENTITIES if i.code == "T3-B").rhs, set(rows))
    d = rng.randint(1, 5)
    j = rng.randrange(6)  # a non-total column of table 三
    col, tot = APP_COLUMNS[j], APP_COLUMNS[6]
    if code == "T3-A":  # 四、结转 off by d in column j and in 总计: row 四 still adds up
        apps["carried_forward"][j] += d
        apps["carried_forward"][6] += d
        spec.protected |= {("applications", r, c) for r in rows for c in (col, tot)}
    elif code == "T3-B":  # one leaf off by d in column j and in 总计: T3-A and T3-C still hold
        leaf = rng.choice(leaves)
        apps[leaf][j] += d
        apps[leaf][6] += d
        spec.protected |= {("applications", r, c) for r in rows for c in (col, tot)}
    elif code == "T3-C":  # column j gains d in a leaf, （七）总计 and 一 — but no row's 总计 follows
        leaf = rng.choice(leaves)
        for r in (leaf, "total_processed", "new_received"):
            apps[r][j] += d
            spec.protected |= {("applications", r, c) for c in APP_COLUMNS}
    elif code == "T4":
        p = rng.choice(PROCEEDINGS)
        vals = review[p]
        if sum(vals[:4]) > 0 and rng.random() < 0.6:
            vals[4] = 0  # 淮安 2023: a total of 0 beside non-zero parts
        else:
            vals[4] = sum(vals[:4]) + d
        spec.protected |= {("review_litigation", p, c) for c in OUTCOMES}
    else:
        raise ValueError(f"cannot break unknown identity {code!r}; known: {[i.code for i in T.IDENTITIES]}")


def make_spec(
    seed: int,
    *,
    kind: str = REPORT,
    template: str | None = None,
    year: int | None = None,
    level: str | None = None,
    agency: str | None = None,
    mixed_variant: str | None = None,
    break_identity: bool | str | Iterable[str] = False,
) -> ReportSpec:
    """Draw a report's content, reproducibly from `seed`.

    kind: "report" (default), "legacy" (a 2008–2018 report in free format) or "not_a_report".
    template: "2019", "2021", "mixed" or None (chosen from the year as real reports do).
    year: the year reported on (default: 2019–2025 for reports, 2008–2018 for legacy).
    level: town / district / bureau / city / province (sets the scale of the numbers).
    mixed_variant: for template "mixed", "proactive2021" (2021 table 二 + the 2019 single （六）row,
        the common case) or "proactive2019" (the reverse); default random.
    break_identity: True (one random identity), an identity code ("T3-A", "T3-B", "T3-C", "T4") or
        several; the spec's `failed_checks` then lists exactly the codes broken.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    rng = random.Random(f"xxgk-synth:{seed}")
    level = level or rng.choice(("town", "district", "district", "bureau", "bureau", "city", "province"))
    agency = agency or _agency(rng, level)
    if kind == NOT_A_REPORT:
        return ReportSpec(seed, kind, agency, None, level, None, title="")
    if kind == LEGACY:
        year = year or rng.randint(2008, 2018)
        title = rng.choice(
            (
                f"{agency}{year}年政府信息公开工作年度报告",
                f"{agency}{year}年度政府信息公开工作年度报告",
                f"{agency}{year}年政府信息公开年报",
            )
        )
        return ReportSpec(seed, kind, agency, year, level, None, title=title)

    if year is None:  # a year that fits the template asked for (version is not year, but it leans)
        years = {
            None: (2019, 2020, 2020, 2021, 2022, 2023, 2024, 2025),
            T.V2019: (2019, 2020, 2020),
            T.V2021: (2020, 2021, 2022, 2023, 2024, 2025),
            MIXED: (2020, 2021, 2022, 2023),
        }.get(template, (2021,))
        year = rng.choice(years)
    template = template or _choose_template(rng, year)
    if template not in TEMPLATES:
        raise ValueError(f"template must be one of {TEMPLATES}")
    if template == MIXED:
        variant = mixed_variant or ("proactive2021" if rng.random() < 0.75 else "proactive2019")
        if variant == "proactive2021":
            pv, ov = T.V2021, T.V2019
        elif variant == "proactive2019":
            pv, ov = T.V2019, T.V2021
        else:
            raise ValueError("mixed_variant must be 'proactive2021' or 'proactive2019'")
    else:
        pv = ov = template
    proactive, extra = _proactive(rng, level, pv)
    spec = ReportSpec(
        seed,
        kind,
        agency,
        year,
        level,
        template,
        proactive_version=pv,
        other_handling_version=ov,
        title=_title(rng, agency, year),
        proactive=proactive,
        extra_proactive=extra,
        applications=_applications(rng, level, ov),
        review=_review(rng, level),
    )
    if break_identity:
        if break_identity is True:
            codes = [rng.choice([i.code for i in T.IDENTITIES])]
        elif isinstance(break_identity, str):
            codes = [break_identity]
        else:
            codes = list(break_identity)
        for code in codes:
            _break(rng, spec, code)
    spec.failed_checks = failed_identities(spec.applications, spec.review)
    if break_identity:
        missing = set(codes) - set(spec.failed_checks)
        assert not missing, f"could not break {missing}"  # a bug of this module, never of the caller
    return spec
