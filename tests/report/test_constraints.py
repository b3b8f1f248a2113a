"""Constraints judged on their 95% interval (report.limits): simulated runs pushed through
the product's own summary (`stack_summary`) and `Constraint.judge`, with known truths.

Printed rates (run with -s) are the numbers quoted in the closing note."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.report.synthetic import question, record
from workbench.report.constraints import (
    COMMAND_LINE,
    MATRIX_FILE,
    constraints_from_manifest,
    merge_constraints,
    parse_constraint,
    parse_constraints,
)
from workbench.report.models import StackSummary
from workbench.report.summaries import stack_summary
from workbench.scoring.base import Sample
from workbench.scoring.latency import e2e

RUNS = 200
SIGMA = 0.25  # log-sd of E2E: the realistic latency noise
TRUE_P95 = math.exp(SIGMA * 1.6448536269514722)  # lognormal(0, SIGMA)'s 95th percentile


def _summary(latencies: np.ndarray, timeouts: int = 0) -> StackSummary:
    """One stack's summary, through the product's code, from E2E times (s) and timeouts."""
    samples = [Sample(question(f"q{i}"), record(f"q{i}", "A", "gold", ttft=0.001,
                                                itl=float(v) - 0.001, tokens=2))
               for i, v in enumerate(latencies)]
    samples += [Sample(question(f"t{i}"), record(f"t{i}", "A", "", status="timeout"))
                for i in range(timeouts)]
    return stack_summary("stack-a", "", True, samples, {}, [], [e2e()])


def _judge(text: str, summary: StackSummary) -> str:
    return parse_constraint(text).judge(summary).state


def test_identical_stacks_are_not_split_by_an_slo_at_their_true_p95() -> None:
    """The issue's case: at n=68 a point estimate split two identical stacks 28% of the
    time. Split = one feasible (met), the other not."""
    rng = np.random.default_rng(68)
    slo = f"e2e.p95<={TRUE_P95:.4f}s"
    rates = {}
    for n in (68, 200):
        split = 0
        for _ in range(RUNS):
            a, b = (_judge(slo, _summary(rng.lognormal(0, SIGMA, n))) for _ in range(2))
            split += (a == "met") != (b == "met")
        rates[n] = split / RUNS
    print(f"split rate at the true p95, {RUNS} runs: n=68 {rates[68]:.3f}, "
          f"n=200 {rates[200]:.3f}")
    assert rates[68] <= 0.05 and rates[200] <= 0.05


def test_a_p95_slo_well_above_the_truth_is_met_at_a_size_that_can_show_it() -> None:
    rng = np.random.default_rng(7)
    slo = f"e2e.p95<={1.3 * TRUE_P95:.4f}s"
    met = sum(_judge(slo, _summary(rng.lognormal(0, SIGMA, 200))) == "met"
              for _ in range(RUNS)) / RUNS
    print(f"p95 SLO at 1.3x the true p95, n=200: met in {met:.3f} of {RUNS} runs")
    assert met >= 0.9
    # 68 requests cannot show any p95 (its distribution-free bound needs 72): not known,
    # with the size that would settle it.
    j = parse_constraint(slo).judge(_summary(rng.lognormal(0, SIGMA, 68)))
    assert j.state == "unknown" and j.text.startswith(f"{slo} not known with n=68 (p95 E2E ")
    assert " [" in j.text and ", ∞] (n=68)" in j.text
    assert j.settle_n is not None and 72 <= j.settle_n <= 100
    assert j.text.endswith(f"about {j.settle_n} requests would settle it")


def test_a_stack_that_times_out_on_its_slowest_4pct_does_not_pass_at_its_true_p95() -> None:
    """Failures are censored (slower than any SLO): the 4% slowest requests time out, so
    dropping them would pass a p95 SLO at the true p95 almost always."""
    rng = np.random.default_rng(4)
    slo = f"e2e.p95<={TRUE_P95:.4f}s"
    cut = math.exp(SIGMA * 1.7506860712521692)  # the true 96th percentile
    passed = {}
    for n in (68, 200):
        hits = 0
        for _ in range(RUNS):
            x = rng.lognormal(0, SIGMA, n)
            hits += _judge(slo, _summary(x[x <= cut], timeouts=int((x > cut).sum()))) == "met"
        passed[n] = hits / RUNS
    print(f"4% timeouts, SLO at the true p95: passes n=68 {passed[68]:.3f}, "
          f"n=200 {passed[200]:.3f} of {RUNS} runs")
    assert passed[68] <= 0.05 and passed[200] <= 0.05
    j = parse_constraint("e2e.p95<=1s").judge(_summary(np.full(80, 0.5), timeouts=20))
    assert j.state == "failed" and "20 failed counted as slower" in j.text


def test_the_point_estimate_under_the_slo_is_not_enough() -> None:
    rng = np.random.default_rng(11)
    s = _summary(rng.lognormal(0, SIGMA, 150))
    p95 = float(np.percentile(s.values["e2e"], 95))
    j = parse_constraint(f"e2e.p95<={1.02 * p95:.4f}s").judge(s)
    assert j.bound.estimate is not None and j.bound.estimate < 1.02 * p95 < j.bound.high
    assert j.state == "unknown" and j.settle_n is not None and j.settle_n > 150
    assert j.constraint.check(s)[0]  # the old point-estimate meaning said "met"


def test_error_cap_and_minimum_quality_are_judged_on_their_intervals() -> None:
    s = _summary(np.full(50, 0.5), timeouts=0)
    cap = parse_constraint("error_rate<=5%")
    j = cap.judge(s)  # 0 of 50: Clopper-Pearson upper 7.1%
    assert j.state == "unknown" and "error rate 0/50 = 0.0% [0.0%, 7.1%]" in j.text
    assert j.settle_n == 80  # 0 of 72 is the first under 5%; the next size shown is 80
    assert cap.judge(_summary(np.full(400, 0.5))).state == "met"
    assert cap.judge(_summary(np.full(80, 0.5), timeouts=20)).state == "failed"
    s.quality["f1"], s.values["f1"] = 0.5, [0.4, 0.6] * 20  # Student t: 0.5 +- 0.032
    assert parse_constraint("f1>=0.49").judge(s).state == "unknown"
    assert parse_constraint("f1>=0.45").judge(s).state == "met"
    assert parse_constraint("f1>=0.55").judge(s).state == "failed"


def test_command_line_constraints_replace_the_matrix_files_per_key() -> None:
    manifest = {"choice": {"slo": ["e2e.p95<=2s"], "min": ["f1>=0.3"],
                           "max_error_rate": 0.05}}
    merged = merge_constraints(constraints_from_manifest(manifest),
                               parse_constraints(["e2e.p95<=5s", "ttft.p50<=1s"]))
    assert [(c.text, c.source) for c in merged] == [
        ("f1>=0.3", MATRIX_FILE), ("error_rate<=5%", MATRIX_FILE),
        ("e2e.p95<=5s", COMMAND_LINE), ("ttft.p50<=1s", COMMAND_LINE)]
    assert [c.label for c in merged][-1] == "ttft.p50<=1s (command line)"
    assert merge_constraints(constraints_from_manifest(manifest), []) == \
        constraints_from_manifest(manifest)


@pytest.mark.parametrize("text", ["e2e.mean<=1s"])
def test_a_mean_slo_with_failures_is_never_met(text: str) -> None:
    j = parse_constraint(text).judge(_summary(np.full(100, 0.5), timeouts=1))
    assert j.state == "unknown" and "leave the mean unbounded" in j.text
    assert parse_constraint(text).judge(_summary(np.full(100, 0.5))).state == "met"
