"""The probe's candidates and its choice, without engines: one engine setting, what the
probe measured for it, whether two answers agree, and which candidate wins (the fastest
whose answers match the reference setting's). See `workbench.stacks.tuning`."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.normalize import f1_score, normalize_tokens

#: Candidates within this share of the fastest are ties, won by the earlier candidate (the
#: reference first): timing noise on a busy machine must not flip the setting.
TIE_SHARE = 0.03
#: First sentences with the same numbers agree from this token F1 (a bug's garbage scores
#: near 0; a rounding-flipped word in a short answer ~0.85).
AGREE_F1 = 0.7
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


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
    #: It was still starting (alive, not healthy) when its start-up limit ran out.
    timed_out: bool = False

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
        elif r.note and r.agreed == len(r.answers) < len(ref.answers):
            # Stopped early for being clearly slower, with every answer it gave agreeing:
            # slower, not wrong.
            rejected.append(f"{r.label} slower ({r.note})")
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
