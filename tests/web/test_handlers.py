"""The tabs' handlers called directly, on stored runs in temporary databases: three stacks
with constraints, two stacks, and a run stored before N-stack runs."""

from __future__ import annotations

import pytest

from workbench.report.choice import recommend
from workbench.report.constraints import constraints_from_manifest
from workbench.report.models import ScoreCard
from workbench.report.stored import scorecard_for_run
from workbench.report.verdict import format_diff, format_value
from workbench.store.db import Store
from workbench.store.synthetic import store_synthetic_run
from workbench.web.arena import ArenaRound, vote
from workbench.web.arena_stream import Pane
from workbench.web.common import WebConfig, esc
from workbench.web.history import compare_runs, manifest_of, runs_frame
from workbench.web.results import detail_for, load_results, table_page
from workbench.web.results_data import PAGE_SIZE, table_columns


def _card(cfg: WebConfig, run_id: str) -> ScoreCard:
    with Store(cfg.db_path) as store:
        return scorecard_for_run(store, run_id, semantic=False)


def test_results_lead_with_the_choice_then_the_leaderboard(
        three_stacks: tuple[WebConfig, str]) -> None:
    cfg, run_id = three_stacks
    view = load_results(cfg, run_id[:10])
    card = _card(cfg, run_id)
    with Store(cfg.db_path) as store:
        constraints = constraints_from_manifest(store.get_run(run_id)["manifest"])
    choice = recommend(card, constraints)
    assert view.card is not None and view.card.comparisons == card.comparisons
    assert card.stacks == ["llamacpp-cpu", "vllm-cpu", "llamacpp-cpu-qwen05"]
    # The synthetic third stack is better: it is chosen, with one reason line per stack.
    assert choice.chosen == "llamacpp-cpu-qwen05"
    assert "Choose **llamacpp-cpu-qwen05**" in view.choice
    for r in choice.ranked:
        assert f"- {esc(r.reason)}" in view.choice
    assert "`e2e.p50<=2s`" in view.choice and "`f1>=0.2`" in view.choice
    # The leaderboard: one row per stack in the choice's order, F1 against the baseline.
    # (Within an interval the spaces do not break: "[+0.078,\xa0+0.345]".)
    rows = [line.replace("\xa0", " ") for line in view.leaderboard.splitlines()
            if line.startswith("| ")][1:]
    assert [r.stack for r in choice.ranked] == [
        row.split(" | ")[1].split("<br>")[0].removesuffix(" (baseline)") for row in rows]
    for row, r in zip(rows, choice.ranked, strict=True):
        summary = card.summaries[r.stack]
        assert f" | {format_value(summary.quality['f1'], '')} | " in row
        if r.stack == card.baseline:
            assert "| baseline |" in row
        else:
            assert format_diff(card.comparison("f1", r.stack)) in row
    # Every candidate's comparisons follow, with the report's own strings.
    for cand in card.candidates:
        assert f"## {cand} vs {card.baseline}" in view.report
        c = card.comparison("f1", cand)
        assert (f"| {c.label} * | {format_value(c.baseline_value, '')} | "
                f"{format_value(c.candidate_value, '')} | {format_diff(c)} |") in view.report
    assert "## Leaderboard" not in view.report and "Definitions" not in view.report
    # Plots: one series per stack; hit@k straight from the card.
    assert set(view.e2e_cdf["stack"]) == set(card.stacks)
    assert view.e2e_cdf.groupby("stack")["share"].max().tolist() == [1.0] * 3
    hits = view.hit_k.set_index(["stack", "k"])["hit_rate"]
    for stack in card.stacks:
        assert hits[(stack, 5)] == card.summaries[stack].retrieval["hit@5"]
    assert set(view.by_lang["stack"]) == set(card.stacks)
    assert list(view.table.columns) == table_columns(card)
    assert len(view.table) == min(PAGE_SIZE, len(card.rows))


def test_table_per_candidate_and_detail_of_every_stack(
        three_stacks: tuple[WebConfig, str]) -> None:
    cfg, run_id = three_stacks
    view = load_results(cfg, run_id)
    card = view.card
    assert card is not None
    assert [v for _, v in view.candidate.choices] == card.candidates
    for cand in card.candidates:
        frame, info, page = table_page(card, cand, "candidate better", "", 1)
        assert set(frame["F1 winner"]) <= {cand} and page == 1
        wins = sum(r.outcome[cand] == cand for r in card.rows)
        assert info.startswith(f"{wins} questions")
        frame, _, _ = table_page(card, cand, "baseline better", "", 1)
        assert set(frame["F1 winner"]) <= {card.baseline}
    row = next(r for r in card.rows if r.answerable)
    text = detail_for(cfg, card, row.question_id)
    assert row.question in text and "Retrieved context" in text
    for stack in card.stacks:
        assert f"### {stack}" in text
        answer = row.answers[stack]
        if answer:
            assert esc(answer) in text
    assert f"- vllm-cpu vs llamacpp-cpu: F1 winner **{row.outcome['vllm-cpu']}**" in text
    assert table_page(card, None, "all", "no-such-text", 1)[1].startswith("0 questions")


