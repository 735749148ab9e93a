"""The scrape stage as an asset: every configured source into the raw store and its manifest."""

import dagster as dg

from assets.resources import XxgkConfig, progress
from pipeline.scrape import COUNT_KEYS, scrape_all


@dg.asset(
    group_name="stages",
    kinds={"python"},
    description="Scrape every configured source (local folders, websites) into raw/ (content-addressed bytes, "
    "one manifest per source). A failing source is recorded in the metadata and does not stop the others.",
)
def scrape(context: dg.AssetExecutionContext, xxgk: XxgkConfig) -> dg.MaterializeResult:
    settings = xxgk.settings()
    results = scrape_all(settings, log=progress(context))
    header = "| source | kind | status | documents | " + " | ".join(COUNT_KEYS) + " |"
    lines = [header, "|" + "---|" * (4 + len(COUNT_KEYS))]
    for r in results:
        status = "ok" if r.ok else f"FAILED: {r.error}"
        counts = " | ".join(str(r.counts.get(k, 0)) for k in COUNT_KEYS)
        lines.append(f"| {r.source} | {r.kind} | {status} | {r.documents} | {counts} |")
    totals = {k: sum(r.counts.get(k, 0) for r in results) for k in COUNT_KEYS}
    return dg.MaterializeResult(
        metadata={
            "sources": len(results),
            "sources_failed": sum(1 for r in results if not r.ok),
            "failed_sources": ", ".join(r.source for r in results if not r.ok) or "none",
            "documents": sum(r.documents for r in results),
            **{k: v for k, v in totals.items()},
            "per_source": dg.MetadataValue.md("\n".join(lines)),
            "raw_dir": dg.MetadataValue.path(str(settings.raw_dir)),
        }
    )
