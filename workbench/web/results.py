"""Results tab: a stored run's decision first (the recommendation, then the quality-latency
Pareto chart, then the leaderboard), then the scorecard's details (exactly the CLI
report's numbers), plots with one colour per stack, and a per-question table (one
candidate against the baseline: better/worse/tie/error, paged) whose rows open in detail.

The tab opens on the run named in the URL (`?run=ID`), else the latest completed run. A
run still in progress shows its stacks, each stack's answered / planned and its errors,
refreshed until it ends, and each stack's own numbers marked provisional: no
recommendation, no comparison until it ends, then its results.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from workbench.report.constraints import Constraint, constraints_from_manifest
from workbench.report.decision import decide_run
from workbench.report.models import ScoreCard
from workbench.report.provisional import provisional_markdown
from workbench.store.db import Store
from workbench.store.progress import run_state
from workbench.web import charts, plots
from workbench.web.common import WebConfig, open_store, status_md, stored_runs
from workbench.web.live import live_header
from workbench.web.pareto_chart import BUBBLE_CHOICES, LATENCY_CHOICES, pareto_figure
from workbench.web.pareto_chart import TITLE as PARETO_TITLE
from workbench.web.results_data import (
    FILTERS,
    choice_markdown,
    detail_markdown,
    filtered,
    leaderboard_markdown,
    page_frame,
    scorecard_markdown,
)
from workbench.web.votes_panel import mount_votes_panel

#: How often the header of a run in progress is refreshed (s).
LIVE_POLL_S = 2.0
#: The six detail charts: (elem_id, title).
CHARTS = (("results-e2e-cdf", "E2E latency CDF"), ("results-ttft-cdf", "TTFT CDF"),
          ("results-scatter", "TTFT vs E2E per request"),
          ("results-by-lang", "Token F1 by language"),
          ("results-by-answerable", "Answerable F1 · unanswerable refusal rate"),
          ("results-hit-k", "Hit@k (answerable questions)"))


class ResultsView(NamedTuple):
    """What loading a run yields: the texts, the Pareto chart, the plots' data, the table."""

    status: str
    choice: str
    pareto: go.Figure
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
    #: The run has not ended: its header is refreshed.
    live: bool = False
    #: The outcome filter: hidden until the run is complete ("candidate better" is a
    #: verdict, and there is none mid-run).
    filters: Any = None


def run_choices(cfg: WebConfig) -> list[tuple[str, str]]:
    """(label, id) of stored runs, newest first (empty without a database; `gr.Error`
    naming the file when it exists but cannot be read)."""
    runs = stored_runs(cfg, limit=200)
    return [(f"{r['id']} · {r['evalset']} · {', '.join(r['stacks'])} · {r['status']}",
             str(r["id"])) for r in runs]


def initial_run(cfg: WebConfig, requested: str | None) -> str | None:
    """The run the tab opens on: the one requested (an id or a unique prefix), else the
    latest completed run, else the latest run; None without runs."""
    runs = stored_runs(cfg, limit=200)
    if requested:
        try:
            with open_store(cfg) as store:
                return store.resolve_run_id(requested)
        except KeyError:
            pass  # an unknown id in the URL: open the latest instead (the status says so)
    done = [r for r in runs if r["status"] == "completed"]
    chosen = done[0] if done else (runs[0] if runs else None)
    return str(chosen["id"]) if chosen else None


def candidate_choices(card: ScoreCard) -> list[tuple[str, str]]:
    """(label, name) of each candidate, as compared with the baseline."""
    return [(f"{card.label(c)} vs {card.label(card.baseline)}", c) for c in card.candidates]


def _empty(message: str, *, live: bool = False) -> ResultsView:
    blank = pd.DataFrame()
    return ResultsView(message, "", pareto_figure(None), "", "", "", blank, blank, blank,
                       blank, blank, blank, gr.Dropdown(choices=[], value=None),
                       pd.DataFrame(), "", 1, None, "", live)


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


def plot_figures(cfg: WebConfig, card: ScoreCard | None) -> tuple[go.Figure, ...]:
    """The six detail charts for a loaded card (titled empty frames without one)."""
    if card is None:
        return tuple(charts.empty_figure(title, "Pick a run") for _, title in CHARTS)
    e2e, ttft, scatter, by_lang, by_ans, hits = plot_frames(cfg, card)
    s = card.stacks
    return (charts.cdf_figure(e2e, s, CHARTS[0][1], "E2E"),
            charts.cdf_figure(ttft, s, CHARTS[1][1], "TTFT"),
            charts.scatter_figure(scatter, s),
            charts.bars_figure(by_lang, s, CHARTS[3][1], "token F1 (mean)"),
            charts.bars_figure(by_ans, s, CHARTS[4][1], "F1 · refusal rate"),
            charts.hit_at_k_figure(hits, s))


