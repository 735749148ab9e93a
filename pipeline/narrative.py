"""Numbers the report's text states, compared with its tables (`narrative_mismatch`).

Reports restate their main figures in prose — 全年共收到政府信息公开申请154件，共办结148件 — and the prose
sometimes contradicts the table (淮安市洪泽区 2024: 受理…申请 17 件 in the text, 95 in table 三). Each
statement is read from one clause (text between ，。；：() marks) whose meaning is unambiguous, and
compared with the table value it restates; a difference is a warning (expected = the table, actual =
the text, the sentence in the message). Values are never changed.

Conservative by design — a clause we cannot map with certainty is not compared:
- the number must be Arabic digits directly followed by its unit (件, 起): `7700余条`, `一件` are skipped;
- a clause that speaks of another time or of a part (上年, 同比, 较, 增长, 其中, 自然人, %, …) or names a
  year other than the report's is skipped;
- the table value must be printed and readable (every term of a sum), else nothing is compared;
- `received` accepts either reading of 收到/受理 — the new applications (一) or new plus carried over
  (一 + 二) — and warns only when the text matches neither.
主动公开政府信息X条 has no counterpart in the tables (table 二 counts documents of a few kinds only): it
is not compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.report import Finding, ParsedReport

CHECK = "narrative_mismatch"
_APPS, _REVIEW = "applications", "review_litigation"

# A cell term: (table, row or proceeding, column).
Term = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Claim:
    """One kind of statement: its patterns (group 1 is the number) and the table sums it may restate."""

    name: str
    patterns: tuple[re.Pattern[str], ...]
    readings: tuple[tuple[Term, ...], ...]  # each reading a sum of cells; the first is `expected`
    what: str  # how the message names the table value
    requires: str = ""  # a clause must contain this (regex) too
    excludes: str = ""  # …and not this (regex), besides the common exclusions
    next_year_ok: bool = False  # the clause may name the following year (结转至2026年)


def _p(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


_N = r"(\d+)(?:件|起)"
_END = r"(?=$|、)"  # the number ends its clause, or one item of a list (行政复议2件、行政诉讼7件)
_TOTAL = "total"
CLAIMS: tuple[Claim, ...] = (
    Claim(
        "received",
        _p(
            r"(?:收到|受理|接收|新收)[^\d]{0,30}?申请(?:公开)?(?:共计|总计|合计|共|总数|数量)?(?:为|达)?"
            + _N
            + _END,
            r"(?:收到|受理|接收|新收)(?:各类)?" + _N + r"(?:政府信息公开|依申请公开)?申请" + _END,
        ),
        (
            ((_APPS, "new_received", _TOTAL),),
            ((_APPS, "new_received", _TOTAL), (_APPS, "carried_over", _TOTAL)),
        ),
        "table 三 一、本年新收 (or 一 + 二、上年结转), 总计",
        requires=r"申请",
        excludes=r"结转|转办|答复|办结|予以公开|部分公开",
    ),
    Claim(
        "processed",
        _p(r"办结(?:依申请公开|政府信息公开申请|申请)?(?:共计|共)?" + _N + _END),
        (((_APPS, "total_processed", _TOTAL),),),
        "table 三 （七）总计, 总计",
        excludes=r"结转|率|时限|期限",
    ),
    Claim(
        "carried_forward",
        _p(
            r"^(?:另有)?" + _N + r"(?:申请)?结转(?:至|到)?下(?:一)?年度?(?:继续办理)?" + _END,
            r"结转(?:至|到)?(?:下(?:一)?年度?|\d{4}年)(?:继续办理)?(?:的)?(?:申请)?" + _N + _END,
        ),
        (((_APPS, "carried_forward", _TOTAL),),),
        "table 三 四、结转下年度继续办理, 总计",
        excludes=r"上年|上一年",
        next_year_ok=True,
    ),
    Claim(
        "granted_or_partially",
        _p(r"予以公开(?:及|和|与|、|或)部分公开(?:的)?(?:共)?" + _N + _END),
        (((_APPS, "granted", _TOTAL), (_APPS, "partially_granted", _TOTAL)),),
        "table 三 （一）予以公开 + （二）部分公开, 总计",
    ),
    Claim(
        "reviews",
        _p(r"行政复议(?:案件|申请)?(?:共计|共)?" + _N + _END),
        (((_REVIEW, "administrative_review", _TOTAL),),),
        "table 四 行政复议, 总计",
        excludes=r"维持|纠正|审结",
    ),
    Claim(
        "lawsuits",
        _p(r"行政诉讼(?:案件)?(?:共计|共)?" + _N + _END),
        (((_REVIEW, "litigation_direct", _TOTAL), (_REVIEW, "litigation_after_review", _TOTAL)),),
        "table 四 行政诉讼 (未经复议直接起诉 + 复议后起诉), 总计",
        excludes=r"维持|纠正|审结|复议后|直接起诉",
    ),
)

#: Clauses about another time, a comparison, a part or a rate: not a restatement of a table total.
_NOT_A_TOTAL = re.compile(
    r"上年|去年|上一年|前年|同比|环比|较|增长|下降|减少|增加|增幅|降幅|比例|占|%|％|平均|以来|截至|截止|历年|"
    r"其中|涉及|自然人|企业|法人|科研|公益|法律服务|各类主体|约|余|近|超过|以上|以下|多"
)
_COUNT = re.compile(r"\d\s*[件起]")  # every statement read has one: a cheap filter first
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_CLAUSE_SPLIT = re.compile(r"[，,。；;：:（）()！!？?]")
_SENTENCE_SPLIT = re.compile(r"(?<=[。；;！!？?])")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Statement:
    """A number the text states: which claim, the value, where (paragraph index, character offset), the
    sentence it is in."""

    claim: Claim
    value: int
    paragraph: int
    offset: int
    sentence: str


def _clauses(sentence: str) -> Iterable[tuple[int, str]]:
    start = 0
    for part in _CLAUSE_SPLIT.split(sentence):
        yield start, part
        start += len(part) + 1


def _year_ok(clause: str, year: int | None, claim: Claim) -> bool:
    years = {int(y) for y in _YEAR.findall(clause)}
    if not years:
        return True
    allowed = {year} if year is not None else set()
    if claim.next_year_ok and year is not None:
        allowed.add(year + 1)
    return years <= allowed


def statements(paragraphs: Sequence[str], year: int | None) -> list[Statement]:
    """Every statement of a CLAIMS kind in the paragraphs, in document order."""
    out: list[Statement] = []
    for index, paragraph in enumerate(paragraphs):
        if not _COUNT.search(paragraph):  # most paragraphs state no count: one scan, nothing else
            continue
        text = _SPACE.sub("", paragraph)
        position = 0
        for sentence in _SENTENCE_SPLIT.split(text):
            if not _COUNT.search(sentence):
                position += len(sentence)
                continue
            for start, clause in _clauses(sentence):
                if not _COUNT.search(clause) or _NOT_A_TOTAL.search(clause):
                    continue
                for claim in CLAIMS:
                    if claim.requires and not re.search(claim.requires, clause):
                        continue
                    if claim.excludes and re.search(claim.excludes, clause):
                        continue
                    if not _year_ok(clause, year, claim):
                        continue
                    for pattern in claim.patterns:
                        matches = list(pattern.finditer(clause))
                        out += [
                            Statement(claim, int(m.group(1)), index, position + start, sentence)
                            for m in matches
                        ]
                        if matches:
                            break
            position += len(sentence)
    return out


def _table_sum(report: ParsedReport, terms: tuple[Term, ...]) -> float | None:
    """The sum of the cells, or None when one is not printed, blank or unreadable."""
    total = 0.0
    for table, row, column in terms:
        cell = report.value(table, row, column)
        if cell is None or cell.unreadable or cell.value is None:
            return None
        total += cell.value
    return total


@dataclass(slots=True)
class Comparison:
    statement: Statement
    expected: float | None  # the table value (first reading); None: nothing to compare with
    agrees: bool


def compare(report: ParsedReport, paragraphs: Sequence[str]) -> list[Comparison]:
    """Each statement with the table value it restates and whether they agree."""
    out = []
    for st in statements(paragraphs, report.year):
        values = [_table_sum(report, reading) for reading in st.claim.readings]
        known = [v for v in values if v is not None]
        expected = values[0] if values[0] is not None else (known[0] if known else None)
        out.append(Comparison(st, expected, bool(known) and any(v == st.value for v in known)))
    return out


def narrative_findings(report: ParsedReport, paragraphs: Sequence[str]) -> list[Finding]:
    """A `narrative_mismatch` warning for each statement its table contradicts."""
    findings = []
    for c in compare(report, paragraphs):
        if c.expected is None or c.agrees:
            continue
        st = c.statement
        findings.append(
            Finding(
                CHECK,
                st.claim.name,
                c.expected,
                float(st.value),
                "warning",
                f"the text states {st.value:g} where {st.claim.what} is {c.expected:g} "
                f"(paragraph {st.paragraph + 1}, character {st.offset + 1}): 「{st.sentence}」",
            )
        )
    return findings
