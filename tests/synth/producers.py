"""Generated reports printed the way agencies print them: PDF by Chromium or LibreOffice, .doc by LibreOffice.

The generator writes HTML and .docx (with their truth); real agencies publish the same reports as
PDFs printed from a browser or exported from Word/WPS, and as Word 97 .doc files. These functions
run the real programs (Debian `chromium`, `libreoffice-writer-nogui`), many documents per call:

    pdfs = chromium_pdf({"a": html_bytes, ...})                 # name → PDF bytes
    docs = libreoffice_convert({"a": docx_bytes, ...}, "pdf")   # or "doc"

The truth does not change: a producer prints the same values. `missing()` names a tool that is not
installed, so tests can skip with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def missing(tool: str) -> str | None:
    """Why `tool` ("chromium" or "libreoffice") cannot run here, or None."""
    if tool == "chromium" and chromium() is None:
        return "chromium is not installed (apt-get install chromium)"
    if tool == "libreoffice" and soffice() is None:
        return "LibreOffice is not installed (apt-get install libreoffice-writer-nogui)"
    return None


def chromium_pdf(pages: dict[str, bytes], *, parallel: int = 2, timeout: float = 60) -> dict[str, bytes]:
    """HTML documents → PDFs printed by headless Chromium (A4, no header/footer)."""
    exe = chromium()
    if exe is None:
        raise RuntimeError(missing("chromium"))
    with tempfile.TemporaryDirectory(prefix="xxgk-chromium-") as tmp:
        folder = Path(tmp)

        def one(item: tuple[int, str]) -> tuple[str, bytes]:
            i, name = item
            src, out = folder / f"{i}.html", folder / f"{i}.pdf"
            src.write_bytes(pages[name])
            profile = folder / f"profile-{i}"
            subprocess.run(
                [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={out}", src.as_uri()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout,
                check=True,
            )
            return name, out.read_bytes()

        with ThreadPoolExecutor(parallel) as pool:
            return dict(pool.map(one, enumerate(pages)))


def libreoffice_convert(
    documents: dict[str, bytes],
    to: str,
    *,
    source_ext: str = "docx",
    out_ext: str | None = None,
    timeout: float = 300,
) -> dict[str, bytes]:
    """Documents (.docx by default) → `to` ("pdf", "doc", "docx", or a filter with options such as
    `pdf:writer_pdf_Export:{…}`; then `out_ext` names the file ending) by one LibreOffice run."""
    out_ext = out_ext or to.split(":", 1)[0]
    exe = soffice()
    if exe is None:
        raise RuntimeError(missing("libreoffice"))
    with tempfile.TemporaryDirectory(prefix="xxgk-lo-") as tmp:
        folder = Path(tmp)
        names = {}
        for i, (name, data) in enumerate(documents.items()):
            path = folder / "in" / f"{i}.{source_ext}"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            names[name] = path
        subprocess.run(
            [
                exe,
                f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                to,
                "--outdir",
                str(folder / "out"),
                *map(str, names.values()),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=True,
            env={"HOME": str(folder), "PATH": "/usr/bin:/bin"},
        )
        return {
            name: (folder / "out" / f"{path.stem}.{out_ext}").read_bytes() for name, path in names.items()
        }
