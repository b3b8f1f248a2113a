"""One row per scenario, and the table `make chaos` prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.markup import escape
from rich.table import Table


@dataclass
class ScenarioResult:
    """What one fault scenario did and what survived it."""

    name: str
    fault: str = ""
    #: The run ended as it should: completed, or (`refusal`) refused with a clear error
    #: naming the file.
    completed: bool = False
    #: Results stored before the fault that are missing (or changed) after it: must be 0.
    lost: int = 0
    #: Questions the stacks received beyond one per stored response (and those in flight
    #: when the fault stopped the runner): a question asked again. Must be 0.
    reasked: int = 0
    #: Requests the fault turned into stored errors/timeouts (each with its reason).
    errors_recorded: int = 0
    #: What was checked beyond the counts, in a few words.
    notes: list[str] = field(default_factory=list)
    #: The fault must make the run refuse to start (a clear error) rather than complete.
    refusal: bool = False
    #: Set when the fault cannot be injected on this machine (why).
    skipped: str | None = None
    #: Set when a check failed (what).
    failure: str | None = None

    @property
    def passed(self) -> bool:
        """Completed with nothing lost or asked again and every check held (or skipped)."""
        if self.skipped is not None:
            return True
        return self.completed and self.lost == 0 and self.reasked == 0 and not self.failure

    def check(self, ok: bool, what: str) -> None:
        """Record a failed expectation (the first one is kept as the failure)."""
        if not ok and self.failure is None:
            self.failure = what


def render(results: list[ScenarioResult]) -> Table:
    """The chaos report as a rich table."""
    table = Table(title="workbench chaos: faults injected into real processes")
    table.add_column("scenario")
    table.add_column("fault injected")
    table.add_column("run completed", justify="center")
    table.add_column("results lost", justify="right")
    table.add_column("asked again", justify="right")
    table.add_column("errors recorded", justify="right")
    table.add_column("result")
    for r in results:
        if r.skipped is not None:
            table.add_row(escape(r.name), escape(r.fault), "-", "-", "-", "-",
                          f"[yellow]skipped: {escape(r.skipped)}[/]")
            continue
        failure = escape((r.failure or "see counts")[:160])
        verdict = "[green]pass[/]" if r.passed else f"[red]FAIL: {failure}[/]"
        if r.notes:  # error messages hold brackets ([p9], '^[A-Z]'): not markup
            verdict += "\n" + escape("; ".join(r.notes))
        table.add_row(
            escape(r.name), escape(r.fault),
            "[red]no[/]" if not r.completed else "refused, clearly" if r.refusal else "yes",
            str(r.lost) if r.lost == 0 else f"[red]{r.lost}[/]",
            str(r.reasked) if r.reasked == 0 else f"[red]{r.reasked}[/]",
            str(r.errors_recorded), verdict,
        )
    done = [r for r in results if r.skipped is None]
    lost, reasked = sum(r.lost for r in done), sum(r.reasked for r in done)
    completed = sum(1 for r in done if r.completed and not r.refusal)
    refused = sum(1 for r in done if r.completed and r.refusal)
    failed = sum(1 for r in done if not r.passed)
    table.add_section()
    table.add_row(
        "[bold]total[/]", f"{len(done)} faults injected"
        + (f", {len(results) - len(done)} skipped" if len(done) < len(results) else ""),
        f"{completed} completed\n{refused} refused, clearly",
        str(lost) if lost == 0 else f"[red]{lost}[/]",
        str(reasked) if reasked == 0 else f"[red]{reasked}[/]",
        str(sum(r.errors_recorded for r in done)),
        "[green]all pass[/]" if failed == 0 else f"[red]{failed} FAIL[/]",
    )
    return table
