"""The stages after scraping, as plain functions over the data dir: parse → validate → (tables).

Each stage reads what the previous one persisted and persists its own result, so any stage can run
alone (a Dagster asset re-materialized in the UI, a test, a script):

    raw/manifests/<source>.json        scrape: what was found, where its bytes are
    cache/parsed/v<N>/<sha[:2]>/*.json parse cache: one ParsedReport (or failure) per bytes + parse inputs
    cache/stages/parse/<source>.json   parse: which documents of the source this run covered, with which
                                       cache entry (one file per source: the stage is partitioned by source)
    cache/stages/validate.json         validate: status, error and findings per document, all sources
    warehouse/<table>.parquet          tables (pipeline.tables)

Files go through `pipeline.fs` (local folder or object storage, atomic writes).

Parsing is cached by (content SHA-256, PARSER_VERSION, parse inputs — format, HTTP charset, title
hint): a nightly run parses only new bytes, a parser upgrade (version bump) re-parses everything.
Documents are parsed in a pool of worker processes, each bounded in time and memory
(`pipeline.workers`). A document that cannot be parsed becomes a failed record carrying the reason:
never lost, never fatal for the run. A no-change run opens no cache entry to learn its outcome: the
source's last parse stage result says it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline import PARSER_VERSION, crossreport, fs
from pipeline.config import Settings, Source
from pipeline.fs import DataPath
from pipeline.report import KIND_LEGACY, KIND_NOT_A_REPORT, KIND_REPORT, Finding, ParsedReport
from pipeline.store import Manifest, RawDocument, RawStore, manifest_path, now_utc
from pipeline.workers import Job, Limits, parse_jobs

Log = Callable[[str], None]

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_NOT_A_REPORT = "not_a_report"
STATUS_LEGACY = "legacy"
STATUS_DUPLICATE = "duplicate"
_STATUS_BY_KIND = {KIND_REPORT: STATUS_OK, KIND_LEGACY: STATUS_LEGACY, KIND_NOT_A_REPORT: STATUS_NOT_A_REPORT}
_STATUS_MESSAGES = {
    STATUS_LEGACY: "legacy report (format before the 2019 template): its tables are not extracted",
    STATUS_NOT_A_REPORT: "not an annual information-disclosure report: no table 二, 三 or 四 recognised",
}

#: Findings that are reading problems, not failed checks: not counted in reports.checks_failed.
NOT_COUNTED_AS_FAILED_CHECK = frozenset({"unreadable_cell"})

PROGRESS_EVERY = 10.0  # seconds between the parse stage's progress lines
_READ_BATCH = 256  # cache entries / raw objects read at once (concurrent requests on object storage)


def _quiet(_msg: str) -> None:
    pass


def stage_path(settings: Settings, stage: str, source: str | None = None) -> DataPath:
    """The stage's result file; per source for the partitioned parse stage."""
    folder = settings.cache_dir / "stages"
    return folder / stage / f"{source}.json" if source is not None else folder / f"{stage}.json"


