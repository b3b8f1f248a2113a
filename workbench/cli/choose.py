"""`workbench choose RUN_ID`: which stack to choose and why; with `--gate`, a CI check.

Reads the store only (never a stack). Constraints come from the command line, else from
the matrix file the run was started with.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from workbench.cli.app import app, fail


@app.command("choose")
def choose_command(
    run_id: str = typer.Argument("latest", help="Run id, unique prefix, or `latest`."),
    slo: list[str] = typer.Option([], "--slo", help="Latency SLO, e.g. e2e.p95<=2s (repeat, "
                                  "or comma-separated)."),
    minimum: list[str] = typer.Option([], "--min", help="Minimum quality, e.g. f1>=0.3."),
    max_errors: str = typer.Option(None, "--max-errors", help="Maximum error rate, e.g. 5%."),
    gate: bool = typer.Option(False, "--gate", help="Exit 1 when no stack meets the "
                              "constraints or a candidate is significantly worse than the "
                              "baseline beyond a --max-drop / --max-rise margin."),
    max_drop: list[str] = typer.Option([], "--max-drop", help="Gate: allowed quality drop "
                                       "vs the baseline, e.g. f1=0.02."),
    max_rise: list[str] = typer.Option([], "--max-rise", help="Gate: allowed latency rise "
                                       "vs the baseline, e.g. e2e.p50=10%."),
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
    from workbench.cli.report import _store
    from workbench.report.choice import recommend
    from workbench.report.constraints import (
        ConstraintError,
        constraints_from_manifest,
        parse_constraints,
        parse_margin,
    )
    from workbench.report.gate import gate_failures
    from workbench.report.render import render_choice
    from workbench.report.stored import scorecard_for_run

    store = _store(db)
    try:
        rid = store.resolve_run_id(run_id)
        texts = [*slo, *minimum] + ([f"error_rate<={max_errors}"] if max_errors else [])
        constraints = (parse_constraints(texts) if texts
                       else constraints_from_manifest(store.get_run(rid)["manifest"]))
        margins = [parse_margin(m) for m in [*max_drop, *max_rise]]
    except (KeyError, ConstraintError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    from workbench.cli.judging import judge_errors, judge_failure, open_judge

    with open_judge(judge_kind, model=judge_model, sample=judge_sample) as judge:
        try:
            card = scorecard_for_run(store, rid, semantic=semantic, judge=judge)
        except judge_errors() as exc:
            raise judge_failure(exc) from exc
    unknown = [c for c in candidate if c not in card.candidates]
    if unknown:
        raise fail(f"--candidate: {', '.join(unknown)} not a candidate of run {rid} "
                   f"(candidates: {', '.join(card.candidates)})")
    choice = recommend(card, constraints)
    failures = gate_failures(card, choice, margins, candidate or card.candidates) if gate else []
    if fmt == "json":
        typer.echo(json.dumps({"run_id": rid, "chosen": choice.chosen,
                               "headline": choice.headline, "constraints": choice.constraints,
                               "ranked": [r.__dict__ for r in choice.ranked],
                               "gate_failures": failures}, indent=2, default=str))
    else:
        Console().print(render_choice(choice))
    if gate:
        if failures:
            for line in failures:
                typer.secho(f"gate failed: {line}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        typer.secho("gate passed", fg=typer.colors.GREEN, err=True)
