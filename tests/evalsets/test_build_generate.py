"""The question writer's reply schema, reply parsing and cache (no model needed: a cached
reply asks nothing, and a miss against a closed port is a clear error)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import free_port
from workbench.evalsets.builder.generate import (
    GenerationError,
    QuestionWriter,
    Written,
    parse_reply,
    reply_schema,
)


def test_schema_asks_for_exactly_n_short_pairs() -> None:
    schema = reply_schema(3)
    items = schema["properties"]["questions"]
    assert (items["minItems"], items["maxItems"]) == (3, 3)
    assert items["items"]["required"] == ["question", "answer"]
    assert items["items"]["properties"]["answer"]["maxLength"] <= 60


def test_parse_reply_keeps_well_formed_pairs_only() -> None:
    reply = json.dumps({"questions": [{"question": " Q? ", "answer": " a "},
                                      {"question": 3, "answer": "x"}, "junk"]})
    assert parse_reply(reply) == [Written("Q?", "a")]
    with pytest.raises(ValueError):
        parse_reply('{"answers": []}')


def test_cache_key_changes_with_passage_model_and_count(tmp_path: Path) -> None:
    a = QuestionWriter("http://127.0.0.1:9/v1", "a" * 64, cache_dir=tmp_path)
    b = QuestionWriter("http://127.0.0.1:9/v1", "b" * 64, cache_dir=tmp_path)
    key = a.cache_key("T", "text", 1)
    assert key == a.cache_key("T", "text", 1)
    assert len({key, b.cache_key("T", "text", 1), a.cache_key("T", "text.", 1),
                a.cache_key("T", "text", 2), a.cache_key("U", "text", 1)}) == 5


def test_a_cached_reply_asks_nothing_and_a_damaged_one_is_asked_again(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    writer = QuestionWriter(url, "d" * 64, cache_dir=tmp_path)
    writer._store(writer.cache_key("T", "text", 1), [Written("What?", "text")])
    assert writer.write("T", "text", 1) == [Written("What?", "text")]
    assert (writer.hits, writer.misses) == (1, 0)
    path = next(tmp_path.rglob("*.json"))
    path.write_text("{not json", "utf-8")
    with pytest.raises(GenerationError, match=r"127\.0\.0\.1"):
        writer.write("T", "text", 1)
    assert not list(tmp_path.rglob(".*.json.*"))  # no temporary file left behind
    writer.close()
