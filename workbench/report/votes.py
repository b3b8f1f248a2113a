"""Human votes from the arena, aggregated beside the automatic scores.

- Which votes: by default the blind votes on this run's questions (stored with this run,
  or with no run), so the ratings speak about the answers the run scored and no one knew
  whose answer was whose. `pooled=True` takes every vote between the run's stacks (other
  runs', open ones) and the summary says so.
- Per stack pair: wins, ties, "both bad" and losses.
- Per stack: a Bradley-Terry rating with ties (Davidson's model, `report.bradley_terry`;
  "both bad" is a tie), on the Elo scale (1000 = the stacks' geometric mean strength, +400
  = ten times the odds), with a 95% BCa CI from a bootstrap that resamples questions
  (seeded). A weak prior of one virtual game between every two stacks (half a win each
  way) keeps a stack that never lost finite, and stacks that never met on one scale.
- Agreement: of the decisive votes, the share where the voted-for stack also had the
  higher token F1 on that question (the F1 of the very answers voted on when the arena
  recorded a gold answer, else the run's F1 on the same question text), with its 95%
  Wilson interval, and likewise with the LLM judge's "correct" where the run was judged.

This module computes every vote number the report, the web UI and the TUI show.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, Field

from workbench.report.bradley_terry import (
    PRIOR_TIES,
    battle_tables,
    bootstrap_ratings,
    fit_davidson,
    tie_probability,
)
from workbench.scoring.stats import bca_levels, wilson
from workbench.store.votes import Vote, votes_of_run

if TYPE_CHECKING:
    from workbench.report.models import ScoreCard
    from workbench.store.db import Store

RESAMPLES = 1000
SEED = 20240521
JUDGE_METRIC = "judge_correct"


class PairTally(BaseModel):
    """Votes between two stacks (`stack_a` comes first in run order)."""

    stack_a: str
    stack_b: str
    a_wins: int
    b_wins: int
    ties: int
    both_bad: int

    @property
    def total(self) -> int:
        """All votes between the two."""
        return self.a_wins + self.b_wins + self.ties + self.both_bad


class VoteRating(BaseModel):
    """One stack's Bradley-Terry rating and its record."""

    stack: str
    rating: float = Field(description="Elo scale: 1000 = the stacks' mean strength.")
    ci_low: float
    ci_high: float
    votes: int = Field(description="Votes this stack took part in.")
    wins: int
    ties: int = Field(description="Ties and 'both bad'.")
    losses: int


class Agreement(BaseModel):
    """How often the voted-for stack also scored higher on the same question."""

    against: str = Field(description='"token F1" or "LLM judge".')
    decisive: int = Field(description="Votes for one side (not tie or both bad).")
    compared: int = Field(description="Decisive votes where the score differed.")
    agree: int
    share: float | None
    ci_low: float | None = Field(default=None, description="95% Wilson interval of `share`.")
    ci_high: float | None = None
    score_ties: int = Field(description="Decisive votes where both scored the same.")
    missing: int = Field(description="Decisive votes with no score for both stacks.")
    from_votes: int = Field(default=0, description="Compared on the arena's own token F1.")
    from_run: int = Field(default=0, description="Compared on the run's per-question score.")
    text: str


class VoteSummary(BaseModel):
    """Every vote number shown beside a run's scores."""

    stacks: list[str]
    n_votes: int = Field(description="Votes between two of the stacks.")
    n_blind: int
    n_on_run_questions: int = Field(description="Votes whose question is one of the run's.")
    n_used: int = Field(default=0, description="Votes the ratings and agreement are from.")
    pooled: bool = Field(default=False, description="Every vote between the stacks was used "
                         "(else only blind votes on this run's questions).")
    scope: str = Field(default="", description="Which votes were used, in words.")
    tie_probability: float | None = Field(
        default=None, description="Fitted chance of a tie between equally strong stacks.")
    pairs: list[PairTally]
    ratings: list[VoteRating] = Field(description="Best first.")
    agreement: list[Agreement]
    resamples: int
    seed: int
    method: str


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def tally(votes: Sequence[Vote], stacks: Sequence[str]) -> list[PairTally]:
    """Win/tie/loss counts for every pair of `stacks` that has votes, in run order."""
    order = {s: i for i, s in enumerate(stacks)}
    counts: dict[tuple[str, str], list[int]] = {}
    for v in votes:
        if v.stack_a not in order or v.stack_b not in order or v.stack_a == v.stack_b:
            continue
        flip = order[v.stack_a] > order[v.stack_b]
        a, b = (v.stack_b, v.stack_a) if flip else (v.stack_a, v.stack_b)
        c = counts.setdefault((a, b), [0, 0, 0, 0])
        if v.vote in ("A", "B"):
            c[0 if (v.vote == "A") != flip else 1] += 1
        else:
            c[2 if v.vote == "tie" else 3] += 1
    return [PairTally(stack_a=a, stack_b=b, a_wins=c[0], b_wins=c[1], ties=c[2], both_bad=c[3])
            for (a, b), c in sorted(counts.items(), key=lambda kv: (order[kv[0][0]],
                                                                     order[kv[0][1]]))]


