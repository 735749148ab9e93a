"""The commands of CONTRACT.md, as an operator runs them: subprocesses, exit status, terminal output."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120
    )


def test_python_m_pipeline_run_prints_progress_and_a_summary(corpus, tmp_path):
    data = tmp_path / "data"  # given by XXGK_DATA_DIR, the sources file by --sources: both ways in one run
    done = _run(
        [sys.executable, "-m", "pipeline", "run", "--sources", str(corpus)],
        ROOT,
        {"XXGK_DATA_DIR": str(data)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "jugezhuang: 2 found" in out  # progress from the stages
    assert "Summary" in out
    assert "documents  found 7 · fetched 7 (0 unchanged) · parsed 6 · failed 1" in out  # x.docx failed
    assert "sources    3 ok · 1 failed (missing)" in out
    assert "reports 7" in out
    assert (
        "checks     2 of 10 failed: parse_failures on parse[jugezhuang] (1 of 2 documents, WARN); "
        "identity_t4 on review_litigation (1 reports, WARN)"
    ) in out
    assert "parse jugezhuang: FAILED x.docx:" in out  # each failed document, on the terminal too
    assert "Run finished." in out
    assert len(pd.read_parquet(data / "warehouse" / "reports.parquet")) == 7


def test_a_bad_sources_file_is_a_failed_run(tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - name: Not Valid\n    path: x\n", encoding="utf-8")
    done = _run(
        [sys.executable, "-m", "pipeline", "run", "--sources", str(bad), "--data-dir", str(tmp_path)], ROOT
    )
    assert done.returncode == 2
    assert "Not Valid" in done.stderr


def test_dagster_definitions_validate(tmp_path):
    dagster = Path(sys.executable).with_name("dagster")
    done = _run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        ROOT,
        {"DAGSTER_HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_run_whose_steps_fail_exits_non_zero(corpus, tmp_path, capsys):
    from pipeline.__main__ import main

    data = tmp_path / "data"
    data.mkdir()
    (data / "warehouse").write_text("a file where the warehouse folder should be", encoding="utf-8")
    assert main(["run", "--sources", str(corpus), "--data-dir", str(data)]) == 1
    out = capsys.readouterr().out
    assert "Run FAILED" in out and "reports: FileExistsError" in out


def test_parse_delegates_to_the_parse_command(capsys):
    from pipeline.__main__ import main

    seed = ROOT / "tests" / "fixtures" / "corpus" / "000_7085f7ec705a095f.txt"
    assert main(["parse", str(seed)]) == 0
    assert "巨各庄镇" in capsys.readouterr().out
