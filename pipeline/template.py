"""The national report template, both versions, as data: the one source of truth.

Tables, row and column codes, Chinese labels, the keywords (including known variants and typos)
that recognise a printed label, which format version a label belongs to, and the identities
(勾稽关系) as sums over codes. The mapper, the validator, the data dictionary and the tests read
this module; adding a label variant is a one-line change here.

Keywords are matched against *normalised* label text (see `labels.normalize`): NFKC, no
whitespace, ASCII parentheses, enumeration punctuation unified to ".", quotes removed.
"""

from __future__ import annotations

from dataclasses import dataclass

V2019 = "2019"
V2021 = "2021"
BOTH = frozenset({V2019, V2021})


@dataclass(frozen=True, slots=True)
class RowDef:
    """A leaf row of table 三. `group`/`item` place it in the hierarchy (e.g. 三(三) item 2)."""

    code: str
    label: str
    keywords: tuple[str, ...]
    group: str  # "一" / "二" / "四" for top-level rows, "(一)"…"(七)" for rows under 三
    item: int | None = None
    versions: frozenset[str] = BOTH


@dataclass(frozen=True, slots=True)
class ColumnDef:
    code: str
    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CategoryDef:
    """A row of table 二: one category (规章, 行政许可, …) inside one 第二十条 block."""

    code: str
    label: str
    keywords: tuple[str, ...]
    article_item: int
    versions: frozenset[str] = BOTH


@dataclass(frozen=True, slots=True)
class MetricDef:
    """A column of table 二. `amount` metrics are money, normalised to 万元."""

    code: str
    label: str
    keywords: tuple[str, ...]
    version: str
    amount: bool = False
    signed: bool = False


@dataclass(frozen=True, slots=True)
class BlockDef:
    """One 第二十条第（N）项 block of table 二 in one version: its metrics and categories in order."""

    article_item: int
    version: str
    metrics: tuple[str, ...]
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Identity:
    """An identity over table cells: for every `over` member, sum(lhs) == sum(rhs).

    Terms are row codes (table 三 column identities, T4 per proceeding) or column codes
    (T3-C per row). `any_of` terms: the first alternative present in the report is used
    (the single （六）其他处理 row in 2019, its three sub-rows in 2021).
    """

    code: str
    table: str
    description: str
    lhs: tuple[str, ...]
    rhs: tuple[str | tuple[tuple[str, ...], ...], ...]
    axis: str  # "column": terms are row codes, checked per column; "row": terms are column codes
    severity: str = "error"


# ---------------------------------------------------------------- table 三 (applications)

APPLICATION_COLUMNS: tuple[ColumnDef, ...] = (
    ColumnDef("natural_person", "自然人", ("自然人",)),
    ColumnDef("commercial_enterprise", "商业企业", ("商业企业", "商业", "企业")),
    ColumnDef("research_institution", "科研机构", ("科研机构", "科研")),
    ColumnDef("social_welfare_org", "社会公益组织", ("社会公益组织", "公益")),
    ColumnDef("legal_service_org", "法律服务机构", ("法律服务机构", "法律服务")),
    ColumnDef("other_org", "其他", ("其他",)),
    ColumnDef("total", "总计", ("总计", "合计")),
)
#: Printed columns the template does not have: recognised so they are not mistaken for template columns.
EXTRA_APPLICATION_COLUMNS: tuple[ColumnDef, ...] = (
    ColumnDef("legal_person_subtotal", "法人或其他组织小计", ("小计",)),
)

