"""Tests written against mutants of `workbench.report.gate` that survived `make mutants`
(mutmut): each pins a number, a word or an edge the other tests left loose, against a value
worked out independently here (a closed form, numpy/scipy, or a hand count)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from tests.report.load_cards import make_card, with_load
from tests.report.test_gate import A, B, _card, _with
from workbench.report.choice import recommend
from workbench.report.constraints import parse_margin
from workbench.report.gate import FAILED, GateError, check_margin, run_gate
from workbench.report.models import ScoreCard

LOAD_A, LOAD_B = "llamacpp-cpu", "vllm-cpu"


@pytest.fixture(scope="module")
def load_card(tmp_path_factory: pytest.TempPathFactory) -> ScoreCard:
    return make_card(tmp_path_factory)


def _cost_bounds(b_cpu: float) -> tuple[float, float, float]:
    """The candidate's cost per correct answer against the baseline's, by hand: A spends
    200 CPU-s on 100 correct answers at its capacity, B `b_cpu` on 50; B's share of the 150
    correct answers is binomial, so its exact 90% interval (statsmodels' Clopper-Pearson)
    bounds the cost ratio (1 - p) / p x b_cpu / 200."""
    p_low, p_high = proportion_confint(50, 150, alpha=0.10, method="beta")

    def rise(p: float) -> float:
        return (1 - p) / p * b_cpu / 200 - 1

    return (b_cpu / 50) / (200 / 100) - 1, rise(p_high), rise(p_low)


@pytest.mark.parametrize(("b_cpu", "state", "verdict"), [
    (110.0, "inconclusive", "is inconclusive at the gate"),
    (400.0, "fail", "fails the gate"),
    (50.0, "pass", "passes the gate")])
def test_cost_per_correct_check_word_for_word(load_card: ScoreCard, b_cpu: float, state: str,
                                              verdict: str) -> None:
    margin = parse_margin("cost_per_correct=10%")
    check = check_margin(with_load(load_card, b_cpu=b_cpu), LOAD_B, margin)
    worse, low, high = _cost_bounds(b_cpu)
    assert (check.candidate, check.margin, check.state, check.n, check.settle_n) == \
        (LOAD_B, margin, state, 150, None)
    assert check.limit == 0.10
    assert (check.worse, check.low, check.high) == pytest.approx((worse, low, high), rel=1e-9)
    shown = (f"cost per correct answer at capacity {worse:+.0%} [{low:+.0%}, {high:+.0%}] vs "
             f"{LOAD_A} (150 correct answers), margin +10%")
    ending = {"inconclusive": "; longer load levels (more correct answers) would settle it",
              "fail": "; it is significantly beyond the margin",
              "pass": "; the bound is inside the margin"}[state]
    assert check.text == f"{LOAD_B} {verdict}: {shown}{ending}"


def test_cost_per_correct_refusals_word_for_word(load_card: ScoreCard) -> None:
    with pytest.raises(GateError) as no_load:
        check_margin(load_card, LOAD_B, parse_margin("cost_per_correct=10%"))
    assert str(no_load.value) == (f"cost_per_correct=10%: run {load_card.run_id} had no load "
                                  "pass (add a load block to its matrix file)")
    with pytest.raises(GateError) as absolute:
        check_margin(with_load(load_card), LOAD_B, parse_margin("cost_per_correct=0.1"))
    assert str(absolute.value) == ("cost_per_correct=0.1: give the allowed rise in %, e.g. "
                                   "cost_per_correct=10%")
    # The candidate held no level: it has no cost at capacity.
    loaded = with_load(load_card)
    assert loaded.load is not None
    held_none = loaded.load.stacks[LOAD_B].model_copy(update={"capacity_level": None})
    load = loaded.load.model_copy(update={"stacks": {**loaded.load.stacks, LOAD_B: held_none}})
    with pytest.raises(GateError) as no_cost:
        check_margin(loaded.model_copy(update={"load": load}), LOAD_B,
                     parse_margin("cost_per_correct=10%"))
    assert str(no_cost.value) == (
        f"cost_per_correct=10%: {LOAD_B} or {LOAD_A} has no cost per correct answer at "
        "capacity (no level held, or neither a price nor CPU time)")


def test_latency_line_word_for_word_with_unbounded_bounds() -> None:
    """Three pairs cannot bound a median (it needs six): both bounds are infinite, and a
    ratio of 2 reads +100% (the percentage is (ratio - 1) x 100)."""
    base = np.array([1.0, 2.0, 4.0])
    for factor, shown in ((2.0, "+100%"), (0.5, "-50%")):
        card = _with(_card(3), np.ones(3), np.ones(3), base, base * factor)
        check = check_margin(card, B, parse_margin("e2e.p50=10%"))
        assert (check.low, check.high) == (-math.inf, math.inf)
        # No infinite bound is printed: the line says the pairs are too few to bound it.
        assert check.text == (
            f"{B} is inconclusive at the gate: median E2E ratio {shown} vs {A}, too few "
            "questions to bound the rise (n=3); margin +10% (e2e.p50=10%); more questions "
            "are needed before it can be judged")


def test_a_failed_candidate_request_is_slowest_even_with_its_time_recorded() -> None:
    """A timed-out request whose (short) E2E was stored counts as slowest, exactly as one
    with no E2E: the mean ratio puts it at the slowest success's time x e^50."""
    n = 40
    base = np.random.default_rng(8).lognormal(0, 0.3, n)
    failed = np.arange(n) < 4
    card = _with(_card(n), np.ones(n), np.ones(n), base, base, failed_b=failed)
    recorded = card.model_copy(update={"rows": [
        r.model_copy(update={"e2e": {**r.e2e, B: 0.001}}) if failed[i] else r
        for i, r in enumerate(card.rows)]})
    margin = parse_margin("e2e.mean=10%")
    check, same = check_margin(card, B, margin), check_margin(recorded, B, margin)
    assert (same.worse, same.low, same.high) == (check.worse, check.low, check.high)
    a = np.array([r.e2e[A] for r in card.rows], dtype=np.float64)
    b = np.where(failed, a.max() * math.exp(50.0), a)
    assert check.worse == pytest.approx(math.log(b.mean() / a.mean()), rel=1e-9)
    assert check.state == FAILED and "(4 with a failed request, counted as slowest)" in check.text


def test_one_failed_check_fails_the_whole_gate() -> None:
    n = 40
    base = np.random.default_rng(1).lognormal(0, 0.1, n)
    card = _with(_card(n), np.ones(n), np.ones(n), base, base * 2)
    choice = recommend(card)
    assert any(r.feasible for r in choice.ranked)
    result = run_gate(card, choice, [parse_margin("f1=0.5"), parse_margin("e2e.p50=10%")], [B])
    assert [c.state for c in result.checks] == ["pass", "fail"]
    assert (result.state, result.exit_code, result.problems) == (FAILED, 1, [])


def _settle_by_hand(n: int, low: float, high: float, worse: float, limit: float) -> int:
    """The module docstring's rule: the same half-width, shrunk as 1/sqrt(n), clear of the
    margin."""
    return math.ceil(n * ((high - low) / 2 / abs(limit - worse)) ** 2) + 1


def test_median_latency_check_word_for_word_with_its_order_statistic_bounds() -> None:
    n = 40
    rng = np.random.default_rng(3)
    base = rng.lognormal(0, 0.3, n)
    card = _with(_card(n), np.ones(n), np.ones(n), base, base * rng.lognormal(0.08, 0.3, n))
    a = np.log(np.array([r.e2e[A] for r in card.rows], dtype=np.float64))
    b = np.log(np.array([r.e2e[B] for r in card.rows], dtype=np.float64))
    # The median's distribution-free interval at 90% two-sided (each bound one-sided 95%).
    ci = sps.quantile_test(b - a, q=0.0, p=0.5).confidence_interval(0.90)
    worse = float(np.median(b - a))
    for margin, state in (("e2e.p50=10%", "inconclusive"), ("e2e.p50=50%", "pass")):
        m = parse_margin(margin)
        check = check_margin(card, B, m)
        limit = math.log1p(m.value / 100)
        assert (check.candidate, check.margin, check.state, check.n) == (B, m, state, n)
        assert (check.worse, check.low, check.high) == pytest.approx(
            (worse, ci.low, ci.high), abs=1e-12)
        shown = (f"median E2E ratio {math.expm1(worse):+.0%} vs {A}, one-sided 95% bounds "
                 f"[{math.expm1(ci.low):+.0%}, {math.expm1(ci.high):+.0%}] over {n} "
                 f"questions; margin +{m.value:g}% ({margin})")
        if state == "inconclusive":
            settle = _settle_by_hand(n, ci.low, ci.high, worse, limit)
            assert check.settle_n == settle
            assert check.text == (f"{B} is inconclusive at the gate: {shown}; about {settle} "
                                  "questions would settle it")
        else:
            assert check.settle_n is None
            assert check.text == f"{B} passes the gate: {shown}; the bound is inside the margin"


def test_an_absolute_latency_margin_without_a_baseline_statistic_is_read_against_1s() -> None:
    n = 20
    base = np.random.default_rng(4).lognormal(0, 0.2, n)
    card = _with(_card(n), np.ones(n), np.ones(n), base, base)
    summary = card.summaries[A].model_copy(update={"latency": {}})
    card = card.model_copy(update={"summaries": {**card.summaries, A: summary}})
    assert check_margin(card, B, parse_margin("e2e.p50=200ms")).limit == \
        pytest.approx(math.log1p(0.2), rel=1e-12)


def test_quality_bounds_from_one_and_two_questions() -> None:
    """One question cannot bound a mean (inconclusive, both bounds infinite); two can
    (Student's t with one degree of freedom, plus half a question), and say what would
    settle it; a decided check has no settle size."""
    one = check_margin(_with(_card(1), np.array([1.0]), np.array([0.0])), B,
                       parse_margin("f1=0.6"))
    assert (one.state, one.low, one.high, one.n, one.settle_n) == \
        ("inconclusive", -math.inf, math.inf, 1, None)
    drops = np.array([1.0, 0.0])
    two = check_margin(_with(_card(2), drops, np.zeros(2)), B, parse_margin("f1=0.6"))
    half = sps.t.ppf(0.95, 1) * drops.std(ddof=1) / math.sqrt(2) + 0.5 / 2
    assert (two.candidate, two.margin, two.state, two.worse, two.n) == \
        (B, parse_margin("f1=0.6"), "inconclusive", 0.5, 2)
    assert (two.low, two.high) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-12)
    assert two.settle_n == _settle_by_hand(2, two.low, two.high, 0.5, 0.6)
    decided = check_margin(_with(_card(2), np.ones(2), np.ones(2)), B, parse_margin("f1=0.6"))
    assert (decided.state, decided.settle_n) == ("pass", None)


