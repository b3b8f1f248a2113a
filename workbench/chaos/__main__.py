"""`python -m workbench.chaos`: every fault scenario against real processes, then a table.

Exits 1 when any scenario lost a result, asked a question again or broke an expectation.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from rich.console import Console

from workbench.chaos.lab import Lab, LabError
from workbench.chaos.report import ScenarioResult, render
from workbench.chaos.scenarios import SCENARIOS


def main(argv: list[str] | None = None) -> int:
    """Start a lab, run the scenarios (all, or those named with --only), print the table."""
    parser = argparse.ArgumentParser(prog="python -m workbench.chaos", description=__doc__)
    parser.add_argument("--only", action="append", default=[],
                        help="Run only scenarios whose function name contains this.")
    args = parser.parse_args(argv)
    console = Console()
    console.width = max(console.width, 150)  # the table is unreadable when wrapped at 80
    results: list[ScenarioResult] = []
    chosen = [s for s in SCENARIOS if not args.only or any(o in s.__name__ for o in args.only)]
    try:
        with Lab() as lab:
            console.print(f"lab ready in {lab.root}: engines and RAG services on "
                          f"127.0.0.1 (pids {[s.pid for s in lab.engines.values()]} + "
                          f"{[s.pid for s in lab.rags.values()]})")
            for scenario in chosen:
                console.print(f"[bold]{scenario.__name__}[/] ...")
                try:
                    out = scenario(lab)
                except Exception as exc:  # a broken scenario is a failed row, not a crash
                    traceback.print_exc()
                    out = ScenarioResult(scenario.__name__, failure=f"{type(exc).__name__}: "
                                         f"{exc}"[:300])
                results.extend(out if isinstance(out, list) else [out])
    except LabError as exc:
        console.print(f"[red]error:[/] cannot set up the chaos lab: {exc}")
        return 2
    console.print(render(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
