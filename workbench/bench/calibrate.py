"""Calibration of the decision path (`make calibrate`): simulated runs with a known truth go
through the product's own `build_scorecard` -> `recommend` -> gate, and we count how often
each is wrong.

For 2, 4 and 8 stacks at n = 30, 68 and 200 questions it prints:
- **false choice**: one stack is truly better on F1 (+0.15), the others are worse; how
  often a truly worse stack is chosen (same speed; and with the worse ones 30% faster, where
  only a significant quality tie may let speed decide);
- **false winner**: every stack is identical (same answers' F1 distribution, latency with
  log-sd 0.25 per request, same price); how often a winner is named at all;
- **coverage** of every interval the scorecard shows whose true value the simulation
  knows (each candidate's comparisons with the baseline, each stack's own CIs), pooled, and
  the worst single kind;
- **gate**: false fail (identical stacks, the gate fails) and false pass (one candidate's
  true drop is exactly the margin, the gate passes) at F1 margins 0.05 and 0.10 and E2E
  margins 10% and 25%;
- **invariance**: the choice and the top set again after a random permutation of the stacks
  (the baseline moves with it) and after adding an exact copy of one stack; violations.

Targets (issue 22): false choice and false winner <= 5%, coverage >= 0.94 at n >= 30, no
invariance violation. The harness only simulates and counts: every number it judges comes
from the product's functions. `--tiny` runs a handful of runs (the smoke test); `RUNS=N`
sets the runs per cell; `RESAMPLES` the bootstrap resamples (the product's default is 2000;
fewer keeps the table to minutes and widens nothing: it only adds Monte Carlo noise);
`CELLS=2x30,4x68` only those cells; `COVERAGE_ONLY=1` only the intervals, every kind per
cell; with it, `PARTIAL_F1=0.4` gives that share of the wrong answers half the gold's
words (F1 0.5): the simulated F1 is otherwise 0 or 1 (Wilson and Newcombe intervals),
real token F1 is continuous (the bootstrap's intervals).
"""

from __future__ import annotations

import math
import os
import re
import signal
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from workbench.records.evalset import Question
from workbench.records.responses import RequestTiming, ResponseRecord, RetrievedSource

STACKS = (2, 4, 8)
SIZES = (30, 68, 200)
#: Per-request latency noise (log-sd) and the question-to-question spread of latency.
NOISE, SPREAD = 0.25, 0.4
#: The standard normal's 95th percentile: the true p95 of a lognormal latency.
Z95 = 1.6448536269514722
TOKENS = 6
MARGINS = {"f1": (0.05, 0.10), "e2e": (0.10, 0.25)}


@dataclass(frozen=True)
class Truth:
    """One simulated stack: what its answers and latencies are drawn from."""

    name: str
    correct: float = 0.5
    speed: float = 1.0
    error: float = 0.01
    hit: float = 0.8
    #: Share of the wrong answers that hold half the gold's words (F1 0.5, exact match 0):
    #: 0 keeps every F1 at 0 or 1; real token F1 is continuous (`PARTIAL_F1`).
    partial: float = 0.0

    @property
    def f1(self) -> float:
        """True mean F1: a failed request scores 0, a correct answer 1, a half-right one
        0.5, a wrong one 0."""
        return (self.correct + (1 - self.correct) * self.partial / 2) * (1 - self.error)

    @property
    def exact(self) -> float:
        """True exact-match (and gold-contained) rate: the correct answers."""
        return self.correct * (1 - self.error)


