"""A space id names a folder under `spaces/`: `.`, `..` and dot names are refused (422).

`_space_dir("..")` would be the service's data folder itself, so every request that takes a
space id (index, ask, ask/stream, search) refuses them with a 422 naming `space_id`, before
anything is read or written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from tests.rag.conftest import CORPUS, closed_port_url, make_stack
from workbench.rag.service import create_app
from workbench.records.rag import AskRequest, IndexRequest

BAD_IDS = [".", "..", ".hidden", "../x", "a/b", "..%2F..", "/etc", "a b", "x" * 129]
GOOD_IDS = ["default", "demo-en", "a.b", "owner--name", "_x", "-x", "x..y", "x" * 128]


@pytest.mark.parametrize("space_id", BAD_IDS)
@pytest.mark.parametrize("model", [AskRequest, IndexRequest])
def test_request_models_refuse_escaping_ids(model: type, space_id: str) -> None:
    body: dict[str, object] = {"space_id": space_id}
    body |= {"q": "hi"} if model is AskRequest else {"passages": CORPUS}
    with pytest.raises(ValidationError) as info:
        model.model_validate(body)
    assert [e["loc"] for e in info.value.errors()] == [("space_id",)]


@pytest.mark.parametrize("space_id", GOOD_IDS)
def test_request_models_accept_plain_ids(space_id: str) -> None:
    assert AskRequest(q="hi", space_id=space_id).space_id == space_id
    assert IndexRequest.model_validate({"space_id": space_id, "passages": CORPUS}).space_id


def _files(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A service (engine down, nothing indexed); no request here reaches either."""
    app = create_app(make_stack(closed_port_url()), tmp_path / "index", qdrant_location=":memory:")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://rag"
    ) as client:
        yield client


def _refused(r: httpx.Response, space_id: str) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    message = body["error"]["message"]
    assert "space_id" in message and "not starting with '.'" in message, message
    assert repr(space_id) in message, message
    assert [d["loc"][-1] for d in body["detail"]] == ["space_id"], body


@pytest.mark.parametrize("space_id", [".", "..", ".hidden", "../escape"])
async def test_every_endpoint_refuses_dot_ids_naming_the_field(
    service: httpx.AsyncClient, tmp_path: Path, space_id: str
) -> None:
    before = _files(tmp_path)
    _refused(await service.post("/index", json={"space_id": space_id, "passages": CORPUS}),
             space_id)
    for path in ("/ask", "/ask/stream"):
        _refused(await service.post(path, json={"q": "hi", "space_id": space_id}), space_id)
    _refused(await service.get("/search", params={"q": "hi", "space_id": space_id}), space_id)
    assert _files(tmp_path) == before  # nothing stored was touched


async def test_openapi_schema_states_the_rule(service: httpx.AsyncClient) -> None:
    # Schemathesis (test_fuzz.py) generates from this: the served pattern is the one enforced.
    spec = (await service.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    patterns = {
        schemas["AskRequest"]["properties"]["space_id"]["pattern"],
        schemas["IndexRequest"]["properties"]["space_id"]["pattern"],
        next(p["schema"]["pattern"] for p in spec["paths"]["/search"]["get"]["parameters"]
             if p["name"] == "space_id"),
    }
    assert patterns == {r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$"}
