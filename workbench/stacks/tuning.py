"""Each engine at its best verified setting for this host (issue #23, docs/architecture.md).

The dtype and compile mode of vLLM CPU and the threads and batch of llama.cpp are facts of
the host, not constants: bf16 is fast only with native BF16 (avx512_bf16 or AMX) and was
emulated at a 3.4x handicap on an AVX2-only CPU; compiled bf16 once answered wrongly. So a
recipe says `auto` (its `tuning:` section) and this module decides:

- the *candidates* an engine may run here (`candidates`): vLLM fp32 eager (the reference),
  fp32 compiled and, only with native BF16, bf16 eager and compiled; llama.cpp its own
  defaults (the reference) and threads/batch following the cores given to the stack;
- the *choice* (`choose`): the fastest candidate whose answers to a fixed prompt set match
  the reference's at temperature 0, so a fast wrong setting is never chosen. The probe that
  measures them (`workbench.stacks.tuning_probe`) runs once per host fingerprint + engine
  version + model digest + cores, and its result is cached under `<cache_dir>/tuning/`;
- what a launch applies (`chosen_setting`): the cached choice, else the host rule (bf16
  eager with native BF16, fp32 eager otherwise; threads = cores given), which is unverified,
  and what the manifest records (`tuning_record`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from workbench.host import CpuFacts, cpu_facts, host_fingerprint
from workbench.settings import Settings
from workbench.stacks.engines.base import EngineTuning
from workbench.stacks.engines.registry import find_adapter
from workbench.stacks.model_files import ModelFileError
from workbench.stacks.models import gguf_digest, recipe_gguf
from workbench.stacks.recipe import Stack
from workbench.stacks.tuning_choice import (
    AGREE_F1,
    TIE_SHARE,
    CandidateResult,
    EngineSetting,
    answers_agree,
    choose,
    first_sentence,
)

__all__ = [
    "AGREE_F1",
    "TIE_SHARE",
    "CandidateResult",
    "EngineSetting",
    "TunedSetting",
    "answers_agree",
    "candidates",
    "choose",
    "chosen_setting",
    "cores_given",
    "first_sentence",
    "host_rule",
    "load_result",
    "probe_key",
    "recipe_pins",
    "save_result",
    "tunable",
    "tuning_record",
]

Source = Literal["probe", "host rule", "recipe", "not tuned"]


@dataclass(frozen=True)
class TunedSetting:
    """The setting a launch applies, where it comes from and whether it was verified."""

    setting: EngineSetting
    source: Source
    #: True when the probe measured it fastest among the settings that answer like the
    #: reference (only then is it "its fastest verified setting on this host").
    verified: bool
    why: str
    #: The cached probe result it came from, if any.
    probe: dict[str, Any] | None = None


def cores_given(stack: Stack, facts: CpuFacts | None = None) -> int:
    """The CPU cores the stack's engine may use: its cpuset's, else `resources.threads`,
    capped by the usable cores and the cgroup quota."""
    facts = facts or cpu_facts()
    spec = stack.resources.cpuset
    if spec:
        n = 0
        for part in spec.split(","):
            lo, _, hi = part.partition("-")
            n += int(hi or lo) - int(lo) + 1
    else:
        n = stack.resources.threads
    n = min(n, facts.usable_cores)
    if facts.cpu_quota is not None:
        n = min(n, max(1, int(facts.cpu_quota)))
    return max(1, n)


def engine_tuning(stack: Stack) -> EngineTuning | None:
    """How the stack's engine is tuned (its adapter's `tuning`), None when it is not."""
    adapter = find_adapter(stack.engine)
    return adapter.tuning if adapter is not None else None


def _tuning(stack: Stack) -> EngineTuning:
    tuning = engine_tuning(stack)
    if tuning is None:
        raise ValueError(f"engine {stack.engine!r} of stack {stack.name!r} is not tuned")
    return tuning


def tunable(stack: Stack) -> str | None:
    """None when the probe may tune this stack's engine, else why not (in words)."""
    if engine_tuning(stack) is None:
        if stack.is_external or stack.hosted_engine:
            return "a remote backend: its engine's settings are not the workbench's to choose"
        return f"{stack.engine} is not tuned by the workbench (it picks its own settings)"
    if stack.launch in ("remote", "none"):
        return "a remote engine: its server's settings are not the workbench's to choose"
    if stack.launch == "compose" or stack.variant == "gpu":
        return "a GPU or container stack: the tuning probe covers the CPU engines started here"
    return None


