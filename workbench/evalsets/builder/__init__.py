"""Build an eval set from a folder of documents: passages from .txt/.md/.html/.pdf,
questions written by a local model (llama.cpp), checked, deduplicated and reviewable.

`workbench evalsets build DOCS -o evalsets/mine` runs `build_evalset`; `workbench evalsets
review PATH` (and the web UI's Review tab) keep, edit or drop each question (`review`).
"""

from workbench.evalsets.builder.build import (
    DEFAULT_MODEL,
    BuildOptions,
    BuildResult,
    build_evalset,
    question_writer,
    read_passages,
)
from workbench.evalsets.builder.generate import GenerationError, QuestionWriter
from workbench.evalsets.builder.parsers import DocumentError

__all__ = [
    "DEFAULT_MODEL",
    "BuildOptions",
    "BuildResult",
    "DocumentError",
    "GenerationError",
    "QuestionWriter",
    "build_evalset",
    "question_writer",
    "read_passages",
]