def simulate(truths: list[Truth], n: int, seed: int, *, sources: bool = True
             ) -> tuple[list[Question], list[ResponseRecord]]:
    """A run of `n` questions answered by every stack, interleaved by question; without
    `sources` no passage is retrieved (the card then has no retrieval lines: cheaper)."""
    rng = np.random.default_rng(seed)
    questions = [Question(id=f"q{i}", question=f"Question {i}?", answers=[f"gold{i} answer"],
                          gold_doc_ids=[f"doc{i}"]) for i in range(n)]
    # Paired like real runs: a question's difficulty and length move every stack alike.
    hard = rng.normal(size=n)
    spread = rng.normal(0.0, SPREAD, size=n)
    records, clock = [], 0.0
    for i, q in enumerate(questions):
        for t in truths:
            latent = (hard[i] + rng.normal()) / math.sqrt(2.0)
            right = _phi(latent) < t.correct
            # Drawn only when asked for, so the 0/1 runs keep their random stream.
            half = not right and t.partial > 0 and rng.random() < t.partial
            failed = rng.random() < t.error
            e2e = t.speed * math.exp(spread[i] + rng.normal(0.0, NOISE))
            docs = [f"other{i}-{k}" for k in range(5)]
            if rng.random() < t.hit:
                docs[0] = q.gold_doc_ids[0]
            ttft = 0.3 * e2e
            times = [] if failed else [clock + ttft + (e2e - ttft) * j / (TOKENS - 1)
                                       for j in range(TOKENS)]
            records.append(ResponseRecord(
                run_id="calibrate", question_id=q.id, stack=t.name,
                status="error" if failed else "ok", error="boom" if failed else None,
                answer="" if failed else (q.answers[0] if right else f"gold{i} words" if half
                                          else f"wrong{i} words"),
                sources=[RetrievedSource(doc_id=d, rank=k + 1) for k, d in enumerate(docs)
                         if sources],
                timing=RequestTiming(request_start=clock,
                                     first_token=None if failed else times[0],
                                     last_token=None if failed else times[-1],
                                     request_end=clock + e2e, token_times=times,
                                     started_at_utc="2026-01-01T00:00:00Z"),
                completion_tokens=None if failed else TOKENS,
                server_timings={"embed_ms": 5.0, "retrieve_ms": 10.0}, model="m", engine="e"))
            clock += e2e + 0.01
    return questions, records


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def decide(truths: list[Truth], questions: list[Question], records: list[ResponseRecord],
           order: list[str], resamples: int) -> tuple[Any, Any]:
    """The product's scorecard and choice for the run, stacks in `order` (first: baseline),
    every stack at the same price per hour."""
    # why here: report.choice imports scipy (SciPy takes seconds to import)
    from workbench.report.choice import recommend
    from workbench.report.scorecard import build_scorecard

    manifest = {"prices": {t: {"per_hour": 1.0} for t in order}}
    card = build_scorecard(questions, records, stacks=order, baseline=order[0],
                           manifest=manifest, semantic=False, resamples=resamples)
    return card, recommend(card, resamples=resamples)


def gate_state(card: Any, choice: Any, margin: str, candidate: str) -> str:
    """The product's gate on one candidate at `margin`: pass, fail or inconclusive (a
    false pass counts only a pass: inconclusive is not one)."""
    # why here: report.constraints imports scipy (SciPy takes seconds to import)
    from workbench.report.constraints import parse_margin
    from workbench.report.gate import run_gate

    return str(run_gate(card, choice, [parse_margin(margin)], [candidate]).state)


def top_set(choice: Any) -> frozenset[str]:
    """The stacks the choice keeps as possibly best (its first group)."""
    return frozenset(r.stack for r in choice.ranked if r.feasible and r.group == 1)


