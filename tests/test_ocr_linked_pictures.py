"""Report pages whose statistics tables are pictures linked by URL (`<img src="W0202….png">`), as many
agencies publish them: the crawler fetches the pictures with the page over HTTP on 127.0.0.1, a folder
source takes them from beside a saved page (report_files/…), and `python -m pipeline run` puts their
values in the tables as the generator's truth has them, read by OCR and said so. A page whose tables
are text fetches none of its pictures, and a rerun fetches and reads nothing again."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.cli import run_pipeline
from tests.mock_site import MockSite, Page
from tests.synth import make_spec, render
from tests.synth.producers import missing
from tests.truth import APP_COLS, OUTCOMES

pytest.importorskip("cv2")
if missing("chromium"):
    pytest.skip(missing("chromium"), allow_module_level=True)

from tests.synth.scan import screenshot_tables

ROOT = Path(__file__).resolve().parents[1]
_DATA_URI = re.compile(rb'"data:image/png;base64,([A-Za-z0-9+/=]+)"')
LOGO = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"/>'


def _linked(html: bytes, names: list[str]) -> tuple[bytes, dict[str, bytes]]:
    """The page with its `data:` URI pictures replaced by links named `names`, and the pictures."""
    found = _DATA_URI.findall(html)
    assert len(found) == len(names)
    pictures = dict(zip(names, (base64.b64decode(b) for b in found), strict=True))
    it = iter(names)
    return _DATA_URI.sub(lambda _m: f'"{next(it)}"'.encode(), html), pictures


def _with_chrome(html: bytes, extra: str) -> bytes:
    """A site's header pictures (a logo, a dead banner link) before the report."""
    return html.replace(b"<body>", f"<body>{extra}".encode(), 1)


@pytest.fixture(scope="module")
def reports():
    """Three generated reports: two with pictured tables (web, folder), one with text tables (web)."""
    made = {
        name: render(make_spec(seed, template="2021"), "html", set())
        for name, seed in (("web", 31), ("folder", 32), ("text", 33))
    }
    assert len({r.truth["title"] for r in made.values()}) == 3
    return made


@pytest.fixture(scope="module")
def crawled(reports, tmp_path_factory):
    work = tmp_path_factory.mktemp("linked")
    web_html, web_pictures = _linked(
        screenshot_tables(reports["web"].data),
        ["/xxgk/images/W020250301_0.png", "W020250301_1.png", "./W020250301_2.png?v=2"],
    )
    folder_html, folder_pictures = _linked(
        screenshot_tables(reports["folder"].data),
        [f"report_files/image00{i}.png" for i in range(3)],
    )
    saved = work / "saved"
    (saved / "report_files").mkdir(parents=True)
    (saved / "report.html").write_bytes(folder_html)
    for name, png in folder_pictures.items():
        (saved / name).write_bytes(png)
    chrome = '<img src="/images/logo.svg"><img src="/images/banner_gone.png">'
    with MockSite() as site:
        site.pages = {
            "/robots.txt": Page(body=b"User-agent: *\nAllow: /\n", content_type="text/plain"),
            "/xxgk/index.html": Page(
                body=(
                    "<html><body><ul>"
                    f'<li><a href="/xxgk/2025/pictured.html">{reports["web"].truth["title"]}</a></li>'
                    f'<li><a href="/xxgk/2025/text.html">{reports["text"].truth["title"]}</a></li>'
                    "</ul></body></html>"
                ).encode()
            ),
            "/xxgk/2025/pictured.html": Page(body=_with_chrome(web_html, chrome)),
            "/xxgk/2025/text.html": Page(
                body=_with_chrome(reports["text"].data, '<img src="/images/banner_text.png">')
            ),
            "/images/logo.svg": Page(body=LOGO, content_type="image/svg+xml"),
            "/images/banner_text.png": Page(body=web_pictures["W020250301_1.png"], content_type="image/png"),
        }
        for name, png in web_pictures.items():
            path = "/xxgk/2025/" + name.removeprefix("./") if not name.startswith("/") else name
            site.pages[path] = Page(body=png, content_type="image/png")  # the query is part of it
        sources = work / "sources.yaml"
        sources.write_text(
            "sources:\n"
            f"  - name: web\n    start_urls: [{site.url('/xxgk/index.html')}]\n    delay_seconds: 0\n"
            f"  - name: folder\n    path: {saved}\n",
            encoding="utf-8",
        )
        data = work / "data"
        first = run_pipeline(sources, data, timeout=600)
        requested = site.paths()
        tables = {t: pd.read_parquet(data / "warehouse" / f"{t}.parquet") for t in ("reports", "cells")}
        second = run_pipeline(sources, data, timeout=600)
        again = site.paths()[len(requested) :]
    yield data, requested, again, first, second, tables


