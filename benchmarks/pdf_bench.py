"""PDF and legacy Word: exactness over every quirk and producer, speed per page, conversion time.

    python -m benchmarks.pdf_bench [--speed-only] [--sweep-only]

Sweep: every quirk of the generator × the three templates, printed by Chromium (from HTML) and by
LibreOffice (from .docx: to PDF and to Word 97 .doc, the .doc read back through pipeline.convert).
For each document: exact (every metadata field and cell as the truth), and every value compared
cell by cell: right, null where the truth has a number, or wrong; a wrong value "silent" when its
report carries no error or warning finding.

Speed: CPU time (`time.process_time`, median of 3) of `parse_document` per page, against
pdfplumber's own `extract_tables()` + `extract_text()` on the same pages, for the real 淮安 PDF and
LibreOffice/Chromium-printed reports; .doc conversion + parse per document, one at a time (a cold
LibreOffice start each) and in one batch (pipeline.convert's way).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections import Counter
from pathlib import Path

from pipeline.convert import Converter
from pipeline.parse import parse_document
from tests.synth import QUIRKS, make_spec, render
from tests.synth.producers import chromium_pdf, libreoffice_convert
from tests.truth import APP_COLS, OUTCOMES, assert_matches_truth

ROOT = Path(__file__).resolve().parent.parent
HUAIAN = ROOT / "tests" / "fixtures" / "corpus" / "huaian_szf_2024.pdf"
TEMPLATES = ("2019", "2021", "mixed")


def _cases(src: str) -> dict[str, object]:
    out = {}
    for quirk, q in sorted(QUIRKS.items()):
        if src not in q.formats:
            continue
        for template in TEMPLATES:
            seed = sum(map(ord, quirk + src + template))
            out[f"{quirk}/{template}"] = render(make_spec(seed, template=template), src, {quirk})
    return out


def _cell_tally(report, truth: dict) -> Counter:
    """right / null / wrong over table 三 and 四 values the truth has."""
    tally: Counter = Counter()
    got = {(c.table, c.row_code, c.column_code): c.value for c in report.cells}
    for row, values in truth["applications"].items():
        for col, want in zip(APP_COLS, values, strict=True):
            have = got.get(("applications", row, col))
            tally[_judge(have, want)] += 1
    for proc, values in truth["review_litigation"].items():
        for col, want in zip(OUTCOMES, values, strict=True):
            tally[_judge(got.get(("review_litigation", proc, col)), want)] += 1
    for p in truth["proactive"]:
        match = [
            c.value
            for c in report.cells_of("proactive_disclosure")
            if c.article_item == p["article_item"]
            and (c.category_code or "") == (p["category_code"] or "")
            and (p["category_code"] or c.row_label == p["category_label"])
            and c.column_code == p["metric_code"]
        ]
        tally[_judge(match[0] if match else None, p["value"])] += 1
    return tally


def _judge(have: float | None, want: float | None) -> str:
    if want is None:
        return "right" if have is None else "wrong"
    if have is None:
        return "null"
    return "right" if abs(have - float(want)) < 1e-6 else "wrong"


def sweep() -> None:
    producers = {
        "chromium pdf": (_cases("html"), lambda docs: chromium_pdf(docs), "pdf"),
        "libreoffice pdf": (_cases("docx"), lambda docs: libreoffice_convert(docs, "pdf"), "pdf"),
        "libreoffice doc": (_cases("docx"), lambda docs: libreoffice_convert(docs, "doc"), "doc"),
    }
    print("| producer | documents | exact | cells right | null | wrong | wrong without an error/warning |")
    print("|---|---|---|---|---|---|---|")
    for name, (cases, produce, fmt) in producers.items():
        printed = produce({k: r.data for k, r in cases.items()})
        if fmt == "doc":
            with Converter() as converter:
                converted = converter.convert({k: (v, "doc") for k, v in printed.items()})
        exact, tally, silent, failures = 0, Counter(), 0, []
        for key, rendering in cases.items():
            if fmt == "doc":
                report = parse_document(converted[key], "docx", reader="doc")
            else:
                report = parse_document(printed[key], fmt)
            try:
                assert_matches_truth(report, rendering.truth)
                exact += 1
            except AssertionError:
                failures.append(key)
            t = _cell_tally(report, rendering.truth)
            tally += t
            flagged = any(f.severity in ("error", "warning") for f in report.findings)
            if t["wrong"] and not flagged:
                silent += t["wrong"]
        total = sum(tally.values())
        print(
            f"| {name} | {len(cases)} | {exact} | {tally['right']} of {total} ({100 * tally['right'] / total:.2f} %) "
            f"| {tally['null']} | {tally['wrong']} | {silent} |"
        )
        if failures:
            print(f"  not exact: {', '.join(failures)}")


def _cpu(fn, repeat: int = 3) -> float:
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        samples.append(time.process_time() - start)
    return statistics.median(samples)


def _pdfplumber_baseline(data: bytes) -> tuple[float, int]:
    import pdfplumber

    def run() -> None:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages:
                page.extract_tables()
                page.extract_text()

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = len(pdf.pages)
    return _cpu(run), pages


def speed() -> None:
    samples = {"淮安 2024 (real, WPS)": HUAIAN.read_bytes()}
    docx = {f"g{i}": render(make_spec(60 + i, template=TEMPLATES[i % 3]), "docx").data for i in range(4)}
    for key, data in libreoffice_convert(docx, "pdf").items():
        samples[f"generated {key} (LibreOffice)"] = data
    html = {f"g{i}": render(make_spec(70 + i, template=TEMPLATES[i % 3]), "html").data for i in range(2)}
    for key, data in chromium_pdf(html).items():
        samples[f"generated {key} (Chromium)"] = data
    print("| PDF | pages | xxgk ms/page | pdfplumber extract_tables+extract_text ms/page | ratio |")
    print("|---|---|---|---|---|")
    ours_all, ratios = [], []
    for name, data in samples.items():
        ours = _cpu(lambda d=data: parse_document(d, "pdf"))
        base, pages = _pdfplumber_baseline(data)
        ours_all.append(1000 * ours / pages)
        ratios.append(ours / base)
        print(
            f"| {name} | {pages} | {1000 * ours / pages:.0f} | {1000 * base / pages:.0f} | {ours / base:.2f} |"
        )
    print(
        f"\nmedian {statistics.median(ours_all):.0f} ms/page; ratio to pdfplumber median {statistics.median(ratios):.2f}"
    )

    docs = libreoffice_convert(docx, "doc")
    start = time.perf_counter()
    for data in docs.values():
        parse_document(data, "doc")
    cold = (time.perf_counter() - start) / len(docs)
    start = time.perf_counter()
    with Converter() as converter:
        converted = converter.convert({k: (v, "doc") for k, v in docs.items()})
    for data in converted.values():
        parse_document(data, "docx", reader="doc")
    batch = (time.perf_counter() - start) / len(docs)
    print(
        f"\n.doc conversion + parse, wall per document: {cold:.2f} s one at a time (cold LibreOffice each), "
        f"{batch:.2f} s in one batch of {len(docs)}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--speed-only", action="store_true")
    p.add_argument("--sweep-only", action="store_true")
    args = p.parse_args(argv)
    if not args.sweep_only:
        speed()
    if not args.speed_only:
        print()
        sweep()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
