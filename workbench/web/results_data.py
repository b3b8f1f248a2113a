"""The Results tab's data: the choice and the leaderboard first, then the scorecard's
details (the one code path, `scorecard_for_run`), the per-question table with its filters
and pages, and one question's full detail, every part named by stack.
"""

from __future__ import annotations

import math

import pandas as pd

from workbench.records.evalset import Question
from workbench.records.responses import ResponseRecord
from workbench.report.choice import Choice
from workbench.report.leaderboard import Leaderboard, leaderboard
from workbench.report.load import load_note
from workbench.report.models import QuestionRow, ScoreCard
from workbench.report.provisional import has_outcomes
from workbench.report.render import render_markdown
from workbench.report.verdict import format_value
from workbench.web.common import esc

#: Filter label -> which per-question outcome (against the baseline, by token F1) it keeps.
FILTERS = {"all": None, "candidate better": "candidate", "baseline better": "baseline",
           "ties": "tie", "errors": "error", "unpaired": "unpaired"}
PAGE_SIZE = 50
#: Short headers: at 1024 px wide longer ones broke mid-word ("Ran k", "Error s").
LEADER_COLUMNS = ("#", "Stack", "F1", "ΔF1 [95% CI]", "Median E2E", "ΔE2E [95% CI]",
                  "Errors", "Cost")


def choice_markdown(card: ScoreCard, choice: Choice) -> str:
    """The recommendation: what to choose, the constraints, one reason line per stack (the
    chosen stack's line is the headline, so it is not printed twice)."""
    title = (f"Choose **{esc(choice.chosen)}**" if choice.chosen
             else f"**{esc(choice.headline)}**")
    out = ["### Recommendation", "", title, ""]
    if choice.constraints:
        # Code spans show their text as is (no HTML escaping inside them).
        out.append("Constraints: " + ", ".join(f"`{c.replace('`', '')}`"
                                               for c in choice.constraints))
    else:
        out.append("Constraints: none stored with this run (a matrix file's SLOs, or "
                   "`workbench choose RUN --slo ... --min ...`)")
    out.append("")
    out += [f"- {esc(r.reason)}" for r in choice.ranked]
    out += ["", f"<small>{esc(choice.method)}. Baseline: {esc(card.baseline)}. "
            f"{esc(load_note(card.load))}.</small>"]
    return "\n".join(out)


def leader_columns(board: Leaderboard) -> tuple[str, ...]:
    """The leaderboard's headers for this board (capacity and cost at capacity for a run
    with a load pass, faithfulness where the run has it)."""
    return (LEADER_COLUMNS + (("Capacity", "Cost at capacity") if board.has_load else ())
            + (("Faithful",) if board.has_faithfulness else ()))


def leaderboard_cells(board: Leaderboard) -> list[tuple[str, ...]]:
    """One row per stack in the choice's order: the texts of `report.leaderboard` in
    `leader_columns`' order."""
    rows: list[tuple[str, ...]] = []
    for r in board.rows:
        cells: tuple[str, ...] = (
            r.rank_text, r.label + (" (baseline)" if r.baseline else ""), r.f1_text,
            r.delta_f1, r.e2e_text, r.delta_e2e, r.error_text, r.cost_text)
        if board.has_load:
            cells += (r.capacity.text, r.capacity.cost_text) if r.capacity else ("-", "-")
        if board.has_faithfulness:
            cells += (r.faithful_text or "-",)
        rows.append(cells)
    return rows


def _md_cell(text: str) -> str:
    return esc(text).replace("|", "\\|").replace("\n", " ")


def _keep_ci(text: str) -> str:
    head, bracket, tail = text.partition(" [")
    return head + bracket + tail.replace(" ", "\u00a0") if bracket else text