def intervals(card: Any, truths: dict[str, Truth]) -> Iterable[tuple[str, float, float, float]]:
    """(kind, low, high, true value) for every interval on the card whose truth is known."""
    base = truths[card.baseline]
    for c in card.comparisons:
        t = truths[c.candidate]
        ratio = t.speed / base.speed
        truth: float | None = None
        if c.statistic in ("mean", "rate") and c.section == "quality" and c.metric == "f1":
            truth = t.f1 - base.f1
        elif c.statistic in ("mean", "rate") and c.section == "quality" and c.metric in (
                "exact_match", "gold_contained"):
            truth = t.exact - base.exact
        elif c.section == "retrieval" and c.statistic == "mean":
            truth = 0.0 if t.hit == base.hit else None
        elif c.statistic == "rate":
            truth = t.error - base.error
        elif c.statistic == "ratio" and c.rel_ci_low is not None:
            r = 1 / ratio if c.higher_is_better else ratio
            truth = (r - 1.0) * 100.0
            lo, hi = c.rel_ci_low, c.rel_ci_high
        elif c.statistic == "p95" and c.metric == "e2e":
            truth = (t.speed - base.speed) * math.exp(Z95 * _sd())
        if truth is None:
            continue
        if c.statistic != "ratio":
            lo, hi = c.ci_low, c.ci_high
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
            yield f"{c.key} diff", float(lo), float(hi), truth
    for name, s in card.summaries.items():
        t = truths[name]
        known = {"f1": t.f1, "e2e.p50": t.speed, "e2e.p95": t.speed * math.exp(Z95 * _sd())}
        for key, bounds in (s.ci or {}).items():
            if key in known and len(bounds) == 2 and bounds != [None, None]:
                # An open end (None: a p95's upper bound under 72 requests) covers its side.
                low, high = bounds
                yield (f"stack {key}", -math.inf if low is None else float(low),
                       math.inf if high is None else float(high), known[key])


_NUM = r"([+-]?(?:\d+(?:\.\d+)?|inf))"
#: "b vs a: F1 -0.167 [-0.333, +0.000] (98.33% CI, Holm p 0.22), n=12" (Choice.pairs).
_F1_PAIR = re.compile(rf"^(\S+) vs (\S+): F1 {_NUM} \[{_NUM}, {_NUM}\]")
#: In a reason line of stack s: "vs rival: faster: mean E2E -12% [-20%, -3%] (95% CI)".
_E2E = re.compile(rf"vs (\S+): [^:;]+: mean E2E {_NUM}% \[{_NUM}%, {_NUM}%\]")
#: In a reason line of stack s: "cost per answer +3% [-5%, +12%] vs rival (95% CI)".
_COST = re.compile(rf"cost per answer {_NUM}% \[{_NUM}%, {_NUM}%\] vs (\S+)")


#: In a reason line of stack s: "0.21 USD per 1,000 answers [0.19, 0.23]".
_OWN_COST = re.compile(rf"{_NUM} USD per 1,000 answers \[{_NUM}, {_NUM}\]")


def choice_intervals(choice: Any, truths: dict[str, Truth]
                     ) -> Iterable[tuple[str, float, float, float]]:
    """(kind, low, high, true value) for the intervals the choice prints, read from its
    lines as a user reads them: every pair's F1 difference (at its Holm level), and each
    stack's mean E2E and cost per answer against its rival (the true ratio of the means of
    two lognormals of one shape: the speed ratio). Rounded as printed, so the bounds are
    widened by half the last digit."""
    for line in choice.pairs:
        m = _F1_PAIR.match(line)
        if m:
            b, a = truths[m.group(1)], truths[m.group(2)]
            yield ("choice F1 pair", float(m.group(4)) - 5e-4, float(m.group(5)) + 5e-4,
                   b.f1 - a.f1)
    for r in choice.ranked:
        me = truths.get(r.stack)
        for m in _E2E.finditer(r.reason):
            rival = truths.get(m.group(1))
            if me and rival:
                yield ("choice mean E2E ratio", float(m.group(3)) - 0.5,
                       float(m.group(4)) + 0.5, (me.speed / rival.speed - 1) * 100)
        for m in _OWN_COST.finditer(r.reason):
            if me:  # price 1/h over the busy time: every request's E2E, per answer
                mean_e2e = me.speed * math.exp(_sd() ** 2 / 2)
                yield ("choice cost per 1,000 answers", float(m.group(2)) - 0.005,
                       float(m.group(3)) + 0.005, 1000 / 3600 * mean_e2e / (1 - me.error))
        for m in _COST.finditer(r.reason):
            rival = truths.get(m.group(4))
            if me and rival:
                yield ("choice cost per answer", float(m.group(2)) - 0.5,
                       float(m.group(3)) + 0.5, (me.speed / rival.speed - 1) * 100)


def _sd() -> float:
    return math.sqrt(SPREAD**2 + NOISE**2)


