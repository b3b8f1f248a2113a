"""A stored synthetic run of two (or three) stacks, for the views' benchmarks and tests (no
stack is asked).

The synthetic run is shaped like a real one: English and Russian questions, 10%
unanswerable, short gold answers, answers of 3-40 words that contain the gold, paraphrase
it, miss it or refuse; the second stack gives the same answer as the baseline on half the
questions (as two engines serving the same weights at temperature 0 often do), is ~30%
faster, and fails 1% of the time; five retrieved sources per answer, raw token timestamps
for every request. With `stacks=3` a third stack joins: a better, slower model (the gold
answer in ~75% of its answers, ~1.6x the baseline's latency), as a Qwen-versus-SmolLM2
matrix run looks. `store_synthetic_run` puts it in a store exactly as the runner would.
"""

from __future__ import annotations

import random

from workbench.records.evalset import Question
from workbench.records.responses import RequestTiming, ResponseRecord, RetrievedSource
from workbench.store.db import Store

#: The synthetic run's stacks, by the letter the generator uses for them (C: only with
#: `stacks=3`).
STACKS = {"A": "llamacpp-cpu", "B": "vllm-cpu", "C": "llamacpp-cpu-qwen05"}
_ENGINES = {"A": "llamacpp", "B": "vllm", "C": "llamacpp"}
_MODELS = {"A": "smollm2", "B": "smollm2", "C": "qwen2.5-0.5b-instruct"}

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


def _better_answer(rng: random.Random, q: Question) -> str:
    """The third stack's answer: mostly right, refuses when it should."""
    vocab = _RU if q.lang == "ru" else _EN
    if not q.answerable:
        return rng.choice(_REFUSALS)
    if rng.random() < 0.75:
        return f"{q.answers[0]} {_words(rng, vocab, rng.randint(0, 6))}".strip() + "."
    return _words(rng, vocab, rng.randint(3, 20)).capitalize() + "."


def _record(rng: random.Random, q: Question, letter: str, answer: str, speed: float,
            t0: float) -> ResponseRecord:
    failed = rng.random() < (0.005 if letter == "A" else 0.01)
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
        run_id="bench", question_id=q.id, stack=STACKS[letter],
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
        model=_MODELS[letter], engine=_ENGINES[letter],
    )


def synthetic_run(n_questions: int = 5000, seed: int = 7, stacks: int = 2
                  ) -> tuple[list[Question], list[ResponseRecord]]:
    """A realistic synthetic run of 2 or 3 stacks (see the module docstring)."""
    if stacks not in (2, 3):
        raise ValueError(f"the synthetic run has 2 or 3 stacks, not {stacks}")
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    # Its own generator: the first two stacks' data stay the same with or without it.
    third = random.Random(seed + 1)  # noqa: S311
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
        for letter, answer, speed in (("A", a_answer, 1.0), ("B", b_answer, 0.7)):
            records.append(_record(rng, q, letter, answer, speed, t0))
            t0 += 3.0
        if stacks == 3:
            records.append(_record(third, q, "C", _better_answer(third, q), 1.6, t0))
            t0 += 3.0
    return questions, records


def store_synthetic_run(store: Store, n_questions: int = 5000, seed: int = 7,
                        stacks: int = 2) -> str:
    """Create a completed run of `n_questions` x `stacks` (2 or 3) in `store`; returns its
    id. The baseline is the first stack, llamacpp-cpu."""
    questions, records = synthetic_run(n_questions, seed, stacks)
    recipes = [{"name": STACKS[s], "engine": _ENGINES[s]} for s in "ABC"[:stacks]]
    manifest = {"evalset": {"name": "synthetic", "digest": f"seed-{seed}", "source": ""},
                "schedule": "interleaved", "concurrency": 1, "timeout_s": 120.0,
                "warmup_requests": 0, "limit": None, "baseline": "llamacpp-cpu",
                "stacks": {r["name"]: r for r in recipes}, "synthetic": True}
    run_id = store.create_run(evalset="synthetic", evalset_digest=f"seed-{seed}",
                              schedule="interleaved", stacks=recipes, questions=questions,
                              manifest=manifest, limit=None)
    # One transaction: 10k rows in about a second.
    store.add_responses([rec.model_copy(update={"run_id": run_id}) for rec in records])
    store.set_status(run_id, "completed")
    return run_id
