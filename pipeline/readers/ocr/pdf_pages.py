"""Image-only PDF pages → page images for OCR, rendered one at a time at the scan's own resolution.

A scanned page is one large picture. Rendering the page (pypdfium2, anti-aliased, in colour so that
a red seal can be faded out: `image._grey`) at the resolution of that picture keeps every pixel the
scanner made without the reader having to undo the page's placement of the picture (scaled, cropped,
several strips). The resolution is bounded: below `MIN_DPI` digits are a few pixels tall and the
recogniser guesses; above `MAX_DPI` a page costs memory and time and reads no better. Pages are
rendered when asked for, so a long scan holds one page image at a time.
"""

from __future__ import annotations

from typing import Any

from pipeline.document import DocumentError
from pipeline.readers.ocr.image import PageImage, from_rgb

MIN_DPI = 150.0
MAX_DPI = 300.0
DEFAULT_DPI = 200.0  # a page whose picture's resolution is not known


def render_dpi(picture_dpi: float | None) -> float:
    """The resolution a scanned page is rendered at: its picture's own, within [MIN_DPI, MAX_DPI]."""
    if not picture_dpi or picture_dpi <= 0:
        return DEFAULT_DPI
    return min(MAX_DPI, max(MIN_DPI, picture_dpi))


class PageRenderer:
    """Renders pages of one PDF (opened on first use, closed by `close`)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pdf: Any = None

    def render(self, number: int, picture_dpi: float | None) -> PageImage:
        """Page `number` (1-based) as a colour image at `render_dpi(picture_dpi)`."""
        import pypdfium2 as pdfium

        if self._pdf is None:
            try:
                self._pdf = pdfium.PdfDocument(self._data)
            except pdfium.PdfiumError as exc:
                raise DocumentError(f"pdf: scanned pages cannot be rendered ({exc})") from None
        page = self._pdf[number - 1]
        try:
            # rev_byteorder: RGB, not pdfium's BGR (the seal's red must stay red).
            bitmap = page.render(scale=render_dpi(picture_dpi) / 72, rev_byteorder=True)
            rgb = bitmap.to_numpy()[..., :3].copy()
            bitmap.close()
        finally:
            page.close()
        return from_rgb(rgb, page=number, origin=f"page {number}")

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None
