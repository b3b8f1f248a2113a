"""Tests written against mutants of `workbench.report.constraints` that survived `make mutants`
(mutmut): each pins a number, a word or an edge the other tests left loose, against a value
worked out independently here (a closed form, numpy/scipy, or a hand count)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats as sps

from tests.report.test_constraints import _summary
from workbench.report.constraints import (
    COMMAND_LINE,
    MATRIX_FILE,
    Constraint,
    constraints_from_manifest,
    merge_constraints,
    parse_constraint,
)
from workbench.report.limits import Bound
from workbench.report.load import StackLoad
from workbench.report.models import Faithfulness, PlantedFalse, StackSummary


def _plain(n: int = 40, value: float = 0.5, timeouts: int = 0) -> StackSummary:
    import numpy as np

    return _summary(np.full(n, value), timeouts=timeouts)


def _cp(k: int, n: int) -> tuple[float, float]:
    """Clopper-Pearson from the beta quantiles (independent of the product's statsmodels)."""
    low = 0.0 if k == 0 else float(sps.beta.ppf(0.025, k, n - k + 1))
    high = 1.0 if k == n else float(sps.beta.ppf(0.975, k + 1, n - k))
    return low, high


def test_an_unmeasured_metric_is_not_known_with_an_unbounded_interval_and_no_settle_n() -> None:
    j = parse_constraint("rouge_l>=0.3").judge(_plain())
    assert j.state == "unknown" and j.settle_n is None
    assert j.bound == Bound(None, -math.inf, math.inf, 0)
    assert j.text == "rouge_l>=0.3 not known (rouge_l: not measured)"
    assert parse_constraint("rouge_l>=0.3").measure(_plain()) == (None, "rouge_l: not measured")
    assert parse_constraint("rouge_l>=0.3").check(_plain()) == (False, "rouge_l: not measured")


def test_error_rate_text_shows_the_observed_rate_and_its_exact_interval() -> None:
    s = _plain(n=49, timeouts=1)  # 1 failed of 50
    j = parse_constraint("error_rate<=10%").judge(s)
    low, high = _cp(1, 50)
    assert f"error rate 1/50 = 2.0% [{low:.1%}, {high:.1%}]" in j.text
    assert j.state == "unknown" and j.bound.n == 50
    assert j.text.endswith(f"about {j.settle_n} requests would settle it")
    v, shown = parse_constraint("error_rate<=10%").measure(s)
    assert v == pytest.approx(0.02) and shown == "2.0%"
    s.error_rate = None
    assert parse_constraint("error_rate<=10%").measure(s) == (None, "n/a")


def test_measure_reads_the_median_by_default_and_shows_the_unit_and_n() -> None:
    s = _plain(n=30, value=0.5)
    v, shown = parse_constraint("e2e<=1s").measure(s)
    assert v == pytest.approx(0.5) and shown == "p50 E2E 500 ms"
    v, shown = parse_constraint("e2e.p95<=1s").measure(s)
    assert v == pytest.approx(0.5) and shown == "p95 E2E 500 ms (n=30)"
    assert parse_constraint("e2e.p99<=1s").measure(s)[1].endswith(" (n=30)")
    assert parse_constraint("e2e.mean<=1s").measure(s)[1] == "mean E2E 500 ms"
    assert parse_constraint("e2e<=1s").check(s)[0] and not parse_constraint("e2e<0.4s").check(s)[0]
    # tok/s is a rate, shown with one decimal, not as a duration.
    s = _plain(n=30, value=12.5)
    s.latency["tok_s"], s.values["tok_s"] = s.latency["e2e"], s.values["e2e"]
    v, shown = parse_constraint("tok_s>=10").measure(s)
    assert v == pytest.approx(12.5) and shown == "p50 TOK_S 12.5"


def test_measure_of_a_quality_metric_and_its_missing_value() -> None:
    s = _plain()
    s.quality["f1"] = 0.4567
    assert parse_constraint("f1>=0.3").measure(s) == (0.4567, "f1 0.457")
    s.quality["f1"] = None
    assert parse_constraint("f1>=0.3").measure(s) == (None, "n/a")
    assert parse_constraint("f1>=0.3").check(s) == (False, "n/a")


def test_load_metrics_read_the_load_pass_or_say_there_was_none() -> None:
    s = _plain()
    c = parse_constraint("capacity>=2rps")
    assert c.measure(s) == (None, "capacity: the run had no load pass (add a load block to the "
                                   "matrix file)")
    j = c.judge(s)
    assert j.state == "unknown" and j.bound == Bound(None, -math.inf, math.inf, 0)
    s.load = StackLoad(stack="stack-a", levels=[], capacity_rps=2.5,
                       reason="stack-a: holds 2.5/s at p95 E2E 1.2 s")
    assert c.measure(s) == (2.5, "holds 2.5/s at p95 E2E 1.2 s")
    j = c.judge(s)
    assert j.state == "met" and j.bound == Bound(2.5, 2.5, 2.5, 1) and j.settle_n is None
    assert j.text == "meets capacity>=2rps (holds 2.5/s at p95 E2E 1.2 s)"
    assert parse_constraint("capacity>=3rps").judge(s).state == "failed"


def test_faithfulness_measures_and_their_absence() -> None:
    s = _plain()
    faith, planted = parse_constraint("faithfulness>=0.8"), parse_constraint("planted_false<=5%")
    none_f = "faithfulness: not judged (score the run with --judge local)"
    none_p = "planted_false: the eval set plants no false passage"
    assert faith.measure(s) == (None, none_f) and planted.measure(s) == (None, none_p)
    assert faith.judge(s).text == f"faithfulness>=0.8 not known ({none_f})"
    assert planted.judge(s).text == f"planted_false<=5% not known ({none_p})"
    # A mean without judged answers is not a measure (nothing was judged).
    s.faithfulness = Faithfulness(judged=0, mean=0.9)
    assert faith.measure(s) == (None, none_f) and faith.judge(s).bound.estimate is None
    s.faithfulness = Faithfulness(judged=20, mean=0.85, ci_low=0.8, ci_high=0.9,
                                  planted=PlantedFalse(repeated=0, answered=0, rate=None))
    assert faith.measure(s) == (0.85, "faithfulness 0.85 (n=20 judged)")
    assert planted.measure(s) == (None, none_p)
    assert planted.judge(s).bound.estimate is None
    s.faithfulness.planted = PlantedFalse(repeated=3, answered=40, rate=0.075)
    assert planted.measure(s) == (0.075, "planted false answers 3/40")


def test_the_matrix_files_constraints_each_list_read_alone_and_its_target_load() -> None:
    only_min = constraints_from_manifest({"choice": {"min": ["f1>=0.3"]}})
    only_slo = constraints_from_manifest({"choice": {"slo": ["e2e.p95<=2s"]}})
    assert [c.text for c in only_min] == ["f1>=0.3"]
    assert [c.text for c in only_slo] == ["e2e.p95<=2s"]
    with_target = constraints_from_manifest({"choice": {}, "load": {"target": {"rate": 2}}})
    assert [(c.text, c.metric, c.source) for c in with_target] == [
        ("capacity>=2rps", "capacity", MATRIX_FILE)]
    assert constraints_from_manifest(None) == []


def test_a_command_line_constraint_keeps_a_source_it_already_has() -> None:
    given = Constraint("f1", None, ">=", 0.3, "f1>=0.3", MATRIX_FILE)
    plain = parse_constraint("e2e.p95<=2s")
    merged = merge_constraints([], [given, plain])
    assert [c.source for c in merged] == [MATRIX_FILE, COMMAND_LINE]


def test_an_unreadable_margin_or_constraint_says_the_form() -> None:
    from workbench.report.constraints import ConstraintError, parse_margin

    with pytest.raises(ConstraintError) as e:
        parse_margin("f1~0.02")
    assert str(e.value) == "cannot read margin 'f1~0.02': use e.g. f1=0.02 or e2e.p50=10%"
    with pytest.raises(ConstraintError) as e:
        parse_constraint("e2e.p42<=1s")
    assert str(e.value) == ("constraint 'e2e.p42<=1s': unknown statistic 'p42'; known: mean, "
                            "p50, p90, p95, p99")


def test_latency_judgements_word_for_word() -> None:
    """Constant times, so every interval is the value itself (a p95 of 30 has no finite
    upper end: that needs 72 values, and 80 is the next size shown)."""
    s = _plain(n=30, value=0.5)
    texts = {t: parse_constraint(t).judge(s).text for t in
             ("e2e<=1s", "e2e.p95<=1s", "e2e.mean<=1s", "e2e.p50<=0.4s")}
    assert texts == {
        "e2e<=1s": "meets e2e<=1s (p50 E2E 500 ms [500 ms, 500 ms] (n=30))",
        "e2e.p95<=1s": "e2e.p95<=1s not known with n=30 (p95 E2E 500 ms [500 ms, ∞] (n=30)): "
                       "about 80 requests would settle it",
        "e2e.mean<=1s": "meets e2e.mean<=1s (mean E2E 500 ms [500 ms, 500 ms] (n=30))",
        "e2e.p50<=0.4s": "fails e2e.p50<=0.4s (p50 E2E 500 ms [500 ms, 500 ms] (n=30))"}
    s.values.pop("e2e")
    assert parse_constraint("e2e.p95<=1s").judge(s).text == \
        "e2e.p95<=1s not known (e2e: no per-request values to bound)"


def test_a_rate_metric_counts_failures_as_slowest_and_its_mean_as_unbounded_below() -> None:
    s = _plain(n=30, value=12.5, timeouts=2)
    s.latency["tok_s"], s.values["tok_s"] = s.latency["e2e"], s.values["e2e"]
    j = parse_constraint("tok_s>=10").judge(s)
    assert j.text == "meets tok_s>=10 (p50 TOK_S 12.5 [12.5, 12.5] (n=32, 2 failed counted " \
                     "as slowest))"
    j = parse_constraint("tok_s.mean>=10").judge(s)
    assert j.bound == Bound(12.5, -math.inf, 12.5, 32) and j.settle_n is None
    assert j.text == ("tok_s.mean>=10 not known with n=32 (mean TOK_S 12.5 [-∞, 12.5] (n=32, "
                      "2 failed counted as slowest)): failed requests leave the mean "
                      "unbounded; limit a percentile instead")
    j = parse_constraint("e2e.mean<=20s").judge(s)
    assert j.bound == Bound(12.5, 12.5, math.inf, 32)
    assert "[12500 ms, ∞] (n=32, 2 failed counted as slower)" in j.text


def test_a_mean_limit_without_failures_says_what_sample_would_settle_it() -> None:
    import numpy as np

    x = np.random.default_rng(3).lognormal(0, 0.25, 40)
    s = _summary(x)
    values = np.asarray(s.values["e2e"])
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    limit = round(mean * 1.03, 4)
    j = parse_constraint(f"e2e.mean<={limit}s").judge(s)
    # The first size of the 1-1.2-1.5-2-2.5-3-4-5-6-8 series above 40 whose Student t upper
    # bound, at this mean and spread, is under the limit.
    sizes = sorted(int(m * 10**e) for e in range(1, 7)
                   for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8))
    want = next(n for n in sizes if n > 40
                and mean + sps.t.ppf(0.975, n - 1) * sd / math.sqrt(n) < limit)
    assert j.state == "unknown" and j.settle_n == want
    assert j.text.endswith(f"(n=40)): about {want} requests would settle it")


