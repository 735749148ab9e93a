"""Parse time per document and format, with docx2python's own read time as the .docx baseline.

    python -m benchmarks.parse_speed [DIR ...] [--repeat N]

Times `parse_document` (read + extract + identities: everything the parse stage does to a document) on
every .docx/.html/.htm/.txt file under the given folders (default: the corpus fixtures and the bundled
generated samples), N times each, and for .docx files also `docx2python(BytesIO)` alone on the same
bytes in the same run. Times are CPU time of this process (`time.process_time`: on a shared machine,
other work does not inflate them), the median of the N runs per file. Prints one line per format:
documents, median ms per document, documents/s on one core (1 / median).
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from pipeline.parse import parse_document
from pipeline.store import format_for

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIRS = [ROOT / "tests" / "fixtures" / "corpus", ROOT / "data" / "sample"]
FORMATS = ("docx", "html", "txt")


def _time(fn: Callable[[], object], repeat: int, clock: Callable[[], float] = time.process_time) -> float:
    """Median seconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        start = clock()
        fn()
        samples.append(clock() - start)
    return statistics.median(samples)


def _docx2python_read(data: bytes) -> None:
    from docx2python import docx2python

    with docx2python(io.BytesIO(data)) as doc:
        _ = doc.body


def files_in(dirs: Iterable[Path]) -> list[Path]:
    return [
        path
        for folder in dirs
        for path in sorted(folder.rglob("*"))
        if path.is_file() and format_for(path.name) in FORMATS
    ]


def measure(files: Iterable[Path], repeat: int = 3) -> dict[str, list[float]]:
    """Median CPU seconds per file: `parse_document` by format, and `docx2python` for .docx files."""
    out: dict[str, list[float]] = defaultdict(list)
    for path in files:
        fmt = format_for(path.name)
        data = path.read_bytes()
        parse_document(data, fmt)  # warm: imports, caches
        out[fmt].append(_time(lambda d=data, f=fmt: parse_document(d, f), repeat))
        if fmt == "docx":
            out["docx2python"].append(_time(lambda d=data: _docx2python_read(d), repeat))
    return dict(out)


def summary(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Per format: documents, median ms per document, documents/s per core; and the docx ratio."""
    out: dict[str, dict[str, float]] = {}
    for fmt, samples in sorted(times.items()):
        med = statistics.median(samples)
        out[fmt] = {"documents": len(samples), "median_ms": med * 1000, "per_core": 1 / med if med else 0.0}
    if times.get("docx") and times.get("docx2python"):
        out["docx_ratio"] = {
            "ratio": statistics.median(times["docx"]) / statistics.median(times["docx2python"])
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=DEFAULT_DIRS)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    result = summary(measure(files_in(args.dirs), args.repeat))
    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.system()}, "
        f"Python {platform.python_version()}, one core (single process, CPU time)"
    )
    print(f"{'format':<22} {'docs':>5} {'median ms/doc':>14} {'docs/s':>9}")
    for fmt, row in result.items():
        if fmt == "docx_ratio":
            continue
        label = "docx2python read" if fmt == "docx2python" else f"xxgk {fmt}"
        print(f"{label:<22} {row['documents']:>5.0f} {row['median_ms']:>14.2f} {row['per_core']:>9.1f}")
    if "docx_ratio" in result:
        print(f"xxgk docx / docx2python read time: {result['docx_ratio']['ratio']:.2f}x (target <= 1.25x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
