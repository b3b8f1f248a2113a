"""A run reaches another machine only when told to, and says where its traffic goes.

The "other machines" are the seed backend fake (tests/fakes/seed_backend.py) served on the
loopback aliases 127.0.0.2 and 127.0.0.3, which the workbench counts as remote; the tests'
WORKBENCH_REMOTE_HOSTS (tests/conftest.py) forbids every other remote host.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import workbench.cli.run  # noqa: F401  (registers the command on `app`)
from tests.fakes.seed_backend import seed_server, write_external_stack, write_number_evalset
from workbench.cli.app import app
from workbench.store import Store

cli = CliRunner()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with seed_server() as local, seed_server(host="127.0.0.2") as remote:
        stacks = tmp_path / "stacks"
        stacks.mkdir()
        write_external_stack(stacks, "here", local)
        write_external_stack(stacks, "there", remote)
        monkeypatch.setenv("WORKBENCH_STACKS_DIR", str(stacks))
        monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path / "state"))
        monkeypatch.setenv("COLUMNS", "200")  # no wrapped lines in what is matched
        yield tmp_path


def run(workspace: Path, *extra: str) -> tuple[int, str]:
    args = ["run", "--evalset", str(write_number_evalset(workspace / "es")),
            "--stacks", "here,there", "--warmup", "0", "--no-report", "--db",
            str(workspace / "r.db"), *extra]
    result = cli.invoke(app, args)
    return result.exit_code, result.output


def test_a_remote_stack_is_refused_without_allow_remote(workspace: Path) -> None:
    code, out = run(workspace)
    assert code != 0
    assert "there: backend http://127.0.0.2:" in out and "--allow-remote" in out
    with Store(workspace / "r.db") as store:
        assert store.list_runs() == []  # refused before anything was recorded


def test_allow_remote_runs_and_prints_every_route(workspace: Path) -> None:
    code, out = run(workspace, "--allow-remote")
    assert code == 0, out
    assert "traffic: here backend -> http://127.0.0.1:" in out
    assert "(this machine)" in out
    assert "traffic: there backend -> http://127.0.0.2:" in out and "(remote)" in out
    with Store(workspace / "r.db") as store:
        run_id = store.list_runs()[0]["id"]
        manifest = store.get_run(run_id)["manifest"]
        remote = [t for t in manifest["traffic"] if t["remote"]]
        assert [t["stack"] for t in remote] == ["there"]
        assert len(store.responses(run_id)) == 6
    # Resuming a run that was allowed its remote URL needs no flag again.
    done = cli.invoke(app, ["run", "--resume", run_id, "--no-report", "--db",
                            str(workspace / "r.db")])
    assert done.exit_code == 0, done.output


def test_recipe_allow_remote_is_consent_for_that_stack(workspace: Path) -> None:
    stacks = workspace / "stacks"
    recipe = stacks / "there.yaml"
    url = next(ln.split("url: ")[1] for ln in recipe.read_text().splitlines()
               if "url: " in ln)
    write_external_stack(stacks, "there", url.strip(), extra="allow_remote: true\n")
    code, out = run(workspace)
    assert code == 0, out
    assert "(remote)" in out


def test_a_host_outside_the_permitted_ones_is_never_a_target(workspace: Path) -> None:
    write_external_stack(workspace / "stacks", "there", "http://127.0.0.9:8080")
    code, out = run(workspace, "--allow-remote")
    assert code != 0
    assert "127.0.0.9 is not in WORKBENCH_REMOTE_HOSTS" in out