def test_failed_requests_pull_a_rate_percentile_down_not_up() -> None:
    """20 of 50 requests failed: for tok/s they count as the lowest values, so the median's
    interval reaches -inf and a minimum of 10 tok/s is not known (counted as +inf, the way
    a latency counts them, it would pass)."""
    s = _plain(n=30, value=12.5, timeouts=20)
    s.latency["tok_s"], s.values["tok_s"] = s.latency["e2e"], s.values["e2e"]
    j = parse_constraint("tok_s>=10").judge(s)
    assert j.state == "unknown" and j.bound == Bound(12.5, -math.inf, 12.5, 50)
    assert "p50 TOK_S 12.5 [-∞, 12.5] (n=50, 20 failed counted as slowest)" in j.text


def test_the_settle_size_of_a_rate_percentile_counts_failures_as_lowest() -> None:
    """The settle size for `tok_s>=10` with 20 of 50 failed: 40% of requests at or under
    the limit; the first size of the series whose median's exact lower bound (scipy's
    `quantile_test`) clears 10 with that share."""
    s = _plain(n=30, value=12.5, timeouts=20)
    s.latency["tok_s"], s.values["tok_s"] = s.latency["e2e"], s.values["e2e"]
    j = parse_constraint("tok_s>=10").judge(s)
    sizes = sorted(int(m * 10**e) for e in range(1, 7)
                   for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8))

    def low(n: int) -> float:
        below = round(0.4 * n)
        fake = [9.0] * below + [11.0] * (n - below)
        return float(sps.quantile_test(fake, q=0.0, p=0.5).confidence_interval(0.95).low)

    want = next(n for n in sizes if n > 50 and low(n) > 10)
    assert j.settle_n == want and j.text.endswith(f"about {want} requests would settle it")


