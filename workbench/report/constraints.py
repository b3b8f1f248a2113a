"""Constraints of a choice, in the words a user types: `e2e.p95<=2s`, `f1>=0.3`,
`error_rate<=5%`; and the gate's margins: `f1=0.02`, `e2e.p50=10%`.

A constraint reads a stack's own summary (its mean score, its latency percentile, its error
rate), so every stack is held to the same bar whatever the baseline. It is judged on its
95% interval (`workbench.report.limits`): met, failed, or not known at this sample size, with
the size that would settle it. Failed requests count as slower than any latency limit.
Constraints given on the command line replace the matrix file's per key
(`merge_constraints`), and each says where it came from.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial

from workbench.records.manifest import ManifestLike, RunManifest
from workbench.records.manifest_parts import ChoiceBlock
from workbench.report import limits
from workbench.report.limits import Bound, State
from workbench.report.load import LOAD_METRICS, load_measure, target_constraint
from workbench.report.models import StackSummary
from workbench.report.verdict import format_value

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
}
_CONSTRAINT = re.compile(r"^\s*([a-z_@0-9]+(?:\.[a-z0-9]+)?)\s*(<=|>=|<|>)\s*"
                         r"([0-9]*\.?[0-9]+)\s*(ms|s|%|rps)?\s*$", re.IGNORECASE)
_MARGIN = re.compile(r"^\s*([a-z_@0-9]+(?:\.[a-z0-9]+)?)\s*=\s*([0-9]*\.?[0-9]+)\s*(ms|s|%)?\s*$",
                     re.IGNORECASE)
_STATS = ("mean", "p50", "p90", "p95", "p99")
#: Latency metrics where higher is better: a failed request counts as the lowest value.
_HIGHER_IS_BETTER = frozenset({"tok_s"})
#: Metrics measured on every request (a sample size for them counts requests).
_PER_REQUEST = frozenset({"ttft", "tpot", "itl", "e2e", "tok_s", "error_rate"})
MATRIX_FILE, COMMAND_LINE = "matrix file", "command line"


class ConstraintError(ValueError):
    """A constraint that cannot be read; the message names it and shows the form."""


@dataclass(frozen=True)
class Constraint:
    """One bar every stack must clear, e.g. `e2e.p95 <= 2.0` (seconds)."""

    metric: str
    stat: str | None
    op: str
    value: float
    text: str
    source: str = ""

    @property
    def key(self) -> str:
        """What a command-line constraint replaces: `e2e.p95`, `f1`, `error_rate`."""
        return f"{self.metric}.{self.stat}" if self.stat else self.metric

    @property
    def label(self) -> str:
        """The constraint as a choice lists it: `e2e.p95<=3s (command line)` when it was
        given on the command line, else as the matrix file says it."""
        return f"{self.text} ({self.source})" if self.source == COMMAND_LINE else self.text

    def judge(self, summary: StackSummary) -> Judgement:
        """Met, failed or not known on the 95% interval of the stack's value (shown in
        brackets after the value)."""
        bound, shown, settle = self._bound(summary)
        state = limits.decide(bound, self.op, self.value)
        return Judgement(self, state, bound, shown,
                         settle() if state == limits.UNKNOWN else None)

    def _bound(self, s: StackSummary) -> tuple[Bound, str, Callable[[], int | None]]:
        if self.metric in LOAD_METRICS:
            # Capacity is already judged on CI bounds level by level (report.load): a point.
            v, shown = load_measure(self.metric, s.load)
            return (_none(shown) if v is None else (Bound(v, v, v, 1), shown, lambda: None))
        if self.metric == "error_rate":
            b = limits.rate_bound(s.errors, s.responses)
            return (b, _rate_text("error rate", s.errors, b),
                    lambda: limits.rate_settle_n(b, self.op, self.value))
        if self.metric == "planted_false":
            p = s.faithfulness.planted if s.faithfulness is not None else None
            if p is None or p.rate is None:
                return _none("planted_false: the eval set plants no false passage")
            b = limits.rate_bound(p.repeated, p.answered)
            return (b, _rate_text("planted false answers", p.repeated, b),
                    lambda: limits.rate_settle_n(b, self.op, self.value))
        if self.metric == "faithfulness":
            f = s.faithfulness
            if f is None or not f.judged or f.mean is None:
                return _none("faithfulness: not judged (score the run with --judge local)")
            b = Bound(f.mean, f.ci_low if f.ci_low is not None else -math.inf,
                      f.ci_high if f.ci_high is not None else math.inf, f.judged)
            return (b, f"faithfulness {f.mean:.2f} {_ci(b, '')} (n={f.judged} judged)",
                    lambda: limits.mean_settle_n(b, self.value))
        if self.metric in s.latency:
            return self._latency(s)
        if self.metric in s.quality or self.metric in s.retrieval:
            values = s.values.get(self.metric)
            if values is None:
                return _none(f"{self.metric}: no per-answer values to bound")
            b = limits.mean_bound(values)
            if b.estimate is None:
                return _none(f"{self.metric}: n/a")
            return (b, f"{self.metric} {b.estimate:.3f} {_ci(b, '')} (n={b.n})",
                    lambda: limits.mean_settle_n(b, self.value))
        return _none(f"{self.metric}: not measured")

    def _latency(self, s: StackSummary) -> tuple[Bound, str, Callable[[], int | None]]:
        values = s.values.get(self.metric)
        if values is None:
            return _none(f"{self.metric}: no per-request values to bound")
        stat = self.stat or "p50"
        unit = "tok/s" if self.metric == "tok_s" else "s"
        worst_high = self.metric not in _HIGHER_IS_BETTER
        failed = (f", {s.errors} failed counted as {'slower' if worst_high else 'slowest'}"
                  if s.errors else "")
        if stat == "mean":
            b = limits.mean_bound(values)
            if s.errors and b.estimate is not None:
                # A failed request has no time: the mean over every request is unbounded.
                b = Bound(b.estimate, b.low, math.inf, b.n + s.errors) if worst_high else \
                    Bound(b.estimate, -math.inf, b.high, b.n + s.errors)
            settle: Callable[[], int | None] = (
                (lambda: None) if s.errors else (lambda: limits.mean_settle_n(b, self.value)))
        else:
            q = int(stat[1:]) / 100
            b = limits.quantile_bound(values, q, s.errors, worst_is_high=worst_high)
            settle = partial(limits.quantile_settle_n, values, q, s.errors, self.op,
                             self.value, worst_is_high=worst_high)
        est = "n/a" if b.estimate is None else _value(b.estimate, unit)
        return (b, f"{stat} {self.metric.upper()} {est} {_ci(b, unit)} "
                   f"(n={b.n}{failed})", settle)

    def measure(self, summary: StackSummary) -> tuple[float | None, str]:
        """The stack's value of the constrained metric, and how to show it."""
        if self.metric in LOAD_METRICS:
            return load_measure(self.metric, summary.load)
        if self.metric == "error_rate":
            v = summary.error_rate
            return v, "n/a" if v is None else f"{v:.1%}"
        if self.metric in ("faithfulness", "planted_false"):
            return _faithfulness(self.metric, summary)
        if self.metric in summary.latency:
            lat = summary.latency[self.metric]
            v = getattr(lat, self.stat or "p50")
            unit = "tok/s" if self.metric == "tok_s" else "s"
            return v, f"{self.stat or 'p50'} {self.metric.upper()} {format_value(v, unit)}" + (
                f" (n={lat.n})" if (self.stat or "") in ("p95", "p99") else "")
        for section in (summary.quality, summary.retrieval):
            if self.metric in section:
                v = section[self.metric]
                return v, "n/a" if v is None else f"{self.metric} {v:.3f}"
        return None, f"{self.metric}: not measured"

    def check(self, summary: StackSummary) -> tuple[bool, str]:
        """(the point estimate meets it, what was measured): the old meaning, without the
        interval; a choice uses `judge`."""
        value, shown = self.measure(summary)
        if value is None:
            return False, shown
        return _OPS[self.op](value, self.value), shown


