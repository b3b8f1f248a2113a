"""A passage: one line of an eval set's `corpus.jsonl`, and what the RAG service indexes.

One model for both, so the corpus the runner loads is the corpus the service indexes: the
same id rules, the same fields. Unknown fields are ignored (a corpus line may carry its own
extras; the service's `POST /index` used to reject them and now drops them instead).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: Longest passage id the RAG service stores (ids name chunks and land in its index files).
MAX_PASSAGE_ID_CHARS = 512


class Passage(BaseModel):
    """One corpus passage: a stable id (gold ids point at it), a title and its text."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=MAX_PASSAGE_ID_CHARS)
    title: str = ""
    text: str = Field(min_length=1)
    doc_type: str | None = Field(default=None, description="Filterable by `/ask`'s doc_types.")
