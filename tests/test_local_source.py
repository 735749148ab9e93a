"""Path sources: a folder into the raw store and its manifest; the scrape stage over several sources."""

import json
from pathlib import Path

from pipeline.config import Settings, Source, load_settings
from pipeline.scrape import scrape_all, scrape_source, status_path
from pipeline.sources.local import collect, list_files
from pipeline.store import Manifest, RawStore, manifest_path, report_id_for


def _tree(root: Path) -> Path:
    folder = root / "docs"
    (folder / "2021" / "sub").mkdir(parents=True)
    (folder / "a.docx").write_bytes(b"docx bytes")
    (folder / "2021" / "报告.HTM").write_bytes(b"<html>2021</html>")
    (folder / "2021" / "sub" / "c.txt").write_bytes(b"text")
    (folder / "2021" / "d.pdf").write_bytes(b"%PDF")
    (folder / "e.wps").write_bytes(b"wps")
    (folder / "f.doc").write_bytes(b"doc")
    (folder / "notes.md").write_bytes(b"not a report")
    (folder / "~$a.docx").write_bytes(b"office lock file")
    (folder / ".hidden.txt").write_bytes(b"hidden")
    (folder / ".git").mkdir()
    (folder / ".git" / "x.txt").write_bytes(b"vcs")
    return folder


def test_lists_report_files_only_in_a_stable_order(tmp_path):
    folder = _tree(tmp_path)
    names = [p.relative_to(folder).as_posix() for p in list_files(folder)]
    assert names == ["2021/d.pdf", "2021/sub/c.txt", "2021/报告.HTM", "a.docx", "e.wps", "f.doc"]


def test_collect_stores_bytes_and_upserts_manifest_entries(tmp_path):
    folder = _tree(tmp_path)
    store, manifest = RawStore(tmp_path / "raw"), Manifest(tmp_path / "raw" / "m.json")
    source = Source(name="local", region="某市", path=folder)
    counts = collect(source, store, manifest)
    assert counts == {"discovered": 6, "fetched": 6, "not_modified": 0, "failed": 0}
    entry = manifest.entries[report_id_for("local", "2021/报告.HTM")]
    assert (entry.source, entry.locator, entry.format, entry.region) == (
        "local",
        "2021/报告.HTM",
        "html",
        "某市",
    )
    assert store.get(entry.sha256) == b"<html>2021</html>" and entry.size == 17
    assert entry.title_hint == "报告" and entry.fetched_at and entry.status == "ok"
    assert {e.format for e in manifest.documents()} == {"docx", "html", "txt", "pdf", "wps", "doc"}


def test_unchanged_changed_and_vanished_files(tmp_path):
    folder = _tree(tmp_path)
    settings = Settings(tmp_path / "sources.yaml", tmp_path / "data", (Source(name="local", path=folder),))
    first = scrape_source(settings.sources[0], settings)
    path = manifest_path(settings.raw_dir, "local")
    saved, mtime = path.read_bytes(), path.stat().st_mtime_ns

    again = scrape_source(settings.sources[0], settings)
    assert again.counts == {"discovered": 6, "fetched": 0, "not_modified": 6, "failed": 0}
    assert path.read_bytes() == saved and path.stat().st_mtime_ns == mtime  # nothing rewritten

    (folder / "a.docx").write_bytes(b"docx bytes, corrected")
    (folder / "f.doc").unlink()
    third = scrape_source(settings.sources[0], settings)
    assert third.counts == {"discovered": 5, "fetched": 1, "not_modified": 4, "failed": 0}
    manifest = Manifest.load(path)
    assert len(manifest.entries) == 6 == first.documents == third.documents  # f.doc stays
    changed = manifest.entries[report_id_for("local", "a.docx")]
    assert RawStore(settings.raw_dir).get(changed.sha256) == b"docx bytes, corrected"
    vanished = manifest.entries[report_id_for("local", "f.doc")]
    assert RawStore(settings.raw_dir).get(vanished.sha256) == b"doc"