def test_a_run_stored_before_named_stacks_opens(old_run: tuple[WebConfig, str]) -> None:
    cfg, run_id = old_run
    view = load_results(cfg, run_id)
    assert view.card is not None, view.status
    assert view.card.stacks == ["llamacpp-cpu", "vllm-cpu"]
    assert view.card.baseline == "llamacpp-cpu"
    assert "| A: llamacpp-cpu (baseline)<br>" in view.leaderboard
    assert "| B: vllm-cpu<br>" in view.leaderboard
    assert "### Recommendation" in view.choice and "vllm-cpu" in view.choice
    text = detail_for(cfg, view.card, "q1")
    assert "### A: llamacpp-cpu" in text and "### B: vllm-cpu" in text
    [listed] = runs_frame(cfg).to_dict("records")
    assert listed["stacks (baseline first)"] == "llamacpp-cpu (baseline), vllm-cpu"
    assert listed["answers"] == "40/40"


def test_unknown_run_is_a_message_not_an_exception(stored_run: tuple[WebConfig, str]) -> None:
    cfg, _ = stored_run
    view = load_results(cfg, "ZZZZ")
    assert "no run" in view.status and view.card is None


def test_vote_writes_a_row_with_the_real_stack_names(stored_run: tuple[WebConfig, str]) -> None:
    cfg, _ = stored_run
    panes = {s: Pane(stack=n, started=0.0, text=t, finished_at=1.0)
             for s, n, t in (("A", "side-a", "Paris"), ("B", "side-b", "Lyon"))}
    # Blind, with B shown on the left: "left is better" means B.
    rnd = ArenaRound(question="Capital of France?", space_id="demo-en",
                     stacks={"A": "side-a", "B": "side-b"}, left="B", blind=True,
                     gold="Paris", panes=panes)
    status, left_title, _, after = vote(cfg, "left", rnd)
    assert "Vote stored" in status and left_title == "### Left: side-b"
    assert after is not None and after.voted == "B"
    with Store(cfg.db_path) as store:
        (row,) = store.votes()
    assert (row["stack_a"], row["stack_b"], row["vote"], row["blind"]) == (
        "side-a", "side-b", "B", 1)
    assert '"token_f1": {"A": 1.0, "B": 0.0}' in row["detail_json"]
    again, *_ = vote(cfg, "tie", after)
    assert "Already voted" in again


def test_history_lists_stacks_and_compares_two_runs(three_stacks: tuple[WebConfig, str]) -> None:
    cfg, three = three_stacks
    with Store(cfg.db_path) as store:
        two = store_synthetic_run(store, 12, seed=3)
    frame = runs_frame(cfg)
    assert list(frame["id"]) == [two, three]
    assert list(frame["stacks (baseline first)"]) == [
        "llamacpp-cpu (baseline), vllm-cpu",
        "llamacpp-cpu (baseline), vllm-cpu, llamacpp-cpu-qwen05"]
    assert list(frame["answers"]) == ["24/24", "120/120"]
    assert manifest_of(cfg, three)["manifest"]["synthetic"] is True
    table = compare_runs(cfg, three, two)
    card = _card(cfg, three)
    f1 = format_value(card.summaries["llamacpp-cpu-qwen05"].quality["f1"], "")
    assert f"| 1: {three} | llamacpp-cpu-qwen05 | {f1} |" in table
    assert f"| 2: {two} | A: llamacpp-cpu (baseline) |" in table
    assert table.count(f"| 1: {three} |") == 3 and table.count(f"| 2: {two} |") == 2


@pytest.mark.parametrize(("host", "user", "password", "ok"), [
    ("127.0.0.1", None, None, True), ("localhost", None, None, True),
    ("0.0.0.0", None, None, False), ("0.0.0.0", "u", "p", True), ("127.0.0.1", "u", None, False),
])
def test_non_loopback_host_requires_auth(host: str, user: str | None, password: str | None,
                                         ok: bool) -> None:
    from workbench.web.app import AuthRequiredError, check_auth

    if ok:
        check_auth(host, user, password)
    else:
        with pytest.raises(AuthRequiredError):
            check_auth(host, user, password)


def test_cli_refuses_public_host_without_auth() -> None:
    from typer.testing import CliRunner

    from workbench.cli import _register_commands, app

    _register_commands()
    result = CliRunner().invoke(app, ["web", "--host", "0.0.0.0"], env={
        "WORKBENCH_WEB_USER": "", "WORKBENCH_WEB_PASSWORD": ""})
    assert result.exit_code == 2
    assert "--auth-user" in result.output


def test_leaderboard_shows_faithfulness_only_for_runs_that_have_it(
        three_stacks: tuple[WebConfig, str]) -> None:
    from workbench.report.models import Faithfulness, PlantedFalse
    from workbench.web.results_data import leaderboard_markdown

    cfg, run_id = three_stacks
    card = _card(cfg, run_id)
    choice = recommend(card, [])
    assert "Faithful" not in leaderboard_markdown(card, choice)
    judged = card.summaries["vllm-cpu"].model_copy(
        update={"faithfulness": Faithfulness(judged=50, mean=0.82)})
    planted = card.summaries["llamacpp-cpu"].model_copy(update={"faithfulness": Faithfulness(
        planted=PlantedFalse(repeated=3, answered=24, rate=0.125))})
    card = card.model_copy(update={"summaries": {**card.summaries, "vllm-cpu": judged,
                                                 "llamacpp-cpu": planted}})
    rows = {line.split(" | ")[1].split("<br>")[0].removesuffix(" (baseline)"): line
            for line in leaderboard_markdown(card, choice).splitlines()
            if line.startswith("| ") and "<br>" in line}
    assert leaderboard_markdown(card, choice).splitlines()[2].endswith("| Faithful |")
    assert rows["vllm-cpu"].endswith("| 0.82 (n=50) |")
    assert rows["llamacpp-cpu"].endswith("| 3/24 planted |")
    assert rows["llamacpp-cpu-qwen05"].endswith("| - |")
