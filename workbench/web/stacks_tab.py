"""Stacks tab: status and health of each stack, start/stop in a background thread, and
the tail of a stack's logs."""

from __future__ import annotations

from collections import deque
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from workbench.stacks.launcher import down, up
from workbench.stacks.recipe import get_stack
from workbench.stacks.state import run_dir
from workbench.stacks.status import stack_status, status
from workbench.web.common import WebConfig, esc, stack_names, status_md
from workbench.web.jobs import StackJob

STATUS_COLUMNS = ["stack", "A/B", "state", "engine (launch)", "model",
                  "health: engine / RAG", "RAG URL", "RSS MiB"]
#: Shares of the table's width, so every column is on screen at 1024 px (ten columns
#: scrolled the RAG URL and RSS out of sight): a stack's name and the RAG URL get room
#: for the whole text; the model name and the words wrap at hyphens and spaces.
COLUMN_WIDTHS: list[str | int] = ["19%", "4%", "10%", "11%", "16%", "9%", "23%", "8%"]
LOG_LINES = 60


def status_frame(cfg: WebConfig) -> pd.DataFrame:
    """Every recipe, with the live status of those that were started."""
    try:
        live = {s.name: s for s in status(cfg.settings)}
    except Exception:  # unreadable state folder: show recipes only
        live = {}
    data = []
    for name in sorted(set(stack_names(cfg)) | set(live)):
        s = live.get(name)
        if s is None:
            data.append([name, "", "not started", "", "", "", "", ""])
            continue
        data.append([name, s.alias or "", s.state, f"{s.engine} ({s.launch})", s.model or "",
                     f"{s.engine_health} / {s.rag_health}", s.rag_url,
                     f"{sum(s.rss_mib.values()):.0f}" if s.rss_mib else ""])
    return pd.DataFrame(data, columns=STATUS_COLUMNS)


def _log_files(cfg: WebConfig, name: str) -> list[Path]:
    st = stack_status(name, cfg.settings)
    if st is not None and st.logs:
        return [Path(p) for p in st.logs.values()]
    # Stopped stacks keep their logs in their run folder: show the last start's.
    folder = run_dir(name, cfg.settings)
    return sorted(folder.glob("*.log")) if folder.is_dir() else []


def log_tail(cfg: WebConfig, name: str | None, lines: int = LOG_LINES) -> str:
    """The last lines of each of a stack's logs."""
    if not name:
        return ""
    out = []
    try:
        for path in _log_files(cfg, name):
            if path.is_file():
                with path.open(encoding="utf-8", errors="replace") as f:
                    tail = "".join(deque(f, maxlen=lines))
                out.append(f"==> {path} <==\n{tail}")
    except Exception as exc:  # a log being rotated or unreadable
        return f"cannot read logs: {exc}"
    return "\n".join(out) or f"no logs for {name} yet"


def _start(cfg: WebConfig, name: str) -> str:
    running = up(get_stack(name, cfg.settings.stacks_dir), cfg.settings)
    verb = "already running" if running.reused else "started"
    return f"{name} {verb} at {running.rag_url}"


def _stop(cfg: WebConfig, name: str) -> str:
    return f"{name} stopped" if down([name], cfg.settings) else f"{name} was not running"


def launch(cfg: WebConfig, action: str, name: str | None,
           job: StackJob | None) -> tuple[str, StackJob | None, Any]:
    """Start or stop a stack in a background thread; returns (status, job, timer)."""
    if not name:
        return status_md("Pick a stack.", "warn"), job, gr.Timer(active=False)
    if job is not None and job.running:
        return status_md(f"Still busy: {job.label}.", "warn"), job, gr.Timer(active=True)
    fn = partial(_start if action == "start" else _stop, cfg, name)
    new = StackJob(f"{action} {name}", fn).start()
    return status_md(f"{action.title()}ing {esc(name)}...", "info"), new, gr.Timer(active=True)


def poll(cfg: WebConfig, name: str | None,
         job: StackJob | None) -> tuple[str, pd.DataFrame, str, Any]:
    """A timer tick: the job's outcome, the status table and the log tail."""
    if job is None:
        message: Any = gr.skip()
        active = False
    elif job.running:
        message, active = status_md(f"{esc(job.label)}...", "info"), True
    elif job.error:
        message, active = status_md(f"{esc(job.label)} failed: {esc(job.error)}", "error"), False
    else:
        message, active = status_md(esc(job.result or "done"), "ok"), False
    return message, status_frame(cfg), log_tail(cfg, name), gr.Timer(active=active)


def build_stacks_tab(cfg: WebConfig, tab: gr.Tab | None = None) -> None:
    """The Stacks tab's components and events (call inside `tab`, refreshed on opening)."""
    names = stack_names(cfg)
    table = gr.Dataframe(status_frame(cfg), interactive=False, label="Stacks",
                         elem_id="stacks-table", wrap=True, column_widths=COLUMN_WIDTHS)
    with gr.Row():
        name = gr.Dropdown(names, value=names[0] if names else None, label="Stack", scale=3)
        start = gr.Button("Start", variant="primary", scale=0)
        stop = gr.Button("Stop", variant="stop", scale=0)
        refresh = gr.Button("Refresh", scale=0)
    message = gr.Markdown(elem_id="stacks-status")
    logs = gr.Code(label=f"Log tail (last {LOG_LINES} lines)", language=None, lines=16,
                   interactive=False)
    job = gr.State(None)
    timer = gr.Timer(2.0, active=False)
    for button, action in ((start, "start"), (stop, "stop")):
        button.click(partial(launch, cfg, action), inputs=[name, job],
                     outputs=[message, job, timer])
    gr.on([timer.tick, refresh.click, name.change, *([tab.select] if tab else [])],
          partial(poll, cfg), inputs=[name, job],
          outputs=[message, table, logs, timer], show_progress="hidden")
