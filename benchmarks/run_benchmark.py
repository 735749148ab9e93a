"""The scale benchmark: a full run of `python -m pipeline run` on N generated reports, then a no-change rerun.

    python -m benchmarks.run_benchmark --n 10000 [--pdf 2000] [--doc 500] [--workdir DIR] [--seed 1] [--sample 40]

1. Generates N synthetic reports (benchmarks.generate: html / docx / txt in turn, both template versions,
   legacy reports and non-reports) into WORKDIR/docs, moves their truth JSON to WORKDIR/truth (the path
   source would skip .json anyway), and writes WORKDIR/sources.yaml: one path source on that folder.
   An existing WORKDIR/docs made with the same N and seed is reused. `--pdf`/`--doc` replace that many
   of the N by PDFs and Word 97 .docs printed by LibreOffice (benchmarks.paged).
2. Runs `python -m pipeline run` as a subprocess on a fresh data dir (WORKDIR/data): the full run. Then
   again with nothing new: the no-change rerun.
3. Times each stage from the progress lines the run prints (each line is timestamped as it arrives),
   and measures, for each run:
   - wall time of the subprocess;
   - CPU time (user + system) of the run and every process it started (getrusage(RUSAGE_CHILDREN)
     before and after: the parse workers are included, being waited for);
   - peak memory of the process tree (the run and its parse workers): the sum of their RSS, sampled from
     /proc every 0.25 s (an upper bound: pages shared between processes count once per process; a
     peak shorter than the interval can be missed), and the largest single process (ru_maxrss);
   - the machine: load average before and after, and the CPU time other processes used while it ran
     (/proc/stat busy time minus the run's own), since the machine may be shared.
4. Measures parse + normalize (`parse_document`) per format on a sample of the generated files
   (CPU time, median of 3 per file, in this process: benchmarks.parse_speed), docx2python's read time
   on the same .docx files.
5. Prints a markdown table and writes WORKDIR/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import parse_speed

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "bench"
TARGETS = {
    "full_run_s": 600.0,
    "peak_memory_mb": 2048.0,
    "rerun_s": 30.0,
    "html_per_core": 200.0,
    "txt_per_core": 200.0,
    "docx_ratio": 1.25,
}


# ---------------------------------------------------------------------------------------------- machine


def machine() -> dict[str, object]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(ram_gb, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def _loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def _busy_seconds() -> float | None:
    """CPU seconds all processors spent busy since boot (/proc/stat)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------------- memory


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _tree(root: int) -> list[int]:
    """`root` and every process below it."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += _children(pid)
    return out


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _rss_kb(pid: int) -> int:
    """Resident set size of one process in kB (0 when it is gone). From /proc/<pid>/statm: a counter
    read, unlike smaps (PSS), which walks the process's page tables and, sampled often, slows it down."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KB
    except (OSError, ValueError, IndexError):
        return 0


class MemorySampler(threading.Thread):
    """Samples the process tree of `pid` until stopped; keeps the peak of the sum of RSS."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss_kb = self.peak_processes = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            pids = _tree(self.pid)
            self.peak_rss_kb = max(self.peak_rss_kb, sum(_rss_kb(p) for p in pids))
            self.peak_processes = max(self.peak_processes, len(pids))
            self.stop.wait(self.interval)


# ---------------------------------------------------------------------------------------------- a run

_MARKERS = [
    ("start", re.compile(r"^xxgk run: ")),
    ("scraped", re.compile(rf"^  {SOURCE}: \d+ found")),
    ("parse_started", re.compile(rf"^  parse {SOURCE}: \d+ documents to parse")),
    ("parser_cpu", re.compile(rf"^  parse {SOURCE}: (\d+) parsed in ([\d.]+) s, ([\d.]+) s of parser CPU")),
    ("parsed", re.compile(rf"^  parse {SOURCE}: (\d+) documents — (\d+) parsed now")),
    ("validated", re.compile(r"^  validate: ")),
    ("table", re.compile(r"^  (\w+): (\d+) rows → ")),
    ("summary", re.compile(r"^Summary")),
]


def run_pipeline(sources: Path, data: Path, env: dict[str, str], log: Path) -> dict[str, object]:
    """One `python -m pipeline run`: wall and CPU time, peak memory, stage times, the machine's load."""
    before_cpu, before_busy, load_before = _children_cpu(), _busy_seconds(), _loadavg()
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--sources", str(sources), "--data-dir", str(data)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    sampler = MemorySampler(proc.pid)
    sampler.start()
    marks: dict[str, float] = {}
    tables: dict[str, float] = {}
    parsed_now, parser_cpu = 0, 0.0
    with log.open("w", encoding="utf-8") as out:
        assert proc.stdout is not None
        for line in proc.stdout:
            at = time.monotonic() - start
            out.write(f"{at:8.2f} {line}")
            for name, pattern in _MARKERS:
                match = pattern.match(line)
                if not match:
                    continue
                if name == "table":
                    tables[match.group(1)] = at
                else:
                    marks.setdefault(name, at)
                    if name == "parsed":
                        parsed_now = int(match.group(2))
                    elif name == "parser_cpu":
                        parser_cpu = float(match.group(3))
    code = proc.wait()
    wall = time.monotonic() - start
    sampler.stop.set()
    sampler.join()
    cpu = _children_cpu() - before_cpu
    busy = _busy_seconds()
    others = max(0.0, busy - before_busy - cpu) if busy is not None and before_busy is not None else None
    stages = _stages(marks, tables, wall)
    return {
        "exit_code": code,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_sum_mb": sampler.peak_rss_kb / 1024,
        "largest_process_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "processes": sampler.peak_processes,
        "parsed_now": parsed_now,
        "parser_cpu_s": parser_cpu,
        "stages": stages,
        "load_before": load_before,
        "load_after": _loadavg(),
        "other_cpu_s": others,
    }


