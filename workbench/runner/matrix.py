"""A matrix file (`stacks/matrix/*.yaml`): the candidates of one choice, the eval set, the
constraints (SLOs, a minimum quality, a maximum error rate) and the prices.

    name: cpu
    evalset: demo-en
    stacks: [llamacpp-cpu, vllm-cpu, llamacpp-cpu-qwen05]   # 2-8; the first is the baseline
    baseline: llamacpp-cpu                                  # optional
    choice:
      slo: ["e2e.p95<=10s"]
      min: ["f1>=0.1"]
      max_error_rate: 0.05
    prices:                                                 # optional, per hour
      vllm-cpu: {per_hour: 0.12, currency: USD}
    judge: {kind: local, model: qwen2.5-1.5b-instruct, sample: 50}   # optional LLM judge
    load: {concurrency: [1, 2, 4, 8]}          # optional: capacity after the quality pass
    # or: load: {rates: [0.5, 1, 2], duration_s: 60}
    target: {rate: 2}                          # optional: the team's peak load (needs load)

Loading is strict, like recipes: an unknown key or a bad constraint is an error naming the
file and the field.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from workbench.report.constraints import ConstraintError, parse_constraint
from workbench.runner.picks import MAX_STACKS, MIN_STACKS
from workbench.stacks.recipe import Cost, RecipeError, read_yaml_mapping, validation_error


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceRules(_Strict):
    """The constraints every candidate must meet to be chosen."""

    slo: list[str] = Field(default_factory=list, description='e.g. ["e2e.p95<=2s"].')
    min: list[str] = Field(default_factory=list, description='e.g. ["f1>=0.3"].')
    max_error_rate: float | None = Field(default=None, ge=0, le=1)
    tie_margin: float | None = Field(
        default=None, gt=0, le=1, description="The F1 a stack chosen for its lower cost or "
        "latency may be shown to lose, at most, to another possibly-best stack (one-sided "
        "bound of its paired F1 drop; default 0.05, see report.choice).")

    @field_validator("slo", "min")
    @classmethod
    def _readable(cls, values: list[str]) -> list[str]:
        for v in values:
            try:
                parse_constraint(v)
            except ConstraintError as exc:
                raise ValueError(str(exc)) from exc
        return values


class JudgeRules(_Strict):
    """The LLM judge that scores the run's answers after it (see `workbench report --judge`)."""

    kind: Literal["local", "url"] = Field(
        default="local", description="local: a packaged model on llama.cpp, started for the "
        "scoring and stopped after; url: an OpenAI-compatible endpoint.")
    model: str | None = Field(default=None, description="local: a registry model "
                              "(default qwen2.5-1.5b-instruct); url: the served name.")
    url: str | None = Field(default=None, description="url: its base URL (.../v1).")
    sample: int = Field(default=50, ge=0, description="Questions judged; 0: every answer.")
    pairwise: bool = Field(default=False, description="Also judge each candidate against "
                           "the baseline in both orders (position bias).")

    @field_validator("model")
    @classmethod
    def _known(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("kind", "local") == "local":
            # why here: scoring.local_judge imports scipy (SciPy takes seconds to import)
            from workbench.scoring.local_judge import check_judge_model

            check_judge_model(value)  # a ValueError: reported with the file and field
        return value


#: Latency metrics a load SLO may name (each request's own value is held to the limit).
LOAD_SLO_METRICS = ("ttft", "tpot", "e2e")


class LoadRules(_Strict):
    """The load block: after the quality pass, each stack alone serves the matrix's RAG
    questions at rising load (closed loop at each `concurrency`, or open-loop Poisson
    arrivals at each of `rates`); capacity = the highest level where the SLOs hold."""

    concurrency: list[int] | None = Field(
        default=None, min_length=1, max_length=12,
        description="Closed-loop levels: requests in flight at once, rising.")
    rates: list[float] | None = Field(
        default=None, min_length=1, max_length=12,
        description="Open-loop levels: Poisson arrivals per second, rising.")
    duration_s: float | None = Field(
        default=None, gt=0, le=600, description="rates: seconds of arrivals per level "
        "(requests = rate x duration, at most max_requests).")
    requests: int | None = Field(
        default=None, ge=1, le=2000, description="Requests per level (default: the run's "
        "questions, at least 2 x concurrency, at most max_requests).")
    max_requests: int = Field(default=200, ge=1, le=2000,
                              description="Upper bound on requests per level.")
    max_level_s: float = Field(default=120.0, gt=0, le=1800,
                               description="Stop sending at a level after this long.")
    max_total_s: float = Field(default=900.0, gt=0, le=7200,
                               description="Stop the whole load pass after this long.")
    warmup: int = Field(default=2, ge=0, le=50, description="Uncounted requests per stack.")
    stop_early: bool = Field(default=True, description="Stop a stack's sweep after a level "
                             "that broke for sure (false: measure every level, e.g. for a "
                             "throughput table; each level stays bounded).")
    timeout_s: float = Field(default=120.0, gt=0, le=1800,
                             description="One request's timeout (a timeout is a failure).")
    slo: list[str] | None = Field(
        default=None, description='Latency SLOs under load, e.g. ["ttft.p95<=2s", '
        '"e2e.p95<=10s"] (default: choice.slo). Judged on the CI bound; failures are misses.')
    max_error_rate: float | None = Field(default=None, ge=0, le=1, description="Default: "
                                         "choice.max_error_rate, else 5%.")
    min_correct_share: float | None = Field(
        default=None, gt=0, le=1, description="Correct goodput must be at least this share "
        "of the offered load (default: 90% of the stack's own accuracy at its lowest level).")

    @field_validator("concurrency")
    @classmethod
    def _rising_ints(cls, values: list[int] | None) -> list[int] | None:
        if values is not None:
            if any(v < 1 or v > 256 for v in values):
                raise ValueError(f"each level must be 1-256, got {values}")
            if any(b <= a for a, b in itertools.pairwise(values)):
                raise ValueError(f"levels must rise, got {values}")
        return values

    @field_validator("rates")
    @classmethod
    def _rising_rates(cls, values: list[float] | None) -> list[float] | None:
        if values is not None:
            if any(not (0 < v <= 1000) for v in values):
                raise ValueError(f"each rate must be > 0 and <= 1000 requests/s, got {values}")
            if any(b <= a for a, b in itertools.pairwise(values)):
                raise ValueError(f"rates must rise, got {values}")
        return values

    @field_validator("slo")
    @classmethod
    def _latency_slos(cls, values: list[str] | None) -> list[str] | None:
        for v in values or []:
            try:
                c = parse_constraint(v)
            except ConstraintError as exc:
                raise ValueError(str(exc)) from exc
            if c.metric not in LOAD_SLO_METRICS or c.op not in ("<=", "<"):
                raise ValueError(f"{v!r}: a load SLO is an upper bound on ttft, tpot or e2e, "
                                 "e.g. e2e.p95<=10s")
        return values

    @property
    def mode(self) -> Literal["concurrency", "rate"]:
        """Closed loop (concurrency levels) or open loop (arrival rates)."""
        return "rate" if self.rates is not None else "concurrency"


class TargetLoad(_Strict):
    """The team's expected peak: a stack that cannot hold it is not chosen."""

    rate: float | None = Field(default=None, gt=0, le=1000, description="Requests/s.")
    concurrency: int | None = Field(default=None, ge=1, le=256,
                                    description="Users asking at once.")


class Matrix(_Strict):
    """The candidates of one choice and how to judge them."""

    name: str
    description: str = ""
    evalset: str = Field(description="Eval set: a shipped name, a folder or a hub id.")
    stacks: list[str] = Field(min_length=MIN_STACKS, max_length=MAX_STACKS,
                              description="Run order.")
    baseline: str | None = None
    limit: int | None = Field(default=None, ge=1)
    schedule: Literal["interleaved", "sequential", "parallel"] = "interleaved"
    concurrency: int = Field(default=1, ge=1, le=256)
    choice: ChoiceRules = ChoiceRules()
    prices: dict[str, Cost] = Field(default_factory=dict)
    judge: JudgeRules | None = None
    load: LoadRules | None = None
    target: TargetLoad | None = None

    def load_slo(self) -> list[str]:
        """The latency SLOs the load pass holds each level to (load.slo, else choice.slo's
        latency ones)."""
        if self.load is not None and self.load.slo is not None:
            return list(self.load.slo)
        return [t for t in self.choice.slo if parse_constraint(t).metric in LOAD_SLO_METRICS]

    def manifest_extra(self) -> dict[str, object]:
        """What the run's manifest records of this matrix."""
        extra: dict[str, object] = {
            "matrix": self.name, "choice": self.choice.model_dump(),
            "prices": {k: v.model_dump() for k, v in self.prices.items()}}
        if self.load is not None:
            extra["load"] = {**self.load.model_dump(), "slo": self.load_slo(),
                             "target": self.target.model_dump() if self.target else None}
        return extra


def load_matrix(path: Path) -> Matrix:
    """Load and validate a matrix file (YAML, loaded safely); errors name file and field."""
    data = read_yaml_mapping(path, "matrix file")
    try:
        matrix = Matrix.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, exc) from exc
    names = matrix.stacks
    if len(set(names)) != len(names):
        raise RecipeError(f"{path}: field stacks: a stack is named more than once")
    if matrix.baseline is not None and matrix.baseline not in names:
        raise RecipeError(f"{path}: field baseline: {matrix.baseline!r} is not in stacks")
    if matrix.judge is not None and matrix.judge.kind == "url" and not (
            matrix.judge.url and matrix.judge.model):
        raise RecipeError(f"{path}: field judge: kind url needs both url and model")
    _check_load(path, matrix)
    for name in matrix.prices:
        if name not in names:
            raise RecipeError(f"{path}: field prices.{name}: not one of the matrix's stacks")
    return matrix


