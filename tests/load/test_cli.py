"""`workbench bench` argument checks (no engine needed) and the report of a stored bench."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import _register_commands, app


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


def test_report_of_unknown_bench(tmp_path: Path) -> None:
    code, out = _bench("--report", "nope", "--db", str(tmp_path / "wb.db"))
    assert code == 2 and "no load benchmark 'nope'" in out
