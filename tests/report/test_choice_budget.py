"""The choice's error budget and its non-inferiority step (issue 22, calibration misses):

- speed or cost may only choose between stacks shown to answer about as well: a stack
  worse by an F1 gap that is merely not significant is not chosen for being faster;
- the F1 stage and the cost/latency tie-break share one budget of 0.05 (0.04 + 0.01), so
  two identical stacks do not get two chances at 5% each;
- the shipped CPU matrix's SLO can be judged on its 68 questions.

Each case is built straight from per-question numbers and goes through `recommend`."""

from __future__ import annotations

import numpy as np
import pytest

from tests.report.choice_cards import card
from workbench.report.choice import (
    ALPHA,
    QUALITY_ALPHA,
    TIE_BREAK_ALPHA,
    TIE_MARGIN,
    recommend,
    tie_margin_of,
)
from workbench.report.constraints import constraints_from_manifest
from workbench.report.limits import MET
from workbench.report.models import StackSummary
from workbench.report.tiebreak import latency_pair
from workbench.scoring.latency import summarize
from workbench.scoring.stats import PairedBootstrap


def test_the_budget_is_one_alpha_split_between_the_stages() -> None:
    assert (QUALITY_ALPHA, ALPHA) == (0.04, 0.05)
    assert TIE_BREAK_ALPHA == pytest.approx(0.01)
    method = recommend(card({"A": [1.0, 0.0] * 20, "B": [1.0, 0.0] * 20})).method
    assert method.startswith("error budget 0.05, split: 0.04 for quality, 0.01 for the "
                             "tie-break")
    assert "one-sided 99% bound of its F1 drop below 0.05" in method


def test_a_worse_stack_is_not_chosen_for_speed_when_its_f1_gap_is_merely_not_significant(
        ) -> None:
    """Old: B, 0.15 worse on F1 (not significant at n=40) and 30% faster, was chosen."""
    a = [1.0] * 20 + [0.0] * 20
    b = [1.0] * 12 + [0.0] * 8 + [1.0] * 2 + [0.0] * 18  # B loses 8, wins 2: -0.15
    choice = recommend(card({"A": a, "B": b}, {"A": [1.0] * 40, "B": [0.7] * 40}))
    assert [r.group for r in choice.ranked] == [1, 1]  # tied on F1: 6 of 40 is not enough
    assert choice.chosen is None
    line = choice.headline
    assert line.startswith("no clear winner: B is faster than A, but not shown to answer as "
                           "well as A (F1 within 0.05, n=40): F1 drop +0.150 vs A, at most +")
    assert "(99% one-sided bound, margin 0.05): the drop itself is beyond the margin" in line
    [rb] = [r for r in choice.ranked if r.stack == "B"]
    assert rb.rank == 1 and "not shown non-inferior on F1: F1 drop +0.150 vs A" in rb.reason


def test_a_small_f1_drop_says_how_many_questions_would_show_it() -> None:
    """B loses 1 of 40 answers and is 30% faster: the bound (one question's worth plus its
    spread) is not below 0.05 yet; the line says how many questions would get it there."""
    a = [1.0] * 40
    b = [1.0] * 39 + [0.0]
    choice = recommend(card({"A": a, "B": b}, {"A": [1.0] * 40, "B": [0.7] * 40}))
    assert choice.chosen is None
    assert "F1 drop +0.025 vs A, at most +" in choice.headline
    n = int(choice.headline.split("about ")[1].split(" questions")[0])
    assert 40 < n < 2000


