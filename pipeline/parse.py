"""One document's bytes → a ParsedReport: read, find the tables, map them, check them (identities, and
the numbers the text states against the tables: pipeline.narrative).

This is the whole per-document path; the pipeline stages and `python -m pipeline parse` call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pipeline import template as T
from pipeline.convert import LEGACY_FORMATS, Converter, sniff
from pipeline.document import Document, DocumentError
from pipeline.extract import applications, metadata, proactive, review
from pipeline.extract.rows import APPLICATIONS, PROACTIVE, REVIEW, looks_like_value, segment
from pipeline.narrative import narrative_findings
from pipeline.readers.ocr.settings import DEFAULT_MIN_CONFIDENCE, min_confidence_from_env
from pipeline.report import KIND_LEGACY, KIND_NOT_A_REPORT, KIND_REPORT, Cell, Finding, ParsedReport
from pipeline.store import format_for
from pipeline.validate import check_identities

LEGACY_BEFORE = 2019  # reports on 2008–2018 follow the 2008 regulation: no national tables


def read_document(
    data: bytes,
    fmt: str,
    *,
    http_charset: str | None = None,
    pictures: Mapping[str, bytes] | None = None,
) -> Document:
    """Bytes → Document with the reader for `fmt`; unsupported formats are a DocumentError.
    `pictures`: what an HTML page shows by URL, by `src` (fetched with it)."""
    if fmt == "html":
        from pipeline.readers.html import read_html

        return read_html(data, http_charset=http_charset, linked=pictures)
    if fmt == "docx":
        from pipeline.readers.docx import read_docx

        return read_docx(data)
    if fmt == "txt":
        from pipeline.readers.text import read_text

        return read_text(data)
    if fmt == "pdf":
        from pipeline.readers.pdf import read_pdf

        return read_pdf(data)
    if fmt == "image":
        from pipeline.readers.ocr.document import read_picture

        return read_picture(data)
    if fmt in LEGACY_FORMATS:
        real = sniff(data, fmt)
        if real != fmt:  # a .doc that is really a .docx or an HTML page: read it for what it is
            return read_document(data, real, http_charset=http_charset, pictures=pictures)
        with Converter() as converter:
            doc = read_document(converter.convert_one(data, fmt), "docx")
        doc.reader = "doc"
        return doc
    raise DocumentError(f"{fmt}: format not supported (supported: docx, doc, wps, html, txt, pdf, image)")


def extract_report(
    doc: Document, *, title_hint: str | None = None, ocr_min_confidence: float = DEFAULT_MIN_CONFIDENCE
) -> ParsedReport:
    """Map a read document onto the template and check its identities.

    A value read by OCR less surely than `ocr_min_confidence` is unreadable (with the confidence in
    the reason), before the identities are checked: they never see an unsure value."""
    report = ParsedReport(reader=doc.reader or doc.format, pages=doc.pages)
    report.findings.extend(doc.findings)
    report.title = metadata.find_title(doc, title_hint)
    report.year = metadata.year_of(report.title, doc)
    report.agency = metadata.agency_of(report.title)
    is_title = bool(report.title and metadata.is_report_title(report.title))
    if report.year is not None and report.year < LEGACY_BEFORE and is_title:
        report.kind, report.template = KIND_LEGACY, "legacy"
        return report

    sections = segment(doc)
    t2 = proactive.extract(sections[PROACTIVE])
    t3 = applications.extract(sections[APPLICATIONS])
    t4 = review.extract(sections[REVIEW])
    found = [name for name, res in ((PROACTIVE, t2), (APPLICATIONS, t3), (REVIEW, t4)) if res.found]
    if not found:
        report.kind = KIND_REPORT if is_title else KIND_NOT_A_REPORT
        if is_title:
            report.findings.append(
                Finding(
                    "missing_table", "all", None, None, "error", "no table 二, 三 or 四 found in the document"
                )
            )
        return report

    report.kind = KIND_REPORT
    report.tables_found = found
    report.cells = t2.cells + t3.cells + t4.cells
    _place(report.cells, doc, ocr_min_confidence)
    report.findings.extend(t2.findings + t3.findings + t4.findings)
    report.table_versions = _versions(t2.versions, t3.version)
    report.template = _template(report.table_versions)
    for name in (PROACTIVE, APPLICATIONS, REVIEW):
        if name not in found:
            report.findings.append(
                Finding(
                    "missing_table",
                    name,
                    None,
                    None,
                    "error",
                    f"table {_TABLE_NUMERAL[name]} ({name}) not found",
                )
            )
    _require_rows(report, t3.found)
    _require_categories(report)
    report.findings.extend(_unreadable(report))
    report.findings.extend(check_identities(report))
    report.findings.extend(narrative_findings(report, doc.paragraphs))
    return report


def _place(cells: list[Cell], doc: Document, ocr_min_confidence: float) -> None:
    """Copy where each value was printed (page; OCR confidence and box) from its grid cell; a value
    OCR read less surely than `ocr_min_confidence` becomes unreadable (accepted means confident)."""
    for cell in cells:
        printed = doc.tables[cell.source_table].grid[cell.source_row][cell.source_col]
        cell.source_page = printed.page
        cell.confidence = printed.confidence
        cell.box = list(printed.box) if printed.box is not None else None
        if printed.confidence is not None and printed.confidence < ocr_min_confidence and not cell.unreadable:
            cell.value = None
            cell.unreadable = f"OCR confidence {printed.confidence:.2f} < {ocr_min_confidence:.2f}"


_TABLE_NUMERAL = {PROACTIVE: "二", APPLICATIONS: "三", REVIEW: "四"}


def _versions(proactive_versions: set[str], applications_version: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if len(proactive_versions) == 1:
        out[PROACTIVE] = next(iter(proactive_versions))
    elif proactive_versions:
        out[PROACTIVE] = "mixed"
    if applications_version:
        out[APPLICATIONS] = applications_version
    return out


def _template(versions: dict[str, str]) -> str:
    distinct = set(versions.values())
    if not distinct:
        return "unknown"
    return distinct.pop() if len(distinct) == 1 else "mixed"


def _require_rows(report: ParsedReport, found: bool) -> None:
    """Template rows of table 三 the report does not print: a finding, so gaps are never silent."""
    if not found:
        return
    present = {c.row_code for c in report.cells_of(APPLICATIONS)}
    version = report.table_versions.get(APPLICATIONS)
    for row in T.APPLICATION_ROWS:
        if row.code in present or (version and version not in row.versions):
            continue
        if version is None and row.group == "(六)":
            continue
        report.findings.append(
            Finding("missing_row", row.code, None, None, "warning", f"table 三 row {row.label} not found")
        )


def _require_categories(report: ParsedReport) -> None:
    """Categories of table 二 the report does not print (of its one template version): a finding, so a
    row lost (to a page break in a scan, say) is never a silent gap."""
    version = report.table_versions.get(PROACTIVE)
    if version not in (T.V2019, T.V2021):
        return
    present = {c.category_code for c in report.cells_of(PROACTIVE)}
    # A block printing rows of the agency's own may print a category as those rows (the seed splits
    # 其他对外管理服务事项 into 行政检查 and 行政确认): its absence there is no gap.
    own_rows = {
        c.article_item
        for c in report.cells_of(PROACTIVE)
        if c.category_code is None and c.row_label and not looks_like_value(c.row_label)
    }
    for block in T.PROACTIVE_BLOCKS:
        if block.version != version or block.article_item in own_rows:
            continue
        for code in block.categories:
            if code not in present:
                label = T.CATEGORY_BY_CODE[code].label
                report.findings.append(
                    Finding(
                        "missing_row",
                        code,
                        None,
                        None,
                        "warning",
                        f"table 二 row {label} (第二十条第（{_ITEM_NUMERAL[block.article_item]}）项) not found",
                    )
                )


_ITEM_NUMERAL = {n: numeral for numeral, n in T.ARTICLE_ITEMS.items()}


def _unreadable(report: ParsedReport) -> list[Finding]:
    return [
        Finding(
            "unreadable_cell",
            f"{c.row_code}/{c.column_code}",
            None,
            None,
            "warning",
            f"{c.table}: row {c.row_code}, column {c.column_code} at {c.position()}: {c.unreadable}",
        )
        for c in report.cells
        if c.unreadable
    ]


def parse_document(
    data: bytes,
    fmt: str,
    *,
    http_charset: str | None = None,
    title_hint: str | None = None,
    reader: str | None = None,
    ocr_min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    pictures: Mapping[str, bytes] | None = None,
) -> ParsedReport:
    """Parse one document. Raises DocumentError (with the reason) when it cannot be read.

    `reader` names what made `data` when it is not the original document (`doc`: .docx bytes the
    parse stage converted from a .doc/.wps beforehand); `pictures` are the pictures an HTML page
    shows by URL, by `src`."""
    doc = read_document(data, fmt, http_charset=http_charset, pictures=pictures)
    if reader is not None:
        doc.reader = reader
    report = extract_report(doc, title_hint=title_hint, ocr_min_confidence=ocr_min_confidence)
    if doc.pictures and _tables_missing(report):
        from pipeline.readers.ocr.document import add_pictures

        add_pictures(doc, doc.pictures)  # the missing tables may be pasted in as pictures
        if doc.reader == "ocr":
            report = extract_report(doc, title_hint=title_hint, ocr_min_confidence=ocr_min_confidence)
    return report


def _tables_missing(report: ParsedReport) -> bool:
    """Whether a statistics table is missing from what the text holds (a legacy report has none)."""
    if report.kind == KIND_LEGACY:
        return False
    return report.kind == KIND_NOT_A_REPORT or any(f.check == "missing_table" for f in report.findings)


def parse_file(path: Path, *, ocr_min_confidence: float | None = None) -> ParsedReport:
    """Parse a file by its extension; the OCR threshold defaults to the environment's."""
    fmt = format_for(path.name)
    if fmt is None:
        raise DocumentError(
            f"{path.name}: unknown file type "
            "(expected .docx, .doc, .wps, .html, .htm, .txt, .pdf, .png, .jpg, .jpeg or .gif)"
        )
    if ocr_min_confidence is None:
        ocr_min_confidence = min_confidence_from_env()
    data = path.read_bytes()
    linked = None
    if fmt == "html":  # a saved page's pictures beside it (report_files/image001.png)
        from pipeline.encoding import decode_html
        from pipeline.sources.links import parse_html
        from pipeline.sources.pictures import local_pictures

        tree = parse_html(decode_html(data, None)[0])
        linked = dict(local_pictures(path, tree, path.parent))
    return parse_document(data, fmt, ocr_min_confidence=ocr_min_confidence, pictures=linked)
