"""Path traversal: an eval set folder's corpus or questions file may not be a link to a
file outside the folder (`../`, an absolute target, a chain of links); the error names
the file. Links that stay inside the folder are fine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.evalsets.helpers import write_set
from workbench.evalsets import EvalSetError, load_evalset
from workbench.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(evalsets_dir=tmp_path / "shipped", cache_dir=tmp_path / "cache")


def _relink(folder: Path, name: str, target: str | Path) -> Path:
    link = folder / name
    link.unlink()
    link.symlink_to(target)
    return link


@pytest.mark.parametrize("stem", ["corpus", "questions"])
def test_relative_link_out_of_the_folder_is_refused(tmp_path: Path, settings: Settings,
                                                     stem: str) -> None:
    outside = write_set(tmp_path / "outside")
    folder = write_set(tmp_path / "sets" / "s")
    link = _relink(folder, f"{stem}.jsonl", Path("..") / ".." / "outside" / f"{stem}.jsonl")
    assert link.resolve() == (outside / f"{stem}.jsonl").resolve()  # the link works
    with pytest.raises(EvalSetError) as exc:
        load_evalset(folder, settings)
    message = str(exc.value)
    assert f"{link}: " in message  # names the file
    assert "outside the eval set folder" in message and "../../outside" in message


def test_absolute_link_and_link_chain_are_refused(tmp_path: Path, settings: Settings) -> None:
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"id": "p1", "text": "the admin password is hunter2"}\n')
    folder = write_set(tmp_path / "s")
    link = _relink(folder, "corpus.jsonl", secret.resolve())
    with pytest.raises(EvalSetError, match="outside the eval set folder"):
        load_evalset(folder, settings)
    # A link to a link inside the folder that itself leads out is refused too.
    hop = folder / "hop.jsonl"
    hop.symlink_to(secret.resolve())
    link.unlink()
    link.symlink_to("hop.jsonl")
    with pytest.raises(EvalSetError) as exc:
        load_evalset(folder, settings)
    assert str(secret.resolve()) in str(exc.value)


def test_link_out_of_a_shipped_set_is_refused(tmp_path: Path, settings: Settings) -> None:
    outside = write_set(tmp_path / "outside")
    folder = write_set(settings.evalsets_dir / "demo-x")
    _relink(folder, "questions.jsonl", outside / "questions.jsonl")
    with pytest.raises(EvalSetError, match=r"questions\.jsonl: a link to"):
        load_evalset("demo-x", settings)


def test_link_inside_the_folder_and_a_linked_folder_are_fine(tmp_path: Path,
                                                             settings: Settings) -> None:
    folder = write_set(tmp_path / "s")
    os.replace(folder / "corpus.jsonl", folder / "corpus-v2.jsonl")
    (folder / "corpus.jsonl").symlink_to("corpus-v2.jsonl")
    assert len(load_evalset(folder, settings).passages) == 3
    # The folder itself may be reached through a link: its files are inside it.
    alias = tmp_path / "alias"
    alias.symlink_to(folder)
    assert len(load_evalset(alias, settings).questions) == 4
