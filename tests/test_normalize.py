"""Normalisation, exact match, token F1 and gold-contained on hand-computed cases."""

from __future__ import annotations

import pytest

from workbench.normalize import (
    contains_gold,
    exact_match_score,
    f1_score,
    normalize_answer,
    stem_ru,
)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("ＡＢＣ　１２３", "abc 123"),  # NFKC folds full-width forms
        ("1,000 U.S. dollars", "1000 us dollars"),
        ("Ёлка", "елк"),  # ё -> е, then the ending -а is stemmed
        ("«Война и мир»", "войн и мир"),
    ],
)
def test_normalize_answer(raw: str, normal: str) -> None:
    assert normalize_answer(raw) == normal


def test_strict_normalisation_keeps_russian_endings() -> None:
    assert normalize_answer("В Москве", stem=False) == "в москве"


@pytest.mark.parametrize(
    ("token", "stem"),
    [("москве", "москв"), ("москва", "москв"), ("москвой", "москв"), ("годом", "год"),
     ("год", "год"), ("дом", "дом"), ("россии", "росс"), ("россия", "росс"),
     ("красной", "красн"), ("красная", "красн")],
)
def test_stem_ru(token: str, stem: str) -> None:
    assert stem_ru(token) == stem


def test_exact_match_inflected_russian() -> None:
    assert exact_match_score("Москве", ["Москва"]) == 1.0
    assert exact_match_score("Москве", ["Москва"], stem=False) == 0.0
    assert exact_match_score("Пушкина", ["А. С. Пушкин", "Пушкин"]) == 1.0
    assert exact_match_score("Санкт-Петербург", ["Москва"]) == 0.0


def test_exact_match_english_is_squad() -> None:
    assert exact_match_score("the Broncos.", ["Denver Broncos", "Broncos"]) == 1.0
    assert exact_match_score("Denver", ["Denver Broncos"]) == 0.0


def test_token_f1_hand_computed() -> None:
    # pred [cat, sat, on, mat] vs gold [cat, on, mat]: 3 shared, P = 3/4, R = 1 -> 6/7.
    assert f1_score("The cat sat on the mat", ["a cat on a mat"]) == pytest.approx(6 / 7)
    # Best alias wins: against "mat" P = 1/4, R = 1 -> 0.4, below 6/7.
    assert f1_score("The cat sat on the mat", ["mat", "a cat on a mat"]) == pytest.approx(6 / 7)


def test_token_f1_russian_hand_computed() -> None:
    # pred [пушкин, написал, поэм] vs gold [пушкин]: P = 1/3, R = 1 -> F1 = 0.5.
    assert f1_score("Пушкин написал поэму", ["Пушкина"]) == pytest.approx(0.5)
    assert f1_score("Пушкин написал поэму", ["Пушкина"], stem=False) == pytest.approx(0.0)


def test_token_f1_edge_cases() -> None:
    assert f1_score("", [""]) == 1.0
    assert f1_score("", ["Paris"]) == 0.0
    assert f1_score("Paris", []) == 0.0


def test_contains_gold_whole_tokens() -> None:
    assert contains_gold("It happened in 1812, in winter.", ["1812"]) == 1.0
    assert contains_gold("It happened in 1812.", ["1"]) == 0.0
    assert contains_gold("Столица — в Москве, конечно.", ["Москва"]) == 1.0
    assert contains_gold("The Denver Broncos won.", ["Denver Broncos"]) == 1.0
    assert contains_gold("Denver won.", ["Denver Broncos"]) == 0.0
