"""Fixtures for launcher tests: an isolated state folder, stacks on free ports, the fake
Ollama executable on PATH, and a check that no test leaves a process behind."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from workbench.settings import Settings, get_settings
from workbench.stacks import launcher
from workbench.stacks.recipe import Stack, get_stack

FAKE_OLLAMA = Path(__file__).with_name("fake_ollama.py")


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings whose state folder is private to the test; stops whatever it started."""
    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path / "state"))
    s = get_settings()
    yield s
    launcher.down(None, s)


def port_on(host: str) -> int:
    """A port free on `host` right now (127.0.0.2 and 127.0.0.3 stand in for other machines)."""
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def stack_on_free_ports(name: str, settings: Settings) -> Stack:
    """A shipped recipe moved to free ports (never 8000/9000: other suites run alongside)."""
    return launcher.place(get_stack(name, settings.stacks_dir), free_port(), free_port())


@pytest.fixture
def fake_ollama(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the fake `ollama` (see fake_ollama.py) first on PATH; return its record folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "ollama"
    exe.write_text(
        f"#!{sys.executable}\nimport runpy, sys\n"
        f"sys.argv[0] = 'ollama'\nrunpy.run_path({str(FAKE_OLLAMA)!r}, run_name='__main__')\n"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / "fake-ollama"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_OLLAMA_DIR", str(record))
    return record


@pytest.fixture
def no_ollama(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH without any `ollama` (whatever the machine has)."""
    import shutil

    keep = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "ollama").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join(keep))
    assert shutil.which("ollama") is None