@dataclass
class Cell:
    """Counts for one (stacks, n) cell (plain dicts: a worker process sends it back)."""

    runs: dict[str, int] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    cover: dict[str, list[int]] = field(default_factory=dict)
    #: Per kind, (held, intervals) of each scored run: the intervals of one run share its
    #: questions (and its baseline), so the Monte Carlo error is over runs, not intervals.
    clusters: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def count(self, key: str, event: bool) -> None:
        """One more run of `key`, and whether its event happened."""
        self.runs[key] = self.runs.get(key, 0) + 1
        self.hits[key] = self.hits.get(key, 0) + int(event)

    def covered(self, kind: str, inside: bool) -> None:
        """One more interval of `kind`, and whether it held the true value."""
        hit_total = self.cover.setdefault(kind, [0, 0])
        hit_total[0] += int(inside)
        hit_total[1] += 1

    def merge(self, other: Cell) -> None:
        """Add another cell's counts."""
        for k, v in other.runs.items():
            self.runs[k] = self.runs.get(k, 0) + v
        for k, v in other.hits.items():
            self.hits[k] = self.hits.get(k, 0) + v
        for k, (a, b) in other.cover.items():
            hit_total = self.cover.setdefault(k, [0, 0])
            hit_total[0] += a
            hit_total[1] += b
        for k, runs in other.clusters.items():
            self.clusters.setdefault(k, []).extend(runs)

    def rate(self, key: str) -> float:
        """Share of runs where the event happened (nan: none ran)."""
        runs = self.runs.get(key, 0)
        return self.hits.get(key, 0) / runs if runs else math.nan


def coverage_run(k: int, n: int, run: int, resamples: int) -> Cell:
    """Only the intervals (`COVERAGE_ONLY=1`): identical stacks (with retrieved passages
    in the runs where the full table has them), and one truly better stack, each scored
    and chosen once; no gate, no invariance: the intervals of the full table at about a
    quarter of its cost."""
    cell = Cell()
    names = [f"s{i}" for i in range(k)]
    seed = 1_000_003 * k + 10_007 * n + run
    best = int(np.random.default_rng(seed).integers(k))
    partial = float(os.environ.get("PARTIAL_F1", "0"))
    worlds = ([Truth(x, partial=partial) for x in names],
              [Truth(x, correct=0.65 if i == best else 0.5, partial=partial)
               for i, x in enumerate(names)])
    for j, world in enumerate(worlds):
        qs, recs = simulate(world, n, seed + j, sources=j == 0 and (k == 2 or run % 4 == 0))
        card, choice = decide(world, qs, recs, names, resamples)
        _cover(cell, card, choice, {t.name: t for t in world})
    return cell


