"""The Results tab's votes block: human votes from the Arena beside the automatic scores.

Each stack's Bradley-Terry rating [95% CI] and wins-ties-losses next to its F1, each pair's
record, and how often the votes agree with F1 and with the LLM judge, all computed by
`workbench.report.votes` (the numbers `workbench report` prints). Mounted under the
leaderboard by `mount_votes_panel`; it follows the loaded card and has its own refresh,
for votes cast in the Arena tab after the run was opened.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import gradio as gr

from workbench.web.common import WebConfig, esc, open_store, status_md

if TYPE_CHECKING:
    from workbench.report.models import ScoreCard
    from workbench.report.votes import VoteSummary


def votes_markdown(summary: VoteSummary, card: ScoreCard) -> str:
    """The votes as Markdown: the ratings table (when any stack was voted on), then the
    counts, each pair's record, the agreement lines and the method."""
    # why here: report.votes imports scipy (SciPy takes seconds to import)
    from workbench.report.votes import VOTES_HEADER, votes_lines, votes_table_rows

    out = ["### Human votes (Arena) beside the automatic scores", ""]
    rows = votes_table_rows(summary, card)
    if rows:
        out += ["| " + " | ".join(VOTES_HEADER) + " |", "|---|" + "---:|" * 4]
        out += ["| " + " | ".join(esc(cell) for cell in row) + " |" for row in rows]
        out.append("")
    lines = votes_lines(summary)
    # The method is the last line: small print under the facts.
    facts, method = (lines[:-1], lines[-1]) if rows else (lines, "")
    out += [f"- {esc(line)}" for line in facts]
    if method:
        out += ["", f"<small>{esc(method)}</small>"]
    return "\n".join(out)


def votes_for_card(cfg: WebConfig, card: ScoreCard | None) -> str:
    """The votes block of a loaded card's run (empty before a run is loaded)."""
    if card is None or card.run_id is None:
        return ""
    # why here: report.votes imports scipy (SciPy takes seconds to import)
    from workbench.report.votes import votes_for_run

    try:
        with open_store(cfg) as store:
            summary = votes_for_run(store, card.run_id, card)
    except Exception as exc:  # a locked or broken store: say so, keep the page
        return status_md(f"Cannot read the votes: {type(exc).__name__}: {exc}", "error")
    return votes_markdown(summary, card)


def mount_votes_panel(cfg: WebConfig, card: gr.State) -> gr.Markdown:
    """The votes block (call inside the Results tab's layout), filled whenever `card`
    changes and on its refresh button; returns its Markdown component."""
    with gr.Group(elem_id="results-votes-panel"):
        block = gr.Markdown(elem_id="results-votes", padding=True)
        refresh = gr.Button("Refresh votes", size="sm", elem_id="results-votes-refresh")
    gr.on([card.change, refresh.click], partial(votes_for_card, cfg), inputs=[card],
          outputs=[block], show_progress="hidden")
    return block
