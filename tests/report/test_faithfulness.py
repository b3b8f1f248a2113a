"""Faithfulness as its own score: answers that repeat a planted false passage are counted
per stack (no judge needed), the judge's claim-level score comes with its sample's CI, both
can be constraints of the choice, and the counterfactual set builds reproducibly (from the
project's demo-en, and from the public XQuAD passages beside the project)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.report.synthetic import question, record
from tests.scoring.test_judge import rule_judge  # noqa: F401 - the scripted judge fixture
from workbench.evalsets.counterfactual import plant
from workbench.evalsets.loader import load_folder
from workbench.records.evalset import Question, check_counterfactual
from workbench.records.responses import ResponseRecord, RetrievedSource
from workbench.report import build_scorecard
from workbench.report.choice import recommend
from workbench.report.constraints import parse_constraint
from workbench.report.faithfulness import faithfulness_line, faithfulness_lines, restore_meta
from workbench.scoring.judge import Judge

ROOT = Path(__file__).resolve().parents[2]
A, B = "stack-a", "stack-b"


def _planted(i: int) -> Question:
    q = question(f"q{i}", [f"{1800 + i}"])
    meta: dict[str, Any] = {"counterfactual": {"passage_id": f"q{i}-doc-cf",
                                               "false_answer": f"{1900 + i}"}}
    return q.model_copy(update={"meta": meta})


def _run() -> tuple[list[Question], list[ResponseRecord]]:
    """10 planted questions. A: 3 repeat the false answer, 1 gives both answers, 5 the gold,
    1 fails. B: the gold every time."""
    questions = [_planted(i) for i in range(10)]
    records = []
    for i, q in enumerate(questions):
        true, false = q.answers[0], f"{1900 + i}"
        a = (f"It was built in {false}." if i < 3 else
             f"Either {false} or {true}." if i == 3 else f"It was built in {true}.")
        records.append(record(q.id, "A", a, status="error" if i == 9 else "ok"))
        records.append(record(q.id, "B", f"In {true}.", start=200.0))
    return questions, records


def test_answers_from_the_planted_passage_are_counted_per_stack() -> None:
    questions, records = _run()
    card = build_scorecard(questions, records, semantic=False, resamples=200)
    fa, fb = card.summaries[A].faithfulness, card.summaries[B].faithfulness
    assert fa is not None and fa.planted is not None and fb is not None and fb.planted
    # The failed request is not an answer; "either 1903 or 1803" took no side.
    assert (fa.planted.repeated, fa.planted.answered) == (3, 9)
    assert fa.planted.question_ids == ["q0", "q1", "q2"]
    assert (fb.planted.repeated, fb.planted.answered) == (0, 10)
    assert fa.judged == 0 and fa.mean is None  # no judge: no judged score
    assert faithfulness_line(card.summaries[A]) == \
        "answers from the planted false passage: 3/9"
    text = "\n".join(faithfulness_lines(card))
    assert "stack-a: answers from the planted false passage: 3/9" in text


def test_no_plants_no_faithfulness_block() -> None:
    questions = [question(f"q{i}", ["x"]) for i in range(3)]
    records = [record(q.id, s, "x") for q in questions for s in "AB"]
    card = build_scorecard(questions, records, semantic=False, resamples=100)
    assert card.summaries[A].faithfulness is None and faithfulness_lines(card) == []


def test_constraints_on_planted_answers_and_faithfulness() -> None:
    questions, records = _run()
    card = build_scorecard(questions, records, semantic=False, resamples=200)
    planted = parse_constraint("planted_false<=10%")
    assert planted.check(card.summaries[A]) == (False, "planted false answers 3/9")
    assert planted.check(card.summaries[B])[0]
    ok, shown = parse_constraint("faithfulness>=0.8").check(card.summaries[A])
    assert not ok and "not judged" in shown
    # Judged on the interval (report.limits): 0 of 9 does not show a rate under 10%.
    strict = parse_constraint("planted_false<=5%")
    assert strict.judge(card.summaries[A]).state == "failed"  # 3/9: CI [7.5%, 70.1%]
    assert planted.judge(card.summaries[A]).state == "unknown"
    b = planted.judge(card.summaries[B])
    assert b.state == "unknown" and b.text.startswith("planted_false<=10% not known with n=10")
    assert b.settle_n == 40  # 0 of 36 first has a CI under 10% (the next size shown: 40)
    choice = recommend(card, [planted])
    assert choice.chosen is None and choice.headline.startswith("no stack meets every")


def test_judged_faithfulness_has_the_sample_ci(rule_judge: str) -> None:  # noqa: F811
    context = "The tower was built in 1805. It is 300 m tall."
    questions = [question(f"q{i}", ["1805"]) for i in range(12)]
    records = []
    for i, q in enumerate(questions):
        for side, answer in (("A", "The tower was built in 1805. It is 300 m tall."),
                             ("B", "The tower was built in 1805. It is made of gold."
                              if i % 2 else "The tower was built in 1805.")):
            r = record(q.id, side, answer, start=100.0 if side == "A" else 200.0)
            r.sources = [RetrievedSource(doc_id="d", rank=1, text=context)]
            records.append(r)
    judge = Judge(base_url=rule_judge, model="rule", sample=8, seed=1)
    card = build_scorecard(questions, records, semantic=False, judge=judge, resamples=500)
    fa, fb = card.summaries[A].faithfulness, card.summaries[B].faithfulness
    assert fa is not None and fb is not None
    assert (fa.judged, fa.mean, fa.all_supported) == (8, 1.0, 1.0)
    assert fb.judged == 8 and fb.mean is not None and 0.5 < fb.mean < 1.0
    assert fb.ci_low is not None and fb.ci_high is not None
    assert 0.5 <= fb.ci_low <= fb.mean <= fb.ci_high <= 1.0
    assert card.summaries[B].quality["faithfulness"] == pytest.approx(fb.mean)
    assert parse_constraint("faithfulness>=0.9").check(card.summaries[A]) == (
        True, "faithfulness 1.00 (n=8 judged)")
    assert not parse_constraint("faithfulness>=0.9").check(card.summaries[B])[0]
    # The judge's trust lines: agreement with F1 on the judged gold answers, calls made.
    assert card.judge_trust is not None and card.judge_trust.agreement is not None
    assert card.judge_trust.agreement.n == 16 and card.judge_trust.calls > 0
    assert card.method.judge is not None and card.method.judge["sample"] == 8


def test_an_always_refusing_stack_does_not_pass_a_faithfulness_constraint(
        rule_judge: str) -> None:  # noqa: F811
    """A refusal claims nothing: it used to score faithfulness 1.0, so a stack that always
    refused passed `faithfulness>=0.8`. Now faithfulness is over answers that make claims,
    the refusal rate sits beside it, and the constraint is judged on the CI's lower bound."""
    context = "The tower was built in 1805."
    questions = [question(f"q{i}", ["1805"]) for i in range(10)]
    records = []
    for q in questions:
        for side, answer, start in (("A", "The documents do not say.", 100.0),
                                    ("B", "The tower was built in 1805.", 200.0)):
            r = record(q.id, side, answer, start=start)
            r.sources = [RetrievedSource(doc_id="d", rank=1, text=context)]
            records.append(r)
    judge = Judge(base_url=rule_judge, model="rule")
    card = build_scorecard(questions, records, semantic=False, judge=judge, resamples=300)
    fa, fb = card.summaries[A].faithfulness, card.summaries[B].faithfulness
    assert fa is not None and fb is not None
    assert (fa.judged, fa.mean, fa.refusals, fa.answered) == (0, None, 10, 10)
    assert fa.refusal_rate == 1.0
    assert (fb.judged, fb.mean, fb.refusals, fb.ci_low) == (10, 1.0, 0, 1.0)
    rule = parse_constraint("faithfulness>=0.8")
    assert rule.judge(card.summaries[A]).state != "met"
    assert rule.judge(card.summaries[B]).state == "met"
    line = faithfulness_line(card.summaries[A])
    assert line == "refused 10/10 (100%; a refusal claims nothing and is not scored)"
    assert faithfulness_line(card.summaries[B]) == (
        "faithfulness 1.00 [1.00, 1.00] (claims supported, over n=10 judged answers that "
        "make claims); refused 0/10 (0%; a refusal claims nothing and is not scored)")