def recipe_pins(stack: Stack) -> dict[str, Any]:
    """What the recipe fixes that the probe would choose (tuning fields not `auto`, or
    engine flags in engine_args): field -> value (`engine_args` -> the flags)."""
    tuning = engine_tuning(stack)
    if tuning is None:
        return {}
    pins = tuning.recipe_pins(stack)
    flags = [a for a in stack.engine_args if a.split("=", 1)[0] in tuning.pinning_flags]
    if flags:
        pins["engine_args"] = flags
    return pins


def _pinned(setting: EngineSetting, pins: dict[str, Any]) -> EngineSetting:
    return replace(setting, **{k: v for k, v in pins.items() if k != "engine_args"})


def _fits(setting: EngineSetting, pins: dict[str, Any]) -> bool:
    return all(getattr(setting, k) == v for k, v in pins.items() if k != "engine_args")


def host_rule(stack: Stack, facts: CpuFacts | None = None) -> EngineSetting:
    """The setting without a probe: vLLM bf16 eager only with native BF16, else fp32 eager
    (eager: compiled bf16 once answered wrongly); llama.cpp threads = the cores given."""
    facts = facts or cpu_facts()
    return _tuning(stack).host_rule(stack, facts, cores_given(stack, facts))


def candidates(stack: Stack, facts: CpuFacts | None = None) -> list[EngineSetting]:
    """The settings the probe tries for this stack on this host, the reference first:
    vLLM fp32 eager (reference), fp32 compiled, and with native BF16 bf16 eager and
    compiled; llama.cpp its defaults (reference), threads and batch threads = the cores
    given, the same without spinning (`--poll 0`) or with a 256 batch, one thread fewer for
    generation, and half the cores (on a CPU other processes share, fewer threads can win:
    each token waits for all of them)."""
    facts = facts or cpu_facts()
    return _tuning(stack).candidates(stack, facts, cores_given(stack, facts))


@lru_cache(maxsize=16)
def _file_digest(path: str, mtime: float) -> str:
    return gguf_digest(Path(path))


def engine_build(stack: Stack, settings: Settings) -> str | None:
    """The installed engine's version, read without starting it (None: not installed)."""
    tuning = engine_tuning(stack)
    return tuning.build(settings) if tuning is not None else None


def probe_key(stack: Stack, settings: Settings, facts: CpuFacts | None = None,
              ) -> dict[str, Any] | None:
    """What a probe result holds for: host fingerprint, engine version, model digest and
    cores given (None when the engine or the model is missing here)."""
    facts = facts or cpu_facts()
    build = engine_build(stack, settings)
    if build is None or stack.model is None:
        return None
    try:
        gguf = recipe_gguf(stack)
    except ModelFileError:
        return None
    return {"engine": stack.engine, "host": host_fingerprint(facts), "cpu": facts.model,
            "engine_version": build, "model_sha256": _file_digest(str(gguf), gguf.stat().st_mtime),
            "cores": cores_given(stack, facts), "context_window": stack.generation.context_window}