def test_no_latency_values_and_no_failures_show_no_estimate() -> None:
    s = _plain(n=30)
    s.values["e2e"] = []
    assert parse_constraint("e2e.p95<=1s").judge(s).text == \
        "e2e.p95<=1s not known (p95 E2E n/a [-∞, ∞] (n=0))"


def _first_size(n: int, ok: Callable[[int], bool]) -> int:
    sizes = sorted(int(m * 10**e) for e in range(1, 7)
                   for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8))
    return next(s for s in sizes if s > n and ok(s))


def test_rate_constraints_settle_sizes_and_no_size_once_decided() -> None:
    s = _plain(n=49, timeouts=1)  # 1 failed of 50: 2%
    j = parse_constraint("error_rate<=10%").judge(s)
    assert j.settle_n == _first_size(50, lambda n: _cp(round(0.02 * n), n)[1] < 0.10)
    met = parse_constraint("error_rate<=5%").judge(_plain(n=400))
    assert met.state == "met" and met.settle_n is None
    failed = parse_constraint("error_rate<=5%").judge(_plain(n=80, timeouts=20))
    assert failed.state == "failed" and failed.settle_n is None
    s.faithfulness = Faithfulness(planted=PlantedFalse(repeated=3, answered=40, rate=0.075))
    j = parse_constraint("planted_false<=20%").judge(s)
    low, high = _cp(3, 40)
    assert j.bound == Bound(0.075, pytest.approx(low), pytest.approx(high), 40)  # type: ignore[arg-type]
    assert j.text == (f"planted_false<=20% not known with n=40 (planted false answers 3/40 = "
                      f"7.5% [{low:.1%}, {high:.1%}]): about {j.settle_n} answers would "
                      "settle it")
    assert j.settle_n == _first_size(40, lambda n: _cp(round(0.075 * n), n)[1] < 0.20)