APPLICATION_ROWS: tuple[RowDef, ...] = (
    RowDef("new_received", "一、本年新收政府信息公开申请数量", ("本年新收", "新收"), "一"),
    RowDef("carried_over", "二、上年结转政府信息公开申请数量", ("上年结转",), "二"),
    RowDef("granted", "（一）予以公开", ("予以公开",), "(一)"),
    RowDef("partially_granted", "（二）部分公开", ("部分公开",), "(二)"),
    RowDef("denied_state_secret", "（三）1.属于国家秘密", ("国家秘密",), "(三)", 1),
    RowDef(
        "denied_prohibited_by_law",
        "（三）2.其他法律行政法规禁止公开",
        ("法律行政法规禁止", "行政法规禁止", "其他法律", "禁止公开", "行政止公开"),
        "(三)",
        2,
    ),
    RowDef("denied_security_stability", "（三）3.危及“三安全一稳定”", ("三安全一稳定", "危及"), "(三)", 3),
    RowDef("denied_third_party_rights", "（三）4.保护第三方合法权益", ("第三方",), "(三)", 4),
    RowDef("denied_internal_affairs", "（三）5.属于三类内部事务信息", ("内部事务",), "(三)", 5),
    RowDef("denied_process_information", "（三）6.属于四类过程性信息", ("过程性",), "(三)", 6),
    RowDef("denied_enforcement_file", "（三）7.属于行政执法案卷", ("执法案卷",), "(三)", 7),
    RowDef("denied_administrative_query", "（三）8.属于行政查询事项", ("行政查询", "查询事项"), "(三)", 8),
    RowDef("unavailable_not_held", "（四）1.本机关不掌握相关政府信息", ("不掌握",), "(四)", 1),
    RowDef(
        "unavailable_needs_creation",
        "（四）2.没有现成信息需要另行制作",
        ("另行制作", "没有现成", "现成信息"),
        "(四)",
        2,
    ),
    RowDef("unavailable_unclear", "（四）3.补正后申请内容仍不明确", ("仍不明确", "不明确"), "(四)", 3),
    RowDef("not_processed_petition", "（五）1.信访举报投诉类申请", ("信访", "举报投诉"), "(五)", 1),
    RowDef("not_processed_duplicate", "（五）2.重复申请", ("重复申请",), "(五)", 2),
    RowDef("not_processed_publication", "（五）3.要求提供公开出版物", ("出版物",), "(五)", 3),
    RowDef("not_processed_excessive", "（五）4.无正当理由大量反复申请", ("大量反复", "反复申请"), "(五)", 4),
    RowDef(
        "not_processed_confirmation",
        "（五）5.要求行政机关确认或重新出具已获取信息",
        ("重新出具", "确认或重新", "已获取信息"),
        "(五)",
        5,
    ),
    RowDef("other_handling", "（六）其他处理", ("其他处理",), "(六)", None, frozenset({V2019})),
    RowDef(
        "other_handling_no_correction",
        "（六）1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        ("逾期不补正", "不补正"),
        "(六)",
        1,
        frozenset({V2021}),
    ),
    RowDef(
        "other_handling_unpaid_fee",
        "（六）2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        ("缴纳费用", "收费通知", "未按收费"),
        "(六)",
        2,
        frozenset({V2021}),
    ),
    RowDef("other_handling_other", "（六）3.其他", ("其他",), "(六)", 3, frozenset({V2021})),
    RowDef("total_processed", "（七）总计", ("总计", "合计"), "(七)"),
    RowDef("carried_forward", "四、结转下年度继续办理", ("结转下年度", "结转下年"), "四"),
)
APPLICATION_ROW_BY_CODE = {r.code: r for r in APPLICATION_ROWS}

#: Group labels of table 三 (printed in spanning cells, carrying no numbers of their own).
APPLICATION_GROUPS: dict[str, tuple[str, ...]] = {
    "三": ("本年度办理结果", "办理结果"),
    "(三)": ("不予公开",),
    "(四)": ("无法提供",),
    "(五)": ("不予处理",),
    "(六)": ("其他处理",),
}

# ---------------------------------------------------------------- table 四 (review and litigation)

