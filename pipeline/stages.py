"""The stages after scraping, as plain functions over the data dir: parse → validate → (tables).

Each stage reads what the previous one persisted and persists its own result, so any stage can run
alone (a Dagster asset re-materialized in the UI, a test, a script):

    raw/manifests/<source>.json        scrape: what was found, where its bytes are
    cache/parsed/v<N>/<sha[:2]>/*.json parse cache: one ParsedReport (or failure) per bytes + parse inputs
    cache/stages/parse/<source>.json   parse: which documents of the source this run covered, with which
                                       cache entry (one file per source: the stage is partitioned by source)
    cache/stages/validate.parquet      validate: the staging snapshot (pipeline.staging) — every document,
                                       its parsed content, status and findings — that the tables read
    cache/stages/validate.json         validate: a summary (counts, when, from which parse results)
    warehouse/<table>.parquet          tables (pipeline.tables)

Files go through `pipeline.fs` (local folder or object storage, atomic writes).

Parsing is cached by (content SHA-256, PARSER_VERSION, parse inputs — format, HTTP charset, title
hint): a nightly run parses only new bytes, a parser upgrade (version bump) re-parses everything.
Documents are parsed in a pool of worker processes, each bounded in time and memory
(`pipeline.workers`). A document that cannot be parsed becomes a failed record carrying the reason:
never lost, never fatal for the run. A no-change run opens no cache entry: the parse stage knows
each entry's outcome from its last run, and the validate stage takes the parsed content from its
last snapshot.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline import PARSER_VERSION, crossreport, fs, staging
from pipeline.config import Settings, Source
from pipeline.convert import LEGACY_FORMATS, Converter, ConverterMissing, sniff
from pipeline.fs import DataPath
from pipeline.readers.ocr.settings import min_confidence_from_env
from pipeline.report import KIND_LEGACY, KIND_NOT_A_REPORT, KIND_REPORT, Finding, ParsedReport
from pipeline.sources import pictures
from pipeline.store import Manifest, RawDocument, RawStore, manifest_path, now_utc
from pipeline.workers import Job, Limits, Outcome, parse_jobs

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

#: Findings that are reading problems or notes, not failed checks: not counted in reports.checks_failed.
NOT_COUNTED_AS_FAILED_CHECK = frozenset({"unreadable_cell", "scanned_pages_skipped", "ocr_values"})

PROGRESS_EVERY = 10.0  # seconds between the parse stage's progress lines
_READ_BATCH = 256  # cache entries / raw objects read at once (concurrent requests on object storage)


def _quiet(_msg: str) -> None:
    pass


def stage_path(settings: Settings, stage: str, source: str | None = None) -> DataPath:
    """The stage's result file; per source for the partitioned parse stage."""
    folder = settings.cache_dir / "stages"
    return folder / stage / f"{source}.json" if source is not None else folder / f"{stage}.json"


def snapshot_path(settings: Settings) -> DataPath:
    """The validate stage's staging snapshot (pipeline.staging)."""
    return settings.cache_dir / "stages" / "validate.parquet"