def one_run(k: int, n: int, run: int, resamples: int) -> Cell:
    """Every scenario once for (k stacks, n questions), seeded by the run number."""
    if os.environ.get("COVERAGE_ONLY") == "1":
        return coverage_run(k, n, run, resamples)
    cell = Cell()
    names = [f"s{i}" for i in range(k)]
    seed = 1_000_003 * k + 10_007 * n + run
    rng = np.random.default_rng(seed)
    # 1. Identical stacks: no winner may be named; the gate may not fail; intervals cover.
    same = [Truth(x) for x in names]
    # Retrieved passages (hit@k, MRR, nDCG lines) in every 4th run (a card with them costs
    # three times as much), in every run with two stacks: one candidate, so every 4th run
    # gave 25 hit@1 intervals a cell, too few to tell 0.88 from 0.95.
    qs, recs = simulate(same, n, seed, sources=k == 2 or run % 4 == 0)
    card, choice = decide(same, qs, recs, names, resamples)
    truths = {t.name: t for t in same}
    cell.count("false winner", choice.chosen is not None)
    _cover(cell, card, choice, truths)
    for metric, margins in MARGINS.items():
        for m in margins:
            states = {gate_state(card, choice, _margin(metric, m), c) for c in names[1:]}
            cell.count(f"false fail {_margin(metric, m)}", "fail" in states)
            cell.count(f"gate passes identical {_margin(metric, m)}", states == {"pass"})
    _invariance(cell, rng, same, qs, recs, names, choice, resamples)
    # 2. One truly better stack (at a random place); the others worse, as fast or faster.
    best = int(rng.integers(k))
    for label, speed in (("false choice", 1.0), ("false choice, worse 30% faster", 0.7)):
        world = [Truth(x, correct=0.65 if i == best else 0.5,
                       speed=1.0 if i == best else speed) for i, x in enumerate(names)]
        qs, recs = simulate(world, n, seed + 1, sources=False)
        card, choice = decide(world, qs, recs, names, resamples)
        cell.count(label, choice.chosen is not None and choice.chosen != names[best])
        if speed == 1.0:
            _cover(cell, card, choice, {t.name: t for t in world})
            _invariance(cell, rng, world, qs, recs, names, choice, resamples)
    # 3. The gate at its margins: the first candidate is exactly the margin worse, on F1
    # and on E2E at once (each margin is judged alone).
    for f1_margin, e2e_margin in zip(*MARGINS.values(), strict=True):
        cand = Truth(names[1], correct=0.5 - f1_margin / 0.99, speed=1.0 + e2e_margin)
        world = [same[0], cand, *same[2:]]
        qs, recs = simulate(world, n, seed + 2, sources=False)
        card, choice = decide(world, qs, recs, names, resamples)
        for metric, m in (("f1", f1_margin), ("e2e", e2e_margin)):
            cell.count(f"false pass {_margin(metric, m)}",
                       gate_state(card, choice, _margin(metric, m), names[1]) == "pass")
    return cell


def _margin(metric: str, m: float) -> str:
    return f"f1={m:g}" if metric == "f1" else f"e2e.p50={m * 100:g}%"


def _cover(cell: Cell, card: Any, choice: Any, truths: dict[str, Truth]) -> None:
    this_run: dict[str, list[int]] = {}
    for kind, lo, hi, truth in [*intervals(card, truths), *choice_intervals(choice, truths)]:
        tol = 1e-9 * max(1.0, abs(truth))
        inside = lo - tol <= truth <= hi + tol
        cell.covered(kind, inside)
        held = this_run.setdefault(kind, [0, 0])
        held[0] += int(inside)
        held[1] += 1
    for kind, (a, b) in this_run.items():
        cell.clusters.setdefault(kind, []).append((a, b))


def _invariance(cell: Cell, rng: np.random.Generator, world: list[Truth],
                qs: list[Question], recs: list[ResponseRecord], names: list[str],
                choice: Any, resamples: int) -> None:
    order = [names[i] for i in rng.permutation(len(names))]
    _, permuted = decide(world, qs, recs, order, resamples)
    cell.count("order changes the choice", (permuted.chosen, top_set(permuted))
               != (choice.chosen, top_set(choice)))
    if len(names) >= 8:
        return  # a run has at most 8 stacks: no room for a copy
    copied = names[int(rng.integers(len(names)))]
    twin = f"{copied}-copy"
    extra = [r.model_copy(update={"stack": twin}) for r in recs if r.stack == copied]
    twin_truth = replace(next(t for t in world if t.name == copied), name=twin)
    _, with_copy = decide([*world, twin_truth], qs, recs + extra, [*names, twin], resamples)
    if choice.chosen == copied:
        broken = with_copy.chosen not in (copied, twin, None)
    else:
        broken = with_copy.chosen != choice.chosen
    cell.count("a copy changes the choice", broken)


ROWS = ("false choice", "false choice, worse 30% faster", "false winner",
        *(f"false fail {_margin(m, x)}" for m, xs in MARGINS.items() for x in xs),
        *(f"false pass {_margin(m, x)}" for m, xs in MARGINS.items() for x in xs),
        *(f"gate passes identical {_margin(m, x)}" for m, xs in MARGINS.items() for x in xs),
        "order changes the choice", "a copy changes the choice")


