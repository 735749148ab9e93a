"""`python -m pipeline run | parse` (CONTRACT.md, "Commands").

`run` materializes the whole asset graph (assets.definitions) through Dagster, in-process, printing the
stages' progress and a closing summary. Exit 0 when the run finished — reports that fail validation are
data findings, recorded in the tables — and non-zero when the run itself failed (2: bad configuration,
1: a step failed). `parse` is `pipeline.cli_parse.main_parse`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from pipeline.config import ConfigError, load_settings

PROGRESS_LOGGER = "xxgk.progress"  # the same name as assets.resources.PROGRESS_LOGGER
STAGES = ("scrape", "parse", "validate")


def _parse_command(argv: list[str]) -> int:
    from pipeline.cli_parse import main_parse

    return main_parse(argv)


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Government information-disclosure annual reports → checked Parquet tables.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="scrape, parse, validate and write the tables (the whole asset graph)")
    run.add_argument("--sources", help="sources file (default: $XXGK_SOURCES, else data/sources.yaml)")
    run.add_argument("--data-dir", help="data directory (default: $XXGK_DATA_DIR, else data/)")
    sub.add_parser("parse", help="parse one document and print what was read (see `parse --help`)")
    return parser


def _terminal_progress() -> None:
    logger = logging.getLogger(PROGRESS_LOGGER)
    if not any(getattr(h, "_xxgk", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("  %(message)s"))
        handler._xxgk = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _metadata(result: Any, asset: str) -> dict[str, Any]:
    events = result.asset_materializations_for_node(asset)
    if not events:
        return {}
    return {k: getattr(v, "value", v) for k, v in events[-1].metadata.items()}


def run(sources: str | None, data_dir: str | None) -> int:
    try:
        settings = load_settings(sources, data_dir)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _terminal_progress()
    print(
        f"xxgk run: {len(settings.sources)} sources from {settings.sources_file}, data in {settings.data_dir}",
        flush=True,
    )

    import dagster as dg

    from assets.definitions import ALL_ASSETS, ALL_CHECKS
    from assets.resources import XxgkConfig

    resource = XxgkConfig(sources_file=str(settings.sources_file), data_dir=str(settings.data_dir))
    result = dg.materialize(
        [*ALL_ASSETS, *ALL_CHECKS],
        resources={"xxgk": resource},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        # Dagster's own event lines stay quiet: the stages print their progress, failures are summarised below.
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
    _summary(result, settings, [*STAGES, *_table_names()])
    return 0 if result.success else 1


def _table_names() -> list[str]:
    from pipeline.tables import TABLE_NAMES

    return list(TABLE_NAMES)


def _summary(result: Any, settings: Any, assets: list[str]) -> None:
    scrape, parse = _metadata(result, "scrape"), _metadata(result, "parse")
    print("\nSummary")
    if parse:
        failed = parse.get("failed", 0)
        documents = parse.get("documents", 0)
        print(
            f"  documents  found {documents} · fetched {scrape.get('fetched', 0)} "
            f"({scrape.get('not_modified', 0)} unchanged) · parsed {documents - failed} · failed {failed}  "
            f"({parse.get('parsed', 0)} read now, {parse.get('cache_hits', 0)} from the parse cache)"
        )
    if scrape:
        failed_sources = scrape.get("sources_failed", 0)
        detail = f" ({scrape.get('failed_sources')})" if failed_sources else ""
        print(
            f"  sources    {scrape.get('sources', 0) - failed_sources} ok · {failed_sources} failed{detail}"
        )
    rows = [(name, _metadata(result, name).get("dagster/row_count")) for name in _table_names()]
    written = [f"{name} {n}" for name, n in rows if n is not None]
    if written:
        print(f"  tables     {' · '.join(written)}  (rows, in {settings.warehouse_dir})")
    evaluations = result.get_asset_check_evaluations()
    failed_checks = [e for e in evaluations if not e.passed]
    line = (
        f"  checks     {len(failed_checks)} of {len(evaluations)} failed"
        if evaluations
        else "  checks     not run"
    )
    if failed_checks:
        parts = []
        for e in failed_checks:
            reports = e.metadata.get("failing_reports")
            n = getattr(reports, "value", reports)
            parts.append(
                f"{e.check_name} on {e.asset_key.to_user_string()} ({n} reports, {e.severity.value})"
            )
        line += ": " + "; ".join(parts)
    print(line)
    if not result.success:
        print("\nRun FAILED:")
        for event in result.get_step_failure_events():
            error = event.event_specific_data.error
            while error is not None and error.cause is not None:  # the user error, not Dagster's wrapper
                error = error.cause
            message = error.message.strip() if error else "unknown error"
            print(f"  {event.step_key}: {message}")
        skipped = [a for a in assets if not _metadata(result, a)]
        if skipped:
            print(f"  not materialized: {', '.join(skipped)}")
    else:
        print("\nRun finished.")


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "parse":
        return _parse_command(args_list[1:])
    args = _arguments().parse_args(args_list)
    if args.command == "run":
        return run(args.sources, args.data_dir)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
