"""The one-command full run (`python -m pipeline run`): every partition, then the rest, in-process.

`dagster asset materialize` cannot do this in one call (a selection with partitioned assets needs one
`--partition`, PITFALLS.md), and an asset backfill would not rebuild the tables when one source fails. So: for each source, materialize its partition of scrape and parse; then, whatever the
sources' outcome, validate, the seven tables, the summary page and their checks — each call
`dagster.materialize` on one instance (`python -m pipeline run`: the persistent one `make dev` shows,
assets.instance; tests: their own), in this process, in order. Each run is tagged `xxgk/launched_by`.

A source that fails as a whole is a recorded finding (its scrape step raises a Failure marked
`SOURCE_FAILED`, the run goes on); any other step failure makes the run a failure. Step retries are off
here: a one-shot command should not sit through a site's backoff (the crawler already retries each
request); the scheduled runs retry with `SCRAPE_RETRY`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from assets.definitions import (
    ALL_CHECKS,
    PARTITIONED,
    STAGE_TAG,
    UNPARTITIONED,
    build_assets,
    source_partitions,
)
from assets.resources import XxgkConfig
from assets.scrape import SOURCE_FAILED
from pipeline.config import Settings

LAUNCHED_BY_TAG = "xxgk/launched_by"


@dataclass(slots=True)
class StepFailure:
    step: str  # step key, with the partition: scrape[pingtan]
    message: str
    source_failed: bool  # a source that failed as a whole (a recorded finding), not a broken step


@dataclass(slots=True)
class Launch:
    """The results of a full run: one per source partition, then the unpartitioned rest."""

    partitions: dict[str, dg.ExecuteInProcessResult] = field(default_factory=dict)
    rest: dg.ExecuteInProcessResult | None = None

    def _results(self) -> list[tuple[str | None, dg.ExecuteInProcessResult]]:
        pairs: list[tuple[str | None, dg.ExecuteInProcessResult]] = list(self.partitions.items())
        return [*pairs, (None, self.rest)] if self.rest is not None else pairs

    def metadata(self, asset: str) -> list[dict[str, Any]]:
        """The metadata of each materialization of `asset` (one per partition), plain values."""
        out = []
        for _key, result in self._results():
            for event in result.asset_materializations_for_node(asset):
                out.append({k: getattr(v, "value", v) for k, v in event.metadata.items()})
        return out

    def failures(self) -> list[StepFailure]:
        out = []
        for key, result in self._results():
            for event in result.get_step_failure_events():
                data = event.event_specific_data
                user = getattr(data, "user_failure_data", None)
                marked = bool(user and getattr(user.metadata.get(SOURCE_FAILED), "value", False))
                error = data.error
                while error is not None and error.cause is not None:  # the user error, not Dagster's wrapper
                    error = error.cause
                message = (user.description if marked else None) or (error.message.strip() if error else "")
                step = f"{event.step_key}[{key}]" if key is not None else event.step_key
                out.append(StepFailure(step, message or "unknown error", marked))
        return out

    def source_failures(self) -> dict[str, dict[str, Any]]:
        """Sources that failed as a whole: name → the failure's metadata."""
        out = {}
        for key, result in self.partitions.items():
            for event in result.get_step_failure_events():
                user = getattr(event.event_specific_data, "user_failure_data", None)
                if user and getattr(user.metadata.get(SOURCE_FAILED), "value", False):
                    out[key] = {k: getattr(v, "value", v) for k, v in user.metadata.items()}
        return out

    def check_evaluations(self) -> list[dg.AssetCheckEvaluation]:
        """Every check evaluated: each source's fetch_failures and parse_failures, then the table checks."""
        return [e for _key, result in self._results() for e in result.get_asset_check_evaluations()]

    @property
    def success(self) -> bool:
        """True when every step succeeded but for sources that failed as a whole (recorded findings)."""
        return self.rest is not None and all(f.source_failed for f in self.failures())


def launch(
    settings: Settings,
    *,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "CRITICAL",
    retries: bool = False,
) -> Launch:
    """Materialize every source partition of scrape and parse, then validate, the tables and the checks."""
    assets = [*build_assets(source_partitions(settings)), *ALL_CHECKS]
    resources = {"xxgk": XxgkConfig(sources_file=str(settings.sources_file), data_dir=str(settings.data_dir))}
    instance = instance or dg.DagsterInstance.ephemeral()
    run_config = {
        # Dagster's own event lines stay quiet: the stages print their progress.
        "loggers": {"console": {"config": {"log_level": log_level}}},
        "execution": {"config": {"retries": {"enabled": {}} if retries else {"disabled": {}}}},
    }
    tags = {LAUNCHED_BY_TAG: "python -m pipeline run"}
    out = Launch()
    for source in settings.sources:
        out.partitions[source.name] = dg.materialize(
            assets,
            selection=dg.AssetSelection.assets(*PARTITIONED),
            partition_key=source.name,
            resources=resources,
            instance=instance,
            raise_on_error=False,
            run_config=run_config,
            tags={**tags, STAGE_TAG: "sources"},
        )
    out.rest = dg.materialize(
        assets,
        selection=dg.AssetSelection.assets(*UNPARTITIONED),
        resources=resources,
        instance=instance,
        raise_on_error=False,
        run_config=run_config,
        tags={**tags, STAGE_TAG: "tables"},
    )
    return out
