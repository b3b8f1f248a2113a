"""Results tab: a stored run's recommendation first (headline, constraints, one reason per
stack), then the leaderboard (one row per stack), the scorecard's details (exactly the CLI
report's numbers), plots with one series per stack, and a per-question table (one
candidate against the baseline: better/worse/tie/error, paged) whose rows open in detail.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import gradio as gr
import pandas as pd

from workbench.report.models import ScoreCard
from workbench.report.stored import scorecard_for_run
from workbench.web import plots
from workbench.web.common import WebConfig, open_store, status_md, stored_runs
from workbench.web.results_data import (
    FILTERS,
    choice_markdown,
    choice_of,
    detail_markdown,
    filtered,
    leaderboard_markdown,
    page_frame,
    scorecard_markdown,
)


class ResultsView(NamedTuple):
    """What loading a run yields, in the order of the tab's output components."""

    status: str
    choice: str
    leaderboard: str
    report: str
    definitions: str
    e2e_cdf: pd.DataFrame
    ttft_cdf: pd.DataFrame
    scatter: pd.DataFrame
    by_lang: pd.DataFrame
    by_answerable: pd.DataFrame
    hit_k: pd.DataFrame
    candidate: Any
    table: pd.DataFrame
    page_info: str
    page: int
    card: ScoreCard | None
    detail: str


def run_choices(cfg: WebConfig) -> list[tuple[str, str]]:
    """(label, id) of stored runs, newest first (empty without a database; `gr.Error`
    naming the file when it exists but cannot be read)."""
    runs = stored_runs(cfg, limit=200)
    return [(f"{r['id']} · {r['evalset']} · {', '.join(r['stacks'])} · {r['status']}",
             str(r["id"])) for r in runs]


def candidate_choices(card: ScoreCard) -> list[tuple[str, str]]:
    """(label, name) of each candidate, as compared with the baseline."""
    return [(f"{card.label(c)} vs {card.label(card.baseline)}", c) for c in card.candidates]


def _empty(message: str) -> ResultsView:
    blank = pd.DataFrame()
    return ResultsView(message, "", "", "", "", blank, blank, blank, blank, blank, blank,
                       gr.Dropdown(choices=[], value=None), pd.DataFrame(), "", 1, None, "")


def _page_info(n_rows: int, page: int, pages: int) -> str:
    return f"{n_rows} questions · page {page} of {pages}"


Charts = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame,
               pd.DataFrame]


def _no_charts() -> Charts:
    blank = pd.DataFrame()
    return blank, blank, blank, blank, blank, blank


def plot_frames(cfg: WebConfig, card: ScoreCard | None) -> Charts:
    """The six plots' data (E2E CDF, TTFT CDF, TTFT vs E2E, F1 by language, quality by
    answerability, hit@k) for a loaded card."""
    if card is None or card.run_id is None:
        return _no_charts()
    with open_store(cfg) as store:
        lat = plots.latencies(store, card.run_id)
    return (plots.latency_cdf(lat, "e2e_s"), plots.latency_cdf(lat, "ttft_s"),
            plots.ttft_vs_e2e(lat), plots.quality_by(card, "lang"),
            plots.quality_by(card, "answerable"), plots.hit_at_k(card))


def load_results(cfg: WebConfig, run_ref: str | None, *,
                 with_plots: bool = True) -> ResultsView:
    """Score (or fetch the cached card of) a stored run and build the whole tab.

    `with_plots=False` leaves the plots empty: the page draws the report and the table
    first and fills the plots in a second step (`plot_frames`), since drawing six charts
    is most of the browser's time on a large run.
    """
    if not run_ref:
        return _empty(status_md("Pick a run.", "info"))
    try:
        with open_store(cfg) as store:
            run_id = store.resolve_run_id(run_ref)
            card = scorecard_for_run(store, run_id, semantic=cfg.semantic)
            choice = choice_of(store, run_id, card)
    except KeyError as exc:
        return _empty(status_md(str(exc).strip("'\""), "error"))
    except Exception as exc:  # a broken database or scorer: a message, not a traceback
        return _empty(status_md(f"Cannot score run {run_ref}: {type(exc).__name__}: {exc}",
                                "error"))
    report, definitions = scorecard_markdown(card)
    candidate = card.candidates[0]
    rows = filtered(card, candidate, "all")
    frame, page, pages = page_frame(card, candidate, rows, 1)
    charts = plot_frames(cfg, card) if with_plots else _no_charts()
    status = (f"Run {run_id}: {len(card.stacks)} stacks, baseline {card.baseline}, "
              f"{card.n_pairs} questions answered by every stack.")
    return ResultsView(
        status_md(status, "ok"), choice_markdown(card, choice),
        leaderboard_markdown(card, choice), report, definitions, *charts,
        gr.Dropdown(choices=candidate_choices(card), value=candidate), frame,
        _page_info(len(rows), page, pages), page, card, "*Select a question in the table.*",
    )