def test_a_quality_margin_with_no_shared_question_keeps_its_limit() -> None:
    card = _card(10)
    rows = [r.model_copy(update={"scores": {A: {"f1": 1.0}}}) for r in card.rows]
    check = check_margin(card.model_copy(update={"rows": rows}), B, parse_margin("f1=0.1"))
    assert (check.state, check.n, check.limit) == ("inconclusive", 0, 0.1)


def test_a_bound_exactly_at_the_margin_is_not_inside_it_nor_beyond_it() -> None:
    """Two questions, every drop the same: the bounds are the drop -+ half a question
    (0.25), exactly. A bound equal to the margin neither passes nor fails."""
    level = check_margin(_with(_card(2), np.ones(2), np.ones(2)), B, parse_margin("f1=0.25"))
    assert (level.low, level.high, level.state) == (-0.25, 0.25, "inconclusive")
    half = check_margin(_with(_card(2), np.ones(2), np.full(2, 0.5)), B,
                        parse_margin("f1=0.25"))
    assert (half.low, half.high, half.state, half.settle_n) == (0.25, 0.75, "inconclusive", 3)
    # A drop exactly at the margin: no sample size would move the bound clear of it.
    at = check_margin(_with(_card(4), np.ones(4), np.array([0.0, 1.0, 1.0, 1.0])), B,
                      parse_margin("f1=0.25"))
    assert (at.worse, at.limit, at.state, at.settle_n) == (0.25, 0.25, "inconclusive", None)
    assert at.text.endswith("(f1=0.25); it sits at the margin, so no sample size would "
                            "settle it")


