"""What the launcher records about running stacks: `<state_dir>/stacks/<name>/state.json`
(PIDs, ports, commands, URLs, start time), `recipe.json` (the effective recipe, real
ports) and `<state_dir>/sides.json` (which stack is side A and which is side B).

Written atomically (temp file + rename) because `status` may read while `up` writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from workbench.settings import Settings
from workbench.stacks.recipe import Stack

STATE_FILE = "state.json"
RECIPE_FILE = "recipe.json"
SIDES_FILE = "sides.json"


class ProcessRecord(BaseModel):
    """One process group the launcher started."""

    model_config = ConfigDict(extra="ignore")

    role: str = Field(description="`engine` or `rag`.")
    pid: int = Field(description="Leader of the process group (its pgid).")
    create_time: float = Field(description="psutil create time: guards against pid reuse.")
    argv: list[str] = Field(description="The command as started (no shell).")
    log: str = Field(description="Log file of this process.")


class StackState(BaseModel):
    """The record of one started stack."""

    model_config = ConfigDict(extra="ignore")

    name: str
    engine: str
    launch: str
    model: str | None = None
    rag_port: int
    engine_port: int | None = None
    rag_url: str
    engine_url: str | None = None
    processes: list[ProcessRecord] = Field(default_factory=list)
    commands: list[list[str]] = Field(
        default_factory=list, description="One-shot commands run at start (compose up)."
    )
    with_rag: bool = True
    recipe_source: str | None = Field(default=None, description="The recipe file it came from.")
    started_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())

    def process(self, role: str) -> ProcessRecord | None:
        """The process with this role, if one was started."""
        return next((p for p in self.processes if p.role == role), None)


def stacks_root(settings: Settings) -> Path:
    """`<state_dir>/stacks`."""
    return settings.state_dir / "stacks"


def run_dir(name: str, settings: Settings) -> Path:
    """`<state_dir>/stacks/<name>`: logs, state.json and recipe.json of one stack."""
    return stacks_root(settings) / name


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def save_state(state: StackState, settings: Settings) -> None:
    """Write state.json of a stack."""
    _write_atomic(run_dir(state.name, settings) / STATE_FILE, state.model_dump_json(indent=2))


def load_state(name: str, settings: Settings) -> StackState | None:
    """The recorded state of a stack, or None when it was never started (or was stopped)."""
    path = run_dir(name, settings) / STATE_FILE
    try:
        return StackState.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def clear_state(name: str, settings: Settings) -> None:
    """Forget a stopped stack (its logs stay)."""
    with contextlib.suppress(FileNotFoundError):
        (run_dir(name, settings) / STATE_FILE).unlink()


def recorded_names(settings: Settings) -> list[str]:
    """Names of every stack with a state.json, sorted."""
    root = stacks_root(settings)
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob(f"*/{STATE_FILE}"))


def save_recipe(stack: Stack, settings: Settings) -> Path:
    """Write the effective recipe (real ports) as JSON for the RAG service; return its path."""
    path = run_dir(stack.name, settings) / RECIPE_FILE
    _write_atomic(path, stack.model_dump_json(indent=2))
    return path


def load_recipe_json(name: str, settings: Settings) -> Stack | None:
    """The effective recipe a stack was started with."""
    path = run_dir(name, settings) / RECIPE_FILE
    try:
        stack = Stack.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    # source_path is not serialized; recipe-relative paths (GGUF, compose file) need it.
    state = load_state(name, settings)
    if state is not None and state.recipe_source:
        stack = stack.model_copy(update={"source_path": Path(state.recipe_source)})
    return stack


def save_sides(a: str | None, b: str | None, settings: Settings) -> None:
    """Record which stack is side A and which is side B."""
    _write_atomic(settings.state_dir / SIDES_FILE, json.dumps({"a": a, "b": b}) + "\n")


def load_sides(settings: Settings) -> tuple[str | None, str | None]:
    """(side A, side B) stack names as recorded; (None, None) when none are."""
    try:
        data = json.loads((settings.state_dir / SIDES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    a, b = data.get("a"), data.get("b")
    return (a if isinstance(a, str) else None, b if isinstance(b, str) else None)


@contextlib.contextmanager
def stack_lock(name: str, settings: Settings) -> Iterator[None]:
    """Serialize `up`/`down` of one stack across processes (two terminals, a UI and CI)."""
    folder = run_dir(name, settings)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
