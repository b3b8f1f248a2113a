"""A run that is not completed: its progress and each stack's own numbers, labelled
provisional, and no verdict.

No choice, no "better", no "faster" until the run completes: looking at the paired tests as
answers arrive and stopping at the first "significant" difference raises the chance of a
false difference (0.108 instead of 0.05 when looking every 10 questions). Each stack's own
descriptive numbers (answered, failed, mean F1, median E2E) carry no comparison, so they
are shown, marked provisional.
"""

from __future__ import annotations

from workbench.report.models import ScoreCard
from workbench.report.verdict import PRIMARY_QUALITY, format_value

COMPLETED = "completed"
PROVISIONAL_NOTE = ("provisional: the run is not complete, so no stack is chosen or "
                    "compared until it is")
#: The descriptive table's header (the TUI and the web show the same columns).
#: p95 E2E is over the stack's successful answers so far (Answered - Failed).
PROVISIONAL_HEADER = ["Stack", "Answered", "Failed", "F1 (own)", "Median E2E", "p95 E2E"]


def is_complete(status: str | None) -> bool:
    """Only a completed run gets a choice, verdicts and a gate."""
    return status == COMPLETED


def without_outcomes(card: ScoreCard) -> ScoreCard:
    """The card of a run in progress as the views may show it: every question's scores and
    E2E, but no per-question winner or faster stack (`QuestionRow.outcome` and
    `latency_outcome` emptied), so no per-question table or detail can say "better" or
    "faster" before the run is complete."""
    rows = [r.model_copy(update={"outcome": {}, "latency_outcome": {}}) for r in card.rows]
    return card.model_copy(update={"rows": rows})


def has_outcomes(card: ScoreCard) -> bool:
    """Whether the per-question winner and faster columns have anything to show (False for
    a run in progress, see `without_outcomes`)."""
    return any(r.outcome or r.latency_outcome for r in card.rows)


def provisional_rows(card: ScoreCard) -> list[list[str]]:
    """One row per stack (run order): its own numbers, no comparison."""
    rows = []
    for name in card.stacks:
        s = card.summaries[name]
        f1 = s.quality.get(PRIMARY_QUALITY)
        lat = s.latency.get("e2e")
        rows.append([
            card.label(name) + (" (base)" if s.baseline else ""),
            f"{s.responses}/{card.n_questions}",
            str(s.errors),
            "n/a" if f1 is None else f"{f1:.3f}",
            "n/a" if lat is None or lat.p50 is None else format_value(lat.p50, "s"),
            "n/a" if lat is None or lat.p95 is None else format_value(lat.p95, "s"),
        ])
    return rows


def provisional_lines(card: ScoreCard, status: str) -> list[str]:
    """The run's provisional view as plain lines (the CLI's)."""
    lines = [f"run {card.run_id} is {status}: {PROVISIONAL_NOTE}"]
    for row in provisional_rows(card):
        name, answered, failed, f1, p50, p95 = row
        lines.append(f"  {name}: {answered} answered, {failed} failed, F1 {f1} (own mean), "
                     f"median E2E {p50}, p95 E2E {p95} (provisional)")
    return lines


def provisional_markdown(card: ScoreCard, answered: int, planned: int) -> tuple[str, str]:
    """The web's (recommendation, leaderboard) for a run not completed: the note, and each
    stack's own numbers as a Markdown table (no rank, no difference, no ✓)."""
    note = "\n".join([
        f"### Provisional · {answered} of {planned} answers", "",
        f"*{PROVISIONAL_NOTE[0].upper()}{PROVISIONAL_NOTE[1:]}: looking at the differences "
        "as answers arrive and stopping at the first that looks significant inflates false "
        "winners.*"])
    table = ["### Each stack's own numbers (provisional)", "",
             "| " + " | ".join(PROVISIONAL_HEADER) + " |",
             "|" + "---|" * len(PROVISIONAL_HEADER)]
    table += ["| " + " | ".join(row) + " |" for row in provisional_rows(card)]
    return note, "\n".join(table)
