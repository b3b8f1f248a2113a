"""The local judge: a packaged model from the registry served by llama.cpp on loopback for
the length of one scoring, then stopped (`workbench report --judge local`, or a matrix
file's `judge: {kind: local}`).

Qwen2.5-Coder-1.5B-Instruct is the default (about 10 tok/s decode and 35 tok/s prompt on
two cores here, so the judge samples and caches); the 0.5B is faster and weaker; SmolLM2
runs in tests. The model file is fetched and verified on first use (`stacks.fetch`), and its
sha256 is the judge's identity in the verdict cache and the manifest.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.scoring.judge import DEFAULT_SAMPLE, DEFAULT_SEED, Judge, VerdictCache
from workbench.stacks.engines.llamacpp import local_llama_server
from workbench.stacks.process import free_port
from workbench.stacks.registry import REGISTRY_PREFIX, UnknownModelError, get_model

DEFAULT_JUDGE_MODEL = "qwen2.5-1.5b-instruct"
#: Registry models that may judge, best first (SmolLM2 only for tests: its verdicts are poor).
JUDGE_MODELS = ("qwen2.5-1.5b-instruct", "qwen2.5-0.5b-instruct", "smollm2-135m-instruct")
#: A CPU judge reads ~35 tok/s: 2,500 characters of context (~700 tokens) is ~20 s a call.
LOCAL_CONTEXT_CHARS = 2500


def check_judge_model(name: str) -> str:
    """`name` if it may judge, else `UnknownModelError` listing the ones that may."""
    if name not in JUDGE_MODELS:
        raise UnknownModelError(f"unknown judge model {name!r}; known: "
                                f"{', '.join(JUDGE_MODELS)}")
    return name


class LocalJudge(Judge):
    """A `Judge` whose llama-server starts on its first call, not before: a report whose
    verdicts are all cached never starts (or fetches) a model. `close()` stops it."""

    def __init__(self, model: str, *, log_dir: Path, threads: int = 2, slots: int = 2,
                 start_timeout_s: float = 180.0, **kwargs: Any) -> None:
        entry = get_model(check_judge_model(model))
        super().__init__(base_url="(local llama.cpp, started on first use)", model=entry.name,
                         digest_of_model=entry.sha256, kind="local", max_workers=slots,
                         max_context_chars=LOCAL_CONTEXT_CHARS, **kwargs)
        self._log = log_dir / f"judge-{entry.name}.log"
        self._threads, self._slots, self._start_timeout_s = threads, slots, start_timeout_s
        self._server: contextlib.ExitStack | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the llama-server now (idempotent; raises what `local_llama_server` does)."""
        with self._lock:
            if self._server is not None:
                return
            self._log.parent.mkdir(parents=True, exist_ok=True)
            stack = contextlib.ExitStack()
            server = stack.enter_context(local_llama_server(
                self._log, free_port(), context=3072, slots=self._slots,
                threads=self._threads, gguf=REGISTRY_PREFIX + self.model, alias=self.model,
                timeout_s=self._start_timeout_s))
            self.base_url = server.url
            self._server = stack

    @property
    def started(self) -> bool:
        """Its llama-server is running."""
        return self._server is not None

    def chat(self, prompt: str, schema: dict[str, Any] | None) -> str:
        """Start the server if need be, then ask it."""
        self.start()
        return super().chat(prompt, schema)

    def close(self) -> None:
        """Stop the llama-server (with its process group), if it was started."""
        with self._lock:
            if self._server is not None:
                self._server.close()
                self._server = None


@contextlib.contextmanager
def local_judge(model: str = DEFAULT_JUDGE_MODEL, *, log_dir: Path,
                sample: int | None = DEFAULT_SAMPLE, seed: int = DEFAULT_SEED,
                cache: VerdictCache | None = None, threads: int = 2, slots: int = 2,
                start_timeout_s: float = 180.0) -> Iterator[LocalJudge]:
    """A `LocalJudge`, stopped on exit whatever happens inside.

    Its first call raises `UnknownModelError`, `ModelFileError` (the model cannot be fetched
    or does not verify), `EngineUnavailableError` (no llama.cpp) or `LaunchError` (it did not
    start; the message has the log's tail)."""
    judge = LocalJudge(model, log_dir=log_dir, threads=threads, slots=slots,
                       start_timeout_s=start_timeout_s, sample=sample, seed=seed, cache=cache)
    try:
        yield judge
    finally:
        judge.close()


__all__ = ["DEFAULT_JUDGE_MODEL", "JUDGE_MODELS", "LOCAL_CONTEXT_CHARS", "LocalJudge",
           "check_judge_model", "local_judge"]
