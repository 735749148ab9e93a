"""Picture bytes → a page image ready for OCR: decoded safely, stamp colour removed, grey.

A picture is decoded by Pillow with a pixel budget (a 100 KB PNG can claim 50,000 × 50,000 pixels),
animated GIFs by their first frame. Red and blue seals are printed over the text on many scans: in
the grey image made from the channel where the seal's colour is bright, the seal fades to near white
while black print stays black (`_grey`). A grey seal cannot be separated by colour; its cells come
out with low confidence or as text that is no value, and so unreadable.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from pipeline.document import DocumentError

MAX_PIXELS = 60_000_000  # an A4 page at 600 dpi is ~35 M pixels
MIN_SIDE = 400  # below this no report page is legible (a 150-dpi A4 page is 1240 × 1754)


@dataclass(slots=True)
class PageImage:
    """One page to read: grey pixels (uint8, 255 = paper), its 1-based page number and what it came from."""

    grey: np.ndarray
    page: int
    origin: str  # "image 2", "page 3", …: how messages name it
    paged: bool = True  # False: a picture inside an HTML page or .docx (its cells name no page)


def decode(data: bytes, *, page: int, origin: str) -> PageImage:
    """Decode PNG/JPEG/GIF/BMP/TIFF bytes; a DocumentError naming `origin` when they are no picture."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise DocumentError(f"ocr: {origin} too large ({width} × {height} pixels)")
            im.seek(0)
            rgb = np.asarray(im.convert("RGB"))
    except DocumentError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DocumentError(f"ocr: {origin} is not a readable picture ({type(exc).__name__})") from None
    return from_rgb(rgb, page=page, origin=origin)


def from_rgb(rgb: np.ndarray, *, page: int, origin: str) -> PageImage:
    return PageImage(_grey(rgb), page, origin)


def _grey(rgb: np.ndarray) -> np.ndarray:
    """Grey with coloured ink (seals, stamps) turned paper-white: a coloured pixel's brightest channel
    lifted by half its colourfulness; a pixel close to neutral keeps its plain luminance (grey print
    and fills stay grey)."""
    rgb = rgb.astype(np.int32)  # the weighted sum below overflows int16
    brightest = rgb.max(axis=2)
    darkest = rgb.min(axis=2)
    luminance = (rgb[..., 0] * 299 + rgb[..., 1] * 587 + rgb[..., 2] * 114) // 1000
    chroma = brightest - darkest
    coloured = chroma > 24
    # A seal's red is not as bright as paper in its brightest channel (~220): lifted by half its
    # colourfulness it reaches paper white, so its ring makes no faint "ruling line"; print under it
    # (dark in every channel) stays dark.
    lifted = np.minimum(255, brightest + chroma // 2)
    return np.where(coloured, lifted, luminance).astype(np.uint8)
