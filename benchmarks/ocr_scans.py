"""OCR benchmark (README, Performance): every generated quirk scanned at 150 and 200 dpi, and the real
淮安 2024 report scanned at both, parsed by 2 worker processes; every cell compared with the truth.

    python -m benchmarks.ocr_scans [--dpi 150 200] [--quirks q1 q2 ...]

Each generated report (template 2021, one quirk, seed = its index) is printed by headless Chromium,
rasterised, worn (skew cycling through ±0.5…±2°, blur, noise, JPEG; a red seal on the last page of
every third) and packed as an image-only PDF (tests/synth/scan.py). Printed per resolution: cells,
% right, % unreadable, % missing and how many of those no finding names (as the row or table
missing), wrong values and wrong values on a report without an error (the number that must be 0),
wall seconds per page with 2 workers, and the largest peak RSS of a worker (two run at once).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.parse import parse_document  # noqa: E402
from tests.ocr_score import Score, score  # noqa: E402
from tests.synth import for_format, make_spec, render  # noqa: E402
from tests.synth.producers import chromium_pdf, missing  # noqa: E402
from tests.synth.scan import Wear, scan_pdf  # noqa: E402
from tests.truth import FIXTURES, load_truth  # noqa: E402

SKEWS = (0.5, -1.0, 1.5, -2.0, 2.0, -0.5)


def _parse(job: tuple[str, bytes, dict]) -> tuple[str, Score, int, float, float]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    name, pdf, truth = job
    start = time.perf_counter()
    try:
        report = parse_document(pdf, "pdf")
    except Exception as exc:  # a failed scan counts every cell missing
        print(f"  {name}: failed: {exc}", flush=True)
        s = Score()
        s.missing = len(truth["applications"]) * 7
        return name, s, 0, time.perf_counter() - start, _rss_mb()
    return name, score(report, truth), report.pages or 0, time.perf_counter() - start, _rss_mb()


def _rss_mb() -> float:
    """This worker's peak resident memory so far (MB): VmHWM, the peak of this process's own memory.
    (ru_maxrss is not: Linux carries it over fork and exec, so a worker would report its parent's.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpi", type=int, nargs="+", default=[150, 200])
    parser.add_argument("--quirks", nargs="*", default=None)
    args = parser.parse_args(argv)
    if missing("chromium"):
        print(missing("chromium"))
        return 2
    quirks = args.quirks or for_format("html")
    renderings = {q: render(make_spec(100 + i, template="2021"), "html", {q}) for i, q in enumerate(quirks)}
    start = time.perf_counter()
    pdfs = chromium_pdf({q: r.data for q, r in renderings.items()})
    print(f"printed {len(pdfs)} generated reports in {time.perf_counter() - start:.1f} s", flush=True)
    real = (FIXTURES / "corpus" / "huaian_szf_2024.pdf").read_bytes()
    for dpi in args.dpi:
        jobs = []
        for i, q in enumerate(quirks):
            wear = Wear(skew=SKEWS[i % len(SKEWS)], stamp=i % 3 == 2, seed=dpi + i)
            jobs.append((q, scan_pdf(pdfs[q], dpi=dpi, wear=wear), renderings[q].truth))
        huaian = scan_pdf(real, dpi=dpi, wear=Wear(skew=-1.5, stamp=True, seed=dpi))
        jobs.append(("淮安 2024", huaian, load_truth("huaian_szf_2024")))
        total, pages, peak = Score(), 0, 0.0
        start = time.perf_counter()
        # Fresh interpreters, as the pipeline's parse workers are (a forked one shares the generator's pages).
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            for name, s, n, seconds, rss in pool.map(_parse, jobs):
                peak = max(peak, rss)
                total.add(s)
                pages += n
                flag = f"  UNFLAGGED WRONG {s.unflagged}" if s.unflagged else ""
                print(
                    f"  {dpi} dpi {name:<24} {s.right}/{s.cells} right, {s.unreadable} unreadable, "
                    f"{s.missing} missing, {len(s.wrong)} wrong ({seconds:.1f} s){flag}",
                    flush=True,
                )
        wall = time.perf_counter() - start
        cells = max(1, total.cells)
        print(
            f"{dpi} dpi: {len(jobs)} scans, {pages} pages, {total.cells} cells: "
            f"{100 * total.right / cells:.2f} % right, {100 * total.unreadable / cells:.2f} % unreadable, "
            f"{100 * total.missing / cells:.2f} % missing, {len(total.unexplained)} of them not reported, "
            f"{len(total.wrong)} wrong, "
            f"{len(total.unflagged)} wrong without an error, {wall / max(1, pages):.2f} s/page wall "
            f"(2 workers), peak worker RSS {peak:.0f} MB",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
