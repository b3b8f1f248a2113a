"""Each stack's own 95% bootstrap CIs (`own_intervals`): they bracket the stack's own F1
mean and E2E percentiles, narrow with more questions, and are absent without data."""

from __future__ import annotations

import numpy as np

from tests.report.synthetic import question, record
from workbench.report import build_scorecard
from workbench.report.summaries import own_intervals
from workbench.scoring.stats import PairedBootstrap


def test_intervals_bracket_the_estimates_and_narrow_with_n() -> None:
    rng = np.random.default_rng(7)
    boot = PairedBootstrap(resamples=1000, seed=1)
    widths = []
    for n in (40, 640):
        f1 = rng.uniform(0, 1, n)
        e2e = rng.lognormal(0, 0.4, n)
        ci = own_intervals({"f1": f1, "e2e": e2e}, boot)
        assert ci["f1"][0] < f1.mean() < ci["f1"][1]
        assert ci["e2e.p50"][0] < np.percentile(e2e, 50) < ci["e2e.p50"][1]
        assert ci["e2e.p95"][0] <= np.percentile(e2e, 95) <= ci["e2e.p95"][1]
        widths.append(ci["f1"][1] - ci["f1"][0])
    # 16x the questions: about a quarter of the width.
    assert widths[1] < widths[0] / 2.5, widths


def test_failed_answers_are_left_out_and_too_little_data_gives_none() -> None:
    boot = PairedBootstrap(resamples=200, seed=1)
    ci = own_intervals({"f1": np.array([0.5, np.nan, np.nan]),
                        "e2e": np.array([np.nan, 1.0, np.nan])}, boot)
    assert ci == {}
    ci = own_intervals({"f1": np.array([0.2, 0.4, np.nan]),
                        "e2e": np.array([1.0, 3.0, np.nan])}, boot)
    assert 0.2 <= ci["f1"][0] <= ci["f1"][1] <= 0.4
    assert 1.0 <= ci["e2e.p50"][0] <= ci["e2e.p50"][1] <= 3.0


def test_the_scorecard_carries_each_stacks_intervals() -> None:
    questions = [question(f"q{i}", [f"answer {i}"]) for i in range(30)]
    records = []
    for i, q in enumerate(questions):
        records.append(record(q.id, "A", f"answer {i}" if i % 2 else "no", ttft=0.1 + i / 100))
        records.append(record(q.id, "B", f"answer {i}", ttft=0.3 + i / 100))
    card = build_scorecard(questions, records, semantic=False)
    for stack in card.stacks:
        s = card.summaries[stack]
        low, high = s.ci["f1"]
        assert low <= s.quality["f1"] <= high  # type: ignore[operator]
        e2e = s.latency["e2e"]
        assert s.ci["e2e.p50"][0] <= e2e.p50 <= s.ci["e2e.p50"][1]  # type: ignore[operator]
    # Stack B answers every question right: its F1 CI is the point 1.
    assert card.summaries["stack-b"].ci["f1"] == [1.0, 1.0]
