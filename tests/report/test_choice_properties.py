"""Properties of the choice over many drawn runs (hypothesis): the order of the stacks never
changes it, an exact copy of a stack changes nothing about the others, a stack another
beats is never chosen, and every "tied" / "worse" line's interval agrees with its word."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.report.choice_cards import card
from workbench.report.choice import Choice, recommend
from workbench.scoring.stats import PairedBootstrap

NAMES = "ABCDE"
Run = tuple[dict[str, list[float]], dict[str, list[float]], dict[str, float] | None]
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def runs(draw: st.DrawFn) -> Run:
    """2-4 stacks, 12-50 questions; F1 in {0, 0.5, 1} with a per-stack skill, E2E with a
    per-stack speed and noise, optionally a price per stack (some equal)."""
    k = draw(st.integers(2, 4))
    n = draw(st.integers(12, 50))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    base = rng.lognormal(0, 0.4, n)
    f1, e2e = {}, {}
    for s in NAMES[:k]:
        skill = draw(st.sampled_from([0.3, 0.5, 0.6, 0.9]))
        f1[s] = list(np.round(rng.random(n) < skill) * draw(st.sampled_from([0.5, 1.0])))
        speed = draw(st.sampled_from([0.5, 1.0, 1.0, 1.5]))
        e2e[s] = list(base * speed * rng.lognormal(0, 0.2, n))
    price = ({s: draw(st.sampled_from([1.0, 1.0, 2.0])) for s in f1}
             if draw(st.booleans()) else None)
    return f1, e2e, price


def _choose(f1: dict[str, list[float]], e2e: dict[str, list[float]],
            price: dict[str, float] | None, order: list[str]) -> Choice:
    return recommend(card(f1, e2e, price=price, order=order), resamples=400)


def _summary(choice: Choice) -> tuple[object, ...]:
    return (choice.chosen, choice.headline, sorted(choice.pairs),
            [(r.stack, r.group, r.reason) for r in choice.ranked])


@SETTINGS
@given(runs(), st.randoms(use_true_random=False))
def test_permuting_the_stacks_never_changes_the_choice(run: Run, rnd: object) -> None:
    f1, e2e, price = run
    order = list(f1)
    shuffled = order[:]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert _summary(_choose(f1, e2e, price, order)) == \
        _summary(_choose(f1, e2e, price, shuffled))


@SETTINGS
@given(runs(), st.integers(0, 3))
def test_an_exact_copy_never_changes_which_of_the_others_is_chosen(run: Run,
                                                                   which: int) -> None:
    f1, e2e, price = run
    names = list(f1)
    copied = names[which % len(names)]
    before = _choose(f1, e2e, price, names)
    f1c, e2ec = {**f1, "Z": f1[copied]}, {**e2e, "Z": e2e[copied]}
    pricec = {**price, "Z": price[copied]} if price else None
    after = _choose(f1c, e2ec, pricec, [*names, "Z"])
    if before.chosen is not None and before.chosen != copied:
        assert after.chosen == before.chosen
    else:  # the copied stack and its copy are indistinguishable: neither is named
        assert after.chosen is None
    # Every comparison among the original stacks is unchanged (same family, same decision).
    assert set(before.pairs) <= set(after.pairs)
    groups = {r.stack: r.group for r in before.ranked}
    assert {r.stack: r.group for r in after.ranked if r.stack != "Z"} == groups


_TIED = re.compile(r"statistically tied with \S+ ([+-][0-9.]+) \[([+-][0-9.]+), ([+-][0-9.]+)\]")
_WORSE = re.compile(r"worse than \S+ by ([+-][0-9.]+) \[([+-][0-9.]+), ([+-][0-9.]+)\]")


@SETTINGS
@given(runs())
def test_the_chosen_stack_is_never_beaten_and_every_interval_agrees_with_its_word(
        run: Run) -> None:
    f1, e2e, price = run
    choice = _choose(f1, e2e, price, list(f1))
    if choice.chosen is not None:
        mine = next(r for r in choice.ranked if r.stack == choice.chosen)
        assert mine.group == 1
        for p in choice.pairs:
            # "X vs Y: F1 d [lo, hi]": Y significantly better than the chosen X is banned.
            if p.startswith(f"{choice.chosen} vs "):
                hi = float(p.split("[")[1].split(",")[1].split("]")[0])
                assert hi >= 0 or "the same F1" in p
    for r in choice.ranked:
        for m in _TIED.finditer(r.reason):
            assert float(m.group(2)) <= 0 <= float(m.group(3)), r.reason
        for m in _WORSE.finditer(r.reason):
            assert float(m.group(3)) < 0, r.reason


def test_cost_ci_gives_back_the_summarys_cost_per_answer() -> None:
    """One module computes cost: spread per question and summed, it is `Cost.per_1k_answers`
    (a failed request's time is in the rate, not in any one question)."""
    from workbench.report.costs import cost_basis, own_cost, question_costs

    rng = np.random.default_rng(2)
    n = 40
    e2e = list(rng.lognormal(0, 0.3, n))
    failed = [i % 9 == 0 for i in range(n)]
    c = card({"A": [1.0] * n}, {"A": e2e}, failed={"A": failed}, price={"A": 3.6})
    s = c.summaries["A"]
    ok = ~np.array(failed)
    t = np.where(ok, np.array(e2e), np.nan)
    basis = cost_basis(s, t[ok])
    assert basis is not None and basis.kind == "price"
    costs = question_costs(basis, t, ok)
    own = own_cost(PairedBootstrap(resamples=500, seed=1), costs, ok,
                   np.ones(n))
    assert s.cost is not None and s.cost.per_1k_answers is not None
    assert own is not None and abs(own.per_1k - s.cost.per_1k_answers) < 1e-9
    assert own.per_1k_ci[0] < own.per_1k < own.per_1k_ci[1]
