"""Asset checks of the partitioned stages: the failed documents of one source.

`fetch_failures` (on `scrape`) and `parse_failures` (on `parse`) are evaluated by their asset, for its
source partition, with the documents at hand: they WARN with the failing documents (URL or path, and
the reason) in their metadata, and are ERROR when every document of the source failed. Non-blocking:
a failed document is a finding, never a reason to stop the other sources.
"""

import warnings

import dagster as dg
import pandas as pd

MAX_LISTED = 50
FETCH_FAILURES = "fetch_failures"
PARSE_FAILURES = "parse_failures"
DOCUMENT_CHECKS = {
    FETCH_FAILURES: (
        "scrape",
        "Documents of this source whose last fetch failed (dead link, refused, too large, unsafe path). "
        "WARN lists them with the reason; ERROR when every document of the source failed.",
    ),
    PARSE_FAILURES: (
        "parse",
        "Documents of this source that could not be parsed (not fetched, broken, unsupported, over the time "
        "or memory limit). WARN lists them with the reason; ERROR when every document of the source failed.",
    ),
}


def document_check_spec(name: str, partitions_def: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
    """The check, partitioned like its asset: each source's result is kept (and shown) on its own."""
    asset, description = DOCUMENT_CHECKS[name]
    # Partitioned checks are a preview feature of Dagster 1.13 (pinned <1.14; tests/test_monitoring.py
    # reads each partition's result back from the instance): used knowingly, so its warning is not shown.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name, asset=asset, description=description, blocking=False, partitions_def=partitions_def
        )


def document_failures(
    name: str, source: str, documents: int, failures: list[tuple[str, str]]
) -> dg.AssetCheckResult:
    """The check result for one source: passed with no failure, WARN with some, ERROR when all failed."""
    every = documents > 0 and len(failures) >= documents
    listed = failures[:MAX_LISTED]
    table = pd.DataFrame(listed, columns=["document", "reason"])
    return dg.AssetCheckResult(
        check_name=name,
        passed=not failures,
        severity=dg.AssetCheckSeverity.ERROR if every else dg.AssetCheckSeverity.WARN,
        metadata={
            "source": source,
            "documents": documents,
            "failed": len(failures),
            "all_failed": every,
            "failures": dg.MetadataValue.md(table.to_markdown(index=False) if listed else "none"),
            "failed_documents": dg.MetadataValue.json([{"document": d, "reason": r} for d, r in listed]),
        },
    )