@dataclass(frozen=True)
class Judgement:
    """How one stack stands against one constraint."""

    constraint: Constraint
    state: State
    bound: Bound
    shown: str
    settle_n: int | None = None

    @property
    def met(self) -> bool:
        """Met on the whole interval (a stack is chosen only then)."""
        return self.state == limits.MET

    @property
    def text(self) -> str:
        """`fails e2e.p95<=3s (p95 E2E ...)`, `meets ...`, or `e2e.p95<=3s not known with
        n=68 (...): about 250 requests would settle it`."""
        c = self.constraint
        if self.state == limits.MET:
            return f"meets {c.text} ({self.shown})"
        if self.state == limits.FAILED:
            return f"fails {c.text} ({self.shown})"
        if self.bound.estimate is None:
            return f"{c.text} not known ({self.shown})"
        # Latencies and rates are per request (tok_s included); quality is per answer.
        what = "requests" if c.metric in _PER_REQUEST or c.stat else "answers"
        if self.settle_n is not None:
            settle = f": about {self.settle_n} {what} would settle it"
        elif c.stat == "mean" and math.isinf(self.bound.high - self.bound.low):
            settle = ": failed requests leave the mean unbounded; limit a percentile instead"
        else:
            settle = ": it sits at the limit; no sample size would settle it"
        return f"{c.text} not known with n={self.bound.n} ({self.shown}){settle}"


