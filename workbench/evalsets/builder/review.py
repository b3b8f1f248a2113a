"""Reviewing a generated eval set: keep, edit or drop each question, saved at once.

Every change rewrites `questions.jsonl` (and `dropped.jsonl`) atomically, so the set on
disk is always whole and loadable. Nothing is lost: a dropped question moves, unchanged,
to `dropped.jsonl` and can be restored; an edit keeps the generated text in
`meta.generated_question` / `meta.generated_answer`. A question's review state is
`meta.review`: absent (not reviewed), "kept" or "edited".
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from workbench.evalsets.builder.output import BUILD_FILE, DROPPED_FILE, read_jsonl_rows, write_rows
from workbench.evalsets.builder.questions import find_span

Status = Literal["new", "kept", "edited", "dropped"]


class ReviewError(ValueError):
    """A folder that is not a generated set, an unknown question id, or a bad edit."""


@dataclass
class ReviewSet:
    """The questions of one generated set folder, as a reviewer changes them."""

    folder: Path
    questions: list[dict[str, Any]]
    dropped: list[dict[str, Any]]
    passages: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Corpus and held-out passages by id (to show, and to check edited spans)."""

    @classmethod
    def open(cls, folder: Path | str) -> ReviewSet:
        """Read a generated set folder (one with `build.json`)."""
        folder = Path(folder)
        if not (folder / BUILD_FILE).is_file() or not (folder / "questions.jsonl").is_file():
            raise ReviewError(f"{folder}: not a generated eval set (no {BUILD_FILE} and "
                              "questions.jsonl); build one with `workbench evalsets build`")
        passages = {p["id"]: p for name in ("corpus.jsonl", "heldout.jsonl")
                    for p in read_jsonl_rows(folder / name)}
        questions = read_jsonl_rows(folder / "questions.jsonl")
        # In both files only after a crash between the two writes of a move: the set keeps it.
        live = {q["id"] for q in questions}
        dropped = [q for q in read_jsonl_rows(folder / DROPPED_FILE) if q["id"] not in live]
        return cls(folder, questions, dropped, passages)

    def status(self, qid: str) -> Status:
        """The review state of a question."""
        if any(q["id"] == qid for q in self.dropped):
            return "dropped"
        review = (self._find(qid).get("meta") or {}).get("review")
        return review if review in ("kept", "edited") else "new"

    def passage_of(self, question: dict[str, Any]) -> dict[str, Any] | None:
        """The passage a question was written against (gold, else the held-out one)."""
        meta = question.get("meta") or {}
        pid = (question.get("gold_doc_ids") or [None])[0] or meta.get("held_out_passage")
        return self.passages.get(pid) if pid else None

    def counts(self) -> dict[str, int]:
        """How many questions are in each review state."""
        out = {"new": 0, "kept": 0, "edited": 0, "dropped": len(self.dropped)}
        for q in self.questions:
            out[self.status(q["id"])] += 1
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Every question, dropped ones last, with its state (for tables)."""
        return [*self.questions, *self.dropped]

    def keep(self, qid: str) -> None:
        """Mark a question as reviewed and kept as it is."""
        q = self._find(qid)
        meta = q.setdefault("meta", {}) or {}
        q["meta"] = meta
        if meta.get("review") != "edited":
            meta["review"] = "kept"
        self._save()

    def edit(self, qid: str, question: str, answer: str | None = None) -> None:
        """Change a question's text (and an answerable one's answer, which must appear in
        its passage); the generated text is kept in `meta`."""
        q = self._find(qid)
        question = question.strip()
        if not question:
            raise ReviewError(f"{qid}: the question is empty")
        meta = q.get("meta") or {}
        new_answers = q.get("answers") or []
        if q.get("answerable", True) and answer is not None and answer.strip():
            passage = self.passage_of(q)
            span = find_span(answer, passage["text"]) if passage else answer.strip()
            if span is None:
                raise ReviewError(f"{qid}: answer {answer.strip()!r} does not appear in "
                                  f"passage {(passage or {}).get('id')}")
            new_answers = [span, *[a for a in new_answers[1:] if a != span]]
        meta.setdefault("generated_question", q["question"])
        if new_answers != (q.get("answers") or []):
            meta.setdefault("generated_answer", (q.get("answers") or [None])[0])
        q["question"], q["answers"] = question, new_answers
        meta["review"] = "edited"
        q["meta"] = meta
        self._save()

    def drop(self, qid: str) -> None:
        """Move a question to `dropped.jsonl` (restorable)."""
        q = self._find(qid)
        self.questions.remove(q)
        self.dropped.append(q)
        self._save(gained=DROPPED_FILE)

    def restore(self, qid: str) -> None:
        """Bring a dropped question back, at the end of the set."""
        q = next((d for d in self.dropped if d["id"] == qid), None)
        if q is None:
            raise ReviewError(f"{qid}: not a dropped question")
        self.dropped.remove(q)
        self.questions.append(q)
        self._save(gained="questions.jsonl")

    def find(self, qid: str) -> dict[str, Any]:
        """A copy of a question, dropped or not (`ReviewError` for an unknown id)."""
        for q in self.rows():
            if q["id"] == qid:
                return copy.deepcopy(q)
        raise ReviewError(f"{qid}: no such question in {self.folder}")

    def _find(self, qid: str) -> dict[str, Any]:
        for q in self.questions:
            if q["id"] == qid:
                return q
        if any(q["id"] == qid for q in self.dropped):
            raise ReviewError(f"{qid}: dropped; restore it first")
        raise ReviewError(f"{qid}: no such question in {self.folder}")

    def _save(self, gained: str = DROPPED_FILE) -> None:
        # The file a question moves into is written first: a crash between the two writes
        # leaves it in both (`open` keeps it in the set), never in neither (lost).
        files = {DROPPED_FILE: self.dropped, "questions.jsonl": self.questions}
        for name in sorted(files, key=lambda n: n != gained):
            write_rows(self.folder / name, files[name])


__all__ = ["ReviewError", "ReviewSet", "Status"]
