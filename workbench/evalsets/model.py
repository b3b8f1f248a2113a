"""The eval set format (DESIGN.md): passages with stable ids, questions with gold answers
and gold passage ids. `answerable=False` means the right behaviour is to refuse."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Passage(BaseModel):
    """One corpus passage (`corpus.jsonl` line)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    title: str = ""
    text: str = Field(min_length=1)


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


class EvalSet(BaseModel):
    """A corpus and its questions, with a digest of both (recorded in the run manifest)."""

    name: str
    passages: list[Passage]
    questions: list[Question]
    digest: str = Field(description="sha256 over the canonical corpus and questions.")
    source: str = Field(default="", description="Where it was loaded from.")

    def passage_ids(self) -> set[str]:
        """All passage ids."""
        return {p.id for p in self.passages}

    @property
    def unanswerable_count(self) -> int:
        """How many questions the corpus does not answer (scored on refusal)."""
        return sum(not q.answerable for q in self.questions)