def _stages(marks: dict[str, float], tables: dict[str, float], wall: float) -> dict[str, float]:
    """Seconds per stage, from the timestamps of the progress lines."""
    out: dict[str, float] = {}
    points = [("startup", "start"), ("scrape", "scraped"), ("parse", "parsed"), ("validate", "validated")]
    previous = 0.0
    for stage, mark in points:
        if mark in marks:
            out[stage] = marks[mark] - previous
            previous = marks[mark]
    if "parse_started" in marks and "parsed" in marks:
        out["parse_workers"] = marks["parsed"] - marks["parse_started"]  # the pool's part of the parse
    if tables:
        out["tables"] = max(tables.values()) - previous
        previous = max(tables.values())
    out["checks_and_summary"] = wall - previous
    return out


# ---------------------------------------------------------------------------------------------- corpus


def corpus(workdir: Path, n: int, seed: int, jobs: int) -> tuple[Path, float | None]:
    """WORKDIR/docs with N generated reports (reused when already there); seconds spent generating."""
    docs, truth, stamp = workdir / "docs", workdir / "truth", workdir / "corpus.json"
    wanted = {"n": n, "seed": seed}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted and docs.is_dir():
        return docs, None
    shutil.rmtree(docs, ignore_errors=True)
    shutil.rmtree(truth, ignore_errors=True)
    from benchmarks import generate

    start = time.monotonic()
    generate.main(["--n", str(n), "--out", str(docs), "--seed", str(seed), "--jobs", str(jobs)])
    truth.mkdir(parents=True)
    for path in docs.glob("*.json"):  # truth, not documents: out of the source folder
        path.rename(truth / path.name)
    stamp.write_text(json.dumps(wanted))
    return docs, time.monotonic() - start


def sample_files(docs: Path, per_format: int) -> list[Path]:
    by_format: dict[str, list[Path]] = {}
    for path in sorted(docs.iterdir()):
        by_format.setdefault(path.suffix.lstrip("."), []).append(path)
    return [p for fmt in parse_speed.FORMATS for p in by_format.get(fmt, [])[:per_format]]


# ---------------------------------------------------------------------------------------------- report


def _met(value: float | None, target: float, lower_is_better: bool) -> str:
    if value is None:
        return "?"
    return "yes" if (value <= target if lower_is_better else value >= target) else "**no**"


