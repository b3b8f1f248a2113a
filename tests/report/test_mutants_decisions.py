"""Tests written against the mutants that survived `make mutants` (mutmut over the decision
modules): each pins a number or an edge the other tests left loose, against a value worked
out independently here (a closed form, numpy, or a hand count)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.report.test_gate import A, B, _card, _with
from workbench.report.choice import recommend
from workbench.report.constraints import parse_margin
from workbench.report.gate import (
    FAILED,
    INCONCLUSIVE,
    PASSED,
    GateError,
    GateResult,
    MarginCheck,
    check_margin,
    run_gate,
)


def _check(state: str, text: str) -> MarginCheck:
    return MarginCheck(B, parse_margin("f1=0.1"), state, 0.0, 0.0, 0.0, 0.1, 10,  # type: ignore[arg-type]
                       None, text)


def test_gate_lines_put_problems_then_failures_then_inconclusive_then_passes() -> None:
    result = GateResult(FAILED, [_check(PASSED, "p"), _check(INCONCLUSIVE, "i"),
                                 _check(FAILED, "f"), _check(PASSED, "p2")], ["problem"])
    assert result.lines() == ["problem", "f", "i", "p", "p2"]
    assert (GateResult(PASSED).exit_code, GateResult(FAILED).exit_code,
            GateResult(INCONCLUSIVE).exit_code) == (0, 1, 3)


def test_latency_pairs_skip_unpaired_questions_and_count_failures_as_slowest() -> None:
    n = 60
    base = np.random.default_rng(5).lognormal(0, 0.2, n)
    card = _with(_card(n), np.ones(n), np.ones(n), base, base * 1.5)
    rows = list(card.rows)
    # The first question was never asked of the candidate: left out, not the end of the data.
    rows[0] = rows[0].model_copy(update={"status": {A: "ok", B: None},
                                         "e2e": {A: 1.0, B: None}})
    # The baseline timed out on two questions (its E2E was still recorded): slowest there.
    for i in (1, 2):
        rows[i] = rows[i].model_copy(update={"status": {A: "timeout", B: "ok"},
                                             "e2e": {A: 0.001, B: float(base[i] * 1.5)}})
    card = card.model_copy(update={"rows": rows})
    check = check_margin(card, B, parse_margin("e2e.p50=60%"))
    assert check.n == n - 1
    assert "(2 with a failed request, counted as slowest)" in check.text
    # Median of the log ratios: log 1.5 on the 57 clean pairs, -inf-like on the 2 censored
    # baseline pairs (the candidate was faster there), so the median is still log 1.5.
    assert check.worse == pytest.approx(math.log(1.5))
    # Had the two timeouts counted at their recorded 1 ms, the candidate would look 1000x
    # slower there; counted as slowest it is faster: the median moves the other way.
    assert check.state == PASSED and check.high < math.log(1.6)


def test_latency_margin_without_a_statistic_is_the_median_and_relative_to_100() -> None:
    n = 80
    base = np.random.default_rng(9).lognormal(0, 0.2, n)
    card = _with(_card(n), np.ones(n), np.ones(n), base, base * 1.2)
    plain = check_margin(card, B, parse_margin("e2e=25%"))
    median = check_margin(card, B, parse_margin("e2e.p50=25%"))
    assert (plain.worse, plain.low, plain.high) == (median.worse, median.low, median.high)
    assert plain.limit == pytest.approx(math.log(1.25), abs=1e-15)
    assert "median E2E ratio +20%" in plain.text


def test_an_absolute_latency_margin_is_read_against_the_baselines_own_statistic() -> None:
    n = 80
    base = np.random.default_rng(4).lognormal(0, 0.2, n)
    card = _with(_card(n), np.ones(n), np.ones(n), base, base)
    ref = card.summaries[card.baseline].latency["e2e"].p50
    assert ref is not None
    check = check_margin(card, B, parse_margin("e2e.p50=200ms"))
    assert check.limit == pytest.approx(math.log1p(0.2 / ref), rel=1e-12)


@pytest.mark.parametrize("stat", ["mean", "p95"])
def test_mean_and_p95_latency_ratios_equal_an_independent_paired_bootstrap(stat: str) -> None:
    n = 240
    rng = np.random.default_rng(17)
    base = rng.lognormal(0, 0.3, n)
    cand = base * rng.lognormal(0.1, 0.2, n)
    card = _with(_card(n), np.ones(n), np.ones(n), base, cand)
    check = check_margin(card, B, parse_margin(f"e2e.{stat}=30%"))

    def of(x: np.ndarray) -> np.ndarray:
        return np.asarray(x.mean(axis=-1) if stat == "mean" else np.quantile(x, 0.95, axis=-1))

    # The gate reads the E2E the card stored, rounded through log and exp once.
    a = np.exp(np.log(np.array([r.e2e[A] for r in card.rows])))
    b = np.exp(np.log(np.array([r.e2e[B] for r in card.rows])))
    idx = np.random.default_rng([20240521, n]).integers(0, n, size=(2000, n))
    draws = np.log(of(b[idx])) - np.log(of(a[idx]))
    lo, hi = np.quantile(draws, [0.05, 0.95])
    assert check.worse == pytest.approx(float(np.log(of(b)) - np.log(of(a))), rel=1e-12)
    assert check.low == pytest.approx(lo, rel=1e-12)
    assert check.high == pytest.approx(hi, rel=1e-12)
    assert lo < check.worse < hi


def test_a_quality_margin_on_an_unknown_metric_names_the_known_ones() -> None:
    card = _card(20)
    with pytest.raises(GateError, match=r"no margin on bleu in run .*; known: .*f1.* \(e2e "
                                        r"with p50, mean or p95\)"):
        check_margin(card, B, parse_margin("bleu=0.1"))
    result = run_gate(card, recommend(card), [parse_margin("f1=0.5")], [B])
    assert result.state == PASSED and result.lines()[0].startswith(f"{B} passes the gate: ")


def test_a_candidate_that_answered_nothing_is_inconclusive_with_nothing_made_up() -> None:
    card = _card(30)
    rows = [r.model_copy(update={"status": {A: "ok", B: None}, "scores": {A: {"f1": 1.0}},
                                 "e2e": {A: 1.0, B: None}}) for r in card.rows]
    empty = card.model_copy(update={"rows": rows})
    for margin, what in (("e2e.p50=10%", "asked of"), ("f1=0.1", "answered by")):
        check = check_margin(empty, B, parse_margin(margin))
        assert (check.candidate, check.margin.text, check.state, check.n, check.settle_n) == \
            (B, margin, INCONCLUSIVE, 0, None)
        assert math.isnan(check.worse) and (check.low, check.high) == (-math.inf, math.inf)
        assert check.text == (f"{B} is inconclusive at the gate on {margin}: no question was "
                              f"{what} both it and {A}")
    assert check_margin(empty, B, parse_margin("e2e=10%")).limit == \
        pytest.approx(math.log(1.1), abs=1e-15)


def test_an_absolute_mean_margin_is_read_against_the_baselines_mean() -> None:
    n = 80
    base = np.random.default_rng(6).lognormal(0, 0.4, n)
    card = _with(_card(n), np.ones(n), np.ones(n), base, base)
    # The baseline's own summary: a mean unlike its median, so each gives another limit.
    lat = card.summaries[A].latency["e2e"].model_copy(update={"mean": 0.5, "p50": 0.3})
    summary = card.summaries[A].model_copy(
        update={"latency": {**card.summaries[A].latency, "e2e": lat}})
    card = card.model_copy(update={"summaries": {**card.summaries, A: summary}})
    check = check_margin(card, B, parse_margin("e2e.mean=300ms"))
    assert check.limit == pytest.approx(math.log1p(0.3 / 0.5), rel=1e-12)
    assert "mean E2E ratio +0%" in check.text
    assert check_margin(card, B, parse_margin("e2e.p50=300ms")).limit == \
        pytest.approx(math.log1p(0.3 / 0.3), rel=1e-12)


def test_no_feasible_stack_fails_the_gate_or_leaves_it_inconclusive() -> None:
    from workbench.report.constraints import parse_constraints
    from workbench.report.gate import gate_failures

    card = _card(30)  # every answer right, E2E about 0.2 s
    impossible = parse_constraints(["f1<=0.5"])  # both stacks fail it on their interval
    choice = recommend(card, impossible)
    result = run_gate(card, choice, [parse_margin("f1=0.5")], [B], impossible)
    assert result.state == FAILED and result.exit_code == 1
    assert result.problems == [f"The gate fails because {choice.headline}"]
    assert gate_failures(card, choice, [parse_margin("f1=0.5")], [B]) == [choice.headline]
    unknown = parse_constraints(["e2e.p95<=0.5s"])  # 30 requests cannot show a p95
    choice = recommend(card, unknown)
    assert not any(r.feasible for r in choice.ranked)
    result = run_gate(card, choice, [parse_margin("f1=0.5")], [B], unknown)
    assert result.state == INCONCLUSIVE and result.problems == [
        f"The gate is inconclusive because {choice.headline}"]
    # Without the constraints to judge, an infeasible choice fails.
    assert run_gate(card, choice, [], [B]).state == FAILED


def test_quality_bounds_are_students_t_plus_half_a_question_and_settle_n_follows() -> None:
    from scipy import stats as sps

    n = 50
    rng = np.random.default_rng(21)
    a, b = (rng.random(n) < 0.6).astype(float), (rng.random(n) < 0.55).astype(float)
    card = _with(_card(n), a, b)
    check = check_margin(card, B, parse_margin("f1=0.05"))
    drops = a - b
    half = sps.t.ppf(0.95, n - 1) * drops.std(ddof=1) / math.sqrt(n) + 0.5 / n
    assert check.worse == pytest.approx(drops.mean(), abs=1e-12)
    assert check.low == pytest.approx(drops.mean() - half, abs=1e-12)
    assert check.high == pytest.approx(drops.mean() + half, abs=1e-12)
    assert check.state == INCONCLUSIVE
    assert check.settle_n == math.ceil(n * (half / abs(0.05 - drops.mean())) ** 2) + 1
    # A relative margin is a share of the baseline's mean F1 over the shared questions.
    relative = check_margin(card, B, parse_margin("f1=10%"))
    assert relative.limit == pytest.approx(0.1 * a.mean(), abs=1e-12)
