"""Drawing a `ScoreCard` and its `Choice`: rich tables for the terminal, Markdown, and JSON.

Both table formats carry the same content, in this order: the choice (headline and one
reason line per stack), the leaderboard (one row per stack), then per candidate its
comparisons against the baseline (metric | baseline | candidate | difference [95% CI] |
p | verdict), each stack's latency distribution, the wins, the power statement, warnings
and notes, and a footer with every metric's definition and the statistical method.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from workbench.report.choice import Choice
from workbench.report.faithfulness import faithfulness_lines
from workbench.report.leaderboard import Leaderboard, leaderboard
from workbench.report.load import load_markdown, load_rich
from workbench.report.models import Comparison, ScoreCard
from workbench.report.verdict import format_diff, format_p, format_value
from workbench.report.votes import VOTES_HEADER, VoteSummary, votes_lines, votes_table_rows

SECTIONS = ("quality", "retrieval", "latency")
_TITLES = {"quality": "Answer quality", "retrieval": "Retrieval (gold passages, answerable "
           "questions)", "latency": "Latency (successful requests; vLLM definitions)"}
LATENCY_NOTE = (
    "Latency follows vLLM's definitions on client-side monotonic timestamps: TTFT = first "
    "streamed content chunk - request start; TPOT = (E2E - TTFT) / (N - 1); ITL = gaps "
    "between content chunks; E2E = last chunk - request start; N = completion tokens as the "
    "server reports them. Output tok/s is per request: N / (E2E - TTFT)."
)
_LEADER_HEADER = ("#", "Stack", "Engine, model", "F1", "ΔF1 vs baseline [95% CI]",
                  "Median E2E", "ΔE2E vs baseline [95% CI]", "Errors", "Cost")
#: The leaderboard's headers in the terminal (the Markdown report keeps the long ones).
_SHORT = {"ΔF1 vs baseline [95% CI]": "ΔF1 [95% CI]", "ΔE2E vs baseline [95% CI]":
          "ΔE2E [95% CI]", "Capacity at target": "Capacity", "Cost at capacity": "Cost@cap"}
_DIST_HEADER = ("Latency per stack", "Stack", "n", "mean", "p50", "p90", "p95", "p99")
_ENGINE_HEADER = ("Stack", "Prefix cache", "Requests", "Prompt tok/req", "Prompt tokens",
                  "Cached", "Hit rate", "Prefill tok/s", "Prefill/req", "Queue", "TTFT p50")
_ENGINE_TITLE = "Engine counters per stack (as each engine reports them)"


def _header(card: ScoreCard, cand: str) -> tuple[str, ...]:
    return ("Metric", card.baseline, cand, f"{cand} vs {card.baseline} [95% CI]", "p",
            "Verdict")


def _cells(c: Comparison) -> tuple[str, str, str, str, str, str]:
    a, b = format_value(c.baseline_value, c.unit), format_value(c.candidate_value, c.unit)
    if c.key == "error_rate":
        a, b = (f"{v:.1%}" if v is not None else "n/a"
                for v in (c.baseline_value, c.candidate_value))
    label = c.label + (" *" if c.primary else "")
    return (label, a, b, format_diff(c), format_p(c), c.verdict)


def leaderboard_header(board: Leaderboard) -> tuple[str, ...]:
    """The leaderboard's columns in the CLI and Markdown report (capacity and cost at
    capacity for a run with a load pass, faithfulness where the run has it)."""
    return (_LEADER_HEADER
            + (("Capacity at target", "Cost at capacity") if board.has_load else ())
            + (("Faithful",) if board.has_faithfulness else ()))


def leaderboard_rows(card: ScoreCard, choice: Choice | None) -> list[tuple[str, ...]]:
    """One row per stack, in the choice's order (else run order)."""
    return board_rows(leaderboard(card, choice))


def board_rows(board: Leaderboard) -> list[tuple[str, ...]]:
    """The texts of `report.leaderboard`'s rows, in `leaderboard_header`'s columns."""
    rows: list[tuple[str, ...]] = []
    for r in board.rows:
        cells: tuple[str, ...] = (r.rank_text, r.label + (" (baseline)" if r.baseline else ""),
                 f"{r.engine} {r.model}".strip(), r.f1_text, r.delta_f1, r.e2e_text,
                 r.delta_e2e, r.error_text, r.cost_text)
        if board.has_load:
            cap = r.capacity
            cells += (cap.text, cap.cost_text) if cap is not None else ("-", "-")
        if board.has_faithfulness:
            cells += (r.faithful_text or "-",)
        rows.append(cells)
    return rows


def leaderboard_notes(board: Leaderboard) -> list[str]:
    """The lines under the leaderboard: the load it was chosen at, the cost's unit, the
    marks."""
    return [board.load_note, board.cost_note, board.legend]