def _write_json(path: DataPath, payload: Any) -> None:
    fs.write_bytes(path, json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"))


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _read_json(path: DataPath, stage: str) -> Any:
    try:
        return json.loads(fs.read_text(path))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist: run the {stage!r} stage first") from None


# ---------------------------------------------------------------------------------------------- parse


@dataclass(slots=True)
class ParseRecord:
    """One manifest document after the parse stage: where its ParsedReport is cached, or why there is
    none (`error`). The parse stage leaves the report in the cache; load_parse_records reads it."""

    doc: RawDocument
    region: str | None
    error: str | None = None
    cache_file: str | None = None  # relative to the data dir
    cache_digest: str | None = None  # SHA-256 of the cache entry's bytes
    cached: bool = False  # True when the result came from the cache (nothing parsed this run)
    parser_version: str = PARSER_VERSION
    report: ParsedReport | None = None  # loaded by load_parse_records (the validate stage)

    @property
    def ok(self) -> bool:
        return self.error is None and self.cache_file is not None


@dataclass(slots=True)
class ParseStats:
    documents: int = 0  # manifest documents of the configured sources
    parsed: int = 0  # parsed this run (cache misses)
    cache_hits: int = 0  # taken from the parse cache
    failed: int = 0  # no ParsedReport: not fetched, broken, unsupported, parser error, limits
    by_source: dict[str, int] = field(default_factory=dict)


def _inputs_digest(doc: RawDocument) -> str:
    """The parse inputs besides the bytes: the same bytes with another charset or hint parse anew."""
    key = json.dumps([doc.format, doc.http_charset, doc.title_hint], ensure_ascii=False)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def cache_file_for(settings: Settings, doc: RawDocument) -> DataPath:
    sha = doc.sha256 or ""
    return (
        settings.cache_dir / "parsed" / f"v{PARSER_VERSION}" / sha[:2] / f"{sha}-{_inputs_digest(doc)}.json"
    )


def _cache_payload(data: bytes | None) -> dict | None:
    """A parse cache entry's payload; None when missing or damaged (then it is parsed again)."""
    if data is None:
        return None
    try:
        payload = json.loads(data)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) and "ok" in payload else None


def _record_from_payload(record: ParseRecord, payload: dict) -> None:
    if payload.get("ok"):
        record.report = ParsedReport.from_dict(payload["report"])
    else:
        record.error = payload.get("error") or "parse failed"


def _cache_bytes(doc: RawDocument, encoded: bytes) -> bytes:
    """A cache entry: the parse outcome (JSON from the worker) headed by the parser version and sha —
    `{"parser_version": …, "sha256": …, "ok": …, …}`, spliced without decoding it again."""
    head = json.dumps({"parser_version": PARSER_VERSION, "sha256": doc.sha256}, ensure_ascii=False)
    body = encoded.strip()
    if body == b"{}":
        return head.encode("utf-8")
    return head[:-1].encode("utf-8") + b", " + body[1:]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_documents(settings: Settings, source: Source) -> list[tuple[RawDocument, str | None]]:
    """The source's manifest documents, with the region the configuration gives them."""
    manifest = Manifest.load(manifest_path(settings.raw_dir, source.name))
    region = source.region
    return [(doc, region if region is not None else doc.region) for doc in manifest.documents()]


def current_documents(settings: Settings) -> list[tuple[RawDocument, str | None]]:
    """Every manifest document of the configured sources, with the region the configuration gives it."""
    return [item for source in settings.sources for item in source_documents(settings, source)]


def _previous_parse(settings: Settings, source: Source) -> dict[str, dict]:
    """The source's last parse stage result, by report_id (empty when there is none)."""
    try:
        state = json.loads(fs.read_text(stage_path(settings, "parse", source.name)))
    except (FileNotFoundError, ValueError):
        return {}
    return {entry["doc"]["report_id"]: entry for entry in state.get("documents", [])}


