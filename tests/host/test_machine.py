"""The manifest's hardware block from fake /proc text and a fake nvidia-smi on PATH (no GPU
here: the fake prints what nvidia-smi's documented `--query-gpu ... --format=csv,noheader,
nounits` prints)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workbench.host.facts import cpu_facts, host_fingerprint
from workbench.host.machine import gpus, host_record, memory_gib
from workbench.runner.manifest import hardware

CPUINFO_SAPPHIRE = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx avx2 fma f16c avx512f avx512_bf16 amx_bf16 amx_int8 avx512_vnni
processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx avx2 fma f16c avx512f avx512_bf16 amx_bf16 amx_int8 avx512_vnni
"""
CPUINFO_EPYC = """processor\t: 0
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse2 avx avx2 fma f16c
"""
MEMINFO = "MemTotal:       24683772 kB\nMemFree:         1000000 kB\nMemAvailable:   23345644 kB\n"


def fake_nvidia_smi(folder: Path, script: str) -> None:
    """An executable `nvidia-smi` in `folder` running `script` (bash)."""
    path = folder / "nvidia-smi"
    path.write_text("#!/bin/bash\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


H100 = ('echo "NVIDIA H100 80GB HBM3, 81559, 550.54.15, 9.0"\n'
        'echo "NVIDIA H100 80GB HBM3, 81559, 550.54.15, 9.0"\n')


def test_host_record_from_fake_proc_and_nvidia_smi(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fake_nvidia_smi(tmp_path, 'case "$1" in --query-gpu=*) ' + H100.replace("\n", "; ")
                    + ";; *) exit 9;; esac\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    facts = cpu_facts(CPUINFO_SAPPHIRE)
    record = host_record(facts, MEMINFO)
    assert record["cpu"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert record["cpu_flags"] == ["avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_int8",
                                   "fma", "f16c"]
    assert record["native_bf16"] is True
    assert record["ram_gib"] == 23.5 and record["ram_available_gib"] == 22.3
    assert record["fingerprint"] == host_fingerprint(facts)
    assert record["gpus"] == [{"name": "NVIDIA H100 80GB HBM3", "memory_mib": 81559,
                               "driver": "550.54.15", "compute_capability": "9.0"}] * 2
    assert record["cores"] >= 1 and record["kernel"]


def test_an_old_driver_without_compute_cap_is_asked_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Drivers before 510 reject the compute_cap field (exit 2), as nvidia-smi documents.
    fake_nvidia_smi(tmp_path, 'if [[ "$1" == *compute_cap* ]]; then echo "Field \\"compute_cap'
                    '\\" is not a valid field to query." >&2; exit 2; fi\n'
                    'echo "Tesla T4, 15360, 470.82.01"\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert gpus() == [{"name": "Tesla T4", "memory_mib": 15360, "driver": "470.82.01",
                       "compute_capability": None}]


def test_no_nvidia_smi_or_a_failing_one_means_no_gpu(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpus() == []
    fake_nvidia_smi(tmp_path, 'echo "NVIDIA-SMI has failed" >&2; exit 9\n')
    assert gpus() == []


def test_fingerprint_differs_with_the_engine_flags() -> None:
    epyc, xeon = cpu_facts(CPUINFO_EPYC), cpu_facts(CPUINFO_SAPPHIRE)
    assert epyc.flags == ("avx2", "fma", "f16c") and not epyc.native_bf16
    assert host_fingerprint(epyc) != host_fingerprint(xeon)
    assert host_fingerprint(epyc) == host_fingerprint(cpu_facts(CPUINFO_EPYC))


def test_memory_of_a_bad_meminfo_is_unknown() -> None:
    assert memory_gib("garbage\nMemTotal: lots\n") == {"total_gib": None, "available_gib": None}


def test_manifest_hardware_block_is_this_host(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi
    hw = hardware()
    assert hw["fingerprint"] == host_fingerprint()
    assert set(hw["cpu_flags"]) <= {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_int8",
                                    "fma", "f16c"}
    assert hw["gpus"] == [] and hw["usable_cores"] == len(os.sched_getaffinity(0))
    assert "calibration" in hw
