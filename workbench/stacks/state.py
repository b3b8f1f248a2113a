"""What the launcher records about running stacks: `<state_dir>/stacks/<name>/state.json`
(PIDs, ports, commands, URLs, start time), `recipe.json` (the effective recipe, real
ports) and `<state_dir>/started.json` (the stacks the last `up` started, in order, the
baseline first: a two-stack run shows them as A and B).

Written atomically (temp file + rename) because `status` may read while `up` writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workbench.settings import Settings
from workbench.stacks.recipe import Stack

STATE_FILE = "state.json"
RECIPE_FILE = "recipe.json"
#: `{"stacks": [name, ...]}`: what the last `up` started, in order, the baseline first; a
#: stopped stack leaves `null` in its place, so the others keep theirs.
STARTED_FILE = "started.json"
#: The same record as earlier versions wrote it (`{"a": name, "b": name}`): read while no
#: started.json exists, removed once one is written.
LEGACY_SIDES_FILE = "sides.json"


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


def save_started(names: Sequence[str | None], settings: Settings) -> None:
    """Record the stacks `up` started, in order (the baseline first; None: stopped since)."""
    _write_atomic(settings.state_dir / STARTED_FILE,
                  json.dumps({"stacks": list(names)}) + "\n")
    with contextlib.suppress(FileNotFoundError):
        (settings.state_dir / LEGACY_SIDES_FILE).unlink()


def load_started(settings: Settings) -> list[str | None]:
    """The stacks the last `up` started, in order, the baseline first (None where one was
    stopped since); empty when none are recorded. Reads an earlier version's sides.json
    (side A, then side B) while no started.json exists."""
    folder = settings.state_dir
    try:
        data = json.loads((folder / STARTED_FILE).read_text(encoding="utf-8"))
        names = data.get("stacks") if isinstance(data, dict) else None
    except (OSError, ValueError):
        try:
            data = json.loads((folder / LEGACY_SIDES_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        names = [data.get("a"), data.get("b")] if isinstance(data, dict) else None
    if not isinstance(names, list):
        return []
    return [n if isinstance(n, str) else None for n in names]


def display_alias(name: str, started: Sequence[str | None]) -> Literal["A", "B"] | None:
    """"A" for the baseline and "B" for the second of the stacks `up` started: the names a
    two-stack run's views and `make ab` use; None for any other stack."""
    if name in started[:2]:
        return "A" if started.index(name) == 0 else "B"
    return None


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
