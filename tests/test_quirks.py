"""Every quirk of QUIRKS.md, rendered by our own generator in every format it applies to, parses exactly.

Each case renders one synthetic report (tests/synth) with a single quirk, in each template version,
and holds the parser to the truth the generator printed alongside: metadata, every cell, which cells
are unreadable, which identities fail. A mixed corpus with random quirk combinations follows.
"""

import random

import pytest

from pipeline.parse import parse_document
from pipeline.template import CHECK_DESCRIPTIONS
from tests.synth import FORMATS, QUIRKS, make_spec, random_quirks, render
from tests.truth import assert_matches_truth

CASES = [
    (quirk, fmt, template)
    for quirk, q in sorted(QUIRKS.items())
    for fmt in sorted(q.formats)
    for template in ("2019", "2021", "mixed")
]


def _assert_parses_to_truth(data: bytes, fmt: str, truth: dict) -> None:
    report = parse_document(data, fmt)
    assert report.kind == truth.get("kind", "report")
    if report.kind != "report":
        assert report.template == truth["template"]
        assert not report.cells
        return
    assert_matches_truth(report, truth)
    unreadable = sorted([c.table, c.row_code, c.column_code] for c in report.cells if c.unreadable)
    assert unreadable == sorted(truth.get("unreadable", []))
    unreadable_findings = [f for f in report.findings if f.check == "unreadable_cell"]
    assert len(unreadable_findings) == len(unreadable)
    assert {f.check for f in report.findings} <= set(CHECK_DESCRIPTIONS)  # every code documented


@pytest.mark.parametrize(("quirk", "fmt", "template"), CASES, ids=["-".join(c) for c in CASES])
def test_quirk_parses_to_truth(quirk, fmt, template):
    seed = sum(map(ord, quirk + fmt + template))
    rendering = render(make_spec(seed, template=template), fmt, {quirk})
    assert quirk in rendering.quirks
    _assert_parses_to_truth(rendering.data, fmt, rendering.truth)


@pytest.mark.parametrize("identity", ["T3-A", "T3-B", "T3-C", "T4"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_broken_identity_is_reported_not_repaired(identity, fmt):
    rendering = render(make_spec(11, template="2021", break_identity=identity), fmt, set())
    assert identity in rendering.truth["failed_checks"]
    _assert_parses_to_truth(rendering.data, fmt, rendering.truth)


@pytest.mark.parametrize("kind", ["legacy", "not_a_report"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_legacy_and_non_reports_are_never_forced_into_tables(kind, fmt):
    for seed in range(3):
        rendering = render(make_spec(seed, kind=kind), fmt, set())
        _assert_parses_to_truth(rendering.data, fmt, rendering.truth)


@pytest.mark.parametrize("chunk", range(4))
def test_random_quirk_combinations(chunk):
    """A mixed corpus: reports, legacy reports and notices, any format, 0–6 quirks at once."""
    for i in range(chunk * 40, chunk * 40 + 40):
        rng = random.Random(i)
        kind = rng.choice(["report"] * 18 + ["legacy", "not_a_report"])
        spec = make_spec(i, kind=kind, break_identity=rng.random() < 0.1)
        fmt = rng.choice(FORMATS)
        rendering = render(spec, fmt, random_quirks(rng, fmt, rng.randint(0, 6)))
        _assert_parses_to_truth(rendering.data, fmt, rendering.truth)
