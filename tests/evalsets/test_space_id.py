"""`space_id_for`: every eval set name maps to a space id the RAG service accepts;
deterministically, plain names unchanged, different names never to the same id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.records.evalset import space_id_for
from workbench.records.rag import MAX_SPACE_ID_CHARS, SPACE_ID_PATTERN, IndexRequest

NAMES = ["google/xquad", "rajpurkar/squad_v2", "owner--name", "owner-name", "a/b/c",
         "..", ".", ".hidden", "my set", "мой-набор", "", "x" * 200, "x" * 201, "a..b/c"]


@pytest.mark.parametrize("name", ["demo-en", "demo-ru", "squad_v2", "a.b", "x" * 128])
def test_plain_names_are_kept(name: str) -> None:
    assert space_id_for(name) == name  # existing indexes of shipped sets are reused


@pytest.mark.parametrize("name", NAMES)
def test_every_name_maps_to_an_accepted_id(name: str) -> None:
    space = space_id_for(name)
    assert re.match(SPACE_ID_PATTERN, space) and len(space) <= MAX_SPACE_ID_CHARS
    assert space not in (".", "..") and not space.startswith(".")
    IndexRequest.model_validate({"space_id": space, "passages": [{"id": "p", "text": "t"}]})
    assert space_id_for(name) == space  # deterministic


def test_hub_ids_read_as_owner_and_name() -> None:
    assert re.fullmatch(r"google--xquad-[0-9a-f]{8}", space_id_for("google/xquad"))


def test_different_names_never_share_a_space() -> None:
    spaces = [space_id_for(n) for n in NAMES]
    assert len(set(spaces)) == len(NAMES)


def test_a_folder_given_by_any_path_gets_its_folder_name_as_space_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.evalsets.loader import load_evalset

    folder = tmp_path / "data" / "xquad_en"
    folder.mkdir(parents=True)
    (folder / "corpus.jsonl").write_text('{"id": "p1", "title": "t", "text": "x"}\n')
    (folder / "questions.jsonl").write_text(
        '{"id": "q1", "question": "q?", "answers": ["x"], "gold_doc_ids": ["p1"]}\n')
    monkeypatch.chdir(tmp_path)
    for ref in (str(folder), "data/xquad_en", "./data/xquad_en/", str(folder / "corpus.jsonl")):
        evalset = load_evalset(ref)
        assert evalset.space_id == "xquad_en", ref  # was --tmp--...--xquad_en-<hex>
        assert Path(evalset.source).resolve() in (folder, folder / "corpus.jsonl"), ref
