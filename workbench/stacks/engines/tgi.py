"""Hugging Face Text Generation Inference (TGI): `text-generation-launcher` where it is
installed (GPU servers), or a TGI server reached by URL (`launch: remote`).

The RAG service asks TGI through its OpenAI-compatible Messages API
(`POST /v1/chat/completions`, streamed); `/health` says it is up, `/info` what it serves
(model_id, model_sha, token limits, version: since TGI 3.0 no dtype or device) and
`/metrics` its `tgi_*` counters.
TGI loads a Hugging Face checkpoint, so a recipe names it with `model.hf_id`.
"""

from __future__ import annotations

from typing import Any

import httpx

from workbench.settings import Settings
from workbench.stacks.engines.base import (
    EngineAdapter,
    EngineProcess,
    EngineUnavailableError,
    LaunchContext,
    probe_get,
    reported_version,
    which,
)
from workbench.stacks.recipe import Stack

LAUNCHER = "text-generation-launcher"


def tgi_argv(binary: str, stack: Stack) -> list[str]:
    """`text-generation-launcher` for the recipe: the checkpoint, where it binds, and a
    token budget that fits the recipe's context window."""
    assert stack.model is not None and stack.ports.engine is not None
    window = stack.generation.context_window
    return [
        binary,
        "--model-id", stack.model.hf_id or stack.model.name,
        "--hostname", stack.host,
        "--port", str(stack.ports.engine),
        "--max-input-tokens", str(window - stack.generation.max_tokens),
        "--max-total-tokens", str(window),
        "--max-concurrent-requests", str(max(stack.resources.slots, 1) * 32),
        *stack.engine_args,
    ]  # fmt: skip


class TgiAdapter(EngineAdapter):
    """TGI: `/health`, `/info`, `/metrics` and the Messages API."""

    kind = "tgi"
    serves_hf_id = True
    metric_prefixes = ("tgi_",)
    identity_source = "/info"
    version_paths = ("/info",)

    def check_available(self, stack: Stack, settings: Settings) -> None:
        """Raise unless `text-generation-launcher` is on PATH (it is not on PyPI)."""
        if stack.launch == "native" and which(LAUNCHER) is None:
            raise EngineUnavailableError(
                f"stack {stack.name!r} runs TGI natively, but `{LAUNCHER}` is not installed "
                "here (not on PATH). Point the recipe at a running TGI server instead "
                "(`launch: remote` with `engine_url`), as stacks/tgi-remote.yaml does."
            )

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess:
        """The launcher command; GPUs as the recipe's `resources.gpus`."""
        binary = which(LAUNCHER)
        if binary is None:
            self.check_available(stack, ctx.settings)
            raise EngineUnavailableError(f"`{LAUNCHER}` is not on PATH")
        env = dict(stack.env)
        if stack.resources.gpus is not None:
            env.setdefault("CUDA_VISIBLE_DEVICES", stack.resources.gpus)
        # TGI downloads and warms the model before /health answers: minutes, not seconds.
        return EngineProcess(argv=tgi_argv(binary, stack), env=env, health_timeout_s=900.0)

    def version(self, stack: Stack) -> str | None:
        """`version` from `GET /info`."""
        return reported_version(stack, "/info", "TGI")

    def shape_request(self, params: dict[str, Any],
                      prefix_caching: bool | None) -> dict[str, Any]:
        """No `top_p` of 1.0: TGI's Messages API refuses it ("must be > 0.0 and < 1.0"),
        and leaving it out is the same sampling (no nucleus cut)."""
        if params.get("top_p", 0.0) >= 1.0:
            return {k: v for k, v in params.items() if k != "top_p"}
        return params

    def probe_identity(self, client: httpx.Client, root: str, model: str,
                       out: dict[str, Any]) -> None:
        """`GET /info`: model_id, model_sha, token limits, version (and the dtype and
        device that only TGI 2.x sends: 3.x's `Info` dropped them)."""
        code, info = probe_get(client, f"{root}/info")
        if code != 200 or not isinstance(info, dict):
            out["notes"].append(f"/info: HTTP {code}")
            return
        keys = ("model_id", "model_sha", "model_dtype", "model_device_type", "max_input_tokens",
                "max_input_length", "max_total_tokens", "max_concurrent_requests", "sha")
        out["details"] = {k: info[k] for k in keys if k in info}
        context = info.get("max_total_tokens")
        out["context"] = context if isinstance(context, int) else None
        if info.get("version"):
            out["version"] = f"TGI {info['version']}"
        if info.get("model_id"):
            out["served_model"] = info["model_id"]


ADAPTER = TgiAdapter()
