"""`python -m pipeline run | parse` (CONTRACT.md, "Commands").

`run` materializes the whole asset graph (assets.definitions) through Dagster, in-process
(`assets.launch`: each source's partition of scrape and parse, then validate, the tables and the summary
page), on the persistent instance `make dev` shows (assets.instance: $DAGSTER_HOME, else
data/dagster_home), printing the stages' progress and a closing summary. Exit 0 when the run finished — reports that fail validation are
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

    from assets.instance import dagster_home, persistent_instance
    from assets.launch import launch

    with persistent_instance() as instance:
        result = launch(settings, instance=instance)
    _summary(result, settings, str(dagster_home()))
    return 0 if result.success else 1


def _table_names() -> list[str]:
    from pipeline.tables import TABLE_NAMES

    return list(TABLE_NAMES)


def _total(rows: list[dict[str, Any]], key: str) -> int:
    return sum(int(r.get(key) or 0) for r in rows)


def _summary(result: Any, settings: Any, home: str) -> None:
    """The closing summary, added up over the source partitions (`result` is an assets.launch.Launch)."""
    scrape, parse = result.metadata("scrape"), result.metadata("parse")
    failed_sources = result.source_failures()
    print("\nSummary")
    if parse:
        failed, documents = _total(parse, "failed"), _total(parse, "documents")
        print(
            f"  documents  found {documents} · fetched {_total(scrape, 'fetched')} "
            f"({_total(scrape, 'not_modified')} unchanged) · parsed {documents - failed} · failed {failed}  "
            f"({_total(parse, 'parsed')} read now, {_total(parse, 'cache_hits')} from the parse cache)"
        )
    if scrape or failed_sources:
        detail = f" ({', '.join(failed_sources)})" if failed_sources else ""
        print(f"  sources    {len(scrape)} ok · {len(failed_sources)} failed{detail}")
    rows = []
    for name in _table_names():
        meta = result.metadata(name)
        if meta:
            rows.append(f"{name} {meta[-1].get('dagster/row_count')}")
    if rows:
        print(f"  tables     {' · '.join(rows)}  (rows, in {settings.warehouse_dir})")
    evaluations = result.check_evaluations()
    failed_checks = [e for e in evaluations if not e.passed]
    line = (
        f"  checks     {len(failed_checks)} of {len(evaluations)} failed"
        if evaluations
        else "  checks     not run"
    )
    if failed_checks:
        parts = []
        for e in failed_checks:
            meta = {k: getattr(v, "value", v) for k, v in e.metadata.items()}
            asset = e.asset_key.to_user_string()
            if "source" in meta:  # fetch_failures / parse_failures: one source's documents
                what = f"{asset}[{meta['source']}] ({meta.get('failed')} of {meta.get('documents')} documents"
            else:
                what = f"{asset} ({meta.get('failing_reports')} reports"
            parts.append(f"{e.check_name} on {what}, {e.severity.value})")
        line += ": " + "; ".join(parts)
    print(line)
    if result.metadata("summary"):
        print(f"  summary    {result.metadata('summary')[-1].get('path')}")
    print(f"  dagster    runs and materializations recorded in {home} (make dev shows them)")
    if not result.success:
        print("\nRun FAILED:")
        for failure in result.failures():
            if not failure.source_failed:
                print(f"  {failure.step}: {failure.message}")
        skipped = [a for a in ("validate", *_table_names()) if not result.metadata(a)]
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
