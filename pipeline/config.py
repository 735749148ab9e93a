"""Configuration: the sources file (CONTRACT.md) and the data-dir layout.

`XXGK_SOURCES` / `XXGK_DATA_DIR` set both for every entry point (CLI, dagster dev, schedules);
defaults are `data/sources.yaml` and `data/`, relative to the working directory. The data dir may be
an fsspec URL (`s3://bucket/prefix`): see `pipeline.fs`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from pipeline import fs
from pipeline.fs import DataPath

DEFAULT_SOURCES = "data/sources.yaml"
DEFAULT_DATA_DIR = "data"
_NAME = re.compile(r"^[a-z0-9_-]+$")


class ConfigError(ValueError):
    """The sources file is missing or malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class ListingApi:
    """A JSON listing endpoint (CONTRACT.md v2): `url` with `{page}`, counted up from `first_page`;
    `items` the dotted path to the list of items; `title`, `link`, `date` the item fields."""

    url: str
    items: str
    title: str
    link: str
    first_page: int = 1
    date: str | None = None

    def page_url(self, page: int) -> str:
        return self.url.replace("{page}", str(page))


@dataclass(frozen=True, slots=True)
class Source:
    """One configured source: a local folder (`path`) or a website (`start_urls`, `listing_api`)."""

    name: str
    region: str | None = None
    path: Path | None = None
    start_urls: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    max_pages: int = 500
    delay_seconds: float = 1.0
    listing_api: ListingApi | None = None
    download_deadline_seconds: float = 120.0  # one response, request to last byte

    @property
    def is_web(self) -> bool:
        return bool(self.start_urls or self.listing_api)


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the sources file is and where data goes: raw store, parse cache, warehouse.

    `data_dir` is a `pathlib.Path` for a local folder, a `upath.UPath` on object storage (`pipeline.fs`).
    """

    sources_file: Path
    data_dir: DataPath
    sources: tuple[Source, ...] = field(default=())

    @property
    def raw_dir(self) -> DataPath:
        return self.data_dir / "raw"

    @property
    def cache_dir(self) -> DataPath:
        return self.data_dir / "cache"

    @property
    def warehouse_dir(self) -> DataPath:
        return self.data_dir / "warehouse"

    def source(self, name: str) -> Source:
        """The configured source called `name` (KeyError naming the sources file if there is none)."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(f"no source {name!r} in {self.sources_file}")


def _url(url: str, base: Path) -> str:
    """A start URL; one without a scheme is a local mirror path relative to the sources file."""
    if "://" in url:
        return url
    path = Path(url)
    return (path if path.is_absolute() else base / path).resolve().as_uri()


def _source(entry: object, base: Path, index: int) -> Source:
    if not isinstance(entry, dict):
        raise ConfigError(f"sources[{index}]: expected a mapping, got {type(entry).__name__}")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"sources[{index}]: name {name!r} must match [a-z0-9_-]+")
    has_path, has_urls = "path" in entry, "start_urls" in entry or "listing_api" in entry
    if has_path == has_urls:
        raise ConfigError(f"source {name!r}: give either 'path', or 'start_urls' and/or 'listing_api'")
    region = entry.get("region")
    if region is not None and not isinstance(region, str):
        raise ConfigError(f"source {name!r}: region must be text")
    if has_path:
        path = Path(str(entry["path"]))
        return Source(name=name, region=region, path=path if path.is_absolute() else base / path)
    urls = entry.get("start_urls", [])
    if isinstance(urls, str):
        urls = [urls]
    if ("start_urls" in entry and not urls) or not all(isinstance(u, str) for u in urls):
        raise ConfigError(f"source {name!r}: start_urls must be a non-empty list of URLs")
    urls = [_url(u, base) for u in urls]
    for u in urls:
        if urlsplit(u).scheme not in ("http", "https", "file"):
            raise ConfigError(f"source {name!r}: unsupported URL scheme in {u!r}")
    api = _listing_api(entry["listing_api"], name) if "listing_api" in entry else None
    hosts = [*urls, api.url] if api else urls
    domains = entry.get("allowed_domains") or sorted({urlsplit(u).hostname or "" for u in hosts})
    try:
        max_pages = int(entry.get("max_pages", 500))
        delay = float(entry.get("delay_seconds", 1.0))
        deadline = float(entry.get("download_deadline_seconds", 120.0))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"source {name!r}: {exc}") from exc
    if deadline <= 0:
        raise ConfigError(f"source {name!r}: download_deadline_seconds must be positive")
    return Source(
        name=name,
        region=region,
        start_urls=tuple(urls),
        allowed_domains=tuple(str(d).lower() for d in domains),
        max_pages=max_pages,
        delay_seconds=delay,
        listing_api=api,
        download_deadline_seconds=deadline,
    )


def _listing_api(entry: object, name: str) -> ListingApi:
    """The `listing_api` mapping of a web source, checked."""
    where = f"source {name!r}: listing_api"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with url, items, title and link")
    fields = {}
    for key in ("url", "items", "title", "link", "date"):
        value = entry.get(key)
        if value is None and key == "date":
            continue
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: '{key}' must be given as text")
        fields[key] = value.strip()
    if "{page}" not in fields["url"] or urlsplit(fields["url"]).scheme not in ("http", "https"):
        raise ConfigError(f"{where}: url must be an http(s) URL containing {{page}}")
    unknown = sorted(set(entry) - {"url", "first_page", "items", "title", "link", "date"})
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}")
    first = entry.get("first_page", 1)
    if not isinstance(first, int) or isinstance(first, bool) or first < 0:
        raise ConfigError(f"{where}: first_page must be a whole number ≥ 0")
    return ListingApi(first_page=first, **fields)


def load_sources(path: Path) -> tuple[Source, ...]:
    """Read and validate a sources file; relative `path:` entries resolve against its folder."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read sources file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"sources file {path} is not valid YAML: {exc}") from exc
    entries = (doc or {}).get("sources") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"sources file {path}: expected a top-level 'sources:' list")
    sources = tuple(_source(e, path.parent.resolve(), i) for i, e in enumerate(entries))
    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"sources file {path}: duplicate source names {dupes}")
    return sources


def load_settings(
    sources_file: str | Path | None = None, data_dir: str | os.PathLike[str] | None = None
) -> Settings:
    """Settings from arguments, else the environment, else the defaults. The data dir may be a URL."""
    sources_path = Path(sources_file or os.environ.get("XXGK_SOURCES") or DEFAULT_SOURCES)
    data_path = fs.location(data_dir or os.environ.get("XXGK_DATA_DIR") or DEFAULT_DATA_DIR)
    return Settings(sources_file=sources_path, data_dir=data_path, sources=load_sources(sources_path))
