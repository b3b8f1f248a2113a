"""The scorer contract: a `Scorer` turns samples (a question and one stored response) into
one number per sample, or `None` where the metric does not apply.

Scorers work on a whole batch, not one sample at a time, so the expensive ones (sentence
embeddings, an LLM judge) can batch and deduplicate; the cheap ones are written per sample
and wrapped by `per_sample`. Each factory (`exact_match()`, `hit_rate(5)`, `ttft()`, ...)
returns a small scorer whose `metric` says what it measures, so a run composes its list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from workbench.records.evalset import Question
from workbench.records.responses import ResponseRecord

Section = Literal["quality", "retrieval", "latency"]


@dataclass(frozen=True)
class Metric:
    """What a scorer measures, and how to read and compare it."""

    key: str
    """Stable identifier (scorecard keys, JSON)."""
    label: str
    """Short human name for tables."""
    section: Section
    definition: str
    """One sentence stated in the report footer."""
    binary: bool = False
    """Per-sample values are 0/1 (compared with McNemar's test as well)."""
    higher_is_better: bool = True
    unit: str = ""
    """"s" for durations (seconds), "tok/s", or "" for scores in [0, 1]."""


@dataclass(frozen=True)
class Sample:
    """One question and one stack's stored response to it."""

    question: Question
    response: ResponseRecord

    @property
    def ok(self) -> bool:
        """The request succeeded (errors and timeouts count as wrong, never as latency)."""
        return self.response.status == "ok"


class Scorer(Protocol):
    """Scores a batch of samples: one value per sample, `None` where it does not apply."""

    @property
    def metric(self) -> Metric:
        """What this scorer measures."""
        ...

    def __call__(self, samples: Sequence[Sample]) -> list[float | None]:
        """Score every sample, in order."""
        ...


@dataclass(frozen=True)
class PerSampleScorer:
    """A scorer built from a function of one sample (cheap metrics)."""

    metric: Metric
    fn: Callable[[Sample], float | None]

    def __call__(self, samples: Sequence[Sample]) -> list[float | None]:
        """Apply the function to each sample."""
        return [self.fn(s) for s in samples]


def per_sample(metric: Metric, fn: Callable[[Sample], float | None]) -> Scorer:
    """Wrap a per-sample function as a `Scorer`."""
    return PerSampleScorer(metric, fn)
