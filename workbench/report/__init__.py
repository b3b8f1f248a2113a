"""Reports: the scorecard of a run of 2-8 stacks (the one code path for every view's
numbers), the choice it leads to, and their rendering as rich tables, Markdown and JSON."""

from workbench.report.choice import Choice, Ranked, recommend
from workbench.report.constraints import parse_constraints
from workbench.report.fairness import fairness_warnings
from workbench.report.models import (
    Comparison,
    Method,
    QuestionRow,
    ScoreCard,
    StackSummary,
    Wins,
)
from workbench.report.render import render_json, render_markdown, render_rich
from workbench.report.scorecard import build_scorecard

__all__ = [
    "Choice",
    "Comparison",
    "Method",
    "QuestionRow",
    "Ranked",
    "ScoreCard",
    "StackSummary",
    "Wins",
    "build_scorecard",
    "fairness_warnings",
    "parse_constraints",
    "recommend",
    "render_json",
    "render_markdown",
    "render_rich",
]
