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
    (
        "002_load",
        """
        CREATE TABLE load_benches (
            id TEXT PRIMARY KEY,               -- ULID
            created_utc TEXT NOT NULL,
            finished_utc TEXT,
            status TEXT NOT NULL,              -- running | completed | cancelled | failed
            target TEXT NOT NULL,              -- engine | rag | url
            stacks_json TEXT NOT NULL,         -- stack names (or URL labels), in run order
            config_json TEXT NOT NULL,         -- profile, prompts, SLOs, sampling, client
            result_json TEXT                   -- saturation per stack, notes
        );
        CREATE TABLE load_points (
            bench_id TEXT NOT NULL REFERENCES load_benches(id),
            stack TEXT NOT NULL,
            position INTEGER NOT NULL,
            label TEXT NOT NULL,               -- e.g. c=4, rate=8/s poisson
            concurrency INTEGER,               -- NULL: unbounded
            rate REAL,                         -- NULL: all due at once
            burstiness REAL,                   -- NULL: constant rate
            requests INTEGER NOT NULL,
            started_utc TEXT NOT NULL,
            duration_s REAL NOT NULL,
            summary_json TEXT NOT NULL,        -- PointSummary (vLLM metric definitions)
            PRIMARY KEY (bench_id, stack, position)
        );
        CREATE TABLE load_requests (
            bench_id TEXT NOT NULL,
            stack TEXT NOT NULL,
            position INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            status TEXT NOT NULL,
            start_s REAL NOT NULL,             -- request start, seconds after the bench began
            send_lag_ms REAL NOT NULL,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            correct INTEGER,
            error TEXT,
            record_json TEXT NOT NULL,         -- LoadRequestRecord: raw perf_counter timestamps
            PRIMARY KEY (bench_id, stack, position, idx)
        );
        CREATE TABLE load_samples (
            bench_id TEXT NOT NULL,
            stack TEXT NOT NULL,
            t_s REAL NOT NULL,                 -- seconds after the bench began (same clock)
            kind TEXT NOT NULL,                -- process | gpu | engine | client
            data_json TEXT NOT NULL
        );
        CREATE INDEX load_samples_bench ON load_samples(bench_id, stack, t_s);
        """,
    ),
    (
        "003_scorecards",
        """
        -- Computed scorecards, so views open a scored run without rescoring it. A card is
        -- valid while the run's responses are unchanged (fingerprint) and the scoring code
        -- version is the same; otherwise it is recomputed from the responses.
        CREATE TABLE scorecards (
            run_id TEXT NOT NULL,
            semantic INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            card_json TEXT NOT NULL,
            created_utc TEXT NOT NULL,
            PRIMARY KEY (run_id, semantic)
        );
        """,
    ),
    (
        "004_named_stacks",
        """
        -- N-stack runs: a run has an ordered list of 2-8 named stacks, one of them the
        -- baseline, and a response is keyed by (run, question, stack, attempt). Runs stored
        -- before this keep their data: side A becomes position 0 (the baseline), side B
        -- position 1, and every side letter is replaced by its stack's name.
        CREATE TABLE run_stacks_v4 (
            run_id TEXT NOT NULL REFERENCES runs(id),
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            baseline INTEGER NOT NULL DEFAULT 0,
            recipe_json TEXT NOT NULL,
            PRIMARY KEY (run_id, name),
            UNIQUE (run_id, position)
        );
        INSERT INTO run_stacks_v4 (run_id, position, name, baseline, recipe_json)
            SELECT run_id, CASE side WHEN 'A' THEN 0 ELSE 1 END, name, side = 'A', recipe_json
            FROM run_stacks;

        CREATE TABLE retrieved_v4 (
            run_id TEXT NOT NULL,
            question_id TEXT NOT NULL,
            stack TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            rank INTEGER NOT NULL,
            doc_id TEXT NOT NULL,
            chunk_id TEXT,
            score REAL,
            PRIMARY KEY (run_id, question_id, stack, attempt, rank)
        );
        INSERT INTO retrieved_v4
            SELECT r.run_id, r.question_id, COALESCE(s.name, r.side), r.attempt, r.rank,
                   r.doc_id, r.chunk_id, r.score
            FROM retrieved r LEFT JOIN run_stacks s ON s.run_id = r.run_id AND s.side = r.side;

        CREATE TABLE scores_v4 (
            run_id TEXT NOT NULL,
            question_id TEXT NOT NULL,
            stack TEXT NOT NULL,
            metric TEXT NOT NULL,
            value REAL,
            PRIMARY KEY (run_id, question_id, stack, metric)
        );
        INSERT INTO scores_v4
            SELECT c.run_id, c.question_id, COALESCE(s.name, c.side), c.metric, c.value
            FROM scores c LEFT JOIN run_stacks s ON s.run_id = c.run_id AND s.side = c.side;

        CREATE TABLE responses_v4 (
            run_id TEXT NOT NULL REFERENCES runs(id),
            question_id TEXT NOT NULL,
            stack TEXT NOT NULL,
            attempt INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL,
            error TEXT,
            http_status INTEGER,
            answer TEXT NOT NULL,
            model TEXT,
            engine TEXT,
            datetime_utc TEXT NOT NULL,
            record_json TEXT NOT NULL,         -- the whole ResponseRecord, raw timestamps included
            PRIMARY KEY (run_id, question_id, stack, attempt)
        );
        -- ttft_ms / e2e_ms / token columns are gone: every latency is derived from the raw
        -- timestamps in record_json (store/records.py), so no stored copy can disagree.
        INSERT INTO responses_v4
            SELECT run_id, question_id, stack, attempt, status, error, http_status, answer,
                   model, engine, datetime_utc, record_json
            FROM responses ORDER BY rowid;

        DROP TABLE responses;
        ALTER TABLE responses_v4 RENAME TO responses;
        CREATE INDEX responses_run ON responses(run_id, stack);
        DROP TABLE retrieved;
        ALTER TABLE retrieved_v4 RENAME TO retrieved;
        DROP TABLE scores;
        ALTER TABLE scores_v4 RENAME TO scores;
        DROP TABLE run_stacks;
        ALTER TABLE run_stacks_v4 RENAME TO run_stacks;

        -- The "latest attempt" rule, written once: what every report and view reads.
        CREATE VIEW latest_responses AS
            SELECT * FROM responses s
            WHERE s.attempt = (SELECT MAX(t.attempt) FROM responses t
                               WHERE t.run_id = s.run_id AND t.question_id = s.question_id
                                 AND t.stack = s.stack);
        """,
    ),
    (
        "006_judge_verdicts",
        """
        -- Every verdict of an LLM judge, kept so a report judged once is judged again for free:
        -- keyed by the judge (its model digest), the prompt template, the item (question and
        -- gold), the retrieved context sent and the answer, each as a sha256 hex digest.
        CREATE TABLE judge_verdicts (
            judge_digest TEXT NOT NULL,
            prompt_digest TEXT NOT NULL,
            item_digest TEXT NOT NULL,
            context_digest TEXT NOT NULL,
            answer_digest TEXT NOT NULL,
            verdict_json TEXT NOT NULL,        -- the judge's parsed verdict
            created_utc TEXT NOT NULL,
            PRIMARY KEY (judge_digest, prompt_digest, item_digest, context_digest, answer_digest)
        );
        """,
    ),
]