def parse_source(
    settings: Settings, source: Source, *, log: Log | None = None, limits: Limits | None = None
) -> tuple[list[ParseRecord], ParseStats]:
    """Parse one source's manifest documents (cache first, then a bounded worker pool: `limits`,
    default from the environment, pipeline.workers); persist the source's stage result
    (`cache/stages/parse/<source>.json`); return its records and counts."""
    say = log or _quiet
    limits = limits or Limits.from_env()
    store = RawStore(settings.raw_dir)
    documents = source_documents(settings, source)
    previous = _previous_parse(settings, source)
    records = [ParseRecord(doc=doc, region=region) for doc, region in documents]
    fetched = [r for r in records if r.doc.sha256]
    for r in records:
        if not r.doc.sha256:
            r.error = f"not fetched: {r.doc.error or 'no bytes stored'}"

    # 1. Cache hits. An entry whose outcome the source's last run recorded (same file, known digest)
    #    is not opened again; others are read to learn it.
    paths = {id(r): cache_file_for(settings, r.doc) for r in fetched}
    present = fs.exists_many([paths[id(r)] for r in fetched])
    to_read: list[ParseRecord] = []
    to_parse: list[ParseRecord] = []
    for record, exists in zip(fetched, present, strict=True):
        rel = fs.relative(paths[id(record)], settings.data_dir)
        before = previous.get(record.doc.report_id)
        if not exists:
            to_parse.append(record)
        elif before and before.get("cache_file") == rel and before.get("cache_digest"):
            record.cache_file, record.cache_digest, record.cached = rel, before["cache_digest"], True
            record.error = before.get("error")
        else:
            to_read.append(record)
    for batch in _batches(to_read, _READ_BATCH):
        for record, data in zip(batch, fs.read_many([paths[id(r)] for r in batch]), strict=True):
            payload = _cache_payload(data)
            if payload is None:  # damaged (or vanished): parse again
                to_parse.append(record)
                continue
            record.cache_file = fs.relative(paths[id(record)], settings.data_dir)
            record.cache_digest, record.cached = _digest(data), True
            record.error = None if payload.get("ok") else payload.get("error") or "parse failed"

    # 2. Parse the rest, once per cache entry, in the worker pool.
    raw_present = fs.exists_many([store.path(r.doc.sha256) for r in to_parse])
    groups: dict[str, list[ParseRecord]] = {}
    for record, has_bytes in zip(to_parse, raw_present, strict=True):
        if not has_bytes:
            record.error = "raw bytes missing from the store"
            continue
        groups.setdefault(str(paths[id(record)]), []).append(record)
    parsed_now = _parse_groups(settings, source, store, groups, paths, limits, say) if groups else set()

    stats = ParseStats()
    for record in records:
        stats.documents += 1
        stats.by_source[record.doc.source] = stats.by_source.get(record.doc.source, 0) + 1
        stats.parsed += int(id(record) in parsed_now)
        stats.cache_hits += int(record.cached)
        if not record.ok:
            stats.failed += 1
            say(f"parse {source.name}: FAILED {record.doc.locator}: {record.error}")
    _write_json(
        stage_path(settings, "parse", source.name),
        {
            "source": source.name,
            "parser_version": PARSER_VERSION,
            "finished_at": now_utc(),
            "stats": asdict(stats),
            "documents": [
                {
                    "doc": asdict(r.doc),
                    "region": r.region,
                    "error": r.error,
                    "cache_file": r.cache_file,
                    "cache_digest": r.cache_digest,
                    "cached": r.cached,
                    "parser_version": r.parser_version,
                }
                for r in records
            ],
        },
    )
    say(
        f"parse {source.name}: {stats.documents} documents — {stats.parsed} parsed now, "
        f"{stats.cache_hits} from cache, {stats.failed} failed"
    )
    return records, stats


def _parse_groups(
    settings: Settings,
    source: Source,
    store: RawStore,
    groups: dict[str, list[ParseRecord]],
    paths: dict[int, DataPath],
    limits: Limits,
    say: Log,
) -> set[int]:
    """Parse one document of each group (records sharing a cache entry) and write the cache; the ids of
    the records the parser ran for."""
    keys = list(groups)
    total = len(keys)
    say(f"parse {source.name}: {total} documents to parse — {limits.describe()}")

    def jobs() -> Iterator[Job]:  # bytes are read a batch at a time, as workers ask for documents
        for batch in _batches(keys, _READ_BATCH):
            datas = fs.read_many([store.path(groups[k][0].doc.sha256) for k in batch])
            for key, data in zip(batch, datas, strict=True):
                doc = groups[key][0].doc
                if data is None:
                    for record in groups[key]:
                        record.error = "raw bytes missing from the store"
                    continue
                yield Job(key, data, doc.format or "", doc.http_charset, doc.title_hint)

    start = last = time.monotonic()
    failed, cpu, done = 0, 0.0, 0
    parsed: set[int] = set()
    for done, outcome in enumerate(parse_jobs(jobs(), limits), start=1):
        cpu += outcome.cpu
        members = groups[outcome.key]
        first = members[0]
        cache_file = digest = None
        if outcome.cacheable:
            data = _cache_bytes(first.doc, outcome.encoded)
            path = paths[id(first)]
            fs.write_bytes(path, data)
            cache_file, digest = fs.relative(path, settings.data_dir), _digest(data)
        for record in members:
            parsed.add(id(record))
            record.cache_file, record.cache_digest = cache_file, digest
            record.error = None if outcome.ok else outcome.error or "parse failed"
        failed += int(not outcome.ok)
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY and done < total:
            last = now
            say(
                f"parse {source.name}: {done}/{total} parsed ({done / (now - start):.0f} documents/s), "
                f"{failed} failed"
            )
    wall = time.monotonic() - start
    say(
        f"parse {source.name}: {done} parsed in {wall:.1f} s, {cpu:.1f} s of parser CPU time"
        + (f" ({done / cpu:.1f} documents per CPU second)" if cpu > 0 else "")
    )
    return parsed