def fit_bradley_terry(wins: np.ndarray, prior_ties: float = PRIOR_TIES) -> np.ndarray:
    """Elo-scale Bradley-Terry ratings from win matrices `wins[..., i, j]` without ties (the
    prior's virtual games aside), vectorised over leading axes."""
    ratings, _ = fit_davidson(wins, np.zeros_like(wins), prior_ties=prior_ties)
    return ratings


def _battles(votes: Sequence[Vote], stacks: Sequence[str]) -> list[tuple[int, int, str, str]]:
    """(index of side A's stack, of side B's, "A" / "B" / "tie", question key); "both bad"
    is a tie: neither answer was preferred."""
    order = {s: i for i, s in enumerate(stacks)}
    outcome = {"A": "A", "B": "B", "tie": "tie", "both_bad": "tie"}
    return [(order[v.stack_a], order[v.stack_b], outcome[v.vote], _key(v.question))
            for v in votes if v.stack_a in order and v.stack_b in order
            and v.stack_a != v.stack_b and v.vote in outcome]


def _fit(votes: Sequence[Vote], stacks: Sequence[str], resamples: int, seed: int
         ) -> tuple[list[VoteRating], float | None]:
    battles = _battles(votes, stacks)
    if not battles:
        return [], None
    n = len(stacks)
    _, wins, ties = battle_tables(battles, n)
    total_w, total_t = wins.sum(axis=0), ties.sum(axis=0)
    rating, nu = fit_davidson(total_w, total_t)
    boot = bootstrap_ratings(wins, ties, resamples=resamples, seed=seed)
    # Leave one question out at a time, every fit at once: the BCa acceleration.
    jack, _ = fit_davidson(total_w[None] - wins, total_t[None] - ties) \
        if wins.shape[0] > 2 else (None, None)
    out = []
    for i, stack in enumerate(stacks):
        won = int(total_w[i].sum())
        lost = int(total_w[:, i].sum())
        tied = int(total_t[i].sum())
        if not won + lost + tied:
            continue  # never voted on: no rating to show
        draws = boot[:, i][np.isfinite(boot[:, i])]
        lo_level, hi_level = bca_levels(float(rating[i]), draws,
                                        None if jack is None else jack[:, i])
        low, high = np.quantile(draws, [lo_level, hi_level])
        out.append(VoteRating(stack=stack, rating=float(rating[i]), ci_low=float(low),
                              ci_high=float(high), votes=won + lost + tied, wins=won,
                              ties=tied, losses=lost))
    return sorted(out, key=lambda r: -r.rating), tie_probability(float(nu))


def rate(votes: Sequence[Vote], stacks: Sequence[str], *, resamples: int = RESAMPLES,
         seed: int = SEED) -> list[VoteRating]:
    """Each stack's rating (Bradley-Terry with Davidson's ties) with a 95% BCa CI from
    resampling questions, best first (empty when there are no votes between the stacks)."""
    return _fit(votes, stacks, resamples, seed)[0]


def run_scores(card: ScoreCard, metric: str) -> dict[tuple[str, str], float]:
    """(question text, stack) -> the run's per-question `metric` (where it has one)."""
    out: dict[tuple[str, str], float] = {}
    for row in card.rows:
        for stack, scores in row.scores.items():
            value = scores.get(metric)
            if value is not None:
                out[(_key(row.question), stack)] = float(value)
    return out


