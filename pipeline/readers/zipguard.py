"""Open an untrusted zip (a .docx) from bytes, refusing bombs, traversal names and non-zips up front.

Neither docx2python nor python-docx limits what a zip may decompress to, and a crawled file is
anyone's: the central directory is checked before any member is read. Declared sizes can lie;
Python's zipfile stops at the declared size (and then fails the CRC), and readers that decompress
a member themselves should still count bytes as they go (`check_decompressed_size`).

A package within every zip limit can still hold 100 MB of XML, and docx2python walks each element
in Python (~40 µs each): `check_markup` counts the markup of every XML member as it decompresses
and refuses a package that holds more than a report ever does, before any XML is parsed.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from lxml import etree

from pipeline.document import DocumentError

MB = 1024 * 1024
MAX_MEMBERS = 2000
MAX_TOTAL_UNCOMPRESSED = 200 * MB
MAX_MEMBER_UNCOMPRESSED = 100 * MB
MAX_RATIO = 200
RATIO_FLOOR = 1 * MB  # small members may compress very well (repetitive XML) and cannot hurt: no ratio check
_CHUNK = 1 * MB
# '<' in XML members (a start and an end tag per element, one for an empty one). A Word report has
# ~20,000 elements in all (styles included); 400,000 is ~5 MB of Word-verbose document.xml, some 150
# pages, and what docx2python walks in about 8 s on a slow core.
MAX_MARKUP = 400_000
_BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n"
#: How every XML part of a package is parsed: no entities, no DTD, no network, libxml2's size limits.
SAFE_XML = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc / .wps / .xls (Compound File Binary)


def check_zip(
    data: bytes,
    *,
    max_members: int = MAX_MEMBERS,
    max_total_uncompressed: int = MAX_TOTAL_UNCOMPRESSED,
    max_member_uncompressed: int = MAX_MEMBER_UNCOMPRESSED,
    max_ratio: float = MAX_RATIO,
) -> zipfile.ZipFile:
    """The zip in `data`, opened, once its directory passes every limit; else DocumentError."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # zipfile raises BadZipFile, OSError, ValueError, EOFError… on junk
        raise DocumentError(_not_a_zip_reason(data)) from exc
    try:
        _check_directory(
            zf.infolist(), max_members, max_total_uncompressed, max_member_uncompressed, max_ratio
        )
    except DocumentError:
        zf.close()
        raise
    return zf


def _not_a_zip_reason(data: bytes) -> str:
    if data.startswith(_OLE2_MAGIC):
        return "docx: not a zip archive (a legacy binary .doc/.wps)"
    if data.startswith(b"%PDF"):
        return "docx: not a zip archive (a PDF)"
    if data.startswith(b"PK"):
        return "docx: corrupt or truncated zip archive"
    return "docx: not a zip archive (maybe a legacy .doc)"


def _check_directory(
    infos: list[zipfile.ZipInfo], max_members: int, max_total: int, max_member: int, max_ratio: float
) -> None:
    if len(infos) > max_members:
        raise DocumentError(f"docx: zip has {len(infos)} members (limit {max_members})")
    total = 0
    for info in infos:
        _check_name(info.filename)
        if info.file_size > max_member:
            raise DocumentError(
                f"docx: zip member {info.filename!r} declares {info.file_size} bytes (limit {max_member})"
            )
        if info.file_size >= RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise DocumentError(
                f"docx: zip member {info.filename!r} compresses {ratio:.0f}:1 (limit {max_ratio:g}:1), a zip bomb?"
            )
        total += info.file_size
    if total > max_total:
        raise DocumentError(f"docx: zip declares {total} bytes uncompressed in all (limit {max_total})")


def _check_name(name: str) -> None:
    """Refuse names that would escape an extraction folder: absolute, drive-qualified, or with `..`."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise DocumentError(f"docx: zip member name {name!r} escapes the archive (path traversal)")


def check_decompressed_size(zf: zipfile.ZipFile, name: str, limit: int) -> int:
    """The real size of member `name`, decompressed in chunks and counted; DocumentError past `limit`.

    `check_zip` checked the declared size, but that is only a claim: this counts bytes, and stops
    early, so a lying member costs at most `limit` bytes of work and one chunk of memory.
    """
    size = 0
    try:
        with zf.open(name) as member:
            while chunk := member.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise DocumentError(f"docx: {name} decompresses past {limit} bytes")
    except KeyError:
        raise DocumentError(f"docx: no {name} in the archive") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        # bad CRC (a size lie caught by zipfile), corrupt deflate data, unknown method, encryption
        raise DocumentError(f"docx: {name} is unreadable ({exc})") from None
    return size


def check_markup(zf: zipfile.ZipFile, limit: int = MAX_MARKUP) -> int:
    """The markup count of all XML members (see MAX_MARKUP); DocumentError past `limit`.

    A member whose bytes start with `<` (UTF-8, the only encoding Word writes) has its `<` bytes
    counted while it decompresses, at C speed. Any other member is parsed as XML with a safe
    parser and its elements counted twice: binary parts (images) fail at the first bytes, and XML in
    another encoding (UTF-16…), which docx2python would read, is counted too. A member that is not
    readable is left to the reader to refuse if it needs it.
    """
    total = 0
    for info in zf.infolist():
        if info.is_dir():
            continue
        try:
            with zf.open(info) as member:
                first = member.read(_CHUNK)
                if first.lstrip(_BOM_AND_SPACE).startswith(b"<"):
                    total += first.count(b"<")
                    while total <= limit and (chunk := member.read(_CHUNK)):
                        total += chunk.count(b"<")
                else:
                    total += 2 * _count_elements(_Rejoined(first, member), (limit - total) // 2 + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError):
            continue
        if total > limit:
            raise DocumentError(f"docx: more than {limit} XML tags in its parts: too large to read")
    return total


class _Rejoined:
    """A member's first chunk (already read) followed by the rest of it, as a file for lxml."""

    def __init__(self, first: bytes, rest: io.BufferedIOBase) -> None:
        self.first, self.rest = first, rest

    def read(self, size: int = -1) -> bytes:
        if not self.first:
            return self.rest.read(size)
        if size < 0:
            out, self.first = self.first + self.rest.read(), b""
        else:
            out, self.first = self.first[:size], self.first[size:]
        return out


def _count_elements(stream: _Rejoined, limit: int) -> int:
    """Elements of an XML stream, counted up to just past `limit`, parsed safely and let go of as
    they end; what was counted before a syntax error (not XML, or broken) stands."""
    count = 0
    try:
        for _event, el in etree.iterparse(
            stream,
            events=("end",),
            **SAFE_XML,
        ):
            count += 1
            if count > limit:
                break
            el.clear(keep_tail=True)
            parent = el.getparent()
            while parent is not None and el.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError:
        pass
    return count
