"""The tuning probe: serve a fixed prompt set under each candidate setting of an engine
(`workbench.stacks.tuning.candidates`) and keep the fastest whose answers match the
reference setting's at temperature 0.

Each candidate is a real engine started on free loopback ports (prefix caching off, so
every request computes its whole prompt), asked one warm-up request (not counted), then
the prompts `REPEATS` times, streaming, timed on the client (`time.perf_counter`): TTFT =
first content chunk - request start, E2E = end of stream - request start; prefill tok/s =
prompt tokens / TTFT, decode tok/s = (completion tokens - 1) / (E2E - TTFT), tokens as the
server reports them. Every request decodes exactly `MAX_TOKENS` tokens (`ignore_eos`), so
the candidates do the same work. The result, with each candidate's time and match and the
load average, is cached (`tuning.save_result`) and recorded in run manifests.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any, cast

from workbench.host import CpuFacts, cpu_facts
from workbench.settings import Settings
from workbench.stacks.engines import LaunchContext
from workbench.stacks.engines.base import EngineAdapter
from workbench.stacks.engines.registry import adapter_for, get_adapter
from workbench.stacks.process import (
    LaunchError,
    NotReadyInTimeError,
    free_port,
    spawn,
    stop_group,
    wait_healthy,
)
from workbench.stacks.recipe import Stack
from workbench.stacks.tuning import (
    CandidateResult,
    EngineSetting,
    answers_agree,
    candidates,
    choose,
    host_rule,
    load_result,
    probe_key,
    recipe_pins,
    save_result,
    tunable,
)

#: The prompts the probe asks: four demo-en questions (two answerable in different topics,
#: one answerable with a number, one the context cannot answer), each with six passages
#: (~400 prompt tokens: the size of a top-k 4-6 RAG prompt), as the RAG service builds them.
#: Data, because the eval sets and the RAG service sit a floor above the stacks; written by
#: `python -m workbench.evalsets.tuning_prompts`, which a test holds to demo-en and the template.
PROMPT_SET = Path(__file__).with_name("tuning_prompts.json")
#: Tokens every probe request decodes (`ignore_eos`), so the candidates do the same work.
MAX_TOKENS = 24
REPEATS = 2
#: A candidate whose first round takes this many times the best so far stops there.
GIVE_UP_SHARE = 1.5
#: A candidate not ready within this many times the reference's start-up (at least
#: `READY_FLOOR_S`) is given up: a compiled vLLM compiling for ten minutes on a busy CPU
#: would make the probe, and every first start after it, that slow.
READY_SHARE = 3.0
READY_FLOOR_S = 120.0

Messages = list[dict[str, str]]


def probe_prompts() -> list[Messages]:
    """The fixed prompt set: RAG prompts built by the RAG service's own template from demo-en
    (`PROMPT_SET`, written by `workbench.evalsets.tuning_prompts`), each question's gold
    passage first, then the passages after it in the corpus."""
    data = json.loads(PROMPT_SET.read_text(encoding="utf-8"))
    prompts: list[Messages] = data["prompts"]
    return prompts


@dataclass(frozen=True)
class Reply:
    """One timed streamed completion."""

    text: str
    ttft_s: float
    e2e_s: float
    prompt_tokens: int
    completion_tokens: int


def ask(stack: Stack, messages: Messages, max_tokens: int = MAX_TOKENS) -> Reply:
    """One streamed chat completion at temperature 0, timed on the client."""
    # why here: openai takes seconds to import
    from openai import OpenAI

    assert stack.engine_base_url is not None and stack.model is not None
    client = OpenAI(base_url=stack.engine_base_url, api_key="none", timeout=300, max_retries=0)
    # The engine's own prefix-cache switch off (llama.cpp's cache_prompt): repeats time
    # the whole prompt.
    params = get_adapter(stack.engine).shape_request(
        {"extra_body": {"ignore_eos": True}}, prefix_caching=False)
    extra: dict[str, Any] = params["extra_body"]
    start = time.perf_counter()
    first = 0.0
    parts: list[str] = []
    prompt_tokens = completion_tokens = 0
    stream = client.chat.completions.create(
        model=stack.model.name, messages=cast(Any, messages),
        max_tokens=max_tokens, temperature=0, seed=0, stream=True,
        stream_options={"include_usage": True}, extra_body=extra,
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            first = first or time.perf_counter()
            parts.append(chunk.choices[0].delta.content)
        if chunk.usage is not None:
            prompt_tokens = chunk.usage.prompt_tokens
            completion_tokens = chunk.usage.completion_tokens
    end = time.perf_counter()
    return Reply("".join(parts), (first or end) - start, end - start, prompt_tokens,
                 completion_tokens)


def _adapter(stack: Stack) -> EngineAdapter:
    adapter = adapter_for(stack)
    assert adapter.tuning is not None, adapter  # only tuned engines are probed
    return adapter


def _probe_stack(stack: Stack) -> Stack:
    # Prefix caching off: the repeats would otherwise skip the prompt they time.
    generation = stack.generation.model_copy(update={"prefix_caching": False})
    return stack.with_ports(free_port(), free_port()).model_copy(
        update={"generation": generation})


def measure(stack: Stack, setting: EngineSetting, settings: Settings, prompts: list[Messages],
            workdir: Path, beat: float | None = None,
            repeats: int = REPEATS, ready_limit_s: float | None = None) -> CandidateResult:
    """Start the engine under `setting`, ask the prompts, stop it; never raises for an
    engine that fails (the result carries the error). `beat`: the best time so far; a
    candidate whose first round already takes `GIVE_UP_SHARE` times that cannot win and
    stops there (its time is that round's, and the result says so)."""
    placed = _probe_stack(stack)
    adapter = _adapter(placed)
    slug = "".join(c if c.isalnum() else "-" for c in setting.label)
    ctx = LaunchContext(settings=settings, run_dir=workdir / slug)
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    result = CandidateResult(setting=setting, load=round(os.getloadavg()[0], 2))
    proc = adapter.process_for(placed, ctx, setting)
    started = time.perf_counter()
    pid = spawn(proc.argv, proc.env, ctx.log("engine"))
    try:
        health = adapter.health_url(placed)
        assert health is not None
        timeout = min(proc.health_timeout_s, ready_limit_s or proc.health_timeout_s)
        wait_healthy(health, pid, timeout, f"{placed.engine} ({setting.label})",
                     proc.argv, ctx.log("engine"), ready=lambda: adapter.ready(placed))
        result.ready_s = round(time.perf_counter() - started, 2)
        ask(placed, prompts[0])  # warm-up, not counted
        first: list[Reply] = []
        spent = 0.0
        limit = beat * GIVE_UP_SHARE if beat is not None else float("inf")
        for p in prompts:
            first.append(ask(placed, p))
            spent += first[-1].e2e_s
            if spent > limit:
                break
        rounds = [first]
        if spent > limit:  # it cannot win: no need to hear the rest
            result.note = (f"stopped after {len(first)} of {len(prompts)} prompts: "
                           f"{spent:.2f} s, over {GIVE_UP_SHARE:g}x the best so far "
                           f"({beat or 0:.2f} s)")
        else:
            rounds += [[ask(placed, p) for p in prompts] for _ in range(repeats - 1)]
    except (LaunchError, OSError, RuntimeError, ValueError) as exc:
        result.error = _said(str(exc))
        result.timed_out = isinstance(exc, NotReadyInTimeError)
        return result
    except Exception as exc:  # the openai client's errors: a failed candidate, not a crash
        result.error = _said(f"{type(exc).__name__}: {exc}")
        return result
    finally:
        stop_group(pid)
        adapter.after_stop(placed, ctx)
    per_prompt = list(zip(*rounds, strict=True))
    result.answers = [r[0].text for r in per_prompt]
    result.seconds = round(sum(median(r.e2e_s for r in replies) for replies in per_prompt), 3)
    replies_all = [r for replies in per_prompt for r in replies]
    ttft = sum(r.ttft_s for r in replies_all)
    decode_s = sum(r.e2e_s - r.ttft_s for r in replies_all)
    result.prefill_tok_s = round(sum(r.prompt_tokens for r in replies_all) / ttft, 1)
    if decode_s > 0:
        result.decode_tok_s = round(
            sum(max(0, r.completion_tokens - 1) for r in replies_all) / decode_s, 1)
    # Repeats must agree with each other too: a setting that answers differently twice is
    # not one whose answers can be trusted.
    result.agreed = sum(all(answers_agree(replies[0].text, r.text) for r in replies)
                        for replies in per_prompt)
    result.matches = result.agreed == len(prompts)
    return result


def _said(message: str) -> str:
    # The first line says what failed ("... not healthy ... within 600 s"); the log's tail why.
    first, _, rest = message.partition("\n")
    return first[:300] + ("\n" + rest[-500:] if rest else "")


def compare_to_reference(reference: CandidateResult, other: CandidateResult) -> None:
    """Set `other.agreed`/`matches` against the reference's answers (prompt by prompt)."""
    if other.error is not None or not other.answers:
        other.matches = False
        return
    consistent = other.matches  # from measure: each prompt's repeats agree
    # One that stopped early answered fewer prompts: it cannot be shown to match.
    other.agreed = sum(answers_agree(a, b) for a, b in
                       zip(reference.answers, other.answers, strict=False))
    other.matches = consistent and other.agreed == len(reference.answers)


def probe_order(stack: Stack, facts: CpuFacts) -> list[EngineSetting]:
    """The candidates in the order the probe tries them: the reference first (it defines the
    right answers), then the host rule's setting (the one a launch runs unprobed), then the
    rest as the engine lists them; so a probe cut short by a budget has still verified the
    setting a launch would otherwise run unverified."""
    listed = candidates(stack, facts)
    rule = host_rule(stack, facts)
    rest = listed[1:]
    if rule in rest:
        rest.remove(rule)
        rest.insert(0, rule)
    return listed[:1] + rest


def probe(stack: Stack, settings: Settings, facts: CpuFacts | None = None,
          say: Callable[[str], None] | None = None, early_stop: bool = True,
          repeats: int = REPEATS, budget_s: float | None = None) -> dict[str, Any]:
    """Measure every candidate of `stack`'s engine here, choose, cache and return the result.
    `early_stop=False` hears every candidate out (tests: every setting answers every prompt).
    `budget_s`: after the first two candidates (the reference and the host rule's setting),
    no candidate starts once this many seconds have passed, and none may take longer than
    what is left to become ready; the result lists the skipped ones (`complete` false).
    Raises ValueError when the stack is not tunable here or its engine or model is missing."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    facts = facts or cpu_facts()
    why_not = tunable(stack)
    if why_not is not None:
        raise ValueError(f"stack {stack.name!r} is not tuned: {why_not}")
    key = probe_key(stack, settings, facts)
    if key is None:
        raise ValueError(f"stack {stack.name!r}: its engine or model is not installed here")
    _adapter(stack).prepare_model(stack, settings)  # vLLM serves the GGUF's conversion
    settings_list = probe_order(stack, facts)
    prompts = probe_prompts()
    started = time.perf_counter()
    load_before = [round(x, 2) for x in os.getloadavg()]
    results: list[CandidateResult] = []
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="tune-", dir=settings.state_dir))
    skipped: list[str] = []
    cut = ""  # why the budget stopped the probe, when it did
    try:
        for n, setting in enumerate(settings_list, 1):
            left = budget_s - (time.perf_counter() - started) if budget_s else None
            if left is not None and n > 2 and left <= 0:
                skipped = [s.label for s in settings_list[n - 1:]]
                cut = f"the {budget_s:g} s probe budget is spent"
                break
            say(f"tuning {stack.engine} ({n}/{len(settings_list)}): {setting.label} ...")
            timed = [r.seconds for r in results
                     if early_stop and r.matches and r.seconds is not None]
            ready = results[0].ready_s if results else None
            ready_limit = max(READY_FLOOR_S, READY_SHARE * ready) if ready else None
            budget_cut = False
            if left is not None and n > 2:  # a start-up that cannot end within the budget
                budget_cut = ready_limit is None or max(left, 1.0) <= ready_limit
                ready_limit = max(left, 1.0) if budget_cut else ready_limit
            result = measure(stack, setting, settings, prompts, workdir,
                             beat=min(timed) if timed else None, repeats=repeats,
                             ready_limit_s=ready_limit)
            if budget_cut and result.error is not None and result.ready_s is None:
                # Not ready in what was left of the budget: not tried, rather than failed
                # (a compiled vLLM given a minute is no verdict on compiled vLLM).
                skipped = [s.label for s in settings_list[n - 1:]]
                cut = (f"{setting.label} was not ready within the {ready_limit:.0f} s left of "
                       f"the {budget_s:g} s probe budget")
                break
            if budget_s and n > 2 and result.timed_out:
                # `up`'s own probe on a busy host: still compiling when its start-up limit
                # ran out (seen at load 12: fp32 compiled, 159 s) is slow here and now, not
                # wrong; cached as failed it would never be tried again. `make tune`, with
                # no budget, judges it.
                skipped = [s.label for s in settings_list[n - 1:]]
                cut = (f"{setting.label} was still starting after its {ready_limit:.0f} s "
                       f"start-up limit (load {result.load})")
                break
            if results:
                compare_to_reference(results[0], result)
            else:
                result.matches = result.error is None  # the reference defines "right"
            results.append(result)
            said = (f"{result.seconds:.2f} s, prefill {result.prefill_tok_s} tok/s, decode "
                    f"{result.decode_tok_s} tok/s, {result.agreed}/{len(prompts)} agree"
                    if result.error is None else f"failed: {result.error.splitlines()[0]}")
            said += f" ({result.note})" if result.note else ""
            say(f"  {setting.label}: {said}")
        if skipped:
            say(f"tuning {stack.engine}: {cut}; not tried: {', '.join(skipped)} "
                "(`make tune` tries them)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    chosen, reason = choose(results)
    result_doc = {
        "key": key,
        "stack": stack.name,
        "probed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_flags": list(facts.flags),
        "native_bf16": facts.native_bf16,
        "load_avg": {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]},
        "probe_s": round(time.perf_counter() - started, 1),
        "prompts": len(prompts), "repeats": repeats, "max_tokens": MAX_TOKENS,
        "reference": results[0].label if results else None,
        "chosen": chosen.setting.to_dict() if chosen is not None else None,
        "chosen_label": chosen.label if chosen is not None else None,
        "reason": reason,
        "candidates": [r.to_dict() for r in results],
        "budget_s": budget_s or None,
        "skipped": skipped,
        "complete": not skipped,
    }
    if chosen is not None:  # a failed reference is not cached: the next `up` tries again
        save_result(result_doc, settings)
    say(f"tuning {stack.engine}: {reason}")
    return result_doc


def ensure_tuned(stack: Stack, settings: Settings) -> None:
    """At `up`: probe once when tuning is on, the recipe leaves the setting to the probe, and
    this host has no cached result. A failed probe warns and the launch goes on with the
    host rule's setting (the manifest then says it was not verified)."""
    if (not settings.tune or not stack.tuning.probe or tunable(stack) is not None
            or recipe_pins(stack) or load_result(stack, settings) is not None):
        return
    if probe_key(stack, settings) is None:
        return  # the launch itself says what is missing
    budget = settings.tune_budget_s or None
    print(f"stack {stack.name!r}: no tuning result for this host yet; probing {stack.engine} "
          f"once ({f'at most about {budget:g} s; ' if budget else ''}WORKBENCH_TUNE=off skips "
          "it, `make tune` probes every setting)", file=sys.stderr, flush=True)
    try:
        probe(stack, settings, budget_s=budget)
    except Exception as exc:  # tuning must never stop a launch
        print(f"warning: tuning {stack.name!r} failed ({exc}); using the host rule's setting",
              file=sys.stderr, flush=True)


