"""The parse stage (partitioned by source) and the validate stage (all sources) as assets.

State lives in the data dir: parse cache, one parse stage file per source, the validate stage file.
`validate` depends on every partition of `parse` (AllPartitionMapping) and reads the last parse result
of each configured source, so a source whose scrape failed tonight keeps the documents it had.
"""

import json

import dagster as dg

from assets.document_checks import PARSE_FAILURES, document_check_spec, document_failures
from assets.metadata_keys import description_of
from assets.resources import XxgkConfig, progress, warn
from pipeline import PARSER_VERSION, fs
from pipeline.scrape import status_path
from pipeline.stages import parse_source, validate_all


def parse_asset(partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="parse",
        group_name="stages",
        kinds={"python"},
        partitions_def=partitions_def,
        deps=["scrape"],
        check_specs=[document_check_spec(PARSE_FAILURES, partitions_def)],
        description="Parse one source's manifest documents into ParsedReports, cached by (content SHA-256, "
        "parser version): only new bytes are parsed. A document that cannot be parsed is a failed record, "
        "never lost." + description_of("parse"),
    )
    def parse(context: dg.AssetExecutionContext, xxgk: XxgkConfig) -> dg.MaterializeResult:
        settings = xxgk.settings()
        source = settings.source(context.partition_key)
        records, stats = parse_source(settings, source, log=progress(context))
        failed = [(r.doc.locator, r.error or "parse failed") for r in records if not r.ok]
        for locator, reason in failed:
            warn(context, f"parse {source.name}: FAILED {locator}: {reason}")
        return dg.MaterializeResult(
            check_results=[document_failures(PARSE_FAILURES, source.name, stats.documents, failed)],
            metadata={
                "source": source.name,
                "documents": stats.documents,
                "parsed": stats.parsed,
                "cache_hits": stats.cache_hits,
                "failed": stats.failed,
                "parser_version": PARSER_VERSION,
            },
        )

    return parse


def sources_summary(xxgk: XxgkConfig) -> str:
    """A markdown table: each configured source's last scrape (status file) and its documents."""
    settings = xxgk.settings()
    lines = [
        "| source | kind | last scrape | status | documents | fetched | failed |",
        "|---|---|---|---|---|---|---|",
    ]
    for source in settings.sources:
        try:
            status = json.loads(fs.read_text(status_path(settings.raw_dir, source.name)))
        except FileNotFoundError:
            lines.append(f"| {source.name} | {'web' if source.is_web else 'path'} | never | | | | |")
            continue
        counts = status.get("counts", {})
        state = "ok" if status.get("ok") else f"FAILED: {status.get('error')}"
        lines.append(
            f"| {source.name} | {status.get('kind')} | {status.get('finished_at')} | {state} | "
            f"{status.get('documents')} | {counts.get('fetched', 0)} | {counts.get('failed', 0)} |"
        )
    return "\n".join(lines)


@dg.asset(
    group_name="stages",
    kinds={"python"},
    deps=[dg.AssetDep("parse", partition_mapping=dg.AllPartitionMapping())],
    description="Decide each document's status (ok, failed, not_a_report, legacy, duplicate) and gather its "
    "findings: the identity checks of each report and the checks across reports. Reads every source; writes "
    "the staging snapshot the tables are built from." + description_of("validate"),
)
def validate(context: dg.AssetExecutionContext, xxgk: XxgkConfig) -> dg.MaterializeResult:
    result = validate_all(xxgk.settings(), log=progress(context))
    return dg.MaterializeResult(
        metadata={
            "documents": result.documents,
            "findings": result.findings,
            **{f"status_{k}": v for k, v in sorted(result.status.items())},
            "findings_by_check": dg.MetadataValue.json(result.checks),
            "reused_from_last_snapshot": result.reused,
            "read_from_parse_cache": result.loaded,
            "sources": dg.MetadataValue.md(sources_summary(xxgk)),
        }
    )
