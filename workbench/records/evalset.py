"""The eval set format (docs/architecture.md, "Eval set format"): passages with stable ids,
questions with gold answers and gold passage ids. `answerable=False` means the right
behaviour is to refuse.

Gold answers and gold passage ids are optional: a questions-only set (a team's own
questions about its own documents) loads with `answers == []` and `gold_doc_ids == []` on
answerable questions; retrieval metrics then skip them and answer quality needs a judge."""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, ConfigDict, Field

from workbench.records.passage import Passage
from workbench.records.rag import MAX_SPACE_ID_CHARS, SPACE_ID_PATTERN

_SPACE_ID = re.compile(SPACE_ID_PATTERN)
_NOT_SPACE_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def space_id_for(name: str) -> str:
    """The RAG service space an eval set named `name` is indexed into and asked in.

    A name the service accepts as a space id (`demo-en`) is used as it is. Any other
    (`owner/name` from a hub id, a folder or file name with spaces or a leading dot) maps
    to one the service accepts, deterministically: `/` becomes `--`, other characters
    outside `[A-Za-z0-9._-]` and leading dots become `-`, and a short digest of the original
    name is appended so two different names never share a space
    (`google/xquad` -> `google--xquad-<8 hex>`).
    """
    if _SPACE_ID.match(name) and len(name) <= MAX_SPACE_ID_CHARS:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    safe = _NOT_SPACE_ID_CHARS.sub("-", name.replace("/", "--"))
    safe = re.sub(r"^\.+", lambda m: "-" * len(m.group()), safe)
    return f"{safe[: MAX_SPACE_ID_CHARS - len(digest) - 1]}-{digest}"


class Counterfactual(BaseModel):
    """A planted passage: an edited copy of a real passage that states a false answer.

    A question names it in `meta.counterfactual` (one object, or a list):
    `{"passage_id": "p12-cf", "false_answer": "1907"}`. An answer that repeats the false
    answer came from the planted passage: the report counts those per stack."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    passage_id: str = Field(min_length=1, description="The planted passage's id.")
    false_answer: str = Field(min_length=1, description="What the planted passage says.")


def check_counterfactual(meta: object) -> str | None:
    """What is wrong with a question's `meta.counterfactual`, or None (also when absent)."""
    if not isinstance(meta, dict) or meta.get("counterfactual") is None:
        return None
    value = meta["counterfactual"]
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, dict):
            return "meta.counterfactual: expected an object or a list of objects"
        for key in ("passage_id", "false_answer"):
            if not isinstance(item.get(key), str) or not item[key]:
                return f"meta.counterfactual.{key}: expected a non-empty string"
    return None


class Question(BaseModel):
    """One question (`questions.jsonl` line)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answers: list[str] = Field(default_factory=list, description="Gold answer and aliases.")
    gold_doc_ids: list[str] = Field(default_factory=list, description="Gold passage ids.")
    answerable: bool = True
    lang: str = "en"
    meta: dict[str, object] | None = None
    source_doc_id: str | None = Field(
        default=None,
        description="Unanswerable questions: the on-topic passage the question was written "
        "against (it does not hold the answer); None otherwise.",
    )

    def counterfactuals(self) -> list[Counterfactual]:
        """The planted false passages `meta.counterfactual` names ([] when none or
        malformed: the validator reports malformed ones, see `check_counterfactual`)."""
        if check_counterfactual(self.meta) is not None or not self.meta:
            return []
        value = self.meta.get("counterfactual")
        items = value if isinstance(value, list) else [value] if value is not None else []
        return [Counterfactual.model_validate(item) for item in items]

    @property
    def has_gold_answers(self) -> bool:
        """An answerable question with gold answers (scored by EM/F1 without a judge)."""
        return self.answerable and bool(self.answers)

    @property
    def has_gold_ids(self) -> bool:
        """An answerable question with gold passage ids (scored on retrieval)."""
        return self.answerable and bool(self.gold_doc_ids)


class EvalSet(BaseModel):
    """A corpus and its questions, with a digest of both (recorded in the run manifest)."""

    name: str
    passages: list[Passage]
    questions: list[Question]
    digest: str = Field(description="sha256 over the canonical corpus and questions.")
    source: str = Field(default="", description="Where it was loaded from.")

    @property
    def space_id(self) -> str:
        """The RAG service space this set's corpus is indexed into (see `space_id_for`)."""
        return space_id_for(self.name)

    def passage_ids(self) -> set[str]:
        """All passage ids."""
        return {p.id for p in self.passages}

    @property
    def unanswerable_count(self) -> int:
        """How many questions the corpus does not answer (scored on refusal)."""
        return sum(not q.answerable for q in self.questions)

    @property
    def without_gold_answers(self) -> int:
        """Answerable questions with no gold answer (questions-only): judged, not matched."""
        return sum(q.answerable and not q.answers for q in self.questions)

    @property
    def without_gold_ids(self) -> int:
        """Answerable questions with no gold passage id: left out of retrieval metrics."""
        return sum(q.answerable and not q.gold_doc_ids for q in self.questions)
