"""The scrape stage as an asset partitioned by source: one source into the raw store and its manifest.

One partition per configured source (`assets.definitions.source_partitions`): a failing site is one failed partition, never
a blocked run, and sources are fetched in parallel runs. A source that fails as a whole raises
`dagster.Failure` after its status file is written: the partition shows as failed in the UI with the
reason and counts in the failure's metadata, and the step is retried with backoff and jitter
(`SCRAPE_RETRY`) when the source is a website (a site down at night may be back an hour later). A path
source's failure (a missing folder) is a configuration problem: not retried.
"""

import dagster as dg

from assets.document_checks import FETCH_FAILURES, document_check_spec, document_failures
from assets.metadata_keys import description_of
from assets.resources import XxgkConfig, progress, warn
from pipeline.scrape import COUNT_KEYS, SourceResult, failed_fetches, scrape_source

#: Metadata key marking a failure as "this source failed" (recorded, as opposed to a broken step).
SOURCE_FAILED = "xxgk/source_failed"

#: Network step: up to 3 more tries, after (2^n − 1) × 2 min — 2, 6, 14 min (exponential) — each
#: ± 2 min at random (jitter), so that retries of many sources do not hit their sites in step.
SCRAPE_RETRY = dg.RetryPolicy(
    max_retries=3, delay=120, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def scrape_metadata(result: SourceResult, raw_dir: str) -> dict:
    return {
        "source": result.source,
        "kind": result.kind,
        "ok": result.ok,
        "error": result.error or "none",
        "documents": result.documents,
        **{k: int(v) for k, v in result.counts.items()},
        "raw_dir": dg.MetadataValue.path(raw_dir),
    }


def scrape_asset(
    partitions_def: dg.PartitionsDefinition, retry_policy: dg.RetryPolicy | None = SCRAPE_RETRY
) -> dg.AssetsDefinition:
    @dg.asset(
        name="scrape",
        group_name="stages",
        kinds={"python"},
        partitions_def=partitions_def,
        retry_policy=retry_policy,
        check_specs=[document_check_spec(FETCH_FAILURES, partitions_def)],
        description="Scrape one source (partition = source name: a local folder or a website) into raw/ "
        "(content-addressed bytes, the source's manifest). A source that fails is a failed partition "
        "with the reason in its metadata; websites are retried with backoff. Other sources go on."
        + description_of("scrape"),
    )
    def scrape(context: dg.AssetExecutionContext, xxgk: XxgkConfig) -> dg.MaterializeResult:
        settings = xxgk.settings()
        try:
            source = settings.source(context.partition_key)
        except KeyError as exc:
            raise dg.Failure(
                description=f"{exc.args[0]}: reload the code location after editing the sources file",
                allow_retries=False,
            ) from None
        result = scrape_source(source, settings, log=progress(context))
        metadata = scrape_metadata(result, str(settings.raw_dir))
        if not result.ok:
            raise dg.Failure(
                description=f"source {source.name} failed: {result.error}",
                metadata={**metadata, SOURCE_FAILED: True},
                allow_retries=source.is_web,
            )
        failed = [(doc.locator, doc.error or "fetch failed") for doc in failed_fetches(settings, source)]
        for locator, reason in failed:
            warn(context, f"scrape {source.name}: fetch failed: {locator}: {reason}")
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[document_failures(FETCH_FAILURES, source.name, result.documents, failed)],
        )

    return scrape


__all__ = ["COUNT_KEYS", "SCRAPE_RETRY", "SOURCE_FAILED", "scrape_asset"]