def load_results(cfg: WebConfig, run_ref: str | None, *, with_plots: bool = True,
                 latency: str = "median", bubble: str = "throughput") -> ResultsView:
    """Score (or fetch the cached card of) a stored run and build the whole tab.

    `with_plots=False` leaves the plots' data empty: the page draws the decision, the
    report and the table first and the six charts in a second step (`plot_figures`).
    A run that has not completed leads with its live progress (`live_header`); one with
    no answer yet shows only that.
    """
    if not run_ref:
        return _empty(status_md("No run stored yet: start one in the Run tab.", "info"))
    try:
        with open_store(cfg) as store:
            run_id = store.resolve_run_id(run_ref)
            run = store.get_run(run_id)
            # Progress only for a run that has not completed (0.1 s on 5,000 x 2 answers).
            live = run_state(store, run_id) if run["status"] != "completed" else None
            if live is not None and live.answered == 0:
                return _empty(live_header(live), live=live.status == "running")
            decided = decide_run(store, run_id, semantic=cfg.semantic, votes=False)
            card, limits = decided.card, decided.constraints
            choice = decided.choice if live is None else None
    except KeyError as exc:
        return _empty(status_md(str(exc).strip("'\""), "error"))
    except Exception as exc:  # a broken database or scorer: a message, not a traceback
        return _empty(status_md(f"Cannot score run {run_ref}: {type(exc).__name__}: {exc}",
                                "error"))
    report, definitions = scorecard_markdown(card)
    candidate = card.candidates[0]
    rows = filtered(card, candidate, "all")
    frame, page, pages = page_frame(card, candidate, rows, 1)
    data = plot_frames(cfg, card) if with_plots else _no_charts()
    if live is None:
        status = status_md(f"Run {run_id}: {len(card.stacks)} stacks, baseline "
                           f"{card.baseline}, {card.n_pairs} questions answered by every "
                           "stack.", "ok")
    else:
        status = live_header(live) + "\n\n" + status_md(
            "The numbers below are of the answers stored so far.", "warn")
    if choice is not None:
        figure = pareto_figure(card, LATENCY_CHOICES.get(latency, "median"),
                               BUBBLE_CHOICES.get(bubble, "throughput"), limits)
        decision, board = choice_markdown(card, choice), leaderboard_markdown(card, choice)
    else:
        # No choice, no "better" or "faster" mid-run (report.provisional): each stack's own
        # numbers; the Pareto front and the paired comparisons wait for the end.
        figure = charts.empty_figure(PARETO_TITLE, "Drawn when the run is complete: no "
                                     "comparison while it runs")
        figure.update_layout(height=220)
        answered, planned = (live.answered, live.planned) if live else (0, 0)
        decision, board = provisional_markdown(card, answered, planned)
        report = ("*The paired comparisons (differences, intervals, verdicts) appear when "
                  "the run is complete.*")
    complete = live is None
    return ResultsView(
        status, decision, figure, board,
        report, definitions, *data,
        gr.Dropdown(choices=candidate_choices(card), value=candidate, visible=complete),
        frame, _page_info(len(rows), page, pages), page, card,
        "*Select a question in the table.*", live is not None and live.status == "running",
        gr.Radio(choices=list(FILTERS), value="all", visible=complete),
    )


def constraints_of(cfg: WebConfig, card: ScoreCard | None) -> list[Constraint]:
    """The constraints stored with a loaded run (none when they cannot be read)."""
    if card is None or card.run_id is None:
        return []
    try:
        with open_store(cfg) as store:
            return constraints_from_manifest(store.run_manifest(card.run_id))
    except Exception:  # the chart still draws, without the lines
        return []


def decision_chart(cfg: WebConfig, card: ScoreCard | None, latency: str,
                   bubble: str) -> go.Figure:
    """The Pareto chart for the radios' latency and bubble choices."""
    return pareto_figure(card, LATENCY_CHOICES.get(latency, "median"),
                         BUBBLE_CHOICES.get(bubble, "throughput"), constraints_of(cfg, card))


def live_tick(cfg: WebConfig, run_ref: str | None) -> tuple[str, Any, bool]:
    """One refresh of a run in progress: (its header, the timer, whether it just ended)."""
    if not run_ref:
        return "", gr.Timer(active=False), False
    try:
        # Read-only: polling must not queue behind the runner's writes.
        with Store(cfg.db_path, readonly=True) as store:
            live = run_state(store, store.resolve_run_id(run_ref))
    except Exception as exc:  # a vanished or locked store: say so and stop polling
        return status_md(f"Cannot read run {run_ref}: {exc}", "error"), gr.Timer(
            active=False), False
    running = live.status == "running"
    return live_header(live), gr.Timer(active=running), not running


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


