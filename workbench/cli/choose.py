"""`workbench choose RUN_ID`: which stack to choose and why; with `--gate`, a CI check.

Reads the store only (never a stack). Constraints come from the matrix file the run was
started with; one given on the command line replaces the file's on the same key (`e2e.p95`,
`f1`, `error_rate`) and leaves the others. The gate's exit codes: 0 pass, 1 fail,
2 usage error (a margin the run cannot judge included), 3 inconclusive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from workbench.cli.app import app, fail
from workbench.cli.judging import judge_errors, judge_failure, open_judge
from workbench.cli.report import _store

if TYPE_CHECKING:
    from workbench.report.models import ScoreCard


@app.command("choose")
def choose_command(
    run_id: str = typer.Argument("latest", help="Run id, unique prefix, or `latest`."),
    slo: list[str] = typer.Option([], "--slo", help="Latency SLO, e.g. e2e.p95<=2s (repeat, "
                                  "or comma-separated)."),
    minimum: list[str] = typer.Option([], "--min", help="Minimum quality, e.g. f1>=0.3."),
    max_errors: str = typer.Option(None, "--max-errors", help="Maximum error rate, e.g. 5%."),
    tie_margin: float = typer.Option(None, "--tie-margin", min=0.001, max=1.0, help="The F1 a "
                                     "stack chosen for its lower cost or latency may be shown "
                                     "to lose at most (default: the matrix's "
                                     "choice.tie_margin, else 0.05)."),
    gate: bool = typer.Option(False, "--gate", help="Non-inferiority gate: exit 0 when "
                              "every candidate's one-sided 95% bound is inside every "
                              "--max-drop / --max-rise margin, 1 when one is significantly "
                              "beyond it (or every stack fails a constraint), 3 when the "
                              "run is too small to tell (inconclusive)."),
    max_drop: list[str] = typer.Option([], "--max-drop", help="Gate: allowed quality drop "
                                       "vs the baseline, e.g. f1=0.02."),
    max_rise: list[str] = typer.Option([], "--max-rise", help="Gate: allowed latency rise "
                                       "vs the baseline, e.g. e2e.p50=10% (e2e with p50, "
                                       "mean, or p95 given 200 pairs)."),
    candidate: list[str] = typer.Option([], "--candidate", help="Gate only these candidates "
                                        "(default: every candidate)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json"),
    semantic: bool = typer.Option(False, "--semantic/--no-semantic",
                                  help="Score semantic similarity too (slower)."),
    judge_kind: str = typer.Option(None, "--judge", help="`local`: judge the answers with a "
                                   "packaged model (for --min faithfulness>=0.8; verdicts "
                                   "already cached are not asked again)."),
    judge_model: str = typer.Option(None, "--judge-model", help="The local judge's model."),
    judge_sample: int = typer.Option(50, "--judge-sample", help="Questions judged; 0: all."),
    db: Path = typer.Option(None, "--db"),
) -> None:
    """Rank the run's stacks under the constraints and say which one to choose, and why."""
    # why here: the report package imports SciPy (seconds to import)
    from workbench.report.constraints import (
        ConstraintError,
        constraints_from_manifest,
        merge_constraints,
        parse_constraints,
        parse_margin,
    )
    from workbench.report.decision import decide_run
    from workbench.report.gate import GateError, run_gate
    from workbench.report.load import load_note
    from workbench.report.render import render_choice

    store = _store(db)
    try:
        rid = store.resolve_run_id(run_id)
        texts = [*slo, *minimum] + ([f"error_rate<={max_errors}"] if max_errors else [])
        constraints = merge_constraints(constraints_from_manifest(store.run_manifest(rid)),
                                        parse_constraints(texts))
        margins = [parse_margin(m) for m in [*max_drop, *max_rise]]
    except (KeyError, ConstraintError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    with open_judge(judge_kind, model=judge_model, sample=judge_sample) as judge:
        try:
            decision = decide_run(store, rid, semantic=semantic, judge=judge,
                                  constraints=constraints, votes=False, tie_margin=tie_margin)
        except judge_errors() as exc:
            raise judge_failure(exc) from exc
    card, choice = decision.card, decision.choice
    unknown = [c for c in candidate if c not in card.candidates]
    if unknown:
        raise fail(f"--candidate: {', '.join(unknown)} not a candidate of run {rid} "
                   f"(candidates: {', '.join(card.candidates)})")
    applied = [{"constraint": c.text, "source": c.source} for c in constraints]
    if choice is None:  # the run has not completed: no choice, no gate
        _provisional(card, decision.status, applied, fmt, gate)
        return
    try:
        result = (run_gate(card, choice, margins, candidate or card.candidates, constraints)
                  if gate else None)
    except GateError as exc:
        raise fail(str(exc)) from exc
    if fmt == "json":
        typer.echo(json.dumps({"run_id": rid, "chosen": choice.chosen,
                               "headline": choice.headline, "constraints": applied,
                               "ranked": [r.__dict__ for r in choice.ranked],
                               "load": load_note(card.load),
                               "gate": None if result is None else {
                                   "state": result.state, "exit_code": result.exit_code,
                                   "lines": result.lines()}},
                              indent=2, default=str))
    else:
        console = Console()
        console.print(render_choice(choice))
        console.print(load_note(card.load), highlight=False)
        typer.echo("constraints applied: " + (", ".join(
            f"{c['constraint']} ({c['source']})" for c in applied) or "none"))
    if result is not None:
        color = {"pass": typer.colors.GREEN, "fail": typer.colors.RED}.get(
            result.state, typer.colors.YELLOW)
        for line in result.lines():
            typer.secho(line, fg=color, err=True)
        verdict = {"pass": "passes", "fail": "fails"}.get(result.state, "is inconclusive")
        typer.secho(f"The gate {verdict} (exit {result.exit_code}).", fg=color, err=True)
        raise typer.Exit(result.exit_code)


def _provisional(card: ScoreCard, status: str, applied: list[dict[str, str]], fmt: str,
                 gate: bool) -> None:
    """A run not completed: progress and each stack's own numbers, marked provisional, and
    no choice (looking at a run in progress and stopping at a difference inflates false
    winners); the gate is inconclusive."""
    # why here: the report package imports SciPy (seconds to import)
    from workbench.report.gate import EXIT_INCONCLUSIVE
    from workbench.report.provisional import provisional_lines

    lines = provisional_lines(card, status)
    if fmt == "json":
        typer.echo(json.dumps({"run_id": card.run_id, "status": status, "provisional": True,
                               "chosen": None, "constraints": applied, "lines": lines},
                              indent=2))
    else:
        Console().print("\n".join(lines), highlight=False)
    if gate:
        typer.secho(f"The gate is inconclusive (exit {EXIT_INCONCLUSIVE}): run {card.run_id} "
                    f"is {status}, not completed; gate a completed run",
                    fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(EXIT_INCONCLUSIVE)
