"""The report's host line and host warnings, read from a run manifest: disturbance by
processes outside the stacks, CPU steal, idle stacks, engines built without the CPU's
instruction sets, and the note when two runs come from different hosts."""

from __future__ import annotations

from typing import Any

from workbench.report.host import (
    cross_host_note,
    disturbance_warnings,
    host_line,
    host_warnings,
)

QUIET: dict[str, Any] = {
    "duration_s": 120.0, "samples": 60, "cores": 2, "load_max": 1.9, "load_mean": 1.2,
    "runnable_max": 3, "load_over_cores_share": 0.05, "steal_share": 0.004,
    "steal_max_share": 0.02, "outside_cores_mean": 0.03, "intruders": []}
INTRUDERS = [{"name": "cc1plus: -quiet -I src", "pid": 4242, "cpu_s": 150.0, "cores": 1.25},
             {"name": "python: -m pytest", "pid": 77, "cpu_s": 30.0, "cores": 0.25}]
HARDWARE = {"fingerprint": "c2310438ae94", "cpu": "AMD EPYC", "cpu_flags": ["avx2", "fma"],
            "native_bf16": False, "cores": 2, "usable_cores": 2, "cpu_quota": None,
            "ram_gib": 23.5, "gpus": [],
            "calibration": {"tool": "llama-bench", "model": "SmolLM2.gguf", "threads": 2,
                            "prefill_tok_s": 612.3, "decode_tok_s": 98.8, "load_before": 0.4,
                            "measured_utc": "2026-12-07T19:00:00+00:00", "busy": False}}


def test_a_quiet_run_has_no_host_warning() -> None:
    assert host_warnings({"host_load": QUIET, "hardware": HARDWARE}) == []


def test_load_from_outside_processes_is_a_disturbance_naming_them() -> None:
    busy = {**QUIET, "load_over_cores_share": 0.4, "runnable_max": 7, "load_max": 6.5,
            "outside_cores_mean": 1.5, "intruders": INTRUDERS}
    [warning] = disturbance_warnings(busy)
    assert warning.startswith("the run was disturbed: the load was above the 2 cores for 40%")
    assert "cc1plus: -quiet -I src (pid 4242, 150 CPU-s)" in warning
    assert "python: -m pytest (pid 77, 30 CPU-s)" in warning
    assert "1.50 cores" in warning


def test_load_from_the_stacks_own_threads_is_not_blamed_on_anyone() -> None:
    # Over the cores for most of the run, but nothing outside the stacks used CPU.
    assert disturbance_warnings({**QUIET, "load_over_cores_share": 0.9}) == []
    # A short busy spell (under a tenth of the run) is not a disturbance either.
    assert disturbance_warnings({**QUIET, "load_over_cores_share": 0.08,
                                 "outside_cores_mean": 1.0, "intruders": INTRUDERS}) == []


def test_cpu_steal_above_five_percent_is_a_disturbance() -> None:
    [warning] = disturbance_warnings({**QUIET, "steal_share": 0.083, "steal_max_share": 0.31})
    assert "hypervisor stole 8.3% of the CPU time (up to 31% in one sample)" in warning
    assert disturbance_warnings({**QUIET, "steal_share": 0.049}) == []


def test_an_engine_built_without_the_cpus_instruction_sets_is_named() -> None:
    builds = {"llamacpp-cpu": {"flags": {"AVX2": True, "AVX512": False}, "missing": ["AVX512"],
                               "source": "library"},
              "other": {"flags": {"AVX2": True}, "missing": []}}
    [warning] = host_warnings({"engine_builds": builds})
    assert warning.startswith("llamacpp-cpu: llama.cpp was built without AVX512, which")
    same = {**builds, "llamacpp-b": builds["llamacpp-cpu"]}
    [warning] = host_warnings({"engine_builds": same})  # one build, one warning
    assert warning.startswith("llamacpp-cpu, llamacpp-b: llama.cpp was built without AVX512")


def test_the_host_line() -> None:
    line = host_line({"hardware": HARDWARE, "host_load": QUIET})
    assert line == (
        "Host: AMD EPYC (avx2 fma; no native bf16), 2 cores, 23.5 GiB RAM, no GPU "
        "[host c2310438ae94]; calibration: prefill 612 tok/s, decode 99 tok/s (llama-bench, "
        "SmolLM2.gguf, 2 threads, measured 2026-12-07 at load 0.4); during the run: load "
        "1.2 mean, 1.9 max, steal 0.4%")
    gpu = {**HARDWARE, "calibration": None, "cpu_quota": 1.5,
           "gpus": [{"name": "NVIDIA H100 80GB HBM3", "memory_mib": 81559}]}
    line = host_line({"hardware": gpu})
    assert line is not None
    assert "2 cores (cgroup quota 1.5 CPUs)" in line and "NVIDIA H100 80GB HBM3 81559 MiB" in line
    assert line.endswith("not calibrated (`workbench host calibrate`)")
    assert host_line({}) is None


def test_runs_from_different_hosts_are_said_to_differ() -> None:
    here = {"hardware": HARDWARE}
    there = {"hardware": {**HARDWARE, "fingerprint": "0123456789ab", "cpu": "Intel Xeon"}}
    note = cross_host_note(here, there)
    assert note is not None and "different hosts" in note
    assert "c2310438ae94: AMD EPYC" in note and "0123456789ab: Intel Xeon" in note
    assert cross_host_note(here, dict(here)) is None
    old = cross_host_note(here, {"schedule": "interleaved"})
    assert old is not None and "does not record its host" in old


def test_idle_cpu_is_material_only_when_it_takes_a_share_of_a_core() -> None:
    from workbench.report.host import idle_warnings

    # Measured at load 26: an idle llama-server's housekeeping over minute-long answers.
    crowded = {"host-a": {"cpu_s": 0.48, "idle_s": 293.8, "others_answers": 6,
                          "cpu_s_per_other_answer": 0.08, "cores_while_idle": 0.0016}}
    assert idle_warnings(crowded) == []
    # vLLM's idle engine as once seen: 2.0 CPU-s per answer.
    busy = {"vllm-cpu": {"cpu_s": 40.0, "idle_s": 20.0, "others_answers": 20,
                         "cpu_s_per_other_answer": 2.0, "cores_while_idle": 2.0}}
    [warning] = idle_warnings(busy)
    # Measured here at load 21: an idle vLLM CPU engine while llama.cpp answered.
    vllm = {"host-v": {"cpu_s": 3.02, "idle_s": 178.9, "others_answers": 6,
                       "cpu_s_per_other_answer": 0.5033, "cores_while_idle": 0.0169}}
    assert idle_warnings(vllm)[0].startswith("idle stack host-v used 0.50 CPU-s per answer")
    assert warning.startswith("idle stack vllm-cpu used 2.00 CPU-s per answer of the other "
                              "stacks while they were measured (2.00 cores)")
