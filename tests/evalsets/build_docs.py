"""The documents the build tests read: three files committed in `docs/` (.txt, .md,
.html) and a PDF written here with reportlab, as a word processor would export one."""

from __future__ import annotations

import shutil
from pathlib import Path

DOCS = Path(__file__).parent / "docs"
PDF_PARAGRAPHS = (
    ("The Ember 3 kiln is the flagship product of Brindle Works. It reaches a top "
     "temperature of 1280 degrees Celsius and weighs 84 kilograms empty. Each kiln is "
     "fired for a full test cycle in Vellmoor before it ships."),
    ("The smaller Ember Mini runs on a normal household socket and reaches 1100 degrees "
     "Celsius. It comes with a two-year warranty, which the Ember 3 extends to five years "
     "for registered studios."),
)


def make_pdf(path: Path, paragraphs: tuple[str, ...] = PDF_PARAGRAPHS,
             title: str = "Product specifications") -> Path:
    """A two-paragraph PDF with a text layer and a title in its metadata."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(str(path), pagesize=A4, title=title)
    story = [Paragraph(title, styles["Heading1"])]
    for text in paragraphs:
        story += [Paragraph(text, styles["BodyText"]), Spacer(1, 18)]
    doc.build(story)
    return path


def docs_folder(tmp: Path) -> Path:
    """A copy of `docs/` with the PDF added, in `tmp`."""
    folder = tmp / "docs"
    shutil.copytree(DOCS, folder)
    make_pdf(folder / "specs" / "ember.pdf") if (folder / "specs").mkdir() is None else None
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
