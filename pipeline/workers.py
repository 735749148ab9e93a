"""Parsing in a pool of worker processes, each document bounded in time and memory.

The parse stage hands its documents to `parse_jobs`, which yields one `Outcome` per job as they
finish (in completion order). With `workers > 1` each document is parsed in a worker process:

- a document that takes longer than `timeout` seconds is recorded as failed ("parse exceeded 60 s"),
  its worker is killed and replaced;
- each worker's address space is capped (`resource.setrlimit(RLIMIT_AS)`, `memory_mb`): a document
  that needs more fails with "parse exceeded memory limit (1500 MB)" and its worker is replaced; a
  worker that dies otherwise (a crash, the kernel's OOM killer) fails its document with the reason;
- every other document is unaffected: it is parsed by the next free worker.

With `workers == 1` documents are parsed in this process, one after the other, without those two
limits (for debugging, profilers and tiny runs): the results are the same, byte for byte.

Configuration (environment, read by `Limits.from_env`):

    XXGK_PARSE_WORKERS    worker processes; default os.cpu_count(); 1 = in-process
    XXGK_PARSE_TIMEOUT    seconds per document; default 60
    XXGK_PARSE_OCR_TIMEOUT  seconds per document that may need OCR (a picture, a PDF, a page or .docx
                          that embeds pictures: `may_need_ocr`); default 600 (OCR takes seconds a page)
    XXGK_PARSE_MEMORY_MB  address-space cap per worker process (interpreter and imports included,
                          about 50 MB); default 1500; 0 = no cap

Each worker is a fresh interpreter (`python -c`, the parent's import path) that imports only the
parser — not Dagster, not the caller's __main__ module (as multiprocessing's spawn would) — so its
address space starts small, nothing of the parent's threads or state is inherited, and the memory cap
measures the parse. Parent and worker talk over a socket pair (multiprocessing's Connection: pickled
jobs and outcomes); a worker that dies closes its end, which is how the parent notices. A worker
parses the bytes and JSON-encodes the result itself; the parent only moves bytes and writes the cache.

Test-only hook: with `XXGK_PARSE_TEST_HOOKS=1` in its environment, a *worker* (never the in-process
path) sleeps for an hour when the bytes contain `xxgk-test:sleep`, and allocates memory until it
fails when they contain `xxgk-test:allocate`. The tests use it to stand for a document that hangs the
parser or one that needs more memory than the cap; nothing else sets it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from pipeline.env import number_from_env
from pipeline.readers.ocr.settings import DEFAULT_MIN_CONFIDENCE

WORKERS_ENV = "XXGK_PARSE_WORKERS"
TIMEOUT_ENV = "XXGK_PARSE_TIMEOUT"
OCR_TIMEOUT_ENV = "XXGK_PARSE_OCR_TIMEOUT"
DEFAULT_OCR_TIMEOUT = 600.0
MEMORY_ENV = "XXGK_PARSE_MEMORY_MB"
TEST_HOOKS_ENV = "XXGK_PARSE_TEST_HOOKS"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MB = 1500
MB = 1024 * 1024
_SLEEP_MARKER = b"xxgk-test:sleep"
_ALLOCATE_MARKER = b"xxgk-test:allocate"


@dataclass(frozen=True, slots=True)
class Limits:
    workers: int = 1
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB  # 0: no cap
    ocr_timeout: float = DEFAULT_OCR_TIMEOUT

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        def number(name: str, default: float, kind: type) -> Any:
            return number_from_env(name, default, kind=kind, environ=environ)

        workers = number(WORKERS_ENV, os.cpu_count() or 1, int)
        return cls(
            workers=max(1, workers),
            timeout=number(TIMEOUT_ENV, DEFAULT_TIMEOUT, float) or DEFAULT_TIMEOUT,
            memory_mb=number(MEMORY_ENV, DEFAULT_MEMORY_MB, int),
            ocr_timeout=number(OCR_TIMEOUT_ENV, DEFAULT_OCR_TIMEOUT, float) or DEFAULT_OCR_TIMEOUT,
        )

    def timeout_for(self, job: Job) -> float:
        """The time a job may take: longer for a document that may be read by OCR."""
        return max(self.timeout, self.ocr_timeout) if may_need_ocr(job) else self.timeout

    def describe(self) -> str:
        if self.workers == 1:
            return "1 worker (in-process, no time or memory limit)"
        memory = f"{self.memory_mb} MB per worker" if self.memory_mb else "no memory cap"
        return (
            f"{self.workers} worker processes, {self.timeout:g} s per document "
            f"({self.ocr_timeout:g} s where OCR may be needed), {memory}"
        )


@dataclass(frozen=True, slots=True)
class Job:
    """One document to parse: its bytes and the parse inputs besides them."""

    key: Hashable
    data: bytes
    fmt: str
    http_charset: str | None = None
    title_hint: str | None = None
    ocr_min_confidence: float = DEFAULT_MIN_CONFIDENCE  # a parse input: part of the cache key
    reader: str | None = None  # what made `data` when it is not the original (pipeline.parse)
    pictures: tuple[tuple[str, bytes], ...] = ()  # (src, bytes): what an HTML page shows by URL


@dataclass(frozen=True, slots=True)
class Outcome:
    """A parse result, ready for the cache: `encoded` is the JSON of `{"ok": …, "report"|"error": …}`."""

    key: Hashable
    ok: bool
    error: str | None
    encoded: bytes
    cacheable: bool  # deterministic (same bytes, same outcome): goes to the cache
    seconds: float  # wall time of the parse
    cpu: float = 0.0  # CPU time of the parse (of the process that ran it)
    pages: int = 0  # pages of a paged document (for the per-format progress line)
    retire: bool = False  # the worker that made it stops after it (it came close to its memory cap)
    ocr_pages: int = 0  # pictures read by OCR (the progress line reports them and seconds per page)


def may_need_ocr(job: Job) -> bool:
    """Whether a document may hold pictures to OCR: a picture, a PDF (scanned pages), or an HTML page
    or .docx that embeds pictures (a cheap look at the bytes, no parse)."""
    if job.fmt in ("image", "pdf"):
        return True
    if job.fmt == "docx":
        return b"word/media/" in job.data
    if job.fmt == "html":
        return bool(job.pictures) or b"data:image/" in job.data
    return False


def _encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def parse_job(job: Job, *, memory_mb: int = 0) -> Outcome:
    """Parse one document here (in-process or inside a worker): never raises for the document's sake.

    Deterministic failures (an unreadable document, a parser bug) are cacheable like results; running
    out of memory is not (it depends on the limits and the machine), whether the parser let the
    MemoryError through or wrapped it (a reader's "cannot parse (MemoryError)"), or a C library
    reported the failed allocation its own way while the worker was at its cap."""
    from pipeline.document import DocumentError
    from pipeline.parse import parse_document

    start, cpu = time.perf_counter(), time.process_time()
    ocr_pages = pages = 0
    try:
        report = parse_document(
            job.data,
            job.fmt,
            http_charset=job.http_charset,
            title_hint=job.title_hint,
            reader=job.reader,
            ocr_min_confidence=job.ocr_min_confidence,
            pictures=dict(job.pictures),
        )
        payload, cacheable = {"ok": True, "report": report.to_dict()}, True
        pages = report.pages or 0
        ocr_pages = sum(int(f.actual or 0) for f in report.findings if f.check == "ocr_values")
    except MemoryError:
        payload, cacheable = {"ok": False, "error": _memory_message(memory_mb)}, False
    except Exception as exc:  # a parser bug must not lose the document nor stop the run
        if _out_of_memory(exc, memory_mb):
            payload, cacheable = {"ok": False, "error": _memory_message(memory_mb)}, False
        elif isinstance(exc, DocumentError):
            payload, cacheable = {"ok": False, "error": str(exc) or type(exc).__name__}, True
        else:
            payload, cacheable = {"ok": False, "error": f"parser error: {type(exc).__name__}: {exc}"}, True
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    try:
        encoded = _encode(payload)
    except MemoryError:
        payload, cacheable = {"ok": False, "error": _memory_message(memory_mb)}, False
        encoded = _encode(payload)
    return Outcome(
        job.key,
        payload["ok"],
        payload.get("error"),
        encoded,
        cacheable,
        seconds,
        cpu,
        pages=pages,
        ocr_pages=ocr_pages,
    )


def _memory_message(memory_mb: int) -> str:
    return f"parse exceeded memory limit ({memory_mb} MB)" if memory_mb else "parser ran out of memory"


def _failed(job: Job, error: str, seconds: float) -> Outcome:
    return Outcome(
        job.key, False, error, _encode({"ok": False, "error": error}), False, seconds, seconds, retire=True
    )


NEAR_CAP = 0.9  # a worker whose address space reached this share of its cap is replaced


def _peak_address_space() -> int | None:
    """The process's peak address space in bytes (Linux: VmPeak), None where unknown."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _near_cap(memory_mb: int) -> bool:
    peak = _peak_address_space() if memory_mb else None
    return peak is not None and peak >= NEAR_CAP * memory_mb * MB


def _out_of_memory(exc: BaseException, memory_mb: int) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, MemoryError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return _near_cap(memory_mb)


# ---------------------------------------------------------------------------------------------- worker


def _test_hooks(data: bytes) -> None:
    """Test-only (module docstring): stand-ins for a hanging parse and a memory-hungry one."""
    if _SLEEP_MARKER in data:
        time.sleep(3600)
    if _ALLOCATE_MARKER in data:
        hog = []
        while True:  # until the address-space cap makes an allocation fail (MemoryError)
            hog.append(bytearray(64 * MB))


def _worker_main(conn: Connection, memory_mb: int) -> None:
    """A worker: cap the address space, then parse the jobs sent until told to stop (None)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if memory_mb:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = memory_mb * MB
        resource.setrlimit(
            resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard)
        )
    hooks = os.environ.get(TEST_HOOKS_ENV) == "1"
    import pipeline.parse  # noqa: F401 - import once, before the first document's clock starts

    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        if hooks:
            try:
                _test_hooks(job.data)
            except MemoryError:
                conn.send(_failed(job, _memory_message(memory_mb), 0.0))
                return
        outcome = parse_job(job, memory_mb=memory_mb)
        if (not outcome.ok and not outcome.cacheable) or _near_cap(memory_mb):  # start afresh
            outcome = dataclasses.replace(outcome, retire=True)
        conn.send(outcome)
        if outcome.retire:
            return


@dataclass(slots=True)
class _Worker:
    process: subprocess.Popen
    conn: Connection
    job: Job | None = None
    started: float = 0.0


#: How a worker process starts: this interpreter, the parent's import path (so it imports the same
#: `pipeline`), and `_serve` on the socket it inherits. Not multiprocessing's spawn, which would
#: re-import the caller's __main__ module in every worker.
_BOOT = "import sys; sys.path[:0] = {path!r}; from pipeline.workers import _serve; _serve({fd}, {memory_mb})"


def _serve(fd: int, memory_mb: int) -> None:
    """A worker process's entry point (see _BOOT)."""
    _worker_main(Connection(fd), memory_mb)


class _Pool:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.workers: list[_Worker] = []
        self.path = [p for p in sys.path if p]

    def start(self) -> _Worker:
        parent, child = socket.socketpair()
        try:
            fd = child.fileno()
            code = _BOOT.format(path=self.path, fd=fd, memory_mb=self.limits.memory_mb)
            process = subprocess.Popen([sys.executable, "-c", code], pass_fds=(fd,), stdin=subprocess.DEVNULL)
        finally:
            child.close()
        worker = _Worker(process, Connection(parent.detach()))
        self.workers.append(worker)
        return worker

    def retire(self, worker: _Worker, *, kill: bool) -> None:
        self.workers.remove(worker)
        if kill and worker.process.poll() is None:
            worker.process.kill()
        try:
            worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a worker that does not exit when asked
            worker.process.kill()
            worker.process.wait()
        worker.conn.close()

    def close(self) -> None:
        for worker in list(self.workers):
            if worker.job is None:
                with contextlib.suppress(OSError, ValueError):
                    worker.conn.send(None)
            self.retire(worker, kill=worker.job is not None)


def _death(process: subprocess.Popen) -> str:
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - its socket closed, yet it runs on
        process.kill()
        code = process.wait()
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: out of memory?)" if -code == signal.SIGKILL else ""
        return f"parse worker died on {name}{hint}"
    return f"parse worker died (exit code {code})"


