"""The judge options shared by `workbench report` and `workbench choose`, and the judge a
matrix file asks for: `--judge local` (a packaged model on llama.cpp, started for the
scoring and stopped after) or `--judge-url URL --judge-model NAME` (any OpenAI-compatible
endpoint)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import typer

from workbench.cli.app import fail
from workbench.settings import get_settings
from workbench.stacks.engines.base import EngineUnavailableError
from workbench.stacks.model_files import ModelFileError
from workbench.stacks.process import LaunchError
from workbench.stacks.registry import UnknownModelError


@contextlib.contextmanager
def open_judge(kind: str | None, *, url: str | None = None, model: str | None = None,
               key_env: str = "WORKBENCH_JUDGE_API_KEY", sample: int | None = 50,
               ) -> Iterator[Any]:
    """The judge the options name (None for none), closed on exit. `sample` 0 or None
    judges every answer."""
    # why here: the scoring package imports SciPy (seconds to import)
    from workbench.scoring.judge import Judge

    n = sample or None
    if kind is None and not (url or model):
        yield None
        return
    if kind not in (None, "local", "url"):
        raise fail(f"--judge: unknown {kind!r}; known: local, url")
    if kind == "local":
        if url:
            raise fail("--judge local starts its own model: leave out --judge-url")
        # why here: the scoring package imports SciPy (seconds to import)
        from workbench.scoring.local_judge import DEFAULT_JUDGE_MODEL, local_judge


        try:
            judge_cm = local_judge(model or DEFAULT_JUDGE_MODEL, sample=n,
                                   log_dir=get_settings().state_dir / "logs")
            with judge_cm as judge:
                yield judge
        except UnknownModelError as exc:
            raise fail(f"--judge-model: {exc}") from exc
        return
    if not (url and model):
        raise fail("--judge-model needs --judge local, or --judge-url with it")
    yield Judge(base_url=url, model=model, api_key=os.environ.get(key_env, "not-needed"),
                sample=n)


def judge_errors() -> tuple[type[Exception], ...]:
    """What a local judge raises when it cannot start (no llama.cpp, the model cannot be
    fetched or verified, the server did not come up)."""
    return (EngineUnavailableError, ModelFileError, LaunchError)


def judge_failure(exc: Exception) -> typer.Exit:
    """A judge that could not start, as a CLI error (the message names what and where)."""
    return fail(f"the judge could not be used: {exc}")


__all__ = ["judge_errors", "judge_failure", "open_judge"]
