"""`python -m pipeline parse FILE [--json]`: one report, as the parser sees it.

The tool to reach for when one report looks wrong: metadata, the three tables in template order,
unreadable cells with their reasons and positions, and every failed identity. A value that cannot
be read is `??` (a cell OCR read unsurely too: accepted means confident, so no accepted value
carries a mark), and a report read by OCR says how many cells came from pictures and how sure the
least sure accepted one was. A broken or
unsupported file is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline import template as T
from pipeline.document import DocumentError
from pipeline.parse import parse_file
from pipeline.report import ParsedReport


def _fmt(value: float | None, unreadable: str | None) -> str:
    if unreadable:
        return "??"
    if value is None:
        return "·"
    return f"{value:g}"


def render_text(report: ParsedReport) -> str:
    lines = [
        f"title:     {report.title}",
        f"agency:    {report.agency}",
        f"year:      {report.year}",
        f"template:  {report.template}  {report.table_versions or ''}",
        f"kind:      {report.kind}",
        f"reader:    {report.reader}" + (f", {report.pages} pages" if report.pages is not None else ""),
    ]
    proactive = report.cells_of("proactive_disclosure")
    if proactive:
        lines.append("\n二、主动公开 (proactive_disclosure)")
        for c in proactive:
            lines.append(
                f"  ({c.article_item}) {c.row_label:<16} {c.column_code:<22} {_fmt(c.value, c.unreadable):>14}"
                f"  {c.unit}"
            )
    apps = report.cells_of("applications")
    if apps:
        cols = [c.code for c in T.APPLICATION_COLUMNS]
        lines.append("\n三、申请 (applications)   " + " ".join(f"{c[:8]:>8}" for c in cols))
        rows: dict[str, dict[str, str]] = {}
        for c in apps:
            rows.setdefault(c.row_code, {})[c.column_code] = _fmt(c.value, c.unreadable)
        for code, vals in rows.items():
            lines.append(f"  {code[:26]:<26} " + " ".join(f"{vals.get(col, ''):>8}" for col in cols))
    review = report.cells_of("review_litigation")
    if review:
        outs = [o.code for o in T.REVIEW_OUTCOMES]
        lines.append("\n四、复议诉讼 (review_litigation) " + " ".join(f"{o:>9}" for o in outs))
        rows = {}
        for c in review:
            rows.setdefault(c.row_code, {})[c.column_code] = _fmt(c.value, c.unreadable)
        for code, vals in rows.items():
            lines.append(f"  {code:<31} " + " ".join(f"{vals.get(o, ''):>9}" for o in outs))
    ocr = [c for c in report.cells if c.confidence is not None]
    if ocr:
        accepted = [c.confidence for c in ocr if not c.unreadable and c.value is not None]
        lines.append(
            f"\nOCR: {len(ocr)} cells read from pictures, {sum(1 for c in ocr if c.unreadable)} unreadable (??)"
            + (f", lowest accepted confidence {min(accepted):.2f}" if accepted else "")
        )
    if report.findings:
        lines.append("\nfindings:")
        lines.extend(f"  [{f.severity}] {f.check}: {f.message}" for f in report.findings)
    else:
        lines.append("\nfindings: none (all identities hold)")
    return "\n".join(lines)


def main_parse(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline parse", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--json", action="store_true", help="print the ParsedReport as JSON")
    args = parser.parse_args(argv)
    try:
        report = parse_file(args.file)
    except DocumentError as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(render_text(report))
    return 0