def leaderboard_markdown(card: ScoreCard, choice: Choice) -> str:
    """The leaderboard as a Markdown table, then the load it was chosen at, the cost's
    unit and the marks (`report.leaderboard`: the rows every view shows)."""
    board = leaderboard(card, choice)
    columns = leader_columns(board)
    out = [f"### Leaderboard · {esc(board.load_short)}", "",
           "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r, row in zip(board.rows, leaderboard_cells(board), strict=True):
        cells = [_md_cell(x) for x in row]
        # A difference wraps only before its interval: "+0.220" over "[+0.078, +0.345] ✓".
        cells[3], cells[5] = (_keep_ci(cells[3]), _keep_ci(cells[5]))
        cells[1] += f"<br><small>{_md_cell(f'{r.engine} · {r.model}')}</small>"
        out.append("| " + " | ".join(cells) + " |")
    out += ["", f"<small>{esc(board.load_note)}. {esc(board.cost_note)}. "
            f"{esc(board.legend)}.</small>"]
    return "\n".join(out)


def scorecard_markdown(card: ScoreCard) -> tuple[str, str]:
    """(the report's details, its definitions footer), from `workbench report --format
    markdown`: every candidate's comparisons against the baseline, latency per stack,
    wins, power, warnings and notes. Its title and leaderboard are left out: the tab shows
    the leaderboard above, after the recommendation."""
    text = render_markdown(card)
    head, sep, tail = text.partition("\n## Definitions\n")
    sections = head.split("\n## ")
    kept = [s for s in sections[1:] if not s.startswith("Leaderboard")]
    return "\n".join("## " + s for s in kept).strip(), (sep + tail).strip()


def outcome_of(row: QuestionRow, candidate: str) -> str:
    """Who won the question between `candidate` and the baseline, by token F1."""
    return row.outcome.get(candidate, "unpaired")


def filtered(card: ScoreCard, candidate: str, which: str, search: str = "") -> list[QuestionRow]:
    """Rows whose F1 outcome (candidate against the baseline) matches the filter and whose
    id or text contains `search`."""
    # A run in progress has no outcomes: no verdict filter applies (report.provisional).
    wanted = FILTERS.get(which) if has_outcomes(card) else None
    if wanted == "candidate":
        wanted = candidate
    elif wanted == "baseline":
        wanted = card.baseline
    needle = search.strip().lower()
    return [r for r in card.rows
            if (wanted is None or outcome_of(r, candidate) == wanted)
            and (not needle or needle in r.question.lower() or needle in r.question_id.lower())]


def table_columns(card: ScoreCard) -> list[str]:
    """The table's headers: one "F1 · E2E" column per stack, in run order (no "F1 winner"
    or "faster" for a run in progress: `report.provisional.without_outcomes`)."""
    return ["question id", *(["F1 winner", "faster"] if has_outcomes(card) else []), "lang",
            "answerable", *[f"{card.label(s)}: F1 · E2E" for s in card.stacks], "question"]


def _score(value: float | None) -> str:
    return format_value(value, "")


def page_frame(card: ScoreCard, candidate: str, rows: list[QuestionRow],
               page: int) -> tuple[pd.DataFrame, int, int]:
    """One page of the table (outcomes of `candidate` against the baseline); returns
    (frame, page actually shown, number of pages)."""
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(max(1, page), pages)
    chunk = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    outcomes = has_outcomes(card)
    data = [[r.question_id,
             *([outcome_of(r, candidate), r.latency_outcome.get(candidate, "-")] if outcomes
               else []),
             r.lang, "yes" if r.answerable else "no",
             *[f"{_score((r.scores.get(s) or {}).get('f1'))} · "
               f"{format_value(r.e2e.get(s), 's')}" for s in card.stacks],
             r.question[:120]]
            for r in chunk]
    return pd.DataFrame(data, columns=table_columns(card)), page, pages


def _stack_section(label: str, rec: ResponseRecord | None, gold: set[str]) -> list[str]:
    out = [f"### {esc(label)}"]
    if rec is None:
        return [*out, "*not answered*"]
    ttft = format_value(rec.ttft_s, "s")
    out.append(f"status **{rec.status}** · TTFT {ttft} · E2E {format_value(rec.e2e_s, 's')} · "
               f"{rec.completion_tokens or 0} tokens · attempt {rec.attempt}")
    if rec.error:
        out.append(f"**error:** {esc(rec.error)}")
    out += ["", f"> {esc(rec.answer) or '*(empty)*'}", "", "**Retrieved context**"]
    for s in rec.sources:
        mark = "**← gold**" if s.doc_id in gold else ""
        score = "-" if s.score is None else f"{s.score:.4f}"
        chunk = f" chunk {esc(s.chunk_id)}" if s.chunk_id else ""
        out.append(f"{s.rank}. `{esc(s.doc_id)}`{chunk} · score {score} {mark}"
                   + (f"<br><small>{esc(s.text[:500])}</small>" if s.text else ""))
    return out


def detail_markdown(card: ScoreCard, q: Question | None, row: QuestionRow | None,
                    recs: dict[str, ResponseRecord]) -> str:
    """One question: text, gold answer and passages, every stack's scores side by side,
    who won it against the baseline, then each stack's answer and context (gold marked)."""
    if q is None or row is None:
        return "*Select a question in the table.*"
    gold = set(q.gold_doc_ids)
    labels = [card.label(s) for s in card.stacks]
    out = [f"## {esc(q.id)}: {esc(q.question)}", "",
           f"lang **{q.lang}** · {'answerable' if q.answerable else 'unanswerable'}", "",
           f"**Gold answer(s):** {esc(' | '.join(q.answers)) or '-'}", "",
           f"**Gold passages:** {', '.join(f'`{esc(g)}`' for g in q.gold_doc_ids) or '-'}",
           ""]
    for cand in card.candidates if has_outcomes(card) else []:  # none while it runs
        out.append(f"- {esc(cand)} vs {esc(card.baseline)}: F1 winner "
                   f"**{esc(outcome_of(row, cand))}**, faster "
                   f"**{esc(row.latency_outcome.get(cand, '-'))}**")
    out += ["", "| score | " + " | ".join(_md_cell(x) for x in labels) + " |",
            "|---|" + "---|" * len(labels)]
    # Scores no stack has (retrieval on an unanswerable question) are left out.
    keys = dict.fromkeys(k for s in card.stacks for k, v in (row.scores.get(s) or {}).items()
                         if v is not None)
    for key in keys:
        out.append(f"| {key} | " + " | ".join(_score((row.scores.get(s) or {}).get(key))
                                              for s in card.stacks) + " |")
    out.append("| E2E | " + " | ".join(format_value(row.e2e.get(s), "s")
                                       for s in card.stacks) + " |")
    out.append("")
    for stack, label in zip(card.stacks, labels, strict=True):
        out += [*_stack_section(label, recs.get(stack), gold), ""]
    return "\n".join(out)