def cache_path(key: dict[str, Any], settings: Settings) -> Path:
    """Where the probe result for `key` is cached."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return settings.cache_dir / "tuning" / f"{key['engine']}-{digest}.json"


def load_result(stack: Stack, settings: Settings, facts: CpuFacts | None = None,
                ) -> dict[str, Any] | None:
    """The cached probe result for this stack on this host, or None."""
    key = probe_key(stack, settings, facts)
    if key is None:
        return None
    try:
        data = json.loads(cache_path(key, settings).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("key") == key else None


def save_result(result: dict[str, Any], settings: Settings) -> Path:
    """Write a probe result (atomically) where `load_result` finds it."""
    path = cache_path(result["key"], settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    tmp.replace(path)
    return path


def chosen_setting(stack: Stack, settings: Settings, facts: CpuFacts | None = None) -> TunedSetting:
    """The setting a launch of `stack` applies here, and why."""
    why_not = tunable(stack)
    if why_not is not None:
        return TunedSetting(EngineSetting(), "not tuned", False, why_not)
    facts = facts or cpu_facts()
    pins = recipe_pins(stack)
    pinned_words = ", ".join(f"{k} {v}" for k, v in pins.items())
    result = load_result(stack, settings, facts) if settings.tune else None
    if result is not None and result.get("chosen") is not None:
        if not pins and result.get("skipped"):
            # Verified against the reference, but not the fastest of all: a budget cut the
            # probe short, so the run must not say "its fastest verified setting".
            tried = len(result.get("candidates", []))
            total = tried + len(result["skipped"])
            return TunedSetting(EngineSetting.from_dict(result["chosen"]), "probe", False,
                          f"the first-start probe tried {tried} of {total} settings within "
                          f"its {result.get('budget_s') or 0:g} s budget ({result['chosen_label']} "
                          f"was the fastest that answers like the reference; not tried: "
                          f"{', '.join(result['skipped'])}); `make tune` tries the rest",
                          result)
        if not pins:
            return TunedSetting(EngineSetting.from_dict(result["chosen"]), "probe", True,
                          str(result.get("reason", "")), result)
        ok = [c for c in (CandidateResult.from_dict(d) for d in result.get("candidates", []))
              if _fits(c.setting, pins)]
        best, _ = choose(ok) if ok and ok[0].matches else (None, "")
        if best is not None:
            return TunedSetting(best.setting, "recipe", False,
                          f"the recipe pins {pinned_words}; within that, {best.label} was "
                          "the probe's fastest that answers like the reference", result)
    rule = _pinned(host_rule(stack, facts), pins)
    if pins:
        return TunedSetting(rule, "recipe", False, f"the recipe pins {pinned_words}")
    if not settings.tune:
        why = "tuning is off (WORKBENCH_TUNE=off): the host rule's setting, not verified"
    elif not stack.tuning.probe:
        why = "the recipe turns the probe off (tuning.probe: false): the host rule's setting"
    else:
        why = ("not probed on this host yet (`workbench stacks tune`): the host rule's "
               "setting, not verified")
    return TunedSetting(rule, "host rule", False, why)


def tuning_record(stack: Stack, settings: Settings) -> dict[str, Any]:
    """What the manifest records for one stack: the setting, where it came from, whether it
    was verified, and the probe's candidates (each one's time and match) when there was one."""
    choice = chosen_setting(stack, settings)
    record: dict[str, Any] = {
        "setting": choice.setting.label if choice.source != "not tuned" else None,
        "flags": _tuning(stack).flags(choice.setting) if choice.source != "not tuned" else [],
        "source": choice.source,
        "verified": choice.verified,
        "why": choice.why,
    }
    if choice.probe is not None:
        probe = choice.probe
        record["probe"] = {
            "key": probe.get("key"), "probed_at": probe.get("probed_at"),
            "load_avg": probe.get("load_avg"), "probe_s": probe.get("probe_s"),
            "reference": probe.get("reference"),
            "candidates": [{k: c.get(k) for k in ("label", "seconds", "ready_s",
                                                  "prefill_tok_s", "decode_tok_s", "agreed",
                                                  "matches", "error", "load", "note")}
                           for c in probe.get("candidates", [])],
        }
    return record