def _distribution_rows(card: ScoreCard) -> list[tuple[str, ...]]:
    """Each stack's own latency distribution (all its successful requests)."""
    rows = []
    labels = {c.metric: c.label.split(" (")[0].removesuffix(" p95") for c in card.comparisons
              if c.section == "latency" and c.key != "error_rate"}
    for key, label in labels.items():
        unit = next(c.unit for c in card.comparisons if c.metric == key)
        for name, summary in card.summaries.items():
            s = summary.latency.get(key)
            if s is None:
                continue
            stats = (s.mean, s.p50, s.p90, s.p95, s.p99)
            rows.append((label, name, str(s.n), *(format_value(v, unit) for v in stats)))
    return rows


def engine_rows(card: ScoreCard) -> list[tuple[str, ...]]:
    """Each stack's engine counters beside its median TTFT (stacks without any: none)."""
    rows: list[tuple[str, ...]] = []
    for name in card.stacks:
        s = card.summaries.get(name)
        e = s.engine_counters if s is not None else None
        if s is None or e is None:
            continue
        ttft = s.latency.get("ttft")
        cache = "?" if e.prefix_caching is None else "on" if e.prefix_caching else "off"
        rows.append((
            name, cache, str(e.requests),
            f"{e.prompt_tokens_mean:.0f}" if e.prompt_tokens_mean is not None else "n/a",
            f"{e.prompt_tokens:,}" if e.prompt_tokens is not None else "n/a",
            f"{e.cached_tokens:,}" if e.cached_tokens is not None else "n/a",
            f"{e.cache_hit_rate:.0%}" if e.cache_hit_rate is not None else "n/a",
            f"{e.prefill_tok_s:,.0f}" if e.prefill_tok_s is not None else "n/a",
            format_value(e.prefill_ms_mean / 1000 if e.prefill_ms_mean is not None else None,
                         "s"),
            f"{e.queue_ms_mean:.1f} ms" if e.queue_ms_mean is not None else "n/a",
            format_value(ttft.p50 if ttft else None, "s"),
        ))
    return rows


def _wins_lines(card: ScoreCard) -> list[str]:
    lines = []
    for f, e in zip(card.wins_f1, card.wins_e2e, strict=True):
        lines.append(f"{f.candidate} vs {f.baseline}, per question by F1: {f.candidate} wins "
                     f"{f.candidate_wins}, {f.baseline} wins {f.baseline_wins}, ties {f.ties}, "
                     f"errors {f.errors}. By E2E: {e.candidate} faster {e.candidate_wins}, "
                     f"{e.baseline} faster {e.baseline_wins}, ties {e.ties}, errors {e.errors}.")
    return lines


def _method(card: ScoreCard) -> str:
    m = card.method
    text = (f"Baseline {card.baseline}; each candidate is paired with it question by question "
            f"({card.n_pairs} questions answered by every stack). Differences are candidate - "
            f"baseline with a {m.confidence:.0%} paired bootstrap CI ({m.resamples} resamples, "
            f"seed {m.seed}; BCa, widened for small samples; where both sides score only 0 or "
            "1, F1 included, Newcombe's paired score interval). Primary metrics (*: "
            f"{', '.join(m.primary_metrics)}) are one family of {m.holm_family} tests, "
            f"Holm-corrected across candidates; the {m.bh_family} secondary tests (other "
            "quality metrics, retrieval, other latency ratios, error rate) are one family, "
            "Benjamini-Hochberg adjusted (false discovery rate 5%; p marked BH). A "
            "difference is called only when its CI excludes 0 and its paired test agrees "
            "(p < 0.05): McNemar's test for binary metrics (exact binomial below "
            f"{m.mcnemar_exact_below} discordant pairs, else chi-square with continuity "
            "correction), a paired sign-flip permutation test for other scores, a sign test "
            "on the direction of each pair for latency ratios (the median of per-question "
            f"ratios). p95 is compared only with at least {m.p95_min_pairs} pairs. Failed "
            "requests count as wrong answers and are excluded from latency. Wins: per "
            f"question by token F1, and by E2E (ties within {m.latency_tie_pct:.0f}%).")
    if m.judge:
        j = m.judge
        where = (f"local llama.cpp, model sha256 {str(j.get('digest', ''))[:12]}"
                 if j.get("kind") == "local" else f"at {j.get('base_url')}")
        sample = (f"a seeded sample of {j['sample']} questions (seed {j.get('seed')})"
                  if j.get("sample") else "every answer")
        text += (f" LLM judge: {j.get('model')} ({where}), {sample}; prompt sha256 "
                 f"{str(j.get('prompt_digest', ''))[:12]}, recorded in the manifest.")
    return text


