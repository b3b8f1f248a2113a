"""What every tab of the web UI shares: where the database is, and how errors are shown.

Handlers open their own short-lived `Store` per call: Gradio runs handlers on worker
threads, and one SQLite connection shared by concurrent handlers would serialise them
(or fail on a read inside another thread's write transaction).
"""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from workbench.evalsets.loader import shipped_evalsets
from workbench.settings import Settings, get_settings
from workbench.stacks.recipe import RecipeError, load_stacks
from workbench.store.db import Store, StoreError


@dataclass(frozen=True)
class WebConfig:
    """Immutable configuration every tab is built with (no mutable state lives here)."""

    settings: Settings = field(default_factory=get_settings)
    db: Path | None = None
    #: Semantic similarity loads an embedding model; the CLI report uses it by default,
    #: and the UI must show the same card, so it is on unless a test turns it off.
    semantic: bool = True

    @property
    def db_path(self) -> Path:
        """The results database file the UI reads and writes."""
        return self.db or self.settings.db_path


@contextmanager
def open_store(cfg: WebConfig) -> Iterator[Store]:
    """A store connection for one handler call, closed afterwards."""
    store = Store(cfg.db_path)
    try:
        yield store
    finally:
        store.close()


def stored_runs(cfg: WebConfig, limit: int) -> list[dict[str, Any]]:
    """Stored runs, newest first; none when the database file does not exist yet.

    A file that exists but cannot be read (corrupt, not a database, locked) raises
    `gr.Error` with the store's message, which names the file: a broken database must
    never look like an empty one.
    """
    if not cfg.db_path.exists():
        return []
    try:
        with open_store(cfg) as store:
            return store.list_runs(limit=limit)
    except StoreError as exc:
        raise gr.Error(str(exc)) from exc
    except sqlite3.Error as exc:  # damage found past the header, while reading
        raise gr.Error(f"{cfg.db_path}: cannot read the results database: {exc}") from exc


def status_md(message: str, kind: str = "info") -> str:
    """A one-line status message (Markdown) with an icon saying what kind it is."""
    # Text-style symbols: a browser without an emoji font still draws them.
    icon = {"info": "ℹ", "ok": "✓", "warn": "⚠", "error": "✗"}.get(kind, "")
    return f"{icon} {message}".strip()


def esc(text: str) -> str:
    """Text shown inside Markdown/HTML, escaped so answers cannot inject markup."""
    return html.escape(text, quote=False)


def stack_names(cfg: WebConfig) -> list[str]:
    """Names of the stack recipes in the stacks folder (empty when it cannot be read)."""
    try:
        return sorted(load_stacks(cfg.settings.stacks_dir))
    except (OSError, RecipeError):
        return []


def evalset_names(cfg: WebConfig) -> list[str]:
    """Names of the shipped eval sets."""
    return shipped_evalsets(cfg.settings)
