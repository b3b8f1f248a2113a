"""Answer-quality scorers on the gold answers: exact match, token F1, gold-contained and
refusal accuracy.

Conventions shared by all of them, so an A/B compares like with like:
- A failed request (status != "ok") scores 0: an error is a wrong answer.
- On an unanswerable question the right answer is a refusal: it scores 1 when the answer
  is a refusal (`is_refusal`), else 0, so these metrics cover both kinds of question.
- On an answerable question a refusal scores 0, whatever words it shares with the gold.
- An answerable question without gold answers (a questions-only set) scores `None`: there
  is nothing to match, so its quality comes from a judge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from workbench.normalize import contains_gold, exact_match_score, f1_score
from workbench.scoring.base import Metric, Sample, Scorer, per_sample
from workbench.scoring.refusal import is_refusal


def _no_gold(sample: Sample) -> bool:
    return sample.question.answerable and not sample.question.answers


def _against_gold(sample: Sample, score: Callable[[str, list[str]], float]) -> float | None:
    if _no_gold(sample):
        return None
    if not sample.ok:
        return 0.0
    refused = is_refusal(sample.response.answer)
    if not sample.question.answerable:
        return float(refused)
    return 0.0 if refused else score(sample.response.answer, sample.question.answers)


def answer_is_correct(answer: str, golds: Sequence[str], *, answerable: bool = True) -> bool:
    """The scorecard's "gold contained" verdict on one successful answer: on an answerable
    question, not a refusal and some gold alias contained as whole normalised tokens
    (`contains_gold`); on an unanswerable one (or one without golds), a refusal.

    The one definition of a correct answer: `gold_contained()` and the load bench's
    accuracy and correct goodput both call it, so the two never disagree.
    """
    refused = is_refusal(answer)
    if not answerable or not golds:
        return refused
    return not refused and contains_gold(answer, list(golds)) == 1.0


def exact_match(stem: bool = True) -> Scorer:
    """Normalised exact match against the best gold alias (Russian endings stemmed unless
    `stem=False`, which is SQuAD's strict EM plus Unicode folding)."""
    key = "exact_match" if stem else "exact_match_strict"
    metric = Metric(
        key=key,
        label="Exact match" if stem else "Exact match (strict)",
        section="quality",
        definition="normalised answer equals a normalised gold alias (NFKC, casefold, "
        "ё->е, punctuation and English articles removed"
        + (", Russian endings stemmed)" if stem else ")"),
        binary=True,
    )
    return per_sample(
        metric, lambda s: _against_gold(s, lambda a, g: exact_match_score(a, g, stem))
    )


def token_f1(stem: bool = True) -> Scorer:
    """SQuAD token F1 against the best gold alias, on normalised (stemmed) tokens."""
    metric = Metric(
        key="f1" if stem else "f1_strict",
        label="Token F1" if stem else "Token F1 (strict)",
        section="quality",
        definition="SQuAD token-overlap F1 with the best gold alias, on normalised tokens",
    )
    return per_sample(metric, lambda s: _against_gold(s, lambda a, g: f1_score(a, g, stem)))


def gold_contained() -> Scorer:
    """Whether a normalised gold alias appears in the normalised answer (whole tokens):
    fair to verbose models that answer in a sentence."""
    metric = Metric(
        key="gold_contained",
        label="Gold contained",
        section="quality",
        definition="a normalised gold alias appears, as whole tokens, in the normalised answer",
        binary=True,
    )
    return per_sample(metric, lambda s: None if _no_gold(s) else float(s.ok and answer_is_correct(
        s.response.answer, s.question.answers, answerable=s.question.answerable)))


def refusal() -> Scorer:
    """Refusal accuracy: refusing is right on unanswerable questions and wrong on
    answerable ones (errors are wrong)."""
    metric = Metric(
        key="refusal",
        label="Refusal accuracy",
        section="quality",
        definition="refused exactly when the question is unanswerable (English and Russian "
        "refusal phrases, or an empty answer)",
        binary=True,
    )

    def score(s: Sample) -> float:
        if not s.ok:
            return 0.0
        return float(is_refusal(s.response.answer) != s.question.answerable)

    return per_sample(metric, score)
