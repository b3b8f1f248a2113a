"""The Results tab's data: the scorecard (the one code path, `scorecard_for_run`), the
per-question table with its filters and pages, and one question's full detail.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from workbench.evalsets.model import Question
from workbench.report.models import QuestionRow, ScoreCard
from workbench.report.render import render_markdown
from workbench.report.verdict import format_value
from workbench.runner.records import ResponseRecord
from workbench.store.db import Store
from workbench.web.common import esc

FILTERS = {"all": None, "A wins": "A", "B wins": "B", "ties": "tie", "errors": "error",
           "unpaired": "unpaired"}
PAGE_SIZE = 50
COLUMNS = ["question id", "outcome", "lang", "answerable", "F1 A", "F1 B", "E2E A", "E2E B",
           "question"]


def scorecard_markdown(card: ScoreCard) -> tuple[str, str]:
    """(the report, its definitions footer): exactly `workbench report --format markdown`."""
    text = render_markdown(card)
    head, sep, tail = text.partition("\n## Definitions\n")
    return head, (sep + tail).strip()


def filtered(card: ScoreCard, which: str, search: str = "") -> list[QuestionRow]:
    """Rows whose F1 outcome matches the filter and whose id or text contains `search`."""
    outcome = FILTERS.get(which)
    needle = search.strip().lower()
    return [r for r in card.rows
            if (outcome is None or r.outcome == outcome)
            and (not needle or needle in r.question.lower() or needle in r.question_id.lower())]


def _score(value: float | None) -> str:
    return format_value(value, "")


def page_frame(rows: list[QuestionRow], page: int) -> tuple[pd.DataFrame, int, int]:
    """One page of the table; returns (frame, page actually shown, number of pages)."""
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(max(1, page), pages)
    chunk = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    data = [[r.question_id, r.outcome, r.lang, "yes" if r.answerable else "no",
             _score(r.scores_a.get("f1")), _score(r.scores_b.get("f1")),
             format_value(r.e2e_a, "s"), format_value(r.e2e_b, "s"), r.question[:120]]
            for r in chunk]
    return pd.DataFrame(data, columns=COLUMNS), page, pages


def question_of(store: Store, run_id: str, question_id: str) -> Question | None:
    """One stored question of a run (without loading all of them)."""
    r = store.conn.execute("SELECT * FROM questions WHERE run_id = ? AND id = ?",
                           (run_id, question_id)).fetchone()
    if r is None:
        return None
    return Question(id=r["id"], question=r["question"], answers=json.loads(r["answers_json"]),
                    gold_doc_ids=json.loads(r["gold_doc_ids_json"]),
                    answerable=bool(r["answerable"]), lang=r["lang"])


def responses_of(store: Store, run_id: str, question_id: str) -> dict[str, ResponseRecord]:
    """The latest response of each side to one question."""
    rows = store.conn.execute(
        "SELECT side, record_json FROM responses WHERE run_id = ? AND question_id = ?"
        " ORDER BY attempt", (run_id, question_id)).fetchall()
    return {r[0]: ResponseRecord.model_validate_json(r[1]) for r in rows}


def _side(side: str, stack: str, rec: ResponseRecord | None, gold: set[str]) -> list[str]:
    out = [f"### {side}: {esc(stack)}"]
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
    """One question: text, gold answer and passages, both answers and contexts (gold
    passages marked), and every score of both sides."""
    if q is None or row is None:
        return "*Select a question in the table.*"
    gold = set(q.gold_doc_ids)
    out = [f"## {esc(q.id)}: {esc(q.question)}", "",
           f"lang **{q.lang}** · {'answerable' if q.answerable else 'unanswerable'} · "
           f"F1 outcome **{row.outcome}** · faster **{row.latency_outcome}**", "",
           f"**Gold answer(s):** {esc(' | '.join(q.answers)) or '-'}", "",
           f"**Gold passages:** {', '.join(f'`{esc(g)}`' for g in q.gold_doc_ids) or '-'}",
           "", "| score | A | B |", "|---|---|---|"]
    for key in dict.fromkeys([*row.scores_a, *row.scores_b]):
        out.append(f"| {key} | {_score(row.scores_a.get(key))} | "
                   f"{_score(row.scores_b.get(key))} |")
    out.append(f"| E2E | {format_value(row.e2e_a, 's')} | {format_value(row.e2e_b, 's')} |")
    out.append("")
    for side in ("A", "B"):
        out += [*_side(side, card.stacks.get(side, ""), recs.get(side), gold), ""]
    return "\n".join(out)
