"""Drawing a `ScoreCard`: rich tables for the terminal, Markdown, and JSON.

Both table formats carry the same content: the verdict, then one table per section
(quality, retrieval, latency) with metric | A | B | B - A [95% CI] | p | verdict, the win/
tie/loss counts, the warnings, and a footer stating every metric's definition and how the
statistics were computed. Latency differences are shown relative to A (B / A - 1).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from workbench.report.models import Comparison, ScoreCard
from workbench.report.verdict import format_diff, format_value

SECTIONS = ("quality", "retrieval", "latency")
_TITLES = {"quality": "Answer quality", "retrieval": "Retrieval (gold passages, answerable "
           "questions)", "latency": "Latency (successful requests; vLLM definitions)"}
_HEADER = ("Metric", "A", "B", "B - A [95% CI]", "p", "Verdict")
LATENCY_NOTE = (
    "Latency follows vLLM's definitions on client-side monotonic timestamps: TTFT = first "
    "streamed content chunk - request start; TPOT = (E2E - TTFT) / (N - 1); ITL = gaps "
    "between content chunks; E2E = last chunk - request start; N = completion tokens as the "
    "server reports them. Output tok/s is per request: N / (E2E - TTFT)."
)


def _cells(c: Comparison) -> tuple[str, str, str, str, str, str]:
    p = "" if c.p_value is None else (f"{c.p_value:.3g}" if c.p_value >= 1e-4 else "<1e-4")
    a, b = format_value(c.a, c.unit), format_value(c.b, c.unit)
    if c.key == "error_rate":
        a, b = (f"{v:.1%}" if v is not None else "n/a" for v in (c.a, c.b))
    return (c.label, a, b, format_diff(c), p, c.verdict)


def _method(card: ScoreCard) -> str:
    m = card.method
    text = (f"Pairs: {card.n_pairs} questions answered by both sides. B - A with a "
            f"{m.confidence:.0%} paired bootstrap CI ({m.resamples} resamples, seed {m.seed}; "
            "percentile method). A quality or retrieval difference is called only when its CI "
            "excludes 0 and a paired test agrees (p < 0.05): McNemar's test for binary metrics "
            f"(exact binomial below {m.mcnemar_exact_below} discordant pairs, else chi-square "
            "with continuity correction), a paired sign-flip permutation test (exact up to 16 "
            "non-zero differences) for the others; latency differences by their CI. Failed "
            "requests count as wrong answers and are excluded from latency. Wins: per question "
            "by token F1, and by E2E "
            f"(ties within {m.latency_tie_pct:.0f}%).")
    if m.judge:
        text += f" LLM judge: {m.judge['model']} at {m.judge['base_url']}."
    return text


_DIST_HEADER = ("Latency per side", "Side", "n", "mean", "p50", "p90", "p95", "p99")


def _distribution_rows(card: ScoreCard) -> list[tuple[str, ...]]:
    """Each side's own latency distribution (all its successful requests)."""
    rows = []
    labels = {c.metric: c.label.rsplit(" ", 1)[0] for c in card.comparisons
              if c.section == "latency" and c.key != "error_rate"}
    for key, label in labels.items():
        unit = next(c.unit for c in card.comparisons if c.metric == key)
        for side, summary in card.sides.items():
            s = summary.latency.get(key)
            if s is None:
                continue
            stats = (s.mean, s.p50, s.p90, s.p95, s.p99)
            rows.append((label, side, str(s.n), *(format_value(v, unit) for v in stats)))
    return rows


def _sides_line(card: ScoreCard) -> list[str]:
    lines = []
    for side, s in card.sides.items():
        lines.append(f"{side}: {s.stack or '(none)'} ({s.engine} {s.model}); {s.responses} "
                     f"responses, {s.errors} failed"
                     + (f" ({s.error_rate:.1%})" if s.error_rate is not None else ""))
    return lines


def _wins_line(card: ScoreCard) -> str:
    f, e = card.wins_f1, card.wins_e2e
    return (f"Per question by F1: A wins {f.a_wins}, B wins {f.b_wins}, ties {f.ties}, "
            f"errors {f.errors}. By E2E: A faster {e.a_wins}, B faster {e.b_wins}, "
            f"ties {e.ties}, errors {e.errors}.")


def render_rich(card: ScoreCard) -> RenderableType:
    """The scorecard as rich renderables (print with `rich.console.Console().print`)."""
    parts: list[RenderableType] = [
        Panel(Text(card.verdict, style="bold"), title="Verdict (B vs A)", expand=False),
        Text("\n".join(_sides_line(card))),
    ]
    for section in SECTIONS:
        rows = [c for c in card.comparisons if c.section == section]
        if not rows:
            continue
        table = Table(title=_TITLES[section], title_justify="left", expand=False)
        for i, name in enumerate(_HEADER):
            table.add_column(name, justify="right" if 0 < i < 5 else "left")
        for c in rows:
            style = "green" if c.better == "B" else "red" if c.better == "A" else None
            table.add_row(*_cells(c), style=style)
        parts.append(table)
    dist = Table(title="Latency distribution per side (successful requests)",
                 title_justify="left", expand=False)
    for i, name in enumerate(_DIST_HEADER):
        dist.add_column(name, justify="left" if i < 2 else "right")
    for row in _distribution_rows(card):
        dist.add_row(*row)
    parts.append(dist)
    parts.append(Text(_wins_line(card)))
    if card.warnings:
        parts.append(Text("Warnings:\n" + "\n".join(f"  ! {w}" for w in card.warnings),
                          style="yellow"))
    footer = [f"{k}: {v}" for k, v in card.definitions.items()]
    parts.append(Text("\n".join(["Definitions:", *footer, LATENCY_NOTE, _method(card)]),
                      style="dim"))
    return Group(*parts)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(card: ScoreCard) -> str:
    """The scorecard as a Markdown document (same content as `render_rich`)."""
    out = [f"# A/B scorecard{f' - run {card.run_id}' if card.run_id else ''}", "",
           f"**Verdict (B vs A):** {_md_escape(card.verdict)}", ""]
    out += [f"- {_md_escape(line)}" for line in _sides_line(card)] + [""]
    for section in SECTIONS:
        rows = [c for c in card.comparisons if c.section == section]
        if not rows:
            continue
        out += [f"## {_TITLES[section]}", "", "| " + " | ".join(_HEADER) + " |",
                "|" + "---|" * len(_HEADER)]
        out += ["| " + " | ".join(_md_escape(x) for x in _cells(c)) + " |" for c in rows]
        out.append("")
    out += ["## Latency distribution per side (successful requests)", "",
            "| " + " | ".join(_DIST_HEADER) + " |", "|" + "---|" * len(_DIST_HEADER)]
    out += ["| " + " | ".join(row) + " |" for row in _distribution_rows(card)] + [""]
    out += [_wins_line(card), ""]
    if card.warnings:
        out += ["## Warnings", ""] + [f"- {_md_escape(w)}" for w in card.warnings] + [""]
    out += ["## Definitions", ""]
    out += [f"- **{k}**: {_md_escape(v)}" for k, v in card.definitions.items()]
    out += ["", LATENCY_NOTE, "", _method(card), ""]
    return "\n".join(out)


def render_json(card: ScoreCard) -> str:
    """The scorecard as JSON (`ScoreCard.model_dump_json`)."""
    return card.model_dump_json(indent=2)