def test_which_margins_the_gate_takes_and_what_it_says_of_the_others() -> None:
    card = _card(20)
    assert check_margin(card, B, parse_margin("f1.mean=0.1")).text == \
        check_margin(card, B, parse_margin("f1=0.1")).text.replace("(f1=0.1)", "(f1.mean=0.1)")
    known = "e2e, exact_match, f1, gold_contained, refusal"
    for margin in ("bleu=0.1", "ttft=10%", "f1.p95=0.1"):
        with pytest.raises(GateError) as refused:
            check_margin(card, B, parse_margin(margin))
        assert str(refused.value) == (f"{margin}: no margin on {margin.split('=')[0]} in run "
                                      f"{card.run_id}; known: {known} (e2e with p50, mean or "
                                      "p95)")


def test_a_p95_margin_counts_only_the_questions_asked_of_both() -> None:
    """200 questions asked of both: judged; one of them not asked of the candidate: 199
    pairs, refused word for word."""
    card = _card(200)
    assert check_margin(card, B, parse_margin("e2e.p95=10%")).n == 200
    rows = list(card.rows)
    rows[0] = rows[0].model_copy(update={"status": {A: "ok", B: None}})
    short = card.model_copy(update={"rows": rows})
    with pytest.raises(GateError) as refused:
        check_margin(short, B, parse_margin("e2e.p95=10%"))
    assert str(refused.value) == (
        f"e2e.p95=10%: run {card.run_id} has 199 question pairs of {B} and {A}; a p95 needs "
        "at least 200 to be estimated, so this margin cannot be judged (use e2e.p50 or "
        "e2e.mean, or run at least 200 questions)")
