"""History tab: past runs with their manifests, and two runs' key metrics side by side."""

from __future__ import annotations

from functools import partial
from typing import Any

import gradio as gr
import pandas as pd

from workbench.report.models import ScoreCard
from workbench.report.stored import scorecard_for_run
from workbench.report.verdict import format_diff, format_value
from workbench.web.common import WebConfig, esc, open_store, status_md, stored_runs
from workbench.web.results import run_choices

RUN_COLUMNS = ["id", "created (UTC)", "status", "eval set", "A", "B", "answers", "errors"]
#: The comparisons shown when two runs are compared (those a run has).
KEY_METRICS = ("f1", "exact_match", "semantic", "refusal", "hit@5", "mrr", "ttft.p50",
               "e2e.p50", "e2e.p95", "tok_s.p50", "error_rate")


def runs_frame(cfg: WebConfig) -> pd.DataFrame:
    """Every stored run, newest first."""
    runs = stored_runs(cfg, limit=500)
    data = [[r["id"], str(r["created_utc"])[:19], r["status"], r["evalset"], r["stack_a"],
             r["stack_b"], f"{r['responses']}/{2 * r['questions']}", r["errors"]]
            for r in runs]
    return pd.DataFrame(data, columns=RUN_COLUMNS)


def manifest_of(cfg: WebConfig, run_id: str) -> dict[str, Any]:
    """A run's stored row with its manifest (what `workbench runs show` prints)."""
    try:
        with open_store(cfg) as store:
            return store.get_run(store.resolve_run_id(run_id))
    except KeyError as exc:
        return {"error": str(exc).strip("'\"")}


def _cell(card: ScoreCard, key: str) -> str:
    try:
        c = card.comparison(key)
    except KeyError:
        return "-"
    a, b = format_value(c.a, c.unit), format_value(c.b, c.unit)
    if key == "error_rate":
        a, b = (f"{v:.1%}" if v is not None else "n/a" for v in (c.a, c.b))
    return f"A {a} · B {b} · B-A {format_diff(c)}"


def compare_runs(cfg: WebConfig, first: str | None, second: str | None) -> str:
    """Key metrics of two runs' scorecards side by side (Markdown)."""
    if not first or not second:
        return status_md("Pick two runs.", "info")
    cards: list[ScoreCard] = []
    try:
        with open_store(cfg) as store:
            for ref in (first, second):
                cards.append(scorecard_for_run(store, store.resolve_run_id(ref),
                                               semantic=cfg.semantic))
    except Exception as exc:  # unknown id or scoring failure
        return status_md(f"Cannot compare: {str(exc).strip(chr(39))}", "error")
    one, two = cards
    out = [f"| | run {one.run_id} | run {two.run_id} |", "|---|---|---|",
           f"| stacks | {esc(one.stacks.get('A', ''))} vs {esc(one.stacks.get('B', ''))} | "
           f"{esc(two.stacks.get('A', ''))} vs {esc(two.stacks.get('B', ''))} |",
           f"| questions / pairs | {one.n_questions} / {one.n_pairs} | "
           f"{two.n_questions} / {two.n_pairs} |",
           f"| verdict | {esc(one.verdict)} | {esc(two.verdict)} |"]
    keys = [k for k in KEY_METRICS if any(c.key == k for c in one.comparisons + two.comparisons)]
    out += [f"| {k} | {_cell(one, k)} | {_cell(two, k)} |" for k in keys]
    return "\n".join(out)


def build_history_tab(cfg: WebConfig, tab: gr.Tab | None = None) -> None:
    """The History tab's components and events (call inside `tab`, refreshed on opening)."""
    refresh = gr.Button("Refresh", scale=0)
    table = gr.Dataframe(runs_frame(cfg), interactive=False, max_height=320,
                         label="Runs (select one for its manifest)", elem_id="history-runs")
    manifest = gr.JSON(label="Manifest")
    choices = run_choices(cfg)
    with gr.Row():
        first = gr.Dropdown(choices, value=None, label="Run 1")
        second = gr.Dropdown(choices, value=None, label="Run 2")
        compare = gr.Button("Compare", variant="primary", scale=0)
    comparison = gr.Markdown(elem_id="history-compare")

    def _refresh() -> tuple[pd.DataFrame, Any, Any]:
        runs = run_choices(cfg)
        return runs_frame(cfg), gr.Dropdown(choices=runs), gr.Dropdown(choices=runs)

    gr.on([refresh.click, *([tab.select] if tab else [])], _refresh,
          outputs=[table, first, second])

    # A closure, not a partial: Gradio finds the SelectData parameter by its type hint.
    def on_select(evt: gr.SelectData) -> dict[str, Any]:
        row = evt.row_value or []
        return manifest_of(cfg, str(row[0])) if row else {}

    table.select(on_select, outputs=[manifest])
    compare.click(partial(compare_runs, cfg), inputs=[first, second], outputs=[comparison])
