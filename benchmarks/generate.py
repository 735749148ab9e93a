"""Write a synthetic corpus: reports in html / docx / txt, both template versions, with truth beside each.

    python -m benchmarks.generate --n 10000 --out DIR --seed 1 [--formats html,docx,txt] [--jobs N]
    python -m benchmarks.generate --samples      # rewrite the bundled samples (SAMPLES below)

Document i is `DIR/NNNNNN.<ext>` with its truth in `DIR/NNNNNN.json` (the corpus truth format of
shared/corpus/README.md plus `kind`, `format`, `unreadable`, `quirks`, `generator`). The mix:
~90 % reports (template chosen from the year as real reports do: 2019, 2021, some mixed), ~5 %
legacy reports (2008–2018), ~5 % documents that are not reports; formats in turn; each document
with a random set of the quirks of its format (0–6 of them); ~5 % with a broken identity.
Everything follows from --seed: the same command writes the same files.

Prints documents per second, overall and per format (generation only, and with writing).

`--samples` rewrites the bundled generated reports, data/sample/generated/*.docx, and their
truth in tests/fixtures/truth/generated/ (tests check that they still match the generator).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.synth import FORMATS, dumps_truth, make_spec, random_quirks, render

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "sample" / "generated"
SAMPLE_TRUTH_DIR = ROOT / "tests" / "fixtures" / "truth" / "generated"

#: The bundled generated samples: name → (seed, make_spec options, quirks).
SAMPLES: dict[str, tuple[int, dict, tuple[str, ...]]] = {
    # a district report in the 2019 format: extra rows in table 二 (其他对外管理服务事项 split into
    # 行政检查 / 行政确认 as in the seed, and 其他主动公开文件), signed changes,
    # vertical text, labels broken by line breaks
    "district_2019": (
        102,
        {"template": "2019", "level": "district", "year": 2020},
        ("extra_rows", "signed_change", "vertical_text", "label_br"),
    ),
    # a bureau report in the 2021 format: table 三 split with its label repeated, zeros left blank,
    # amounts with units, labels padded with spaces
    "bureau_2021": (
        101,
        {"template": "2021", "level": "bureau", "year": 2023},
        ("t3_split_label", "zero_blank", "amount_units", "label_spaces"),
    ),
    # a mixed-format city report: the 2021 table 二 with the 2019 single （六）其他处理 row; typos
    "city_mixed": (
        101,
        {"template": "mixed", "level": "city", "year": 2022, "mixed_variant": "proactive2021"},
        ("label_typos", "label_punct"),
    ),
    # a LibreOffice-written report: <w:vMerge w:val="continue"/> and w:gridBefore / w:gridAfter rows
    "town_libreoffice": (
        103,
        {"template": "2021", "level": "town", "year": 2024},
        ("docx_vmerge_continue", "docx_grid_before"),
    ),
    # a county report that publishes a broken identity (a table-四 total that is not the sum of its
    # parts), as real reports do: the demo's validation_issues and the T4 asset check show it
    "county_broken_t4": (
        104,
        {"template": "2021", "level": "district", "year": 2022, "break_identity": "T4"},
        ("zero_wu", "thousands_sep"),
    ),
}


#: Bundled legacy Word samples: written as .docx by the generator, saved as Word 97 .doc by LibreOffice.
LEGACY_DIR = ROOT / "data" / "sample" / "legacy"
LEGACY_SAMPLES: dict[str, tuple[int, dict, tuple[str, ...]]] = {
    # a town report of 2021 in the 2019 format, as older agencies still publish it: a .doc
    "town_2021_doc": (105, {"template": "2019", "level": "town", "year": 2021}, ("label_br", "zero_blank")),
}


def write_legacy_samples() -> None:
    from tests.synth.producers import libreoffice_convert

    LEGACY_DIR.mkdir(parents=True, exist_ok=True)
    for name, (seed, opts, quirks) in LEGACY_SAMPLES.items():
        document = f"data/sample/legacy/{name}.doc"
        r = render(make_spec(seed, **opts), "docx", quirks, document=document)
        r.truth["generator"]["make_spec"] = dict(opts)
        (ROOT / document).write_bytes(libreoffice_convert({name: r.data}, "doc")[name])
        (SAMPLE_TRUTH_DIR.parent / "legacy").mkdir(exist_ok=True)
        (SAMPLE_TRUTH_DIR.parent / "legacy" / f"{name}.json").write_text(
            dumps_truth(r.truth), encoding="utf-8"
        )
        print(f"{document}: {r.truth['agency']} {r.truth['year']} template {r.truth['template']}")


def write_samples() -> None:
    SAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    SAMPLE_TRUTH_DIR.mkdir(parents=True, exist_ok=True)
    for name, (seed, opts, quirks) in SAMPLES.items():
        document = f"data/sample/generated/{name}.docx"
        r = render(make_spec(seed, **opts), "docx", quirks, document=document)
        r.truth["generator"]["make_spec"] = dict(opts)
        (ROOT / document).write_bytes(r.data)
        (SAMPLE_TRUTH_DIR / f"{name}.json").write_text(dumps_truth(r.truth), encoding="utf-8")
        print(f"{document}: {r.truth['agency']} {r.truth['year']} template {r.truth['template']}")


def plan(seed: int, i: int, formats: tuple[str, ...]) -> tuple[str, dict, frozenset[str]]:
    """Format, make_spec options and quirks of document i (deterministic)."""
    rng = random.Random(f"xxgk-corpus:{seed}:{i}")
    fmt = formats[i % len(formats)]
    r = rng.random()
    kind = "report" if r < 0.9 else ("legacy" if r < 0.95 else "not_a_report")
    opts: dict = {"kind": kind}
    if kind == "report" and rng.random() < 0.05:
        opts["break_identity"] = True
    return fmt, opts, random_quirks(rng, fmt)


def make_one(seed: int, i: int, formats: tuple[str, ...]):
    fmt, opts, quirks = plan(seed, i, formats)
    spec = make_spec(seed * 1_000_003 + i, **opts)
    r = render(spec, fmt, quirks, document=f"{i:06d}.{fmt}")
    r.truth["generator"]["make_spec"] = {k: v for k, v in opts.items()}
    return fmt, r.data, r.truth


def _work(args) -> tuple[Counter, dict]:
    seed, start, stop, formats, out = args
    counts: Counter = Counter()
    spent: dict = defaultdict(float)
    for i in range(start, stop):
        t0 = time.perf_counter()
        fmt, data, truth = make_one(seed, i, formats)
        spent[fmt] += time.perf_counter() - t0
        if out is not None:
            (out / truth["document"]).write_bytes(data)
            (out / f"{i:06d}.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
        counts[fmt] += 1
    return counts, dict(spent)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="number of documents")
    p.add_argument("--out", type=Path, help="output folder (omit to time generation only)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--formats", default=",".join(FORMATS), help="comma-separated subset of html,docx,txt")
    p.add_argument("--jobs", type=int, default=1, help="worker processes")
    p.add_argument("--samples", action="store_true", help="rewrite the bundled samples and stop")
    args = p.parse_args(argv)
    if args.samples:
        write_samples()
        write_legacy_samples()
        return 0
    formats = tuple(f for f in args.formats.split(",") if f)
    if not formats or set(formats) - set(FORMATS):
        p.error(f"--formats must name some of {FORMATS}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    chunk = max(1, min(500, args.n // max(1, args.jobs * 4) or 1))
    tasks = [(args.seed, s, min(args.n, s + chunk), formats, args.out) for s in range(0, args.n, chunk)]
    counts: Counter = Counter()
    spent: dict = defaultdict(float)
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(_work, tasks))
    else:
        results = [_work(t) for t in tasks]
    for c, s in results:
        counts.update(c)
        for k, v in s.items():
            spent[k] += v
    wall = time.perf_counter() - t0
    total = sum(counts.values())
    where = f" into {args.out}" if args.out else ""
    print(f"{total} documents{where} in {wall:.1f} s: {total / wall:.0f} docs/s wall ({args.jobs} job(s))")
    for fmt in formats:
        if counts[fmt]:
            print(
                f"  {fmt:5s} {counts[fmt]:6d} docs, generation {counts[fmt] / spent[fmt]:7.0f} docs/s per core"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
