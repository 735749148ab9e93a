""".doc/.wps through LibreOffice: batches, time limits, a missing LibreOffice, and the conversion cache.

Real conversions where LibreOffice is installed (`.ci/run` installs it); a stand-in `soffice`
script (a real process that sleeps or exits) for the failure paths.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from pipeline import convert
from pipeline.config import load_settings
from pipeline.convert import SOFFICE_ENV, TIMEOUT_ENV, Converter, ConverterMissing, find_soffice, sniff
from pipeline.document import DocumentError
from pipeline.parse import parse_document
from pipeline.scrape import scrape_all
from pipeline.stages import converted_path, parse_all
from tests.synth import make_spec, render
from tests.synth.producers import libreoffice_convert, missing

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@pytest.fixture(scope="module")
def docs() -> dict[str, bytes]:
    """Three generated reports saved as Word 97 .doc by LibreOffice."""
    if reason := missing("libreoffice"):
        pytest.skip(reason)
    docx = {f"r{i}": render(make_spec(40 + i, template="2021"), "docx").data for i in range(3)}
    return libreoffice_convert(docx, "doc")


def fake_soffice(tmp_path: Path, body: str) -> str:
    """An executable standing in for soffice (a shell script)."""
    path = tmp_path / "soffice"
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_sniff_reads_misnamed_files_for_what_they_are():
    assert sniff(b"PK\x03\x04rest", "doc") == "docx"
    assert sniff(b"  <!DOCTYPE html><html>", "doc") == "html"
    assert sniff(OLE2 + b"x", "wps") == "wps"
    assert sniff(b"{\\rtf1 x}", "doc") == "doc"


def test_soffice_comes_from_the_environment_or_path(tmp_path):
    script = fake_soffice(tmp_path, "exit 0")
    assert find_soffice({SOFFICE_ENV: script}) == script
    assert find_soffice({SOFFICE_ENV: str(tmp_path / "nothing")}) is None  # configured but absent


def test_without_libreoffice_each_document_fails_with_what_to_install():
    with Converter(soffice=None) as converter:
        converter.soffice = None
        result = converter.convert({"a": (OLE2 + b"x" * 100, "doc"), "b": (OLE2, "wps")})
    assert isinstance(result["a"], ConverterMissing)
    assert str(result["a"]) == "needs LibreOffice to read .doc: apt-get install libreoffice-writer-nogui"
    assert str(result["b"]).startswith("needs LibreOffice to read .wps")


def test_a_batch_past_its_time_limit_is_retried_one_by_one_and_the_slow_file_fails_alone(
    tmp_path, docs, monkeypatch
):
    monkeypatch.setattr(convert, "BATCH_SECONDS_PER_DOCUMENT", 1.0)  # the batch's limit: 10 s + 1 s each
    real = find_soffice()
    # the stand-in hangs when a batch holds a file marked XXGK_HANG, and converts the rest for real
    script = fake_soffice(
        tmp_path,
        f'for a in "$@"; do [ -f "$a" ] && grep -q XXGK_HANG "$a" && sleep 300; done\nexec "{real}" "$@"',
    )
    items = {name: (data, "doc") for name, data in docs.items()}
    items["r1"] = (docs["r1"] + b"XXGK_HANG", "doc")
    with Converter(soffice=script, timeout=10) as converter:
        results = converter.convert(items)
    slow = "r1"
    assert isinstance(results[slow], DocumentError)
    assert str(results[slow]) == "doc: LibreOffice exceeded 10 s"
    for name in items:
        if name != slow:
            assert isinstance(results[name], bytes) and results[name][:2] == b"PK"


def test_a_file_libreoffice_cannot_read_fails_with_its_reason(tmp_path):
    script = fake_soffice(tmp_path, "exit 1")  # writes nothing
    with Converter(soffice=script) as converter:
        result = converter.convert({"x": (OLE2 + b"\0" * 512, "wps")})["x"]
    assert str(result) == "wps: LibreOffice could not convert it (not a readable .wps)"


def test_a_crash_is_named(tmp_path):
    script = fake_soffice(tmp_path, "kill -SEGV $$")
    with Converter(soffice=script) as converter:
        result = converter.convert({"x": (OLE2 + b"\0" * 512, "doc")})["x"]
    assert str(result) == "doc: LibreOffice crashed (SIGSEGV)"


def test_parse_document_converts_a_doc(docs):
    report = parse_document(docs["r0"], "doc")
    assert report.reader == "doc" and report.kind == "report" and report.cells


def _sources(tmp_path: Path, docs: dict[str, bytes]) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, data in docs.items():
        (folder / f"{name}.doc").write_bytes(data)
    (folder / "really-a-page.wps").write_text("<html><body><p>年报</p></body></html>", encoding="utf-8")
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: legacy\n    path: docs\n", encoding="utf-8")
    return sources


def test_the_parse_stage_converts_once_and_a_rerun_converts_nothing(tmp_path, docs, monkeypatch):
    settings = load_settings(_sources(tmp_path, docs), tmp_path / "data")
    scrape_all(settings)
    lines: list[str] = []
    records, stats = parse_all(settings, log=lines.append)
    assert stats.failed == 0, [r.error for r in records]
    assert any(f"{len(docs)} of {len(docs)} .doc/.wps converted by LibreOffice" in line for line in lines), (
        lines
    )
    assert any(line.startswith(f"parse legacy: doc {len(docs)} docs in") for line in lines), (
        lines
    )  # per format
    for record in records:
        if record.doc.format == "doc":
            assert converted_path(settings, record.doc.sha256).exists()
            report = json.loads((settings.data_dir / record.cache_file).read_bytes())["report"]
            assert report["reader"] == "doc"

    # a parser upgrade parses again but converts nothing: the .docx is kept by the source's hash
    for record in records:
        (settings.data_dir / record.cache_file).unlink()
    monkeypatch.setenv(SOFFICE_ENV, str(tmp_path / "no-soffice-here"))  # any conversion would now fail
    lines.clear()
    _records, stats = parse_all(settings, log=lines.append)
    assert stats.failed == 0 and stats.parsed == len(docs) + 1
    assert not any("converted by LibreOffice" in line for line in lines)


def test_a_missing_libreoffice_is_not_cached_and_installing_it_reads_the_document(
    tmp_path, docs, monkeypatch
):
    settings = load_settings(_sources(tmp_path, {"r0": docs["r0"]}), tmp_path / "data")
    scrape_all(settings)
    monkeypatch.setenv(SOFFICE_ENV, str(tmp_path / "no-soffice-here"))
    records, stats = parse_all(settings)
    [failed] = [r for r in records if r.error]  # the misnamed HTML page reads without LibreOffice
    assert failed.error == "needs LibreOffice to read .doc: apt-get install libreoffice-writer-nogui"
    assert failed.cache_file is None  # not cached: the next run tries again
    monkeypatch.delenv(SOFFICE_ENV)
    monkeypatch.setenv(TIMEOUT_ENV, "120")
    records, stats = parse_all(settings)
    assert stats.failed == 0


def test_hostile_doc_files_fail_in_one_line(good_docx_bomb):
    """A .doc that is a zip bomb, an oversized one, and one of random bytes: each fails (or reads as
    no report) on its own, in one line, without LibreOffice running past its limit."""

    with pytest.raises(DocumentError, match=r"^docx: ") as bomb:
        parse_document(good_docx_bomb, "doc")  # a zip under a .doc name goes to the .docx reader's guard
    assert "\n" not in str(bomb.value) and "compresses" in str(bomb.value)
    with Converter() as converter:
        big = converter.convert({"x": (OLE2 + bytes(convert.MAX_BYTES), "doc")})["x"]
    assert str(big) == f"doc: {convert.MAX_BYTES + 8} bytes (limit {convert.MAX_BYTES})"
    if missing("libreoffice") is None:
        import random

        report = parse_document(OLE2 + random.Random(3).randbytes(20_000), "doc")
        assert report.kind == "not_a_report" and not report.cells  # LibreOffice reads junk as text


@pytest.fixture
def good_docx_bomb() -> bytes:
    from tests.docx_builders import replace_part

    return replace_part(render(make_spec(5), "docx").data, "word/media/zeros.bin", bytes(50 * 1024 * 1024))
