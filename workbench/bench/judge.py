"""Bench: answers judged per minute by the local judge on this machine.

Each model is started once on llama.cpp (`scoring.local_judge`; its start-up is printed,
not counted), then judges answers in each round with a fresh, cache-less `Judge`
(so every answer costs a call, as a first report does): correctness, relevance and one
verdict per claim, schema-constrained. The answers are built from the project's demo-en
set (other questions in each round): each question's gold passage plus one other passage as
the retrieved context, and an answer that alternates between the gold (with a second,
unsupported sentence) and a wrong one, so replies are as long as in a real report. Per
minute of wall time, with the load average printed beside it: on a shared machine the wall
clock measures the neighbours too.

Environment: `JUDGE_BENCH_MODELS` (comma-separated registry names; default the 1.5B and
the 0.5B Qwen2.5-Coder), `JUDGE_BENCH_ANSWERS` (default 6), `JUDGE_BENCH_ROUNDS` (default
2). `run(tiny=True)` is the smoke test: SmolLM2-135M, 2 answers, 1 round.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from workbench.evalsets import load_evalset
from workbench.records.responses import RequestTiming, ResponseRecord, RetrievedSource
from workbench.scoring.base import Sample

DEFAULT_MODELS = ("qwen2.5-1.5b-instruct", "qwen2.5-0.5b-instruct")


def answers(n: int, start: int = 0) -> list[Sample]:
    """`n` judged samples from demo-en (question, two retrieved passages, an answer), from
    the `start`-th answerable question on."""
    evalset = load_evalset("demo-en")
    texts = {p.id: p.text for p in evalset.passages}
    ids = sorted(texts)
    out = []
    for i, q in enumerate([q for q in evalset.questions if q.answerable][start:start + n]):
        gold = q.gold_doc_ids[0]
        other = ids[(ids.index(gold) + 7) % len(ids)]
        answer = (f"The answer is {q.answers[0]}. This was decided in 2019." if i % 2 == 0
                  else "The answer is not what the handbook says: it is 42.")
        out.append(Sample(q, ResponseRecord(
            run_id="bench", question_id=q.id, stack="bench", attempt=1, status="ok",
            answer=answer, sources=[RetrievedSource(doc_id=gold, rank=1, text=texts[gold]),
                                    RetrievedSource(doc_id=other, rank=2, text=texts[other])],
            timing=RequestTiming(request_start=0.0, first_token=0.1, last_token=0.2,
                                 request_end=0.2, token_times=[0.1, 0.2],
                                 started_at_utc="2026-01-01T00:00:00Z"))))
    return out


def measure(model: str, n: int, rounds: int, log_dir: Path) -> list[float]:
    """Answers judged per minute in each round (one server, a fresh judge per round)."""
    # why here: scoring.judge imports scipy (SciPy takes seconds to import)
    from workbench.scoring.judge import Judge
    from workbench.scoring.local_judge import local_judge

    rates = []
    with local_judge(model, log_dir=log_dir, sample=None) as server:
        started = time.perf_counter()
        server.start()
        print(f"  {model}: llama-server ready in {time.perf_counter() - started:.1f} s",
              flush=True)
        for r in range(1, rounds + 1):
            # Other questions each round: the same prompts again would be answered from
            # llama-server's prompt cache (measured: 97 s against 570 s for the first time).
            samples = answers(n, start=(r - 1) * n)
            judge = Judge(base_url=server.base_url, model=model, digest_of_model=server.digest,
                          sample=None, max_workers=server.max_workers,
                          max_context_chars=server.max_context_chars)
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            grades = judge.grade(samples)
            wall = time.perf_counter() - t0
            readable = sum(g.readable for g in grades)
            rate = len(samples) / wall * 60.0
            rates.append(rate)
            print(f"  {model} round {r}: {len(samples)} answers in {wall:.1f} s = "
                  f"{rate:.2f} answers/min ({readable} verdicts readable; load average "
                  f"{load:.1f} at start)", flush=True)
    return rates


def run(tiny: bool = False) -> None:
    """Judge answers with each model, twice; print answers judged per minute."""
    models = (["smollm2-135m-instruct"] if tiny else
              [m for m in os.environ.get("JUDGE_BENCH_MODELS", ",".join(DEFAULT_MODELS))
               .split(",") if m])
    n = 2 if tiny else int(os.environ.get("JUDGE_BENCH_ANSWERS", "6"))
    rounds = 1 if tiny else int(os.environ.get("JUDGE_BENCH_ROUNDS", "2"))
    print(f"local judge: {n} answers x {rounds} rounds per model, cache off, 2 threads, "
          "2 slots", flush=True)
    with tempfile.TemporaryDirectory(prefix="judge-bench-") as tmp:
        for model in models:
            rates = measure(model, n, rounds, Path(tmp))
            print(f"  {model}: {', '.join(f'{r:.2f}' for r in rates)} answers judged per "
                  "minute", flush=True)


__all__ = ["answers", "measure", "run"]