def parse_all(settings: Settings, *, log: Log | None = None) -> tuple[list[ParseRecord], ParseStats]:
    """`parse_source` for every configured source in turn; all records and the summed counts."""
    records: list[ParseRecord] = []
    total = ParseStats()
    for source in settings.sources:
        source_records, stats = parse_source(settings, source, log=log)
        records += source_records
        for name in ("documents", "parsed", "cache_hits", "failed"):
            setattr(total, name, getattr(total, name) + getattr(stats, name))
        total.by_source.update(stats.by_source)
    return records, total


def _parse_states(settings: Settings) -> tuple[dict[str, Any], list[str]]:
    """(the parse stage file of each configured source that has one, the sources that have none)."""
    states, missing = {}, []
    for source in settings.sources:
        try:
            states[source.name] = json.loads(fs.read_text(stage_path(settings, "parse", source.name)))
        except FileNotFoundError:
            missing.append(source.name)
    return states, missing


def load_parse_records(settings: Settings, *, log: Log | None = None) -> list[ParseRecord]:
    """The parse stage's last result of every configured source, with each ParsedReport loaded from
    the cache. A source never parsed (its scrape has always failed) contributes nothing (`log` says
    so); when no source has been parsed at all, FileNotFoundError says to run the parse stage."""
    states, missing = _parse_states(settings)
    if settings.sources and not states:
        raise FileNotFoundError(
            f"{stage_path(settings, 'parse', settings.sources[0].name)} does not exist: "
            "run the 'parse' stage first"
        )
    if missing and log is not None:
        log(f"validate: no parse result for {', '.join(missing)} (never scraped successfully)")
    records = [
        ParseRecord(
            doc=RawDocument(**entry["doc"]),
            region=entry["region"],
            error=entry["error"],
            cache_file=entry["cache_file"],
            cached=entry["cached"],
            parser_version=entry["parser_version"],
        )
        for state in states.values()
        for entry in state["documents"]
    ]
    with_cache = [r for r in records if r.cache_file]
    payloads = fs.read_many([settings.data_dir / r.cache_file for r in with_cache])
    for record, data in zip(with_cache, payloads, strict=True):
        payload = _cache_payload(data)
        if payload is None:
            record.error = "parse cache entry missing: re-run the parse stage"
        else:
            _record_from_payload(record, payload)
    return records


# ---------------------------------------------------------------------------------------------- validate


@dataclass(slots=True)
class Staged:
    """A document ready for the output tables: what was parsed, its status and all its findings."""

    doc: RawDocument
    region: str | None
    report: ParsedReport | None
    status: str
    error: str | None
    parser_version: str
    findings: list[Finding] = field(default_factory=list)
    duplicate_of: str | None = None

    @property
    def checks_failed(self) -> int | None:
        """Failed checks of a parsed document (findings other than reading problems); None if unparsed."""
        if self.report is None:
            return None
        return sum(1 for f in self.findings if f.check not in NOT_COUNTED_AS_FAILED_CHECK)


