"""History tab: past runs with their stacks and manifests, and two runs' stacks side by side."""

from __future__ import annotations

from functools import partial
from typing import Any

import gradio as gr
import pandas as pd

from workbench.records.manifest import RunManifest
from workbench.report.host import cross_host_note, host_label
from workbench.report.models import ScoreCard
from workbench.report.stored import scorecard_for_run
from workbench.report.verdict import format_value
from workbench.web.common import WebConfig, esc, open_store, status_md, stored_runs
from workbench.web.results import run_choices

RUN_COLUMNS = ["id", "created (UTC)", "status", "eval set", "host",
               "stacks (baseline first)", "answers", "errors"]
#: Per-stack columns when two runs are compared: (header, where in a StackSummary, unit).
STACK_METRICS = (("F1", "quality", "f1", ""), ("exact match", "quality", "exact_match", ""),
                 ("semantic", "quality", "semantic", ""), ("hit@5", "retrieval", "hit@5", ""),
                 ("MRR", "retrieval", "mrr", ""), ("TTFT p50", "latency", "ttft", "s"),
                 ("E2E p50", "latency", "e2e", "s"), ("E2E p95", "latency", "e2e.p95", "s"))


def stacks_text(stacks: list[str], baseline: str) -> str:
    """A run's stacks, the baseline first and marked, the others in run order."""
    others = [s for s in stacks if s != baseline]
    return ", ".join([f"{baseline} (baseline)", *others]) if baseline else ", ".join(stacks)


def runs_frame(cfg: WebConfig) -> pd.DataFrame:
    """Every stored run, newest first, with its stacks and the host it ran on (runs from
    different hosts differ in that column)."""
    runs = stored_runs(cfg, limit=500)
    data = [[r["id"], str(r["created_utc"])[:19], r["status"], r["evalset"],
             host_label(r.get("host"), r.get("host_cpu"), width=18),
             stacks_text(r["stacks"], r["baseline"]),
             f"{r['responses']}/{len(r['stacks']) * r['questions']}", r["errors"]]
            for r in runs]
    return pd.DataFrame(data, columns=RUN_COLUMNS)


def manifest_of(cfg: WebConfig, run_id: str) -> dict[str, Any]:
    """A run's stored row with its manifest (what `workbench runs show` prints)."""
    try:
        with open_store(cfg) as store:
            return store.get_run(store.resolve_run_id(run_id))
    except KeyError as exc:
        return {"error": str(exc).strip("'\"")}


def stack_cells(card: ScoreCard, stack: str) -> list[str]:
    """One stack's key numbers in a scored run (its own means and percentiles)."""
    s = card.summaries[stack]
    cells = []
    for _, group, key, unit in STACK_METRICS:
        if group == "latency":
            metric, _, stat = key.partition(".")
            lat = s.latency.get(metric)
            value = None if lat is None else getattr(lat, stat or "p50")
        else:
            value = (s.quality if group == "quality" else s.retrieval).get(key)
        cells.append(format_value(value, unit))
    cells.append("n/a" if s.error_rate is None else f"{s.error_rate:.1%}")
    return cells


def compare_runs(cfg: WebConfig, first: str | None, second: str | None) -> str:
    """Two runs' stacks side by side (Markdown): one row per (run, stack) with its key
    numbers, then each run's verdict against its baseline."""
    if not first or not second:
        return status_md("Pick two runs.", "info")
    cards: list[ScoreCard] = []
    manifests: list[RunManifest] = []
    try:
        with open_store(cfg) as store:
            for ref in (first, second):
                run_id = store.resolve_run_id(ref)
                cards.append(scorecard_for_run(store, run_id, semantic=cfg.semantic))
                manifests.append(store.run_manifest(run_id))
    except Exception as exc:  # unknown id or scoring failure
        return status_md(f"Cannot compare: {str(exc).strip(chr(39))}", "error")
    header = ["run", "stack", *[m[0] for m in STACK_METRICS], "error rate"]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, card in enumerate(cards, start=1):
        for stack in card.stacks:
            name = card.label(stack) + (" (baseline)" if stack == card.baseline else "")
            out.append(f"| {i}: {card.run_id} | {esc(name)} | "
                       + " | ".join(stack_cells(card, stack)) + " |")
    out.append("")
    if note := cross_host_note(manifests[0], manifests[1]):
        out += [f"**Hosts:** {esc(note)}", ""]
    for i, card in enumerate(cards, start=1):
        out.append(f"- **run {i}** ({card.n_pairs} questions answered by every stack): "
                   f"{esc(card.verdict)}")
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
