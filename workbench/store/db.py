"""The results store: one SQLite file (WAL), the source of truth every view reads.

Each response is committed the moment it arrives, so a crash or Ctrl-C loses nothing that
was answered, and `--resume` can fill exactly the missing (question, side) pairs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ulid import ULID

from workbench.evalsets.model import Question
from workbench.runner.records import ResponseRecord, Side
from workbench.store.migrations import MIGRATIONS


class StoreError(RuntimeError):
    """The database cannot be opened or written; the message names the file."""


def _why(exc: sqlite3.Error) -> str:
    """SQLite's message, with what it means for a person where SQLite is terse."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"{text} (another process holds a write lock on it)"
    if "full" in text:
        return f"{text} (no space left where it is stored)"
    if "readonly" in text:
        return f"{text} (the file or its folder is not writable)"
    return text


def utc_now() -> str:
    """Current time, ISO 8601 UTC."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Store:
    """Typed access to the results database."""

    def __init__(self, path: Path | str, *, readonly: bool = False,
                 busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        #: How long a write waits for another connection's lock before it fails.
        self.busy_timeout_s = busy_timeout_s
        try:
            if readonly:
                uri = f"file:{self.path}?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s,
                                            check_same_thread=False)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, timeout=busy_timeout_s,
                                            check_same_thread=False)
                self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.row_factory = sqlite3.Row
            if not readonly:
                self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the results database: {_why(exc)}"
                             ) from exc

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            with self.conn:
                yield self.conn
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: write failed: {_why(exc)}") from exc

    def _migrate(self) -> None:
        with self._write() as c:
            c.execute(
                "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_utc TEXT)"
            )
            done = {r[0] for r in c.execute("SELECT name FROM migrations")}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self._write() as c:
                c.executescript(f"BEGIN;\n{sql}\nINSERT INTO migrations VALUES ('{name}', "
                                f"'{utc_now()}');\nCOMMIT;")

    def applied_migrations(self) -> list[str]:
        """Names of the applied migrations, in order."""
        return [r[0] for r in self.conn.execute("SELECT name FROM migrations ORDER BY name")]

    # --- runs -------------------------------------------------------------------------
    def create_run(
        self,
        *,
        evalset: str,
        evalset_digest: str,
        schedule: str,
        stacks: dict[Side, dict[str, Any]],
        questions: list[Question],
        manifest: dict[str, Any],
        limit: int | None,
    ) -> str:
        """Record a new run with its questions and both recipes; returns its ULID."""
        run_id = str(ULID())
        with self._write() as c:
            c.execute(
                "INSERT INTO runs (id, created_utc, status, evalset, evalset_digest, schedule,"
                " stack_a, stack_b, question_limit, manifest_json)"
                " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id, utc_now(), evalset, evalset_digest, schedule,
                    stacks["A"]["name"], stacks["B"]["name"], limit, json.dumps(manifest),
                ),
            )
            for side, recipe in stacks.items():
                c.execute(
                    "INSERT INTO run_stacks VALUES (?, ?, ?, ?)",
                    (run_id, side, recipe["name"], json.dumps(recipe)),
                )
            c.executemany(
                "INSERT INTO questions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id, i, q.id, q.question, json.dumps(q.answers, ensure_ascii=False),
                        json.dumps(q.gold_doc_ids, ensure_ascii=False), int(q.answerable), q.lang,
                    )
                    for i, q in enumerate(questions)
                ],
            )
        return run_id

    def set_status(self, run_id: str, status: str) -> None:
        """Mark a run running / completed / cancelled / failed."""
        finished = None if status == "running" else utc_now()
        with self._write() as c:
            c.execute(
                "UPDATE runs SET status = ?, finished_utc = ? WHERE id = ?",
                (status, finished, run_id),
            )

    def try_set_status(self, run_id: str, status: str, busy_timeout_s: float = 1.0) -> bool:
        """`set_status`, best effort, after a write already failed (a locked or full
        database): waits at most `busy_timeout_s` for a lock; False when not written."""
        self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        try:
            self.set_status(run_id, status)
        except StoreError:
            return False
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
        return True

    def update_manifest(self, run_id: str, manifest: dict[str, Any]) -> None:
        """Replace a run's manifest (e.g. to add a judge's model and prompt)."""
        with self._write() as c:
            c.execute("UPDATE runs SET manifest_json = ? WHERE id = ?",
                      (json.dumps(manifest), run_id))

    def get_run(self, run_id: str) -> dict[str, Any]:
        """A run's row with its manifest parsed; KeyError naming the id when unknown."""
        row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            known = [r["id"] for r in self.list_runs(limit=5)]
            raise KeyError(f"no run {run_id!r} in {self.path} (latest: {', '.join(known) or '-'})")
        run = dict(row)
        run["manifest"] = json.loads(run.pop("manifest_json"))
        return run

    def resolve_run_id(self, ref: str) -> str:
        """A full run id from an id, a unique prefix, or `latest`."""
        if ref == "latest":
            rows = self.list_runs(limit=1)
            if not rows:
                raise KeyError(f"no runs in {self.path}")
            return str(rows[0]["id"])
        ids = [str(r[0]) for r in self.conn.execute(
            "SELECT id FROM runs WHERE id LIKE ? ORDER BY id", (ref.upper() + "%",)
        )]
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise KeyError(f"no run {ref!r} in {self.path}")
        raise KeyError(f"run id prefix {ref!r} is ambiguous ({len(ids)} runs)")

    def list_runs(self, limit: int = 100) -> list[dict[str, Any]]:
        """Runs, newest first, with response counts."""
        rows = self.conn.execute(
            "SELECT r.id, r.created_utc, r.finished_utc, r.status, r.evalset, r.schedule,"
            " r.stack_a, r.stack_b,"
            " (SELECT COUNT(*) FROM questions q WHERE q.run_id = r.id) AS questions,"
            " (SELECT COUNT(DISTINCT question_id || side) FROM responses s"
            "   WHERE s.run_id = r.id) AS responses,"
            " (SELECT COUNT(*) FROM responses s WHERE s.run_id = r.id AND s.status != 'ok'"
            "   AND s.attempt = (SELECT MAX(attempt) FROM responses t WHERE t.run_id = s.run_id"
            "   AND t.question_id = s.question_id AND t.side = s.side)) AS errors"
            " FROM runs r ORDER BY r.id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [dict(r) for r in rows]

    def recipes(self, run_id: str) -> dict[str, dict[str, Any]]:
        """Both sides' recipes as recorded at the start of the run."""
        rows = self.conn.execute(
            "SELECT side, recipe_json FROM run_stacks WHERE run_id = ?", (run_id,)
        ).fetchall()
        return {r["side"]: json.loads(r["recipe_json"]) for r in rows}

    def questions(self, run_id: str) -> list[Question]:
        """The run's questions in run order."""
        rows = self.conn.execute(
            "SELECT * FROM questions WHERE run_id = ? ORDER BY position", (run_id,)
        ).fetchall()
        return [
            Question(
                id=r["id"], question=r["question"], answers=json.loads(r["answers_json"]),
                gold_doc_ids=json.loads(r["gold_doc_ids_json"]),
                answerable=bool(r["answerable"]), lang=r["lang"],
            )
            for r in rows
        ]

    # --- responses --------------------------------------------------------------------
    def add_response(self, rec: ResponseRecord) -> None:
        """Store one response and its retrieved passages, committed at once."""
        self.add_responses([rec])

    def add_responses(self, records: list[ResponseRecord]) -> None:
        """Store responses in one transaction (all or none)."""
        with self._write() as c:
            for rec in records:
                self._insert_response(c, rec)

    @staticmethod
    def _insert_response(c: sqlite3.Connection, rec: ResponseRecord) -> None:
        ttft = rec.ttft_s
        c.execute(
            "INSERT INTO responses VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                rec.run_id, rec.question_id, rec.side, rec.attempt, rec.stack, rec.status,
                rec.error, rec.http_status, rec.answer,
                None if ttft is None else ttft * 1000, rec.e2e_s * 1000,
                rec.completion_tokens, rec.prompt_tokens, rec.model, rec.engine,
                rec.timing.started_at_utc, rec.model_dump_json(),
            ),
        )
        c.executemany(
            "INSERT INTO retrieved VALUES (?,?,?,?,?,?,?,?)",
            [
                (rec.run_id, rec.question_id, rec.side, rec.attempt, s.rank, s.doc_id,
                 s.chunk_id, s.score)
                for s in rec.sources
            ],
        )

    def responses(self, run_id: str, *, latest_only: bool = True) -> list[ResponseRecord]:
        """A run's responses (by default the latest attempt per question and side)."""
        sql = "SELECT record_json FROM responses s WHERE run_id = ?"
        if latest_only:
            sql += (
                " AND attempt = (SELECT MAX(attempt) FROM responses t WHERE t.run_id = s.run_id"
                " AND t.question_id = s.question_id AND t.side = s.side)"
            )
        rows = self.conn.execute(sql + " ORDER BY rowid", (run_id,)).fetchall()
        return [ResponseRecord.model_validate_json(r[0]) for r in rows]

    def answered(self, run_id: str) -> dict[tuple[str, str], tuple[int, str]]:
        """(question_id, side) -> (latest attempt, its status)."""
        rows = self.conn.execute(
            "SELECT question_id, side, attempt, status FROM responses s WHERE run_id = ?"
            " AND attempt = (SELECT MAX(attempt) FROM responses t WHERE t.run_id = s.run_id"
            " AND t.question_id = s.question_id AND t.side = s.side)",
            (run_id,),
        ).fetchall()
        return {(r[0], r[1]): (int(r[2]), str(r[3])) for r in rows}

    def count_responses(self, run_id: str) -> int:
        """All stored response rows of a run (every attempt)."""
        return int(
            self.conn.execute("SELECT COUNT(*) FROM responses WHERE run_id = ?", (run_id,))
            .fetchone()[0]
        )

    # --- scores and votes ---------------------------------------------------------------
    def replace_scores(self, run_id: str, rows: list[tuple[str, str, str, float | None]]) -> None:
        """Replace a run's per-question scores: (question_id, side, metric, value)."""
        with self._write() as c:
            c.execute("DELETE FROM scores WHERE run_id = ?", (run_id,))
            c.executemany(
                "INSERT INTO scores VALUES (?, ?, ?, ?, ?)", [(run_id, *r) for r in rows]
            )

    def add_vote(
        self, *, question: str, stack_a: str, stack_b: str, vote: str, blind: bool,
        detail: dict[str, Any], run_id: str | None = None,
    ) -> str:
        """Record a human vote from the arena; returns its id."""
        vote_id = str(ULID())
        with self._write() as c:
            c.execute(
                "INSERT INTO votes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (vote_id, run_id, question, stack_a, stack_b, vote, int(blind),
                 json.dumps(detail, ensure_ascii=False), utc_now()),
            )
        return vote_id

    def votes(self) -> list[dict[str, Any]]:
        """All arena votes, newest first."""
        rows = self.conn.execute("SELECT * FROM votes ORDER BY id DESC").fetchall()
        return [dict(r) for r in rows]
