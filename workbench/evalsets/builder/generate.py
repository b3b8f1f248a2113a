"""Questions written by a local model: one JSON-constrained chat request per passage.

The model is served by llama.cpp's `llama-server`; each request carries a JSON schema
(`response_format: {"type": "json_schema"}`), which llama-server turns into a grammar, so
the reply always parses as `{"questions": [{"question", "answer"}, ...]}` with the asked
number of items. Every reply is cached on disk by (passage digest, model digest, prompt
digest, count): a second build of the same folder with the same model asks nothing again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

#: The prompt every question is written with (its digest is in the set's metadata).
SYSTEM_PROMPT = (
    "You write reading-comprehension questions for testing a search assistant. Each "
    "question must be answerable from the passage alone, must make sense without seeing "
    "the passage (name the subject; never say 'the passage' or 'the text'), and must be "
    "written in the passage's language. Each answer is a short span (1 to 6 words) copied "
    "exactly, character for character, from the passage; the question must not contain "
    "its answer. Ask about different facts. Example: for the passage 'The Kestrel bus "
    "leaves Pier 3 at 7:40 every weekday.' a good pair is {\"question\": \"At what time "
    "does the Kestrel bus leave Pier 3?\", \"answer\": \"7:40\"}."
)
USER_TEMPLATE = "Passage (from \"{title}\"):\n{text}\n\nWrite {n} question(s) with their answers."


def prompt_digest() -> str:
    """sha256 of the prompt (system text and user template): part of every cache key."""
    return hashlib.sha256((SYSTEM_PROMPT + "\x00" + USER_TEMPLATE).encode()).hexdigest()


def reply_schema(n: int) -> dict[str, Any]:
    """The JSON schema of a reply holding exactly `n` question-answer pairs."""
    item = {"type": "object", "properties": {
        # The lengths are enforced by the grammar: a short answer cap keeps a small model
        # from copying whole sentences (a cut-off word then fails the span check).
        "question": {"type": "string", "minLength": 8, "maxLength": 200},
        "answer": {"type": "string", "minLength": 1, "maxLength": 60},
    }, "required": ["question", "answer"], "additionalProperties": False}
    return {"type": "object", "properties": {
        "questions": {"type": "array", "items": item, "minItems": n, "maxItems": n},
    }, "required": ["questions"], "additionalProperties": False}


class GenerationError(RuntimeError):
    """The question writer failed (unreachable, an HTTP error, a reply that is not JSON)."""


@dataclass(frozen=True)
class Written:
    """One question-answer pair as the model wrote it."""

    question: str
    answer: str


@dataclass
class QuestionWriter:
    """Asks an OpenAI-compatible llama-server for questions about a passage, with a cache.

    `cache_dir=None` disables the cache (benchmarks measure generation, not the cache).
    `connect`, when given, is called on the first cache miss and returns the server's URL
    (it starts the server): a rebuild served wholly from the cache starts no model.
    """

    base_url: str
    """The server's `/v1` URL ("" until `connect` gives it)."""
    model_digest: str
    """sha256 of the GGUF served: part of every cache key and of the set's metadata."""
    model_name: str = "question-writer"
    cache_dir: Path | None = None
    timeout_s: float = 600.0
    max_tokens: int = 400
    hits: int = 0
    misses: int = 0
    connect: Callable[[], str] | None = None
    ask_s: float = 0.0
    """Seconds spent in requests to the model (its start-up not included)."""

    def __post_init__(self) -> None:
        self._client = httpx.Client(timeout=self.timeout_s)

    def start(self) -> None:
        """Start the server now (benchmarks: keep its start-up out of the timing)."""
        if not self.base_url and self.connect is not None:
            self.base_url = self.connect()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def cache_key(self, title: str, text: str, n: int) -> str:
        """sha256 over (passage digest, model digest, prompt digest, count)."""
        passage = hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest()
        key = json.dumps([passage, self.model_digest, prompt_digest(), n])
        return hashlib.sha256(key.encode()).hexdigest()

    def write(self, title: str, text: str, n: int) -> list[Written]:
        """`n` question-answer pairs about the passage (from the cache when there)."""
        key = self.cache_key(title, text, n)
        cached = self._cached(key)
        if cached is not None:
            self.hits += 1
            return cached
        reply = self._ask(title, text, n)
        self.misses += 1
        self._store(key, reply)
        return reply

    def _ask(self, title: str, text: str, n: int) -> list[Written]:
        body = {
            "model": self.model_name,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": USER_TEMPLATE.format(title=title, text=text, n=n)},
            ],
            "temperature": 0.0,
            "max_tokens": self.max_tokens * n,
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "questions", "schema": reply_schema(n)}},
        }
        self.start()
        url = f"{self.base_url.rstrip('/')}/chat/completions"
        started = time.perf_counter()
        try:
            resp = self._client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise GenerationError(f"{url}: {exc}") from exc
        finally:
            self.ask_s += time.perf_counter() - started
        if resp.status_code != 200:
            raise GenerationError(f"{url}: HTTP {resp.status_code}: {resp.text[:300]}")
        try:
            content = resp.json()["choices"][0]["message"]["content"]
            return parse_reply(content)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise GenerationError(f"{url}: unexpected reply ({exc}): {resp.text[:300]}") from exc

    def _path(self, key: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f"{key}.json"

    def _cached(self, key: str) -> list[Written] | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            return parse_reply(path.read_text("utf-8"))
        except ValueError:
            return None  # a damaged entry is asked again and overwritten

    def _store(self, key: str, reply: list[Written]) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = json.dumps({"questions": [w.__dict__ for w in reply]}, ensure_ascii=False)
        write_atomic(path, doc)


def parse_reply(content: str) -> list[Written]:
    """The pairs in a reply (`ValueError` when it is not the schema's shape)."""
    doc = json.loads(content)
    items = doc.get("questions") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ValueError("no 'questions' list")
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("question"), str) \
                and isinstance(item.get("answer"), str):
            out.append(Written(item["question"].strip(), item["answer"].strip()))
    return out


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder and a rename, so
    a reader (or a crash) never sees half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