def table_page(card: ScoreCard | None, candidate: str | None, which: str, search: str,
               page: int) -> tuple[pd.DataFrame, str, int]:
    """The table for a candidate (against the baseline), a filter, a search text and a
    page number."""
    if card is None:
        return pd.DataFrame(), "", 1
    cand = candidate if candidate in card.candidates else card.candidates[0]
    rows = filtered(card, cand, which, search)
    frame, page, pages = page_frame(card, cand, rows, page)
    return frame, _page_info(len(rows), page, pages), page


def detail_for(cfg: WebConfig, card: ScoreCard | None, question_id: str) -> str:
    """The detail panel for one question of the loaded run."""
    if card is None or card.run_id is None:
        return "*Load a run first.*"
    row = next((r for r in card.rows if r.question_id == question_id), None)
    with open_store(cfg) as store:
        q = store.question(card.run_id, question_id)
        recs = store.latest_by_stack(card.run_id, question_id)
    return detail_markdown(card, q, row, recs)


def _plot(kind: Any, title: str, x: str, y: str, **kw: Any) -> Any:
    return kind(x=x, y=y, title=title, height=260, **kw)


def build_results_tab(cfg: WebConfig, tab: gr.Tab | None = None) -> None:
    """The Results tab's components and events (call inside `tab`, refreshed on opening)."""
    with gr.Row():
        run = gr.Dropdown(run_choices(cfg), value=None, label="Run", scale=4,
                          elem_id="results-run")
        refresh = gr.Button("Refresh runs", scale=0)
    status = gr.Markdown(elem_id="results-status")
    choice = gr.Markdown(elem_id="results-choice")
    leaderboard = gr.Markdown(elem_id="results-leaderboard")
    with gr.Accordion("Every comparison against the baseline, latency per stack, wins",
                      open=True):
        report = gr.Markdown(elem_id="results-report")
    with gr.Accordion("Definitions and method", open=False):
        definitions = gr.Markdown()
    with gr.Row():
        e2e_cdf = _plot(gr.LinePlot, "E2E latency CDF", "seconds", "share", color="stack")
        ttft_cdf = _plot(gr.LinePlot, "TTFT CDF", "seconds", "share", color="stack")
        scatter = _plot(gr.ScatterPlot, "TTFT vs E2E per request", "ttft_s", "e2e_s",
                        color="stack")
    with gr.Row():
        by_lang = _plot(gr.BarPlot, "Token F1 by language", "group", "value", color="stack",
                        x_label_angle=-15)
        by_answerable = _plot(gr.BarPlot, "Answerable: token F1 · unanswerable: refusal rate",
                              "group", "value", color="stack", x_label_angle=-15)
        hit_k = _plot(gr.LinePlot, "Hit@k over k (answerable)", "k", "hit_rate", color="stack")
    with gr.Row():
        candidate = gr.Dropdown([], label="Per question: candidate against the baseline",
                                scale=2, elem_id="results-candidate")
        which = gr.Radio(list(FILTERS), value="all", label="Show (by token F1)", scale=3)
        search = gr.Textbox(label="Search question text or id", scale=2)
        prev_btn, next_btn = gr.Button("◀ Prev", scale=0), gr.Button("Next ▶", scale=0)
    page_info = gr.Markdown(elem_id="results-page")
    table = gr.Dataframe(interactive=False, wrap=True, max_height=420,
                         elem_id="results-table")
    detail = gr.Markdown("*Select a question in the table.*", elem_id="results-detail")
    card = gr.State(None)
    page = gr.State(1)
    charts = [e2e_cdf, ttft_cdf, scatter, by_lang, by_answerable, hit_k]
    # The report and the table first, the charts right after (see `load_results`).
    run.change(partial(load_results, cfg, with_plots=False), inputs=[run],
               outputs=[status, choice, leaderboard, report, definitions, *charts, candidate,
                        table, page_info, page, card, detail]
               ).then(partial(plot_frames, cfg), inputs=[card], outputs=charts,
                      show_progress="hidden")
    gr.on([refresh.click, *([tab.select] if tab else [])],
          lambda: gr.Dropdown(choices=run_choices(cfg)), outputs=[run])
    gr.on([candidate.input, which.change, search.submit],
          lambda c, v, w, s: table_page(c, v, w, s, 1),
          inputs=[card, candidate, which, search], outputs=[table, page_info, page])
    for button, delta in ((prev_btn, -1), (next_btn, 1)):
        button.click(partial(_turn, delta), inputs=[card, candidate, which, search, page],
                     outputs=[table, page_info, page])

    # A closure, not a partial: Gradio finds the SelectData parameter by its type hint.
    def on_select(loaded: ScoreCard | None, evt: gr.SelectData) -> str:
        row = evt.row_value or []
        return detail_for(cfg, loaded, str(row[0])) if row else "*Select a question.*"

    table.select(on_select, inputs=[card], outputs=[detail])


def _turn(delta: int, card: ScoreCard | None, candidate: str | None, which: str, search: str,
          page: int) -> tuple[pd.DataFrame, str, int]:
    return table_page(card, candidate, which, search, page + delta)
