"""A run's progress as stored: per stack, questions answered of those planned, failed
answers and the latest failure's message, and when the last answer arrived.

Read from the `latest_responses` view in one grouped query, so it is cheap enough to poll
every second or two on a 10,000-response run, and the same for a run this process is
executing as for one another process (`workbench run` in another terminal) is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.store.db import Store


@dataclass(frozen=True)
class StackProgress:
    """One stack of a run: answered (a latest attempt stored) of planned, and failures."""

    stack: str
    baseline: bool
    answered: int
    planned: int
    errors: int
    #: The error message of this stack's most recent failed answer (None: no failure).
    last_error: str | None
    #: Failed latest attempts by status ("error", "timeout").
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def share(self) -> float:
        """Answered / planned (0 when nothing is planned)."""
        return self.answered / self.planned if self.planned else 0.0


@dataclass(frozen=True)
class RunState:
    """A stored run's status and its stacks' progress, in run order."""

    run_id: str
    status: str
    evalset: str
    questions: int
    stacks: list[StackProgress]
    #: When the newest stored answer was started (ISO UTC; None before the first).
    last_answer_utc: str | None

    @property
    def answered(self) -> int:
        """Answers stored over every stack."""
        return sum(s.answered for s in self.stacks)

    @property
    def planned(self) -> int:
        """Answers the run asks for over every stack."""
        return sum(s.planned for s in self.stacks)

    @property
    def errors(self) -> int:
        """Failed latest attempts over every stack."""
        return sum(s.errors for s in self.stacks)


def run_state(store: Store, run_id: str) -> RunState:
    """The run's progress now (KeyError naming the id when unknown)."""
    run = store.get_run(run_id)
    n = int(store.conn.execute("SELECT COUNT(*) FROM questions WHERE run_id = ?",
                               (run_id,)).fetchone()[0])
    rows = store.conn.execute(
        "SELECT stack, COUNT(*) AS answered, SUM(status != 'ok') AS errors,"
        " MAX(datetime_utc) AS last_utc,"
        # The newest failure still standing (no later attempt of that question); rowid
        # is arrival order, which only the table (not the view) carries.
        " (SELECT t.error FROM responses t WHERE t.run_id = s.run_id"
        "   AND t.stack = s.stack AND t.status != 'ok' AND NOT EXISTS (SELECT 1 FROM"
        "   responses u WHERE u.run_id = t.run_id AND u.question_id = t.question_id"
        "   AND u.stack = t.stack AND u.attempt > t.attempt)"
        "   ORDER BY t.rowid DESC LIMIT 1) AS last_error"
        " FROM latest_responses s WHERE s.run_id = ? GROUP BY stack", (run_id,)).fetchall()
    by_stack = {str(r["stack"]): r for r in rows}
    kinds: dict[str, dict[str, int]] = {}
    for r in store.conn.execute(
            "SELECT stack, status, COUNT(*) AS n FROM latest_responses WHERE run_id = ?"
            " AND status != 'ok' GROUP BY stack, status", (run_id,)):
        kinds.setdefault(str(r["stack"]), {})[str(r["status"])] = int(r["n"])
    stacks = []
    for e in store.run_stacks(run_id):
        r = by_stack.get(e["name"])
        stacks.append(StackProgress(
            stack=e["name"], baseline=e["baseline"], planned=n,
            answered=int(r["answered"]) if r else 0, errors=int(r["errors"] or 0) if r else 0,
            last_error=(str(r["last_error"]) if r and r["last_error"] is not None
                        else ("failed" if r and r["errors"] else None)),
            error_kinds=kinds.get(e["name"], {})))
    last = [str(r["last_utc"]) for r in rows if r["last_utc"] is not None]
    return RunState(run_id=run_id, status=str(run["status"]), evalset=str(run["evalset"]),
                    questions=n, stacks=stacks, last_answer_utc=max(last) if last else None)
