"""`python -m pipeline parse FILE [--json]`: what a user sees when one report looks wrong."""

import json
import subprocess
import sys
from pathlib import Path

from tests.synth import make_spec, render
from tests.truth import FIXTURES

ROOT = Path(__file__).resolve().parents[1]


def _parse(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "parse", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_text_output_shows_metadata_tables_and_findings():
    proc = _parse(str(FIXTURES / "corpus" / "t20220208_80613.htm"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "agency:    平潭综合实验区" in out and "year:      2021" in out and "template:  2021" in out
    assert "new_received" in out and "litigation_direct" in out and "fee_amount" in out
    assert "findings: none" in out


def test_json_output_is_the_parsed_report(tmp_path):
    rendering = render(make_spec(5, template="2019", break_identity="T3-A"), "docx", {"docx_vmerge_continue"})
    path = tmp_path / "report.docx"
    path.write_bytes(rendering.data)
    proc = _parse(str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["year"] == rendering.truth["year"] and report["template"] == "2019"
    cell = next(c for c in report["cells"] if c["row_code"] == "new_received" and c["column_code"] == "total")
    assert {"raw_text", "source_table", "source_row", "source_col"} <= set(cell)
    assert "T3-A" in {f["check"] for f in report["findings"]}


def test_unreadable_cells_are_shown_with_their_reason(tmp_path):
    path = tmp_path / "dump.txt"
    path.write_bytes(render(make_spec(3, template="2021"), "txt", {"text_run_together"}).data)
    proc = _parse(str(path))
    assert proc.returncode == 0, proc.stderr
    assert "??" in proc.stdout and "unreadable_cell" in proc.stdout and "cells run together" in proc.stdout


def test_broken_or_unsupported_file_is_one_line_and_exit_2(tmp_path):
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    missing = tmp_path / "missing.html"
    unknown = tmp_path / "report.xyz"
    unknown.write_text("x")
    for path in (broken, missing, unknown):
        proc = _parse(str(path))
        assert proc.returncode == 2
        assert proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
        assert "Traceback" not in proc.stderr
