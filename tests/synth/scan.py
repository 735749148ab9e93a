"""Reports as scans: printed pages rasterised, degraded like a scanner and a stamp leave them, re-packed.

    pages = rasterise(pdf_bytes, dpi=150)                    # grey page images (pypdfium2, anti-aliased)
    worn = [degrade(p, Wear(skew=1.2, seed=3)) for p in pages]
    scan = image_pdf(worn, dpi=150)                           # an image-only PDF: no text layer

`degrade` applies, in this order: rotation (skew), a red seal ring over part of the page (as an RGB
image: the stamp is colour), blur, Gaussian noise, JPEG at the given quality. `screenshot_tables`
turns an HTML report into one whose tables are pictures (headless Chromium `--screenshot` of each
table alone, embedded as `data:` URIs). None of this changes the truth: the same values are printed.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.synth.producers import CHROMIUM_FLAGS, chromium, missing


@dataclass(frozen=True, slots=True)
class Wear:
    """How a scanner and a clerk degrade a page."""

    skew: float = 0.0  # degrees, counter-clockwise
    blur: float = 0.6  # Gaussian sigma in pixels
    noise: float = 6.0  # grey levels (standard deviation)
    jpeg: int = 70  # quality; 0 keeps the page lossless
    stamp: bool = False  # a red seal ring over the page's lower right quarter
    seed: int = 0


def rasterise(pdf: bytes, *, dpi: int, pages: list[int] | None = None) -> list[np.ndarray]:
    """PDF pages (1-based numbers; all by default) → grey images, anti-aliased as a scanner sees print."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        numbers = pages or list(range(1, len(doc) + 1))
        return [np.asarray(doc[n - 1].render(scale=dpi / 72, grayscale=True).to_pil()) for n in numbers]
    finally:
        doc.close()


def degrade(grey: np.ndarray, wear: Wear) -> np.ndarray:
    """A page image as it comes out of the scanner (RGB uint8)."""
    import cv2

    rng = np.random.default_rng(wear.seed)
    h, w = grey.shape
    page = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    if wear.skew:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), wear.skew, 1.0)
        page = cv2.warpAffine(page, matrix, (w, h), borderValue=(255, 255, 255))
    if wear.stamp:
        _stamp(page, rng)
    if wear.blur:
        page = cv2.GaussianBlur(page, (0, 0), wear.blur)
    if wear.noise:
        page = np.clip(page + rng.normal(0, wear.noise, (h, w, 1)), 0, 255).astype(np.uint8)
    if wear.jpeg:
        ok, encoded = cv2.imencode(".jpg", page[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, wear.jpeg])
        assert ok
        page = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(page)


def _stamp(page: np.ndarray, rng: np.random.Generator) -> None:
    """A red official seal (a thick ring, a star-like centre, a line of text) over the lower right
    part of the page. Ink on paper multiplies: black print under the seal stays black, paper and
    grey turn red."""
    import cv2

    h, w = page.shape[:2]
    radius = w // 9
    centre = (int(w * rng.uniform(0.6, 0.8)), int(h * rng.uniform(0.55, 0.8)))
    mask = np.zeros((h, w), np.uint8)
    cv2.circle(mask, centre, radius, 255, max(3, radius // 12))
    cv2.circle(mask, centre, radius // 4, 255, -1)
    cv2.putText(mask, "SEAL", (centre[0] - radius // 2, centre[1] + radius // 2), 0, radius / 80, 255, 3)
    red = np.array([0.86, 0.2, 0.2])
    on = mask > 0
    page[on] = (page[on] * red).astype(np.uint8)


def image_pdf(pages: list[np.ndarray], *, dpi: int) -> bytes:
    """Page images → an image-only PDF (each page one JPEG picture at `dpi`), as a scanner saves it."""
    from PIL import Image

    images = [Image.fromarray(p) for p in pages]
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:], quality=90)
    return out.getvalue()


def png(page: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(page).save(out, format="PNG")
    return out.getvalue()


_TABLE_RE = re.compile(r"<table\b.*?</table>", re.S | re.I)


def screenshot_tables(
    html: bytes, *, which: set[int] | None = None, width: int = 1000, timeout: float = 60
) -> bytes:
    """The HTML report with each `<table>` (or those numbered in `which`, from 0) replaced by a PNG
    screenshot of it (a `data:` URI `<img>`), as agencies paste their statistics tables into the page
    as pictures."""
    exe = chromium()
    if exe is None:
        raise RuntimeError(missing("chromium"))
    text = html.decode("utf-8")
    tables = _TABLE_RE.findall(text)
    which = set(range(len(tables))) if which is None else which
    head = text[: text.lower().find("<body")] if "<body" in text.lower() else "<html><head></head>"
    with tempfile.TemporaryDirectory(prefix="xxgk-shot-") as tmp:
        folder = Path(tmp)
        for i, table in enumerate(tables):
            if i not in which:
                continue
            (folder / f"{i}.html").write_text(
                f"{head}<body style='margin:8px;background:#fff'>{table}</body></html>", encoding="utf-8"
            )
            height = 400 + 60 * table.lower().count("<tr")
            subprocess.run(
                [
                    exe,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={folder / 'profile'}",
                    "--hide-scrollbars",
                    f"--window-size={width},{height}",
                    f"--screenshot={folder / f'{i}.png'}",
                    (folder / f"{i}.html").as_uri(),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout,
                check=True,
            )
        out, last = [], 0
        for i, match in enumerate(_TABLE_RE.finditer(text)):
            if i not in which:
                continue
            data = base64.b64encode((folder / f"{i}.png").read_bytes()).decode("ascii")
            out += [text[last : match.start()], f'<p><img src="data:image/png;base64,{data}"></p>']
            last = match.end()
        out.append(text[last:])
    return "".join(out).encode("utf-8")


def pictures_of(html: bytes) -> list[bytes]:
    """The PNG pictures a page embeds as `data:` URIs, in order."""
    found = re.findall(rb"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    return [base64.b64decode(b) for b in found]


def scan_pdf(pdf: bytes, *, dpi: int, wear: Wear, pages: list[int] | None = None) -> bytes:
    """A printed PDF as a scanner returns it: every page rasterised, worn (each page its own seed;
    the seal, if any, on the last page only, where agencies stamp), re-packed as an image-only PDF."""
    images = rasterise(pdf, dpi=dpi, pages=pages)
    worn = []
    for i, page in enumerate(images):
        last = i == len(images) - 1
        worn.append(
            degrade(
                page, Wear(wear.skew, wear.blur, wear.noise, wear.jpeg, wear.stamp and last, wear.seed + i)
            )
        )
    return image_pdf(worn, dpi=dpi)
