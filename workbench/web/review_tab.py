"""Review tab: keep, edit or drop each question of a generated eval set.

The same operations as the terminal's review screen (`workbench.evalsets.builder.review`),
saved to the set's folder at once and atomically; dropped questions go to `dropped.jsonl`
and can be restored. Handlers are plain functions of (folder, question id, ...) that open
the folder afresh on each call, so no state lives in the server between events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from workbench.evalsets.builder.output import BUILD_FILE
from workbench.evalsets.builder.review import ReviewError, ReviewSet
from workbench.web.common import WebConfig, esc, status_md

COLUMNS = ["id", "state", "answer", "question"]


def generated_sets(cfg: WebConfig) -> list[str]:
    """Generated set folders in the eval sets folder (those with `build.json`)."""
    root = cfg.settings.evalsets_dir
    if not root.is_dir():
        return []
    return sorted(str(p.parent) for p in root.glob(f"*/{BUILD_FILE}"))


def _answer(q: dict[str, Any]) -> str:
    if q.get("answerable", True) is False:
        return "(unanswerable)"
    return str((q.get("answers") or [""])[0])


def questions_frame(review: ReviewSet) -> pd.DataFrame:
    """One row per question (dropped ones last) with its review state."""
    rows = [[q["id"], review.status(q["id"]), _answer(q), q["question"]]
            for q in review.rows()]
    return pd.DataFrame(rows, columns=COLUMNS)


def counts_md(review: ReviewSet) -> str:
    """How many questions are new, kept, edited and dropped."""
    c = review.counts()
    return (f"**{esc(review.folder.name)}**: {len(review.questions)} questions in the set: "
            f"{c['new']} new, {c['kept']} kept, {c['edited']} edited; {c['dropped']} dropped "
            f"(in `dropped.jsonl`). Changes are saved at once.")


def open_set(folder: str) -> tuple[str, str, pd.DataFrame, Any, str]:
    """Open a folder: (folder, counts, table, question choices, status)."""
    try:
        review = ReviewSet.open(Path(folder.strip()))
    except ReviewError as exc:
        empty = pd.DataFrame([], columns=COLUMNS)
        return "", "", empty, gr.Dropdown(choices=[], value=None), status_md(str(exc), "error")
    ids = [q["id"] for q in review.rows()]
    return (str(review.folder), counts_md(review), questions_frame(review),
            gr.Dropdown(choices=ids, value=ids[0] if ids else None),
            status_md(f"opened {review.folder}", "ok"))


def show_question(folder: str, qid: str | None) -> tuple[str, str, str]:
    """(passage, question, answer) of one question."""
    if not folder or not qid:
        return "", "", ""
    try:
        review = ReviewSet.open(Path(folder))
        q = review.find(qid)
    except ReviewError as exc:
        return status_md(str(exc), "error"), "", ""
    passage = review.passage_of(q)
    where = "gold passage" if q.get("answerable", True) else \
        "held-out passage (its near miss stays in the corpus)"
    text = (f"**{esc(passage['id'])}** ({where}, state: {review.status(qid)})\n\n"
            f"{esc(passage['text'])}") if passage else "(passage not found)"
    return text, q["question"], "" if not q.get("answerable", True) else _answer(q)


def act(folder: str, qid: str | None, action: str, question: str = "",
        answer: str = "") -> tuple[str, pd.DataFrame, str]:
    """Keep, edit, drop or restore one question: (counts, table, status)."""
    if not folder or not qid:
        return "", pd.DataFrame([], columns=COLUMNS), status_md("open a set first", "warn")
    try:
        review = ReviewSet.open(Path(folder))
        if action == "edit":
            unanswerable = review.find(qid).get("answerable", True) is False
            review.edit(qid, question, None if unanswerable else answer)
        else:
            getattr(review, action)(qid)
    except ReviewError as exc:
        review = ReviewSet.open(Path(folder))
        return counts_md(review), questions_frame(review), status_md(str(exc), "error")
    return (counts_md(review), questions_frame(review),
            status_md(f"{qid}: {review.status(qid)}", "ok"))


def build_review_tab(cfg: WebConfig, tab: gr.Tab | None = None) -> None:
    """The Review tab's components and events (call inside `tab`)."""
    found = generated_sets(cfg)
    with gr.Row():
        folder_in = gr.Dropdown(found, value=found[0] if found else None, allow_custom_value=True,
                                label="Generated eval set folder", scale=4,
                                elem_id="review-folder")
        open_btn = gr.Button("Open", variant="primary", scale=0)
    folder = gr.State("")
    counts = gr.Markdown(elem_id="review-counts")
    status = gr.Markdown(elem_id="review-status")
    table = gr.Dataframe(pd.DataFrame([], columns=COLUMNS), interactive=False, wrap=True,
                         max_height=300, label="Questions (select one to review it)",
                         elem_id="review-table")
    # The actions sit beside the question picker, so they stay on screen at 1024x768.
    with gr.Row(equal_height=True):
        qid = gr.Dropdown([], label="Question", elem_id="review-qid", scale=3)
        keep = gr.Button("Keep", variant="primary", min_width=80, scale=0)
        save = gr.Button("Save", min_width=80, scale=0)
        drop = gr.Button("Drop", variant="stop", min_width=80, scale=0)
        restore = gr.Button("Restore", min_width=90, scale=0)
    with gr.Row(equal_height=False):
        passage = gr.Markdown(elem_id="review-passage")
        with gr.Column():
            question = gr.Textbox(label="Question text", lines=2, elem_id="review-question")
            answer = gr.Textbox(label="Answer (a span of the passage)", elem_id="review-answer")

    open_btn.click(open_set, inputs=[folder_in], outputs=[folder, counts, table, qid, status])
    qid.change(show_question, inputs=[folder, qid], outputs=[passage, question, answer])

    def on_select(evt: gr.SelectData) -> Any:
        row = evt.row_value or []
        return gr.Dropdown(value=str(row[0])) if row else gr.Dropdown()

    table.select(on_select, outputs=[qid])
    for button, action in ((keep, "keep"), (save, "edit"), (drop, "drop"),
                           (restore, "restore")):
        button.click(lambda f, q, t, a, _action=action: act(f, q, _action, t, a),
                     inputs=[folder, qid, question, answer], outputs=[counts, table, status]
                     ).then(show_question, inputs=[folder, qid],
                            outputs=[passage, question, answer])
    if tab is not None:
        tab.select(lambda: gr.Dropdown(choices=generated_sets(cfg)), outputs=[folder_in])
