"""The leaderboard: one row per stack in the choice's order, the rows of
`workbench.report.leaderboard` (the same rank and tie mark, cost and capacity texts as the
CLI, the Markdown report and the web page), laid out to the terminal's width.

Every column that fits is shown; on a narrow terminal the least needed ones are left out,
in `DROP_ORDER` (the differences from the baseline first: the comparisons panel, v, and
the reason lines have them), so that eight stacks' rows read at 80 columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

if TYPE_CHECKING:
    from textual.events import Resize

    from workbench.report.choice import Choice
    from workbench.report.leaderboard import Leaderboard, LeaderRow
    from workbench.report.models import ScoreCard

#: Column key -> header. Δ: the candidate's paired difference from the baseline (F1:
#: absolute; E2E: the median of per-question ratios, in %). Capacity and Cost@cap only for a
#: run with a load pass (capacity with ✓/✗ for the target, cost per correct answer there),
#: Faith only for a run with faithfulness.
HEADERS = {"rank": "#", "stack": "Stack", "f1": "F1", "d_f1": "ΔF1", "e2e": "E2E p50",
           "d_e2e": "ΔE2E", "err": "Err", "cost": "Cost", "cap": "Capacity",
           "cap_cost": "Cost@cap", "faith": "Faith"}
#: The columns of a run without a load pass or faithfulness.
COLUMNS = tuple(HEADERS[k] for k in ("rank", "stack", "f1", "d_f1", "e2e", "d_e2e", "err",
                                     "cost"))
#: Which columns go first when the table is wider than the screen (with a load pass the
#: cost at concurrency 1 goes before ΔF1: the cost at capacity is the one the choice needs).
DROP_ORDER = ("d_e2e", "d_f1", "faith", "err")
DROP_ORDER_LOADED = ("d_e2e", "cost", "d_f1", "faith", "err")
TITLE = "Leaderboard · Δ paired vs baseline, ✓ significant"
#: Border and scrollbar: the columns get the widget's width less this.
_FRAME = 3


def _cells(board: Leaderboard, r: LeaderRow, tags: dict[str, str]) -> dict[str, str | Text]:
    style = "bold green" if r.chosen else "red" if not r.feasible else ""
    cells: dict[str, str | Text] = {
        "rank": r.rank_text, "stack": Text(f"{tags.get(r.stack, '?')}: {r.stack}", style=style),
        "f1": r.f1_text, "d_f1": r.delta_f1_short, "e2e": r.e2e_text,
        "d_e2e": r.delta_e2e_short, "err": r.error_text, "cost": r.cost_text}
    if board.has_load:
        cells["cap"] = r.capacity.text if r.capacity else "-"
        cells["cap_cost"] = r.capacity.cost_text if r.capacity else "-"
    if board.has_faithfulness:
        cells["faith"] = r.faithful_short or "-"
    return cells


def fitted_columns(board: Leaderboard, tags: dict[str, str], width: int) -> list[str]:
    """The column keys shown in `width` cells: all of them when they fit, else without the
    first of `DROP_ORDER` (`DROP_ORDER_LOADED` for a run with a load pass) until they do."""
    rows = [_cells(board, r, tags) for r in board.rows]
    keys = [k for k in HEADERS if rows and k in rows[0]] or list(HEADERS)[:8]

    def need(k: str) -> int:  # DataTable pads each cell by one on each side
        return max([cell_len(HEADERS[k]), *[cell_len(str(row[k])) for row in rows]]) + 2

    for drop in DROP_ORDER_LOADED if board.has_load else DROP_ORDER:
        if sum(need(k) for k in keys) <= width:
            break
        if drop in keys:
            keys.remove(drop)
    return keys


def leaderboard_cells(board: Leaderboard, tags: dict[str, str],
                      keys: list[str] | None = None) -> list[tuple[str | Text, ...]]:
    """The rows, in the choice's order, in the columns `keys` (default: every column)."""
    out = []
    for r in board.rows:
        cells = _cells(board, r, tags)
        out.append(tuple(cells[k] for k in (keys or list(cells))))
    return out


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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[Leaderboard, dict[str, str]] | None = None
        self._keys: list[str] = []

    def on_mount(self) -> None:
        """Row cursor: a row is one stack."""
        self.cursor_type = "row"
        self.border_title = TITLE
        for label in COLUMNS:
            self.add_column(label, key=label)

    def show_provisional(self, card: ScoreCard) -> None:
        """A run not completed: each stack's own numbers in run order, no rank, no Δ and no
        ✓ (`report.provisional`: no comparison until the run is complete)."""
        # why here: report.provisional imports scipy (SciPy takes seconds to import)
        from workbench.report.provisional import PROVISIONAL_HEADER, provisional_rows

        self._shown = None
        self.clear(columns=True)
        for label in PROVISIONAL_HEADER:
            self.add_column(label, key=label)
        self.border_title = "Provisional · each stack's own numbers, no comparison"
        self.border_subtitle = "ranked and compared once the run is complete"
        for stack, row in zip(card.stacks, provisional_rows(card), strict=True):
            self.add_row(*row, key=stack)

    def show(self, card: ScoreCard, choice: Choice, tags: dict[str, str]) -> None:
        """Replace the rows and the columns (those that fit the width; Capacity and Cost@cap for a
        run with a load pass, Faith for one with faithfulness)."""
        # why here: report.leaderboard imports scipy (SciPy takes seconds to import)
        from workbench.report.leaderboard import leaderboard

        self._shown = (leaderboard(card, choice), tags)
        self._keys = []
        self._fill()

    def _width(self) -> int:
        return (self.size.width or self.app.size.width) - _FRAME

    def _fill(self) -> None:
        if self._shown is None:
            return
        board, tags = self._shown
        keys = fitted_columns(board, tags, self._width())
        if keys == self._keys:
            return
        self._keys = keys
        self.clear(columns=True)
        for k in keys:
            self.add_column(HEADERS[k], key=k)
        dropped = "d_f1" not in keys or "d_e2e" not in keys
        title = "Leaderboard · ✓ significant" + (" · v: every Δ" if dropped else
                                                  " · Δ vs baseline")
        if board.has_faithfulness:
            title += " · Faith n/m: planted repeated"
        self.border_title = title if dropped or board.has_faithfulness else TITLE
        unit = f" · {board.currency}/1k" if board.currency else ""
        self.border_subtitle = (f"baseline {board.baseline} · {board.n_pairs} pairs{unit} · "
                                f"{board.load_short}")
        for r, row in zip(board.rows, leaderboard_cells(board, tags, keys), strict=True):
            self.add_row(*row, key=r.stack)

    def on_resize(self, event: Resize) -> None:
        """Show the columns that fit the new width."""
        self._fill()
