"""The blocks of a run manifest (`workbench.records.manifest.RunManifest`), one model each.

Every block keeps keys it does not know (`extra="allow"`: a manifest written by a newer
workbench keeps its new keys through a read and a write, and they stay in `model_extra`),
and every field is optional: a run stored before a key existed simply lacks it, and the
readers say "not recorded" instead of guessing. Numbers that may be whole or fractional
are `float | int` so a stored `3` is written back as `3`, not `3.0`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: A number as stored: whole numbers stay whole through a read and a write.
Num = float | int


class Block(BaseModel):
    """A manifest block: unknown keys kept, fields validated on assignment."""

    model_config = ConfigDict(extra="allow", validate_assignment=True, populate_by_name=True)


# --- what was asked ---------------------------------------------------------------------
class EvalsetRef(Block):
    """The eval set: its name, content digest, where it was loaded from and its size."""

    name: str | None = None
    digest: str | None = None
    #: A shipped name, folder, file or hub id ("" when it was built in memory).
    source: str | None = None
    passages: int | None = None
    questions: int | None = None
    #: The space id the eval set's passages are indexed under, when it names one.
    space_id: str | None = None


class JudgeRecord(Block):
    """The judge that graded answers (`Judge.manifest()`), never its API key."""

    kind: str | None = None
    model: str | None = None
    digest: str | None = None
    base_url: str | None = None
    prompt: str | None = None
    prompt_digest: str | None = None
    sample: Num | None = None
    seed: int | None = None
    max_context_chars: int | None = None
    output: str | None = None
    #: Whether each candidate was also judged against the baseline in both orders.
    pairwise: bool | dict[str, Any] | None = None


class TrafficRoute(Block):
    """Where one part of a stack sends the run's traffic (`targets.Route`)."""

    stack: str | None = None
    part: str | None = None
    url: str | None = None
    remote: bool | None = None


class TargetLoadBlock(Block):
    """The load the team expects: requests/s or users at once, as the run records the
    matrix file's `runner.matrix.TargetLoad` (not `load.client.LoadTarget`, the server a
    load bench drives)."""

    rate: Num | None = None
    concurrency: int | None = None


class LoadBlock(Block):
    """A matrix file's load block as the run records it (issue #24): the levels, bounds,
    the latency SLO each level is held to, and the target load."""

    concurrency: list[int] | None = None
    rates: list[Num] | None = None
    duration_s: Num | None = None
    requests: int | None = None
    max_requests: int | None = None
    max_level_s: Num | None = None
    max_total_s: Num | None = None
    warmup: int | None = None
    stop_early: bool | None = None
    timeout_s: Num | None = None
    slo: list[str] | None = None
    max_error_rate: Num | None = None
    min_correct_share: Num | None = None
    target: TargetLoadBlock | None = None


class ChoiceBlock(Block):
    """A matrix file's choice rules: latency SLOs, quality minimums, error rate."""

    slo: list[str] | None = None
    min: list[str] | None = None
    max_error_rate: Num | None = None
    #: The F1 a stack chosen for its cost or speed may be shown to lose at most.
    tie_margin: Num | None = None


class Price(Block):
    """A stack's price (a matrix file's `prices`)."""

    per_hour: Num | None = None
    currency: str | None = None


class ImportedFrom(Block):
    """A run imported from a file (`workbench runs import`)."""

    file: str | None = None
    sha256: str | None = None
    rows: int | None = None
    #: The ids of the runs the rows came from (an export of the store).
    from_runs: list[str] | None = None
    #: The `<name>.run.json` read beside the file, if there was one.
    run_file: str | None = None


# --- per stack -------------------------------------------------------------------------
class ModelIdentity(Block):
    """The model a stack served: registry name, file and sha256 (None: unproven, `note`
    says why)."""

    registry: str | None = None
    file: str | None = None
    sha256: str | None = None
    note: str | None = None


class ServedIdentity(Block):
    """What an engine that runs elsewhere says it serves (`stacks.identity`)."""

    engine: str | None = None
    url: str | None = None
    model_named: str | None = None
    notes: list[str] = Field(default_factory=list)
    #: None: not asked (a remote host the recipe does not allow); False: no answer.
    reachable: bool | None = None
    models: list[str] | None = None
    served_model: str | None = None
    model_listed: bool | None = None
    context: int | None = None
    version: str | None = None
    gguf_sha256: str | None = None
    proven: bool | None = None
    details: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None


class PrefixCaching(Block):
    """Whether a stack's engine reuses cached prompt prefixes (`on` None: unknown)."""

    on: bool | None = None
    from_: str | None = Field(default=None, alias="from")


