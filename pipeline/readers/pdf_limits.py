"""Bounds on what pdfminer decompresses: a PDF stream may expand a thousandfold.

pdfminer inflates every FlateDecode stream it reads in one `zlib.decompress` call, and repairs a
stream with a broken checksum by feeding it one byte at a time to a growing string (quadratic).
A 1 MB decompression bomb is then a gigabyte in memory, a broken one minutes of CPU. `install()`
replaces both, in pdfminer's own module, with bounded, linear versions: same output for every
stream up to `MAX_STREAM_BYTES`, a one-line DocumentError past it. A report's content streams are
a few hundred kilobytes.
"""

from __future__ import annotations

import zlib
from types import SimpleNamespace

from pipeline.document import DocumentError

MAX_STREAM_BYTES = 64 * 1024 * 1024
_CHUNK = 4096


def _too_large() -> DocumentError:
    return DocumentError(
        f"pdf: a compressed stream expands past {MAX_STREAM_BYTES} bytes (decompression bomb)"
    )


def decompress(data: bytes) -> bytes:
    """zlib.decompress, refusing output past MAX_STREAM_BYTES (raises zlib.error like it on bad data)."""
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_STREAM_BYTES + 1)
    if len(out) > MAX_STREAM_BYTES or inflater.unconsumed_tail:
        raise _too_large()
    if not inflater.eof:
        raise zlib.error("incomplete or truncated stream")
    return out


def decompress_corrupted(data: bytes) -> bytes:
    """What pdfminer's repair returns (all that inflates before the bad bytes; an error when the damage
    is before the last 3 bytes, the checksum) in linear time and bounded memory."""
    inflater = zlib.decompressobj()
    parts: list[bytes] = []
    size = 0
    pos = 0
    while pos < len(data):
        chunk = data[pos : pos + _CHUNK]
        saved = inflater.copy()
        try:
            piece = inflater.decompress(chunk, MAX_STREAM_BYTES + 1 - size)
        except zlib.error:
            inflater = saved
            for i in range(len(chunk)):  # find the bad byte: pdfminer's per-byte rule from here
                try:
                    piece = inflater.decompress(chunk[i : i + 1])
                except zlib.error:
                    if pos + i < len(data) - 3:
                        raise
                    return b"".join(parts)
                parts.append(piece)
                size += len(piece)
                if size > MAX_STREAM_BYTES:
                    raise _too_large() from None
            pos += len(chunk)
            continue
        if inflater.unconsumed_tail:
            raise _too_large()
        parts.append(piece)
        size += len(piece)
        if size > MAX_STREAM_BYTES:
            raise _too_large()
        pos += len(chunk)
    return b"".join(parts)


_installed = False


def install() -> None:
    """Bound pdfminer's stream decoding (idempotent; affects this process's pdfminer)."""
    global _installed
    if _installed:
        return
    from pdfminer import pdftypes

    pdftypes.zlib = SimpleNamespace(decompress=decompress, error=zlib.error, decompressobj=zlib.decompressobj)
    pdftypes.decompress_corrupted = decompress_corrupted
    _installed = True
