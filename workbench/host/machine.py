"""The whole machine on the record: CPU facts, memory, kernel and the GPUs nvidia-smi lists.

The one place that asks whether this machine has NVIDIA GPUs: `has_nvidia_gpu` (the
driver's `nvidia-smi` is installed: a native GPU engine may start), `gpu_available` (it
lists at least one GPU: the default stacks are the GPU ones) and `gpus` (what each is).

Every reader takes its source text as an argument (tests pass fake /proc text and a fake
`nvidia-smi` on PATH); the defaults read this machine.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from workbench.host.facts import CpuFacts, cpu_facts, host_fingerprint

#: What nvidia-smi is asked per GPU (`--query-gpu`); compute_cap needs driver 510+, so an
#: older driver is asked again without it.
GPU_FIELDS = ("name", "memory.total", "driver_version", "compute_cap")


def memory_gib(meminfo: str | None = None) -> dict[str, float | None]:
    """MemTotal and MemAvailable from /proc/meminfo (GiB, one decimal)."""
    if meminfo is None:
        try:
            meminfo = Path("/proc/meminfo").read_text()
        except OSError:
            meminfo = ""
    found: dict[str, float | None] = {"total_gib": None, "available_gib": None}
    for line in meminfo.splitlines():
        key, _, rest = line.partition(":")
        name = {"MemTotal": "total_gib", "MemAvailable": "available_gib"}.get(key.strip())
        parts = rest.split()
        if name and parts and parts[0].isdigit():
            found[name] = round(int(parts[0]) / 2**20, 1)  # kB -> GiB
    return found


def _query(fields: tuple[str, ...], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nvidia-smi", f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"],
        capture_output=True, text=True, timeout=timeout, check=False)


def has_nvidia_gpu() -> bool:
    """Whether the NVIDIA driver is here (`nvidia-smi` on PATH)."""
    return shutil.which("nvidia-smi") is not None


def gpu_available(timeout: float = 10.0) -> bool:
    """Whether an NVIDIA GPU is usable here: `nvidia-smi -L` succeeds and lists one."""
    if not has_nvidia_gpu():
        return False
    try:
        done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and "GPU" in done.stdout


def gpus(timeout: float = 10.0) -> list[dict[str, Any]]:
    """Each GPU nvidia-smi lists: name, memory (MiB), driver and compute capability (None
    where the driver cannot say). No nvidia-smi, or one that fails: no GPUs."""
    if shutil.which("nvidia-smi") is None:
        return []
    fields: tuple[str, ...] = GPU_FIELDS
    try:
        out = _query(fields, timeout)
        if out.returncode != 0:  # an older driver rejects compute_cap: ask without it
            fields = GPU_FIELDS[:-1]
            out = _query(fields, timeout)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    found: list[dict[str, Any]] = []
    for line in out.stdout.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) < len(fields) or not cells[0]:
            continue
        row = dict(zip(fields, cells, strict=False))
        memory = row.get("memory.total", "")
        found.append({
            "name": row["name"],
            "memory_mib": int(memory) if memory.isdigit() else None,
            "driver": row.get("driver_version") or None,
            "compute_capability": (row.get("compute_cap") or None)
            if row.get("compute_cap") not in ("[N/A]", "N/A") else None,
        })
    return found


def host_record(facts: CpuFacts | None = None, meminfo: str | None = None) -> dict[str, Any]:
    """The manifest's hardware block: the host's fingerprint, CPU model and engine flags,
    cores and quota, memory, kernel, OS and GPUs."""
    f = facts or cpu_facts()
    mem = memory_gib(meminfo)
    return {
        "fingerprint": host_fingerprint(f),
        "cpu": f.model,
        "cpu_flags": list(f.flags),
        "native_bf16": f.native_bf16,
        "cores": f.cores,
        "usable_cores": f.usable_cores,
        "cpu_quota": f.cpu_quota,
        "ram_gib": mem["total_gib"],
        "ram_available_gib": mem["available_gib"],
        "kernel": f.kernel,
        "gpus": gpus(),
        "os": platform.platform(),
        "python": platform.python_version(),
    }
