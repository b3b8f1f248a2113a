"""The leaderboard: one row per stack in the choice's order, with its F1 and median E2E
and their paired comparison with the baseline (✓: significant), error rate and cost.

Narrow on purpose (eight stacks' rows and every column fit 80 columns): the rank is the
row order (a stack the constraints exclude is marked ✗ and listed last), the cost is
short (price per 1,000 answers, currency in the subtitle, else CPU-seconds per answer),
and the CIs are in the comparisons panel (v).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

if TYPE_CHECKING:
    from workbench.report.choice import Choice
    from workbench.report.models import Comparison, ScoreCard, StackSummary

#: Δ: the candidate's paired difference from the baseline (F1: absolute; E2E: the median
#: of per-question ratios, in %).
COLUMNS = ("Stack", "F1", "ΔF1", "E2E p50", "ΔE2E", "Err", "Cost")
TITLE = "Leaderboard · Δ paired vs baseline, ✓ significant"


def _vs(c: Comparison | None, relative: bool) -> str:
    if c is None:
        return "n/a"
    value = c.rel_pct if relative else c.diff
    if value is None:
        return "n/a"
    shown = f"{value:+.0f}%" if relative else f"{value:+.3f}"
    return shown + (" ✓" if c.significant else "")


def cost_cell(s: StackSummary) -> str:
    """A stack's cost in at most 10 characters: "0.052/1k" (its price per 1,000 answers,
    in the currency the subtitle names), else "0.83 CPU-s" per answer, else "-"."""
    c = s.cost
    if c is not None and c.per_1k_answers is not None:
        v = c.per_1k_answers
        return f"{v:.2f}/1k" if v >= 0.1 else f"{v:.3f}/1k"
    if c is not None and c.cpu_s_per_answer is not None:
        return f"{c.cpu_s_per_answer:.2f} CPU-s"
    return "-"


def faithful_cell(s: StackSummary) -> str:
    """A stack's faithfulness in at most 5 characters (80 columns hold no more): the judged
    supported-claim share ("0.82"), else the planted false answers it repeated of its
    answers to planted questions ("3/24"; the table's title says so), else "-"."""
    f = s.faithfulness
    if f is None:
        return "-"
    if f.judged and f.mean is not None:
        return f"{f.mean:.2f}"
    if f.planted is not None:
        return f"{f.planted.repeated}/{f.planted.answered}"
    return "-"


def has_faithfulness(card: ScoreCard) -> bool:
    """Whether the leaderboard shows the faithfulness column (any stack has a score)."""
    return any(s.faithfulness is not None for s in card.summaries.values())


def leaderboard_cells(card: ScoreCard, choice: Choice, tags: dict[str, str]
                      ) -> list[tuple[str | Text, ...]]:
    """The rows, in the choice's order (a last "Faith" cell where the run has one)."""
    from workbench.report.verdict import PRIMARY_LATENCY, PRIMARY_QUALITY, format_value

    faithful = has_faithfulness(card)

    rows: list[tuple[str | Text, ...]] = []
    for r in choice.ranked:
        s = card.summaries[r.stack]
        if s.baseline:
            vs_f1 = vs_e2e = "base"
        else:
            by_key = {c.key: c for c in card.comparisons_of(r.stack)}
            vs_f1 = _vs(by_key.get(PRIMARY_QUALITY), relative=False)
            vs_e2e = _vs(by_key.get(PRIMARY_LATENCY), relative=True)
        e2e = s.latency.get("e2e")
        style = "bold green" if r.stack == choice.chosen else "red" if not r.feasible else ""
        mark = "" if r.feasible else "✗ "
        rows.append((Text(f"{mark}{tags[r.stack]}: {r.stack}", style=style),
                     format_value(s.quality.get(PRIMARY_QUALITY), ""), vs_f1,
                     format_value(e2e.p50 if e2e else None, "s"), vs_e2e,
                     "n/a" if s.error_rate is None else f"{s.error_rate:.1%}",
                     cost_cell(s)) + ((faithful_cell(s),) if faithful else ()))
    return rows


class LeaderboardTable(DataTable[str | Text]):
    """One row per stack (row key = stack name)."""

    DEFAULT_CSS = """
    LeaderboardTable {
        height: auto;
        max-height: 11;
        border: round $primary-muted;
    }
    LeaderboardTable:focus {
        border: round $accent;
    }
    """

    def on_mount(self) -> None:
        """Row cursor: a row is one stack."""
        self.cursor_type = "row"
        self.border_title = TITLE
        for label in COLUMNS:
            self.add_column(label, key=label)

    def show_provisional(self, card: ScoreCard) -> None:
        """A run not completed: each stack's own numbers in run order, no rank, no Δ and no
        ✓ (`report.provisional`: no comparison until the run is complete)."""
        from workbench.report.provisional import PROVISIONAL_HEADER, provisional_rows

        self.clear(columns=True)
        for label in PROVISIONAL_HEADER:
            self.add_column(label, key=label)
        self.border_title = "Provisional · each stack's own numbers, no comparison"
        self.border_subtitle = "ranked and compared once the run is complete"
        for stack, row in zip(card.stacks, provisional_rows(card), strict=True):
            self.add_row(*row, key=stack)

    def show(self, card: ScoreCard, choice: Choice, tags: dict[str, str]) -> None:
        """Replace the rows (and the columns: "Faith" only for a run with faithfulness)."""
        self.clear(columns=True)
        faithful = has_faithfulness(card)
        for label in COLUMNS + (("Faith",) if faithful else ()):
            self.add_column(label, key=label)
        # 80 columns: the longer title leaves out "paired" to name what n/m counts.
        self.border_title = ("Leaderboard · Δ vs baseline, ✓ significant · Faith n/m: planted "
                             "repeated") if faithful else TITLE
        currencies = {s.cost.currency for s in card.summaries.values()
                      if s.cost is not None and s.cost.per_1k_answers is not None}
        priced = f" · cost: {', '.join(sorted(currencies))} per 1k answers" if currencies else ""
        self.border_subtitle = f"baseline {card.baseline} · {card.n_pairs} pairs{priced}"
        for stack, row in zip([r.stack for r in choice.ranked],
                              leaderboard_cells(card, choice, tags), strict=True):
            self.add_row(*row, key=stack)