def agreement(votes: Sequence[Vote], stacks: Sequence[str], against: str,
              run: dict[tuple[str, str], float], *, use_vote_f1: bool = False) -> Agreement:
    """The share of decisive votes where the voted-for stack scored higher on the question:
    on the arena's own token F1 when `use_vote_f1` and recorded, else on `run`'s scores."""
    decisive = compared = agree = ties = missing = from_votes = from_run = 0
    for v in votes:
        if v.winner is None or v.loser is None or v.winner not in stacks \
                or v.loser not in stacks:
            continue
        decisive += 1
        own = v.detail.get("token_f1") if use_vote_f1 else None
        side = {v.winner: "A" if v.vote == "A" else "B", v.loser: "B" if v.vote == "A" else "A"}
        if isinstance(own, dict) and own.get("A") is not None and own.get("B") is not None:
            won, lost = float(own[side[v.winner]]), float(own[side[v.loser]])
            source = "votes"
        else:
            q = _key(v.question)
            if (q, v.winner) not in run or (q, v.loser) not in run:
                missing += 1
                continue
            won, lost = run[(q, v.winner)], run[(q, v.loser)]
            source = "run"
        if won == lost:
            ties += 1
            continue
        compared += 1
        from_votes += source == "votes"
        from_run += source == "run"
        agree += won > lost
    share = agree / compared if compared else None
    low = high = None
    if compared:
        interval = wilson(agree, compared)  # the one Wilson interval (scoring.stats)
        low, high = interval.low, interval.high
    if compared and low is not None and high is not None:
        text = (f"votes agree with {against} on {agree} of {compared} decisive votes where "
                f"it differed ({share:.0%}, 95% CI {low:.0%}-{high:.0%})")
    else:
        text = f"no decisive vote to compare with {against}"
    extras = [f"{n} {what}" for n, what in ((ties, f"with equal {against}"),
                                            (missing, f"without {against} for both stacks"))
              if n]
    if extras:
        text += "; " + ", ".join(extras) + " left out"
    return Agreement(against=against, decisive=decisive, compared=compared, agree=agree,
                     share=share, ci_low=low, ci_high=high, score_ties=ties,
                     missing=missing, from_votes=from_votes, from_run=from_run, text=text)


def in_scope(v: Vote, questions: set[str] | None, run_id: str | None) -> bool:
    """A vote the default summary uses: blind, on one of the run's `questions` (any
    question when None), stored with this run or with none."""
    return (v.blind and (questions is None or _key(v.question) in questions)
            and (v.run_id is None or run_id is None or v.run_id == run_id))


def summarize_votes(votes: Sequence[Vote], stacks: Sequence[str],
                    card: ScoreCard | None = None, *, resamples: int = RESAMPLES,
                    seed: int = SEED, pooled: bool = False,
                    run_questions: Sequence[str] | None = None) -> VoteSummary:
    """Tallies, ratings and agreement of the votes between `stacks` (run order): the blind
    votes on the run's questions (`run_questions`, else the card's rows), or (`pooled`)
    every vote between the stacks."""
    names = list(stacks)
    mine = [v for v in votes if v.stack_a in names and v.stack_b in names
            and v.stack_a != v.stack_b]
    questions = ({_key(q) for q in run_questions} if run_questions is not None
                 else {_key(r.question) for r in card.rows} if card is not None else set())
    run_id = card.run_id if card is not None else None
    known = card is not None or run_questions is not None
    used = mine if pooled else [v for v in mine if in_scope(
        v, questions if known else None, run_id)]
    if pooled:
        scope = (f"all {len(mine)} votes between these stacks, pooled (open votes and other "
                 "runs' included)")
    else:
        where = "on this run's questions" if known else "on any question"
        scope = (f"the {len(used)} blind votes {where} ({len(mine) - len(used)} other votes "
                 "left out; pooling them is an option)")
    f1 = run_scores(card, "f1") if card is not None else {}
    agreements = [agreement(used, names, "token F1", f1, use_vote_f1=True)]
    judge = run_scores(card, JUDGE_METRIC) if card is not None else {}
    if judge:
        agreements.append(agreement(used, names, "the LLM judge", judge))
    else:
        agreements.append(Agreement(
            against="the LLM judge", decisive=0, compared=0, agree=0, share=None,
            score_ties=0, missing=0,
            text="no LLM judge scores for this run (workbench report --judge-url ... "
                 "--judge-model ... adds them)"))
    ratings, p_tie = _fit(used, names, resamples, seed)
    return VoteSummary(
        stacks=names, n_votes=len(mine), n_blind=sum(v.blind for v in mine),
        n_on_run_questions=sum(_key(v.question) in questions for v in mine),
        n_used=len(used), pooled=pooled, scope=scope, tie_probability=p_tie,
        pairs=tally(used, names), ratings=ratings,
        agreement=agreements, resamples=resamples, seed=seed,
        method=(f"Ratings from {scope}. Bradley-Terry with ties (Davidson's model; 'both "
                f"bad' is a tie) on the Elo scale (1000 = mean strength), a prior of "
                f"{PRIOR_TIES:g} virtual game per pair (half a win each way); 95% BCa CIs "
                f"from {resamples} bootstrap "
                f"resamples of the questions (seed {seed}); agreement with 95% Wilson "
                "intervals."))


