"""`python -m pipeline run` as a user runs it, for the tests that check a whole run end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_pipeline(sources: Path, data_dir: Path, *, timeout: float = 300) -> str:
    """Run the pipeline on `sources` into `data_dir`; its output. The run must succeed."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--sources", str(sources), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout
