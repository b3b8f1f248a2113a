"""Read the CPU's model and instruction-set flags from /proc/cpuinfo (never assume them:
the same cloud instance type has come with and without BF16), and fingerprint the host."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

#: The flags that decide how fast an engine runs here (bf16 needs avx512_bf16 or AMX to be
#: native; llama.cpp's and oneDNN's kernels pick AVX2/AVX-512 paths).
ENGINE_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_int8", "fma", "f16c")


@dataclass(frozen=True)
class CpuFacts:
    """The CPU as /proc/cpuinfo and the scheduler describe it."""

    model: str
    #: ENGINE_FLAGS present on this CPU, in ENGINE_FLAGS order.
    flags: tuple[str, ...]
    cores: int
    usable_cores: int
    #: cgroup v2 cpu.max quota in CPUs (e.g. 1.5), None when unlimited or unknown.
    cpu_quota: float | None
    kernel: str

    @property
    def native_bf16(self) -> bool:
        """Whether bf16 matmuls run natively (AVX512-BF16 or AMX), not emulated."""
        return "avx512_bf16" in self.flags or "amx_bf16" in self.flags

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, for the manifest."""
        d = asdict(self)
        d["flags"] = list(self.flags)
        d["native_bf16"] = self.native_bf16
        return d


def _cpuinfo(text: str) -> tuple[str, set[str]]:
    model = platform.processor() or "unknown"
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model in ("", "unknown", platform.processor()):
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    return model, flags


def _cgroup_quota(path: Path = Path("/sys/fs/cgroup/cpu.max")) -> float | None:
    try:
        quota, period = path.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return round(int(quota) / int(period), 2)
    except (ValueError, ZeroDivisionError):
        return None


def cpu_facts(cpuinfo: str | None = None) -> CpuFacts:
    """This machine's CPU facts; `cpuinfo` replaces /proc/cpuinfo's text (tests)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    model, flags = _cpuinfo(cpuinfo)
    return CpuFacts(
        model=model,
        flags=tuple(f for f in ENGINE_FLAGS if f in flags),
        cores=os.cpu_count() or 1,
        usable_cores=len(os.sched_getaffinity(0)),
        cpu_quota=_cgroup_quota(),
        kernel=platform.release(),
    )


def host_fingerprint(facts: CpuFacts | None = None) -> str:
    """12 hex digits naming the speed-relevant facts (CPU model, engine flags, usable cores,
    quota): equal on two machines of the same kind, different when any of them differs."""
    f = facts or cpu_facts()
    key = json.dumps([f.model, list(f.flags), f.usable_cores, f.cpu_quota])
    return hashlib.sha256(key.encode()).hexdigest()[:12]
