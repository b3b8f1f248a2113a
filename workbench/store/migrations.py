"""Append-only, numbered schema migrations, recorded in the `migrations` table.

Never edit or reorder a migration that has shipped: add a new one at the end.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "001_initial",
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,               -- ULID
            created_utc TEXT NOT NULL,
            finished_utc TEXT,
            status TEXT NOT NULL,              -- running | completed | cancelled | failed
            evalset TEXT NOT NULL,
            evalset_digest TEXT NOT NULL,
            schedule TEXT NOT NULL,
            stack_a TEXT NOT NULL,
            stack_b TEXT NOT NULL,
            question_limit INTEGER,
            manifest_json TEXT NOT NULL
        );
        CREATE TABLE run_stacks (
            run_id TEXT NOT NULL REFERENCES runs(id),
            side TEXT NOT NULL CHECK (side IN ('A', 'B')),
            name TEXT NOT NULL,
            recipe_json TEXT NOT NULL,
            PRIMARY KEY (run_id, side)
        );
        CREATE TABLE questions (
            run_id TEXT NOT NULL REFERENCES runs(id),
            position INTEGER NOT NULL,
            id TEXT NOT NULL,
            question TEXT NOT NULL,
            answers_json TEXT NOT NULL,
            gold_doc_ids_json TEXT NOT NULL,
            answerable INTEGER NOT NULL,
            lang TEXT NOT NULL,
            PRIMARY KEY (run_id, id)
        );
        CREATE TABLE responses (
            run_id TEXT NOT NULL REFERENCES runs(id),
            question_id TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('A', 'B')),
            attempt INTEGER NOT NULL DEFAULT 1,
            stack TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            http_status INTEGER,
            answer TEXT NOT NULL,
            ttft_ms REAL,
            e2e_ms REAL,
            completion_tokens INTEGER,
            prompt_tokens INTEGER,
            model TEXT,
            engine TEXT,
            datetime_utc TEXT NOT NULL,
            record_json TEXT NOT NULL,         -- the whole ResponseRecord, raw timestamps included
            PRIMARY KEY (run_id, question_id, side, attempt)
        );
        CREATE INDEX responses_run ON responses(run_id, side);
        CREATE TABLE retrieved (
            run_id TEXT NOT NULL,
            question_id TEXT NOT NULL,
            side TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            rank INTEGER NOT NULL,
            doc_id TEXT NOT NULL,
            chunk_id TEXT,
            score REAL,
            PRIMARY KEY (run_id, question_id, side, attempt, rank)
        );
        CREATE TABLE scores (
            run_id TEXT NOT NULL,
            question_id TEXT NOT NULL,
            side TEXT NOT NULL,
            metric TEXT NOT NULL,
            value REAL,
            PRIMARY KEY (run_id, question_id, side, metric)
        );
        CREATE TABLE votes (
            id TEXT PRIMARY KEY,
            run_id TEXT,
            question TEXT NOT NULL,
            stack_a TEXT NOT NULL,
            stack_b TEXT NOT NULL,
            vote TEXT NOT NULL CHECK (vote IN ('A', 'B', 'tie', 'both_bad')),
            blind INTEGER NOT NULL,
            detail_json TEXT NOT NULL,
            datetime_utc TEXT NOT NULL
        );
        """,
    ),
]
