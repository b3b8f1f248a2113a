"""Bench: score 10,000 stored responses (5,000 questions x 2 sides) with `build_scorecard`,
semantic similarity on, and print the seconds. Target: under 20 s on the 2-core dev box.

The synthetic run is shaped like a real one: English and Russian questions, 10%
unanswerable, short gold answers, answers of 3-40 words that contain the gold, paraphrase
it, miss it or refuse; B gives the same answer as A on half the questions (as two engines
serving the same weights at temperature 0 often do), is ~30% faster, and fails 1% of the time;
five retrieved sources per answer, raw token timestamps for every request.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

from workbench.evalsets.model import Question
from workbench.runner.records import RequestTiming, ResponseRecord, RetrievedSource

_EN = ("the of and in to was is for on by with from at as his city river war year king "
       "church team first north state party music empire university school century law "
       "army people island market power trade house water energy game season art light "
       "ocean mountain language science bridge treaty coast museum company railway").split()
_RU = ("город река война год король церковь команда первый север государство партия "
       "музыка империя университет школа век закон армия народ остров рынок власть "
       "торговля дом вода энергия игра сезон искусство свет океан гора язык наука мост "
       "договор побережье музей компания железная дорога в и на с по из для как").split()
_REFUSALS = ("I don't know.", "The context does not mention this.", "Не знаю.",
             "В контексте нет информации об этом.")


def _words(rng: random.Random, vocab: tuple[str, ...] | list[str], n: int) -> str:
    return " ".join(rng.choice(vocab) for _ in range(n))


def _answer(rng: random.Random, q: Question) -> str:
    vocab = _RU if q.lang == "ru" else _EN
    roll = rng.random()
    if not q.answerable or roll < 0.08:
        return rng.choice(_REFUSALS) if roll < 0.9 else _words(rng, vocab, rng.randint(3, 12))
    gold = q.answers[0]
    if roll < 0.45:
        before, after = rng.randint(2, 20), rng.randint(0, 18)
        return f"{_words(rng, vocab, before)} {gold} {_words(rng, vocab, after)}."
    if roll < 0.6:
        return gold
    return _words(rng, vocab, rng.randint(3, 40)).capitalize() + "."


def _record(rng: random.Random, q: Question, side: str, answer: str, speed: float,
            t0: float) -> ResponseRecord:
    failed = rng.random() < (0.01 if side == "B" else 0.005)
    n_tokens = max(2, int(len(answer.split()) * 1.4))
    first = t0 + speed * rng.lognormvariate(-1.2, 0.35)
    times = [first]
    for _ in range(n_tokens - 1):
        times.append(times[-1] + speed * rng.lognormvariate(-3.6, 0.25))
    golds = q.gold_doc_ids or [f"doc-{rng.randrange(500)}"]
    docs = [f"doc-{rng.randrange(500)}" for _ in range(5)]
    if rng.random() < 0.8:
        docs[rng.randrange(5)] = golds[0]
    return ResponseRecord(
        run_id="bench", question_id=q.id, side=side, stack=f"stack-{side.lower()}",  # type: ignore[arg-type]
        status="error" if failed else "ok", error="engine timeout" if failed else None,
        answer="" if failed else answer,
        sources=[RetrievedSource(doc_id=d, rank=i + 1) for i, d in enumerate(docs)],
        timing=RequestTiming(request_start=t0, first_token=None if failed else times[0],
                             last_token=None if failed else times[-1],
                             request_end=times[-1] + 0.001,
                             token_times=[] if failed else times,
                             started_at_utc="2026-01-01T00:00:00Z"),
        prompt_tokens=600, completion_tokens=None if failed else n_tokens,
        server_timings={"embed_ms": 8 * rng.random() + 4, "retrieve_ms": 10 * rng.random() + 5},
        model="smollm2", engine="llamacpp" if side == "A" else "vllm",
    )


def synthetic_run(n_questions: int = 5000, seed: int = 7
                  ) -> tuple[list[Question], list[ResponseRecord]]:
    """A realistic synthetic A/B run (see the module docstring)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    questions, records = [], []
    t0 = 0.0
    for i in range(n_questions):
        lang = "ru" if i % 2 else "en"
        vocab = _RU if lang == "ru" else _EN
        answerable = rng.random() > 0.1
        q = Question(id=f"q{i}", question=_words(rng, vocab, 8) + "?", lang=lang,
                     answerable=answerable,
                     answers=[_words(rng, vocab, rng.randint(1, 3))] if answerable else [],
                     gold_doc_ids=[f"doc-{i % 500}"] if answerable else [])
        questions.append(q)
        a_answer = _answer(rng, q)
        b_answer = a_answer if rng.random() < 0.5 else _answer(rng, q)
        for side, answer, speed in (("A", a_answer, 1.0), ("B", b_answer, 0.7)):
            records.append(_record(rng, q, side, answer, speed, t0))
            t0 += 3.0
    return questions, records


def _timed(label: str, fn: Callable[[], object]) -> float:
    # CPU seconds beside wall seconds: on a shared box the wall clock measures the neighbours
    # too, while CPU time (all threads) bounds what a quiet 2-core machine would take.
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {label:<58} {wall:6.1f} s wall, {cpu:6.1f} s CPU", flush=True)
    return wall


def run() -> None:
    """Time `build_scorecard` on 10,000 synthetic responses, semantic similarity on."""
    from workbench.report import build_scorecard
    from workbench.scoring.semantic import default_embedder

    questions, records = synthetic_run()
    print(f"build_scorecard, {len(records)} responses ({len(questions)} questions x 2 sides), "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs:", flush=True)
    off = _timed("semantic off", lambda: build_scorecard(questions, records, semantic=False))
    _timed("embedding model load", lambda: default_embedder().encode(["warm-up"]))
    cold = _timed("semantic on, cold (every distinct text embedded)",
                  lambda: build_scorecard(questions, records, semantic=True))
    warm = _timed("semantic on, embeddings cached (re-scoring)",
                  lambda: build_scorecard(questions, records, semantic=True))
    print(f"  distinct texts embedded: {len(default_embedder()._cache) - 1}")
    for label, seconds in (("semantic off", off), ("semantic on, cold", cold),
                           ("semantic on, cached", warm)):
        print(f"  target < 20 s, {label}: {'met' if seconds < 20 else 'NOT met'}")