def table(cells: dict[tuple[int, int], Cell]) -> str:
    """The calibration table: one column per (stacks, n), one row per number."""
    keys = sorted(cells)
    head = "| | " + " | ".join(f"{k} stacks n={n}" for k, n in keys) + " |"
    lines = [head, "|" + "---|" * (len(keys) + 1)]
    for row in ROWS:
        lines.append(f"| {row} | " + " | ".join(_rate(cells[c], row) for c in keys) + " |")
    lines.append("| CI coverage (all intervals) | " + " | ".join(
        _fmt(_pooled(cells[c])) for c in keys) + " |")
    lines.append("| CI coverage (worst kind) | " + " | ".join(
        _worst(cells[c]) for c in keys) + " |")
    runs = [cells[c].runs.get("false winner", 0) for c in keys]
    lines.append(f"\nruns per cell: {', '.join(map(str, runs))}")
    return "\n".join(lines)


def _rate(cell: Cell, key: str) -> str:
    """The rate and its Monte Carlo 95% interval (Wilson, over the runs made)."""
    p, runs = cell.rate(key), cell.runs.get(key, 0)
    if not runs:
        return "-"
    z = 1.96
    mid = (p + z * z / (2 * runs)) / (1 + z * z / runs)
    half = z * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs)) / (1 + z * z / runs)
    return f"{p:.3f} [{max(mid - half, 0.0):.2f}, {min(mid + half, 1.0):.2f}]"


