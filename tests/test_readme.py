"""The README's code runs: its pandas and DuckDB examples against a real warehouse, its commands exist."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder with data/warehouse/ written by `python -m pipeline run` on the bundled sources."""
    work = tmp_path_factory.mktemp("readme")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--sources",
            str(ROOT / "data" / "sources.yaml"),
            "--data-dir",
            str(work / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return work


@pytest.mark.parametrize("index", range(len(re.findall(r"```python\n", README))))
def test_readme_python_examples_run(workdir, index, monkeypatch, capsys):
    code = re.findall(r"```python\n(.*?)```", README, flags=re.S)[index]
    monkeypatch.chdir(workdir)
    exec(compile(code, f"README.md example {index}", "exec"), {})
    out = capsys.readouterr().out
    assert "巨各庄镇" in out or "平潭综合实验区" in out or "check" in out


def test_readme_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in re.findall(r"^\s+make (\w[\w-]*)", README, flags=re.M):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
