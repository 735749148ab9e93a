"""A parsed report: metadata plus canonical cells, each traceable to its place in the document.

This is what `python -m pipeline parse --json` prints and what the parse cache stores; the
output tables are built from it. It round-trips through plain JSON (`to_dict` / `from_dict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Document kinds
KIND_REPORT = "report"
KIND_LEGACY = "legacy"
KIND_NOT_A_REPORT = "not_a_report"


@dataclass(slots=True)
class Cell:
    """One value cell of a canonical table.

    `value` is None when the cell is blank / not applicable, or when it is unreadable — then
    `unreadable` holds the reason. `source_*` are the 0-based position of the printed cell in
    the document's own table grid.
    """

    table: str  # proactive_disclosure | applications | review_litigation
    row_code: str  # row code / proceeding / category_code (or printed label when not a template row)
    column_code: str  # column code / outcome / metric_code
    raw_text: str
    value: float | None
    source_table: int
    source_row: int
    source_col: int
    unreadable: str | None = None
    row_label: str | None = None  # label as printed, whitespace removed
    article_item: int | None = None  # table 二 only
    category_code: str | None = None  # table 二 only; None for rows the template does not have
    unit: str | None = None  # table 二 only: count | 10k_yuan
    source_page: int | None = None  # 1-based page of a paged document (pdf, scans)
    confidence: float | None = None  # OCR recognition confidence (0–1); None where no OCR was involved
    box: list[float] | None = None  # OCR'd cells: [x0, y0, x1, y1] in pixels of the page image

    def position(self) -> str:
        """Where the cell was printed, as messages name it: table, row, col (and page)."""
        where = f"table {self.source_table} row {self.source_row} col {self.source_col}"
        return f"{where} (page {self.source_page})" if self.source_page is not None else where


@dataclass(slots=True)
class Finding:
    """A failed check or a reading problem, destined for validation_issues."""

    check: str
    scope: str
    expected: float | None
    actual: float | None
    severity: str
    message: str


@dataclass(slots=True)
class ParsedReport:
    title: str | None = None
    agency: str | None = None
    year: int | None = None
    template: str = "unknown"  # 2019 | 2021 | mixed | legacy | unknown
    kind: str = KIND_NOT_A_REPORT
    tables_found: list[str] = field(default_factory=list)
    table_versions: dict[str, str] = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    reader: str | None = None  # what read the values: docx, html, txt, pdf, doc, ocr
    pages: int | None = None  # page count of a paged document

    def cells_of(self, table: str) -> list[Cell]:
        return [c for c in self.cells if c.table == table]

    def value(self, table: str, row_code: str, column_code: str) -> Cell | None:
        for c in self.cells:
            if c.table == table and c.row_code == row_code and c.column_code == column_code:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ParsedReport:
        d = dict(d)
        d["cells"] = [Cell(**c) for c in d.get("cells", [])]
        d["findings"] = [Finding(**f) for f in d.get("findings", [])]
        return cls(**d)
