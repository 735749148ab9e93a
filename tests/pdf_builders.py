"""PDFs written byte by byte for tests: hostile structures, pictures only, mixes of real pages.

`pdf_file(objects)` lays out numbered objects with a correct cross-reference table, so each test
states exactly the structure it means (a decompression bomb, a page tree of thousands of pages,
nesting 50,000 deep, a dangling startxref); the rest uses real libraries (Pillow to make an
image-only page, pypdfium2 to splice pages of real documents).
"""

from __future__ import annotations

import io
import zlib

HELLO = b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"


def pdf_file(objects: list[bytes], *, xref_offset: int | None = None) -> bytes:
    """Objects 1..n (bodies as given; object 1 is the catalog) → PDF bytes with a valid xref (or a
    startxref pointing at `xref_offset`)."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % (xref if xref_offset is None else xref_offset))
    return out.getvalue()


def stream(data: bytes, *, flate: bool = False, extra: bytes = b"") -> bytes:
    if flate:
        data = zlib.compress(data, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def one_page(content: bytes, *, flate: bool = False, catalog_extra: bytes = b"") -> bytes:
    """A one-page PDF whose page draws `content`."""
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R" + catalog_extra + b" >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            stream(content, flate=flate),
            FONT,
        ]
    )


def many_pages(n: int) -> bytes:
    """A page tree of `n` distinct pages sharing one content stream."""
    first_page = 5
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n,
        stream(HELLO),
        FONT,
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R /Resources << /Font << /F1 4 0 R >> >> >>"
    objects += [page] * n
    return pdf_file(objects)


def decompression_bomb(megabytes: int = 200) -> bytes:
    """One page whose content stream is a few hundred KB that inflate to `megabytes` MB."""
    return one_page(b" " * (megabytes * 1024 * 1024), flate=True)


def deep_nesting(depth: int = 50_000) -> bytes:
    """A catalog entry nested `depth` arrays deep."""
    return one_page(HELLO, catalog_extra=b" /Deep " + b"[" * depth + b"]" * depth)


def image_only_pdf(pages: int = 1, size: tuple[int, int] = (1240, 1754)) -> bytes:
    """Pages that are one grey picture each, no text layer (a scan), made with Pillow."""
    from PIL import Image, ImageDraw

    images = []
    for i in range(pages):
        image = Image.new("L", size, 235)
        ImageDraw.Draw(image).rectangle((100, 200 + 40 * i, size[0] - 100, 900), outline=20, width=3)
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=150.0, save_all=True, append_images=images[1:])
    return out.getvalue()


def spliced(*parts: tuple[bytes, list[int] | None]) -> bytes:
    """A PDF of pages taken from others, in order: (pdf bytes, 0-based page indexes or None for all)."""
    import pypdfium2 as pdfium

    out = pdfium.PdfDocument.new()
    sources = []
    for data, pages in parts:
        source = pdfium.PdfDocument(data)
        sources.append(source)
        out.import_pages(source, pages)
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()
