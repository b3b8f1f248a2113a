"""The record of the stacks `up` started (started.json, the baseline first), the A/B names a
two-stack run is shown with, and the record an earlier version wrote (sides.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import workbench.cli.stacks  # noqa: F401  (registers the commands on `app`)
from workbench.cli.app import app
from workbench.settings import Settings
from workbench.stacks.state import (
    LEGACY_SIDES_FILE,
    STARTED_FILE,
    display_alias,
    load_started,
    save_started,
)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path / "state"))
    return Settings(state_dir=tmp_path / "state")


def test_started_in_order_and_the_two_stack_aliases(settings: Settings) -> None:
    assert load_started(settings) == []
    save_started(["llamacpp-cpu", "vllm-cpu", "llamacpp-cpu-qwen05"], settings)
    started = load_started(settings)
    assert started == ["llamacpp-cpu", "vllm-cpu", "llamacpp-cpu-qwen05"]
    assert [display_alias(n, started) for n in started] == ["A", "B", None]
    # A stopped stack leaves its place empty: the other keeps its alias.
    save_started([None, "vllm-cpu"], settings)
    assert display_alias("vllm-cpu", load_started(settings)) == "B"
    assert display_alias("llamacpp-cpu", load_started(settings)) is None


def test_an_earlier_versions_sides_json_still_loads(settings: Settings) -> None:
    folder = settings.state_dir
    folder.mkdir(parents=True)
    (folder / LEGACY_SIDES_FILE).write_text(json.dumps({"a": "ollama-cpu", "b": None}))
    assert load_started(settings) == ["ollama-cpu", None]
    assert display_alias("ollama-cpu", load_started(settings)) == "A"
    # The next record is the new file; the old one goes, so it cannot come back stale.
    save_started(["llamacpp-cpu", "vllm-cpu"], settings)
    assert not (folder / LEGACY_SIDES_FILE).exists()
    assert json.loads((folder / STARTED_FILE).read_text()) == {
        "stacks": ["llamacpp-cpu", "vllm-cpu"]}


def test_started_command_and_its_old_name(settings: Settings) -> None:
    runner = CliRunner()
    none = runner.invoke(app, ["started"])
    assert none.exit_code == 1 and "no two stacks recorded" in none.output
    folder = settings.state_dir
    folder.mkdir(parents=True)
    (folder / LEGACY_SIDES_FILE).write_text(json.dumps({"a": "ollama-cpu", "b": "vllm-cpu"}))
    gone = runner.invoke(app, ["started"])  # recorded by an earlier version, not running
    assert gone.exit_code == 1 and "'ollama-cpu' is not running" in gone.output
    old = runner.invoke(app, ["sides"])  # the old command name still works, and says so
    assert old.exit_code == 1 and "`workbench sides` is now `workbench started`" in old.output
    assert "'ollama-cpu' is not running" in old.output
