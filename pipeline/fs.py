"""Files of the data dir, on a local disk or on object storage: the one module that reads and writes them.

`XXGK_DATA_DIR` (or `--data-dir`) is a local folder or an fsspec URL (`s3://bucket/prefix`, or any
protocol fsspec knows and whose package is installed: `pip install xxgk[s3]` for S3). `location()`
turns it into a path object: a plain `pathlib.Path` for local folders — so local behaviour is exactly
what it was — and a `upath.UPath` otherwise; both have the pathlib API (`/`, `.name`, `.parent`).
The raw store, manifests, parse cache, stage files and the warehouse go through the functions below.

Writes are atomic, so a reader (or a run killed half-way) never sees half a file:

- locally: a hidden temporary file beside the target (`.<name>.<random>.tmp`), fsync, `os.replace`;
- on object storage: one PUT of the whole object (S3 makes an object visible only once it is complete;
  large objects go up as a multipart upload, which is also visible only when completed).

Remote credentials and endpoints come from fsspec's usual configuration: for S3 the AWS environment
(`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`, profiles, instance roles) and
`FSSPEC_S3_ENDPOINT_URL` for an S3-compatible store (MinIO, Ceph, a test server).
"""

from __future__ import annotations

import io
import os
import posixpath
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from fsspec.utils import get_protocol
from upath import UPath

#: A data-dir location: pathlib.Path when local, UPath (same API) on object storage.
DataPath = Path | UPath

_LOCAL_PROTOCOLS = ("file", "local")


def location(spec: str | os.PathLike[str]) -> DataPath:
    """A local folder or file → `Path` (a `file://` URL too); any other fsspec URL → `UPath`."""
    if isinstance(spec, UPath) and not is_local(spec):
        return spec
    text = os.fspath(spec) if not isinstance(spec, str) else spec
    if get_protocol(text) in _LOCAL_PROTOCOLS:
        return Path(text.removeprefix("file://"))
    return UPath(text)


def is_local(path: DataPath) -> bool:
    return not isinstance(path, UPath) or getattr(path, "protocol", "") in ("", *_LOCAL_PROTOCOLS)


def read_bytes(path: DataPath) -> bytes:
    """The file's bytes; FileNotFoundError when there is none. Remote: one GET (no HEAD first)."""
    if is_local(path):
        return Path(path).read_bytes()
    return path.fs.cat_file(path.path)


def read_many(paths: list[DataPath]) -> list[bytes | None]:
    """Each file's bytes, None where there is no file. On object storage the requests go out
    concurrently (fsspec's batched `cat`): thousands of small files cost seconds, not minutes."""
    out: list[bytes | None] = []
    remote = [p for p in paths if not is_local(p)]
    if not remote:
        for path in paths:
            try:
                out.append(Path(path).read_bytes())
            except FileNotFoundError:
                out.append(None)
        return out
    filesystem = remote[0].fs
    if len(remote) != len(paths) or any(p.fs is not filesystem for p in remote):
        return [_read_or_none(p) for p in paths]
    keys = [p.path for p in remote]
    got = filesystem.cat(keys, on_error="return")
    for key in keys:
        value = got.get(filesystem._strip_protocol(key))
        if isinstance(value, FileNotFoundError) or value is None:
            out.append(None)
        elif isinstance(value, BaseException):
            raise value
        else:
            out.append(value)
    return out


def _read_or_none(path: DataPath) -> bytes | None:
    try:
        return read_bytes(path)
    except FileNotFoundError:
        return None


def exists_many(paths: list[DataPath]) -> list[bool]:
    """Whether each file exists. On object storage one listing under the paths' common prefix
    (paginated, about a thousand keys per request) instead of one request per file."""
    remote = [p for p in paths if not is_local(p)]
    if not remote:
        return [os.path.exists(p) for p in paths]
    filesystem = remote[0].fs
    if len(remote) != len(paths) or any(p.fs is not filesystem for p in remote):
        return [exists(p) for p in paths]
    keys = [filesystem._strip_protocol(p.path) for p in remote]
    prefix = posixpath.commonpath(keys)
    if prefix in keys:  # one file (or the same one several times): list its folder
        prefix = posixpath.dirname(prefix)
    try:
        found = {filesystem._strip_protocol(k) for k in filesystem.find(prefix)}
    except FileNotFoundError:
        found = set()
    return [k in found for k in keys]


def read_text(path: DataPath) -> str:
    return read_bytes(path).decode("utf-8")


def exists(path: DataPath) -> bool:
    return path.exists()


def atomic_write(path: DataPath, write: Callable[[str | IO[bytes]], Any]) -> None:
    """Write a file all at once: `write(target)` writes the content to `target` (a local path or a
    binary file object); the file at `path` then appears complete or not at all."""
    if is_local(path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            write(tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return
    buffer = io.BytesIO()
    write(buffer)
    path.write_bytes(buffer.getvalue())  # one PUT: the object is visible only once complete


def write_bytes(path: DataPath, data: bytes) -> None:
    """Write `data` to `path` atomically (see the module docstring)."""

    def _write(target: str | IO[bytes]) -> None:
        if isinstance(target, str):
            with open(target, "wb") as fh:
                fh.write(data)
        else:
            target.write(data)

    atomic_write(path, _write)


def relative(path: DataPath, base: DataPath) -> str:
    """`path` relative to the folder `base`, as a POSIX string (for the stage files)."""
    if is_local(path):
        return Path(path).relative_to(Path(base)).as_posix()
    inner, outer = str(path).rstrip("/"), str(base).rstrip("/") + "/"
    if not inner.startswith(outer):
        raise ValueError(f"{path} is not inside {base}")
    return inner[len(outer) :]


def read_parquet(path: DataPath, columns: list[str] | None = None):  # -> pandas.DataFrame
    """A Parquet file of the warehouse as a DataFrame (pandas' own type mapping)."""
    import pandas as pd

    if is_local(path):
        return pd.read_parquet(Path(path), columns=columns)
    return pd.read_parquet(path.path, columns=columns, filesystem=path.fs)
