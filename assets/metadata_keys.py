"""What every metadata key on the assets and checks means: one place, shown in the asset descriptions
and generated into the README (`make docs`; tests/test_monitoring.py checks every key a run writes is
here and the README is current)."""

from __future__ import annotations

from pathlib import Path

from pipeline.tables import rewrite_between

_TABLE = {
    "dagster/row_count": "rows written",
    "dagster/column_schema": "the table's columns, types and meanings (pipeline/tables.py)",
    "path": "the Parquet file written",
    "preview": "the first 10 rows",
}

#: asset or check name → metadata key → meaning.
METADATA_KEYS: dict[str, dict[str, str]] = {
    "scrape": {
        "source": "the source (partition) scraped",
        "kind": "`path` (a local folder) or `web` (a website or mirror)",
        "ok": "false when the source failed as a whole (then the partition fails, with this metadata)",
        "error": "why the source failed as a whole, else `none`",
        "documents": "documents in the source's manifest after the scrape (found now or on an earlier run)",
        "discovered": "documents seen this run (files in the folder; report pages and attachments linked)",
        "fetched": "documents whose bytes were read this run because they are new or changed",
        "not_modified": "documents unchanged since the last run (same size and time, or HTTP 304): not read again",
        "failed": "documents whose fetch failed this run (listed by the `fetch_failures` check)",
        "skipped": "web: links not followed — not a report, outside `allowed_domains`, refused by robots.txt, "
        "or past `max_pages`",
        "stored_new": "web: objects new to the raw store (bytes never seen before; a changed page is one)",
        "listings": "web: listing pages read (with their pagination)",
        "listings_failed": "web: listing pages that could not be fetched (all of them: the source failed)",
        "pictures": "web: pictures of report pages fetched with them (pages whose tables are not all text)",
        "raw_dir": "the raw store (content-addressed bytes, manifests, status files)",
    },
    "parse": {
        "source": "the source (partition) parsed",
        "documents": "documents in the source's manifest",
        "parsed": "documents parsed this run (new bytes, or a new parser version)",
        "cache_hits": "documents whose result came from the parse cache (same bytes, same parser version)",
        "failed": "documents with no parse result (listed by the `parse_failures` check)",
        "parser_version": "the parser version (part of the parse cache key)",
    },
    "validate": {
        "documents": "documents of every configured source",
        "findings": "validation_issues rows (failed checks and reading problems)",
        "status_<status>": "documents per status: ok, failed, not_a_report, legacy, duplicate",
        "findings_by_check": "validation_issues rows per check code",
        "reused_from_last_snapshot": "documents whose parsed content was taken from the previous staging "
        "snapshot (unchanged since the last validation: nothing read)",
        "read_from_parse_cache": "documents whose parsed content was read from the parse cache (new or "
        "changed since the last validation)",
        "sources": "each source's last scrape: time, ok or why not, documents, fetched, failed",
    },
    "<each table>": dict(_TABLE),
    "summary": {
        "path": "`<data-dir>/summary.html`",
        "summary": "the page's content as Markdown: coverage, findings per check, indicators of the largest "
        "agencies",
        "documents": "documents found (all sources)",
        "reports_ok": "canonical reports",
        "findings": "validation_issues rows",
        "agencies": "agencies with at least one canonical report",
    },
    "check fetch_failures, parse_failures": {
        "source": "the source (partition)",
        "documents": "documents of the source",
        "failed": "documents that failed (fetch, or parse)",
        "all_failed": "true when every document failed: the check's severity is then ERROR",
        "failures": "the failed documents (URL or path) with the reason, up to 50",
        "failed_documents": "the same as JSON",
    },
    "check identity_*": {
        "check": "the identity's code (T3-A, T3-B, T3-C, T4)",
        "failing_reports": "reports (in the checked table) that break it",
        "failures": "validation_issues rows of that identity (one per column, row or proceeding)",
        "reports": "the failing reports with the scopes that fail, up to 50",
        "report_ids": "their report_ids",
    },
}


def described(asset: str, key: str) -> bool:
    """Whether the metadata `key` of `asset` (a table name maps to `<each table>`) is described here."""
    keys = METADATA_KEYS.get(asset) or METADATA_KEYS["<each table>"]
    return key in keys or (key.startswith("status_") and "status_<status>" in keys)


def description_of(asset: str) -> str:
    """A Markdown list of the asset's metadata keys, for its description."""
    return "\n\nMetadata:\n" + "\n".join(f"- `{k}`: {v}" for k, v in METADATA_KEYS[asset].items())


def metadata_table() -> str:
    """The README's table of metadata keys."""
    lines = [
        "<!-- generated by assets.metadata_keys.metadata_table(); do not edit by hand -->",
        "",
        "| asset or check | key | meaning |",
        "|---|---|---|",
    ]
    for asset, keys in METADATA_KEYS.items():
        for key, meaning in keys.items():
            escaped = meaning.replace("|", "\\|")
            lines.append(f"| {asset} | `{key}` | {escaped} |")
    return "\n".join(lines) + "\n"


README_START, README_END = "<!-- metadata-keys:start -->", "<!-- metadata-keys:end -->"


def update_readme(path: Path) -> bool:
    """Rewrite the README's metadata table between its markers; True when the text changed."""
    return rewrite_between(path, README_START, README_END, metadata_table())
