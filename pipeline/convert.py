"""Legacy Word (.doc) and WPS (.wps) → .docx, by LibreOffice headless; the .docx reader does the rest.

Word 97–2003 and Kingsoft WPS files are OLE2 compound files, and no maintained Python library reads
their tables; LibreOffice converts them faithfully (PDF.md). How it is run:

- `soffice` from `XXGK_SOFFICE`, else from PATH; when there is none, each such document fails with
  the package to install (`MISSING`), and everything else is read as usual.
- Each `Converter` has a private LibreOffice profile (`-env:UserInstallation`) in its own temporary
  folder: two processes converting at once never share one (LibreOffice would hand the job to the
  other process and return without output). Files are written there under neutral names (never a
  server's file name) and converted in batches: one LibreOffice start for many documents.
- A batch that fails or runs past its time limit is converted again one document at a time, each
  with `XXGK_CONVERT_TIMEOUT` seconds (default 60), so one bad file fails alone. LibreOffice runs in
  its own process group and is killed whole at the limit.
- A file that is not what its extension says is read for what it is: a .doc that is really a .docx
  (a zip), HTML or plain text is common on portals (`sniff`).

The parse stage keeps the converted bytes by the source's content hash (`pipeline.stages`), so a
rerun converts nothing.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Hashable, Mapping
from pathlib import Path

from pipeline.document import DocumentError
from pipeline.env import number_from_env

SOFFICE_ENV = "XXGK_SOFFICE"
TIMEOUT_ENV = "XXGK_CONVERT_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
BATCH_SECONDS_PER_DOCUMENT = 10.0  # a batch may take its first start plus this per document
MAX_BYTES = 50 * 1024 * 1024
MISSING = "needs LibreOffice to read .{fmt}: apt-get install libreoffice-writer-nogui"
LEGACY_FORMATS = ("doc", "wps")

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_RTF = b"{\\rtf"


class ConverterMissing(DocumentError):
    """LibreOffice is not installed: not the document's fault (not cached: installing it fixes it)."""


def find_soffice(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    configured = env.get(SOFFICE_ENV, "").strip()
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def timeout_from_env(environ: Mapping[str, str] | None = None) -> float:
    """The conversion time limit; 0 or less means the default."""
    value = number_from_env(TIMEOUT_ENV, DEFAULT_TIMEOUT, minimum=-math.inf, environ=environ)
    return value if value > 0 else DEFAULT_TIMEOUT


def sniff(data: bytes, fmt: str) -> str:
    """What a .doc/.wps file really is: the format to read it as (`fmt` when it is a Word/WPS/RTF
    file LibreOffice must convert)."""
    head = data[:512].lstrip()
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    if head.startswith(_OLE2) or head.startswith(_RTF):
        return fmt
    lower = head[:256].lower()
    if lower.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in lower:
        return "html"
    return fmt  # anything else: LibreOffice says whether it can read it


class Converter:
    """LibreOffice headless with a private profile; use as a context manager (the profile is removed)."""

    def __init__(self, soffice: str | None = None, timeout: float | None = None) -> None:
        self.soffice = soffice if soffice is not None else find_soffice()
        self.timeout = timeout if timeout is not None else timeout_from_env()
        self._home: tempfile.TemporaryDirectory[str] | None = None
        self.conversions = 0  # documents converted (for progress lines and tests)
        self.seconds = 0.0  # wall time spent in LibreOffice

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._home is not None:
            self._home.cleanup()
            self._home = None

    def _folder(self) -> Path:
        if self._home is None:
            self._home = tempfile.TemporaryDirectory(prefix="xxgk-soffice-")
        return Path(self._home.name)

    def convert_one(self, data: bytes, fmt: str) -> bytes:
        """One document's .docx bytes; DocumentError (ConverterMissing) with the reason otherwise."""
        result = self.convert({0: (data, fmt)})[0]
        if isinstance(result, DocumentError):
            raise result
        return result

    def convert(self, items: Mapping[Hashable, tuple[bytes, str]]) -> dict[Hashable, bytes | DocumentError]:
        """Convert many documents ((bytes, fmt) by key): each key's .docx bytes or its DocumentError."""
        out: dict[Hashable, bytes | DocumentError] = {}
        todo: dict[Hashable, tuple[bytes, str]] = {}
        for key, (data, fmt) in items.items():
            if self.soffice is None:
                out[key] = ConverterMissing(MISSING.format(fmt=fmt))
            elif len(data) > MAX_BYTES:
                out[key] = DocumentError(f"{fmt}: {len(data)} bytes (limit {MAX_BYTES})")
            elif not data.strip():
                out[key] = DocumentError(f"{fmt}: empty file")
            else:
                todo[key] = (data, fmt)
        if not todo:
            return out
        if len(todo) > 1:
            batch = self._run(todo, self.timeout + BATCH_SECONDS_PER_DOCUMENT * len(todo))
            if not any(isinstance(v, _Stopped) for v in batch.values()):
                return {**out, **batch}
        for key, item in todo.items():  # alone: one bad file fails alone
            result = self._run({key: item}, self.timeout)[key]
            out[key] = DocumentError(str(result)) if isinstance(result, _Stopped) else result
        return out

    def _run(
        self, todo: Mapping[Hashable, tuple[bytes, str]], limit: float
    ) -> dict[Hashable, bytes | DocumentError]:
        folder = Path(tempfile.mkdtemp(prefix="run-", dir=self._folder()))
        try:
            names = {}
            for i, (key, (data, fmt)) in enumerate(todo.items()):
                path = folder / "in" / f"{i}.{fmt}"
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(data)
                names[key] = path
            profile = (self._folder() / "profile").as_uri()
            command = [
                str(self.soffice),
                f"-env:UserInstallation={profile}",
                "--headless",
                "--norestore",
                "--nologo",
                "--nolockcheck",
                "--convert-to",
                "docx:MS Word 2007 XML",
                "--outdir",
                str(folder / "out"),
                *map(str, names.values()),
            ]
            start = time.monotonic()
            stopped = _call(command, limit, folder)
            self.seconds += time.monotonic() - start
            results: dict[Hashable, bytes | DocumentError] = {}
            for key, path in names.items():
                fmt = path.suffix[1:]
                converted = folder / "out" / f"{path.stem}.docx"
                if stopped is not None:
                    results[key] = _Stopped(f"{fmt}: LibreOffice {stopped}")
                elif converted.is_file() and converted.stat().st_size:
                    results[key] = converted.read_bytes()
                    self.conversions += 1
                else:
                    results[key] = DocumentError(
                        f"{fmt}: LibreOffice could not convert it (not a readable .{fmt})"
                    )
            return results
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class _Stopped(DocumentError):
    """The LibreOffice run as a whole failed (time limit, crash): its documents are tried alone."""


def _call(command: list[str], limit: float, folder: Path) -> str | None:
    """Run LibreOffice in its own process group; None when it finished, else why it was stopped."""
    env = {**os.environ, "HOME": str(folder)}  # its caches and lock files stay in the temporary folder
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return f"exceeded {limit:g} s"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # helpers it left behind
    if process.returncode < 0:
        try:
            name = signal.Signals(-process.returncode).name
        except ValueError:
            name = f"signal {-process.returncode}"
        return f"crashed ({name})"
    return None
