"""Asset checks: the identities (勾稽关系) on the tables (the failed documents per source: assets.document_checks).

The identity checks T3-A, T3-B, T3-C on applications and T4 on review_litigation read
`validation_issues` (for the reports the checked table holds) and fail with severity WARN: a report that
breaks an identity is a data finding (recorded, every report still written), not a broken run.
"""

import dagster as dg
import pandas as pd

from assets.resources import XxgkConfig
from assets.tables import TABLE_ASSETS
from pipeline import fs
from pipeline.tables import VALIDATION_ISSUES
from pipeline.template import IDENTITIES, Identity

MAX_LISTED = 50


def failing_reports(issues: pd.DataFrame, check: str) -> pd.DataFrame:
    """One row per report failing `check`: keys, the number of failures and the scopes that fail."""
    rows = issues[issues["check"] == check]
    if rows.empty:
        return pd.DataFrame(columns=["report_id", "region", "agency", "year", "failures", "scopes"])
    return (
        rows.groupby(["report_id", "region", "agency", "year"], dropna=False, sort=False)
        .agg(failures=("check", "size"), scopes=("scope", lambda s: ", ".join(str(x) for x in s)))
        .reset_index()
    )


def _identity_check(identity: Identity) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=TABLE_ASSETS[identity.table],
        name=f"identity_{identity.code.lower().replace('-', '_')}",
        description=f"{identity.code}: {identity.description}. Warns with the reports that break it.",
        additional_deps=[TABLE_ASSETS[VALIDATION_ISSUES.name]],
        blocking=False,
    )
    def _check(xxgk: XxgkConfig) -> dg.AssetCheckResult:
        warehouse = xxgk.settings().warehouse_dir
        issues = fs.read_parquet(warehouse / VALIDATION_ISSUES.filename())
        # Only the reports in the checked table (canonical ones), not duplicates set aside.
        in_table = fs.read_parquet(warehouse / f"{identity.table}.parquet", columns=["report_id"])
        issues = issues[issues["report_id"].isin(set(in_table["report_id"]))]
        failing = failing_reports(issues, identity.code)
        listed = failing.head(MAX_LISTED)
        return dg.AssetCheckResult(
            passed=failing.empty,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "check": identity.code,
                "failing_reports": len(failing),
                "failures": int(failing["failures"].sum()) if not failing.empty else 0,
                "reports": dg.MetadataValue.md(
                    listed.to_markdown(index=False) if not listed.empty else "none"
                ),
                "report_ids": dg.MetadataValue.json(listed["report_id"].tolist()),
            },
        )

    return _check


IDENTITY_CHECKS: list[dg.AssetChecksDefinition] = [_identity_check(i) for i in IDENTITIES]
