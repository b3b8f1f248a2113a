"""`workbench bench` argument checks (no engine needed) and the report of a stored bench."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import _register_commands, app
from workbench.load.capacity import trivial_server


def _bench(*args: str) -> tuple[int, str]:
    _register_commands()
    result = CliRunner().invoke(app, ["bench", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(("args", "message"), [
    ((), "give --stacks A,B"),
    (("--url", "http://127.0.0.1:1/v1"), "--url needs --model"),
    (("--url", "http://127.0.0.1:1/v1", "--model", "m"), "choose the prompts"),
    (("--stacks", "a", "--target", "gpu", "--input-len", "8"), "unknown target"),
    (("--url", "http://127.0.0.1:1/v1", "--model", "m", "--input-len", "8", "--slo", "x=1"),
     "bad SLO"),
    (("--url", "http://127.0.0.1:1/v1", "--model", "m", "--input-len", "8",
      "--burstiness", "0.5"), "needs --rate"),
    (("--url", "http://10.1.2.3:80/v1", "--model", "m", "--input-len", "8"), "127.0.0.1"),
    (("--stacks", "no-such-stack", "--input-len", "8"), "is not running"),
])
def test_readable_errors(args: tuple[str, ...], message: str, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path / "state"))
    code, out = _bench(*args, "--db", str(tmp_path / "wb.db"))
    assert code == 2 and message in out, out


def test_a_remote_target_needs_allow_remote(tmp_path: Path) -> None:
    args = ("--url", "http://127.0.0.2:9/v1", "--model", "m", "--input-len", "8", "--db",
            str(tmp_path / "wb.db"))
    code, out = _bench(*args)
    assert code == 2 and "url: engine http://127.0.0.2:9/v1" in out and "--allow-remote" in out
    # Allowed, a host the tests do not permit (WORKBENCH_REMOTE_HOSTS) is still refused.
    code, out = _bench("--url", "http://127.0.0.9:9/v1", "--model", "m", "--input-len", "8",
                       "--allow-remote", "--db", str(tmp_path / "wb.db"))
    assert code == 2 and "127.0.0.9 is not in WORKBENCH_REMOTE_HOSTS" in out, out


def test_allow_remote_loads_a_remote_endpoint_and_says_so(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    with trivial_server(host="127.0.0.2") as url:
        code, out = _bench("--url", url, "--model", "trivial", "--input-len", "8",
                           "--concurrency", "1", "--requests", "3", "--warmup", "0",
                           "--allow-remote", "--json", "--db", str(tmp_path / "wb.db"))
    assert code == 0, out
    assert f"traffic: url engine -> {url} (remote)" in out
    table = json.loads(out[out.index("{"):])
    assert table["rows"][0]["by_stack"]["url"]["completed"] == 3
    assert table["config"]["traffic"] == [f"url engine -> {url} (remote)"]


def test_report_of_unknown_bench(tmp_path: Path) -> None:
    code, out = _bench("--report", "nope", "--db", str(tmp_path / "wb.db"))
    assert code == 2 and "no load benchmark 'nope'" in out