def test_a_failing_source_is_recorded_and_the_others_still_run(tmp_path):
    folder = _tree(tmp_path)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n  - {{name: gone, path: nowhere}}\n  - {{name: local, path: {folder.name}}}\n",
        encoding="utf-8",
    )
    settings = load_settings(sources, tmp_path / "data")
    results = scrape_all(settings)
    assert [(r.source, r.ok) for r in results] == [("gone", False), ("local", True)]
    assert "does not exist" in results[0].error and results[1].counts["fetched"] == 6
    status = json.loads(status_path(settings.raw_dir, "gone").read_text(encoding="utf-8"))
    assert status["ok"] is False and status["kind"] == "path"
    assert not manifest_path(settings.raw_dir, "gone").exists()


def test_report_ids_do_not_depend_on_where_the_folder_is(tmp_path):
    ids = []
    for where in ("one", "two"):
        folder = _tree(tmp_path / where)
        manifest = Manifest(tmp_path / where / "m.json")
        collect(Source(name="local", path=folder), RawStore(tmp_path / where / "raw"), manifest)
        ids.append(sorted(manifest.entries))
    assert ids[0] == ids[1]


def test_oversized_files_are_refused_before_reading_and_symlinks_not_followed(tmp_path, monkeypatch):
    from pipeline.sources import local

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "big.txt").write_bytes(b"x" * 2048)
    (folder / "ok.txt").write_bytes(b"report")
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"outside the source folder")
    (folder / "link.txt").symlink_to(outside)
    monkeypatch.setattr(local, "MAX_FILE_BYTES", 1024)
    source = Source(name="s", path=folder)
    manifest = Manifest(tmp_path / "m.json")
    counts = local.collect(source, RawStore(tmp_path / "raw"), manifest)
    by_locator = {d.locator: d for d in manifest.documents()}
    assert sorted(by_locator) == ["big.txt", "ok.txt"]
    assert by_locator["big.txt"].status == "failed" and "too large" in by_locator["big.txt"].error
    assert by_locator["ok.txt"].status == "ok"
    assert counts["failed"] == 1 and counts["fetched"] == 1


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_a_saved_page_keeps_the_pictures_it_links_from_inside_the_folder_only(tmp_path):
    folder = tmp_path / "docs"
    (folder / "report_files").mkdir(parents=True)
    (tmp_path / "outside.png").write_bytes(PNG)
    (folder / "report_files" / "image001.png").write_bytes(PNG)
    (folder / "report_files" / "logo.svg").write_bytes(b"<svg/>")
    (folder / "link.png").symlink_to(tmp_path / "outside.png")
    page = (
        '<html><body><p>2023年政府信息公开工作年度报告</p><img src="report_files/image001.png">'
        '<img src="../outside.png"><img src="link.png"><img src="report_files/logo.svg">'
        '<img src="report_files/gone.png"><img src="http://example.org/x.png"></body></html>'
    )
    (folder / "report.html").write_text(page, encoding="utf-8")
    (folder / "text.html").write_text(
        page.replace(
            "<p>",
            "<table><tr><td>规范性文件</td></tr><tr><td>申请</td></tr><tr><td>复议</td></tr></table><p>",
        ),
        encoding="utf-8",
    )
    store, manifest = RawStore(tmp_path / "raw"), Manifest(tmp_path / "raw" / "m.json")
    collect(Source(name="local", path=folder), store, manifest)
    entries = {e.locator: e for e in manifest.documents()}
    sha = store.put(PNG)[0]
    assert json.loads(entries["report.html"].extra["pictures"]) == [["report_files/image001.png", sha]]
    assert "pictures" not in entries["text.html"].extra  # its tables are text: its pictures are no tables
    assert set(entries) == {"report.html", "text.html"}  # a picture is part of its page, not a document
    counts = collect(Source(name="local", path=folder), store, manifest)
    assert counts["not_modified"] == 2
    (folder / "report_files" / "image001.png").write_bytes(PNG + b"\x00")  # the picture changed
    assert collect(Source(name="local", path=folder), store, manifest)["fetched"] == 1
