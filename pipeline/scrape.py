"""The scrape stage: each configured source into the raw store and its own manifest.

Works one source at a time (`scrape_source`), each with its own manifest file and its own status
file: the Dagster asset is partitioned by source, and partitions run in parallel processes without
sharing a file. A source that fails is recorded (status file, returned result) and never stops the
others. A source fails as a whole when its collector raises (a path source's folder is missing) or,
for a website, when not one of its listing pages could be fetched (the site is down or refusing us:
worth another try later, which is what the asset's retry policy does).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

from pipeline import fs
from pipeline.config import Settings, Source
from pipeline.fs import DataPath
from pipeline.sources.local import collect
from pipeline.sources.web import crawl
from pipeline.store import Manifest, RawDocument, RawStore, manifest_path, now_utc

COUNT_KEYS = ("discovered", "fetched", "not_modified", "failed")


@dataclass(slots=True)
class SourceResult:
    """What one scrape of one source did. `ok` is False when the source as a whole failed."""

    source: str
    kind: str  # path | web
    ok: bool = True
    error: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    documents: int = 0  # manifest entries after the scrape (found now or before)
    finished_at: str | None = None


def status_path(raw_dir: DataPath, source: str) -> DataPath:
    return raw_dir / "status" / f"{source}.json"


def _collector(source: Source) -> Callable[..., dict[str, int]]:
    """The function that scrapes this kind of source."""
    return crawl if source.is_web else collect


def scrape_source(
    source: Source, settings: Settings, *, log: Callable[[str], None] | None = None
) -> SourceResult:
    """Scrape one source. Never raises for a source's own failure: the result (and status file) says it."""
    say = log or (lambda _msg: None)
    result = SourceResult(source=source.name, kind="web" if source.is_web else "path")
    store = RawStore(settings.raw_dir)
    manifest = Manifest.load(manifest_path(settings.raw_dir, source.name))
    before = _snapshot(manifest)
    try:
        counts = _collector(source)(source, store, manifest, log=say)
        result.counts.update({k: int(v) for k, v in counts.items()})
        if source.is_web and counts.get("listings_failed", 0) and not counts.get("listings", 0):
            result.ok = False
            result.error = f"none of its {counts['listings_failed']} listing pages could be fetched"
            say(f"{source.name}: FAILED — {result.error}")
    except Exception as exc:  # a failing source is recorded, never fatal for the run
        result.ok = False
        result.error = f"{type(exc).__name__}: {exc}"
        say(f"{source.name}: FAILED — {result.error}")
    finally:
        # Entries upserted before a failure are still true: keep them.
        if _snapshot(manifest) != before:
            manifest.save()
    result.documents = len(manifest.entries)
    result.finished_at = now_utc()
    fs.write_bytes(
        status_path(settings.raw_dir, source.name),
        json.dumps(asdict(result), ensure_ascii=False, indent=1).encode("utf-8"),
    )
    if result.ok:
        c = result.counts
        say(
            f"{source.name}: {c['discovered']} found, {c['fetched']} new or changed, "
            f"{c['not_modified']} unchanged, {c['failed']} failed"
        )
    return result


def failed_fetches(settings: Settings, source: Source) -> list[RawDocument]:
    """The source's manifest documents whose last fetch failed (their `error` says why)."""
    manifest = Manifest.load(manifest_path(settings.raw_dir, source.name))
    return [doc for doc in manifest.documents() if doc.status == "failed" or doc.error]


def scrape_all(settings: Settings, *, log: Callable[[str], None] | None = None) -> list[SourceResult]:
    """Scrape every configured source in turn; one failing source does not stop the next."""
    return [scrape_source(source, settings, log=log) for source in settings.sources]


_DOC_FIELDS = tuple(f.name for f in fields(RawDocument) if f.name != "extra")


def _snapshot(manifest: Manifest) -> list[tuple]:
    """The manifest's entries as plain values (a copy: collectors update entries in place)."""
    return [
        (*(getattr(d, name) for name in _DOC_FIELDS), tuple(sorted(d.extra.items())))
        for d in manifest.documents()
    ]
