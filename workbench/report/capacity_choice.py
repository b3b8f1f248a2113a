"""Capacity at the team's load, from a matrix run's load pass (`workbench.report.load`'s
models): per level, percentiles with CIs (failures counted as misses), goodput of correct
answers, and whether the SLOs hold; per stack, the capacity, the cost per 1,000 correct
answers there, and whether it holds the target.

Rules, stated once:
  * A request's latency for the SLOs: its TTFT / TPOT / E2E when it succeeded; a failed
    or timed-out request is a miss (`MISS_S`, slower than any SLO), never left out.
  * An SLO on a percentile holds at a level when the upper bound of that percentile's 95%
    interval meets it, is broken when the lower bound misses it, and is unknown in between
    (unknown does not hold): the constraints' own rule and interval (`report.limits`: the
    distribution-free order-statistic interval, misses censored), so the same SLO on the
    same requests gets the same verdict in the quality pass and under load. A p95 needs
    72 requests at a level before its upper bound can meet anything; p50 needs 6.
  * Goodput counts answers within every SLO (each request's value against the SLO's
    limit, as vLLM's goodput does); correct goodput also needs the answer correct by the
    scorecard's rule (`LoadPrompt.grade` -> `scoring.answer.answer_is_correct`), counted in
    `load.metrics.summarize`.
  * A level holds when every SLO holds, the error rate is within the cap, and correct
    goodput is at least the required share of the offered load (the stated
    `min_correct_share`, else 90% of the stack's own accuracy at its lowest level).
  * Capacity = the offered load of the highest level such that it and every lower level
    hold (a level that holds above a broken one is noise, not capacity).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from workbench.load.metrics import PointSummary, e2e_s, summarize, tpot_s, ttft_s
from workbench.records.responses import LoadRequestRecord, PointSpec
from workbench.report import limits
from workbench.report.constraints import Constraint, parse_constraint
from workbench.report.load import (
    MISS_S,
    Estimate,
    LoadLevel,
    LoadRun,
    SloCheck,
    StackLoad,
    estimate_text,
    seconds,
)
from workbench.store.load_benches import LoadBenchStore

if TYPE_CHECKING:  # typing only: the report's models import this floor's results
    from workbench.report.models import ScoreCard
    from workbench.store.db import Store

#: Without a stated share, correct goodput must reach this share of the stack's own
#: accuracy at its lowest level times the offered load.
RELATIVE_SHARE = 0.9
#: Median TTFT this many times the lowest level's means requests waited in a queue.
QUEUEING_FACTOR = 2.0
DEFAULT_MAX_ERROR_RATE = 0.05
_GETTERS: dict[str, Callable[[LoadRequestRecord], float | None]] = {
    "ttft": ttft_s, "e2e": e2e_s, "tpot": lambda r: tpot_s(r) or 0.0}


def request_slo(slo: Sequence[Constraint]) -> dict[str, float]:
    """Each request's bar per metric (`e2e.p95<=10s` -> e2e <= 10 s): the loosest limit
    given for a metric (a p50 and a p95 bar on E2E: the p95's)."""
    out: dict[str, float] = {}
    for c in slo:
        out[c.metric] = max(out.get(c.metric, 0.0), c.value)
    return out


def censored(records: Sequence[LoadRequestRecord], metric: str) -> list[float]:
    """One latency per request (s), a failure (or a missing value) as `MISS_S`."""
    get = _GETTERS[metric]
    out = []
    for r in records:
        v = get(r) if r.status == "ok" else None
        out.append(MISS_S if v is None else float(v))
    return out


def _bound(values: Sequence[float], stat: str) -> limits.Bound:
    """The interval a limit is judged on (`report.limits`, the constraints' own): a
    percentile's distribution-free order-statistic interval with every miss censored as
    slower than any limit, or a mean's (unbounded above when a request failed)."""
    finite = [v for v in values if v < MISS_S]
    misses = len(values) - len(finite)
    if stat == "mean":
        b = limits.mean_bound(finite)
        return limits.Bound(b.estimate, b.low, math.inf, b.n + misses) if misses else b
    return limits.quantile_bound(finite, float(stat.removeprefix("p")) / 100.0, misses)


def _shown(x: float) -> float:
    # An infinite bound (a miss, or more misses than the quantile allows) is shown as one.
    return MISS_S if x == math.inf else 0.0 if x == -math.inf else x


def estimate(values: Sequence[float], stat: str) -> Estimate | None:
    """A percentile (`p50`, `p95`, ...) or the mean of `values` (misses as `MISS_S`), with
    its 95% interval from `report.limits`."""
    b = _bound(values, stat)
    if b.estimate is None:
        return None
    return Estimate(value=_shown(b.estimate), low=_shown(b.low), high=_shown(b.high), n=b.n)


def check_slo(c: Constraint, records: Sequence[LoadRequestRecord]) -> SloCheck:
    """One SLO at one level, judged on its interval as the constraints judge theirs
    (`limits.decide`: met on the whole interval, failed beyond it, unknown between)."""
    values = censored(records, c.metric)
    b = _bound(values, c.stat or "p50")
    if b.estimate is None:
        return SloCheck(slo=c.text, value=None, verdict="unknown")
    state = limits.decide(b, c.op, c.value)
    verdict: Literal["holds", "broken", "unknown"] = (
        "holds" if state == limits.MET else "broken" if state == limits.FAILED else "unknown")
    return SloCheck(slo=c.text, value=estimate(values, c.stat or "p50"), verdict=verdict)


def offered_rps(spec: PointSpec, summary: PointSummary) -> float:
    """The load offered: the arrival rate (open loop), else requests sent per second."""
    if math.isfinite(spec.rate):
        return spec.rate
    return summary.requests / max(summary.duration_s, 1e-9)


def build_level(
    spec: PointSpec, stored: PointSummary, records: Sequence[LoadRequestRecord],
    slo: Sequence[Constraint], *, max_error_rate: float, min_correct_share: float | None,
    base: LoadLevel | None,
) -> LoadLevel:
    """One level's figures and verdict (`base`: the stack's lowest level, for the
    quality-under-load comparison and the relative correctness share)."""
    s = summarize(spec, records, stored.duration_s, request_slo(slo))
    offered = offered_rps(spec, s)
    ttft, e2e = censored(records, "ttft"), censored(records, "e2e")
    checks = [check_slo(c, records) for c in slo]
    level = LoadLevel(
        label=spec.label, concurrency=spec.concurrency,
        rate=spec.rate if math.isfinite(spec.rate) else None, offered_rps=offered,
        requests=s.requests, completed=s.completed, error_rate=s.error_rate,
        duration_s=s.duration_s, throughput_rps=s.request_throughput,
        output_tok_s=s.output_throughput, goodput_rps=s.goodput or 0.0,
        correct_goodput_rps=s.correct_goodput if s.correct_goodput is not None
        else (s.goodput or 0.0),
        accuracy=s.accuracy, slo_checks=checks, holds=False, cpu_s=stored.cpu_s,
        peak_rss_mb=stored.peak_rss_mb, ttft_p50=estimate(ttft, "p50"),
        ttft_p95=estimate(ttft, "p95"), e2e_p50=estimate(e2e, "p50"),
        e2e_p95=estimate(e2e, "p95"))
    base_acc = base.accuracy if base is not None else level.accuracy
    if level.accuracy is not None and base_acc is not None:
        level.accuracy_delta = level.accuracy - base_acc
    required = _required_share(min_correct_share, base_acc)
    reasons: list[str] = []
    if s.error_rate > max_error_rate:
        reasons.append(f"{s.failed} of {s.requests} requests failed "
                       f"({s.error_rate:.0%} > {max_error_rate:.0%})")
    for ch in checks:
        if ch.verdict != "holds":
            word = "misses" if ch.verdict == "broken" else "not known to meet"
            reasons.append(f"{_stat_name(ch.slo)} {estimate_text(ch.value)} {word} {ch.slo}"
                           + (f" (n={ch.value.n})" if ch.value else ""))
    share = level.correct_goodput_rps / offered if offered > 0 else 0.0
    if share < required:
        what = "correct goodput" if s.accuracy is not None else "goodput"
        acc = "" if level.accuracy is None or base is None else (
            f"; accuracy {level.accuracy:.0%} vs {base_acc:.0%} at {base.label}")
        reasons.append(f"{what} {level.correct_goodput_rps:.2f}/s is {share:.0%} of the "
                       f"offered {offered:.2f}/s (needs {required:.0%}{acc})")
    level.holds = not reasons
    if reasons:
        level.broke = f"{_cause(level, base, s.error_rate > max_error_rate)}: " \
            + "; ".join(reasons)
    return level


def _required_share(stated: float | None, base_accuracy: float | None) -> float:
    if stated is not None:
        return stated
    # No gold to grade against: the SLO-meeting share alone, at the same 90%.
    return RELATIVE_SHARE * (base_accuracy if base_accuracy is not None else 1.0)


def _stat_name(slo: str) -> str:
    c = parse_constraint(slo)
    return f"{c.stat or 'p50'} {c.metric.upper()}"


def _cause(level: LoadLevel, base: LoadLevel | None, errors: bool) -> str:
    """Why a level broke, in one word or two: errors, queueing, TTFT, E2E, quality."""
    if errors:
        return "errors"
    t0 = base.ttft_p50.value if base and base.ttft_p50 else None
    t1 = level.ttft_p50.value if level.ttft_p50 else None
    if t0 and t1 and base is not None and base.label != level.label \
            and t1 > QUEUEING_FACTOR * t0:
        return f"queueing (median TTFT {seconds(t0)} at {base.label} -> {seconds(t1)})"
    failing = [c.slo for c in level.slo_checks if c.verdict != "holds"]
    if failing:
        return " and ".join(dict.fromkeys(parse_constraint(f).metric.upper() for f in failing))
    if level.accuracy_delta is not None and level.accuracy_delta < 0:
        return "quality under load"
    return "goodput"


def stop_reason(level: LoadLevel) -> str | None:
    """Why a sweep should not go higher: the level broke for sure (errors over the cap or
    an SLO missed on its CI's lower bound); None while it may still hold."""
    if level.holds or level.broke is None:
        return None
    definite = level.broke.startswith("errors") or any(
        c.verdict == "broken" for c in level.slo_checks)
    return f"stopped after {level.label}: {level.broke}" if definite else None


def stack_load(
    stack: str, points: Sequence[tuple[PointSpec, PointSummary, list[LoadRequestRecord]]],
    slo: Sequence[Constraint], *, max_error_rate: float, min_correct_share: float | None,
    target_rps: float | None, target_concurrency: int | None,
    price: dict[str, Any] | None = None, stopped: str | None = None,
) -> StackLoad:
    """A stack's capacity, cost there, and whether it holds the target."""
    levels: list[LoadLevel] = []
    for spec, summary, records in points:
        levels.append(build_level(spec, summary, records, slo, max_error_rate=max_error_rate,
                                  min_correct_share=min_correct_share,
                                  base=levels[0] if levels else None))
    held: LoadLevel | None = None
    broke: LoadLevel | None = None
    for lv in levels:
        if not lv.holds:
            broke = lv
            break
        held = lv
    out = StackLoad(stack=stack, levels=levels, capacity_rps=held.offered_rps if held else None,
                    capacity_level=held.label if held else None,
                    broke_at=broke.label if broke else None, stopped=stopped)
    if held is not None:
        out.correct_goodput_rps = held.correct_goodput_rps
        out.peak_rss_mb = held.peak_rss_mb
        correct = held.correct_goodput_rps * held.duration_s
        if held.cpu_s is not None and correct > 0:
            out.cpu_s_per_correct = held.cpu_s / correct
        per_hour = (price or {}).get("per_hour")
        if per_hour is not None and held.correct_goodput_rps > 0:
            out.cost_per_1k_correct = float(per_hour) / 3600.0 / held.correct_goodput_rps * 1000
            out.currency = str((price or {}).get("currency", "USD"))
    if target_rps is not None or target_concurrency is not None:
        out.holds_target = held is not None and (
            held.offered_rps >= target_rps * (1 - 1e-9) if target_rps is not None
            else (held.concurrency or 0) >= (target_concurrency or 0))
    out.reason = describe(out, target_rps, target_concurrency)
    return out


def _cost_text(s: StackLoad) -> str:
    if s.cost_per_1k_correct is not None:
        return f"{s.cost_per_1k_correct:.2f} {s.currency} per 1,000 correct answers"
    if s.cpu_s_per_correct is not None:
        rss = f", peak RSS {s.peak_rss_mb:.0f} MB" if s.peak_rss_mb is not None else ""
        return f"{s.cpu_s_per_correct:.2f} CPU-s per correct answer{rss}"
    return ""


def describe(s: StackLoad, target_rps: float | None, target_c: int | None) -> str:
    """The reason line of a stack's load result (where it holds, where it broke and why)."""
    target = f"{target_rps:g} rps" if target_rps is not None else (
        f"concurrency {target_c}" if target_c is not None else "")
    broke = next((lv for lv in s.levels if lv.label == s.broke_at), None)
    held = next((lv for lv in s.levels if lv.label == s.capacity_level), None)
    cap = "holds no level" if held is None else (
        f"capacity {s.capacity_rps:.2f} rps at {held.label} (correct goodput "
        f"{held.correct_goodput_rps:.2f}/s, p95 E2E {estimate_text(held.e2e_p95)})")
    cost = _cost_text(s)
    if target and not s.holds_target:
        if broke is not None:
            head = f"cannot hold the target {target}: broke at {broke.label}, {broke.broke}"
        elif not s.levels:
            head = f"cannot hold the target {target}: no load level measured"
        else:
            head = (f"cannot hold the target {target}: the highest level measured "
                    f"({s.levels[-1].label}) is below it")
        return f"{s.stack}: {head}; {cap}" + (f"; {s.stopped}" if s.stopped else "")
    lead = f"holds the target {target}, " if target else ""
    tail = f"; next level {broke.label} broke: {broke.broke}" if broke is not None else ""
    return f"{s.stack}: {lead}{cap}" + (f"; {cost}" if cost else "") + tail


def load_run(
    bench: dict[str, Any], points_of: Callable[[str], list[tuple[PointSpec, PointSummary,
                                                                 list[LoadRequestRecord]]]],
    prices: dict[str, dict[str, Any]],
) -> LoadRun:
    """The run's load result from its stored load benchmark (`bench`: the store's row with
    `config.load`, the matrix's load block as recorded)."""
    rules = bench["config"].get("load") or {}
    target = rules.get("target") or {}
    slo = [parse_constraint(t) for t in rules.get("slo") or []]
    max_err = rules.get("max_error_rate")
    max_err = DEFAULT_MAX_ERROR_RATE if max_err is None else float(max_err)
    share = rules.get("min_correct_share")
    stopped: dict[str, str] = (bench.get("result") or {}).get("stopped") or {}
    stacks = {name: stack_load(
        name, points_of(name), slo, max_error_rate=max_err, min_correct_share=share,
        target_rps=target.get("rate"), target_concurrency=target.get("concurrency"),
        price=prices.get(name), stopped=stopped.get(name)) for name in bench["stacks"]}
    return LoadRun(
        bench_id=bench["id"], status=bench["status"], mode=rules.get("mode", "concurrency"),
        target_rps=target.get("rate"), target_concurrency=target.get("concurrency"),
        slo=[c.text for c in slo], max_error_rate=max_err, min_correct_share=share,
        stacks=stacks,
        method="each stack alone, warmed up, at rising levels; percentiles with 95% "
        "order-statistic intervals, failures counted as misses; an SLO holds when the "
        "interval's upper bound meets it; capacity = the highest level up to which every "
        "level holds (SLOs, error cap, correct goodput share); correct = the scorecard's "
        "gold-contained rule")


__all__ = [
    "build_level",
    "censored",
    "check_slo",
    "cost_rise",
    "describe",
    "estimate",
    "load_for_run",
    "load_run",
    "offered_rps",
    "request_slo",
    "stack_load",
    "stop_reason",
    "with_load",
]


def load_for_run(store: Store, run_id: str) -> LoadRun | None:
    """The load result of a stored run (`store`: a `store.db.Store`), or None when the run
    had no load pass."""
    loads = LoadBenchStore(store)
    bench_id = loads.bench_for_run(run_id)
    if bench_id is None:
        return None
    bench = loads.bench(bench_id)
    specs = [PointSpec.model_validate(p) for p in bench["config"].get("points") or []]
    stored = loads.points(bench_id)

    def points_of(stack: str) -> list[tuple[PointSpec, PointSummary, list[LoadRequestRecord]]]:
        out = []
        for p in sorted((p for p in stored if p.stack == stack), key=lambda p: p.position):
            if p.position < len(specs):
                out.append((specs[p.position], PointSummary.model_validate(p.summary),
                            loads.requests(bench_id, stack, p.position)))
        return out

    matrix_prices = store.run_manifest(run_id).prices or {}
    recipes = store.recipes(run_id)
    prices = {name: (matrix_prices[name].model_dump(mode="json", exclude_unset=True)
                     if name in matrix_prices else None)
              or (recipes.get(name) or {}).get("cost") or {} for name in bench["stacks"]}
    return load_run(bench, points_of, prices)


def with_load(store: Store, run_id: str, card: ScoreCard) -> ScoreCard:
    """`card` (a ScoreCard) with the run's load result on it (`card.load`, and each stack
    summary's `load`); unchanged when the run had no load pass."""
    load = load_for_run(store, run_id)
    if load is None:
        return card
    for name, s in load.stacks.items():
        summary = card.summaries.get(name)
        if summary is not None:  # quality under load beside quality one at a time
            s.quality_pass_accuracy = summary.quality.get("gold_contained")
    summaries = {name: s.model_copy(update={"load": load.stacks.get(name)})
                 for name, s in card.summaries.items()}
    return card.model_copy(update={"load": load, "summaries": summaries})


def cost_rise(base: StackLoad | None, cand: StackLoad | None, *,
              confidence: float = 0.90) -> tuple[float, float, float, int] | None:
    """The candidate's cost per correct answer against the baseline's, each at its own
    capacity level: (rise, low, high, correct answers) as fractions (+0.10 = 10% dearer),
    with a two-sided `confidence` interval (0.90: each bound one-sided 95%, as the gate's).

    Correct answers per unit of cost (price x seconds, else CPU-seconds) are Poisson
    counts; conditional on their total, the candidate's share is binomial, so its exact
    (Clopper-Pearson) interval gives the ratio's. None when either side has no cost at its
    capacity (no level held, or neither a price nor CPU time)."""
    # why here: SciPy takes seconds to import
    from scipy.stats import beta

    def units(s: StackLoad | None) -> tuple[float, int] | None:
        lv = next((x for x in (s.levels if s else []) if x.label == s.capacity_level), None) \
            if s is not None else None
        if s is None or lv is None:
            return None
        correct = round(lv.correct_goodput_rps * lv.duration_s)
        if s.cost_per_1k_correct is not None:
            return s.cost_per_1k_correct / 1000.0 * correct, correct
        if lv.cpu_s is not None:
            return lv.cpu_s, correct
        return None

    b, c = units(base), units(cand)
    if b is None or c is None or b[1] + c[1] == 0 or b[1] == 0 or c[1] == 0:
        return None
    (ub, kb), (uc, kc) = b, c
    n, tail = kb + kc, (1.0 - confidence) / 2.0
    p_low = float(beta.ppf(tail, kc, n - kc + 1))
    p_high = float(beta.ppf(1.0 - tail, kc + 1, n - kc)) if kc < n else 1.0

    def rise(p: float) -> float:
        # cost ratio = (u_c / k_c) / (u_b / k_b) = (1 - p) / p x u_c / u_b, p = k_c share.
        return math.inf if p <= 0 else (1.0 - p) / p * uc / ub - 1.0

    return (uc / kc) / (ub / kb) - 1.0, rise(p_high), rise(p_low), n