REVIEW_PROCEEDINGS: tuple[ColumnDef, ...] = (
    ColumnDef("administrative_review", "行政复议", ("行政复议", "复议")),
    ColumnDef("litigation_direct", "未经复议直接起诉", ("未经复议", "直接起诉")),
    ColumnDef("litigation_after_review", "复议后起诉", ("复议后起诉", "复议后")),
)
REVIEW_OUTCOMES: tuple[ColumnDef, ...] = (
    ColumnDef("upheld", "结果维持", ("维持",)),
    ColumnDef("corrected", "结果纠正", ("纠正",)),
    ColumnDef("other", "其他结果", ("其他",)),
    ColumnDef("pending", "尚未审结", ("尚未审结", "未审结")),
    ColumnDef("total", "总计", ("总计", "合计")),
)

# ---------------------------------------------------------------- table 二 (proactive disclosure)

PROACTIVE_CATEGORIES: tuple[CategoryDef, ...] = (
    CategoryDef("regulations", "规章", ("规章",), 1),
    CategoryDef("normative_documents", "规范性文件", ("规范性文件", "规范性"), 1),
    CategoryDef("administrative_licensing", "行政许可", ("行政许可",), 5),
    CategoryDef(
        "other_management_services",
        "其他对外管理服务事项",
        ("其他对外管理服务", "对外管理服务"),
        5,
        frozenset({V2019}),
    ),
    CategoryDef("administrative_penalty", "行政处罚", ("行政处罚",), 6),
    CategoryDef("administrative_coercion", "行政强制", ("行政强制",), 6),
    CategoryDef(
        "administrative_fees", "行政事业性收费", ("行政事业性收费", "事业性收费", "行政事业型收费"), 8
    ),
    CategoryDef(
        "government_procurement", "政府集中采购", ("政府集中采购", "集中采购"), 9, frozenset({V2019})
    ),
)
CATEGORY_BY_CODE = {c.code: c for c in PROACTIVE_CATEGORIES}

PROACTIVE_METRICS: tuple[MetricDef, ...] = (
    MetricDef("made", "本年新制作数量", ("新制作",), V2019),
    MetricDef("published", "本年新公开数量", ("新公开",), V2019),
    MetricDef("total_published", "对外公开总数量", ("公开总数",), V2019),
    MetricDef("previous_items", "上一年项目数量", ("上一年项目", "上年项目"), V2019),
    MetricDef("change", "本年增/减", ("增/减", "增减", "增加/减少"), V2019, signed=True),
    MetricDef("decisions", "处理决定数量", ("处理决定",), V2019),
    MetricDef("procurement_projects", "采购项目数量", ("采购项目",), V2019),
    MetricDef("procurement_amount", "采购总金额", ("采购总金额", "采购金额", "总金额"), V2019, amount=True),
    MetricDef("issued", "本年制发件数", ("制发",), V2021),
    MetricDef("repealed", "本年废止件数", ("废止",), V2021),
    MetricDef("in_force", "现行有效件数", ("现行有效",), V2021),
    MetricDef("decisions", "本年处理决定数量", ("处理决定",), V2021),
    MetricDef(
        "fee_amount", "本年收费金额（单位：万元）", ("收费金额", "收费数额", "收费总额"), V2021, amount=True
    ),
)
METRIC_BY_CODE = {m.code: m for m in PROACTIVE_METRICS}  # `decisions` is the same fact in both versions

PROACTIVE_BLOCKS: tuple[BlockDef, ...] = (
    BlockDef(1, V2019, ("made", "published", "total_published"), ("regulations", "normative_documents")),
    BlockDef(
        5,
        V2019,
        ("previous_items", "change", "decisions"),
        ("administrative_licensing", "other_management_services"),
    ),
    BlockDef(
        6,
        V2019,
        ("previous_items", "change", "decisions"),
        ("administrative_penalty", "administrative_coercion"),
    ),
    BlockDef(8, V2019, ("previous_items", "change"), ("administrative_fees",)),
    BlockDef(9, V2019, ("procurement_projects", "procurement_amount"), ("government_procurement",)),
    BlockDef(1, V2021, ("issued", "repealed", "in_force"), ("regulations", "normative_documents")),
    BlockDef(5, V2021, ("decisions",), ("administrative_licensing",)),
    BlockDef(6, V2021, ("decisions",), ("administrative_penalty", "administrative_coercion")),
    BlockDef(8, V2021, ("fee_amount",), ("administrative_fees",)),
)

