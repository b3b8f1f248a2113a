"""RAG A/B workbench: start two RAG stacks side by side, ask both the same questions,
score answer quality, retrieval hit-rate and latency, and say which is better."""

__version__ = "0.1.0"

__all__ = ["__version__"]