def _compare(apps: pd.DataFrame, review: pd.DataFrame, truth: dict) -> tuple[int, int, list]:
    """(right, unreadable, wrong) over tables 三 and 四."""
    right, unreadable, wrong = 0, 0, []
    got = apps.set_index("row_code")[APP_COLS]
    got4 = review.set_index("proceeding")[OUTCOMES]
    for frame, expected in ((got, truth["applications"]), (got4, truth["review_litigation"])):
        for key, values in expected.items():
            for col, want in zip(frame.columns, values, strict=True):
                have = frame.at[key, col] if key in frame.index else None
                if have is None or pd.isna(have):
                    unreadable += 1
                elif want is not None and float(have) == float(want):
                    right += 1
                else:
                    wrong.append((key, col, want, have))
    return right, unreadable, wrong


@pytest.mark.parametrize("source", ["web", "folder"])
def test_pictured_tables_are_read_into_the_tables(crawled, reports, source):
    data, *_ = crawled
    rep = pd.read_parquet(data / "warehouse" / "reports.parquet")
    row = rep[rep.source == source]
    row = row[row.title == reports[source].truth["title"]]
    assert len(row) == 1 and row.status.item() == "ok" and row.reader.item() == "ocr"
    rid = row.report_id.item()
    issues = pd.read_parquet(data / "warehouse" / "validation_issues.parquet")
    ocr = issues[(issues.report_id == rid) & (issues.check == "ocr_values")]
    assert ocr.message.tolist() == ["values read by OCR from 3 images"]
    apps = pd.read_parquet(data / "warehouse" / "applications.parquet")
    review = pd.read_parquet(data / "warehouse" / "review_litigation.parquet")
    right, unreadable, wrong = _compare(
        apps[apps.report_id == rid], review[review.report_id == rid], reports[source].truth
    )
    assert wrong == []
    assert right >= 0.97 * (right + unreadable), (right, unreadable)
    cells = pd.read_parquet(data / "warehouse" / "cells.parquet")
    read = cells[(cells.report_id == rid) & (cells.table == "applications")]
    assert read.confidence.notna().all() and read.box_x0.notna().all()


def test_only_a_page_without_text_tables_has_its_pictures_fetched(crawled):
    _data, requested, _again, first, _second, _tables = crawled
    assert "/images/banner_text.png" not in requested  # the text page's tables are text
    for path in (
        "/xxgk/images/W020250301_0.png",
        "/xxgk/2025/W020250301_1.png",
        "/xxgk/2025/W020250301_2.png?v=2",
    ):
        assert path in requested
    assert re.search(r"picture \S+/images/banner_gone\.png of \S+pictured\.html: .*404", first), first
    rep = pd.read_parquet(_data / "warehouse" / "reports.parquet")
    assert (rep.status == "ok").all() and len(rep) == 3


def test_rerun_fetches_and_reads_no_picture_again(crawled):
    data, _requested, again, _first, second, tables = crawled
    assert not [p for p in again if p.endswith((".png", ".png?v=2"))]
    assert "parse web: 2 documents — 0 parsed now, 2 from cache" in second
    assert "parse folder: 1 documents — 0 parsed now, 1 from cache" in second
    for name, before in tables.items():
        after = pd.read_parquet(data / "warehouse" / f"{name}.parquet")
        pd.testing.assert_frame_equal(before, after)


def test_cli_parse_reads_a_saved_page_with_its_pictures(crawled):
    data, *_ = crawled
    saved = data.parent / "saved" / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "parse", str(saved)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "reader:    ocr" in proc.stdout
    assert re.search(r"OCR: \d+ cells read from pictures", proc.stdout), proc.stdout