def coverage_table(cells: dict[tuple[int, int], Cell]) -> str:
    """Every interval kind's coverage per cell, with its Monte Carlo 95% interval over the
    runs (a ratio estimate with the runs as clusters: the intervals of one run share its
    questions and baseline and miss together), and (in brackets) the intervals counted."""
    keys = sorted(cells)
    kinds = sorted({kind for c in cells.values() for kind in c.cover})
    lines = ["| coverage | " + " | ".join(f"{k} stacks n={n}" for k, n in keys) + " |",
             "|" + "---|" * (len(keys) + 1)]
    for kind in kinds:
        row = []
        for c in keys:
            total = cells[c].cover.get(kind, [0, 0])[1]
            row.append(f"{_clustered(cells[c].clusters.get(kind, []))} ({total})"
                       if total else "-")
        lines.append(f"| {kind} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def _clustered(runs: list[tuple[int, int]]) -> str:
    """Coverage over runs of (held, intervals) and its 95% Monte Carlo interval: Wilson's
    over an effective count, the intervals divided by the design effect of the runs as
    clusters (the ratio estimator's linearised variance over the binomial one); with no
    miss at all, the runs themselves."""
    held = np.array([a for a, _ in runs], dtype=np.float64)
    total = np.array([b for _, b in runs], dtype=np.float64)
    n, p, k = float(total.sum()), float(held.sum() / total.sum()), held.size
    effective = float(k)
    if 0.0 < p < 1.0 and k > 1:
        var = float(np.sum((held - p * total) ** 2)) * k / (k - 1) / n**2
        effective = n / max(1.0, var / (p * (1 - p) / n))
    hits = round(p * effective)
    probe = Cell(runs={"x": max(round(effective), 1)}, hits={"x": min(hits, round(effective))})
    low_high = _rate(probe, "x").split(" ", 1)[1]
    return f"{p:.3f} {low_high}"


def _fmt(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.3f}"


def _pooled(cell: Cell) -> float:
    hit = sum(a for a, _ in cell.cover.values())
    total = sum(b for _, b in cell.cover.values())
    return hit / total if total else math.nan


def _worst(cell: Cell) -> str:
    """The kind with the lowest coverage (10 intervals at least), with its Monte Carlo 95%
    interval over the runs (`_clustered`) and the intervals counted: the lowest of some
    fifteen kinds is biased low, so the interval says whether it is short of 0.94."""
    rates = [(a / b, kind) for kind, (a, b) in cell.cover.items() if b >= 10]
    if not rates:
        return "-"
    _, kind = min(rates)
    total = cell.cover[kind][1]
    return f"{_clustered(cell.clusters.get(kind, []))} ({kind}, {total})"


def _work(args: tuple[int, int, int, int]) -> tuple[tuple[int, int], Cell]:
    k, n, run, resamples = args
    return (k, n), one_run(k, n, run, resamples)


def interruptible() -> None:
    """Ctrl-C, SIGINT and SIGTERM stop the run and print what finished. A command started
    with `&` from a script inherits SIGINT ignored (and Python then never raises
    KeyboardInterrupt): a run started so could not be stopped with its table."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def _ignore_sigint() -> None:
    # Ctrl-C stops the parent, which cancels what has not started; workers finish theirs.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def calibrate(runs: int, resamples: int, workers: int, sizes: tuple[int, ...] = SIZES,
              stacks: tuple[int, ...] = STACKS,
              only: list[tuple[int, int]] | None = None) -> dict[tuple[int, int], Cell]:
    """Run every cell `runs` times (in `workers` processes); the merged counts. Ctrl-C (or
    SIGINT) stops early and keeps what finished: the table then says how many runs each
    cell got. `only`: these (stacks, n) cells instead of stacks x sizes."""
    keys = only if only else [(k, n) for k in stacks for n in sizes]
    jobs = [(k, n, r, resamples) for r in range(runs) for k, n in keys]
    cells: dict[tuple[int, int], Cell] = {key: Cell() for key in keys}
    done = 0
    try:
        if workers <= 1:
            for job in jobs:
                key, cell = _work(job)
                cells[key].merge(cell)
            return cells
        with ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint) as pool:
            futures = [pool.submit(_work, job) for job in jobs]
            try:
                for future in as_completed(futures):
                    key, cell = future.result()
                    cells[key].merge(cell)
                    done += 1
                    if done % len(cells) == 0:
                        print(f"  {done}/{len(jobs)} cell runs done", file=sys.stderr,
                              flush=True)
            except KeyboardInterrupt:
                for f in futures:
                    f.cancel()
                raise
    except KeyboardInterrupt:
        print("stopped: the table holds the runs that finished", file=sys.stderr)
    return cells


def parse_cells(text: str) -> list[tuple[int, int]]:
    """`CELLS="2x30,4x68"`: the (stacks, questions) cells to run, e.g. to rerun the cells a
    change touches before the whole table."""
    cells = []
    for part in text.replace(" ", "").split(","):
        m = re.fullmatch(r"(\d+)x(\d+)", part)
        if not m or int(m.group(1)) < 2 or int(m.group(2)) < 2:
            raise ValueError(f"CELLS: {part!r} is not STACKSxQUESTIONS (e.g. 2x30, at least "
                             "2 stacks and 2 questions)")
        cells.append((int(m.group(1)), int(m.group(2))))
    return cells


def run(tiny: bool = False) -> None:
    """Print the calibration table (`--tiny`: 2 runs of 2 and 4 stacks at n=30; `CELLS`:
    only some cells, see `parse_cells`)."""
    runs = 2 if tiny else int(os.environ.get("RUNS", "200"))
    resamples = 200 if tiny else int(os.environ.get("RESAMPLES", "500"))
    workers = 1 if tiny else int(os.environ.get("WORKERS", str(os.cpu_count() or 1)))
    sizes, stacks = ((30,), (2, 4)) if tiny else (SIZES, STACKS)
    started = time.perf_counter()
    only = parse_cells(os.environ["CELLS"]) if os.environ.get("CELLS") and not tiny else None
    interruptible()
    cells = calibrate(runs, resamples, workers, sizes, stacks, only)
    print(f"calibration: {runs} simulated runs per cell and scenario, {resamples} bootstrap "
          f"resamples, {workers} worker(s), {time.perf_counter() - started:.0f} s; load "
          f"average {os.getloadavg()[0]:.1f}")
    print(coverage_table(cells) if os.environ.get("COVERAGE_ONLY") == "1" else table(cells))
    print("targets: false choice, false winner <= 0.05; CI coverage >= 0.94 at n >= 30; "
          "no invariance violation")


if __name__ == "__main__":
    run(tiny="--tiny" in sys.argv[1:])
