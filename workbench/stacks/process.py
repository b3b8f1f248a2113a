"""Process groups, ports and health polling: the engine-agnostic mechanics of launching.

Every server is started in its own session (`start_new_session=True`) so that stopping it
means signalling the whole process group: vLLM forks an engine core process and a wrapper
may fork its server, and killing only the parent would leave the children holding the
port. Nothing here runs through a shell.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import psutil

# Children started by this Python process, by pid: they must be reaped by us (waitpid),
# or a stopped server lingers as a zombie that still looks alive to psutil.
_children: dict[int, subprocess.Popen[bytes]] = {}
# Exit statuses of reaped children, by pid (cleared when a new child gets the same pid).
_exit_status: dict[int, int] = {}


class LaunchError(RuntimeError):
    """A stack could not be started or stopped; the message says what and why."""


class NotReadyInTimeError(LaunchError):
    """A server was still starting (alive, not yet healthy) when its time was up: slow,
    which on a busy host says little about the setting it ran."""


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on (or holds) `host:port`."""
    with socket.socket() as s:
        # As servers do: connections in TIME_WAIT from a stopped server do not block a bind.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, for tests, benches and the chaos lab (the
    kernel picks; never one of the default stacks' 8000/8001/9000/9001 by luck)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in (8000, 8001, 9000, 9001):
            return port


