"""Human votes from the arena, aggregated beside the automatic scores.

- Per stack pair: wins, ties, "both bad" and losses.
- Per stack: a Bradley-Terry rating fitted to every vote between the stacks (as LMArena's
  `elo_analysis.py` does), ties and "both bad" counted as half a win for each side, on the
  Elo scale (1000 = the stacks' geometric mean strength, +400 = ten times the odds), with
  a 95% bootstrap CI from resampling the votes (seeded). A weak prior of one virtual tie
  between every two stacks keeps a stack that never lost finite, and stacks that never
  met on one scale.
- Agreement: of the decisive votes, the share where the voted-for stack also had the
  higher token F1 on that question (the F1 of the very answers voted on when the arena
  recorded a gold answer, else the run's F1 on the same question text), and likewise with
  the LLM judge's "correct" where the run was judged.

This module computes every vote number the report, the web UI and the TUI show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, Field

from workbench.store.votes import Vote

if TYPE_CHECKING:
    from workbench.report.models import ScoreCard
    from workbench.store.db import Store

RESAMPLES = 1000
SEED = 20240521
#: Virtual ties between every two stacks (the prior that keeps ratings finite).
PRIOR_TIES = 1.0
SCALE, BASE, CENTER = 400.0, 10.0, 1000.0
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


def fit_bradley_terry(wins: np.ndarray, prior_ties: float = PRIOR_TIES,
                      max_iter: int = 5000, tol: float = 1e-9) -> np.ndarray:
    """Elo-scale ratings from win matrices `wins[..., i, j]` (i's wins over j, ties already
    split as halves), by Hunter's MM algorithm, vectorised over leading axes (bootstrap
    resamples are fitted together)."""
    n = wins.shape[-1]
    w = wins + prior_ties / 2 * (1 - np.eye(n))
    games = w + np.swapaxes(w, -1, -2)
    won = w.sum(axis=-1)
    log_p = np.zeros(w.shape[:-1])
    for _ in range(max_iter):
        p = np.exp(log_p)
        denom = (games / (p[..., :, None] + p[..., None, :])).sum(axis=-1)
        new = np.log(won) - np.log(denom)
        new -= new.mean(axis=-1, keepdims=True)
        done = np.max(np.abs(new - log_p)) < tol
        log_p = new
        if done:
            break
    return CENTER + SCALE * log_p / math.log(BASE)


def _battles(votes: Sequence[Vote], stacks: Sequence[str]) -> np.ndarray:
    """(n, 3): index of side A's stack, of side B's, and A's score (1, 0.5 or 0)."""
    order = {s: i for i, s in enumerate(stacks)}
    score = {"A": 1.0, "B": 0.0, "tie": 0.5, "both_bad": 0.5}
    rows = [(order[v.stack_a], order[v.stack_b], score[v.vote]) for v in votes
            if v.stack_a in order and v.stack_b in order and v.stack_a != v.stack_b
            and v.vote in score]
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def _win_matrices(battles: np.ndarray, n: int, picks: np.ndarray) -> np.ndarray:
    """wins[b, i, j] for each row of `picks` (indices into `battles`)."""
    out = np.zeros((picks.shape[0], n, n))
    rows = np.repeat(np.arange(picks.shape[0]), picks.shape[1])
    chosen = battles[picks.ravel()]
    a, b, s = chosen[:, 0].astype(int), chosen[:, 1].astype(int), chosen[:, 2]
    np.add.at(out, (rows, a, b), s)
    np.add.at(out, (rows, b, a), 1.0 - s)
    return out


