"""Small fault injectors: each does one thing to a real process or a real file.

Servers here are started in their own session (`start_new_session=True`), so a process
group id equals the leader's pid and signalling the group reaches every child (a server
that forks workers would otherwise keep answering).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


class FaultUnavailable(RuntimeError):
    """This fault cannot be injected here (e.g. mounting needs privileges); says why."""


def kill_group(pgid: int) -> None:
    """SIGKILL a whole process group: no clean-up, no goodbye, like an OOM kill."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def freeze_group(pgid: int) -> None:
    """SIGSTOP a process group: it keeps its sockets open but answers nothing."""
    os.killpg(pgid, signal.SIGSTOP)


def thaw_group(pgid: int) -> None:
    """SIGCONT a frozen process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGCONT)


@contextlib.contextmanager
def frozen(pgid: int) -> Iterator[None]:
    """A process group stopped for the duration of the block (always continued after)."""
    freeze_group(pgid)
    try:
        yield
    finally:
        thaw_group(pgid)


@contextlib.contextmanager
def read_only_file(path: Path) -> Iterator[None]:
    """`path` cannot be written for the duration of the block.

    chmod 0444 is enough for an ordinary user; root ignores file modes, so as root the
    file is also made immutable (`chattr +i`, ext4/xfs/tmpfs), which binds root too.
    """
    mode = path.stat().st_mode
    path.chmod(0o444)
    immutable = False
    try:
        if os.geteuid() == 0:
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True,
                                  check=False)
            if done.returncode != 0:
                raise FaultUnavailable(
                    f"running as root and `chattr +i {path}` failed ({done.stderr.strip()}): "
                    "root ignores file modes, so the file cannot be made read-only"
                )
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)
        path.chmod(mode)


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder` (root with CAP_SYS_ADMIN only)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise FaultUnavailable(f"cannot mount a {size} tmpfs on {folder}: "
                               f"{done.stderr.strip() or 'mount failed'}")
    try:
        yield folder
    finally:
        for _ in range(20):
            if subprocess.run(["umount", str(folder)], capture_output=True,
                              check=False).returncode == 0:
                break
            time.sleep(0.25)
        else:  # still busy: detach it now, the kernel frees it when the last file closes
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def fill(folder: Path, leave_bytes: int = 0) -> Path:
    """Fill the file system under `folder` until at most `leave_bytes` are free."""
    filler = folder / "filler.bin"
    with filler.open("wb") as out:
        chunk = b"\0" * 4096
        try:
            while os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize > leave_bytes:
                out.write(chunk)
                out.flush()
        except OSError:
            pass  # ENOSPC: full, as wanted
    return filler
