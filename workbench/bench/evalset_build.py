"""Bench: questions generated per minute by `workbench evalsets build` on this machine.

Builds an eval set from the project's own test documents (.txt, .md, .html and a PDF
written with reportlab when it is installed) with each question-writer model, twice,
cache off, one llama-server per model (started once; its start-up is printed, not
counted). "Generated" counts every pair the model wrote; "kept" those that passed the
span, giveaway and duplicate checks: the rate a user sees. Per minute of model time.

Environment: `EVALSET_BENCH_MODELS` (comma-separated registry names; default the 1.5B and
the 0.5B Qwen2.5-Coder), `EVALSET_BENCH_PASSAGES` (default 3), `EVALSET_BENCH_ROUNDS`
(default 2). `run(tiny=True)` is the smoke test: SmolLM2-135M, 1 passage, 1 round.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from workbench.evalsets.builder.sample import sample_docs

DEFAULT_MODELS = ("qwen2.5-1.5b-instruct", "qwen2.5-0.5b-instruct")


def measure(model: str, passages: int, rounds: int, tmp: Path) -> list[dict[str, float]]:
    """One llama-server for `model`, `rounds` builds of `passages` passages, cache off."""
    # why here: evalsets.builder imports scipy (SciPy takes seconds to import)
    from workbench.evalsets.builder import BuildOptions, build_evalset, question_writer
    from workbench.evalsets.builder.build import NothingKeptError

    docs = sample_docs(tmp)
    started = time.perf_counter()
    results = []
    with question_writer(model, log=tmp / f"{model}.log", cache_dir=None) as (writer, engine):
        writer.start()
        print(f"  {model}: {engine} ready in {time.perf_counter() - started:.1f} s", flush=True)
        for r in range(rounds):
            out = tmp / f"{model}-{r}"
            opts = BuildOptions(docs=docs, out=out, model=model, passage_chars=300,
                                max_passages=passages, unanswerable_share=0.25)
            try:
                res = build_evalset(opts, writer, engine=engine)
                generated, kept, seconds = res.generated, res.questions, res.gen_s
            except NothingKeptError as exc:  # a small model's bad round is a number too
                generated, kept, seconds = exc.generated, 0, exc.gen_s
            per_min = generated / seconds * 60.0 if seconds else 0.0
            kept_min = kept / seconds * 60.0 if seconds else 0.0
            results.append({"generated_per_min": per_min, "kept_per_min": kept_min,
                            "generated": generated, "kept": kept, "seconds": seconds})
            print(f"    round {r + 1}: {generated} written, {kept} kept in {seconds:.0f} s "
                  f"-> {per_min:.2f} written/min, {kept_min:.2f} kept/min (load average "
                  f"{os.getloadavg()[0]:.1f})", flush=True)
    return results


def run(tiny: bool = False) -> None:
    """Print questions generated (and kept) per minute for each model, each round."""
    env = os.environ
    models = (("smollm2-135m-instruct",) if tiny else
              tuple(m for m in env.get("EVALSET_BENCH_MODELS", "").split(",") if m)
              or DEFAULT_MODELS)
    passages = 1 if tiny else int(env.get("EVALSET_BENCH_PASSAGES", "3"))
    rounds = 1 if tiny else int(env.get("EVALSET_BENCH_ROUNDS", "2"))
    print(f"evalset build: {passages} passages x {rounds} rounds per model, cache off, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="evalset-bench-") as tmp:
        for model in models:
            measure(model, passages, rounds, Path(tmp) / model)


if __name__ == "__main__":
    run()
