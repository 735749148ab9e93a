"""The Dagster definitions: scrape → parse → validate → the six tables, and the identity checks.

Loaded by `workspace.yaml` (`dagster dev -w workspace.yaml`) and by `python -m pipeline run`. The
resource reads XXGK_SOURCES / XXGK_DATA_DIR when unset (CONTRACT.md).
"""

import dagster as dg

from assets.checks import IDENTITY_CHECKS
from assets.parse import parse, validate
from assets.resources import XxgkConfig
from assets.scrape import scrape
from assets.tables import TABLE_ASSETS

ALL_ASSETS: list[dg.AssetsDefinition] = [scrape, parse, validate, *TABLE_ASSETS.values()]
ALL_CHECKS: list[dg.AssetChecksDefinition] = list(IDENTITY_CHECKS)

full_run = dg.define_asset_job(
    "xxgk_full_run",
    selection=dg.AssetSelection.all(),
    description="Scrape every source, parse what is new, validate and rewrite the six tables.",
)

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[full_run],
    resources={"xxgk": XxgkConfig()},
)
