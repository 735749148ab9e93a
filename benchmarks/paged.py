"""PDFs and Word 97 .docs for the scale benchmark: a pool of distinct reports, then byte-distinct copies.

Printing thousands of PDFs through LibreOffice or Chromium would take longer than the run measured, so
`add_paged(docs, pdfs, docs_doc)` prints a pool of distinct generated reports once (LibreOffice: PDF
and .doc, one batch each) and writes each copy with a few bytes appended after the end of the file
(`%%EOF` comment for a PDF, padding after the compound file for a .doc). Every copy has its own
content hash, so the pipeline parses (and converts) each one in full: the work is the real work.
"""

from __future__ import annotations

from pathlib import Path

from tests.synth import make_spec, render
from tests.synth.producers import libreoffice_convert

POOL = 24  # distinct reports printed


def add_paged(docs: Path, pdfs: int, legacy: int, *, seed: int = 1) -> dict[str, int]:
    """Write `pdfs` PDFs and `legacy` .docs into `docs`; returns how many of each."""
    if not pdfs and not legacy:
        return {"pdf": 0, "doc": 0}
    pool = {
        f"p{i}": render(make_spec(seed * 7919 + i, template=("2019", "2021")[i % 2]), "docx").data
        for i in range(POOL)
    }
    written = {"pdf": 0, "doc": 0}
    for fmt, count in (("pdf", pdfs), ("doc", legacy)):
        if not count:
            continue
        printed = list(libreoffice_convert(pool, fmt).values())
        for i in range(count):
            data = printed[i % len(printed)]
            tail = (
                f"\n%xxgk-bench {i}\n".encode()
                if fmt == "pdf"
                else f"xxgk-bench {i}".encode().ljust(512, b"\0")
            )
            (docs / f"paged-{i:06d}.{fmt}").write_bytes(data + tail)
            written[fmt] += 1
    return written
