"""Text dump of a report, in the style of the seed dump (a .docx run through a text extractor).

Paragraphs are unindented lines. A table row is one line per cell, each starting with a TAB;
further lines of a multi-line cell follow without a TAB; a blank line ends each row. Cells follow
the Word model: a cell spanning rows is printed in its first row and as an empty cell (a lone TAB)
in the rows it covers; a cell spanning columns is printed once.

Quirk `text_run_together` (lossy): the value cells of each data row of tables 三 and 四 are dumped
as one cell, their digits run together (`10203120001200000`); the truth marks every cell whose
value the digits do not determine as unreadable.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from tests.synth.layout import Layout, LPara, LTable, build, word_rows
from tests.synth.spec import ReportSpec

FORMAT = "txt"


def render(spec: ReportSpec, quirks: Iterable[str] = ()) -> bytes:
    """The text dump of `spec` with the applicable quirks, UTF-8 bytes."""
    return render_layout(build(spec, FORMAT, quirks))


def _table(table: LTable, out: list[str]) -> None:
    rows, _ = word_rows(table)
    for row in rows:
        i = 0
        while i < len(row):
            cell, _col, cont = row[i]
            if cont:
                out.append("\t")
                i += 1
                continue
            if cell.join is not None:
                run = []
                while i < len(row) and row[i][0].join == cell.join and not row[i][2]:
                    run.append(row[i][0].paras[0])
                    i += 1
                out.append("\t" + "".join(run))
                continue
            lines = [line for para in cell.paras for line in para.split("\n")] or [""]
            out.append("\t" + lines[0])
            out.extend(lines[1:])
            i += 1
        out.append("")


def render_layout(layout: Layout) -> bytes:
    rng = random.Random(layout.rng_seed + ":txt")
    out: list[str] = []
    bookmark = rng.random() < 0.3
    prev_table = False
    for block in layout.blocks:
        if isinstance(block, LTable):
            if prev_table:
                out.append("")
            _table(block, out)
            out.append("")
            prev_table = True
            continue
        prev_table = False
        assert isinstance(block, LPara)
        text = block.text.replace("\u00a0", " ")
        if bookmark and block.style == "body":
            text = "[bookmark: _GoBack]" + text
            bookmark = False
        out.append(text)
    return ("\n".join(out) + "\n").encode("utf-8")