def test_a_stack_shown_non_inferior_is_chosen_for_speed_and_the_margin_is_configurable(
        ) -> None:
    """Same weights on two engines: B differs on 2 of 400 answers and is 30% faster."""
    n = 400
    a = [1.0, 0.0] * (n // 2)
    b = list(a)
    b[0], b[1] = 0.0, 1.0  # one lost, one won: drop 0
    f1, e2e = {"A": a, "B": b}, {"A": [1.0] * n, "B": [0.7] * n}
    choice = recommend(card(f1, e2e))
    assert choice.chosen == "B" and choice.tie_margin == TIE_MARGIN == 0.05
    assert "non-inferior on F1: F1 drop +0.000 vs A, at most +0.0" in choice.headline
    assert "(99% one-sided bound, margin 0.05)" in choice.headline
    # The same run with a margin no bound can meet: no clear winner.
    strict = recommend(card(f1, e2e), tie_margin=0.001)
    assert strict.chosen is None and "margin 0.001" in strict.headline
    assert "about " in strict.headline and "questions would show it" in strict.headline
    with pytest.raises(ValueError, match="tie_margin"):
        recommend(card(f1, e2e), tie_margin=0.0)


def test_the_margin_comes_from_the_matrix_file() -> None:
    assert tie_margin_of({"choice": {"slo": [], "tie_margin": 0.02}}) == 0.02
    assert tie_margin_of({"choice": {"tie_margin": None}}) == TIE_MARGIN
    assert tie_margin_of(None) == TIE_MARGIN


def test_the_quality_stage_spends_0_04_not_0_05() -> None:
    """B wins 15 answers and loses 5 of 40 (sign-flip p about 0.044): significant at 0.05,
    not at 0.04. A is faster but loses 0.25 F1: not chosen either."""
    a = [0.0] * 15 + [1.0] * 5 + [1.0] * 20
    b = [1.0] * 15 + [0.0] * 5 + [1.0] * 20
    choice = recommend(card({"A": a, "B": b}, {"A": [1.0] * 40, "B": [1.5] * 40}))
    assert choice.pairs == ["B vs A: F1 +0.250 [-0.000, +0.500] (96% CI, Holm p 0.044), n=40"]
    assert choice.chosen is None
    assert choice.headline.startswith("no clear winner: A is faster than B, but not shown")


def test_the_tie_break_spends_0_01_not_0_05() -> None:
    """Identical answers; B 9% faster with p about 0.02: a winner at 0.05, not at 0.01."""
    rng = np.random.default_rng(0)
    base = rng.lognormal(0, 0.4, 60)
    ea, eb = base * rng.lognormal(0, 0.25, 60), base * rng.lognormal(0, 0.25, 60) * 0.91
    p = latency_pair(PairedBootstrap(resamples=2000, seed=20240521), ea, eb)
    assert p is not None and 0.01 < p.mean.p_value < 0.05
    f1 = [1.0] * 60
    choice = recommend(card({"A": f1, "B": f1}, {"A": list(ea), "B": list(eb)}))
    assert choice.chosen is None
    assert choice.headline.startswith("no clear winner: A and B are statistically tied")


def test_the_cpu_matrix_slo_can_be_judged_on_its_68_questions() -> None:
    """A p95 needs 72 requests for its upper bound; the shipped matrix's SLO (p90) does
    not: 68 answers of about a second meet it."""
    from workbench.runner.matrix import load_matrix
    from workbench.settings import get_settings

    matrix = load_matrix(get_settings().stacks_dir / "matrix" / "cpu.yaml")
    manifest = {"choice": matrix.choice.model_dump()}  # as a run records it
    [slo] = [c for c in constraints_from_manifest(manifest) if c.metric == "e2e"]
    e2e = [float(x) for x in np.linspace(0.8, 2.0, 68)]
    summary = StackSummary(
        stack="s", model="m", engine="llamacpp", responses=68, ok=68, errors=0,
        error_rate=0.0, error_kinds={}, error_examples=[], quality={"f1": 0.5}, retrieval={},
        counts={"f1": 68}, latency={"e2e": summarize(e2e)}, throughput=1.0, cost=None,
        values={"f1": [0.5] * 68, "e2e": e2e})
    assert slo.judge(summary).state == MET
    assert tie_margin_of(manifest) == 0.05


@pytest.mark.parametrize("name", ["cpu.yaml", "cpu-load.yaml"])
def test_a_flawless_stack_meets_every_constraint_of_a_shipped_matrix(name: str) -> None:
    """Each constraint is met only on its interval's bound: a cap that 68 clean answers
    cannot meet (a 5% error cap: 0 of 68 is [0%, 5.3%]) would exclude every stack."""
    from workbench.runner.matrix import load_matrix
    from workbench.settings import get_settings

    matrix = load_matrix(get_settings().stacks_dir / "matrix" / name)
    assert matrix.limit is None  # every one of demo-en's 68 questions
    manifest = {"choice": matrix.choice.model_dump()}
    e2e = [float(x) for x in np.linspace(0.2, 0.9, 68)]
    summary = StackSummary(
        stack="s", model="m", engine="llamacpp", responses=68, ok=68, errors=0,
        error_rate=0.0, error_kinds={}, error_examples=[], quality={"f1": 0.5}, retrieval={},
        counts={"f1": 68}, latency={"e2e": summarize(e2e)}, throughput=1.0, cost=None,
        values={"f1": [0.5] * 68, "e2e": e2e})
    judged = [c for c in constraints_from_manifest(manifest) if c.metric != "capacity"]
    assert "error_rate" in {c.metric for c in judged}
    assert {c.text: c.judge(summary).state for c in judged} == {c.text: MET for c in judged}


def test_the_non_inferiority_bound_is_the_one_sided_sign_flip_bound() -> None:
    """d_i = 2^i / 1024 over 10 questions: the 1,024 sign patterns give the sums -1023..1023
    (odd, /1024) once each, so the one-sided 99% critical value of mean(d) is the 11th
    largest, 1003/10240 (10 patterns above it: 0.98%), and the bound is mean(d) plus it."""
    from workbench.report.topset import top_set

    d = np.array([2.0**i / 1024 for i in range(10)])
    quality = top_set(["A", "B"], np.stack([d, np.zeros(10)], axis=1), alpha=QUALITY_ALPHA,
                      draws=2000, seed=1)
    pair = quality.pair("B", "A")  # A - B: what B gives up
    assert pair.estimate == pytest.approx(1023 / 10240)
    assert pair.upper_bound(0.01) == pytest.approx(1023 / 10240 + 1003 / 10240, abs=1e-8)
    assert quality.pair("A", "B").upper_bound(0.01) == pytest.approx(
        -1023 / 10240 + 1003 / 10240, abs=1e-8)
