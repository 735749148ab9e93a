"""Every number in the data tables traces to the exact printed cell of the exact bytes it came from.

After a real run over the bundled sources (the seed text dump, the Pingtan pages crawled from the
mirror, generated .docx files), values are sampled from each data table; each is looked up in
cells.parquet, the document's bytes are taken from the raw store by content hash, read again, and the
cell at (source_table, source_row, source_col) must print the recorded raw text and read as the value.
"""

import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.parse import read_document
from pipeline.store import RawStore
from pipeline.values import read_amount, read_count

ROOT = Path(__file__).resolve().parents[1]
KEYS = {
    "applications": ("row_code", None),
    "review_litigation": ("proceeding", None),
    "proactive_disclosure": ("category_code", "metric_code"),
}
APP_COLS = [
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
    "total",
]
REVIEW_COLS = ["upheld", "corrected", "other", "pending", "total"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    data = tmp_path_factory.mktemp("lineage") / "data"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--sources",
            str(ROOT / "data" / "sources.yaml"),
            "--data-dir",
            str(data),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tables = {t: pd.read_parquet(data / "warehouse" / f"{t}.parquet") for t in ("reports", "cells", *KEYS)}
    return data, tables


def _samples(tables: dict, rng: random.Random) -> list[tuple[str, str, str, str, float]]:
    """(table, report_id, row_code, column_code, value) for up to 40 printed values per data table."""
    out = []
    for row in tables["applications"].itertuples():
        out += [("applications", row.report_id, row.row_code, c, getattr(row, c)) for c in APP_COLS]
    for row in tables["review_litigation"].itertuples():
        out += [("review_litigation", row.report_id, row.proceeding, c, getattr(row, c)) for c in REVIEW_COLS]
    for row in tables["proactive_disclosure"].itertuples():
        out.append(
            (
                "proactive_disclosure",
                row.report_id,
                row.category_label if pd.isna(row.category_code) else row.category_code,
                row.metric_code,
                row.value,
            )
        )
    by_table: dict[str, list] = {}
    for s in out:
        by_table.setdefault(s[0], []).append(s)
    return [s for items in by_table.values() for s in rng.sample(items, min(40, len(items)))]


def test_sampled_values_trace_to_their_printed_cell(run):
    data, tables = run
    store = RawStore(data / "raw")
    reports = tables["reports"].set_index("report_id")
    cells = tables["cells"].set_index(["report_id", "table", "row_code", "column_code"]).sort_index()
    documents: dict[str, object] = {}
    samples = _samples(tables, random.Random(3))
    assert {s[0] for s in samples} == set(KEYS) and len(samples) >= 100
    for table, report_id, row_code, column_code, value in samples:
        matches = cells.loc[[(report_id, table, row_code, column_code)]]
        assert len(matches) == 1  # exactly one printed cell per value
        cell = matches.iloc[0]
        report = reports.loc[report_id]
        if report_id not in documents:
            raw = store.get(report.content_sha256)
            documents[report_id] = read_document(raw, report.format)
        doc = documents[report_id]
        grid = doc.tables[int(cell.source_table)].grid
        printed = grid[int(cell.source_row)][int(cell.source_col)]
        assert printed.text == cell.raw_text, (report_id, table, row_code, column_code)
        reading = (
            read_amount(printed.text)
            if column_code in ("fee_amount", "procurement_amount")
            else (read_count(printed.text, signed=True))
        )
        expected = None if pd.isna(value) else float(value)
        if column_code not in ("fee_amount", "procurement_amount"):
            assert reading.value == expected, (report_id, table, row_code, column_code, printed.text)
        assert (None if pd.isna(cell.value) else cell.value) == expected


def test_cells_hold_every_value_of_the_data_tables(run):
    _, tables = run
    cells = tables["cells"]
    counts = cells.groupby("table").size()
    assert counts["applications"] >= len(tables["applications"]) * len(APP_COLS)
    assert counts["review_litigation"] == len(tables["review_litigation"]) * len(REVIEW_COLS)
    assert counts["proactive_disclosure"] >= len(tables["proactive_disclosure"])