def votes_for_run(store: Store, run_id: str, card: ScoreCard | None = None, *,
                  pooled: bool = False) -> VoteSummary:
    """The summary of the votes about the run's stacks (`store.votes.votes_of_run`): blind
    votes on its questions, or every vote between its stacks when `pooled`."""
    stacks = [e["name"] for e in store.run_stacks(run_id)]
    # The run's own questions, answered yet or not (a card's rows hold only answered ones).
    asked = [q.question for q in store.questions(run_id)]
    return summarize_votes(votes_of_run(store, run_id), stacks, card, pooled=pooled,
                           run_questions=asked)


def rating_text(r: VoteRating) -> str:
    """"1043 [998, 1090]"."""
    return f"{r.rating:.0f} [{r.ci_low:.0f}, {r.ci_high:.0f}]"


def record_text(r: VoteRating) -> str:
    """"12-3-5" (wins-ties-losses)."""
    return f"{r.wins}-{r.ties}-{r.losses}"


#: The votes table's header, shared by the report, the web UI and the TUI.
VOTES_HEADER = ("Stack", "F1", "Vote rating [95% CI]", "W-T-L", "Votes")


def votes_table_rows(summary: VoteSummary, card: ScoreCard | None = None
                     ) -> list[tuple[str, ...]]:
    """One row per rated stack, best rating first, with its F1 beside its rating."""
    rows: list[tuple[str, ...]] = []
    for r in summary.ratings:
        f1 = None
        if card is not None and r.stack in card.summaries:
            f1 = card.summaries[r.stack].quality.get("f1")
        rows.append((r.stack, "n/a" if f1 is None else f"{f1:.3f}", rating_text(r),
                     record_text(r), str(r.votes)))
    return rows


def votes_lines(summary: VoteSummary) -> list[str]:
    """What the votes say in words: counts, each pair's record, agreement, method."""
    if not summary.n_votes:
        return ["No arena votes between this run's stacks yet (the web UI's Arena tab "
                "records them)."]
    lines = [f"{summary.n_votes} arena votes between this run's stacks ({summary.n_blind} "
             f"blind; {summary.n_on_run_questions} on this run's questions); rated: "
             f"{summary.scope}."]
    if not summary.n_used:
        lines.append("No vote in scope yet: deal this run's questions in the Arena (blind), "
                     "or pool every vote.")
    for p in summary.pairs:
        lines.append(f"{p.stack_a} vs {p.stack_b}: {p.stack_a} better {p.a_wins}, "
                     f"{p.stack_b} better {p.b_wins}, tie {p.ties}, both bad {p.both_bad}")
    lines += [a.text[0].upper() + a.text[1:] + "." for a in summary.agreement]
    lines.append(summary.method)
    return lines


__all__ = ["VOTES_HEADER", "Agreement", "PairTally", "VoteRating", "VoteSummary", "agreement",
           "fit_bradley_terry", "in_scope", "rate", "rating_text", "record_text",
           "summarize_votes", "tally", "votes_for_run", "votes_lines", "votes_table_rows",
           "wilson"]
