"""Where a run's or a load bench's traffic goes, and whether it may go there.

A target on this machine (`127.0.0.1`, `localhost`, `::1`) is always allowed. Any other host
is remote: the runner and the load bench send it traffic only when the user said so
(`--allow-remote`, or `allow_remote: true` in the stack's recipe), and they print every
route before the first request. Other loopback addresses (`127.0.0.2`, `127.0.0.3`) count
as remote on purpose: tests and the chaos lab stand remote hosts in with them, so the rule
is exercised without leaving the machine.

`WORKBENCH_REMOTE_HOSTS` (comma-separated hosts) narrows which remote hosts may be targets
at all, even when allowed; the test suite and the chaos lab set it to `127.0.0.2,127.0.0.3`
so nothing else can ever be a target there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from workbench.stacks.recipe import Stack

#: Hosts that are this machine: never remote.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Environment variable: the only remote hosts a target may name (unset: any).
REMOTE_HOSTS_ENV = "WORKBENCH_REMOTE_HOSTS"


class RemoteTargetError(ValueError):
    """A target is remote and was not allowed (or is outside `WORKBENCH_REMOTE_HOSTS`)."""


def host_of(url: str) -> str:
    """The host a URL names (lower case, no brackets); '' when it names none."""
    return (urlsplit(url).hostname or "").lower()


def is_remote(url: str) -> bool:
    """True when `url` names a host other than this machine's loopback (127.0.0.1)."""
    return host_of(url) not in LOCAL_HOSTS


def permitted_remote_hosts() -> set[str] | None:
    """The hosts `WORKBENCH_REMOTE_HOSTS` lists, or None when it is unset (any host)."""
    raw = os.environ.get(REMOTE_HOSTS_ENV, "").strip()
    if not raw:
        return None
    return {h.strip().lower().strip("[]") for h in raw.split(",") if h.strip()}


@dataclass(frozen=True)
class Route:
    """One place traffic goes: who sends it (a stack's name and what part: `rag`, `engine`,
    `backend`), the URL, and whether that is another machine."""

    stack: str
    part: str
    url: str
    remote: bool

    def describe(self) -> str:
        """"vllm-gpu engine -> http://gpu-box:8000/v1 (remote)"."""
        where = "remote" if self.remote else "this machine"
        return f"{self.stack} {self.part} -> {self.url} ({where})"


def route(stack: str, part: str, url: str) -> Route:
    """A route to `url` for `stack`'s `part`."""
    return Route(stack=stack, part=part, url=url, remote=is_remote(url))


def stack_routes(stack: Stack, *, engine: bool = True) -> list[Route]:
    """Where asking `stack` sends traffic: its RAG API (or an external backend), and its
    engine when that runs elsewhere (`engine_url`: the stack's RAG service calls it)."""
    if stack.is_external:
        return [route(stack.name, "backend", stack.rag_url)]
    out = [route(stack.name, "rag", stack.rag_url)]
    if engine and stack.engine_url and stack.engine_base_url:
        out.append(route(stack.name, "engine", stack.engine_base_url))
    return out


def recipe_allows(stacks: Iterable[Stack]) -> set[str]:
    """The stacks whose recipes say `allow_remote: true`."""
    # getattr: recipes of runs stored before the field existed have none.
    return {s.name for s in stacks if bool(getattr(s, "allow_remote", False))}


def check_routes(routes: Iterable[Route], allowed: set[str] | bool, *,
                 flag: str = "--allow-remote") -> list[Route]:
    """Refuse remote routes not allowed; returns the routes as given.

    `allowed` is True (every stack may go remote: the command-line flag), False, or the
    names of stacks whose recipes say `allow_remote: true`. The error names the stack, the
    URL and how to allow it.
    """
    out = list(routes)
    permitted = permitted_remote_hosts()
    for r in out:
        if not r.remote:
            continue
        ok = allowed is True or (isinstance(allowed, set) and r.stack in allowed)
        if not ok:
            raise RemoteTargetError(
                f"{r.stack}: {r.part} {r.url} is not on this machine (not 127.0.0.1); "
                f"traffic goes there only with {flag} (or `allow_remote: true` in the "
                "stack's recipe)"
            )
        host = host_of(r.url)
        if permitted is not None and host not in permitted:
            raise RemoteTargetError(
                f"{r.stack}: {r.part} {r.url}: host {host} is not in {REMOTE_HOSTS_ENV} "
                f"({', '.join(sorted(permitted))}); it may not be a target here"
            )
    return out
