"""Simulated arena votes for the tests: a known Bradley-Terry truth, stored as the arena
stores them (`Store.add_vote`, real stack names on sides A and B, random blind sides)."""

from __future__ import annotations

import math
import random

from workbench.store.db import Store


def simulate_votes(store: Store, strengths: dict[str, float], n: int, *, seed: int = 1,
                   questions: list[str] | None = None, tie_rate: float = 0.15,
                   run_id: str | None = None) -> list[str]:
    """Store `n` votes between random pairs of `strengths`' stacks, each won by A with the
    Bradley-Terry probability of the Elo-scale `strengths` (a share `tie_rate` are ties or
    "both bad"); returns the vote ids. Questions cycle through `questions` when given."""
    rng = random.Random(seed)
    names = list(strengths)
    ids = []
    for i in range(n):
        a, b = rng.sample(names, 2)
        p_a = 1.0 / (1.0 + 10 ** ((strengths[b] - strengths[a]) / 400.0))
        roll = rng.random()
        if roll < tie_rate:
            vote = "tie" if roll < tie_rate / 2 else "both_bad"
        else:
            vote = "A" if rng.random() < p_a else "B"
        question = questions[i % len(questions)] if questions else f"free question {i}?"
        ids.append(store.add_vote(question=question, stack_a=a, stack_b=b, vote=vote,
                                  blind=i % 2 == 0, run_id=run_id,
                                  detail={"left": rng.choice("AB"), "gold": None,
                                          "token_f1": None}))
    return ids


def expected_share(strengths: dict[str, float], a: str, b: str) -> float:
    """The Bradley-Terry probability that `a` beats `b` (for sanity checks)."""
    return 1.0 / (1.0 + math.pow(10, (strengths[b] - strengths[a]) / 400.0))
