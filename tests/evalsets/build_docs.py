"""The documents the build tests read (the package's sample documents,
`workbench.evalsets.builder.sample`, with the PDF) and a small reviewable set."""

from __future__ import annotations

from pathlib import Path

from workbench.evalsets.builder.sample import SAMPLE_DOCS as DOCS
from workbench.evalsets.builder.sample import make_pdf, sample_docs

__all__ = ["DOCS", "docs_folder", "make_pdf", "reviewable_set"]


def docs_folder(tmp: Path) -> Path:
    """A copy of the sample documents with the PDF added, in `tmp` (reportlab required)."""
    folder = sample_docs(tmp, with_pdf=False)
    (folder / "specs").mkdir()
    make_pdf(folder / "specs" / "ember.pdf")
    return folder


def reviewable_set(tmp: Path) -> Path:
    """A small generated-set folder (as `workbench evalsets build` writes one), with three
    answerable questions and one unanswerable, for the review tests."""
    from workbench.evalsets.builder.output import write_set

    corpus = [
        {"id": "it-guide.md#0", "title": "IT guide",
         "text": "The company VPN is called Tidewater. Set the MTU to 1320 if it drops."},
        {"id": "office.html#0", "title": "Our offices",
         "text": "The headquarters is at 9 Quarry Lane in Ostrand, next to the bridge."},
    ]
    held = [{"id": "office.html#1", "title": "Our offices",
             "text": "The shuttle bus leaves for Vellmoor at 8:15 every weekday."}]

    def q(qid: str, pid: str, question: str, answer: str) -> dict[str, object]:
        return {"id": qid, "question": question, "answers": [answer], "gold_doc_ids": [pid],
                "answerable": True, "lang": "en", "meta": {"generated": True}}

    questions = [
        q("it-guide.md#0:q1", "it-guide.md#0", "What is the company VPN called?", "Tidewater"),
        q("it-guide.md#0:q2", "it-guide.md#0", "What MTU fixes the VPN?", "1320"),
        q("office.html#0:q1", "office.html#0", "On which lane is the headquarters?",
          "9 Quarry Lane"),
        {"id": "office.html#1:u1", "question": "When does the shuttle bus leave for Vellmoor?",
         "answers": [], "gold_doc_ids": [], "answerable": False, "lang": "en",
         "source_doc_id": "office.html#0",
         "meta": {"generated": True, "held_out_passage": "office.html#1",
                  "held_out_answer": "8:15", "near_miss": "office.html#0"}},
    ]
    build = {"generated": True, "generator": {
        "model": "qwen2.5-0.5b-instruct", "model_digest": "0" * 64, "engine": "llama.cpp",
        "prompt": "p", "user_template": "u", "prompt_digest": "1" * 64, "temperature": 0.0,
        "questions_per_passage": 2}, "source": "docs", "built_at": "2026-12-01T00:00:00Z",
        "counts": {"documents": 2, "passages": 2, "questions": 4, "answerable": 3,
                   "unanswerable": 1, "held_out": 1, "rejected": 0}}
    out = tmp / "mine"
    write_set(out, corpus=corpus, questions=questions, held_out=held, rejected=[],
              build=build)
    return out
