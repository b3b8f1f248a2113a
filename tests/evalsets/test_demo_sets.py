"""The shipped demo sets meet their promise: counts, extractive answers, honest refusals."""

from __future__ import annotations

import re

import pytest

from workbench.evalsets import EvalSet, load_evalset, shipped_evalsets
from workbench.settings import PROJECT_ROOT

DEMO_SETS = {"demo-en": "en", "demo-ru": "ru"}


@pytest.fixture(scope="module", params=sorted(DEMO_SETS))
def demo(request: pytest.FixtureRequest) -> EvalSet:
    """Each shipped demo set, loaded once."""
    return load_evalset(str(request.param))


def test_demo_sets_are_shipped() -> None:
    assert set(DEMO_SETS) <= set(shipped_evalsets())


def test_counts(demo: EvalSet) -> None:
    assert len(demo.passages) >= 40
    assert len(demo.questions) >= 60
    assert demo.unanswerable_count >= 10
    assert {q.lang for q in demo.questions} == {DEMO_SETS[demo.name]}


def test_passages_are_two_to_five_sentences_of_300_to_700_characters(demo: EvalSet) -> None:
    for p in demo.passages:
        assert 300 <= len(p.text) <= 700, p.id
        sentences = [s for s in re.split(r"(?<=[.!?»])\s+(?=[A-ZА-ЯЁ«])", p.text) if s]
        assert 2 <= len(sentences) <= 5, p.id
        assert p.title


def test_every_answer_is_in_its_gold_passage(demo: EvalSet) -> None:
    text = {p.id: p.text.lower() for p in demo.passages}
    for q in demo.questions:
        if not q.answerable:
            assert (q.answers, q.gold_doc_ids) == ([], []), q.id
            continue
        assert len(q.gold_doc_ids) == 1, q.id
        assert q.answers[0].lower() in text[q.gold_doc_ids[0]], q.id
        assert 1 <= len(q.answers[0].split()) <= 4, q.id
        assert len(set(q.answers)) == len(q.answers), q.id


def test_unanswerable_answers_appear_nowhere(demo: EvalSet) -> None:
    # An unanswerable question's subject may be mentioned, but the corpus must not state
    # its answer; at least check no question is a copy of an answerable one.
    answerable = {q.question for q in demo.questions if q.answerable}
    assert not {q.question for q in demo.questions if not q.answerable} & answerable


def test_readme_states_the_counts_and_license(demo: EvalSet) -> None:
    readme = (PROJECT_ROOT / "evalsets" / demo.name / "README.md").read_text(encoding="utf-8")
    assert f"{len(demo.passages)} passages" in readme
    assert f"{len(demo.questions)} questions" in readme
    assert f"{demo.unanswerable_count} unanswerable" in readme
    assert "Apache-2.0" in readme


def test_ru_is_parallel_to_en() -> None:
    en, ru = load_evalset("demo-en"), load_evalset("demo-ru")
    assert [p.id for p in en.passages] == [p.id for p in ru.passages]
    assert [(q.id, q.gold_doc_ids, q.answerable) for q in en.questions] == [
        (q.id, q.gold_doc_ids, q.answerable) for q in ru.questions
    ]
    assert all(re.search("[а-яё]", p.text.lower()) for p in ru.passages)
