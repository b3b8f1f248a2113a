"""Each stack's own 95% bootstrap CIs (`own_intervals`): they bracket the stack's own F1
mean and E2E percentiles, narrow with more questions, and are absent without data."""

from __future__ import annotations

import numpy as np
import pytest

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
        p50, p95 = ci["e2e.p50"], ci["e2e.p95"]
        assert p50[0] is not None and p50[1] is not None
        assert p50[0] < np.percentile(e2e, 50) < p50[1]
        assert p95[0] is not None and p95[0] <= np.percentile(e2e, 95)
        # A p95's upper bound needs 72 requests: open with 40, the order statistic with 640.
        if n < 72:
            assert p95[1] is None
        else:
            assert p95[1] is not None and np.percentile(e2e, 95) <= p95[1]
        widths.append(ci["f1"][1] - ci["f1"][0])  # type: ignore[operator]
    # 16x the questions: about a quarter of the width.
    assert widths[1] < widths[0] / 2.5, widths


def test_failed_answers_are_left_out_and_too_little_data_gives_none() -> None:
    boot = PairedBootstrap(resamples=200, seed=1)
    ci = own_intervals({"f1": np.array([0.5, np.nan, np.nan]),
                        "e2e": np.array([np.nan, 1.0, np.nan])}, boot)
    assert ci == {}
    ci = own_intervals({"f1": np.array([0.2, 0.4, np.nan]),
                        "e2e": np.array([1.0, 3.0, np.nan])}, boot)
    assert 0.2 <= ci["f1"][0] <= ci["f1"][1] <= 0.4  # type: ignore[operator]
    # Two requests bound no end of their median (that needs 6: 0.5^6 < 0.025).
    assert "e2e.p50" not in ci
    ci = own_intervals({"e2e": np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0, np.nan])}, boot)
    assert ci["e2e.p50"] == [1.0, 6.0] and ci["e2e.p95"] == [4.0, None]


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
    # Stack B answers every question right (F1 all 0/1): Wilson's interval, whose lower end
    # for n of n is n / (n + z^2) = 30 / 33.84 (the bootstrap's was the point [1, 1]).
    low, high = card.summaries["stack-b"].ci["f1"]
    assert low == pytest.approx(30 / (30 + 1.959964**2), abs=1e-6) and high == 1.0


def test_quantile_intervals_are_the_order_statistics() -> None:
    """Reference: the distribution-free equal-tailed 95% interval of the q-quantile is a
    pair of order statistics [X_(l), X_(u)] (1-based), l the largest with
    P(Binomial(n, q) <= l - 1) <= 0.025 and u the smallest with P(Binomial(n, q) >= u)
    <= 0.025 (Conover, Practical Nonparametric Statistics, 3.2): computed here from the
    binomial alone, and by hand for two cases (p95 of 100: [X_(90), X_(100)]; median of
    30: [X_(10), X_(21)], as in Conover's table A3)."""
    from scipy.stats import binom

    boot = PairedBootstrap(resamples=200, seed=1)
    e2e = np.random.default_rng(3).permutation(np.arange(1.0, 251.0))  # X_(k) = k
    assert own_intervals({"e2e": e2e[e2e <= 100]}, boot)["e2e.p95"] == [90.0, 100.0]
    assert own_intervals({"e2e": e2e[e2e <= 30]}, boot)["e2e.p50"] == [10.0, 21.0]
    for n, q, key in ((100, 0.95, "e2e.p95"), (30, 0.5, "e2e.p50"), (250, 0.95, "e2e.p95"),
                      (72, 0.95, "e2e.p95"), (68, 0.5, "e2e.p50")):
        low = max(k for k in range(1, n + 1) if binom.cdf(k - 1, n, q) <= 0.025)
        high = min(k for k in range(1, n + 1) if binom.sf(k - 1, n, q) <= 0.025)
        assert own_intervals({"e2e": e2e[e2e <= n]}, boot)[key] == [low, high], (n, q)


def test_p95_interval_covers_at_small_n() -> None:
    """Simulated through `own_intervals`: a lognormal stack's true p95 lies inside its
    interval at least 94% of the time at n=30 and 200 (the bootstrap's covered it
    0.69-0.76 of the time at n=30: no resample reaches past the largest value). 400 runs
    each: 0.94 against the 0.76 of the old interval is far outside the Monte Carlo noise."""
    boot = PairedBootstrap(resamples=200, seed=1)
    rng = np.random.default_rng(11)
    sd = 0.47
    true_p95 = float(np.exp(1.6448536269514722 * sd))
    for n in (30, 200):
        covered = 0
        for _ in range(400):
            low, high = own_intervals({"e2e": rng.lognormal(0, sd, n)}, boot)["e2e.p95"]
            covered += (low is None or low <= true_p95) and (high is None or true_p95 <= high)
        assert covered / 400 >= 0.94, (n, covered)


def test_an_open_p95_bound_reads_as_such_in_the_chart() -> None:
    """30 requests bound no p95 from above: the card stores null, the decision chart's
    point has an infinite upper end, draws no upper whisker and says why on hover."""
    from workbench.report.pareto import pareto_points
    from workbench.web.pareto_chart import pareto_figure

    questions = [question(f"q{i}", [f"answer {i}"]) for i in range(30)]
    records = [record(q.id, side, f"answer {i}", ttft=0.1 + i / 100 * (1 + k))
               for i, q in enumerate(questions) for k, side in enumerate("AB")]
    card = build_scorecard(questions, records, semantic=False)
    low, high = card.summaries["stack-a"].ci["e2e.p95"]
    assert high is None and low is not None
    assert type(card).model_validate_json(card.model_dump_json()) == card  # null survives
    [a, _] = pareto_points(card, "p95")
    assert a.latency_ci is not None and a.latency_ci[1] == float("inf")
    fig = pareto_figure(card, "p95")
    trace = next(t for t in fig.data if t.name == "stack-a (baseline)")
    assert trace.error_x.array[0] == 0.0 and trace.error_x.arrayminus[0] > 0
    assert f"[{low:.2f}, ∞] (an upper bound needs 72 or more answers)" in trace.hovertext[0]
    assert "no right whisker: no upper bound under 72 answers" in fig.to_json()
    assert "no right whisker" not in pareto_figure(card, "median").to_json()
