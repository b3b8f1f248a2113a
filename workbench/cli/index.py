"""`workbench index`: build a stack's RAG index offline, into the folder its service reads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from pydantic import ValidationError
from tqdm import tqdm

from workbench.cli.app import app, fail
from workbench.rag.__main__ import default_data_dir, default_shared_dir
from workbench.rag.embedder import EmbedderError, get_embedder
from workbench.records.rag import IndexRequest
from workbench.settings import get_settings
from workbench.stacks.recipe import RecipeError, get_stack


def read_corpus(path: Path) -> list[dict[str, object]]:
    """Passages of a `corpus.jsonl` (`{"id", "title", "text", "doc_type"?}` per line)."""
    passages: list[dict[str, object]] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path} line {n}: invalid JSON: {exc.msg}") from exc
            if not isinstance(row, dict) or not row.get("id") or not row.get("text"):
                raise ValueError(f"{path} line {n}: a passage needs non-empty `id` and `text`")
            passages.append(
                {k: row[k] for k in ("id", "title", "text", "doc_type") if row.get(k) is not None}
            )
    if not passages:
        raise ValueError(f"{path}: no passages")
    return passages


@app.command("index")
def index_command(
    stack_name: str = typer.Option(..., "--stack", help="Stack recipe name (stacks/NAME.yaml)."),
    corpus: Path = typer.Option(
        ..., "--corpus", help="corpus.jsonl to index.", exists=True, dir_okay=False
    ),
    space_id: str = typer.Option(..., "--space-id", help="Space to index into."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Index folder override."),
) -> None:
    """Index a corpus for a stack (reused when corpus and settings are unchanged).

    Run it while the stack's RAG service is stopped: Qdrant's local mode allows one
    process per folder.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # why here: rag.index imports qdrant-client (seconds to import), after HF_HUB_OFFLINE
    from workbench.rag.index import IndexStore


    try:
        stack = get_stack(stack_name, get_settings().stacks_dir)
        request = IndexRequest.model_validate(
            {"space_id": space_id, "passages": read_corpus(corpus)}
        )
    except (RecipeError, ValueError, OSError) as exc:
        if isinstance(exc, ValidationError):
            raise fail(f"{corpus}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
        raise fail(str(exc)) from exc
    folder = data_dir or default_data_dir(stack)
    try:
        store = IndexStore(folder, stack.retrieval,
                           get_embedder(stack.retrieval.embedding_model,
                                        stack.retrieval.embedding_backend),
                           shared_dir=default_shared_dir())
    except RuntimeError as exc:  # Qdrant's folder lock: the service is running
        raise fail(f"{folder}: {exc} (stop the stack's RAG service first)") from exc
    try:
        store.load_all()
        bars: list[tqdm[None]] = []

        def progress(done: int, total: int) -> None:
            # Created on the first batch, so a reused index prints no empty bar.
            if not bars:
                bars.append(tqdm(total=total, unit="chunk", desc=f"indexing {space_id}"))
            bars[0].update(done - bars[0].n)

        try:
            result = store.build(request.space_id, request.passages, progress=progress)
        except EmbedderError as exc:
            raise fail(str(exc)) from exc
        finally:
            for bar in bars:
                bar.close()
    finally:
        store.close()
    verb = "reused" if result.reused else "built"
    rate = f", {result.chunks / result.seconds:.1f} chunks/s" if not result.reused else ""
    typer.echo(
        f"{verb} space {result.space_id}: {result.passages} passages, {result.chunks} chunks "
        f"in {result.seconds:.1f} s{rate}, index {result.digest[:12]}"
        f"{' (shared)' if result.shared else ''} -> {folder}"
    )
