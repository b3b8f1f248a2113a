"""The run manifest: everything needed to judge whether the comparison was fair.

Records the eval set digest, both recipes, engine versions, model file digests, sampling
and retrieval settings, the hardware and the workbench version. Secrets never enter it:
recipes only name the environment variables that hold keys, and env values whose names
look secret are redacted.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx

from workbench import __version__
from workbench.host.calibration import cached as cached_calibration
from workbench.host.engine_build import engine_build
from workbench.host.machine import host_record
from workbench.records.evalset import EvalSet
from workbench.records.manifest import RunManifest
from workbench.records.manifest_parts import EngineBuild, EngineFacts, PrefixCaching
from workbench.settings import get_settings
from workbench.stacks.engines import UnknownEngineError, adapter_for, get_adapter
from workbench.stacks.engines.registry import find_adapter
from workbench.stacks.fetch import cached_gguf
from workbench.stacks.identity import engine_is_elsewhere, remote_model_entry, served_identity
from workbench.stacks.model_files import ModelFileError
from workbench.stacks.models import gguf_digest, resolve_gguf
from workbench.stacks.recipe import Stack
from workbench.stacks.registry import UnknownModelError, model_for_digest, model_for_spec
from workbench.stacks.tuning import tuning_record

_SECRET_NAME = re.compile(r"(TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
REDACTED = "***redacted***"


def redact_env(env: dict[str, str]) -> dict[str, str]:
    """Env with the values of secret-looking names replaced."""
    return {k: (REDACTED if _SECRET_NAME.search(k) else v) for k, v in env.items()}


def recipe_dump(stack: Stack) -> dict[str, Any]:
    """A stack recipe as stored in the manifest and the store (secrets redacted)."""
    data = stack.model_dump(mode="json")
    data["env"] = redact_env(stack.env)
    return data


@lru_cache(maxsize=16)
def _digest(path: str, mtime: float) -> str:
    return gguf_digest(Path(path))


def model_digest(stack: Stack) -> dict[str, str | None]:
    """The model's registry name, file and sha256 (None when its identity is unproven).

    A fetched registry model is recorded by its pinned digest: every way a stack gets it
    (`models prepare`, `up`) joins the wheels and checks that digest before the file
    exists, so the cache holds nothing else. Any other file is hashed here, and named by
    the registry when its digest is a registry model's.
    """
    if stack.model is None:
        return {"registry": None, "file": None, "sha256": None,
                "note": "no local model (an external backend): its weights are unknown here"}

    if engine_is_elsewhere(stack):
        # The local GGUF proves nothing about a server we did not start: ask it.
        return remote_model_entry(stack)
    adapter = find_adapter(stack.engine)
    if stack.model.hf_id is not None and adapter is not None and adapter.serves_hf_id:
        return {"registry": None, "file": stack.model.hf_id, "sha256": None,
                "note": f"serves the Hugging Face checkpoint {stack.model.hf_id}, not the GGUF: "
                        "known by name only"}
    try:
        known = model_for_spec(stack.model.gguf)
    except UnknownModelError as exc:
        return {"registry": None, "file": stack.model.gguf, "sha256": None, "note": str(exc)}
    if known is not None and known.installed is None:
        path = cached_gguf(known, get_settings().cache_dir)
        return {"registry": known.name, "file": f"{known.sha256}.gguf", "sha256": known.sha256,
                **({} if path else {"note": "not in this machine's cache; the digest is the "
                                            "registry's pin, checked wherever it is fetched"})}
    base = stack.source_path.parent if stack.source_path else None
    try:
        path = resolve_gguf(stack.model.gguf, base)
    except ModelFileError as exc:
        return {"registry": known.name if known else None, "file": stack.model.gguf,
                "sha256": None, "note": str(exc)}
    digest = _digest(str(path), path.stat().st_mtime)
    entry: dict[str, str | None] = {"registry": None, "file": path.name, "sha256": digest}
    by_digest = model_for_digest(digest)
    if by_digest is not None:
        entry["registry"] = by_digest.name
    elif known is not None:
        entry["note"] = (f"{path.name} is not the registry's {known.name} "
                         f"(sha256 {known.sha256[:12]}...)")
    return entry


def engine_version(stack: Stack, timeout: float = 3.0) -> str | None:
    """Ask the running engine for its version (llama.cpp /props, vLLM /version, Ollama).

    The engine's own adapter answers first: it knows where its engine keeps the version
    (llama.cpp's packaged binary says `b0-unknown`, and only the adapter knows the release
    it was built from); the generic probe below covers engines without an adapter answer.
    """
    base = stack.engine_base_url
    if base is None:
        return None

    try:
        answered = adapter_for(stack).version(stack)
    except UnknownEngineError:
        answered = None
    if answered and answered != "llama.cpp":  # a bare name is no version
        return answered
    root = base.removesuffix("/v1")
    engine = find_adapter(stack.engine)
    for path in engine.version_paths if engine is not None else ():
        try:
            body = httpx.get(root + path, timeout=timeout).json()
        except (httpx.HTTPError, ValueError):
            continue
        for key in ("version", "build_info", "build_commit"):
            if isinstance(body, dict) and body.get(key):
                return f"{stack.engine} {body[key]}"
    return None


def prefix_caching(stack: Stack) -> dict[str, Any]:
    """Whether the stack's engine reuses cached prompt prefixes: the recipe's
    `generation.prefix_caching`, else the engine's default (`on` None: unknown)."""
    setting = stack.generation.prefix_caching
    if setting is not None:
        return {"on": setting, "from": "recipe"}

    try:
        default = get_adapter(stack.engine).prefix_caching_default
    except UnknownEngineError:
        default = None
    # An engine this machine did not start may have been started with other flags.
    started_here = stack.launch == "native"
    return {"on": default, "from": "engine default" if started_here
            else "engine default, unless its server was started otherwise"}


