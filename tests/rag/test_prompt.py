"""Prompt templates, language choice and the token budget."""

from __future__ import annotations

import httpx
import pytest

from workbench.rag.chunking import Chunk
from workbench.rag.prompt import REFUSAL, build_prompt, choose_lang, estimate_tokens

EN = Chunk("d", 0, "The Eiffel Tower is 330 metres tall and stands in Paris. " * 12, "Eiffel")
RU = Chunk("r", 0, "Байкал — самое глубокое озеро на планете, глубина 1642 метра. " * 12, "Байкал")


def test_language_by_script_and_refusal_phrases() -> None:
    assert choose_lang("auto", "Какая глубина Байкала?") == "ru"
    assert choose_lang("auto", "How tall is it?") == "en"
    assert choose_lang("ru", "How tall is it?") == "ru"
    en = build_prompt("How tall is it?", [EN], 2048, 64)
    ru = build_prompt("Какая глубина?", [RU], 2048, 64)
    assert REFUSAL["en"] in en.messages[0]["content"]
    assert REFUSAL["ru"] in ru.messages[0]["content"]
    assert "only the context" in en.messages[0]["content"]
    assert "Вопрос: Какая глубина?" in ru.messages[1]["content"]
    assert en.included == 1 and EN.text.strip() in en.messages[1]["content"]


def test_budget_drops_and_cuts_chunks() -> None:
    chunks = [Chunk("r", i, RU.text, "Байкал") for i in range(6)]
    p = build_prompt("Какая глубина?", chunks, 1024, 96)
    total = sum(estimate_tokens(m["content"]) for m in p.messages)
    assert 0 < p.included < 6
    assert total + 96 <= 1024
    assert p.messages[1]["content"].count("[") == p.included


def test_no_room_means_no_context() -> None:
    p = build_prompt("How tall?", [EN], 300, 250)
    assert p.included == 0 and p.context_tokens == 0


@pytest.mark.slow
@pytest.mark.llamacpp
def test_estimate_is_not_below_the_engine_count(llama_server: str) -> None:
    """The budget is only safe if the estimate does not undercount natural text (llama.cpp
    /tokenize). Not a bound for adversarial strings: rare Cyrillic letters (`ё`) can take two
    byte-level tokens each, above the per-character rate calibrated on real passages."""
    root = llama_server.removesuffix("/v1")
    for chunk in (EN, RU):
        for text in (chunk.text, chunk.text[:57], "Сколько метров? 1889, 1642; O'Neil's"):
            tokens = httpx.post(f"{root}/tokenize", json={"content": text}, timeout=10).json()
            assert estimate_tokens(text) >= len(tokens["tokens"]), text
