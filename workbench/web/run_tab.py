"""Run tab: start an A/B run (eval set, two stacks, schedule, limit), watch it, cancel it,
resume a cancelled one. The run executes in a `RunJob` thread; a `gr.Timer` polls it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import gradio as gr

from workbench.runner.run import SCHEDULES, RunOptions
from workbench.web.common import WebConfig, evalset_names, stack_names, stored_runs
from workbench.web.jobs import RunJob, RunSnapshot

#: How often the page asks a running job for its progress (s).
POLL_S = 1.0


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def render_progress(snap: RunSnapshot | None) -> str:
    """The progress panel: state, done/total, errors and running mean E2E per side."""
    if snap is None:
        return "*No run started in this session.*"
    head = f"**Run** `{snap.run_id or '...'}` - **{snap.state}** ({snap.elapsed_s:.0f} s)"
    rows = ["| side | done / total | errors | mean E2E (ok) |", "|---|---|---|---|"]
    for side in ("A", "B"):
        rows.append(f"| {side} | {snap.done.get(side, 0)} / {snap.total.get(side, 0)} | "
                    f"{snap.errors.get(side, 0)} | {_s(snap.mean_e2e_s.get(side))} |")
    parts = [head, "", *rows]
    if snap.messages:
        parts += ["", *[f"- {m}" for m in snap.messages[-4:]]]
    if snap.error:
        parts += ["", f"✗ {snap.error}"]
    if snap.state == "completed":
        parts += ["", "✓ Completed: open it in the Results tab."]
    if snap.state == "cancelled":
        parts += ["", "Cancelled: answered questions are stored; resume it below."]
    return "\n".join(parts)


def resumable_runs(cfg: WebConfig) -> list[tuple[str, str]]:
    """(label, id) of stored runs that did not complete, newest first."""
    runs = stored_runs(cfg, limit=50)
    return [(f"{r['id']} {r['status']} {r['evalset']} {r['stack_a']} vs {r['stack_b']} "
             f"({r['responses']}/{2 * r['questions']})", str(r["id"]))
            for r in runs if r["status"] != "completed"]


def start_run(cfg: WebConfig, evalset: str, stack_a: str, stack_b: str, schedule: str,
              limit: float | None, job: RunJob | None) -> tuple[str, RunJob | None, Any]:
    """Create and start a run in the background; returns (progress, job, timer)."""
    from workbench.runner.session import create_run

    if job is not None and not job.snapshot().finished:
        return render_progress(job.snapshot()), job, gr.Timer(active=True)
    if not evalset or not stack_a or not stack_b:
        gr.Warning("Pick an eval set and two stacks.")
        return render_progress(None), job, gr.Timer(active=False)
    n = int(limit) if limit else None
    options = RunOptions(schedule=schedule)  # type: ignore[arg-type]  # from SCHEDULES

    def prepare(store: Any) -> Any:
        return create_run(store, evalset, (stack_a, stack_b), limit=n, options=options,
                          settings=cfg.settings)

    new = RunJob(cfg, prepare).start()
    return render_progress(new.snapshot()), new, gr.Timer(active=True)


def resume_run(cfg: WebConfig, run_id: str | None, retry_failed: bool,
               job: RunJob | None) -> tuple[str, RunJob | None, Any]:
    """Resume a stored, unfinished run (`reopen_run` + `execute`) in the background."""
    from workbench.runner.session import reopen_run

    if job is not None and not job.snapshot().finished:
        gr.Warning("A run is still going in this session; cancel it first.")
        return render_progress(job.snapshot()), job, gr.Timer(active=True)
    if not run_id:
        gr.Warning("Pick a run to resume.")
        return render_progress(None), job, gr.Timer(active=False)

    def prepare(store: Any) -> Any:
        return reopen_run(store, run_id, retry_failed=retry_failed, settings=cfg.settings)

    new = RunJob(cfg, prepare).start()
    return render_progress(new.snapshot()), new, gr.Timer(active=True)


def cancel_run(job: RunJob | None) -> str:
    """Ask the running job to stop."""
    if job is None:
        return render_progress(None)
    job.cancel()
    return render_progress(job.snapshot())


def poll(job: RunJob | None) -> tuple[str, Any]:
    """One timer tick: the progress panel; the timer stops once the job is over."""
    if job is None:
        return render_progress(None), gr.Timer(active=False)
    snap = job.snapshot()
    return render_progress(snap), gr.Timer(active=not snap.finished)


def build_run_tab(cfg: WebConfig, tab: gr.Tab | None = None) -> None:
    """The Run tab's components and events (call inside `tab`, refreshed on opening)."""
    stacks, sets = stack_names(cfg), evalset_names(cfg)
    with gr.Row():
        evalset = gr.Dropdown(sets, value=sets[0] if sets else None, label="Eval set",
                              allow_custom_value=True)
        stack_a = gr.Dropdown(stacks, value=stacks[0] if stacks else None, label="Stack A",
                              allow_custom_value=True)
        stack_b = gr.Dropdown(stacks, value=stacks[1] if len(stacks) > 1 else None,
                              label="Stack B", allow_custom_value=True)
        schedule = gr.Dropdown(list(SCHEDULES), value=SCHEDULES[0], label="Schedule",
                               info="interleaved: one stack at a time (fair); parallel: both "
                                    "at once (they disturb each other)")
        limit = gr.Number(value=None, precision=0, minimum=1, label="Limit (questions)")
    with gr.Row():
        start = gr.Button("Start run", variant="primary", elem_id="run-start")
        cancel = gr.Button("Cancel", variant="stop", elem_id="run-cancel")
    progress = gr.Markdown(render_progress(None), elem_id="run-progress")
    with gr.Accordion("Resume a cancelled or failed run", open=False):
        with gr.Row():
            resumable = gr.Dropdown(resumable_runs(cfg), value=None, label="Run", scale=3)
            retry = gr.Checkbox(label="Also retry failed requests")
            refresh = gr.Button("Refresh list", scale=0)
            resume = gr.Button("Resume", variant="primary", scale=0)
    job = gr.State(None)
    timer = gr.Timer(POLL_S, active=False)
    start.click(partial(start_run, cfg),
                inputs=[evalset, stack_a, stack_b, schedule, limit, job],
                outputs=[progress, job, timer])
    resume.click(partial(resume_run, cfg), inputs=[resumable, retry, job],
                 outputs=[progress, job, timer])
    cancel.click(cancel_run, inputs=[job], outputs=[progress])
    timer.tick(poll, inputs=[job], outputs=[progress, timer], show_progress="hidden")
    gr.on([refresh.click, *([tab.select] if tab else [])],
          lambda: gr.Dropdown(choices=resumable_runs(cfg)), outputs=[resumable])