def _check_set(folder: Path) -> None:
    evalset = load_folder(folder)
    texts = {p.id: p.text for p in evalset.passages}
    assert evalset.questions
    for q in evalset.questions:
        assert check_counterfactual(q.meta) is None
        [cf] = q.counterfactuals()
        planted, gold_text = texts[cf.passage_id], texts[q.gold_doc_ids[0]]
        assert cf.false_answer in planted and q.answers[0] not in planted
        assert q.answers[0] in gold_text and cf.false_answer not in gold_text


def test_the_shipped_set_rebuilds_byte_for_byte(tmp_path: Path) -> None:
    shipped = ROOT / "evalsets" / "counterfactual-en"
    plant(ROOT / "evalsets" / "demo-en", tmp_path, n=24, extra_passages=14)
    for name in ("corpus.jsonl", "questions.jsonl"):
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes()
    _check_set(shipped)


def test_built_from_the_public_xquad_passages(tmp_path: Path, shared_evalset: Any) -> None:
    counts = plant(shared_evalset("xquad_en"), tmp_path, n=20)
    assert counts["questions"] >= 15
    _check_set(tmp_path)
    lines = (tmp_path / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line)["meta"]["counterfactual"]["false_answer"] for line in lines)


def test_malformed_counterfactual_meta_is_named() -> None:
    assert check_counterfactual({"counterfactual": {"passage_id": "p"}}) == \
        "meta.counterfactual.false_answer: expected a non-empty string"
    assert check_counterfactual({"counterfactual": "p"}) is not None
    assert check_counterfactual({"other": 1}) is None and check_counterfactual(None) is None


def test_meta_comes_back_from_an_unchanged_eval_set() -> None:
    shipped = ROOT / "evalsets" / "counterfactual-en"
    evalset = load_folder(shipped)
    stored = [q.model_copy(update={"meta": None}) for q in evalset.questions]  # as the store
    manifest = {"evalset": {"source": str(shipped), "digest": evalset.digest}}
    restored = restore_meta(stored, manifest)
    assert [q.counterfactuals() for q in restored] == [q.counterfactuals()
                                                       for q in evalset.questions]
    # A set that changed since the run is not trusted for its plants.
    changed = {"evalset": {"source": str(shipped), "digest": "0" * 64}}
    assert all(not q.meta for q in restore_meta(stored, changed))
    assert restore_meta(stored, None) == stored
