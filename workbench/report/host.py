"""The host in the report: one line saying what machine ran the run and how fast it was
(its calibration), warnings when the run was disturbed (load from processes outside the
stacks, CPU steal, idle stacks burning CPU) and a note when two runs come from different
hosts. Everything is read from the run manifest (`hardware`, `host_load`, `idle_cpu`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from workbench.records.manifest import ManifestLike, RunManifest
from workbench.records.manifest_parts import Calibration, EngineBuild, HostLoad, IdleCpu

#: The run counts as disturbed when the load was above the core count (more threads
#: runnable than cores, sampled through the run) for more than this share of the run, with
#: processes outside the stacks using CPU ...
LOAD_SHARE_LIMIT = 0.10
#: ... or when the hypervisor stole more than this share of the CPU.
STEAL_LIMIT = 0.05
#: Processes outside the stacks using less than this many cores on average are not
#: blamed: the load then came from the stacks' own threads.
OUTSIDE_CORES_MIN = 0.20
#: Idle CPU-seconds per answer of the others that counts as material ...
IDLE_CPU_S_PER_ANSWER = 0.05
#: ... when the idle stack also kept this share of a core busy: on a crowded machine an
#: answer takes a minute, and a quiet engine's housekeeping (0.0016 cores measured for an
#: idle llama-server) adds up to 0.08 CPU-s per answer without taking anything that matters;
#: an idle vLLM CPU engine measured 0.017 cores (0.50 CPU-s per answer) on the same machine.
IDLE_CORES = 0.01


def _blank(block: BaseModel | None) -> bool:
    """A block the run did not record (absent, or `{}`)."""
    return block is None or not (block.model_fields_set or block.model_extra)


def _intruders(load: HostLoad, n: int = 3) -> str:
    named = [f"{i.name} (pid {i.pid}, {float(i.cpu_s or 0):.0f} CPU-s)"
             for i in load.intruders][:n]
    return ", ".join(named) if named else "none named"


def disturbance_warnings(load: HostLoad | Mapping[str, Any] | None) -> list[str]:
    """Warnings from the manifest's `host_load` (the load sampler's summary)."""
    load = HostLoad.model_validate(load) if isinstance(load, Mapping) else load
    if load is None or _blank(load):
        return []
    out = []
    cores = int(load.cores or 0)
    over = float(load.load_over_cores_share or 0.0)
    outside = float(load.outside_cores_mean or 0.0)
    if cores and over > LOAD_SHARE_LIMIT and outside >= OUTSIDE_CORES_MIN:
        out.append(
            f"the run was disturbed: the load was above the {cores} cores for {over:.0%} of "
            f"the run (up to {int(load.runnable_max or 0)} threads runnable, load "
            f"average up to {float(load.load_max or 0):.1f}) and processes outside "
            f"the stacks used {outside:.2f} cores on average: "
            f"{_intruders(load)}; latency is slower than this machine can do, so rerun on "
            "a quiet machine before trusting the latency verdict")
    steal = float(load.steal_share or 0.0)
    if steal > STEAL_LIMIT:
        out.append(
            f"the run was disturbed: the hypervisor stole {steal:.1%} of the CPU time "
            f"(up to {float(load.steal_max_share or 0):.0%} in one sample): other "
            "virtual machines on this host took it, so latency varies with them")
    return out


def idle_warnings(idle: Mapping[str, IdleCpu | Mapping[str, Any]]) -> list[str]:
    """A warning per stack that used material CPU while another stack answered."""
    out = []
    for name, raw in idle.items():
        entry = IdleCpu.model_validate(raw) if isinstance(raw, Mapping) else raw
        per, cores = entry.cpu_s_per_other_answer, entry.cores_while_idle
        if per is not None and float(per) > IDLE_CPU_S_PER_ANSWER \
                and float(cores or 0.0) >= IDLE_CORES:
            out.append(
                f"idle stack {name} used {float(per):.2f} CPU-s per answer of the other "
                f"stacks while they were measured ({float(cores or 0):.2f} cores): it took "
                "CPU from the stack being measured; give each stack its own cores "
                "(resources.cpuset) or stop it while the others run")
    return out


def build_warnings(builds: Mapping[str, EngineBuild]) -> list[str]:
    """A warning per build that lacks instruction sets this CPU has (stacks running the
    same build share one warning)."""
    by_missing: dict[tuple[str, ...], list[str]] = {}
    for name, entry in builds.items():
        missing = tuple(map(str, entry.missing))
        if missing:
            by_missing.setdefault(missing, []).append(str(name))
    return [f"{', '.join(names)}: llama.cpp was built without {', '.join(missing)}, which "
            "this CPU has (a portable build), so it may run below its best here; a build "
            "for this CPU (GGML_NATIVE=ON) would use them"
            for missing, names in by_missing.items()]


def host_warnings(manifest: ManifestLike) -> list[str]:
    """Every host warning of a run: disturbance by the machine, idle stacks, and engines
    built without the CPU's instruction sets."""
    m = RunManifest.read(manifest)
    return (disturbance_warnings(m.host_load)
            + idle_warnings(m.idle_cpu or {})
            + build_warnings(m.engine_builds or {}))


