"""The parse and validate stages as assets. State lives in the data dir (parse cache, stage files)."""

import dagster as dg

from assets.resources import XxgkConfig, progress
from assets.scrape import scrape
from pipeline import PARSER_VERSION
from pipeline.stages import parse_all, validate_all, validation_counts


@dg.asset(
    group_name="stages",
    kinds={"python"},
    deps=[scrape],
    description="Parse every manifest document into a ParsedReport, cached by (content SHA-256, parser "
    "version): only new bytes are parsed. A document that cannot be parsed is a failed record, never lost.",
)
def parse(context: dg.AssetExecutionContext, xxgk: XxgkConfig) -> dg.MaterializeResult:
    settings = xxgk.settings()
    _records, stats = parse_all(settings, log=progress(context))
    return dg.MaterializeResult(
        metadata={
            "documents": stats.documents,
            "parsed": stats.parsed,
            "cache_hits": stats.cache_hits,
            "failed": stats.failed,
            "parser_version": PARSER_VERSION,
            "per_source": dg.MetadataValue.json(stats.by_source),
        }
    )


@dg.asset(
    group_name="stages",
    kinds={"python"},
    deps=[parse],
    description="Decide each document's status (ok, failed, not_a_report, legacy) and gather its findings: "
    "the identity checks of each report and the checks across reports.",
)
def validate(context: dg.AssetExecutionContext, xxgk: XxgkConfig) -> dg.MaterializeResult:
    staged = validate_all(xxgk.settings(), log=progress(context))
    counts = validation_counts(staged)
    return dg.MaterializeResult(
        metadata={
            "documents": len(staged),
            "findings": counts["findings"],
            **{f"status_{k}": v for k, v in sorted(counts["status"].items())},
            "findings_by_check": dg.MetadataValue.json(counts["checks"]),
        }
    )