def test_a_faithfulness_constraint_is_judged_on_the_judges_interval() -> None:
    s = _plain()
    s.faithfulness = Faithfulness(judged=20, mean=0.85, ci_low=0.8, ci_high=0.9)
    j = parse_constraint("faithfulness>=0.75").judge(s)
    assert j.state == "met" and j.bound == Bound(0.85, 0.8, 0.9, 20)
    assert j.text == "meets faithfulness>=0.75 (faithfulness 0.85 [0.800, 0.900] (n=20 judged))"
    s.faithfulness = Faithfulness(judged=20, mean=0.85)
    j = parse_constraint("faithfulness>=0.75").judge(s)
    assert j.bound == Bound(0.85, -math.inf, math.inf, 20) and j.state == "unknown"
    assert "faithfulness 0.85 [-∞, ∞] (n=20 judged)" in j.text


def test_a_load_metric_without_a_value_is_not_known_with_the_reason() -> None:
    s = _plain()
    s.load = StackLoad(stack="stack-a", levels=[], capacity_rps=None,
                       reason="stack-a: no level held")
    j = parse_constraint("correct_goodput>=1").judge(s)
    assert j.state == "unknown" and j.settle_n is None
    assert j.text == "correct_goodput>=1 not known (holds no level)"


def test_mean_constraints_say_what_would_settle_them_and_why_they_cannot_be_bounded() -> None:
    from workbench.report.constraints import ConstraintError

    s = _plain()
    s.faithfulness = Faithfulness(judged=20, mean=0.85, ci_low=0.7, ci_high=0.95)
    j = parse_constraint("faithfulness>=0.8").judge(s)
    # Half-width 0.125 against a gap of 0.05: 20 * 2.5^2 + 1 = 126 answers, shown as 150.
    assert j.state == "unknown" and j.settle_n == 150
    assert j.text.endswith("about 150 answers would settle it")
    s.quality["f1"], s.values["f1"] = 0.5, [0.4, 0.6] * 20
    j = parse_constraint("f1>=0.49").judge(s)
    sd = float(np.std([0.4, 0.6] * 20, ddof=1))
    half = sps.t.ppf(0.975, 39) * sd / math.sqrt(40)
    need = math.ceil(40 * (half / 0.01) ** 2) + 1
    assert j.state == "unknown" and j.settle_n == _first_size(40, lambda n: n >= need)
    s.values["f1"] = []
    assert parse_constraint("f1>=0.49").judge(s).text == "f1>=0.49 not known (f1: n/a)"
    del s.values["f1"]
    assert parse_constraint("f1>=0.49").judge(s).text == \
        "f1>=0.49 not known (f1: no per-answer values to bound)"
    with pytest.raises(ConstraintError) as e:
        parse_constraint("e2e.p95=2s")
    assert str(e.value) == ("cannot read constraint 'e2e.p95=2s': use e.g. e2e.p95<=2s, "
                            "ttft.p50<500ms, f1>=0.3, error_rate<=5%")


def test_a_latency_percentiles_settle_size_counts_failures_as_slowest() -> None:
    """98 requests and 2 failures, a p95 limit just above most: the share within the limit
    counts the failures as over it; the settle size is the first of the series whose exact
    interval (scipy's `quantile_test`) at that share is clear of the limit."""
    x = np.random.default_rng(8).lognormal(0, 0.25, 98)
    s = _summary(x, timeouts=2)
    limit = round(float(np.quantile(np.sort(x), 0.955)), 4)
    j = parse_constraint(f"e2e.p95<={limit}s").judge(s)
    share = float((np.asarray(s.values["e2e"]) <= limit).sum()) / 100  # failures: over it

    def decided(n: int) -> bool:
        below = round(share * n)
        fake = [limit - 1.0] * below + [limit + 1.0] * (n - below)
        ci = sps.quantile_test(fake, q=0.0, p=0.95).confidence_interval(0.95)
        return bool(ci.high < limit or ci.low > limit)

    assert j.state == "unknown"
    assert j.settle_n == _first_size(100, decided)