def calibration_text(cal: Calibration | Mapping[str, Any] | None) -> str:
    """`prefill 612 tok/s, decode 98 tok/s (llama-bench, SmolLM2..., 2 threads, ...)`."""
    cal = Calibration.model_validate(cal) if isinstance(cal, Mapping) else cal
    if cal is None or not cal.prefill_tok_s:
        return ""
    when = str(cal.measured_utc or "")[:10]
    return (f"prefill {float(cal.prefill_tok_s):.0f} tok/s, decode "
            f"{float(cal.decode_tok_s or 0):.0f} tok/s ({cal.tool}, "
            f"{cal.model}, {cal.threads} threads, measured {when} at load "
            f"{cal.load_before}{', a busy machine' if cal.busy else ''})")


def host_line(manifest: ManifestLike) -> str | None:
    """One line on the machine: CPU and engine flags, cores, memory, GPUs, its calibration
    and the load during the run; None for runs stored before the manifest said so."""
    m = RunManifest.read(manifest)
    hw = m.hardware
    if hw is None or _blank(hw):
        return None
    flags = hw.cpu_flags
    parts = [str(hw.cpu or "unknown CPU")]
    if flags is not None:
        bf16 = "native bf16" if hw.native_bf16 else "no native bf16"
        parts[0] += f" ({' '.join(map(str, flags)) or 'no AVX2'}; {bf16})"
    cores = f"{hw.usable_cores or hw.cores or '?'} cores"
    if hw.cpu_quota:
        cores += f" (cgroup quota {hw.cpu_quota} CPUs)"
    parts.append(cores)
    if hw.ram_gib:
        parts.append(f"{hw.ram_gib} GiB RAM")
    parts.append(", ".join(f"{g.name} {g.memory_mib} MiB" for g in hw.gpus)
                 if hw.gpus else "no GPU")
    line = "Host: " + ", ".join(parts)
    if hw.fingerprint:
        line += f" [host {hw.fingerprint}]"
    cal = calibration_text(hw.calibration)
    line += f"; calibration: {cal}" if cal else "; not calibrated (`workbench host calibrate`)"
    load = m.host_load
    if load is not None and not _blank(load):
        line += (f"; during the run: load {float(load.load_mean or 0):.1f} mean, "
                 f"{float(load.load_max or 0):.1f} max, steal "
                 f"{float(load.steal_share or 0):.1%}")
    return line


def host_fingerprint(manifest: ManifestLike) -> str | None:
    """The run's host fingerprint (None for runs stored before it was recorded)."""
    hw = RunManifest.read(manifest).hardware
    return hw.fingerprint if hw is not None and hw.fingerprint else None


def cross_host_note(first: ManifestLike, second: ManifestLike) -> str | None:
    """A note when two runs ran on different hosts (or one host is unknown): their
    latencies measure the machines as much as the stacks."""
    runs = [RunManifest.read(m) for m in (first, second)]
    a, b = host_fingerprint(runs[0]), host_fingerprint(runs[1])
    if a is not None and a == b:
        return None
    if a is None or b is None:
        return ("one of these runs does not record its host: its latency may come from "
                "another machine")
    cpus = [str((m.hardware.cpu if m.hardware else None) or "?") for m in runs]
    return (f"these runs ran on different hosts ({a}: {cpus[0]}; {b}: {cpus[1]}): compare "
            "their latency only with that in mind; quality is comparable")


def host_label(fingerprint: str | None, cpu: str | None, width: int = 24) -> str:
    """A history cell for a run's host: its fingerprint's first 6 digits and its CPU model,
    cut to `width` characters (0: the fingerprint alone)."""
    if not fingerprint:
        return "unknown"
    text = f"{fingerprint[:6]} {cpu or ''}".strip() if width else fingerprint[:6]
    return text if len(text) <= max(width, 6) else text[:max(width, 6) - 1] + "…"
