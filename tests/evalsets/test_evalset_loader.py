"""Loading folder eval sets in JSON Lines, Parquet and CSV, resolving refs, the digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.evalsets.helpers import PASSAGES, QUESTIONS, write_csv, write_jsonl, write_set
from workbench.evalsets import EvalSetError, HubRef, evalset_digest, load_evalset, resolve_ref
from workbench.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose shipped eval sets live in a temporary folder."""
    return Settings(evalsets_dir=tmp_path / "shipped", cache_dir=tmp_path / "cache")


def test_jsonl_set_loads_with_every_field(tmp_path: Path, settings: Settings) -> None:
    es = load_evalset(write_set(tmp_path / "s"), settings)
    assert [p.id for p in es.passages] == ["p1", "p2", "p3"]
    assert [q.id for q in es.questions] == ["q1", "q2", "q3", "q4"]
    q3 = es.questions[2]
    assert (q3.answerable, q3.answers, q3.gold_doc_ids) == (False, [], [])
    assert q3.source_doc_id == "p1"
    assert q3.meta == {"plausible_answers": ["Marta"]}  # null keys dropped
    assert es.questions[3].lang == "en"
    assert es.unanswerable_count == 1
    assert len(es.digest) == 64
    assert es.name == "s"


def test_formats_give_identical_evalsets(tmp_path: Path, settings: Settings) -> None:
    loaded = {
        s: load_evalset(write_set(tmp_path / s[1:], s), settings)
        for s in (".jsonl", ".parquet", ".csv")
    }
    base = loaded[".jsonl"]
    for suffix, es in loaded.items():
        assert es.passages == base.passages, suffix
        assert es.questions == base.questions, suffix
        assert es.digest == base.digest, suffix


def test_mixed_formats_in_one_folder(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    write_csv(folder / "corpus.csv", PASSAGES)
    write_jsonl(folder / "questions.jsonl", QUESTIONS)
    assert (
        load_evalset(folder, settings).digest
        == load_evalset(write_set(tmp_path / "j"), settings).digest
    )


def test_digest_follows_content_not_name_or_source(tmp_path: Path, settings: Settings) -> None:
    a = load_evalset(write_set(tmp_path / "a"), settings)
    b = load_evalset(write_set(tmp_path / "b"), settings)
    assert a.digest == b.digest
    changed = [dict(q) for q in QUESTIONS]
    changed[0]["answers"] = ["27 days", "27", "twenty-seven"]
    c = load_evalset(write_set(tmp_path / "c", questions=changed), settings)
    assert c.digest != a.digest
    assert evalset_digest(a.passages, a.questions) == a.digest


def test_shipped_name_resolves_inside_evalsets_dir(tmp_path: Path, settings: Settings) -> None:
    write_set(settings.evalsets_dir / "mini")
    es = load_evalset("mini", settings)
    assert (es.name, es.source) == ("mini", "mini")


@pytest.mark.parametrize("ref", ["../secret", "mini/../../secret", "./../secret"])
def test_names_cannot_escape_evalsets_dir(
    ref: str, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_set(tmp_path / "secret")  # next to evalsets_dir: reachable only by escaping it
    write_set(settings.evalsets_dir / "mini")
    cwd = tmp_path / "x" / "y" / "z"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)  # where none of the refs exists as a relative path
    with pytest.raises(EvalSetError, match="not a shipped eval set"):
        load_evalset(ref, settings)


def test_symlink_out_of_evalsets_dir_is_not_a_name(tmp_path: Path, settings: Settings) -> None:
    outside = write_set(tmp_path / "outside")
    settings.evalsets_dir.mkdir(parents=True)
    (settings.evalsets_dir / "sneaky").symlink_to(outside)
    with pytest.raises(EvalSetError, match="not a shipped eval set"):
        load_evalset("sneaky", settings)


def test_hub_refs_parse() -> None:
    assert resolve_ref("hf:google/xquad:xquad.en") == HubRef("google/xquad", "xquad.en")
    assert resolve_ref("rajpurkar/squad_v2@validation") == HubRef("rajpurkar/squad_v2")
    assert str(HubRef("google/xquad", "xquad.ru", "test")) == "hf:google/xquad:xquad.ru@test"


def test_hub_offline_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EvalSetError, match="offline"):
        load_evalset("hf:google/xquad:xquad.en")


def test_folder_without_files_or_with_two_formats(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvalSetError, match=r"no corpus file \(looked for corpus.jsonl"):
        load_evalset(tmp_path / "empty", settings)
    folder = write_set(tmp_path / "two")
    write_csv(folder / "questions.csv", QUESTIONS)
    with pytest.raises(EvalSetError, match="more than one questions file"):
        load_evalset(folder, settings)


def test_a_file_of_a_folder_set_stands_for_the_folder(tmp_path: Path, settings: Settings) -> None:
    folder = write_set(tmp_path / "f")
    assert (
        load_evalset(folder / "questions.jsonl", settings).digest
        == load_evalset(folder, settings).digest
    )


def test_nothing_lands_in_the_huggingface_cache(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(home / ".cache" / "huggingface"))
    load_evalset(write_set(tmp_path / "p", ".parquet"), settings)
    assert not (home / ".cache" / "huggingface" / "datasets").exists()
