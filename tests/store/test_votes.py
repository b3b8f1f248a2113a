"""Arena votes read back by stack name: which votes speak about a run, A/B -> names."""

from __future__ import annotations

from pathlib import Path

from tests.store.test_db import new_run
from workbench.store import Store
from workbench.store.votes import all_votes, vote_rows, votes_between, votes_of_run


def test_a_vote_maps_its_sides_to_stack_names(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    store.add_vote(question="Who?", stack_a="beta", stack_b="alpha", vote="A", blind=True,
                   detail={"left": "B", "token_f1": {"A": 1.0, "B": 0.0}})
    store.add_vote(question="Who?", stack_a="alpha", stack_b="beta", vote="tie", blind=False,
                   detail={})
    first, second = all_votes(store)
    assert (first.winner, first.loser, first.blind) == ("beta", "alpha", True)
    assert first.detail["left"] == "B"
    assert (second.winner, second.loser) == (None, None)
    row = vote_rows([first])[0]
    assert row["winner"] == "beta" and row["left"] == "B"
    assert row["token_f1"] == '{"A": 1.0, "B": 0.0}'


def test_the_votes_of_a_run_are_those_between_its_stacks(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = new_run(store)  # stacks alpha and beta
    store.add_vote(question="q", stack_a="alpha", stack_b="beta", vote="A", blind=True,
                   detail={})
    store.add_vote(question="q", stack_a="alpha", stack_b="gamma", vote="B", blind=True,
                   detail={})
    store.add_vote(question="q", stack_a="gamma", stack_b="delta", vote="A", blind=True,
                   detail={}, run_id=run_id)
    mine = votes_of_run(store, run_id)
    # The alpha-beta vote by name, the gamma-delta one by its run id; alpha-gamma is not.
    assert [(v.stack_a, v.stack_b) for v in mine] == [("alpha", "beta"), ("gamma", "delta")]
    assert votes_between(store, []) == []
    assert len(votes_between(store, ["alpha", "gamma"])) == 1


def test_a_damaged_detail_keeps_the_vote(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    store.add_vote(question="q", stack_a="a", stack_b="b", vote="B", blind=False, detail={})
    with store.conn:
        store.conn.execute("UPDATE votes SET detail_json = '{not json'")
    (vote,) = all_votes(store)
    assert vote.winner == "b" and vote.detail == {}
