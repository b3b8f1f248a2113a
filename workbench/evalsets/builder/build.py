"""`build_evalset`: documents in a folder -> an eval set of generated questions.

Steps: read every document (one parser per format) and cut it into passages; hold out the
near-miss passages that unanswerable questions come from; ask the local model for
questions about each passage (cached); keep a pair only when its answer span is in the
passage (and, for a held-out passage, in no corpus passage); drop duplicates; write the
set and check that it loads like any other.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.evalsets.builder.generate import (
    SYSTEM_PROMPT,
    USER_TEMPLATE,
    GenerationError,
    QuestionWriter,
    prompt_digest,
)
from workbench.evalsets.builder.output import check_target, write_set
from workbench.evalsets.builder.parsers import (
    DocPassage,
    DocumentError,
    find_documents,
    passages_of,
    read_document,
)
from workbench.evalsets.builder.questions import (
    duplicates,
    in_any,
    near_misses,
    span_problem,
)
from workbench.evalsets.loader import load_folder
from workbench.rag.text import is_russian
from workbench.stacks.engines.llamacpp import local_llama_server, packaged_build
from workbench.stacks.models import resolve_gguf
from workbench.stacks.process import free_port
from workbench.stacks.registry import get_model

#: The default question writer (the issue's choice: the best packaged model that runs here).
DEFAULT_MODEL = "qwen2.5-1.5b-instruct"
#: Progress callback: (passages done, passages in all).
Progress = Callable[[int, int], None]


@dataclass
class BuildOptions:
    """What to build from where."""

    docs: Path
    out: Path
    model: str = DEFAULT_MODEL
    per_passage: int = 1
    unanswerable_share: float = 0.15
    passage_chars: int = 700
    max_passages: int | None = None
    """Ask about only the first N passages (in document order): a quick, smaller set."""
    overwrite: bool = False


@dataclass
class BuildResult:
    """What a build made, and how fast."""

    out: Path
    passages: int
    questions: int
    unanswerable: int
    rejected: int
    duplicates: int
    generated: int
    """Question-answer pairs the model wrote (before checks), cached ones included."""
    asked: int
    """Passages the model was asked about (not from the cache)."""
    elapsed_s: float
    gen_s: float
    """Seconds spent waiting on the model (cache misses only)."""
    skipped: list[str] = field(default_factory=list)

    @property
    def per_minute(self) -> float:
        """Kept questions per minute of model time (0 when all came from the cache)."""
        return self.questions / self.gen_s * 60.0 if self.gen_s > 0 else 0.0


class NothingKeptError(GenerationError):
    """Every generated question failed a check: the folder holds no loadable set (its
    `rejected.jsonl` says why each was refused)."""

    def __init__(self, generated: int, gen_s: float, message: str) -> None:
        super().__init__(message)
        self.generated = generated
        self.gen_s = gen_s


def read_passages(docs: Path, size: int) -> tuple[list[DocPassage], list[dict[str, Any]],
                                                   list[str]]:
    """Passages of every readable document, one record per document, unreadable ones."""
    passages: list[DocPassage] = []
    documents: list[dict[str, Any]] = []
    skipped: list[str] = []
    for path in find_documents(docs):
        try:
            doc = read_document(path, docs)
        except DocumentError as exc:
            skipped.append(str(exc))
            continue
        found = list(passages_of(doc, size))
        if not found:
            skipped.append(f"{path}: no passage of at least 80 characters")
        passages += found
        documents.append({"path": doc.key, "title": doc.title, "passages": len(found),
                          "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    return passages, documents, skipped


def build_evalset(opts: BuildOptions, writer: QuestionWriter, *, engine: str = "llama.cpp",
                  progress: Progress | None = None) -> BuildResult:
    """Build the set into `opts.out` with `writer` (see the module docstring)."""
    started = time.perf_counter()
    check_target(opts.out, opts.overwrite)
    passages, documents, skipped = read_passages(opts.docs, opts.passage_chars)
    if opts.max_passages is not None:
        passages = passages[: opts.max_passages]
    if len(passages) < 1:
        raise DocumentError(f"{opts.docs}: no passages to ask about ({len(skipped)} file(s) "
                            "skipped)" + "".join(f"\n  {s}" for s in skipped))
    pairs = near_misses(passages, opts.unanswerable_share)
    held = {m.held_out.id: m for m in pairs}
    corpus = [p for p in passages if p.id not in held]
    rows: list[tuple[str, dict[str, Any]]] = []
    rejected: list[dict[str, Any]] = []
    generated = 0
    gen_s = 0.0
    for done, p in enumerate(passages):
        miss = held.get(p.id)
        n = 1 if miss else opts.per_passage
        before = writer.ask_s
        written = writer.write(p.title, p.text, n)
        gen_s += writer.ask_s - before
        generated += len(written)
        for k, w in enumerate(written, start=1):
            span, why = span_problem(w.question, w.answer, p.text)
            if span is not None and miss is not None and in_any(span, corpus):
                span, why = None, "held-out answer also appears in the corpus"
            if span is None:
                rejected.append({"passage_id": p.id, "question": w.question,
                                 "answer": w.answer, "reason": why})
                continue
            rows.append((p.id, _question(p, w.question, span, k, miss is not None,
                                         miss.near_miss.id if miss else None)))
        if progress:
            progress(done + 1, len(passages))
    dups = duplicates([(pid, r["question"]) for pid, r in rows])
    for d in dups:
        pid, row = rows[d.index]
        rejected.append({"passage_id": pid, "question": row["question"],
                         "answer": (row["answers"] or [row["meta"]["held_out_answer"]])[0],
                         "reason": f"duplicate of {rows[d.of][1]['id']}"})
    gone = {d.index for d in dups}
    questions = [r for i, (_, r) in enumerate(rows) if i not in gone]
    unanswerable = sum(not q["answerable"] for q in questions)
    build = {
        "generated": True,
        "generator": {
            "model": opts.model, "model_digest": writer.model_digest, "engine": engine,
            "prompt": SYSTEM_PROMPT, "user_template": USER_TEMPLATE,
            "prompt_digest": prompt_digest(), "temperature": 0.0,
            "questions_per_passage": opts.per_passage, "output": "JSON schema",
        },
        "source": str(opts.docs),
        "built_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "documents": documents,
        "skipped": skipped,
        "held_out": [{"id": m.held_out.id, "near_miss": m.near_miss.id,
                      "similarity": round(m.similarity, 3)} for m in pairs],
        "counts": {"documents": len(documents), "passages": len(corpus),
                   "questions": len(questions), "answerable": len(questions) - unanswerable,
                   "unanswerable": unanswerable, "held_out": len(pairs),
                   "rejected": len(rejected), "duplicates": len(dups), "generated": generated},
        "cache": {"hits": writer.hits, "misses": writer.misses},
    }
    write_set(opts.out, corpus=[{"id": p.id, "title": p.title, "text": p.text} for p in corpus],
              questions=questions,
              held_out=[{"id": m.held_out.id, "title": m.held_out.title,
                         "text": m.held_out.text} for m in pairs],
              rejected=rejected, build=build)
    if not questions:
        raise NothingKeptError(generated, gen_s, f"{opts.out}: none of the {generated} "
                               "generated questions passed the checks (each refusal and its "
                               "reason is in rejected.jsonl)")

    load_folder(opts.out)  # the set must load like any other; raises EvalSetError if not
    return BuildResult(opts.out, len(corpus), len(questions), unanswerable, len(rejected),
                       len(dups), generated, writer.misses, time.perf_counter() - started,
                       gen_s, skipped)


def _question(p: DocPassage, question: str, span: str, k: int, unanswerable: bool,
              near_miss: str | None) -> dict[str, Any]:
    lang = "ru" if is_russian(p.text) else "en"
    meta: dict[str, Any] = {"generated": True, "source_file": p.source}
    if unanswerable:
        # The answer lived in a passage now held out of the corpus: kept for the record
        # (and for a reviewer), never as a gold answer.
        meta |= {"held_out_passage": p.id, "held_out_answer": span, "near_miss": near_miss}
        return {"id": f"{p.id}:u{k}", "question": question, "answers": [],
                "gold_doc_ids": [], "answerable": False, "lang": lang,
                "source_doc_id": near_miss, "meta": meta}
    return {"id": f"{p.id}:q{k}", "question": question, "answers": [span],
            "gold_doc_ids": [p.id], "answerable": True, "lang": lang, "meta": meta}


@contextlib.contextmanager
def question_writer(model: str, *, log: Path, cache_dir: Path | None, threads: int = 2,
                    url: str | None = None, timeout_s: float = 180.0
                    ) -> Iterator[tuple[QuestionWriter, str]]:
    """A `QuestionWriter` for registry model `model` and the engine's name: on the
    llama-server at `url`, else on one started here at the first cache miss (none when
    every passage is cached) and stopped on exit."""
    registered = get_model(model)
    if url is not None:
        writer = QuestionWriter(url, registered.sha256, model, cache_dir)
        try:
            yield writer, f"llama.cpp at {url}"
        finally:
            writer.close()
        return

    resolve_gguf(registered.spec)  # a missing model fails now, not after the cached part
    with contextlib.ExitStack() as stack:
        def start() -> str:
            log.parent.mkdir(parents=True, exist_ok=True)
            server = stack.enter_context(local_llama_server(
                log, free_port(), context=4096, slots=1, threads=threads,
                gguf=registered.spec, alias=model, timeout_s=timeout_s))
            return server.url

        writer = QuestionWriter("", registered.sha256, model, cache_dir, connect=start)
        stack.callback(writer.close)
        yield writer, f"llama.cpp {packaged_build() or ''}".strip()


__all__ = ["DEFAULT_MODEL", "BuildOptions", "BuildResult", "GenerationError", "NothingKeptError",
           "build_evalset", "question_writer", "read_passages"]
