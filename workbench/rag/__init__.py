"""The per-stack RAG service: chunking, embeddings, Qdrant + BM25 hybrid retrieval, prompts
under a token budget, and streamed generation through the engine's OpenAI-compatible API.

Start it with `python -m workbench.rag --recipe PATH`; build it in tests with `create_app`.
Heavy libraries (torch, sentence-transformers, qdrant-client) load only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.rag.service import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import workbench.records.rag` (the runner's contract) stays light.
    if name == "create_app":
        # why here: rag.service imports fastapi (FastAPI is the RAG service's only)
        from workbench.rag.service import create_app

        return create_app
    raise AttributeError(name)
