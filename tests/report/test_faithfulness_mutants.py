"""Tests written against mutants of `workbench.report.faithfulness` that survived `make mutants`
(mutmut): each pins a number, a word or an edge the other tests left loose, against a value
worked out independently here (a closed form, numpy/scipy, or a hand count)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.report.synthetic import question
from workbench.report.faithfulness import (
    add_faithfulness,
    faithfulness_cell,
    faithfulness_line,
    judged_faithfulness,
    planted_false,
    refusals,
    restore_meta,
)
from workbench.report.models import Faithfulness, PlantedFalse, QuestionRow, StackSummary
from workbench.scoring.stats import PairedBootstrap

S = "stack-a"


def _row(qid: str, answer: str | None, status: str | None = "ok",
         gold: list[str] | None = None, **scores: float | None) -> QuestionRow:
    return QuestionRow(question_id=qid, question=f"Question {qid}?", lang="en",
                       answerable=True, gold=gold if gold is not None else ["1805"],
                       answers={S: answer}, status={S: status},
                       scores={S: dict(scores)} if scores else {}, e2e={S: 1.0},
                       outcome={}, latency_outcome={})


def _planted(qid: str, false: str) -> Any:
    return question(qid, ["1805"]).model_copy(update={"meta": {"counterfactual": {
        "passage_id": f"{qid}-doc-cf", "false_answer": false}}})


def _summary(f: Faithfulness | None) -> StackSummary:
    return StackSummary(stack=S, model="m", engine="e", responses=1, ok=1, errors=0,
                        error_rate=0.0, error_kinds={}, error_examples=[], quality={},
                        retrieval={}, counts={}, latency={}, faithfulness=f)


def test_planted_false_counts_only_successful_answers_to_planted_questions() -> None:
    questions = [_planted("q0", "1900"), _planted("q1", "1901"), _planted("q2", "1902"),
                 _planted("q3", "1903"), _planted("q4", "1904"), question("q5", ["1805"])]
    rows = [
        _row("q0", "It was 1900."),                 # repeats the false answer
        _row("q1", "It was 1805."),                 # the gold
        _row("q2", "It was 1902.", status="error"),  # failed: not an answer
        _row("q3", None, status=None),              # never asked
        _row("q4", "1904 or 1805."),                # both: took no side
        _row("q5", "1900."),                        # no plant on this question
        _row("q9", "1900."),                        # not a question of the set
    ]
    p = planted_false(rows, questions, S)
    assert p == PlantedFalse(repeated=1, answered=3, rate=1 / 3,
                             question_ids=["q0"])
    # Without gold answers on the row, an answer with the false answer is counted.
    rows[4] = _row("q4", "1904 or 1805.", gold=[])
    p = planted_false(rows, questions, S)
    assert p is not None and (p.repeated, p.question_ids) == (2, ["q0", "q4"])
    # A set that plants nothing: None; planted questions never answered: rate None.
    assert planted_false(rows, [question("q0")], S) is None
    none = planted_false([_row("q0", None, status=None)], questions, S)
    assert none == PlantedFalse(repeated=0, answered=0, rate=None, question_ids=[])


def test_refusals_counts_successful_answers_and_those_that_claim_nothing() -> None:
    rows = [_row("q0", "The tower was built in 1805."),
            _row("q1", "I don't know."),
            _row("q2", ""),
            _row("q3", "It is 300 m tall.", status="timeout"),
            _row("q4", None, status=None)]
    assert refusals(rows, S) == (3, 2)
    assert refusals([], S) == (0, 0)
    assert refusals([rows[3], rows[1], rows[4], rows[0]], S) == (2, 1)  # failures first


def test_judged_faithfulness_mean_ci_clipped_to_the_values_and_all_supported() -> None:
    values = [1.0, 0.5, 1.0, 0.75, 1.0, 0.5, 1.0, 1.0]
    rows = [_row(f"q{i}", "The tower was built in 1805.", faithfulness=v,
                 judge_faithful=float(v == 1.0)) for i, v in enumerate(values)]
    rows.append(_row("q8", "I don't know."))  # a refusal: answered, not judged
    boot = PairedBootstrap(resamples=400, seed=3)
    f = judged_faithfulness(rows, S, boot)
    iv = boot.mean(np.array(values))
    assert (f.judged, f.answered, f.refusals) == (8, 9, 1)
    assert f.refusal_rate == pytest.approx(1 / 9)
    assert f.mean == pytest.approx(np.mean(values))
    assert f.ci_low == pytest.approx(max(iv.low, 0.5))
    assert f.ci_high == pytest.approx(min(iv.high, 1.0))
    assert f.ci_high == 1.0 and f.ci_low is not None and f.mean is not None
    assert 0.5 <= f.ci_low < f.mean
    assert f.all_supported == pytest.approx(5 / 8)
    # Nothing judged: the refusal count alone; nothing answered: no rate.
    bare = judged_faithfulness([_row("q0", "I don't know.")], S, boot)
    assert bare == Faithfulness(judged=0, mean=None, answered=1, refusals=1, refusal_rate=1.0)
    assert judged_faithfulness([], S, boot).refusal_rate is None
    # Scores without the all-supported flag: no share.
    rows = [_row(f"q{i}", "It was 1805.", faithfulness=v) for i, v in enumerate(values)]
    assert judged_faithfulness(rows, S, boot).all_supported is None


def test_a_single_judged_answer_has_its_own_value_as_both_bounds_or_none() -> None:
    boot = PairedBootstrap(resamples=200, seed=1)
    f = judged_faithfulness([_row("q0", "It was 1805.", faithfulness=0.5)], S, boot)
    iv = boot.mean(np.array([0.5]))
    assert f.judged == 1 and f.mean == 0.5
    expect_low = None if np.isnan(iv.low) else max(iv.low, 0.5)
    expect_high = None if np.isnan(iv.high) else min(iv.high, 0.5)
    assert (f.ci_low, f.ci_high) == (expect_low, expect_high)


def test_an_undefined_score_gives_no_interval_not_a_nan_one() -> None:
    boot = PairedBootstrap(resamples=50, seed=1)
    rows = [_row(f"q{i}", "It was 1805.", faithfulness=float("nan")) for i in range(3)]
    f = judged_faithfulness(rows, S, boot)
    assert f.judged == 3 and f.ci_low is None and f.ci_high is None


def test_add_faithfulness_sets_a_block_only_where_something_applies() -> None:
    boot = PairedBootstrap(resamples=100, seed=1)
    summaries = {S: _summary(None)}
    claims = [_row("q0", "It was 1805.")]
    add_faithfulness(summaries, claims, [question("q0")], boot)
    assert summaries[S].faithfulness is None  # not judged, nothing planted, no refusal
    refused = [_row("q0", "I don't know.")]
    add_faithfulness(summaries, refused, [question("q0")], boot, judged=False)
    assert summaries[S].faithfulness is None  # refusals alone matter only when judged
    add_faithfulness(summaries, refused, [question("q0")], boot)
    assert summaries[S].faithfulness == Faithfulness(answered=1, refusals=1, refusal_rate=1.0)
    summaries = {S: _summary(None)}
    add_faithfulness(summaries, claims, [_planted("q0", "1900")], boot, judged=False)
    f = summaries[S].faithfulness
    assert f is not None and f.planted == PlantedFalse(repeated=0, answered=1, rate=0.0)
    summaries = {S: _summary(None)}
    add_faithfulness(summaries, [_row("q0", "It was 1805.", faithfulness=1.0)],
                     [question("q0")], boot, judged=False)
    f = summaries[S].faithfulness
    assert f is not None and (f.judged, f.mean) == (1, 1.0)


def test_the_line_and_the_cell_word_for_word() -> None:
    full = Faithfulness(judged=50, mean=0.8234, ci_low=0.7412, ci_high=0.8888, answered=60,
                        refusals=6, planted=PlantedFalse(repeated=17, answered=100, rate=0.17))
    assert faithfulness_line(_summary(full)) == (
        "faithfulness 0.82 [0.74, 0.89] (claims supported, over n=50 judged answers that "
        "make claims); refused 6/60 (10%; a refusal claims nothing and is not scored); "
        "answers from the planted false passage: 17/100")
    assert faithfulness_cell(_summary(full)) == "0.82 (n=50) · 6/60 refused · 17/100 planted"
    no_ci = full.model_copy(update={"ci_low": None, "planted": None, "refusals": 0})
    assert faithfulness_line(_summary(no_ci)) == (
        "faithfulness 0.82 (claims supported, over n=50 judged answers that make claims); "
        "refused 0/60 (0%; a refusal claims nothing and is not scored)")
    assert faithfulness_cell(_summary(no_ci)) == "0.82 (n=50)"
    half = full.model_copy(update={"ci_high": None, "planted": None})
    assert faithfulness_line(_summary(half)).startswith(  # type: ignore[union-attr]
        "faithfulness 0.82 (claims")
    # Not judged, no refusal: no refusal clause; nothing at all: no line, a dash.
    planted_only = Faithfulness(answered=9, planted=PlantedFalse(repeated=3, answered=9,
                                                                 rate=1 / 3))
    assert faithfulness_line(_summary(planted_only)) == \
        "answers from the planted false passage: 3/9"
    assert faithfulness_cell(_summary(planted_only)) == "3/9 planted"
    assert faithfulness_line(_summary(Faithfulness(answered=5))) is None
    assert faithfulness_line(_summary(None)) is None
    assert faithfulness_cell(_summary(None)) == "-"
    assert faithfulness_cell(_summary(Faithfulness(answered=5))) == "-"
    # A mean without judged answers is not shown.
    assert faithfulness_cell(_summary(Faithfulness(judged=0, mean=0.9))) == "-"
    assert faithfulness_line(_summary(Faithfulness(judged=0, mean=0.9))) is None
    assert faithfulness_line(_summary(Faithfulness(judged=3, mean=None))) is None


def _evalset(tmp_path: Path) -> tuple[Path, list[Any], str]:
    from workbench.evalsets import load_evalset

    root = Path(__file__).resolve().parents[2] / "evalsets"
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            evalset = load_evalset(folder)
        except Exception:  # any shipped set with plants will do
            continue
        if any(q.meta for q in evalset.questions):
            return folder, evalset.questions, evalset.digest
    pytest.skip("no shipped eval set plants a passage")


def test_restore_meta_reads_the_plants_back_only_from_the_runs_own_set(tmp_path: Path) -> None:
    folder, questions, digest = _evalset(tmp_path)
    bare = [q.model_copy(update={"meta": {}}) for q in questions]
    with_meta = {q.id for q in questions if q.meta}
    manifest = {"evalset": {"source": str(folder), "digest": digest}}
    back = restore_meta(bare, manifest)
    assert {q.id for q in back if q.meta} == with_meta
    assert [q.meta for q in back] == [q.meta for q in questions]
    # A changed digest, a missing source, no digest, no manifest: the questions as they are.
    for m in ({"evalset": {"source": str(folder), "digest": "0" * 16}},
              {"evalset": {"source": str(tmp_path / "gone"), "digest": digest}},
              {"evalset": {"source": str(folder)}}, {"evalset": {"digest": digest}}, None):
        assert restore_meta(bare, m) == bare
    # A run question the set no longer has keeps no meta (and is kept).
    extra = question("not-in-the-set")
    assert restore_meta([*bare, extra], manifest)[-1] == extra
    # Questions that already carry meta are left alone.
    assert restore_meta(questions[:1], manifest) == questions[:1]
    # A file that is not an eval set is not an error: the questions as they are.
    junk = tmp_path / "junk.jsonl"
    junk.write_text(json.dumps({"not": "a question"}) + "\n")
    assert restore_meta(bare, {"evalset": {"source": str(junk), "digest": digest}}) == bare


def test_the_faithfulness_block_heads_its_lines_and_ends_with_the_judges() -> None:
    from tests.report.test_faithfulness import _run
    from workbench.report import build_scorecard
    from workbench.report.faithfulness import faithfulness_lines
    from workbench.report.models import JudgeTrust

    questions, records = _run()
    card = build_scorecard(questions, records, semantic=False, resamples=100)
    trust = JudgeTrust(calls=12, cache_hits=3, problems=["timeout on q4"])
    card = card.model_copy(update={"judge_trust": trust})
    assert faithfulness_lines(card) == [
        "Faithfulness (claims supported by the retrieved passages):",
        f"  {card.label('stack-a')}: answers from the planted false passage: 3/9",
        f"  {card.label('stack-b')}: answers from the planted false passage: 0/10",
        "  judge calls 12, verdicts from the cache 3",
        "  judge problem: timeout on q4"]