def choice_lines(choice: Choice) -> list[str]:
    """The choice as lines: headline, constraints, one reason per other stack (the chosen
    stack's reason is the headline)."""
    lines = [choice.headline]
    if choice.constraints:
        lines.append("constraints: " + ", ".join(choice.constraints))
    lines += [f"  {r.reason}" for r in choice.ranked if r.reason != choice.headline]
    if choice.pairs:
        lines.append(f"F1, every pair over the {choice.shared} questions every feasible stack "
                     "answered (Holm over all pairs):")
        lines += [f"  {p}" for p in choice.pairs]
    return lines


def render_choice(choice: Choice) -> RenderableType:
    """The choice as a rich panel."""
    body = Text(choice.headline, style="bold")
    rest = choice_lines(choice)[1:]
    if rest:
        body.append("\n" + "\n".join(rest), style="")
    return Panel(body, title="Choice", expand=False)


def render_votes(votes: VoteSummary, card: ScoreCard) -> list[RenderableType]:
    """Human votes beside the automatic scores: each stack's rating next to its F1, then
    each pair's record and the votes' agreement with F1 and the judge."""
    parts: list[RenderableType] = []
    rows = votes_table_rows(votes, card)
    if rows:
        table = Table(title="Human votes (arena): Bradley-Terry rating beside F1",
                      title_justify="left", expand=False)
        for i, name in enumerate(VOTES_HEADER):
            table.add_column(name, justify="left" if i == 0 else "right", no_wrap=i == 0)
        for row in rows:
            table.add_row(*row)
        parts.append(table)
    parts.append(Text("\n".join(votes_lines(votes))))
    return parts


def _stack_cell(label: str, engine_model: str) -> str:
    """The stack's name, then (dim) "baseline · " and its engine and model."""
    name = label.removesuffix(" (baseline)")
    base = "baseline · " if name != label else ""
    return f"{escape(name)}\n[dim]{base}{escape(engine_model)}[/dim]"