def spawn(argv: Sequence[str], env: Mapping[str, str], log: Path, cwd: Path | None = None) -> int:
    """Start `argv` in a new session with stdout+stderr appended to `log`; return its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **env}
    with log.open("ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} start: {list(argv)}\n".encode())
        out.flush()
        try:
            proc = subprocess.Popen(
                list(argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=full_env,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise LaunchError(f"cannot run {list(argv)}: {exc}") from exc
    _children[proc.pid] = proc
    _exit_status.pop(proc.pid, None)
    return proc.pid


def run_once(argv: Sequence[str], env: Mapping[str, str], log: Path, timeout: float) -> None:
    """Run a short command to completion, logging it; raise with its output on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} run: {list(argv)}\n".encode())
        out.flush()
        try:
            done = subprocess.run(
                list(argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **env},
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LaunchError(f"command {list(argv)} failed: {exc}") from exc
    if done.returncode != 0:
        raise LaunchError(
            f"command {list(argv)} exited with {done.returncode}; last log lines of {log}:\n"
            + tail(log, 20)
        )


def _reap(pid: int) -> None:
    proc = _children.get(pid)
    if proc is not None and (code := proc.poll()) is not None:
        del _children[pid]
        _exit_status[pid] = code


def exit_status(pid: int) -> int | None:
    """How a child `spawn` started ended (`-N`: killed by signal N); None while it runs or
    when it was not ours."""
    _reap(pid)
    return _exit_status.get(pid)


def alive(pid: int, create_time: float | None = None) -> bool:
    """Whether `pid` runs (not a zombie) and, when given, was created at `create_time`.

    The create time guards against pid reuse: a recorded pid may now be someone else's.
    """
    _reap(pid)
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return create_time is None or abs(proc.create_time() - create_time) < 1.0
    except psutil.Error:
        return False


def create_time(pid: int) -> float | None:
    """The process's start time (seconds since the epoch), or None when it is gone."""
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def stop_group(pid: int, grace_s: float = 10.0, create_time: float | None = None) -> None:
    """SIGTERM the process group led by `pid`, wait up to `grace_s`, then SIGKILL it."""
    if not alive(pid, create_time):
        _reap(pid)
        return
    members = _group_members(pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not any(alive(p) for p in members):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    # A child that left the group (setsid) is still ours: kill it by pid.
    for p in members:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(p, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(p) for p in members):
        time.sleep(0.05)


def _group_members(pid: int) -> list[int]:
    """The leader and every descendant (by tree, which also catches group leavers)."""
    try:
        leader = psutil.Process(pid)
        return [pid, *(c.pid for c in leader.children(recursive=True))]
    except psutil.Error:
        return [pid]


def tree_rss_mib(pid: int) -> float | None:
    """Resident memory of a process and all its descendants, in MiB."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total / (1 << 20)


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a log file ('' when it does not exist)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether GET `url` answers 200."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def wait_healthy(
    url: str,
    pid: int,
    timeout_s: float,
    what: str,
    argv: Sequence[str],
    log: Path,
    ready: Callable[[], bool] | None = None,
) -> None:
    """Poll `url` until it answers 200 (and `ready()` holds); fail fast if `pid` dies."""
    deadline = time.monotonic() + timeout_s
    while True:
        if not alive(pid):
            raise LaunchError(
                f"{what} exited before it was healthy.\ncommand: {list(argv)}\n"
                f"last lines of {log}:\n{tail(log)}"
            )
        if http_ok(url) and (ready is None or ready()):
            return
        if time.monotonic() > deadline:
            raise NotReadyInTimeError(
                f"{what} not healthy at {url} within {timeout_s:.0f} s.\n"
                f"command: {list(argv)}\nlast lines of {log}:\n{tail(log)}"
            )
        time.sleep(0.5)


@dataclass
class Server:
    """A server process group we start, and may start again on the same port (the chaos
    lab restarts what it kills): its command, where it answers, and its current pid.

    Built on `spawn`, `wait_healthy` and `stop_group`, so every server the workbench starts
    (a stack's RAG service, a bench's or a test's) runs in its own session, fails fast
    with its log's tail, and is stopped as a whole group. A context manager.
    """

    name: str
    argv: list[str]
    health_url: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    #: Default seconds to wait for the first 200 from `health_url`.
    timeout_s: float = 180.0
    #: Default seconds between SIGTERM and SIGKILL.
    grace_s: float = 10.0
    pid: int = 0

    def start(self, timeout_s: float | None = None,
              on_spawn: Callable[[int], object] | None = None) -> None:
        """Start it and wait until healthy; `on_spawn(pid)` runs before the wait (the
        launcher records the pid there, so an interrupted start can still be cleaned up).
        A server that never becomes healthy is stopped before the error is raised."""
        self.pid = spawn(self.argv, self.env, self.log)
        try:
            if on_spawn is not None:
                on_spawn(self.pid)
            self.wait_healthy(timeout_s)
        except BaseException:
            self.stop()
            raise

    def wait_healthy(self, timeout_s: float | None = None) -> None:
        """Poll `health_url` until 200; LaunchError with the log's tail if the process dies
        or the time runs out."""
        wait_healthy(self.health_url, self.pid, self.timeout_s if timeout_s is None
                     else timeout_s, self.name, self.argv, self.log)

    @property
    def running(self) -> bool:
        """The process was started and has not ended."""
        return self.pid > 0 and alive(self.pid)

    def stop(self, grace_s: float | None = None) -> int | None:
        """Stop the group (SIGTERM, SIGKILL after `grace_s`, else `self.grace_s`); returns
        the leader's exit status when known. A frozen (SIGSTOPped) group is continued
        first: stopped processes do not act on SIGTERM until they run again."""
        if self.pid <= 0:
            return None
        if alive(self.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGCONT)
            stop_group(self.pid, grace_s=self.grace_s if grace_s is None else grace_s)
        # stop_group returns once psutil sees no live member, which can be a moment before
        # the leader's exit is collectable: wait for it, so the status is never lost (a CI
        # run once saw None here after a clean SIGTERM).
        proc = _children.get(self.pid)
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        return exit_status(self.pid)

    def restart(self, timeout_s: float | None = None) -> None:
        """Stop it (if it still runs) and start it again with the same command and port."""
        self.stop()
        self.start(timeout_s)

    def reap(self, timeout_s: float = 10.0) -> None:
        """Wait until a process killed from outside has ended (its exit status collected,
        so no zombie is left that still looks alive)."""
        deadline = time.monotonic() + timeout_s
        while self.pid > 0 and alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def __enter__(self) -> Server:
        if not self.running:
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
