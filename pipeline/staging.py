"""The staging snapshot: every document of the run, parsed and judged, in one columnar file.

The validate stage writes it (`cache/stages/validate.parquet`); the six table builders read it once
each (only the columns they need) instead of reloading every cached ParsedReport. One row per
document, in the order of the sources file and then of report_id:

- the document: `report_id`, `source`, `region` (from the sources file), `doc` (the manifest's
  RawDocument as JSON) and the fields the tables use (`locator`, `format`, `sha256`, `fetched_at`,
  `title_hint`), `parser_version`, `cache_file` and `cache_digest` (the parse cache entry it was
  read from and the SHA-256 of its bytes);
- what the parser made of it, as the parse cache holds it: `parsed` (there is a ParsedReport),
  `parse_error`, the report's metadata, `cells` (list of Cell structs) and `report_findings`;
- the validate stage's verdict: `status`, `error`, `duplicate_of`, `cross_findings` (checks across
  reports, after the report's own findings).

The parsed part of a row depends only on its cache entry, so the next validate run takes it from the
previous snapshot when the entry is the same (same file, same digest) and decodes JSON only for
what was parsed since: a no-change run reads one Parquet file, not thousands of JSON files.
Written through `pipeline.fs` (atomic locally, one PUT on object storage). Pickle-free: Parquet.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import fs
from pipeline.fs import DataPath
from pipeline.report import Cell, Finding, ParsedReport
from pipeline.store import RawDocument

#: Bumped when the snapshot's columns change: an older snapshot is then not reused.
SNAPSHOT_VERSION = "2"
META_VERSION = b"xxgk_snapshot_version"
META_INPUTS = b"xxgk_parse_inputs"
ROW_GROUP_DOCUMENTS = 2048  # documents per Parquet row group (their cells: a few hundred thousand)

_S, _I, _F = pa.string(), pa.int64(), pa.float64()
CELL_TYPE = pa.struct(
    [
        ("table", _S),
        ("row_code", _S),
        ("column_code", _S),
        ("raw_text", _S),
        ("value", _F),
        ("source_table", _I),
        ("source_row", _I),
        ("source_col", _I),
        ("unreadable", _S),
        ("row_label", _S),
        ("article_item", _I),
        ("category_code", _S),
        ("unit", _S),
        ("source_page", _I),
        ("confidence", _F),
        ("box", pa.list_(_F)),
    ]
)
FINDING_TYPE = pa.struct(
    [("check", _S), ("scope", _S), ("expected", _F), ("actual", _F), ("severity", _S), ("message", _S)]
)
assert [f.name for f in CELL_TYPE] == [f.name for f in fields(Cell)], (
    "CELL_TYPE must follow pipeline.report.Cell"
)
assert [f.name for f in FINDING_TYPE] == [f.name for f in fields(Finding)], "FINDING_TYPE must follow Finding"

DOC_FIELDS = pa.schema(
    [
        pa.field("report_id", _S, nullable=False),
        ("source", _S),
        ("region", _S),
        ("doc", _S),
        ("locator", _S),
        ("format", _S),
        ("sha256", _S),
        ("fetched_at", _S),
        ("title_hint", _S),
        ("parser_version", _S),
        ("cache_file", _S),
        ("cache_digest", _S),
    ]
)
PARSED_FIELDS = pa.schema(
    [
        ("parsed", pa.bool_()),
        ("parse_error", _S),
        ("title", _S),
        ("agency", _S),
        ("year", _I),
        ("template", _S),
        ("kind", _S),
        ("tables_found", pa.list_(_S)),
        ("table_versions", _S),  # JSON object
        ("cells", pa.list_(CELL_TYPE)),
        ("report_findings", pa.list_(FINDING_TYPE)),
        ("reader", _S),
        ("pages", _I),
    ]
)
VERDICT_FIELDS = pa.schema(
    [("status", _S), ("error", _S), ("duplicate_of", _S), ("cross_findings", pa.list_(FINDING_TYPE))]
)
SCHEMA = pa.schema([*DOC_FIELDS, *PARSED_FIELDS, *VERDICT_FIELDS])


def parsed_columns(payload: dict | None, error: str | None = None) -> dict[str, Any]:
    """The parsed part of a row from a parse cache payload (`{"ok": true, "report": {...}}` or
    `{"ok": false, "error": ...}`); `payload` None: not parsed, for `error`."""
    if payload is not None and payload.get("ok"):
        r = payload["report"]
        return {
            "parsed": True,
            "parse_error": None,
            "title": r.get("title"),
            "agency": r.get("agency"),
            "year": r.get("year"),
            "template": r.get("template"),
            "kind": r.get("kind"),
            "tables_found": r.get("tables_found") or [],
            "table_versions": json.dumps(r.get("table_versions") or {}, ensure_ascii=False, sort_keys=True),
            "cells": r.get("cells") or [],
            "report_findings": r.get("findings") or [],
            "reader": r.get("reader"),
            "pages": r.get("pages"),
        }
    if payload is not None:
        error = payload.get("error") or "parse failed"
    return {
        "parsed": False,
        "parse_error": error,
        "title": None,
        "agency": None,
        "year": None,
        "template": None,
        "kind": None,
        "tables_found": [],
        "table_versions": "{}",
        "cells": [],
        "report_findings": [],
        "reader": None,
        "pages": None,
    }


_RAW_FIELDS = tuple(f.name for f in fields(RawDocument))


def doc_dict(doc: RawDocument) -> dict[str, Any]:
    """`dataclasses.asdict(doc)`, a few times faster (a flat dataclass: only `extra` is a container)."""
    out = {name: getattr(doc, name) for name in _RAW_FIELDS}
    out["extra"] = dict(doc.extra)
    return out


def doc_columns(
    doc: RawDocument,
    region: str | None,
    parser_version: str,
    cache_file: str | None,
    cache_digest: str | None,
) -> dict[str, Any]:
    return {
        "report_id": doc.report_id,
        "source": doc.source,
        "region": region,
        "doc": json.dumps(doc_dict(doc), ensure_ascii=False, sort_keys=True),
        "locator": doc.locator,
        "format": doc.format,
        "sha256": doc.sha256,
        "fetched_at": doc.fetched_at,
        "title_hint": doc.title_hint,
        "parser_version": parser_version,
        "cache_file": cache_file,
        "cache_digest": cache_digest,
    }


def empty() -> pa.Table:
    return SCHEMA.empty_table()


def from_rows(rows: list[dict[str, Any]], schema: pa.Schema = SCHEMA) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


def from_staged(staged: list[Any]) -> pa.Table:
    """A snapshot of `pipeline.stages.Staged` values (the tables' small-scale entry: tests, scripts).
    Their findings are all report findings here (Staged keeps one list)."""
    rows = []
    for s in staged:
        payload = {"ok": True, "report": s.report.to_dict()} if s.report is not None else None
        parsed = parsed_columns(payload, s.error)
        if s.report is not None:
            parsed["report_findings"] = [asdict(f) for f in s.findings]
        rows.append(
            {
                **doc_columns(s.doc, s.region, s.parser_version, None, None),
                **parsed,
                "status": s.status,
                "error": s.error,
                "duplicate_of": s.duplicate_of,
                "cross_findings": [],
            }
        )
    return from_rows(rows)


# ---------------------------------------------------------------------------------------------- files


def write(path: DataPath, table: pa.Table, inputs: dict[str, str]) -> None:
    """Write the snapshot atomically, with the parse stage digests it was built from (`inputs`)."""
    meta = {META_VERSION: SNAPSHOT_VERSION.encode(), META_INPUTS: json.dumps(inputs, sort_keys=True).encode()}
    table = table.replace_schema_metadata(meta)

    def _write(target: Any) -> None:
        with pq.ParquetWriter(target, table.schema, compression="zstd") as writer:
            writer.write_table(table, row_group_size=ROW_GROUP_DOCUMENTS)

    fs.atomic_write(path, _write)


def read(path: DataPath, columns: list[str] | None = None) -> tuple[pa.Table, dict[str, str]] | None:
    """(the snapshot, the parse inputs it was built from); None when there is none or it is of
    another version."""
    try:
        data = fs.read_bytes(path)
    except FileNotFoundError:
        return None
    reader = pa.BufferReader(data)
    meta = pq.read_schema(reader).metadata or {}
    if meta.get(META_VERSION) != SNAPSHOT_VERSION.encode():
        return None
    table = pq.read_table(pa.BufferReader(data), columns=columns)
    del data, reader
    release_memory()  # the decoder's buffers
    return table, json.loads(meta.get(META_INPUTS, b"{}"))


# ---------------------------------------------------------------------------------------------- views


def flatten(table: pa.Table, column: str) -> tuple[pa.Table, pa.Array]:
    """The structs of a list column as a table, with the row index each came from. Chunk by chunk,
    without copying the values."""
    chunked = table.column(column)
    kind = chunked.type.value_type
    values, parents, offset = [], [], 0
    for chunk in chunked.chunks:
        values.append(pc.list_flatten(chunk))
        parents.append(pc.add(pc.list_parent_indices(chunk).cast(pa.int64()), offset))
        offset += len(chunk)
    flat = pa.chunked_array(values, kind) if values else pa.chunked_array([], kind)
    index = pa.chunked_array(parents, pa.int64()) if parents else pa.chunked_array([], pa.int64())
    return pa.Table.from_struct_array(flat), index.combine_chunks()


def release_memory() -> None:
    """Give memory Arrow no longer uses back to the system (its allocator keeps freed blocks)."""
    pa.default_memory_pool().release_unused()


def report_of(row: dict[str, Any], cells: list[dict] | None = None) -> ParsedReport | None:
    """The ParsedReport of a snapshot row (as a dict); `cells` replaces the row's cells when given."""
    if not row.get("parsed"):
        return None
    return ParsedReport(
        title=row["title"],
        agency=row["agency"],
        year=row["year"],
        template=row["template"],
        kind=row["kind"],
        tables_found=list(row["tables_found"] or []),
        table_versions=json.loads(row["table_versions"] or "{}"),
        cells=[Cell(**c) for c in (row["cells"] if cells is None else cells) or []],
        findings=[Finding(**f) for f in row["report_findings"] or []],
        reader=row.get("reader"),
        pages=row.get("pages"),
    )
