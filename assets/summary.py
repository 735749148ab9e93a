"""The summary page as an asset: `<data-dir>/summary.html` from the tables, and its content as Markdown
metadata (what the UI shows on the asset)."""

import dagster as dg

from assets.metadata_keys import description_of
from assets.resources import XxgkConfig, progress
from assets.tables import TABLE_ASSETS
from pipeline.summary import markdown, write_summary


@dg.asset(
    group_name="warehouse",
    kinds={"html"},
    deps=[TABLE_ASSETS["reports"], TABLE_ASSETS["validation_issues"], TABLE_ASSETS["indicators"]],
    description="`<data-dir>/summary.html`: a self-contained page (inline SVG charts, no script) written from "
    "the tables — reports per source and year; coverage (documents by status per source and format); "
    "findings per check; applications received and grant rate per agency over the years."
    + description_of("summary"),
)
def summary(context: dg.AssetExecutionContext, xxgk: XxgkConfig) -> dg.MaterializeResult:
    settings = xxgk.settings()
    path, s = write_summary(settings.data_dir, settings.warehouse_dir)
    progress(context)(f"summary: {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "summary": dg.MetadataValue.md(markdown(s)),
            "documents": int(s.coverage["found"].sum()),
            "reports_ok": int(s.coverage["ok"].sum()),
            "findings": int(s.findings["findings"].sum()),
            "agencies": s.agencies_total,
        }
    )
