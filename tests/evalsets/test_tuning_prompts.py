"""The tuning probe's prompt file is what demo-en and the RAG service's template make today:
the probe (on the stacks' floor) reads it as data, so a stale file would time and compare
engines on prompts the RAG service no longer sends."""

from __future__ import annotations

import json

from workbench.evalsets.tuning_prompts import (
    CONTEXT_PASSAGES,
    PROBE_QUESTIONS,
    build_prompt_set,
    render,
)
from workbench.stacks.tuning_probe import MAX_TOKENS, PROMPT_SET, probe_prompts


def test_the_shipped_prompt_file_is_the_one_demo_en_and_the_template_make() -> None:
    # Stale: run `python -m workbench.evalsets.tuning_prompts` and commit the file.
    assert PROMPT_SET.read_text(encoding="utf-8") == render(build_prompt_set())


def test_the_probe_asks_every_question_with_its_gold_passage_first() -> None:
    prompts = probe_prompts()
    data = json.loads(PROMPT_SET.read_text(encoding="utf-8"))
    assert len(prompts) == len(PROBE_QUESTIONS) == 4
    assert data["max_tokens"] == MAX_TOKENS and data["context_passages"] == CONTEXT_PASSAGES
    for messages in prompts:
        assert [m["role"] for m in messages] == ["system", "user"]
        # Six passages numbered [1]..[6]: the context fits the window whole.
        assert all(f"[{n}]" in messages[1]["content"] for n in range(1, CONTEXT_PASSAGES + 1))
    # q001 asks when Quillmoor Labs was founded; its gold passage (company history) leads.
    assert "Quillmoor Labs was founded in 2011" in prompts[0][1]["content"].split("[2]")[0]
