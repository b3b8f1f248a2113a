"""Run tab: start a run (eval set, 2-8 stacks, the baseline, schedule, limit), watch each
stack's progress, cancel it, resume a cancelled one. The run executes in a `RunJob`
thread; a `gr.Timer` polls it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import gradio as gr

from workbench.runner.picks import MAX_STACKS, MIN_STACKS, stacks_problem
from workbench.runner.run import SCHEDULES, RunOptions
from workbench.runner.session import PreparedRun, create_run, reopen_run
from workbench.store.db import Store
from workbench.store.progress import RunState, StackProgress
from workbench.web.common import WebConfig, evalset_names, stack_names, stored_runs
from workbench.web.jobs import RunJob, RunSnapshot
from workbench.web.live import progress_table

#: How often the page asks a running job for its progress (s).
POLL_S = 1.0
#: The baseline choice meaning "the first stack picked".
FIRST_PICKED = "(the first stack picked)"


#: What each job state means to the person watching.
_STATES = {"starting": "recording the run", "running": "asking", "completed": "completed",
           "cancelled": "cancelled", "failed": "failed"}


def _session_counts(snap: RunSnapshot) -> RunState | None:
    """This session's own counts, when the store could not be read for the run's."""
    if not snap.run_id or not snap.total:
        return None
    stacks = [StackProgress(stack=n, baseline=n == snap.baseline,
                         answered=snap.done.get(n, 0), planned=snap.total.get(n, 0),
                         errors=snap.errors.get(n, 0), last_error=None,
                         error_kinds={"error": snap.errors[n]} if snap.errors.get(n) else {})
              for n in snap.stacks]
    return RunState(run_id=snap.run_id, status=snap.state, evalset="",
                    questions=max(snap.total.values(), default=0), stacks=stacks,
                    last_answer_utc=None)


def render_progress(snap: RunSnapshot | None) -> str:
    """The progress panel: the run, its state and stacks, then per stack the questions
    answered of those planned (the stored run, resumed sessions included), its errors with
    the latest message, and the running mean E2E of this session's successful answers."""
    if snap is None:
        return "*No run started in this session.*"
    state = _STATES.get(snap.state, snap.state)
    if snap.state == "running" and (snap.live is None or snap.live.answered == 0) and not any(
            snap.done.values()):
        # Before the first answer the runner indexes the corpus and warms every stack up.
        state = "preparing: indexing the corpus and warming up every stack"
    head = f"**Run** `{snap.run_id or '...'}` - **{state}** ({snap.elapsed_s:.0f} s)"
    names = [s.stack for s in snap.live.stacks] if snap.live else snap.stacks
    if names:
        head += " · stacks: " + ", ".join(f"{n} (baseline)" if n == snap.baseline else n
                                          for n in names)
    parts = [head]
    live = snap.live or _session_counts(snap)
    if live is not None:
        stored = "stored" if snap.live is not None else "in this session"
        parts += ["", f"{live.answered} of {live.planned} answers {stored} "
                      f"({live.questions} questions x {len(live.stacks)} stacks), "
                      f"{sum(s.errors for s in live.stacks)} failed.", "",
                  *progress_table(live, mean_e2e_s=snap.mean_e2e_s,
                                  last_error=snap.last_error)]
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
    return [(f"{r['id']} {r['status']} {r['evalset']} {', '.join(r['stacks'])} "
             f"({r['responses']}/{len(r['stacks']) * r['questions']})", str(r["id"]))
            for r in runs if r["status"] != "completed"]


def check_picked(stacks: list[str] | None, baseline: str | None) -> str | None:
    """Why the picked stacks cannot make a run (None when they can): the runner's own rule
    (`runner.picks`), the baseline read from the dropdown."""
    base = None if not baseline or baseline == FIRST_PICKED else baseline
    problem = stacks_problem(list(stacks or []), base)
    return None if problem is None else problem[1][0].upper() + problem[1][1:] + "."


