"""The Gradio Blocks app: one tab per concern (Arena, Run, Results, History, Stacks, Review).

`launch_app` refuses a non-loopback host without a login (the UI can start processes and
write the database), never asks for a public share link, and turns Gradio's analytics off
so the page never reaches out to the internet.
"""

from __future__ import annotations

import os

#: Before gradio is imported: its analytics and version check would call home.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from workbench.rag.auth import is_loopback  # one rule for every server we bind
from workbench.web.arena import build_arena_tab
from workbench.web.common import WebConfig
from workbench.web.history import build_history_tab
from workbench.web.results import build_results_tab
from workbench.web.review_tab import build_review_tab
from workbench.web.run_tab import build_run_tab
from workbench.web.stacks_tab import build_stacks_tab

TITLE = "RAG A/B workbench"
#: System fonts only: a Google font would make every page load fetch from the internet.
_FONT = ("ui-sans-serif", "system-ui", "sans-serif")
_MONO = ("ui-monospace", "monospace")
#: The leaderboard: a stack's name never breaks (Chromium broke "llamacpp-cpu-qwen05"
#: every four letters at 1400 px), numbers never break inside a cell, the differences wrap
#: only at the space before their interval; a table wider than the page scrolls, never cut.
_CSS = ("#results-leaderboard td {white-space: nowrap; word-break: normal; "
        "overflow-wrap: normal; padding: 6px} "
        "#results-leaderboard th {word-break: normal; overflow-wrap: normal; padding: 6px} "
        "#results-leaderboard td small {white-space: normal} "
        "#results-leaderboard td:nth-child(4), #results-leaderboard td:nth-child(6) "
        "{white-space: normal} #results-leaderboard .prose {overflow-x: auto} "
        # The per-question table's headers wrap only between words (at 1024 px Chromium
        # broke "ques/tion id", "lan/g" and "answ/erab/le").
        "#results-table th, #results-table th * {word-break: normal; overflow-wrap: normal}")


class AuthRequiredError(ValueError):
    """A non-loopback host was asked for without a username and password."""


def check_auth(host: str, user: str | None, password: str | None) -> tuple[str, str] | None:
    """The (user, password) pair to require, or None; raises when one is needed but absent."""
    if bool(user) != bool(password):
        raise AuthRequiredError("give both a username and a password (or neither)")
    if user and password:
        return user, password
    if not is_loopback(host):
        raise AuthRequiredError(
            f"binding {host} exposes the workbench to the network: set --auth-user and "
            "--auth-password (or WORKBENCH_WEB_USER and WORKBENCH_WEB_PASSWORD)"
        )
    return None


def build_app(cfg: WebConfig | None = None) -> gr.Blocks:
    """The whole UI; every tab reads and writes the store `cfg` names."""
    cfg = cfg or WebConfig()
    demo: gr.Blocks
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"## {TITLE} · results in `{cfg.db_path}`")
        with gr.Tabs():
            with gr.Tab("Arena", id="arena"):
                build_arena_tab(cfg)
            # Tabs that list stored runs or live stacks refresh when they are opened.
            with gr.Tab("Run", id="run") as tab:
                build_run_tab(cfg, tab)
            with gr.Tab("Results", id="results") as tab:
                build_results_tab(cfg, tab)
            with gr.Tab("History", id="history") as tab:
                build_history_tab(cfg, tab)
            with gr.Tab("Stacks", id="stacks") as tab:
                build_stacks_tab(cfg, tab)
            with gr.Tab("Review", id="review") as tab:
                build_review_tab(cfg, tab)
    return demo


def launch_app(demo: gr.Blocks, *, host: str = "127.0.0.1", port: int = 7860,
               auth: tuple[str, str] | None = None, block: bool = True) -> None:
    """Serve the app (no share link, no SSR node server); blocks unless `block=False`."""
    demo.queue(default_concurrency_limit=8)
    demo.launch(
        server_name=host, server_port=port, share=False, auth=auth, ssr_mode=False,
        prevent_thread_lock=not block, show_error=False, quiet=not block,
        theme=gr.themes.Default(font=list(_FONT), font_mono=list(_MONO)), css=_CSS,
        footer_links=[],
    )
