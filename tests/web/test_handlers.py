"""The tabs' handlers called directly, on a stored run in a temporary database."""

from __future__ import annotations

import pytest

from workbench.report.stored import scorecard_for_run
from workbench.report.verdict import format_diff, format_value
from workbench.store.db import Store
from workbench.web.arena import ArenaRound, vote
from workbench.web.arena_stream import Pane
from workbench.web.common import WebConfig
from workbench.web.history import compare_runs, manifest_of, runs_frame
from workbench.web.results import detail_for, load_results, table_page
from workbench.web.results_data import PAGE_SIZE


def test_results_show_the_scorecard_numbers(stored_run: tuple[WebConfig, str]) -> None:
    cfg, run_id = stored_run
    view = load_results(cfg, run_id[:10])
    with Store(cfg.db_path) as store:
        card = scorecard_for_run(store, run_id, semantic=False)
    assert view.card is not None and view.card.comparisons == card.comparisons
    for key in ("f1", "hit@5", "e2e.p95", "ttft.p50"):
        c = card.comparison(key)
        row = f"| {c.label} | {format_value(c.a, c.unit)} | {format_value(c.b, c.unit)} | " \
              f"{format_diff(c)} |"
        assert row in view.report
    assert card.verdict in view.report
    # Plots: hit@k straight from the card; CDFs reach 1 on both sides.
    hits = view.hit_k.set_index(["side", "k"])["hit_rate"]
    assert hits[("A", 5)] == card.sides["A"].retrieval["hit@5"]
    assert set(view.e2e_cdf["side"]) == {"A", "B"} and view.e2e_cdf["share"].max() == 1.0
    assert len(view.table) == min(PAGE_SIZE, len(card.rows))


def test_table_filters_and_detail(stored_run: tuple[WebConfig, str]) -> None:
    cfg, run_id = stored_run
    view = load_results(cfg, run_id)
    assert view.card is not None
    frame, info, page = table_page(view.card, "B wins", "", 1)
    assert set(frame["outcome"]) <= {"B"} and page == 1
    assert info.startswith(f"{sum(r.outcome == 'B' for r in view.card.rows)} questions")
    row = view.card.rows[3]
    text = detail_for(cfg, view.card, row.question_id)
    assert row.question in text and "Retrieved context" in text
    if row.scores_a.get("hit@5"):
        assert "**← gold**" in text  # a gold passage among A's retrieved ones is marked
    assert table_page(view.card, "all", "no-such-text", 1)[1].startswith("0 questions")


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
    assert "Vote stored" in status and "side-b" in left_title
    assert after is not None and after.voted == "B"
    with Store(cfg.db_path) as store:
        (row,) = store.votes()
    assert (row["stack_a"], row["stack_b"], row["vote"], row["blind"]) == (
        "side-a", "side-b", "B", 1)
    assert '"token_f1": {"A": 1.0, "B": 0.0}' in row["detail_json"]
    again, *_ = vote(cfg, "tie", after)
    assert "Already voted" in again


def test_history_lists_and_compares(stored_run: tuple[WebConfig, str]) -> None:
    cfg, run_id = stored_run
    assert list(runs_frame(cfg)["id"]) == [run_id]
    assert manifest_of(cfg, run_id)["manifest"]["synthetic"] is True
    table = compare_runs(cfg, run_id, run_id)
    assert "| f1 |" in table and "| e2e.p95 |" in table


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