def _check_load(path: Path, matrix: Matrix) -> None:
    """The load block's cross-field rules (errors name the file and field)."""
    load, target = matrix.load, matrix.target
    if target is not None:
        if load is None:
            raise RecipeError(f"{path}: field target: a target load needs a load block "
                              "(e.g. load: {concurrency: [1, 2, 4, 8]})")
        if (target.rate is None) == (target.concurrency is None):
            raise RecipeError(f"{path}: field target: give exactly one of rate (requests/s) "
                              "or concurrency")
        if target.concurrency is not None and load.mode == "rate":
            raise RecipeError(f"{path}: field target.concurrency: the load block sweeps "
                              "rates; give target.rate")
    if load is None:
        return
    if (load.concurrency is None) == (load.rates is None):
        raise RecipeError(f"{path}: field load: give exactly one of concurrency (closed loop, "
                          "e.g. [1, 2, 4, 8]) or rates (open loop, e.g. [0.5, 1, 2])")
    if load.duration_s is not None and load.rates is None:
        raise RecipeError(f"{path}: field load.duration_s: only with load.rates "
                          "(a concurrency level sends load.requests)")
    if not matrix.load_slo():
        raise RecipeError(f"{path}: field load.slo: the load pass needs a latency SLO "
                          "(load.slo, or choice.slo on ttft/tpot/e2e), e.g. e2e.p95<=10s")
