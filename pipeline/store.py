"""Content-addressed raw store and its manifest: every output row traces to the exact bytes parsed.

Bytes live once under `raw/objects/<sha[:2]>/<sha>` whatever their name or origin (names from
servers are never used as paths). Every file goes through `pipeline.fs`: the data dir may be a local
folder or object storage, and every write is atomic. The manifest (`raw/manifest.json`) records, per document
(report_id), where it came from, what was fetched last and how: the scrape stage's output and the
parse stage's input. One manifest file per source (`raw/manifests/<source>.json`), so sources
can be scraped in parallel processes without sharing a file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from pipeline import fs
from pipeline.fs import DataPath

FORMATS = ("docx", "doc", "html", "txt", "pdf", "wps", "image")


def report_id_for(source: str, locator: str) -> str:
    """Stable id from the source name and the document's URL or relative path."""
    digest = hashlib.sha256(f"{source}\n{locator}".encode()).hexdigest()[:16]
    return f"{source}-{digest}"


def format_for(name: str, content_type: str | None = None) -> str | None:
    """Document format from a file name / URL path, else from an HTTP content type."""
    lower = name.lower().split("?")[0].split("#")[0]
    for ext, fmt in (
        (".docx", "docx"),
        (".doc", "doc"),
        (".html", "html"),
        (".htm", "html"),
        (".shtml", "html"),
        (".txt", "txt"),
        (".pdf", "pdf"),
        (".wps", "wps"),
        (".png", "image"),  # a scanned page or a table pasted as a picture: read by OCR
        (".jpg", "image"),
        (".jpeg", "image"),
        (".gif", "image"),
    ):
        if lower.endswith(ext):
            return fmt
    ctype = (content_type or "").lower()
    if "html" in ctype:
        return "html"
    if "wordprocessingml" in ctype:
        return "docx"
    if "msword" in ctype:
        return "doc"
    if "pdf" in ctype:
        return "pdf"
    if ctype.startswith("text/plain"):
        return "txt"
    if ctype.startswith(("image/png", "image/jpeg", "image/gif")):
        return "image"
    return None


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def atomic_write_bytes(path: DataPath, data: bytes) -> None:
    """Readers never see half a file: a temporary file and a rename locally, one PUT on object storage."""
    fs.write_bytes(path, data)


@dataclass(slots=True)
class RawDocument:
    """One document as last seen at its origin: the manifest's row."""

    report_id: str
    source: str
    locator: str  # URL, or path relative to the source folder
    format: str | None
    sha256: str | None = None
    size: int | None = None
    fetched_at: str | None = None
    status: str = "ok"  # ok | failed
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    http_charset: str | None = None
    encoding: str | None = None
    encoding_source: str | None = None
    title_hint: str | None = None  # link text on the listing page
    region: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class RawStore:
    """Bytes by SHA-256 under `root/objects`, written atomically and only once."""

    def __init__(self, root: DataPath) -> None:
        self.root = root
        self.objects = root / "objects"

    def path(self, sha256: str) -> DataPath:
        return self.objects / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return fs.exists(self.path(sha256))

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store bytes; returns (sha256, whether they were new)."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if fs.exists(target):
            return sha, False
        fs.write_bytes(target, data)
        return sha, True

    def get(self, sha256: str) -> bytes:
        return fs.read_bytes(self.path(sha256))


def manifest_path(raw_dir: DataPath, source: str) -> DataPath:
    return raw_dir / "manifests" / f"{source}.json"


class Manifest:
    """One source's manifest: RawDocuments by report_id, saved atomically as sorted JSON."""

    def __init__(self, path: DataPath, entries: dict[str, RawDocument] | None = None) -> None:
        self.path = path
        self.entries: dict[str, RawDocument] = entries or {}

    @classmethod
    def load(cls, path: DataPath) -> Manifest:
        try:
            text = fs.read_text(path)
        except FileNotFoundError:
            return cls(path)
        rows = json.loads(text)
        return cls(path, {r["report_id"]: RawDocument(**r) for r in rows})

    def save(self) -> None:
        rows = [asdict(self.entries[k]) for k in sorted(self.entries)]
        fs.write_bytes(self.path, json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8"))

    def upsert(self, doc: RawDocument) -> None:
        self.entries[doc.report_id] = doc

    def documents(self) -> list[RawDocument]:
        return [self.entries[k] for k in sorted(self.entries)]