def parse_jobs(jobs: Iterable[Job], limits: Limits) -> Iterator[Outcome]:
    """Parse every job; yield one Outcome per job, in the order they finish. Jobs are pulled from
    `jobs` only when a worker is free, so a lazy iterable keeps just a few documents' bytes in memory."""
    if limits.workers <= 1:
        for job in jobs:
            yield parse_job(job)
        return
    source = iter(jobs)
    queue: deque[Job] = deque()

    def next_job() -> Job | None:
        if queue:
            return queue.popleft()
        return next(source, None)

    pool = _Pool(limits)
    try:
        first = next_job()
        if first is None:
            return
        queue.append(first)
        exhausted = False
        while True:
            # Hand a job to every idle worker, starting workers up to the limit.
            while not exhausted:
                idle = next((w for w in pool.workers if w.job is None), None)
                if idle is None and len(pool.workers) >= limits.workers:
                    break
                job = next_job()
                if job is None:
                    exhausted = True
                    break
                worker = idle or pool.start()
                try:
                    worker.conn.send(job)
                except (OSError, ValueError):  # died while idle (it should not): replace and retry
                    queue.appendleft(job)
                    pool.retire(worker, kill=True)
                    continue
                worker.job, worker.started = job, time.monotonic()
            busy = [w for w in pool.workers if w.job is not None]
            if not busy:
                return
            now = time.monotonic()
            first_deadline = min(w.started + limits.timeout_for(w.job) for w in busy if w.job)
            ready = set(wait([w.conn for w in busy], max(0.0, first_deadline - now)))
            now = time.monotonic()
            for worker in busy:
                job = worker.job
                assert job is not None
                if worker.conn in ready:  # a result, or the worker died (its socket closed)
                    try:
                        outcome = worker.conn.recv()
                    except (EOFError, OSError):
                        reason = _death(worker.process)
                        pool.retire(worker, kill=True)
                        yield _failed(job, reason, now - worker.started)
                        continue
                    worker.job = None
                    if outcome.retire:  # it exits after this outcome (memory): a fresh one takes over
                        pool.retire(worker, kill=False)
                    yield dataclasses.replace(outcome, retire=False)
                elif now - worker.started >= (allowed := limits.timeout_for(job)):
                    pool.retire(worker, kill=True)
                    yield _failed(job, f"parse exceeded {allowed:g} s", now - worker.started)
    finally:
        pool.close()