def baseline_choices(stacks: list[str] | None, baseline: str | None) -> Any:
    """The baseline dropdown for the picked stacks (keeps the choice while it is picked)."""
    picked = list(stacks or [])
    return gr.Dropdown(choices=[FIRST_PICKED, *picked],
                       value=baseline if baseline in picked else FIRST_PICKED)


def start_run(cfg: WebConfig, evalset: str, stacks: list[str] | None, baseline: str | None,
              schedule: str, limit: float | None,
              job: RunJob | None) -> tuple[str, RunJob | None, Any]:
    """Create and start a run of the picked stacks (in the order picked; the baseline is
    `baseline`, else the first) in the background; returns (progress, job, timer)."""
    if job is not None and not job.snapshot().finished:
        return render_progress(job.snapshot()), job, gr.Timer(active=True)
    problem = "Pick an eval set." if not evalset else check_picked(stacks, baseline)
    if problem:
        gr.Warning(problem)
        return render_progress(None), job, gr.Timer(active=False)
    names = list(stacks or [])
    base = None if not baseline or baseline == FIRST_PICKED else baseline
    n = int(limit) if limit else None
    options = RunOptions(schedule=schedule)  # type: ignore[arg-type]  # from SCHEDULES

    def prepare(store: Store) -> PreparedRun:
        return create_run(store, evalset, names, limit=n, options=options, baseline=base,
                          settings=cfg.settings)

    new = RunJob(cfg, prepare, stacks=names, baseline=base or names[0]).start()
    return render_progress(new.snapshot()), new, gr.Timer(active=True)


def resume_run(cfg: WebConfig, run_id: str | None, retry_failed: bool,
               job: RunJob | None) -> tuple[str, RunJob | None, Any]:
    """Resume a stored, unfinished run (`reopen_run` + `execute`) in the background."""
    if job is not None and not job.snapshot().finished:
        gr.Warning("A run is still going in this session; cancel it first.")
        return render_progress(job.snapshot()), job, gr.Timer(active=True)
    if not run_id:
        gr.Warning("Pick a run to resume.")
        return render_progress(None), job, gr.Timer(active=False)

    def prepare(store: Store) -> PreparedRun:
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
                              allow_custom_value=True, scale=1, elem_id="run-evalset")
        picked = gr.Dropdown(stacks, value=stacks[:2], multiselect=True,
                             max_choices=MAX_STACKS,
                             label=f"Stacks ({MIN_STACKS}-{MAX_STACKS}, in run order)",
                             info="the first picked is the baseline unless you choose one",
                             elem_id="run-stacks", scale=3)
        baseline = gr.Dropdown([FIRST_PICKED, *stacks[:2]], value=FIRST_PICKED, label="Baseline",
                               elem_id="run-baseline", scale=1)
    with gr.Row():
        schedule = gr.Dropdown(list(SCHEDULES), value=SCHEDULES[0], label="Schedule",
                               info="interleaved: one stack at a time, order rotated per "
                                    "question (fair); parallel: all at once (they disturb "
                                    "each other)")
        limit = gr.Number(value=None, precision=0, minimum=1, label="Limit (questions)",
                          elem_id="run-limit")
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
    picked.change(baseline_choices, inputs=[picked, baseline], outputs=[baseline])
    start.click(partial(start_run, cfg),
                inputs=[evalset, picked, baseline, schedule, limit, job],
                outputs=[progress, job, timer])
    resume.click(partial(resume_run, cfg), inputs=[resumable, retry, job],
                 outputs=[progress, job, timer])
    cancel.click(cancel_run, inputs=[job], outputs=[progress])
    timer.tick(poll, inputs=[job], outputs=[progress, timer], show_progress="hidden")
    gr.on([refresh.click, *([tab.select] if tab else [])],
          lambda: gr.Dropdown(choices=resumable_runs(cfg)), outputs=[resumable])