def rate(votes: Sequence[Vote], stacks: Sequence[str], *, resamples: int = RESAMPLES,
         seed: int = SEED) -> list[VoteRating]:
    """Each stack's Bradley-Terry rating with a 95% bootstrap CI, best first (empty when
    there are no votes between the stacks)."""
    battles = _battles(votes, stacks)
    if not len(battles):
        return []
    n = len(stacks)
    rating = fit_bradley_terry(_win_matrices(battles, n, np.arange(len(battles))[None, :]))[0]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(battles), size=(resamples, len(battles)))
    boot = fit_bradley_terry(_win_matrices(battles, n, picks))
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    out = []
    for i, stack in enumerate(stacks):
        mine_a, mine_b = battles[:, 0] == i, battles[:, 1] == i
        scores = np.concatenate([battles[mine_a, 2], 1.0 - battles[mine_b, 2]])
        if not len(scores):
            continue  # never voted on: no rating to show
        out.append(VoteRating(stack=stack, rating=float(rating[i]), ci_low=float(low[i]),
                              ci_high=float(high[i]), votes=len(scores),
                              wins=int((scores == 1).sum()), ties=int((scores == 0.5).sum()),
                              losses=int((scores == 0).sum())))
    return sorted(out, key=lambda r: -r.rating)


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
    if compared:
        text = (f"votes agree with {against} on {agree} of {compared} decisive votes where "
                f"it differed ({share:.0%})")
    else:
        text = f"no decisive vote to compare with {against}"
    extras = [f"{n} {what}" for n, what in ((ties, f"with equal {against}"),
                                            (missing, f"without {against} for both stacks"))
              if n]
    if extras:
        text += "; " + ", ".join(extras) + " left out"
    return Agreement(against=against, decisive=decisive, compared=compared, agree=agree,
                     share=share, score_ties=ties, missing=missing, from_votes=from_votes,
                     from_run=from_run, text=text)


def summarize_votes(votes: Sequence[Vote], stacks: Sequence[str],
                    card: ScoreCard | None = None, *, resamples: int = RESAMPLES,
                    seed: int = SEED) -> VoteSummary:
    """Tallies, ratings and agreement of the votes between `stacks` (run order)."""
    names = list(stacks)
    mine = [v for v in votes if v.stack_a in names and v.stack_b in names
            and v.stack_a != v.stack_b]
    questions = {_key(r.question) for r in card.rows} if card is not None else set()
    f1 = run_scores(card, "f1") if card is not None else {}
    agreements = [agreement(mine, names, "token F1", f1, use_vote_f1=True)]
    judge = run_scores(card, JUDGE_METRIC) if card is not None else {}
    if judge:
        agreements.append(agreement(mine, names, "the LLM judge", judge))
    else:
        agreements.append(Agreement(
            against="the LLM judge", decisive=0, compared=0, agree=0, share=None,
            score_ties=0, missing=0,
            text="no LLM judge scores for this run (workbench report --judge-url ... "
                 "--judge-model ... adds them)"))
    return VoteSummary(
        stacks=names, n_votes=len(mine), n_blind=sum(v.blind for v in mine),
        n_on_run_questions=sum(_key(v.question) in questions for v in mine),
        pairs=tally(mine, names), ratings=rate(mine, names, resamples=resamples, seed=seed),
        agreement=agreements, resamples=resamples, seed=seed,
        method=(f"Bradley-Terry ratings on the Elo scale (1000 = mean strength), ties and "
                f"'both bad' as half a win each, a prior of {PRIOR_TIES:g} virtual tie per "
                f"pair; 95% CIs from {resamples} bootstrap resamples of the votes (seed "
                f"{seed})."))


def votes_for_run(store: Store, run_id: str, card: ScoreCard | None = None) -> VoteSummary:
    """The summary of every vote about the run's stacks (`store.votes.votes_of_run`)."""
    from workbench.store.votes import votes_of_run

    stacks = [e["name"] for e in store.run_stacks(run_id)]
    return summarize_votes(votes_of_run(store, run_id), stacks, card)


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
             f"blind; {summary.n_on_run_questions} on this run's questions)."]
    for p in summary.pairs:
        lines.append(f"{p.stack_a} vs {p.stack_b}: {p.stack_a} better {p.a_wins}, "
                     f"{p.stack_b} better {p.b_wins}, tie {p.ties}, both bad {p.both_bad}")
    lines += [a.text[0].upper() + a.text[1:] + "." for a in summary.agreement]
    lines.append(summary.method)
    return lines


__all__ = ["VOTES_HEADER", "Agreement", "PairTally", "VoteRating", "VoteSummary", "agreement",
           "fit_bradley_terry", "rate", "rating_text", "record_text", "summarize_votes",
           "tally", "votes_for_run", "votes_lines", "votes_table_rows"]
