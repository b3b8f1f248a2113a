"""The results store: one SQLite file (WAL), the source of truth every view reads.

Each response is committed the moment it arrives, so a crash or Ctrl-C loses nothing that
was answered, and `--resume` can fill exactly the missing (question, stack) pairs. A run has
an ordered list of named stacks (2-8), one of them the baseline; a response is keyed by
(run, question, stack, attempt). Only this package speaks SQL: views, reports and benches
ask through `Store`'s methods, and the "latest attempt" rule is the `latest_responses` view
(migration 004), written once.
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

from workbench.records.evalset import Question
from workbench.records.manifest import ManifestError, RunManifest
from workbench.records.responses import RequestTiming, ResponseRecord
from workbench.store.migrations import MIGRATIONS


def _manifest_json(manifest: RunManifest | dict[str, Any]) -> str:
    """A manifest as stored (a typed one in its JSON shape, with its version)."""
    return json.dumps(manifest.to_json() if isinstance(manifest, RunManifest) else manifest)


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
        applied = False
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self._write() as c:
                c.executescript(f"BEGIN;\n{sql}\nINSERT INTO migrations VALUES ('{name}', "
                                f"'{utc_now()}');\nCOMMIT;")
            applied = True
        if applied:
            # A migration that rebuilds tables (004) leaves the old pages free: give them
            # back once, so the file is its real size (and a full disk is noticed as such).
            self.conn.execute("VACUUM")

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
        stacks: list[dict[str, Any]],
        questions: list[Question],
        manifest: RunManifest | dict[str, Any],
        limit: int | None,
        baseline: str | None = None,
    ) -> str:
        """Record a new run with its questions and its stacks' recipes, in run order (the
        baseline is `baseline`, else the first); returns its ULID."""
        run_id = str(ULID())
        with self._write() as c:
            self._insert_run(c, run_id, evalset=evalset, evalset_digest=evalset_digest,
                             schedule=schedule, stacks=stacks, questions=questions,
                             manifest=manifest, limit=limit, baseline=baseline)
        return run_id

    @staticmethod
    def _insert_run(c: sqlite3.Connection, run_id: str, *, evalset: str, evalset_digest: str,
                    schedule: str, stacks: list[dict[str, Any]], questions: list[Question],
                    manifest: RunManifest | dict[str, Any], limit: int | None,
                    baseline: str | None) -> None:
        """`create_run`'s rows, inside the caller's transaction (an import writes a whole
        run in one: `store.imports`)."""
        names = [str(r["name"]) for r in stacks]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ValueError(f"a run needs 2 or more distinct stacks, got {names}")
        base = baseline or names[0]
        if base not in names:
            raise ValueError(f"baseline {base!r} is not one of the run's stacks {names}")
        # runs.stack_a / stack_b predate N-stack runs (NOT NULL): the baseline and the first
        # other stack, kept so older readers of the file still see a pair.
        other = next(n for n in names if n != base)
        c.execute(
            "INSERT INTO runs (id, created_utc, status, evalset, evalset_digest, schedule,"
            " stack_a, stack_b, question_limit, manifest_json)"
            " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
            (run_id, utc_now(), evalset, evalset_digest, schedule, base, other, limit,
             _manifest_json(manifest)),
        )
        c.executemany(
            "INSERT INTO run_stacks (run_id, position, name, baseline, recipe_json)"
            " VALUES (?, ?, ?, ?, ?)",
            [(run_id, i, r["name"], int(r["name"] == base), json.dumps(r))
             for i, r in enumerate(stacks)],
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

    def update_manifest(self, run_id: str, manifest: RunManifest | dict[str, Any]) -> None:
        """Replace a run's manifest (e.g. to add a judge's model and prompt)."""
        with self._write() as c:
            c.execute("UPDATE runs SET manifest_json = ? WHERE id = ?",
                      (_manifest_json(manifest), run_id))

    def run_manifest(self, run_id: str) -> RunManifest:
        """A run's manifest, typed (a stored manifest of an earlier version upgraded);
        `ManifestError` names the run and the field of one that cannot be read."""
        row = self.conn.execute("SELECT manifest_json FROM runs WHERE id = ?",
                                (run_id,)).fetchone()
        if row is None:
            self.get_run(run_id)  # raises the KeyError that names the latest runs
        try:
            data = json.loads(row["manifest_json"])
        except ValueError as exc:
            raise ManifestError(f"run {run_id}: manifest is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ManifestError(f"run {run_id}: manifest is not a JSON object "
                                f"(a {type(data).__name__})")
        return RunManifest.read(data, run_id)

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
        """Runs, newest first, with their stacks in run order, the baseline, counts of
        questions, answered (question, stack) pairs and failed latest attempts, and the
        host (`host`: its fingerprint, `host_cpu`: its CPU; None for older runs)."""
        rows = self.conn.execute(
            "SELECT r.id, r.created_utc, r.finished_utc, r.status, r.evalset, r.schedule,"
            " (SELECT COUNT(*) FROM questions q WHERE q.run_id = r.id) AS questions,"
            " (SELECT COUNT(*) FROM latest_responses s WHERE s.run_id = r.id) AS responses,"
            " (SELECT COUNT(*) FROM latest_responses s WHERE s.run_id = r.id"
            "   AND s.status != 'ok') AS errors,"
            # The host the run ran on (workbench.host's fingerprint; NULL for older runs).
            " json_extract(r.manifest_json, '$.hardware.fingerprint') AS host,"
            " json_extract(r.manifest_json, '$.hardware.cpu') AS host_cpu"
            " FROM runs r ORDER BY r.id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        runs = [dict(r) for r in rows]
        for run in runs:
            entries = self.run_stacks(str(run["id"]))
            run["stacks"] = [e["name"] for e in entries]
            run["baseline"] = next((e["name"] for e in entries if e["baseline"]),
                                   run["stacks"][0] if run["stacks"] else "")
        return runs

    def run_stacks(self, run_id: str) -> list[dict[str, Any]]:
        """The run's stacks in run order: name, position, baseline flag, recorded recipe."""
        rows = self.conn.execute(
            "SELECT position, name, baseline, recipe_json FROM run_stacks WHERE run_id = ?"
            " ORDER BY position", (run_id,)
        ).fetchall()
        return [{"position": int(r["position"]), "name": str(r["name"]),
                 "baseline": bool(r["baseline"]), "recipe": json.loads(r["recipe_json"])}
                for r in rows]

    def recipes(self, run_id: str) -> dict[str, dict[str, Any]]:
        """Stack name -> its recipe as recorded at the start of the run, in run order."""
        return {e["name"]: e["recipe"] for e in self.run_stacks(run_id)}

    def baseline(self, run_id: str) -> str:
        """The name of the run's baseline stack."""
        entries = self.run_stacks(run_id)
        return str(next((e["name"] for e in entries if e["baseline"]), entries[0]["name"]))

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
        c.execute(
            "INSERT INTO responses (run_id, question_id, stack, attempt, status, error,"
            " http_status, answer, model, engine, datetime_utc, record_json)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                rec.run_id, rec.question_id, rec.stack, rec.attempt, rec.status, rec.error,
                rec.http_status, rec.answer, rec.model, rec.engine, rec.timing.started_at_utc,
                rec.model_dump_json(),
            ),
        )
        c.executemany(
            "INSERT INTO retrieved VALUES (?,?,?,?,?,?,?,?)",
            [
                (rec.run_id, rec.question_id, rec.stack, rec.attempt, s.rank, s.doc_id,
                 s.chunk_id, s.score)
                for s in rec.sources
            ],
        )

    def responses(self, run_id: str, *, latest_only: bool = True,
                  question_id: str | None = None) -> list[ResponseRecord]:
        """A run's responses in arrival order (by default the latest attempt per question
        and stack; `question_id` narrows to one question)."""
        table = "latest_responses" if latest_only else "responses"
        sql = f"SELECT record_json FROM {table} WHERE run_id = ?"  # noqa: S608 - a constant
        args: tuple[str, ...] = (run_id,)
        if question_id is not None:
            sql += " AND question_id = ?"
            args += (question_id,)
        rows = self.conn.execute(sql + " ORDER BY rowid", args).fetchall()
        return [ResponseRecord.model_validate_json(r[0]) for r in rows]

    def answered(self, run_id: str) -> dict[tuple[str, str], tuple[int, str]]:
        """(question_id, stack) -> (latest attempt, its status)."""
        rows = self.conn.execute(
            "SELECT question_id, stack, attempt, status FROM latest_responses WHERE run_id = ?",
            (run_id,),
        ).fetchall()
        return {(r[0], r[1]): (int(r[2]), str(r[3])) for r in rows}

    def count_responses(self, run_id: str) -> int:
        """All stored response rows of a run (every attempt)."""
        return int(
            self.conn.execute("SELECT COUNT(*) FROM responses WHERE run_id = ?", (run_id,))
            .fetchone()[0]
        )

    def responses_fingerprint(self, run_id: str) -> str:
        """Changes whenever a response is added to the run (keys the scorecard cache)."""
        n, last = self.conn.execute(
            "SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM responses WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        return f"{int(n)}:{int(last)}"

    # --- scorecards -----------------------------------------------------------------------
    def cached_card(self, run_id: str, *, semantic: bool, fingerprint: str) -> str | None:
        """The stored scorecard JSON when it was computed for this fingerprint, else None."""
        row = self.conn.execute(
            "SELECT fingerprint, card_json FROM scorecards WHERE run_id = ? AND semantic = ?",
            (run_id, int(semantic)),
        ).fetchone()
        return None if row is None or row[0] != fingerprint else str(row[1])

    def save_card(self, run_id: str, *, semantic: bool, fingerprint: str,
                  card_json: str) -> None:
        """Store (or replace) a run's computed scorecard."""
        with self._write() as c:
            c.execute("INSERT OR REPLACE INTO scorecards VALUES (?, ?, ?, ?, ?)",
                      (run_id, int(semantic), fingerprint, card_json, utc_now()))

    # --- scores and votes ---------------------------------------------------------------
    def replace_scores(self, run_id: str, rows: list[tuple[str, str, str, float | None]]) -> None:
        """Replace a run's per-question scores: (question_id, stack, metric, value)."""
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

    # --- what the views read --------------------------------------------------------------
    # Small reads for the web UI and the TUI, so they never speak SQL themselves.
    def question(self, run_id: str, question_id: str) -> Question | None:
        """One stored question of a run (without loading all of them); None when unknown."""
        r = self.conn.execute("SELECT * FROM questions WHERE run_id = ? AND id = ?",
                              (run_id, question_id)).fetchone()
        if r is None:
            return None
        return Question(id=r["id"], question=r["question"],
                        answers=json.loads(r["answers_json"]),
                        gold_doc_ids=json.loads(r["gold_doc_ids_json"]),
                        answerable=bool(r["answerable"]), lang=r["lang"])

    def latest_by_stack(self, run_id: str, question_id: str) -> dict[str, ResponseRecord]:
        """Stack -> its latest attempt's response to one question (what the card scored)."""
        return {rec.stack: rec for rec in self.responses(run_id, question_id=question_id)}

    def ok_timings(self, run_id: str) -> list[tuple[str, RequestTiming]]:
        """(stack, raw timestamps) of every successful latest response, in arrival order.

        Only the `timing` object is parsed (not the answer and sources), so the plots of a
        10,000-response run read in a fraction of `responses()`'s time; every latency is
        still derived by `RequestTiming`.
        """
        rows = self.conn.execute(
            "SELECT stack, json_extract(record_json, '$.timing') FROM latest_responses"
            " WHERE run_id = ? AND status = 'ok' ORDER BY rowid", (run_id,)).fetchall()
        return [(str(r[0]), RequestTiming.model_validate_json(r[1])) for r in rows]