def render_rich(card: ScoreCard, choice: Choice | None = None,
                votes: VoteSummary | None = None) -> RenderableType:
    """The scorecard (after its choice, when given) as rich renderables; `votes` adds the
    arena's votes after the leaderboard."""
    parts: list[RenderableType] = []
    if choice is not None:
        parts.append(render_choice(choice))
    lb = leaderboard(card, choice)
    board = Table(title=f"Leaderboard ({lb.load_short}; ✓: significant after correction)",
                  title_justify="left", expand=False)
    # The engine and model go under the stack's name and the headers are the web's short
    # ones: at 132 columns the long ones squeezed the values ("8.75" over "CPU-s").
    header = [_SHORT.get(h, h) for h in leaderboard_header(lb)]
    cells = [(r[0], _stack_cell(r[1], r[2]), *r[3:]) for r in board_rows(lb)]
    # The names keep their full width (the engine line under them is cut to it).
    names = max((cell_len(lb_row.label + (" (baseline)" if lb_row.baseline else ""))
                 for lb_row in lb.rows), default=5)
    for i, name in enumerate(header[:2] + header[3:]):
        board.add_column(name, justify="right" if i in (0, 2, 4, 6) else "left",
                         no_wrap=i in (0, 1), min_width=names if i == 1 else None,
                         max_width=names if i == 1 else None)
    for row in cells:
        board.add_row(*row)
    parts.append(board)
    parts.append(Text("\n".join(leaderboard_notes(lb)), style="dim"))
    if card.load is not None:  # without a load pass the notes above already say so
        parts += load_rich(card.load)
    if votes is not None:
        parts += render_votes(votes, card)
    for cand in card.candidates:
        comps = card.comparisons_of(cand)
        parts.append(Text(next((v for v in card.verdict_parts if v.startswith(f"{cand} vs")),
                               ""), style="bold"))
        for section in SECTIONS:
            rows = [c for c in comps if c.section == section]
            if not rows:
                continue
            table = Table(title=f"{_TITLES[section]}: {cand} vs {card.baseline}",
                          title_justify="left", expand=False)
            for i, name in enumerate(_header(card, cand)):
                table.add_column(name, justify="right" if 0 < i < 5 else "left")
            for c in rows:
                style = ("green" if c.better == cand else "red" if c.better == card.baseline
                         else None)
                table.add_row(*_cells(c), style=style)
            parts.append(table)
    dist = Table(title="Latency distribution per stack (successful requests; descriptive)",
                 title_justify="left", expand=False)
    for i, name in enumerate(_DIST_HEADER):
        dist.add_column(name, justify="left" if i < 2 else "right")
    for row in _distribution_rows(card):
        dist.add_row(*row)
    parts.append(dist)
    engine = engine_rows(card)
    if engine:
        table = Table(title=_ENGINE_TITLE, title_justify="left", expand=False)
        for i, name in enumerate(_ENGINE_HEADER):
            table.add_column(name, justify="left" if i < 2 else "right", no_wrap=i in (0, 8))
        for row in engine:
            table.add_row(*row)
        parts.append(table)
    if card.engine_notes:
        parts.append(Text("\n".join(card.engine_notes), style="bold"))
    if faithful := faithfulness_lines(card):
        parts.append(Text("\n".join(faithful)))
    parts.append(Text("\n".join(_wins_lines(card) + [p.text for p in card.power])))
    if card.host:
        parts.append(Text(card.host, style="dim"))
    if card.warnings:
        parts.append(Text("Warnings:\n" + "\n".join(f"  ! {w}" for w in card.warnings),
                          style="yellow"))
    if card.notes:
        parts.append(Text("Notes:\n" + "\n".join(f"  - {n}" for n in card.notes)))
    footer = [f"{k}: {v}" for k, v in card.definitions.items()]
    parts.append(Text("\n".join(["Definitions:", *footer, LATENCY_NOTE, _method(card)]),
                      style="dim"))
    return Group(*parts)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    out = ["| " + " | ".join(_md_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(_md_escape(x) for x in row) + " |" for row in rows] + [""]


def render_markdown(card: ScoreCard, choice: Choice | None = None,
                    votes: VoteSummary | None = None) -> str:
    """The scorecard as a Markdown document (same content as `render_rich`)."""
    out = [f"# Scorecard{f' - run {card.run_id}' if card.run_id else ''}", ""]
    if choice is not None:
        out += [f"**Choice:** {_md_escape(choice.headline)}", ""]
        if choice.constraints:
            out += [f"Constraints: {_md_escape(', '.join(choice.constraints))}", ""]
        out += [f"- {_md_escape(r.reason)}" for r in choice.ranked
                if r.reason != choice.headline] + [""]
        if choice.pairs:
            out += [f"F1, every pair over the {choice.shared} questions every feasible stack "
                    "answered (Holm over all pairs):", ""]
            out += [f"- {_md_escape(p)}" for p in choice.pairs] + [""]
    lb = leaderboard(card, choice)
    out += ["## Leaderboard", "", *_md_table(leaderboard_header(lb), board_rows(lb))]
    out += [f"_{_md_escape(line)}_" for line in leaderboard_notes(lb)] + [""]
    if card.load is not None:  # without a load pass the notes above already say so
        out += load_markdown(card.load)
    if votes is not None:
        out += ["## Human votes (arena)", ""]
        if votes.ratings:
            out += _md_table(VOTES_HEADER, votes_table_rows(votes, card))
        out += [f"- {_md_escape(line)}" for line in votes_lines(votes)] + [""]
    for cand in card.candidates:
        comps = card.comparisons_of(cand)
        out += [f"## {cand} vs {card.baseline}", ""]
        verdict = next((v for v in card.verdict_parts if v.startswith(f"{cand} vs")), "")
        out += [f"**Verdict:** {_md_escape(verdict)}", ""]
        for section in SECTIONS:
            rows = [_cells(c) for c in comps if c.section == section]
            if rows:
                out += [f"### {_TITLES[section]}", "", *_md_table(_header(card, cand), rows)]
    out += ["## Latency distribution per stack (successful requests; descriptive)", ""]
    out += _md_table(_DIST_HEADER, _distribution_rows(card))
    if engine_rows(card):
        out += [f"## {_ENGINE_TITLE}", "", *_md_table(_ENGINE_HEADER, engine_rows(card))]
    out += [f"**{_md_escape(line)}**" for line in card.engine_notes]
    out += [""] if card.engine_notes else []
    if faithful := faithfulness_lines(card):
        out += ["## Faithfulness", "", *[f"- {_md_escape(x.strip())}" for x in faithful[1:]],
                ""]
    out += [*_wins_lines(card), "", *[p.text for p in card.power], ""]
    if card.host:
        out += [_md_escape(card.host), ""]
    if card.warnings:
        out += ["## Warnings", ""] + [f"- {_md_escape(w)}" for w in card.warnings] + [""]
    if card.notes:
        out += ["## Notes", ""] + [f"- {_md_escape(n)}" for n in card.notes] + [""]
    out += ["## Definitions", ""]
    out += [f"- **{k}**: {_md_escape(v)}" for k, v in card.definitions.items()]
    out += ["", LATENCY_NOTE, "", _method(card), ""]
    return "\n".join(out)


def render_json(card: ScoreCard) -> str:
    """The scorecard as JSON (`ScoreCard.model_dump_json`)."""
    return card.model_dump_json(indent=2)
