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

Loading is strict, like recipes: an unknown key or a bad constraint is an error naming the
file and the field.
"""

from __future__ import annotations

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
from workbench.stacks.recipe import Cost, RecipeError, read_yaml_mapping, validation_error


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceRules(_Strict):
    """The constraints every candidate must meet to be chosen."""

    slo: list[str] = Field(default_factory=list, description='e.g. ["e2e.p95<=2s"].')
    min: list[str] = Field(default_factory=list, description='e.g. ["f1>=0.3"].')
    max_error_rate: float | None = Field(default=None, ge=0, le=1)

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
            from workbench.scoring.local_judge import check_judge_model

            check_judge_model(value)  # a ValueError: reported with the file and field
        return value


class Matrix(_Strict):
    """The candidates of one choice and how to judge them."""

    name: str
    description: str = ""
    evalset: str = Field(description="Eval set: a shipped name, a folder or a hub id.")
    stacks: list[str] = Field(min_length=2, max_length=8, description="Run order.")
    baseline: str | None = None
    limit: int | None = Field(default=None, ge=1)
    schedule: Literal["interleaved", "sequential", "parallel"] = "interleaved"
    concurrency: int = Field(default=1, ge=1, le=256)
    choice: ChoiceRules = ChoiceRules()
    prices: dict[str, Cost] = Field(default_factory=dict)
    judge: JudgeRules | None = None

    def manifest_extra(self) -> dict[str, object]:
        """What the run's manifest records of this matrix."""
        return {"matrix": self.name, "choice": self.choice.model_dump(),
                "prices": {k: v.model_dump() for k, v in self.prices.items()}}


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
    for name in matrix.prices:
        if name not in names:
            raise RecipeError(f"{path}: field prices.{name}: not one of the matrix's stacks")
    return matrix