def report(results: dict) -> str:
    full, rerun, fmt, info = results["full"], results["rerun"], results["formats"], results["machine"]
    n = results["n"]
    workers = results["workers"]
    per_core = full["parsed_now"] / full["parser_cpu_s"] if full["parser_cpu_s"] else None
    peak = full["peak_rss_sum_mb"]
    lines = [
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['ram_gb']} GB RAM, Python {info['python']}, "
        f"{info['system']}; parse workers: {workers}.",
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| full run, {n} documents (wall) | {full['wall_s']:.0f} s | < 600 s | "
        f"{_met(full['wall_s'], TARGETS['full_run_s'], True)} |",
        f"| full run, peak memory of the process tree (sum of RSS) | {peak:.0f} MB | < 2048 MB | "
        f"{_met(peak, TARGETS['peak_memory_mb'], True)} |",
        f"| no-change rerun (wall) | {rerun['wall_s']:.1f} s | < 30 s | {_met(rerun['wall_s'], 30, True)} |",
        f"| html parse + normalize, per core (CPU time) | {fmt['html']['per_core']:.0f} docs/s | ≥ 200 | "
        f"{_met(fmt['html']['per_core'], 200, False)} |",
        f"| txt parse + normalize, per core (CPU time) | {fmt['txt']['per_core']:.0f} docs/s | ≥ 200 | "
        f"{_met(fmt['txt']['per_core'], 200, False)} |",
        f"| docx parse / docx2python read (CPU time) | {fmt['docx_ratio']['ratio']:.2f}× | ≤ 1.25× | "
        f"{_met(fmt['docx_ratio']['ratio'], 1.25, True)} |",
        "",
        "| run | wall | CPU (all processes) | peak RSS sum / largest process | parse stage | "
        "parser CPU | load before → after | other processes' CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, run in (("full", full), ("no-change rerun", rerun)):
        stage = run["stages"].get("parse", 0.0)
        rate = (
            f"{run['parser_cpu_s']:.0f} s ({run['parsed_now'] / run['parser_cpu_s']:.1f} docs/s per core)"
            if run["parser_cpu_s"]
            else "—"
        )
        others = f"{run['other_cpu_s']:.0f} s" if run["other_cpu_s"] is not None else "?"
        lines.append(
            f"| {name} | {run['wall_s']:.1f} s | {run['cpu_s']:.1f} s | {run['peak_rss_sum_mb']:.0f} / "
            f"{run['largest_process_mb']:.0f} MB | {stage:.1f} s "
            f"({run['parsed_now']} parsed) | {rate} | {'/'.join(f'{x:.2f}' for x in run['load_before'])} → "
            f"{'/'.join(f'{x:.2f}' for x in run['load_after'])} | {others} |"
        )
    lines += ["", "| stage | full run | no-change rerun |", "|---|---|---|"]
    labels = {
        "startup": "start (until the first line)",
        "scrape": "scrape (and loading Dagster)",
        "parse": "parse",
        "parse_workers": "… of which the worker pool",
        "validate": "validate (snapshot)",
        "tables": "six tables",
        "checks_and_summary": "asset checks, summary, exit",
    }
    for stage, label in labels.items():
        a, b = full["stages"].get(stage), rerun["stages"].get(stage)
        lines.append(
            f"| {label} | {'—' if a is None else f'{a:.1f} s'} | {'—' if b is None else f'{b:.1f} s'} |"
        )
    lines += [
        "",
        "| format (sample) | documents | median ms/doc (CPU) | docs/s per core |",
        "|---|---|---|---|",
    ]
    for name in ("html", "txt", "docx", "docx2python"):
        if name in fmt:
            row = fmt[name]
            lines.append(
                f"| {name} | {row['documents']:.0f} | {row['median_ms']:.2f} | {row['per_core']:.1f} |"
            )
    if per_core is not None:
        lines += [
            "",
            f"Parse stage: {full['parsed_now']} documents in {full['stages'].get('parse_workers', 0):.0f} s "
            f"on {workers} workers; {per_core:.1f} documents per CPU second of the parsers (all formats).",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="number of generated documents")
    p.add_argument(
        "--workdir", type=Path, help="where the corpus, data dir and logs go (default: a new temp dir)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes generating the corpus")
    p.add_argument("--sample", type=int, default=40, help="files per format for the per-format numbers")
    p.add_argument(
        "--pdf", type=int, default=0, help="of the N documents, this many PDFs (LibreOffice-printed)"
    )
    p.add_argument("--doc", type=int, default=0, help="of the N documents, this many Word 97 .doc files")
    args = p.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="xxgk-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"benchmark in {workdir}", flush=True)
    docs, generated = corpus(workdir, args.n - args.pdf - args.doc, args.seed, args.jobs)
    if args.pdf or args.doc:
        from benchmarks.paged import add_paged

        for old in docs.glob("paged-*"):
            old.unlink()
        print(f"  paged documents: {add_paged(docs, args.pdf, args.doc, seed=args.seed)}", flush=True)
    sources = workdir / "sources.yaml"
    sources.write_text(
        f"sources:\n  - name: {SOURCE}\n    region: 基准省\n    path: {docs}\n", encoding="utf-8"
    )
    data = workdir / "data"
    shutil.rmtree(data, ignore_errors=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    workers = int(env.get("XXGK_PARSE_WORKERS") or os.cpu_count() or 1)

    print(f"full run on {args.n} documents …", flush=True)
    full = run_pipeline(sources, data, env, workdir / "full.log")
    print(f"  {full['wall_s']:.1f} s (exit {full['exit_code']}); no-change rerun …", flush=True)
    rerun = run_pipeline(sources, data, env, workdir / "rerun.log")
    print(f"  {rerun['wall_s']:.1f} s (exit {rerun['exit_code']}); per-format numbers …", flush=True)
    formats = parse_speed.summary(parse_speed.measure(sample_files(docs, args.sample), repeat=3))
    results = {
        "n": args.n,
        "seed": args.seed,
        "workers": workers,
        "generated_s": generated,
        "machine": machine(),
        "full": full,
        "rerun": rerun,
        "formats": formats,
    }
    (workdir / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print()
    print(report(results))
    print(f"\nlogs: {workdir / 'full.log'}, {workdir / 'rerun.log'}; results: {workdir / 'results.json'}")
    return 0 if full["exit_code"] == 0 and rerun["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
