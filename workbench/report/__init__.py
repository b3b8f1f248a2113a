"""Reports: the scorecard of an A/B run (the one code path for every view's numbers) and
its rendering as rich tables, Markdown and JSON."""

from workbench.report.fairness import fairness_warnings
from workbench.report.models import (
    Comparison,
    Method,
    QuestionRow,
    ScoreCard,
    SideSummary,
    Wins,
)
from workbench.report.render import render_json, render_markdown, render_rich
from workbench.report.scorecard import build_scorecard

__all__ = [
    "Comparison", "Method", "QuestionRow", "ScoreCard", "SideSummary", "Wins",
    "build_scorecard", "fairness_warnings", "render_json", "render_markdown", "render_rich",
]