def _none(shown: str) -> tuple[Bound, str, Callable[[], int | None]]:
    return Bound(None, -math.inf, math.inf, 0), shown, lambda: None


def _value(v: float, unit: str) -> str:
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    return format_value(v, unit) if unit else f"{v:.3f}"


def _ci(b: Bound, unit: str) -> str:
    return f"[{_value(b.low, unit)}, {_value(b.high, unit)}]"


def _rate_text(what: str, k: int, b: Bound) -> str:
    return f"{what} {k}/{b.n} = {b.estimate or 0.0:.1%} [{b.low:.1%}, {b.high:.1%}]"


def _faithfulness(metric: str, summary: StackSummary) -> tuple[float | None, str]:
    # The judge's claim-level score (over its sample), and the share of answers that
    # repeated a planted false passage: both from `report.faithfulness`.
    f = summary.faithfulness
    if metric == "faithfulness":
        if f is None or not f.judged or f.mean is None:
            return None, "faithfulness: not judged (score the run with --judge local)"
        return f.mean, f"faithfulness {f.mean:.2f} (n={f.judged} judged)"
    p = f.planted if f is not None else None
    if p is None or p.rate is None:
        return None, "planted_false: the eval set plants no false passage"
    return p.rate, f"planted false answers {p.repeated}/{p.answered}"


def parse_constraint(text: str) -> Constraint:
    """`e2e.p95<=2s`, `ttft.p50<500ms`, `f1>=0.3`, `error_rate<=5%` -> a Constraint."""
    m = _CONSTRAINT.match(text)
    if m is None:
        raise ConstraintError(f"cannot read constraint {text!r}: use e.g. e2e.p95<=2s, "
                              "ttft.p50<500ms, f1>=0.3, error_rate<=5%")
    name, op, number, unit = m.group(1).lower(), m.group(2), float(m.group(3)), m.group(4)
    metric, _, stat = name.partition(".")
    if stat and stat not in _STATS:
        raise ConstraintError(f"constraint {text!r}: unknown statistic {stat!r}; known: "
                              f"{', '.join(_STATS)}")
    value = number / 1000 if unit == "ms" else number / 100 if unit == "%" else number
    return Constraint(metric, stat or None, op, value, text.strip())


def parse_constraints(texts: Iterable[str]) -> list[Constraint]:
    """Every constraint of comma-separated or repeated options."""
    return [parse_constraint(part) for text in texts for part in text.split(",")
            if part.strip()]


@dataclass(frozen=True)
class Margin:
    """A gate margin: how much worse than the baseline a candidate may be."""

    metric: str
    stat: str | None
    value: float
    relative: bool
    text: str


def parse_margin(text: str) -> Margin:
    """`f1=0.02` (absolute drop), `e2e.p50=10%` (relative rise) -> a Margin."""
    m = _MARGIN.match(text)
    if m is None:
        raise ConstraintError(f"cannot read margin {text!r}: use e.g. f1=0.02 or e2e.p50=10%")
    name, number, unit = m.group(1).lower(), float(m.group(2)), m.group(3)
    metric, _, stat = name.partition(".")
    value = number / 1000 if unit == "ms" else number
    return Margin(metric, stat or None, value, unit == "%", text.strip())


def constraints_from_manifest(manifest: ManifestLike) -> list[Constraint]:
    """The constraints a matrix file recorded with the run (`choice.slo`, `choice.min`,
    `choice.max_error_rate`), each marked as from the matrix file."""
    m = RunManifest.read(manifest)
    choice = m.choice or ChoiceBlock()
    texts = [*(choice.slo or []), *(choice.min or [])]
    if choice.max_error_rate is not None:
        texts.append(f"error_rate<={float(choice.max_error_rate) * 100:g}%")
    if (target := target_constraint(m)) is not None:
        texts.append(target)  # the matrix's target load: a stack must hold it
    return [replace(c, source=MATRIX_FILE) for c in parse_constraints(texts)]


def merge_constraints(from_file: Iterable[Constraint],
                      from_command_line: Iterable[Constraint]) -> list[Constraint]:
    """The constraints applied: the matrix file's, except where the command line names the
    same key (`e2e.p95`, `f1`, `error_rate`), whose command-line value wins; the others
    (an error cap, say) stay."""
    cli = [c if c.source else replace(c, source=COMMAND_LINE) for c in from_command_line]
    given = {c.key for c in cli}
    return [c for c in from_file if c.key not in given] + cli
