"""False alarms and misses of the narrative cross-check (pipeline.narrative) on every report we have.

    python -m benchmarks.narrative_check [--generated N]

Real reports: every document under tests/fixtures/corpus (the seed, the Pingtan pages, the 淮安 PDF),
parsed as the pipeline does. Generated reports: N specs × 3 formats with
random quirks, half stating the tables' numbers in their text ("agree"), half stating a wrong number of
applications received ("disagree"). Prints, per group: reports, statements read, statements compared,
agreeing, mismatches — on real and "agree" reports every mismatch is a false alarm (they print the
same numbers in text and table), on "disagree" reports the planted one must be found.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

from pipeline.narrative import compare
from pipeline.parse import extract_report, read_document
from pipeline.report import ParsedReport
from pipeline.store import format_for

ROOT = Path(__file__).resolve().parent.parent
REAL_DIR = ROOT / "tests" / "fixtures" / "corpus"  # the seed, the Pingtan pages (and listing), the PDF
SAMPLES_DIR = ROOT / "data" / "sample"  # the bundled generated .docx and .doc (seed and PDF: counted above)


def _count(counter: Counter, report: ParsedReport, paragraphs: list[str], planted: bool = False) -> None:
    counter["reports"] += 1
    for c in compare(report, paragraphs):
        counter["statements"] += 1
        if c.expected is None:
            continue
        counter["compared"] += 1
        counter["agree" if c.agrees else "mismatch"] += 1
        if planted and not c.agrees and c.statement.claim.name == "received":
            counter["planted_found"] += 1


def documents(counter: Counter, folder: Path, verbose: bool, exclude: tuple[str, ...] = ()) -> None:
    """Every readable document under `folder`, parsed as the pipeline does."""
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if any(part in path.parts for part in exclude):
                continue
            fmt = format_for(path.name) if path.is_file() else None
            if fmt not in ("docx", "html", "txt", "pdf", "doc"):
                continue
            try:
                doc = read_document(path.read_bytes(), fmt)
            except Exception:  # not a report page (a listing, a broken file): nothing to compare
                continue
            report = extract_report(doc)
            if verbose:
                for c in compare(report, doc.paragraphs):
                    print(f"  {path.name}: {c.statement.claim.name} {c.statement.value} table {c.expected}")
            _count(counter, report, doc.paragraphs)


def generated(counters: dict[str, Counter], n: int) -> None:
    from tests.synth import make_spec, random_quirks, render

    for seed in range(n):
        mode = "agree" if seed % 2 == 0 else "disagree"
        spec = make_spec(seed)
        spec.narrative = mode
        for fmt in ("html", "docx", "txt"):
            rendering = render(spec, fmt, random_quirks(random.Random(seed), fmt))
            doc = read_document(rendering.data, fmt)
            _count(counters[mode], extract_report(doc), doc.paragraphs, planted=mode == "disagree")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=200, help="generated specs (× 3 formats)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    real, samples = Counter(), Counter()
    documents(real, REAL_DIR, args.verbose)
    documents(samples, SAMPLES_DIR, args.verbose, exclude=("jugezhuang", "huaian"))
    gen = {"agree": Counter(), "disagree": Counter()}
    generated(gen, args.generated)
    print("| reports | documents | statements read | compared | agree | mismatch | planted found |")
    print("|---|---|---|---|---|---|---|")
    for name, c in (
        ("real: tests/fixtures/corpus (seed, 4 Pingtan pages, their listing, 淮安 PDF)", real),
        ("generated: data/sample (bundled .docx and .doc)", samples),
        ("generated, text agrees", gen["agree"]),
        ("generated, 收到 stated wrong", gen["disagree"]),
    ):
        planted = str(c["planted_found"]) if "disagree" in name or "wrong" in name else "—"
        print(
            f"| {name} | {c['reports']} | {c['statements']} | {c['compared']} | {c['agree']} | "
            f"{c['mismatch']} | {planted} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