def hardware() -> dict[str, Any]:
    """The host (workbench.host): fingerprint, CPU model and engine flags, cores and cgroup
    quota, memory, kernel, GPUs (nvidia-smi), and the host's cached calibration."""
    record = host_record()
    record["calibration"] = cached_calibration(get_settings().cache_dir, record["fingerprint"])
    return record


def engine_facts(stack: Stack, cpu_flags: list[str]) -> EngineFacts:
    """What the manifest records of a stack's engine: the version it reports, whether it
    reuses prompt prefixes, and (llama.cpp) the instruction sets it was built for."""
    build = engine_build(stack, cpu_flags)
    return EngineFacts(
        version=engine_version(stack),
        prefix_caching=PrefixCaching.model_validate(prefix_caching(stack)),
        build=None if build is None else EngineBuild.model_validate(build))


def build_manifest(
    evalset: EvalSet,
    stacks: dict[str, Stack],
    *,
    schedule: str,
    concurrency: int,
    timeout_s: float,
    warmup: int,
    limit: int | None,
    judge: dict[str, Any] | None = None,
    baseline: str | None = None,
) -> RunManifest:
    """The manifest recorded with a run; `stacks` maps stack names to recipes in run order
    (the baseline is `baseline`, else the first)."""
    hw = hardware()
    manifest = RunManifest.model_validate({
        "workbench_version": __version__,
        "evalset": {"name": evalset.name, "digest": evalset.digest, "source": evalset.source,
                    "passages": len(evalset.passages), "questions": len(evalset.questions)},
        "schedule": schedule,
        "schedule_note": (
            "parallel: the stacks run at once and disturb each other's timings"
            if schedule == "parallel" else
            "one stack at a time" + (", the stacks' order rotated for each question"
                                     if schedule == "interleaved" else "")
        ),
        "concurrency": concurrency,
        "timeout_s": timeout_s,
        "warmup_requests": warmup,
        "limit": limit,
        "baseline": baseline or next(iter(stacks), None),
        "stacks": {name: recipe_dump(s) for name, s in stacks.items()},
        "engine_versions": {},
        "models": {name: model_digest(s) for name, s in stacks.items()},
        # What each engine that runs elsewhere says it serves (stacks.identity).
        "served": {name: served_identity(s) for name, s in stacks.items()
                   if engine_is_elsewhere(s)},
        "prefix_caching": {},
        # The engine setting each stack ran and whether the tuning probe verified it as
        # the fastest that answers like the reference (stacks.tuning).
        "tuning": {name: tuning_record(s, get_settings()) for name, s in stacks.items()},
        "hardware": hw,
        # The instruction sets each llama.cpp engine was built for (workbench.host).
        "engine_builds": {},
        "judge": judge,
    })
    for name, s in stacks.items():
        manifest.record_engine_facts(name, engine_facts(s, hw["cpu_flags"]))
    return manifest