def _status(record: ParseRecord) -> tuple[str, str | None]:
    if record.report is None:
        return STATUS_FAILED, record.error or "parse failed"
    status = _STATUS_BY_KIND.get(record.report.kind)
    if status is None:
        return STATUS_FAILED, f"parser returned an unknown kind {record.report.kind!r}"
    return status, _STATUS_MESSAGES.get(status)


def _cross_report(staged: list[Staged]) -> None:
    """Checks across documents (pipeline.crossreport): duplicates are marked, cross-year findings added.

    Among documents reporting the same (region, agency, year), one is canonical and the others get
    status `duplicate` and `duplicate_of`; cross-year plausibility is checked on canonical reports only.
    """
    entries = [
        crossreport.Entry(
            s.doc.report_id, s.region, s.report.agency, s.report.year, s.doc.fetched_at, s.report
        )
        for s in staged
        if s.report is not None and s.status == STATUS_OK
    ]
    duplicates = crossreport.choose_canonical(entries)
    by_id = {s.doc.report_id: s for s in staged}
    for report_id, canonical in duplicates.items():
        item = by_id[report_id]
        item.status, item.duplicate_of = STATUS_DUPLICATE, canonical
        item.error = f"duplicate of {canonical}: another document reports the same region, agency and year"
    for report_id, finding in crossreport.cross_year_findings(
        [e for e in entries if e.report_id not in duplicates]
    ):
        by_id[report_id].findings.append(finding)


def validate_all(settings: Settings, *, log: Log | None = None) -> list[Staged]:
    """Decide each document's status (ok, failed, not_a_report, legacy, duplicate) and gather its findings
    (the parser's, then the cross-report ones); persist them for the tables."""
    say = log or _quiet
    staged: list[Staged] = []
    for record in load_parse_records(settings, log=say):
        status, error = _status(record)
        findings = list(record.report.findings) if record.report is not None else []
        staged.append(
            Staged(record.doc, record.region, record.report, status, error, record.parser_version, findings)
        )
    _cross_report(staged)
    _write_json(
        stage_path(settings, "validate"),
        {
            "finished_at": now_utc(),
            "documents": {
                s.doc.report_id: {
                    "status": s.status,
                    "error": s.error,
                    "duplicate_of": s.duplicate_of,
                    "findings": [asdict(f) for f in s.findings],
                }
                for s in staged
            },
        },
    )
    counts = validation_counts(staged)
    say(
        "validate: "
        + ", ".join(f"{n} {status}" for status, n in sorted(counts["status"].items()))
        + f"; {counts['findings']} findings"
    )
    return staged


def validation_counts(staged: list[Staged]) -> dict[str, Any]:
    status: dict[str, int] = {}
    checks: dict[str, int] = {}
    for s in staged:
        status[s.status] = status.get(s.status, 0) + 1
        for f in s.findings:
            checks[f.check] = checks.get(f.check, 0) + 1
    return {"status": status, "checks": checks, "findings": sum(checks.values())}


def load_staged(settings: Settings) -> list[Staged]:
    """What the tables are built from: the parse stage's records with the validate stage's verdicts."""
    verdicts = _read_json(stage_path(settings, "validate"), "validate")["documents"]
    staged: list[Staged] = []
    for record in load_parse_records(settings):
        verdict = verdicts.get(record.doc.report_id)
        if verdict is None:  # parsed after the last validation: judge it the way validate would
            status, error = _status(record)
            findings = list(record.report.findings) if record.report is not None else []
            duplicate_of = None
        else:
            status, error, duplicate_of = verdict["status"], verdict["error"], verdict["duplicate_of"]
            findings = [Finding(**f) for f in verdict["findings"]]
            if record.report is None and status != STATUS_FAILED:  # its cache entry vanished since
                status, error = STATUS_FAILED, record.error
        staged.append(
            Staged(
                record.doc,
                record.region,
                record.report,
                status,
                error,
                record.parser_version,
                findings,
                duplicate_of,
            )
        )
    return staged