def _write_json(path: DataPath, payload: Any) -> None:
    fs.write_bytes(path, json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"))


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------------------------------------- parse


@dataclass(slots=True)
class ParseRecord:
    """One manifest document after the parse stage: where its ParsedReport is cached, or why there is
    none (`error`). The report itself stays in the cache (the validate stage reads it)."""

    doc: RawDocument
    region: str | None
    error: str | None = None
    cache_file: str | None = None  # relative to the data dir
    cache_digest: str | None = None  # SHA-256 of the cache entry's bytes
    cached: bool = False  # True when the result came from the cache (nothing parsed this run)
    parser_version: str = PARSER_VERSION

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
    """The parse inputs besides the bytes: the same bytes with another charset, hint, OCR threshold or
    pictures (an HTML page's, fetched with it) parse anew."""
    inputs = [doc.format, doc.http_charset, doc.title_hint, min_confidence_from_env()]
    if shown := pictures.decode(doc.extra):
        inputs.append(shown)
    key = json.dumps(inputs, ensure_ascii=False)
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


def _previous_parse(settings: Settings, source: Source) -> dict[str, Any]:
    """The source's last parse stage result (empty when there is none)."""
    try:
        state = json.loads(fs.read_text(stage_path(settings, "parse", source.name)))
    except (FileNotFoundError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


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
    last = _previous_parse(settings, source)
    previous = {entry["doc"]["report_id"]: entry for entry in last.get("documents", [])}
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
        stats.failed += int(not record.ok)  # each failure is logged by the caller (a warning in Dagster)
    state = {
        "source": source.name,
        "parser_version": PARSER_VERSION,
        "stats": asdict(stats),
        "documents": [
            {
                "doc": staging.doc_dict(r.doc),
                "region": r.region,
                "error": r.error,
                "cache_file": r.cache_file,
                "cache_digest": r.cache_digest,
                "cached": r.cached,
                "parser_version": r.parser_version,
            }
            for r in records
        ],
    }
    if {k: v for k, v in last.items() if k != "finished_at"} != state:
        # Rewritten only when something changed: an unchanged result keeps its bytes, so the validate
        # stage's snapshot, built from them, stays current.
        _write_json(stage_path(settings, "parse", source.name), {**state, "finished_at": now_utc()})
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
    start = last = time.monotonic()
    failed, done = 0, 0
    ocr_pages, ocr_seconds = 0, 0.0
    parsed: set[int] = set()
    by_format: dict[str, list[float]] = {}  # format → [documents, pages, CPU seconds]
    ocr_threshold = min_confidence_from_env()

    def record(outcome: Outcome) -> None:
        nonlocal failed, ocr_pages, ocr_seconds
        if outcome.ocr_pages:
            ocr_pages, ocr_seconds = ocr_pages + outcome.ocr_pages, ocr_seconds + outcome.seconds
        members = groups[outcome.key]
        first = members[0]
        cache_file = digest = None
        if outcome.cacheable:
            data = _cache_bytes(first.doc, outcome.encoded)
            path = paths[id(first)]
            fs.write_bytes(path, data)
            cache_file, digest = fs.relative(path, settings.data_dir), _digest(data)
        for member in members:
            parsed.add(id(member))
            member.cache_file, member.cache_digest = cache_file, digest
            member.error = None if outcome.ok else outcome.error or "parse failed"
        failed += int(not outcome.ok)
        tally = by_format.setdefault(first.doc.format or "?", [0, 0, 0.0])
        tally[0] += 1
        tally[1] += outcome.pages
        tally[2] += outcome.cpu

    legacy = [k for k in keys if (groups[k][0].doc.format or "") in LEGACY_FORMATS]
    converted: dict[str, tuple[DataPath, str, str | None]] = {}  # key → (bytes to parse, format, reader)
    if legacy:
        converted = _convert_legacy(
            settings, source, store, {k: groups[k][0].doc for k in legacy}, record, say
        )
        done += len(legacy) - len(converted)

    def jobs() -> Iterator[Job]:  # bytes are read a batch at a time, as workers ask for documents
        for batch in _batches([k for k in keys if k not in legacy or k in converted], _READ_BATCH):
            datas = fs.read_many(
                [converted[k][0] if k in converted else store.path(groups[k][0].doc.sha256) for k in batch]
            )
            for key, data in zip(batch, datas, strict=True):
                doc = groups[key][0].doc
                if data is None:
                    for member in groups[key]:
                        member.error = "raw bytes missing from the store"
                    continue
                if key in converted:
                    _path, fmt, reader = converted[key]
                    yield Job(key, data, fmt, doc.http_charset, doc.title_hint, ocr_threshold, reader=reader)
                else:
                    yield Job(
                        key,
                        data,
                        doc.format or "",
                        doc.http_charset,
                        doc.title_hint,
                        ocr_threshold,
                        pictures=_shown_pictures(store, doc),
                    )

    for outcome in parse_jobs(jobs(), limits):
        done += 1
        record(outcome)
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY and done < total:
            last = now
            say(
                f"parse {source.name}: {done}/{total} parsed ({done / (now - start):.0f} documents/s), "
                f"{failed} failed" + _ocr_progress(ocr_pages, ocr_seconds)
            )
    wall = time.monotonic() - start
    cpu = sum(t[2] for t in by_format.values())
    say(
        f"parse {source.name}: {done} parsed in {wall:.1f} s, {cpu:.1f} s of parser CPU time"
        + (f" ({done / cpu:.1f} documents per CPU second)" if cpu > 0 else "")
        + _ocr_progress(ocr_pages, ocr_seconds)
    )
    for fmt, (docs, pages, seconds) in sorted(by_format.items()):
        say(f"parse {source.name}: {format_speed(fmt, int(docs), int(pages), seconds)}")
    return parsed


def _shown_pictures(store: RawStore, doc: RawDocument) -> tuple[tuple[str, bytes], ...]:
    """(src, bytes) of the pictures an HTML page shows by URL, as fetched with it (those missing from
    the store are left out: the tables they held are then reported missing)."""
    found = []
    for src, sha in pictures.decode(doc.extra):
        try:
            found.append((src, store.get(sha)))
        except FileNotFoundError:
            continue
    return tuple(found)


def _ocr_progress(pages: int, seconds: float) -> str:
    """The OCR part of a progress line: pages read from pictures and wall seconds per page."""
    return f"; OCR: {pages} pages, {seconds / pages:.1f} s/page" if pages else ""


def format_speed(fmt: str, docs: int, pages: int, cpu: float) -> str:
    """One format's parse speed, e.g. `pdf 120 docs 610 pages in 41.3 s CPU (68 ms/page)`."""
    if pages:
        return f"{fmt} {docs} docs {pages} pages in {cpu:.1f} s CPU ({1000 * cpu / pages:.0f} ms/page)"
    return f"{fmt} {docs} docs in {cpu:.1f} s CPU ({1000 * cpu / max(docs, 1):.0f} ms/doc)"


_CONVERT_BATCH = 32  # documents per LibreOffice run


def converted_path(settings: Settings, sha256: str) -> DataPath:
    """Where the .docx converted from a .doc/.wps is kept, by the source's content hash."""
    return settings.cache_dir / "converted" / sha256[:2] / f"{sha256}.docx"


def _convert_legacy(
    settings: Settings,
    source: Source,
    store: RawStore,
    docs: dict[str, RawDocument],
    record: Callable[[Outcome], None],
    say: Log,
) -> dict[str, tuple[DataPath, str, str | None]]:
    """.doc/.wps documents → .docx (pipeline.convert), kept by content hash: a rerun, or a parser
    upgrade, converts nothing. Returns, for each document to parse, where its bytes are, their format
    and what made them; the others are recorded as failed (cacheable unless LibreOffice is missing:
    installing it must make them readable). A file that is really a .docx or HTML under a legacy name
    is converted to nothing: it is read as what it is."""
    keys = list(docs)
    targets = {k: converted_path(settings, docs[k].sha256 or "") for k in keys}
    present = fs.exists_many(list(targets.values()))
    out = {k: (targets[k], "docx", "doc") for k, ok in zip(keys, present, strict=True) if ok}
    missing = [k for k in keys if k not in out]
    converter = Converter()
    as_is = 0
    try:
        for batch in _batches(missing, _CONVERT_BATCH):
            items: dict[str, tuple[bytes, str]] = {}
            for key, data in zip(
                batch, fs.read_many([store.path(docs[k].sha256) for k in batch]), strict=True
            ):
                fmt = docs[key].format or "doc"
                if data is None:
                    record(_failure(key, "raw bytes missing from the store", cacheable=False))
                elif sniff(data, fmt) != fmt:
                    out[key] = (store.path(docs[key].sha256), sniff(data, fmt), None)  # read as what it is
                    as_is += 1
                else:
                    items[key] = (data, fmt)
            for key, result in converter.convert(items).items():
                if isinstance(result, bytes):
                    fs.write_bytes(targets[key], result)
                    out[key] = (targets[key], "docx", "doc")
                else:
                    record(_failure(key, str(result), cacheable=not isinstance(result, ConverterMissing)))
    finally:
        converter.close()
    if len(missing) > as_is:
        say(
            f"parse {source.name}: {converter.conversions} of {len(missing) - as_is} .doc/.wps converted by "
            f"LibreOffice in {converter.seconds:.1f} s ({len(keys) - len(missing)} from the conversion cache, "
            f"{as_is} read as the format they really are)"
        )
    return out


def _failure(key: str, error: str, *, cacheable: bool) -> Outcome:
    encoded = json.dumps({"ok": False, "error": error}, ensure_ascii=False).encode("utf-8")
    return Outcome(key, False, error, encoded, cacheable, 0.0)


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


def _parse_states(settings: Settings) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """(the parse stage file of each configured source that has one, the SHA-256 of each of those
    files, the sources that have none)."""
    states, digests, missing = {}, {}, []
    for source in settings.sources:
        try:
            data = fs.read_bytes(stage_path(settings, "parse", source.name))
        except FileNotFoundError:
            missing.append(source.name)
            continue
        states[source.name] = json.loads(data)
        digests[source.name] = _digest(data)
    return states, digests, missing


def _parse_digests(settings: Settings) -> dict[str, str]:
    digests = {}
    for source in settings.sources:
        try:
            digests[source.name] = _digest(fs.read_bytes(stage_path(settings, "parse", source.name)))
        except FileNotFoundError:
            continue
    return digests


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


@dataclass(slots=True)
class Validation:
    """What the validate stage decided, in numbers."""

    documents: int
    status: dict[str, int]
    checks: dict[str, int]
    reused: int = 0  # documents whose parsed content came from the last snapshot
    loaded: int = 0  # documents read from the parse cache this run

    @property
    def findings(self) -> int:
        return sum(self.checks.values())


def _parsed_part(
    settings: Settings, entries: list[dict], previous: pa.Table | None, say: Log
) -> tuple[pa.Table, int, int]:
    """The parsed columns of every entry (pipeline.staging.PARSED_FIELDS), in entry order: from the
    previous snapshot where its cache entry is the same, else from the parse cache."""
    reusable: dict[tuple[str, str], int] = {}
    if previous is not None:
        files = previous.column("cache_file").to_pylist()
        digests = previous.column("cache_digest").to_pylist()
        reusable = {(f, d): i for i, (f, d) in enumerate(zip(files, digests, strict=True)) if f and d}
    take_rows, take_pos, load, rest = [], [], [], []
    for pos, entry in enumerate(entries):
        key = (entry.get("cache_file"), entry.get("cache_digest"))
        if key in reusable:
            take_rows.append(reusable[key])
            take_pos.append(pos)
        elif entry.get("cache_file"):
            load.append(pos)
        else:
            rest.append(pos)
    if previous is not None and not load and not rest and take_rows == list(range(previous.num_rows)):
        return previous.select(staging.PARSED_FIELDS.names), len(take_rows), 0  # nothing changed: no copy
    parts: list[pa.Table] = []
    positions: list[int] = []
    if take_rows:
        parts.append(previous.select(staging.PARSED_FIELDS.names).take(pa.array(take_rows, pa.int64())))
        positions += take_pos
    for batch in _batches(load, _READ_BATCH):
        datas = fs.read_many([settings.data_dir / entries[pos]["cache_file"] for pos in batch])
        rows = []
        for data in datas:
            payload = _cache_payload(data)
            rows.append(staging.parsed_columns(payload, "parse cache entry missing: re-run the parse stage"))
        parts.append(staging.from_rows(rows, staging.PARSED_FIELDS))
        positions += batch
    if rest:
        parts.append(
            staging.from_rows(
                [staging.parsed_columns(None, entries[pos]["error"] or "parse failed") for pos in rest],
                staging.PARSED_FIELDS,
            )
        )
        positions += rest
    if not parts:
        return staging.PARSED_FIELDS.empty_table(), 0, 0
    table = pa.concat_tables(parts)
    if positions != sorted(positions):  # parts interleave: put the rows back in entry order (a copy)
        table = table.take(pc.sort_indices(pa.array(positions, pa.int64())))
    return table, len(take_rows), len(load)


def _status(parsed: bool, kind: str | None, parse_error: str | None) -> tuple[str, str | None]:
    if not parsed:
        return STATUS_FAILED, parse_error or "parse failed"
    status = _STATUS_BY_KIND.get(kind)  # type: ignore[arg-type]
    if status is None:
        return STATUS_FAILED, f"parser returned an unknown kind {kind!r}"
    return status, _STATUS_MESSAGES.get(status)


#: What pipeline.crossreport reads of a report's cells: unreadable ones (quality of duplicates),
#: table 三 carry-over rows and table 二 现行有效 terms (cross-year). Validation builds its reports for
#: the checks across reports from these cells only (not the thousands of cells of every report);
#: tests/test_staging.py checks that the results are those of the whole reports.
CROSS_REPORT_CELLS = {
    "applications": ({"carried_over", "carried_forward"}, None),
    "proactive_disclosure": ({"regulations", "normative_documents"}, {"in_force", "issued", "repealed"}),
}


def cross_report_cells_mask(cells: pa.Table) -> pa.Array:
    mask = pc.is_valid(cells.column("unreadable"))
    for table, (rows, columns) in CROSS_REPORT_CELLS.items():
        part = pc.and_(
            pc.equal(cells.column("table"), table), pc.is_in(cells.column("row_code"), pa.array(sorted(rows)))
        )
        if columns is not None:
            part = pc.and_(part, pc.is_in(cells.column("column_code"), pa.array(sorted(columns))))
        mask = pc.or_(mask, part)
    return pc.fill_null(mask, False)


def _cross_report(
    table: pa.Table, status: list[str], errors: list[str | None]
) -> tuple[list[str | None], list[list[dict]]]:
    """Checks across documents (pipeline.crossreport) on the documents of status ok: duplicates are
    marked (status, error updated in place), cross-year findings returned per document.

    Among documents reporting the same (region, agency, year), one is canonical and the others get
    status `duplicate` and `duplicate_of`; cross-year plausibility is checked on canonical reports only.
    """
    n = table.num_rows
    duplicate_of: list[str | None] = [None] * n
    cross: list[list[dict]] = [[] for _ in range(n)]
    ok = [i for i in range(n) if status[i] == STATUS_OK]
    if not ok:
        return duplicate_of, cross
    is_ok = pa.array([s == STATUS_OK for s in status], pa.bool_())
    cells, parents = staging.flatten(table.select(["cells"]), "cells")
    mask = pc.and_(pc.array_take(is_ok, parents), cross_report_cells_mask(cells))
    kept_cells = cells.filter(mask).to_pylist()
    kept_parents = parents.filter(mask).to_pylist()
    row_of = {i: j for j, i in enumerate(ok)}
    by_row: list[list[dict]] = [[] for _ in ok]
    for parent, cell in zip(kept_parents, kept_cells, strict=True):
        by_row[row_of[parent]].append(cell)
    columns = ["report_id", "region", "fetched_at", *staging.PARSED_FIELDS.names]
    columns.remove("cells")
    rows = table.select(columns).filter(is_ok).to_pylist()
    entries = []
    for j, row in enumerate(rows):
        report = staging.report_of({**row, "cells": None}, by_row[j])
        entries.append(
            crossreport.Entry(
                row["report_id"], row["region"], report.agency, report.year, row["fetched_at"], report
            )
        )
    index = {row["report_id"]: ok[j] for j, row in enumerate(rows)}
    duplicates = crossreport.choose_canonical(entries)
    for report_id, canonical in duplicates.items():
        i = index[report_id]
        status[i], duplicate_of[i] = STATUS_DUPLICATE, canonical
        errors[i] = f"duplicate of {canonical}: another document reports the same region, agency and year"
    for report_id, finding in crossreport.cross_year_findings(
        [e for e in entries if e.report_id not in duplicates]
    ):
        cross[index[report_id]].append(asdict(finding))
    return duplicate_of, cross


def build_snapshot(
    settings: Settings, states: dict[str, Any], previous: pa.Table | None = None, *, log: Log | None = None
) -> tuple[pa.Table, Validation]:
    """The staging snapshot of every document in the parse stage results `states` (pipeline.staging):
    each document's status (ok, failed, not_a_report, legacy, duplicate) and findings (the parser's,
    then the cross-report ones). Parsed content comes from `previous` where it can."""
    say = log or _quiet
    entries = [entry for state in states.values() for entry in state["documents"]]
    parsed, reused, loaded = _parsed_part(settings, entries, previous, say)
    docs = staging.from_rows(
        [
            staging.doc_columns(
                RawDocument(**e["doc"]),
                e["region"],
                e["parser_version"],
                e["cache_file"],
                e.get("cache_digest"),
            )
            for e in entries
        ],
        staging.DOC_FIELDS,
    )
    table = pa.Table.from_arrays(
        [*docs.columns, *parsed.columns], schema=pa.schema([*staging.DOC_FIELDS, *staging.PARSED_FIELDS])
    )
    status, errors = [], []
    for is_parsed, kind, parse_error in zip(
        table.column("parsed").to_pylist(),
        table.column("kind").to_pylist(),
        table.column("parse_error").to_pylist(),
        strict=True,
    ):
        s, e = _status(bool(is_parsed), kind, parse_error)
        status.append(s)
        errors.append(e)
    duplicate_of, cross = _cross_report(table, status, errors)
    table = pa.Table.from_arrays(
        [
            *table.columns,
            pa.array(status, pa.string()),
            pa.array(errors, pa.string()),
            pa.array(duplicate_of, pa.string()),
            pa.array(cross, pa.list_(staging.FINDING_TYPE)),
        ],
        schema=staging.SCHEMA,
    )
    return table, Validation(
        documents=table.num_rows,
        status=_value_counts(table.column("status")),
        checks=_check_counts(table),
        reused=reused,
        loaded=loaded,
    )


def _value_counts(column: pa.ChunkedArray | pa.Array) -> dict[str, int]:
    counts = pc.value_counts(column)
    return {v.as_py(): c.as_py() for v, c in zip(counts.field("values"), counts.field("counts"), strict=True)}


def _check_counts(table: pa.Table) -> dict[str, int]:
    out: dict[str, int] = {}
    for column in ("report_findings", "cross_findings"):
        findings, _ = staging.flatten(table.select([column]), column)
        if findings.num_rows:
            for check, n in _value_counts(findings.column("check")).items():
                out[check] = out.get(check, 0) + n
    return dict(sorted(out.items()))


def _previous_snapshot(settings: Settings) -> pa.Table | None:
    found = staging.read(
        snapshot_path(settings), columns=["cache_file", "cache_digest", *staging.PARSED_FIELDS.names]
    )
    return found[0] if found is not None else None


def _require_parse(settings: Settings, states: dict[str, Any], missing: list[str], say: Log) -> None:
    if settings.sources and not states:
        raise FileNotFoundError(
            f"{stage_path(settings, 'parse', settings.sources[0].name)} does not exist: "
            "run the 'parse' stage first"
        )
    if missing:
        say(f"validate: no parse result for {', '.join(missing)} (never scraped successfully)")


def validate_all(settings: Settings, *, log: Log | None = None) -> Validation:
    """Decide each document's status and gather its findings, over the last parse result of every
    configured source; persist the staging snapshot for the tables (and a summary)."""
    say = log or _quiet
    states, digests, missing = _parse_states(settings)
    _require_parse(settings, states, missing, say)
    table, result = build_snapshot(settings, states, _previous_snapshot(settings), log=say)
    staging.write(snapshot_path(settings), table, digests)
    del table
    staging.release_memory()
    _write_json(
        stage_path(settings, "validate"),
        {
            "finished_at": now_utc(),
            "snapshot": fs.relative(snapshot_path(settings), settings.data_dir),
            "parse_results": digests,
            "documents": result.documents,
            "status": result.status,
            "findings_by_check": result.checks,
            "reused_from_last_snapshot": result.reused,
            "read_from_parse_cache": result.loaded,
        },
    )
    say(
        "validate: "
        + ", ".join(f"{n} {status}" for status, n in sorted(result.status.items()))
        + f"; {result.findings} findings"
    )
    return result


def load_snapshot(
    settings: Settings, columns: list[str] | None = None, *, log: Log | None = None
) -> pa.Table:
    """What the tables are built from: the validate stage's snapshot (only `columns`, if given).

    When the parse results changed since it was written (a source parsed again without validate), the
    snapshot is brought up to date in memory, the way validate would (`log` says so); it is not
    persisted: that is the validate stage's job."""
    found = staging.read(snapshot_path(settings), columns=columns)
    if found is None:
        raise FileNotFoundError(f"{snapshot_path(settings)} does not exist: run the 'validate' stage first")
    table, inputs = found
    if inputs == _parse_digests(settings):
        return table
    if log is not None:
        log("tables: parse results changed since the last validation: validating again in memory")
    states, _digests, missing = _parse_states(settings)
    _require_parse(settings, states, missing, _quiet)
    fresh, _ = build_snapshot(settings, states, _previous_snapshot(settings))
    return fresh.select(columns) if columns is not None else fresh


def load_staged(settings: Settings) -> list[Staged]:
    """The snapshot as Staged values with their ParsedReports (for inspection and small corpora; the
    table assets read the columnar snapshot itself)."""
    out = []
    for row in load_snapshot(settings).to_pylist():
        report = staging.report_of(row)
        findings = [Finding(**f) for f in [*row["report_findings"], *row["cross_findings"]]]
        out.append(
            Staged(
                RawDocument(**json.loads(row["doc"])),
                row["region"],
                report,
                row["status"],
                row["error"],
                row["parser_version"],
                findings,
                row["duplicate_of"],
            )
        )
    return out
