"""Ollama: `ollama serve` on the engine port, then `ollama create` from the recipe's GGUF.

Both sides of the default A/B serve the same GGUF weights: Ollama gets them through a
Modelfile (`FROM <gguf>`) that also sets `num_ctx` (Ollama's default context silently
truncates RAG prompts) and the ChatML template SmolLM2 was trained with. Where no
`ollama` binary exists the adapter says so and names llama.cpp instead: it never runs
another engine under Ollama's name.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from workbench.settings import Settings
from workbench.stacks.engines.base import (
    EngineAdapter,
    EngineProcess,
    EngineUnavailableError,
    LaunchContext,
    engine_root,
    get_json,
    probe_get,
    reported_version,
    taskset_prefix,
    which,
)
from workbench.stacks.gpu import gpu_env
from workbench.stacks.models import recipe_gguf
from workbench.stacks.process import run_once
from workbench.stacks.recipe import Stack

_BLOB_SHA = re.compile(r"sha256[-:]([0-9a-f]{64})")

#: Nearest installed alternative (same GGUF engine family), offered when Ollama is absent.
ALTERNATIVE = "llamacpp-cpu"

CHATML_TEMPLATE = """{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
"""


def modelfile(stack: Stack, gguf: str | None = None) -> str:
    """The Modelfile `ollama create` gets for this recipe (`gguf`: path as Ollama sees it)."""
    assert stack.model is not None
    if gguf is None:
        gguf = str(recipe_gguf(stack))
    gen = stack.generation
    return "\n".join(
        [
            f"FROM {gguf}",
            f'TEMPLATE """{CHATML_TEMPLATE}"""',
            f"PARAMETER num_ctx {gen.context_window}",
            f"PARAMETER temperature {gen.temperature}",
            'PARAMETER stop "<|im_end|>"',
            'PARAMETER stop "<|im_start|>"',
            "",
        ]
    )


def ollama_host(stack: Stack) -> str:
    """`OLLAMA_HOST` value: where `ollama serve` binds and where the CLI finds it."""
    return f"{stack.host}:{stack.ports.engine}"


class OllamaAdapter(EngineAdapter):
    """`ollama serve` with OLLAMA_HOST set to the stack's engine port."""

    kind = "ollama"
    #: Ollama's llama.cpp runner reuses the cached prompt prefix of a loaded model.
    prefix_caching_default = True
    routes_by_model_name = True
    has_metrics = False
    version_paths = ("/api/version",)

    def check_available(self, stack: Stack, settings: Settings) -> None:
        """Raise, naming llama.cpp as the alternative, when `ollama` is not on PATH."""
        if stack.launch == "native" and which("ollama") is None:
            raise EngineUnavailableError(
                f"stack {stack.name!r} needs Ollama, but `ollama` is not installed here "
                "(not on PATH). Install it from https://ollama.com/download, or use the "
                f"nearest alternative stack {ALTERNATIVE!r} (llama.cpp, the same GGUF engine "
                "family)."
            )

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess:
        """`ollama serve`; its env binds it to the engine port."""
        binary = which("ollama")
        if binary is None:
            # Reached only for a launch that needs a local binary (remote starts nothing).
            raise EngineUnavailableError(
                f"stack {stack.name!r} needs Ollama, but `ollama` is not installed here; "
                "point it at a running Ollama with `launch: remote` and `engine_url`, or use "
                f"{ALTERNATIVE!r}"
            )
        env = {"OLLAMA_HOST": ollama_host(stack), **gpu_env(stack), **stack.env}
        argv = [*taskset_prefix(stack), binary, "serve", *stack.engine_args]
        return EngineProcess(argv=argv, env=env, health_timeout_s=60.0)

    def health_path(self, stack: Stack) -> str:
        """`GET /api/version` answers as soon as the server is up."""
        return "/api/version"

    def after_healthy(self, stack: Stack, ctx: LaunchContext) -> None:
        """`ollama create NAME -f Modelfile` (idempotent: Ollama replaces the model)."""
        assert stack.model is not None
        binary = which("ollama")
        if binary is None:
            return  # compose: the container's own CLI would be needed; see compose README
        path = ctx.run_dir / "Modelfile"
        path.write_text(modelfile(stack), encoding="utf-8")
        run_once(
            [binary, "create", stack.model.name, "-f", str(path)],
            {"OLLAMA_HOST": ollama_host(stack)},
            ctx.log("ollama-create"),
            timeout=600,
        )

    def ready(self, stack: Stack) -> bool:
        """The model is listed by `GET /api/tags` (checked by status, after create)."""
        return True

    def model_listed(self, stack: Stack) -> bool:
        """Whether `/api/tags` lists the recipe's model (as NAME or NAME:latest)."""
        assert stack.model is not None
        root = engine_root(stack)
        tags = get_json(f"{root}/api/tags") if root else None
        if not isinstance(tags, dict):
            return False
        names = {str(m.get("name", "")) for m in tags.get("models", []) if isinstance(m, dict)}
        want = stack.model.name
        return want in names or f"{want}:latest" in names

    def version(self, stack: Stack) -> str | None:
        """`GET /api/version`."""
        return reported_version(stack, "/api/version", "Ollama")

    def after_healthy_in_container(self, stack: Stack, ctx: LaunchContext,
                                   exec_argv: list[str], models_dir: str,
                                   run_dir: str, env: dict[str, str]) -> None:
        """Create the model with the container's own CLI (`exec_argv` runs a command in
        the engine's container; the GGUF's folder and the run folder are mounted at
        `models_dir` and `run_dir`)."""
        assert stack.model is not None
        gguf_name = recipe_gguf(stack).name
        text = modelfile(stack, gguf=f"{models_dir}/{gguf_name}")
        (ctx.run_dir / "Modelfile").write_text(text, encoding="utf-8")
        argv = [*exec_argv, "ollama", "create", stack.model.name, "-f", f"{run_dir}/Modelfile"]
        run_once(argv, env, ctx.log("ollama-create"), timeout=600)

    def probe_identity(self, client: httpx.Client, root: str, model: str,
                       out: dict[str, Any]) -> None:
        """`POST /api/show` (the Modelfile names the GGUF blob by sha256, the parameters
        hold `num_ctx`), `GET /api/tags` (the model's digest), `GET /api/version`."""
        try:
            resp = client.post(f"{root}/api/show", json={"model": model})
            show = resp.json() if resp.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            show = None
        if not isinstance(show, dict):
            out["notes"].append(f"/api/show does not know {model!r}")
            return
        params = str(show.get("parameters") or "")
        num_ctx = re.search(r"^num_ctx\s+(\d+)", params, re.MULTILINE)
        out["context"] = int(num_ctx.group(1)) if num_ctx else None
        if num_ctx is None:
            out["notes"].append("no num_ctx set: Ollama's default context truncates RAG prompts")
        source = next((ln for ln in str(show.get("modelfile") or "").splitlines()
                       if ln.startswith("FROM ")), "")
        blob = _BLOB_SHA.search(source)
        out["gguf_sha256"] = blob.group(1) if blob else None
        details = show.get("details")
        out["details"] = details if isinstance(details, dict) else {}
        code, tags = probe_get(client, f"{root}/api/tags")
        if code == 200 and isinstance(tags, dict):
            for m in tags.get("models", []):
                if isinstance(m, dict) and str(m.get("name", "")).removesuffix(":latest") == \
                        model.removesuffix(":latest"):
                    out["digest"] = m.get("digest")
        code, version = probe_get(client, f"{root}/api/version")
        if code == 200 and isinstance(version, dict) and version.get("version"):
            out["version"] = f"Ollama {version['version']}"


ADAPTER = OllamaAdapter()
