"""The engine tuning probe's fixed prompt set, built from demo-en by the RAG service's own
prompt template, and written where the probe reads it (`workbench/stacks/tuning_prompts.json`).

The probe (`workbench.stacks.tuning_probe`) starts engines for the launcher, on the floor of
the stacks, below the eval sets and the RAG service (docs/architecture.md, "Floors"); so it
reads the prompts as data, and this module, one floor up, makes that data. The file changes
only when demo-en or the RAG template does: `tests/evalsets/test_tuning_prompts.py` fails
while it is stale, and `python -m workbench.evalsets.tuning_prompts` rewrites it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from workbench.evalsets.loader import load_evalset
from workbench.rag.chunking import Chunk
from workbench.rag.prompt import build_prompt
from workbench.settings import Settings
from workbench.stacks.tuning_probe import MAX_TOKENS, PROMPT_SET

#: The eval set the prompts come from (shipped with the workbench).
EVALSET = "demo-en"
#: demo-en questions the probe asks (two answerable in different topics, one answerable with
#: a number, one the context cannot answer), each with `CONTEXT_PASSAGES` passages.
PROBE_QUESTIONS = ("q001", "q021", "q039", "q055")
CONTEXT_PASSAGES = 6  # ~400 prompt tokens: the size of a top-k 4-6 RAG prompt
#: The context window the prompts are built for (they fit it with room to spare).
CONTEXT_WINDOW = 2048


def build_prompt_set(settings: Settings | None = None) -> dict[str, Any]:
    """The prompt set as the probe reads it: RAG prompts for `PROBE_QUESTIONS`, each
    question's gold passage first, then the passages after it in the corpus (the
    unanswerable one, without gold, starts at passage 7 x its position)."""
    evalset = load_evalset(EVALSET, settings)
    passages = evalset.passages
    index = {p.id: i for i, p in enumerate(passages)}
    prompts = []
    for n, qid in enumerate(PROBE_QUESTIONS):
        question = next(q for q in evalset.questions if q.id == qid)
        start = index[question.gold_doc_ids[0]] if question.gold_doc_ids else 7 * n
        chosen = [passages[(start + k) % len(passages)] for k in range(CONTEXT_PASSAGES)]
        chunks = [Chunk(doc_id=p.id, chunk_index=0, text=p.text, title=p.title) for p in chosen]
        prompt = build_prompt(question.question, chunks, CONTEXT_WINDOW, MAX_TOKENS, "en")
        prompts.append(prompt.messages)
    return {
        "about": "The engine tuning probe's prompts (workbench.stacks.tuning_probe), written "
                 "by `python -m workbench.evalsets.tuning_prompts`; do not edit by hand.",
        "evalset": EVALSET, "questions": list(PROBE_QUESTIONS),
        "context_passages": CONTEXT_PASSAGES, "context_window": CONTEXT_WINDOW,
        "max_tokens": MAX_TOKENS, "prompts": prompts,
    }


def render(prompt_set: dict[str, Any]) -> str:
    """The file's text (stable, so a rewrite without a change is no diff)."""
    return json.dumps(prompt_set, indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    """Rewrite the probe's prompt file from demo-en and the RAG template."""
    text = render(build_prompt_set())
    changed = not PROMPT_SET.exists() or PROMPT_SET.read_text(encoding="utf-8") != text
    PROMPT_SET.write_text(text, encoding="utf-8")
    print(f"{PROMPT_SET}: {'rewritten' if changed else 'unchanged'}", file=sys.stderr)


if __name__ == "__main__":
    main()
