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
class Source:
    """One configured source: a local folder (`path`) or a website (`start_urls`)."""

    name: str
    region: str | None = None
    path: Path | None = None
    start_urls: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    max_pages: int = 500
    delay_seconds: float = 1.0

    @property
    def is_web(self) -> bool:
        return bool(self.start_urls)


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
    has_path, has_urls = "path" in entry, "start_urls" in entry
    if has_path == has_urls:
        raise ConfigError(f"source {name!r}: give exactly one of 'path' or 'start_urls'")
    region = entry.get("region")
    if region is not None and not isinstance(region, str):
        raise ConfigError(f"source {name!r}: region must be text")
    if has_path:
        path = Path(str(entry["path"]))
        return Source(name=name, region=region, path=path if path.is_absolute() else base / path)
    urls = entry["start_urls"]
    if isinstance(urls, str):
        urls = [urls]
    if not urls or not all(isinstance(u, str) for u in urls):
        raise ConfigError(f"source {name!r}: start_urls must be a non-empty list of URLs")
    urls = [_url(u, base) for u in urls]
    for u in urls:
        if urlsplit(u).scheme not in ("http", "https", "file"):
            raise ConfigError(f"source {name!r}: unsupported URL scheme in {u!r}")
    domains = entry.get("allowed_domains") or sorted({urlsplit(u).hostname or "" for u in urls})
    try:
        max_pages = int(entry.get("max_pages", 500))
        delay = float(entry.get("delay_seconds", 1.0))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"source {name!r}: {exc}") from exc
    return Source(
        name=name,
        region=region,
        start_urls=tuple(urls),
        allowed_domains=tuple(str(d).lower() for d in domains),
        max_pages=max_pages,
        delay_seconds=delay,
    )


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
