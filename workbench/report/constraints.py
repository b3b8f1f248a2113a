"""Constraints of a choice, in the words a user types: `e2e.p95<=2s`, `f1>=0.3`,
`error_rate<=5%`; and the gate's margins: `f1=0.02`, `e2e.p50=10%`.

A constraint reads a stack's own summary (its mean score, its latency percentile, its error
rate), so every stack is held to the same bar whatever the baseline.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from workbench.report.models import StackSummary
from workbench.report.verdict import format_value

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
}
_CONSTRAINT = re.compile(r"^\s*([a-z_@0-9]+(?:\.[a-z0-9]+)?)\s*(<=|>=|<|>)\s*"
                         r"([0-9]*\.?[0-9]+)\s*(ms|s|%)?\s*$", re.IGNORECASE)
_MARGIN = re.compile(r"^\s*([a-z_@0-9]+(?:\.[a-z0-9]+)?)\s*=\s*([0-9]*\.?[0-9]+)\s*(ms|s|%)?\s*$",
                     re.IGNORECASE)
_STATS = ("mean", "p50", "p90", "p95", "p99")


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

    def measure(self, summary: StackSummary) -> tuple[float | None, str]:
        """The stack's value of the constrained metric, and how to show it."""
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
        """(met, what was measured)."""
        value, shown = self.measure(summary)
        if value is None:
            return False, shown
        return _OPS[self.op](value, self.value), shown


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


def constraints_from_manifest(manifest: dict[str, Any] | None) -> list[Constraint]:
    """The constraints a matrix file recorded with the run (`choice.slo`, `choice.min`,
    `choice.max_error_rate`)."""
    choice = (manifest or {}).get("choice") or {}
    texts = [*choice.get("slo", []), *choice.get("min", [])]
    if choice.get("max_error_rate") is not None:
        texts.append(f"error_rate<={float(choice['max_error_rate']) * 100:g}%")
    return parse_constraints(texts)
