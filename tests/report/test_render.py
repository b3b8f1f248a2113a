"""Rendering a scorecard as rich tables, Markdown and JSON."""

from __future__ import annotations

import json

from rich.console import Console

from tests.report.synthetic import question, record
from workbench.report import (
    build_scorecard,
    recommend,
    render_json,
    render_markdown,
    render_rich,
)
from workbench.report.models import ScoreCard


def _card() -> ScoreCard:
    questions, records = [], []
    for i in range(40):
        q = question(f"q{i}", [f"gold {i}"])
        questions.append(q)
        records.append(record(q.id, "A", f"gold {i}", ttft=0.3, docs=[f"q{i}-doc"]))
        records.append(record(q.id, "B", f"gold {i}", ttft=0.1, docs=[f"q{i}-doc"]))
    return build_scorecard(questions, records, semantic=False, manifest=None)


def test_markdown_has_every_section_and_the_footer() -> None:
    card = _card()
    choice = recommend(card)
    md = render_markdown(card, choice)
    assert md.index("**Choice:** choose stack-b") < md.index("## Leaderboard")
    assert f"**Verdict:** {card.verdict}" in md
    for heading in ("## Leaderboard", "## stack-b vs stack-a", "### Answer quality",
                    "### Retrieval", "### Latency", "## Warnings", "## Notes",
                    "## Definitions"):
        assert heading in md
    assert ("| Metric | stack-a | stack-b | stack-b vs stack-a [95% CI] | p | Verdict |"
            in md)
    assert ("| E2E (paired median ratio) * | 480 ms | 280 ms | -42% [-42%, -42%] | "
            "<1e-4 (Holm) | stack-b is faster |") in md
    # Every F1 is 0/1 here (all right): the difference is Newcombe's paired interval, which
    # is not the zero-width interval a bootstrap of 40 equal pairs gives.
    assert "| Token F1 * | 1.000 | 1.000 | +0.000 [-0.088, +0.088] |" in md
    assert "| E2E | stack-a | 40 | 480 ms | 480 ms | 480 ms | 480 ms | 480 ms |" in md
    # Statistically tied on F1 (the same answers): "=" beside the rank, as on the web.
    assert "| 1= | B: stack-b | llamacpp m | 1.000 | +0.000 [-0.088, +0.088] | 280 ms |" in md
    assert "Holm-corrected across candidates" in md
    assert "TPOT = (E2E - TTFT) / (N - 1)" in md and "2000 resamples" in md
    assert "no run manifest" in md


def test_rich_tables_render() -> None:
    console = Console(record=True, width=200)
    card = _card()
    console.print(render_rich(card, recommend(card)))
    text = console.export_text()
    for needle in ("Choice", "choose stack-b", "Leaderboard", "Answer quality", "Retrieval",
                   "Latency", "TTFT (paired median ratio)", "stack-b vs stack-a [95% CI]",
                   "stack-b is faster", "Definitions:", "McNemar"):
        assert needle in text


def test_json_is_the_model_dump() -> None:
    card = _card()
    data = json.loads(render_json(card))
    assert data["verdict"] == card.verdict
    assert {c["key"] for c in data["comparisons"]} >= {"f1", "e2e.ratio", "error_rate"}


def test_votes_sit_beside_f1_after_the_leaderboard() -> None:
    from workbench.report.votes import summarize_votes
    from workbench.store.votes import Vote

    card = _card()
    votes = [Vote(id=str(i), run_id=None, question=f"Question q{i}?", stack_a="stack-a",
                  stack_b="stack-b", vote="B" if i % 3 else "tie", blind=True, detail={},
                  datetime_utc="") for i in range(12)]
    summary = summarize_votes(votes, card.stacks, card, resamples=200)
    md = render_markdown(card, recommend(card), summary)
    assert md.index("## Leaderboard") < md.index("## Human votes (arena)") \
        < md.index("## stack-b vs stack-a")
    assert "| Stack | F1 | Vote rating [95% CI] | W-T-L | Votes |" in md
    top = summary.ratings[0]
    assert top.stack == "stack-b" and (top.wins, top.ties, top.losses) == (8, 4, 0)
    assert f"| stack-b | 1.000 | {top.rating:.0f} [" in md
    assert "stack-a vs stack-b: stack-a better 0, stack-b better 8, tie 4, both bad 0" in md
    # Every answer has F1 1.0 on both stacks: no vote can agree or disagree with F1.
    assert "- No decisive vote to compare with token F1; 8 with equal token F1 left out." in md
    assert "- No LLM judge scores for this run" in md
    console = Console(width=132, record=True)
    console.print(render_rich(card, recommend(card), summary))
    text = console.export_text()
    assert "Human votes (arena): Bradley-Terry rating beside F1" in text
    assert "8-4-0" in text


def test_no_votes_says_where_they_come_from() -> None:
    from workbench.report.votes import summarize_votes

    card = _card()
    md = render_markdown(card, None, summarize_votes([], card.stacks, card))
    assert "No arena votes between this run's stacks yet" in md
    assert "Vote rating" not in md
