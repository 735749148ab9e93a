"""Path sources: every report file under a local folder, into the raw store and the source's manifest.

The counterpart of the web crawler (`pipeline.sources.web.crawl`), with the same signature and the
same counts. A file's report_id comes from the source name and its path relative to the folder, so it
is stable across runs and machines. Unchanged bytes leave the manifest entry untouched (its
`fetched_at` too: a re-run changes nothing); a file that vanished keeps its entry, and its bytes stay
in the raw store, so what was once found is never silently lost.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from pipeline.config import Source
from pipeline.encoding import decode_html
from pipeline.sources import pictures
from pipeline.sources.links import parse_html
from pipeline.store import Manifest, RawDocument, RawStore, format_for, now_utc, report_id_for

EXTENSIONS = frozenset({".docx", ".doc", ".html", ".htm", ".txt", ".pdf", ".wps"})
MAX_FILE_BYTES = 100 * 1024 * 1024  # no report is this large; larger files are refused before reading
_IMG = re.compile(rb"<img", re.IGNORECASE)
MAX_PAGE_BYTES = 50 * 1024 * 1024  # an HTML page larger than the reader takes is not searched for pictures


def _skipped(name: str) -> bool:
    """Hidden files and folders, and Office lock files (`~$report.docx`)."""
    return name.startswith((".", "~$"))


def list_files(folder: Path) -> list[Path]:
    """Report files under `folder`, recursively, in a stable order (sorted relative paths).

    Symbolic links are not followed (os.walk's default for folders; skipped for files), so a source
    never reads outside its folder.
    """
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _skipped(d))
        for name in files:
            path = Path(root) / name
            if not _skipped(name) and path.suffix.lower() in EXTENSIONS and not path.is_symlink():
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def collect(
    source: Source,
    store: RawStore,
    manifest: Manifest,
    *,
    log: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Store every report file of a path source; upsert its manifest entries (the caller saves).

    Returns counts: discovered (files seen), fetched (new or changed bytes), not_modified, failed
    (files that could not be read; their entry says why and keeps the last good bytes).
    """
    say = log or (lambda _msg: None)
    if source.path is None:
        raise ValueError(f"source {source.name!r} has no path")
    folder = source.path
    if not folder.is_dir():
        raise FileNotFoundError(f"source {source.name!r}: folder {folder} does not exist")
    counts = {"discovered": 0, "fetched": 0, "not_modified": 0, "failed": 0}
    for file in list_files(folder):
        locator = file.relative_to(folder).as_posix()
        report_id = report_id_for(source.name, locator)
        previous = manifest.entries.get(report_id)
        counts["discovered"] += 1
        try:
            size = file.stat().st_size
            if size > MAX_FILE_BYTES:
                raise OSError(f"file too large ({size} bytes; limit {MAX_FILE_BYTES})")
            data = file.read_bytes()
        except OSError as exc:
            counts["failed"] += 1
            say(f"{source.name}: cannot read {locator}: {exc}")
            entry = previous or RawDocument(report_id, source.name, locator, format_for(locator))
            entry.status, entry.error = "failed", f"cannot read file: {exc}"
            manifest.upsert(entry)
            continue
        sha, _new = store.put(data)
        extra = _page_pictures(file, data, folder, store) if format_for(locator) == "html" else {}
        if (
            previous is not None
            and previous.sha256 == sha
            and previous.status == "ok"
            and previous.extra.get(pictures.EXTRA_KEY) == extra.get(pictures.EXTRA_KEY)
        ):
            counts["not_modified"] += 1
            continue
        counts["fetched"] += 1
        manifest.upsert(
            RawDocument(
                report_id=report_id,
                source=source.name,
                locator=locator,
                format=format_for(locator),
                sha256=sha,
                size=len(data),
                fetched_at=now_utc(),
                title_hint=file.stem,
                region=source.region,
                extra=extra,
            )
        )
    return counts


def _page_pictures(page: Path, data: bytes, folder: Path, store: RawStore) -> dict[str, str]:
    """The manifest extra recording the pictures a saved page shows from files of the folder (its
    tables may be pictures), each stored; none for a page whose tables are text."""
    if len(data) > MAX_PAGE_BYTES or _IMG.search(data) is None:
        return {}  # the HTML reader refuses it anyway; a page without <img> needs no parse here
    tree = parse_html(decode_html(data, None)[0])
    if pictures.shows_all_tables(tree):
        return {}
    found = [(src, store.put(picture)[0]) for src, picture in pictures.local_pictures(page, tree, folder)]
    return {pictures.EXTRA_KEY: pictures.encode(found)} if found else {}
