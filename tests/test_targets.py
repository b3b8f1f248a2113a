"""Which targets are remote, and when traffic may go to them."""

from __future__ import annotations

import pytest

from workbench.stacks.recipe import ExternalAPI, Ports, Stack
from workbench.targets import (
    REMOTE_HOSTS_ENV,
    RemoteTargetError,
    check_routes,
    is_remote,
    recipe_allows,
    route,
    stack_routes,
)


def test_only_this_machines_loopback_is_local() -> None:
    for url in ("http://127.0.0.1:8000", "http://localhost:1/v1", "http://[::1]:9"):
        assert not is_remote(url), url
    # 127.0.0.2/3 stand in for other machines: they count as remote on purpose.
    for url in ("http://127.0.0.2:8000", "https://gpu-box:8000", "http://10.0.0.5:80"):
        assert is_remote(url), url


def test_remote_needs_consent_and_the_error_names_stack_and_url() -> None:
    r = route("ext", "backend", "http://127.0.0.2:8080")
    with pytest.raises(RemoteTargetError, match=r"ext: backend http://127.0.0.2:8080 .*"
                                                r"--allow-remote"):
        check_routes([r], False)
    with pytest.raises(RemoteTargetError):
        check_routes([r], {"other"})
    assert check_routes([r], {"ext"}) == [r]
    assert check_routes([r], True) == [r]
    assert check_routes([route("a", "rag", "http://127.0.0.1:1")], False)[0].remote is False


def test_permitted_hosts_bind_even_with_consent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REMOTE_HOSTS_ENV, "127.0.0.2,127.0.0.3")
    with pytest.raises(RemoteTargetError, match=r"127\.0\.0\.4 is not in WORKBENCH_REMOTE_HOSTS"):
        check_routes([route("x", "engine", "http://127.0.0.4:1/v1")], True)
    check_routes([route("x", "engine", "http://127.0.0.3:1/v1")], True)


def test_stack_routes_name_the_backend_or_rag_and_a_remote_engine() -> None:
    ext = Stack(name="ext", engine="external", launch="none", ports=Ports(rag=8080),
                external=ExternalAPI(url="http://127.0.0.2:8080"))
    assert [(r.part, r.url, r.remote) for r in stack_routes(ext)] == [
        ("backend", "http://127.0.0.2:8080", True)]
    hosted = Stack(name="hosted", engine="openai", launch="none", ports=Ports(rag=8100),
                   engine_url="http://127.0.0.3:9000/v1", model={"name": "m"})
    assert [(r.part, r.remote) for r in stack_routes(hosted)] == [("rag", False),
                                                                  ("engine", True)]
    assert recipe_allows([ext, hosted]) == set()
    assert route("ext", "backend", ext.rag_url).describe() == (
        "ext backend -> http://127.0.0.2:8080 (remote)")
