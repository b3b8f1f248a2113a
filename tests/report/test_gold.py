"""Questions-only sets in the report: what is skipped, and why, is stated."""

from __future__ import annotations

from tests.report.synthetic import question, record
from workbench.records.evalset import Question
from workbench.report import build_scorecard
from workbench.report.gold import NEEDS_JUDGE, gold_notes
from workbench.report.render import render_markdown


def _bare(qid: str) -> Question:
    return Question(id=qid, question=f"Question {qid}?")


def test_labelled_set_has_no_gold_notes() -> None:
    assert gold_notes([question("q1"), question("q2", answerable=False)], judged=False) == []


def test_notes_name_what_is_missing_and_how_many() -> None:
    qs = [_bare("u1"), _bare("u2"), question("q3"), question("q4", answerable=False)]
    notes = gold_notes(qs, judged=False)
    assert notes[0].startswith("no gold passage ids for 2 of 3 answerable questions")
    assert notes[1].startswith(NEEDS_JUDGE) and "2 of 3" in notes[1]
    judged = gold_notes(qs, judged=True)
    assert "judge's verdict" in judged[1] and NEEDS_JUDGE not in judged[1]


def test_questions_only_run_skips_gold_metrics_and_says_why() -> None:
    qs = [_bare(f"u{i}") for i in range(6)]
    responses = [record(q.id, side, "An answer.", docs=["d1", "d2"])
                 for q in qs for side in ("A", "B")]
    card = build_scorecard(qs, responses, semantic=False, resamples=200)
    summary = card.summaries["stack-a"]
    assert summary.quality.get("f1") is None and summary.quality.get("exact_match") is None
    assert summary.retrieval.get("hit@5") is None and summary.retrieval.get("mrr") is None
    assert any(n.startswith(NEEDS_JUDGE) for n in card.notes)
    assert any("retrieval metrics (hit@k, recall@k, MRR, nDCG) are skipped" in n
               for n in card.notes)
    assert NEEDS_JUDGE in render_markdown(card)
    # Latency is still compared: it needs no gold.
    assert card.summaries["stack-b"].latency["e2e"].n == 6


def test_choice_on_a_questions_only_run_makes_up_no_quality_winner() -> None:
    from workbench.report.choice import recommend

    qs = [_bare(f"u{i}") for i in range(6)]
    responses = [record(q.id, side, "An answer.", ttft=0.2 if side == "A" else 0.1)
                 for q in qs for side in ("A", "B")]
    card = build_scorecard(qs, responses, semantic=False, resamples=200)
    choice = recommend(card)
    assert choice.headline  # a sentence, not a crash on missing F1
    assert not any(c.significant for c in card.comparisons if c.section == "quality")