ARTICLE_ITEMS = {"一": 1, "五": 5, "六": 6, "八": 8, "九": 9}

# ---------------------------------------------------------------- identities (勾稽关系)

#: （六）其他处理: the single 2019 row, or the three 2021 rows.
OTHER_HANDLING_ALTERNATIVES: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("other_handling",),
    ("other_handling_no_correction", "other_handling_unpaid_fee", "other_handling_other"),
)
_OTHER_HANDLING = OTHER_HANDLING_ALTERNATIVES

IDENTITIES: tuple[Identity, ...] = (
    Identity(
        "T3-A",
        "applications",
        "一 + 二 = （七）总计 + 四, in each column of table 三",
        ("new_received", "carried_over"),
        ("total_processed", "carried_forward"),
        axis="column",
    ),
    Identity(
        "T3-B",
        "applications",
        "（七）总计 = （一）+（二）+ Σ（三）1–8 + Σ（四）1–3 + Σ（五）1–5 + （六）, in each column of table 三",
        ("total_processed",),
        (
            "granted",
            "partially_granted",
            *(r.code for r in APPLICATION_ROWS if r.group in ("(三)", "(四)", "(五)")),
            _OTHER_HANDLING,
        ),
        axis="column",
    ),
    Identity(
        "T3-C",
        "applications",
        "总计 = 自然人 + the five 法人或其他组织 columns, in each row of table 三",
        ("total",),
        tuple(c.code for c in APPLICATION_COLUMNS if c.code != "total"),
        axis="row",
    ),
    Identity(
        "T4",
        "review_litigation",
        "总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结, for each proceeding of table 四",
        ("total",),
        ("upheld", "corrected", "other", "pending"),
        axis="row",
    ),
)

#: Checks that are not identities of one table, named here so every check code has one home.
CHECK_DESCRIPTIONS: dict[str, str] = {
    **{i.code: i.description for i in IDENTITIES},
    "unreadable_cell": "a printed cell whose value cannot be read with certainty",
    "missing_table": "a report whose table 二, 三 or 四 could not be found",
    "missing_row": "a template row of table 三 (or a category of table 二) not found in the report",
    "unknown_row": "a printed table-三 row the template does not have (kept in cells under its label)",
    "duplicate_row": "a table-三 row printed twice (the first is kept)",
    "unknown_layout": "table-二 values printed without a header naming their columns (not read)",
    "cross_year_carry_over": "二、上年结转 of year N = 四、结转下年度继续办理 of year N−1 (same region, agency)",
    "cross_year_in_force": "现行有效件数(N) = 现行有效件数(N−1) + 本年制发件数(N) − 本年废止件数(N)",
    "scanned_pages_skipped": "pages of a PDF with no text layer (pictures only) from which OCR read nothing",
    "ocr_values": "info: values of the report were read by OCR from pictures (how many images)",
    "narrative_mismatch": "warning: a number the report's text states (共收到政府信息公开申请X件, 办结X件, "
    "结转下年度X件, 予以公开及部分公开X件, 行政复议X件, 行政诉讼X件) differs from the table value it restates; "
    "expected = the table, actual = the text, the sentence in the message (README, Reading the tables)",
}


def rows_for_group(group: str) -> list[RowDef]:
    """Template rows of table 三 that sit under one group marker, in template order."""
    return [r for r in APPLICATION_ROWS if r.group == group]


def block(article_item: int, version: str) -> BlockDef | None:
    for b in PROACTIVE_BLOCKS:
        if b.article_item == article_item and b.version == version:
            return b
    return None


def metrics_for(version: str) -> dict[str, MetricDef]:
    """Metric definitions of one version, by code."""
    return {m.code: m for m in PROACTIVE_METRICS if m.version == version}
