"""A stack that finds nothing where it was asked is warned about (naming the space id it
was sent), not called a retrieval loss; a stack asked without streaming is said to have
only E2E. Real runs of the workbench CLI against the seed backend fake
(tests/fakes/seed_backend.py), which holds its documents in space "docs" only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import workbench.cli.run  # noqa: F401  (registers the command on `app`)
from tests.fakes.seed_backend import (
    seed_backend,
    seed_server,
    write_external_stack,
    write_number_evalset,
)
from workbench.cli.app import app
from workbench.report.models import ScoreCard
from workbench.report.stored import scorecard_for_run
from workbench.store import Store

cli = CliRunner()


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`found` is told the backend's space (`external.space_id: docs`); `lost` is not, so
    it is asked under the eval set's own space id, `numbers`. `lost-streamed` streams."""
    with seed_server(app=seed_backend(0.0, space="docs")) as a, \
            seed_server(app=seed_backend(0.0, space="docs")) as b:
        folder = tmp_path / "stacks"
        folder.mkdir()
        write_external_stack(folder, "found", a, space_id="docs")
        write_external_stack(folder, "lost", b)
        write_external_stack(folder, "lost-streamed", b.replace("127.0.0.1", "localhost"),
                             stream=True)
        monkeypatch.setenv("WORKBENCH_STACKS_DIR", str(folder))
        monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path / "state"))
        yield tmp_path


def card_of(tmp_path: Path, stack_names: str) -> ScoreCard:
    db = tmp_path / f"{stack_names}.db"
    done = cli.invoke(app, ["run", "--evalset", str(write_number_evalset(tmp_path / "numbers")),
                            "--stacks", stack_names, "--warmup", "0", "--no-report", "--db",
                            str(db)])
    assert done.exit_code == 0, done.output
    with Store(db) as store:
        return scorecard_for_run(store, store.list_runs()[0]["id"], semantic=False)


def test_a_stack_that_finds_nothing_is_warned_about_not_beaten(stacks: Path) -> None:
    card = card_of(stacks, "found,lost")
    assert card.summaries["found"].retrieval["hit@1"] == 1.0
    assert card.summaries["lost"].retrieval["hit@1"] == 0.0
    warning = next(w for w in card.warnings if w.startswith("lost returned"))
    assert "no sources for 3 of 3 questions (space id sent: 'numbers')" in warning
    assert "external.space_id" in warning
    # Not reported as a retrieval loss: no retrieval comparison, no "retrieves better".
    assert "retrieves better" not in card.verdict
    assert not [c for c in card.comparisons if c.section == "retrieval"]
    assert not any(w.startswith("found returned") for w in card.warnings)


def test_only_e2e_is_known_for_a_stack_asked_without_streaming(stacks: Path) -> None:
    card = card_of(stacks, "found,lost-streamed")
    notes = [n for n in card.notes if "only E2E is known" in n]
    assert [n.split(":")[0] for n in notes] == ["found"]  # the streamed one has its TTFT
    assert card.summaries["lost-streamed"].latency["ttft"].n == 3


def test_doc_ids_from_another_namespace_are_unusable_not_worse() -> None:
    """Sources whose ids match no gold passage of the run (the backend's own documents)
    count like no sources; a stack that merely retrieves the wrong gold passage does not."""
    from tests.report.synthetic import question, record
    from workbench.report.response_checks import check_responses

    qs = [question(f"q{i}") for i in range(4)]
    base = [record(q.id, "A", "gold", docs=[f"{q.id}-doc"]) for q in qs]
    foreign = [record(q.id, "B", "gold", docs=["handbook_1a2b3c4d"]) for q in qs]
    wrong = [record(q.id, "C", "gold", docs=["q0-doc"]) for q in qs]  # a gold id, wrong one
    checks = check_responses(qs, base + foreign + wrong, ["stack-a", "stack-b", "stack-c"],
                             {"space_ids": {"stack-b": "xquad_en"}})
    assert list(checks.unusable_retrieval) == ["stack-b"]
    assert ("only doc ids that match no gold passage for 4 of 4 questions (space id sent: "
            "'xquad_en')") in checks.warnings[0]
    assert checks.notes == []  # every answer here was streamed
