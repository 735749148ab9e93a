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
A document that cannot be parsed becomes a failed record carrying the reason: never lost, never
fatal for the run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline import PARSER_VERSION, crossreport, fs
from pipeline.config import Settings, Source
from pipeline.document import DocumentError
from pipeline.fs import DataPath
from pipeline.parse import parse_document
from pipeline.report import KIND_LEGACY, KIND_NOT_A_REPORT, KIND_REPORT, Finding, ParsedReport
from pipeline.store import Manifest, RawDocument, RawStore, manifest_path, now_utc

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


def _quiet(_msg: str) -> None:
    pass


def stage_path(settings: Settings, stage: str, source: str | None = None) -> DataPath:
    """The stage's result file; per source for the partitioned parse stage."""
    folder = settings.cache_dir / "stages"
    return folder / stage / f"{source}.json" if source is not None else folder / f"{stage}.json"


def _write_json(path: DataPath, payload: Any) -> None:
    fs.write_bytes(path, json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"))


def _read_json(path: DataPath, stage: str) -> Any:
    try:
        return json.loads(fs.read_text(path))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist: run the {stage!r} stage first") from None


# ---------------------------------------------------------------------------------------------- parse


@dataclass(slots=True)
class ParseRecord:
    """One manifest document after the parse stage: a ParsedReport, or the reason there is none."""

    doc: RawDocument
    region: str | None
    report: ParsedReport | None = None
    error: str | None = None
    cache_file: str | None = None  # relative to the data dir
    cached: bool = False  # True when the result came from the cache (nothing parsed this run)
    parser_version: str = PARSER_VERSION


@dataclass(slots=True)
class ParseStats:
    documents: int = 0  # manifest documents of the configured sources
    parsed: int = 0  # parsed this run (cache misses)
    cache_hits: int = 0  # taken from the parse cache
    failed: int = 0  # no ParsedReport: not fetched, broken, unsupported, parser error
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


def _parse_one(data: bytes, doc: RawDocument) -> tuple[dict, bool]:
    """(cache payload, cacheable). Deterministic failures are cached like results: same bytes, same fate."""
    try:
        report = parse_document(
            data, doc.format or "", http_charset=doc.http_charset, title_hint=doc.title_hint
        )
    except DocumentError as exc:
        return {"ok": False, "error": str(exc) or type(exc).__name__}, True
    except MemoryError:
        return {"ok": False, "error": "parser ran out of memory"}, False
    except Exception as exc:  # a parser bug must not lose the document nor stop the run
        return {"ok": False, "error": f"parser error: {type(exc).__name__}: {exc}"}, True
    return {"ok": True, "report": report.to_dict()}, True


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


def source_documents(settings: Settings, source: Source) -> list[tuple[RawDocument, str | None]]:
    """The source's manifest documents, with the region the configuration gives them."""
    manifest = Manifest.load(manifest_path(settings.raw_dir, source.name))
    region = source.region
    return [(doc, region if region is not None else doc.region) for doc in manifest.documents()]


def current_documents(settings: Settings) -> list[tuple[RawDocument, str | None]]:
    """Every manifest document of the configured sources, with the region the configuration gives it."""
    return [item for source in settings.sources for item in source_documents(settings, source)]


def _parse_record(
    settings: Settings, store: RawStore, doc: RawDocument, region: str | None, cached: dict | None
) -> tuple[ParseRecord, bool]:
    """One document through the parse cache: its cached result (`cached`, read beforehand), else parsed
    now (and cached). Returns the record and whether the parser ran."""
    record = ParseRecord(doc=doc, region=region)
    if not doc.sha256:
        record.error = f"not fetched: {doc.error or 'no bytes stored'}"
        return record, False
    path = cache_file_for(settings, doc)
    record.cache_file = fs.relative(path, settings.data_dir)
    payload = cached
    if payload is not None:
        record.cached = True
    elif not store.has(doc.sha256):
        record.cache_file = None
        record.error = "raw bytes missing from the store"
        return record, False
    else:
        payload, cacheable = _parse_one(store.get(doc.sha256), doc)
        if cacheable:
            payload = {"parser_version": PARSER_VERSION, "sha256": doc.sha256, **payload}
            fs.write_bytes(path, json.dumps(payload, ensure_ascii=False).encode("utf-8"))
        else:
            record.cache_file = None
    _record_from_payload(record, payload)
    return record, not record.cached


def parse_source(
    settings: Settings, source: Source, *, log: Log | None = None
) -> tuple[list[ParseRecord], ParseStats]:
    """Parse one source's manifest documents (cache first); persist the source's stage result
    (`cache/stages/parse/<source>.json`); return its records and counts."""
    say = log or _quiet
    store = RawStore(settings.raw_dir)
    stats = ParseStats()
    records: list[ParseRecord] = []
    documents = source_documents(settings, source)
    fetched = [doc for doc, _region in documents if doc.sha256]
    cached = dict(
        zip(
            [doc.report_id for doc in fetched],
            map(_cache_payload, fs.read_many([cache_file_for(settings, doc) for doc in fetched])),
            strict=True,
        )
    )
    for doc, region in documents:
        record, parsed_now = _parse_record(settings, store, doc, region, cached.get(doc.report_id))
        records.append(record)
        stats.documents += 1
        stats.by_source[doc.source] = stats.by_source.get(doc.source, 0) + 1
        stats.parsed += int(parsed_now)
        stats.cache_hits += int(record.cached)
        if record.report is None:
            stats.failed += 1
            say(f"parse {source.name}: FAILED {doc.locator}: {record.error}")
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
