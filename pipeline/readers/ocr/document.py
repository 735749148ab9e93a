"""Documents that are pictures, and pictures inside documents, as a `Document` read by OCR.

A picture file (PNG, JPEG, GIF, …) is a one-page scan: it must yield a table, else it fails with the
reason. The pictures other readers keep (`Document.pictures`) are read here (`add_pictures`) when
their text lacks a statistics table, and the Document then says what OCR read: `reader = "ocr"` and
an `ocr_values` finding of severity info ("values read by OCR from N images").
"""

from __future__ import annotations

from pipeline.document import Document, DocumentError, Picture
from pipeline.readers.grid import GridBudget
from pipeline.readers.ocr.image import decode
from pipeline.readers.ocr.reader import Pictures, read_pictures, require_tables
from pipeline.report import Finding

READER = "ocr"


def ocr_finding(pictures: int) -> Finding:
    return Finding(
        "ocr_values",
        "all",
        None,
        float(pictures),
        "info",
        f"values read by OCR from {pictures} image{'s' if pictures != 1 else ''}",
    )


def mark_ocr(doc: Document, found: Pictures) -> None:
    """Record on `doc` that its values come from pictures (when OCR found any table)."""
    if found.tables:
        doc.reader = READER
        doc.findings.append(ocr_finding(found.pictures))
        doc.meta["ocr_pictures"] = str(found.pictures)
        doc.meta["ocr_seconds"] = f"{found.seconds:.3f}"


def read_picture(data: bytes) -> Document:
    """A picture file as a one-page scanned report."""
    image = decode(data, page=1, origin="picture")
    found = read_pictures([image], GridBudget("image"))
    require_tables(found, "picture")
    doc = Document(format="image", tables=found.tables, paragraphs=found.paragraphs, pages=1)
    mark_ocr(doc, found)
    return doc


def add_pictures(doc: Document, pictures: list[Picture]) -> None:
    """Append what OCR reads from a document's embedded pictures (an HTML page's `data:` URIs, a
    .docx's images) after its text tables. A picture that cannot be decoded (a Word metafile, a
    broken one) is no table and is passed over: the missing tables say what was not found."""
    found, budget = Pictures(), GridBudget(doc.format)
    for number, picture in enumerate(pictures, start=1):
        try:
            image = decode(picture.data, page=number, origin=f"image {number}")
        except DocumentError:
            continue
        image.paged = False
        before = [picture.context] if picture.context else []
        read_pictures([image], budget, first_index=len(doc.tables), into=found, before=before)
    doc.tables.extend(found.tables)
    doc.paragraphs.extend(found.paragraphs)
    mark_ocr(doc, found)
