"""Parse time per document and format, with docx2python's own read time as the .docx baseline.

    python -m benchmarks.parse_speed [DIR ...] [--repeat N]

Times `parse_document` (read + extract + identities) on every .docx/.html/.htm/.txt file under the
given folders (default: the corpus fixtures and the bundled generated samples), N times each, and
for .docx files also `docx2python(BytesIO)` alone on the same bytes in the same run. Prints one
line per format: documents, median ms per document, documents/s on one core.
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from pipeline.parse import parse_document
from pipeline.store import format_for

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIRS = [ROOT / "tests" / "fixtures" / "corpus", ROOT / "data" / "sample"]


def _time(fn, repeat: int) -> float:
    """Median seconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _docx2python_read(data: bytes) -> None:
    from docx2python import docx2python

    with docx2python(io.BytesIO(data)) as doc:
        _ = doc.body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=DEFAULT_DIRS)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    per_format: dict[str, list[float]] = defaultdict(list)
    baseline: list[float] = []
    for folder in args.dirs:
        for path in sorted(folder.rglob("*")):
            fmt = format_for(path.name)
            if fmt not in ("docx", "html", "txt") or not path.is_file():
                continue
            data = path.read_bytes()
            per_format[fmt].append(_time(lambda d=data, f=fmt: parse_document(d, f), args.repeat))
            if fmt == "docx":
                baseline.append(_time(lambda d=data: _docx2python_read(d), args.repeat))

    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.system()}, "
        f"Python {platform.python_version()}, one core (single process)"
    )
    print(f"{'format':<22} {'docs':>5} {'median ms/doc':>14} {'docs/s':>9}")
    for fmt, times in sorted(per_format.items()):
        med = statistics.median(times)
        print(f"{'xxgk ' + fmt:<22} {len(times):>5} {med * 1000:>14.2f} {1 / med:>9.1f}")
    if baseline:
        med = statistics.median(baseline)
        print(f"{'docx2python read':<22} {len(baseline):>5} {med * 1000:>14.2f} {1 / med:>9.1f}")
        ratio = statistics.median(per_format["docx"]) / med
        print(f"xxgk docx / docx2python read time: {ratio:.2f}x (target <= 1.25x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