def _outputs(view: ResultsView) -> tuple[Any, ...]:
    """The view in the order of the tab's first-step outputs (charts come second)."""
    return (view.status, view.choice, view.pareto, view.leaderboard, view.report,
            view.definitions, view.candidate, view.table, view.page_info, view.page,
            view.card, view.detail, gr.Timer(active=view.live),
            view.filters if view.filters is not None else gr.Radio(visible=True))


def show_run(cfg: WebConfig, run_ref: str | None, latency: str,
             bubble: str) -> tuple[Any, ...]:
    """Load a run for the page: everything but the six detail charts."""
    return _outputs(load_results(cfg, run_ref, with_plots=False, latency=latency,
                                 bubble=bubble))


def _plot(elem_id: str) -> gr.Plot:
    # The figure carries its own title (one that fits); Gradio's label would add a second.
    return gr.Plot(show_label=False, elem_id=elem_id, min_width=400)


def build_results_tab(cfg: WebConfig, tab: gr.Tab | None = None) -> None:
    """The Results tab's components and events (call inside `tab`, refreshed on opening)."""
    with gr.Row():
        run = gr.Dropdown(run_choices(cfg), value=None, label="Run", scale=4,
                          elem_id="results-run")
        refresh = gr.Button("Refresh runs", scale=0)
    status = gr.Markdown(elem_id="results-status")
    choice = gr.Markdown(elem_id="results-choice")
    pareto = gr.Plot(show_label=False, elem_id="results-pareto")
    # Under the chart, so the chart itself follows the recommendation at once.
    with gr.Row(equal_height=False):
        latency = gr.Radio(list(LATENCY_CHOICES), value="median E2E", label="Horizontal axis",
                           elem_id="results-latency", scale=1)
        bubble = gr.Radio(list(BUBBLE_CHOICES), value="throughput", label="Bubble size",
                          elem_id="results-bubble", scale=1)
    leaderboard = gr.Markdown(elem_id="results-leaderboard")
    card = gr.State(None)
    mount_votes_panel(cfg, card)  # votes beside the automatic scores (web/votes_panel.py)
    with gr.Accordion("Every comparison against the baseline, latency per stack, wins",
                      open=True):
        report = gr.Markdown(elem_id="results-report")
    with gr.Accordion("Definitions and method", open=False):
        definitions = gr.Markdown()
    figures: list[gr.Plot] = []
    # Two charts a row: three were 380 px wide at 1400 px and unreadable at 1024.
    for start in range(0, len(CHARTS), 2):
        with gr.Row(equal_height=False):
            figures += [_plot(elem_id) for elem_id, _ in CHARTS[start:start + 2]]
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
    page = gr.State(1)
    ended = gr.State(False)
    timer = gr.Timer(LIVE_POLL_S, active=False)
    outputs = [status, choice, pareto, leaderboard, report, definitions, candidate, table,
               page_info, page, card, detail, timer, which]
    # The decision, the report and the table first, the six charts right after.
    run.change(partial(show_run, cfg), inputs=[run, latency, bubble], outputs=outputs
               ).then(partial(plot_figures, cfg), inputs=[card], outputs=figures,
                      show_progress="hidden")
    gr.on([latency.change, bubble.change], partial(decision_chart, cfg),
          inputs=[card, latency, bubble], outputs=[pareto], show_progress="hidden")

    # Opening the page: the run in the URL (?run=ID), else the latest completed one.
    def opened(request: gr.Request) -> Any:
        wanted = request.query_params.get("run") if request is not None else None
        return gr.Dropdown(choices=run_choices(cfg), value=initial_run(cfg, wanted))

    gr.on(None, opened, inputs=None, outputs=[run])
    gr.on([refresh.click, *([tab.select] if tab else [])],
          lambda: gr.Dropdown(choices=run_choices(cfg)), outputs=[run])
    # A run in progress: its header every LIVE_POLL_S, then its results once it ends.
    timer.tick(partial(live_tick, cfg), inputs=[run], outputs=[status, timer, ended],
               show_progress="hidden"
               ).then(lambda done, r, lat, b: show_run(cfg, r, lat, b) if done
                      else tuple(gr.skip() for _ in outputs),
                      inputs=[ended, run, latency, bubble], outputs=outputs,
                      show_progress="hidden"
               ).then(lambda done, c: plot_figures(cfg, c) if done
                      else tuple(gr.skip() for _ in figures),
                      inputs=[ended, card], outputs=figures, show_progress="hidden")
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