class TuningProbe(Block):
    """The tuning probe's run that chose the setting: its candidates' times and matches."""

    #: What the cached result is keyed by (engine, host, CPU, versions, model, cores).
    key: dict[str, Any] | str | None = None
    probed_at: str | None = None
    #: Load averages before and after the probe.
    load_avg: dict[str, Any] | Num | None = None
    probe_s: Num | None = None
    reference: str | None = None
    candidates: list[dict[str, Any]] = Field(default_factory=list)


class TuningRecord(Block):
    """The engine setting a stack ran, where it came from and whether the probe verified it
    as the fastest that answers like the reference (issue #23)."""

    setting: str | None = None
    flags: list[str] = Field(default_factory=list)
    source: str | None = None
    verified: bool = False
    why: str | None = None
    probe: TuningProbe | None = None


class EngineBuild(Block):
    """The instruction sets a llama.cpp engine was built for, and those this CPU has that
    the build lacks."""

    flags: dict[str, bool] = Field(default_factory=dict)
    source: str | None = None
    missing: list[str] = Field(default_factory=list)


class EngineMetrics(Block):
    """An engine's `/metrics` counter differences over the run (after the warm-up)."""

    url: str | None = None
    counters: dict[str, Num] = Field(default_factory=dict)
    note: str | None = None


class ResourceUse(Block):
    """A local stack's CPU-seconds, answers and peak RSS over the run."""

    cpu_s: Num | None = None
    answers: int | None = None
    peak_rss_mb: Num | None = None
    note: str | None = None


class IdleCpu(Block):
    """CPU a stack used while the other stacks answered (the idle meter)."""

    cpu_s: Num | None = None
    idle_s: Num | None = None
    others_answers: int | None = None
    cpu_s_per_other_answer: Num | None = None
    cores_while_idle: Num | None = None


class EngineFacts(Block):
    """What an engine adapter knows about the engine a stack ran, in one place: the
    version it reports, whether it reuses prompt prefixes, and the build's instruction
    sets. An adapter fills this; `RunManifest.record_engine_facts` stores it under the
    manifest's `engine_versions`, `prefix_caching` and `engine_builds`."""

    version: str | None = None
    prefix_caching: PrefixCaching | None = None
    build: EngineBuild | None = None


# --- the host --------------------------------------------------------------------------
class Gpu(Block):
    """One GPU as nvidia-smi lists it."""

    name: str | None = None
    memory_mib: int | None = None
    driver: str | None = None
    compute_capability: str | None = None


class Calibration(Block):
    """The host's cached calibration (`workbench host calibrate`)."""

    fingerprint: str | None = None
    prefill_tok_s: Num | None = None
    decode_tok_s: Num | None = None
    tool: str | None = None
    model: str | None = None
    threads: int | None = None
    measured_utc: str | None = None
    load_before: Num | None = None
    busy: bool | None = None


class Hardware(Block):
    """The host: fingerprint, CPU model and engine flags, cores and cgroup quota, memory,
    kernel, OS, GPUs and its cached calibration."""

    fingerprint: str | None = None
    cpu: str | None = None
    cpu_flags: list[str] | None = None
    native_bf16: bool | None = None
    cores: int | None = None
    usable_cores: int | None = None
    cpu_quota: Num | None = None
    ram_gib: Num | None = None
    ram_available_gib: Num | None = None
    kernel: str | None = None
    gpus: list[Gpu] = Field(default_factory=list)
    os: str | None = None
    python: str | None = None
    calibration: Calibration | None = None


class Intruder(Block):
    """A process outside the stacks that used CPU during the run."""

    name: str | None = None
    pid: int | None = None
    cpu_s: Num | None = None
    cores: Num | None = None


class LoadSummaryRecord(Block):
    """One session's load sampler summary (`host.load.LoadSummary.to_dict`)."""

    duration_s: Num | None = None
    samples: int | None = None
    interval_s: Num | None = None
    cores: int | None = None
    load_max: Num | None = None
    load_mean: Num | None = None
    runnable_mean: Num | None = None
    runnable_max: int | None = None
    load_over_cores_share: Num | None = None
    steal_share: Num | None = None
    steal_max_share: Num | None = None
    outside_cores_mean: Num | None = None
    intruders: list[Intruder] = Field(default_factory=list)
    sampler_s: Num | None = None


class HostLoad(LoadSummaryRecord):
    """The load during the run: the last session's summary with its samples (seconds,
    load average, runnable threads, steal share), and a resumed run's earlier sessions."""

    series: list[list[Num]] = Field(default_factory=list)
    earlier: list[LoadSummaryRecord] | None = None
