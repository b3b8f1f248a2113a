"""Secondary comparisons (every metric but answer F1 and the median E2E ratio, retrieval
included) are one Benjamini-Hochberg family: each carries its adjusted p, is decided on it,
and the report's method line says so."""

from __future__ import annotations

import random

from tests.report.synthetic import question, record
from workbench.report import build_scorecard
from workbench.report.render import render_markdown
from workbench.report.verdict import format_p
from workbench.scoring.stats import benjamini_hochberg


def _card(seed: int, n: int = 40) -> object:
    rng = random.Random(seed)
    qs = [question(f"q{i}", ["red apple tree"]) for i in range(n)]
    recs = []
    for i, q in enumerate(qs):
        for side, start in (("A", 100.0), ("B", 300.0)):
            answer = rng.choice(["red apple tree", "red apple", "green pear", "apple tree"])
            docs = rng.choice([[f"q{i}-doc", "x"], ["x", f"q{i}-doc"], ["x", "y"]])
            recs.append(record(q.id, side, answer, docs=docs, start=start + i,
                               ttft=rng.uniform(0.1, 0.3), itl=rng.uniform(0.01, 0.03)))
    return build_scorecard(qs, recs, semantic=False, resamples=300)


def test_secondary_p_values_are_benjamini_hochberg_adjusted_together() -> None:
    card = _card(1)
    secondary = [c for c in card.comparisons if not c.primary and c.p_value is not None]  # type: ignore[attr-defined]
    assert len(secondary) >= 9 and any(c.section == "retrieval" for c in secondary)
    want = benjamini_hochberg([c.p_value for c in secondary if c.p_value is not None])
    assert [c.p_bh for c in secondary] == want
    assert card.method.bh_family == len(secondary)  # type: ignore[attr-defined]
    for c in secondary:
        assert c.significant == (c.p_bh is not None and c.p_bh < 0.05 and (
            (c.ci_low or 0) > 0 or (c.ci_high or 0) < 0 or (c.rel_ci_low or 0) > 0
            or (c.rel_ci_high or 0) < 0))
        assert format_p(c).endswith("(BH)")
    text = render_markdown(card)  # type: ignore[arg-type]
    assert f"the {len(secondary)} secondary tests" in text and "Benjamini-Hochberg" in text
    assert "uncorrected" not in text

