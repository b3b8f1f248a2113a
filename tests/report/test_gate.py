"""The gate as a non-inferiority test (report.gate): simulated runs with a known true drop
pushed through the product's own `check_margin` / `run_gate`, on a real scorecard whose
per-question rows are replaced by the simulated ones.

Printed rates (run with -s) are the numbers quoted in the closing note."""

from __future__ import annotations

import numpy as np
import pytest

from tests.report.synthetic import question, record
from workbench.report.choice import recommend
from workbench.report.constraints import parse_margin
from workbench.report.gate import (
    EXIT_INCONCLUSIVE,
    GateError,
    check_margin,
    gate_failures,
    run_gate,
)
from workbench.report.models import ScoreCard
from workbench.report.scorecard import build_scorecard

A, B = "stack-a", "stack-b"
RUNS = 200


def _card(n: int) -> ScoreCard:
    questions = [question(f"q{i}") for i in range(n)]
    records = [record(q.id, side, "gold", start=100.0 + i) for i, q in enumerate(questions)
               for side in "AB"]
    return build_scorecard(questions, records, semantic=False, resamples=100)


def _with(card: ScoreCard, f1_a: np.ndarray, f1_b: np.ndarray,
          e2e_a: np.ndarray | None = None, e2e_b: np.ndarray | None = None,
          failed_b: np.ndarray | None = None) -> ScoreCard:
    """The card with these per-question F1 scores and E2E times (the simulated run)."""
    rows = []
    for i, row in enumerate(card.rows):
        bad = failed_b is not None and bool(failed_b[i])
        rows.append(row.model_copy(update={
            "scores": {A: {"f1": float(f1_a[i])}, B: {"f1": 0.0 if bad else float(f1_b[i])}},
            "status": {A: "ok", B: "timeout" if bad else "ok"},
            "e2e": {A: None if e2e_a is None else float(e2e_a[i]),
                    B: None if e2e_b is None or bad else float(e2e_b[i])}}))
    return card.model_copy(update={"rows": rows})


def _f1(rng: np.random.Generator, n: int, rate_a: float, rate_b: float,
        same: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Right/wrong answers (F1 1/0) at these rates, the same question as hard for both with
    probability `same` (paired runs are correlated)."""
    u = rng.random(n)
    v = np.where(rng.random(n) < same, u, rng.random(n))
    return (u < rate_a).astype(float), (v < rate_b).astype(float)


def _rates(card: ScoreCard, margin: str, drop: float, n: int, runs: int,
           seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    m = parse_margin(margin)
    counts = {"pass": 0, "fail": 0, "inconclusive": 0}
    for _ in range(runs):
        a, b = _f1(rng, n, 0.6, 0.6 - drop)
        counts[check_margin(_with(card, a, b), B, m).state] += 1
    return {k: v / runs for k, v in counts.items()}


def test_a_real_f1_drop_of_010_never_passes_a_002_margin_at_n100() -> None:
    rates = _rates(_card(100), "f1=0.02", 0.10, 100, RUNS, seed=10)
    print(f"true F1 drop 0.10, margin 0.02, n=100, {RUNS} runs: {rates}")
    assert rates["pass"] == 0.0
    assert rates["fail"] >= 0.2  # the old gate caught it 21% of the time


def test_a_drop_exactly_at_the_margin_passes_at_most_5pct() -> None:
    rates = _rates(_card(100), "f1=0.05", 0.05, 100, 1000, seed=5)
    print(f"true F1 drop = margin 0.05, n=100, 1000 runs: false pass {rates['pass']:.3f}")
    assert rates["pass"] <= 0.05


def test_no_drop_with_a_big_run_passes() -> None:
    card = _card(2000)
    rates = _rates(card, "f1=0.05", 0.0, 2000, 20, seed=0)
    print(f"true F1 drop 0, margin 0.05, n=2000, 20 runs: {rates}")
    assert rates["pass"] == 1.0


def test_inconclusive_says_what_would_settle_it() -> None:
    card = _card(100)
    a, b = _f1(np.random.default_rng(3), 100, 0.6, 0.6)
    check = check_margin(_with(card, a, b), B, parse_margin("f1=0.05"))
    assert check.state == "inconclusive" and check.settle_n is not None
    assert check.settle_n > 100
    assert check.text.startswith(f"{B} is inconclusive at the gate: Token F1 drop")
    assert check.text.endswith(f"about {check.settle_n} questions would settle it")
    result = run_gate(_with(card, a, b), recommend(card), [parse_margin("f1=0.05")], [B])
    assert result.state == "inconclusive" and result.exit_code == EXIT_INCONCLUSIVE == 3
    assert gate_failures(_with(card, a, b), recommend(card), [parse_margin("f1=0.05")],
                         [B]) == []


def test_a_p95_margin_under_200_pairs_is_refused_not_swapped_for_the_median() -> None:
    card = _card(199)
    with pytest.raises(GateError, match=r"e2e.p95=10%: run .* has 199 question pairs .* a "
                                        r"p95 needs at least 200"):
        check_margin(card, B, parse_margin("e2e.p95=10%"))
    with pytest.raises(GateError, match=r"no margin on ttft\.p95"):
        check_margin(card, B, parse_margin("ttft.p95=10%"))


def test_a_p95_rise_of_199pct_fails_where_the_median_passes() -> None:
    n = 400
    rng = np.random.default_rng(199)
    base = rng.lognormal(0, 0.25, n)
    cand = np.where(base > np.quantile(base, 0.90), base * 3.0, base)  # the slow tail x3
    card = _with(_card(n), np.ones(n), np.ones(n), base, cand)
    p95 = check_margin(card, B, parse_margin("e2e.p95=10%"))
    assert p95.state == "fail" and p95.text.startswith(f"{B} fails the gate: p95 E2E ratio +")
    assert check_margin(card, B, parse_margin("e2e.p50=10%")).state == "pass"


def test_timeouts_count_as_slowest_in_a_latency_margin() -> None:
    n = 400
    base = np.random.default_rng(2).lognormal(0, 0.25, n)
    failed = np.arange(n) % 2 == 0  # half the candidate's requests time out
    card = _with(_card(n), np.ones(n), np.ones(n), base, base, failed_b=failed)
    check = check_margin(card, B, parse_margin("e2e.p50=10%"))
    assert check.state != "pass" and "200 with a failed request" in check.text
