"""Load an eval set from a shipped name, a local folder or file, or a Hugging Face hub id.

Local files are checked record by record before the `datasets` library reads them (so an
error names the file, line and field of every problem), then read through `datasets`
(one reader for JSON Lines, Parquet and CSV), then checked again as models.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from workbench.evalsets._files import decode_csv_row, read_csv, read_jsonl
from workbench.evalsets._hf import read_hub_rows, read_rows
from workbench.evalsets._validate import Located, Record, check_records
from workbench.evalsets.digest import evalset_digest
from workbench.evalsets.errors import EvalSetError, ProblemLog
from workbench.evalsets.squad import guess_lang, read_squad_json, squad_from_rows
from workbench.records.evalset import EvalSet, Question
from workbench.records.passage import Passage
from workbench.settings import Settings, get_settings

#: File formats of a folder eval set, in the order they are looked for.
FORMATS = (".jsonl", ".parquet", ".csv")
__all__ = [
    "EvalSetError",
    "HubRef",
    "load_evalset",
    "load_folder",
    "resolve_ref",
    "shipped_evalsets",
]

M = TypeVar("M", Passage, Question)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HUB = re.compile(
    r"^(?:hf:)?(?P<repo>[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?::(?P<config>[\w.-]+))?(?:@(?P<split>[\w.-]+))?$"
)


@dataclass(frozen=True)
class HubRef:
    """A Hugging Face hub data set in SQuAD layout: `hf:owner/name[:config][@split]`."""

    repo_id: str
    config: str | None = None
    split: str = "validation"

    def __str__(self) -> str:
        return f"hf:{self.repo_id}" + (f":{self.config}" if self.config else "") + f"@{self.split}"


def shipped_evalsets(settings: Settings | None = None) -> list[str]:
    """Names of the eval sets shipped in `settings.evalsets_dir`, sorted."""
    root = (settings or get_settings()).evalsets_dir
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _find(p, "questions"))


def resolve_ref(ref: str | Path, settings: Settings | None = None) -> Path | HubRef:
    """Where `ref` points: a shipped set's folder, a local folder or file, or a hub set.

    A bare name (`demo-en`) is looked up in `evalsets_dir` first and may not contain `/` or
    `..`, so it cannot reach outside that folder; write `./demo-en` for a local folder.
    """
    if isinstance(ref, Path):
        return ref
    root = (settings or get_settings()).evalsets_dir
    if _NAME.match(ref) and ".." not in ref:
        folder = root / ref
        if folder.is_dir() and folder.resolve().is_relative_to(root.resolve()):
            return folder
    if not ref.startswith("hf:") and Path(ref).exists():
        return Path(ref)
    hub = _HUB.match(ref)
    if hub and (ref.startswith("hf:") or "/" in ref):
        return HubRef(hub["repo"], hub["config"], hub["split"] or "validation")
    known = ", ".join(shipped_evalsets(settings)) or "none"
    raise EvalSetError.at(
        ref, f"not a shipped eval set ({known}), a local folder or file, or a hub id"
    )


def load_evalset(ref: str | Path, settings: Settings | None = None) -> EvalSet:
    """Load and validate an eval set.

    `ref` is a shipped set name (`demo-en`), a folder holding `corpus.{jsonl,parquet,csv}`
    and `questions.{jsonl,parquet,csv}`, a SQuAD-format `.json` file (SQuAD 1.1/2.0,
    XQuAD), or a Hugging Face hub id in SQuAD layout (`hf:google/xquad:xquad.en`; needs
    the network). Raises `EvalSetError` listing every problem with its file and line.
    """
    settings = settings or get_settings()
    where = resolve_ref(ref, settings)
    if isinstance(where, HubRef):
        rows = read_hub_rows(
            where.repo_id, where.config, where.split, settings.cache_dir / "datasets"
        )
        if rows and not {"context", "question", "answers"} <= rows[0].keys():
            raise EvalSetError.at(str(where), "not in SQuAD layout (context, question, answers)")
        lang = guess_lang(where.config or "")
        passages, questions = squad_from_rows(rows, str(where), lang)
        return _evalset(where.repo_id, passages, questions, str(where))
    if where.is_file() and where.suffix == ".json":
        passages, questions = read_squad_json(where)
        return _evalset(where.stem, passages, questions, str(where))
    if where.is_file() and where.stem in ("corpus", "questions"):
        where = where.parent  # a file of a folder set stands for its folder
    if not where.is_dir():
        raise EvalSetError.at(where, "not a folder, a SQuAD .json file or a hub id")
    if isinstance(ref, str) and Path(ref).name == ref and where == settings.evalsets_dir / ref:
        # A shipped set is recorded by name, so a run's manifest stays valid in another clone.
        return load_folder(where, name=ref, source=ref)
    # Any other folder, however it was named (an absolute path too: `evalsets_dir / ref` is
    # then `ref` itself), is named by its folder, so its space id reads `xquad_en`, not
    # `--work--shared--evaldata--xquad_en-<hex>`; `source` keeps the path it came from.
    return load_folder(where)


def load_folder(folder: Path, name: str | None = None, source: str | None = None) -> EvalSet:
    """Load a folder eval set (`corpus.*` and `questions.*`, JSON Lines, Parquet or CSV)."""
    corpus, questions = _require(folder, "corpus"), _require(folder, "questions")
    log = ProblemLog()
    pre_c = _check_lines(corpus, log)
    corpus_complete = log.total == 0
    pre_q = _check_lines(questions, log)
    if pre_c is not None and pre_q is not None:
        # Gold ids can be checked against the corpus only when all of it was read.
        check_records(pre_c, pre_q, log, check_refs=corpus_complete)
    elif pre_c is not None or pre_q is not None:  # the other file is Parquet: checked later
        check_records(pre_c or [], pre_q or [], log, check_refs=False)
    log.raise_if_any()
    c_rows, q_rows = _read(corpus, pre_c, log), _read(questions, pre_q, log)
    check_records(c_rows, q_rows, log)
    log.raise_if_any()
    passages = _models(Passage, c_rows, log)
    qs = _models(Question, q_rows, log)
    log.raise_if_any()
    return _evalset(name or folder.resolve().name, passages, qs, source or str(folder))


def _find(folder: Path, stem: str) -> Path | None:
    found = [folder / f"{stem}{s}" for s in FORMATS if (folder / f"{stem}{s}").is_file()]
    if len(found) > 1:
        # Two copies in different formats drift apart; refuse to guess which one is right.
        names = ", ".join(p.name for p in found)
        raise EvalSetError.at(folder, f"more than one {stem} file ({names}); keep one")
    return found[0] if found else None


def _check_inside(path: Path, folder: Path) -> None:
    """Refuse a corpus or questions file that is a link to a file outside its folder.

    An eval set folder is what is validated, digested and recorded; a symlink (`../x`, an
    absolute target, or a chain of links) would make it read, and send to both stacks, a
    file from anywhere on the machine while looking like a harmless folder.
    """
    target = path.resolve()
    if not target.is_relative_to(folder.resolve()):
        link = path.readlink() if path.is_symlink() else target
        raise EvalSetError.at(
            path, f"a link to {link} (resolves to {target}), outside the eval set folder "
            f"{folder}; copy the file into the folder instead"
        )


def _require(folder: Path, stem: str) -> Path:
    path = _find(folder, stem)
    if path is None:
        names = ", ".join(f"{stem}{s}" for s in FORMATS)
        raise EvalSetError.at(folder, f"no {stem} file (looked for {names})")
    _check_inside(path, folder)
    return path


def _check_lines(path: Path, log: ProblemLog) -> list[Located] | None:
    """Line-by-line check of a JSON Lines or CSV file (None for Parquet: binary, no lines)."""
    if path.suffix == ".parquet":
        return None
    before = log.total
    records = read_jsonl(path, log) if path.suffix == ".jsonl" else read_csv(path, log)[1]
    if not records and log.total == before:
        log.add(path, None, None, "no records")
    return records


def _read(path: Path, checked: list[Located] | None, log: ProblemLog) -> list[Located]:
    # CSV columns are read as strings, as the line check read them.
    header = _csv_header(path) if path.suffix == ".csv" else None
    rows = read_rows(path, header)
    if checked is not None and len(rows) != len(checked):
        raise EvalSetError.at(path, f"datasets read {len(rows)} records, expected {len(checked)}")
    located = []
    for n, row in enumerate(rows):
        line = checked[n].line if checked is not None else n + 1
        located.append(Located(str(path), line, _normalise(row, path, line)))
    if not located:
        log.add(path, None, None, "no records")
    return located


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f), [])


def _normalise(row: Mapping[str, Any], path: Path, line: int | None) -> Record:
    """A `datasets` row as the record the line check saw: columns another row brought in
    (None here) dropped, CSV cells decoded, and `meta` without the nulls Arrow adds."""
    present = {k: v for k, v in row.items() if v is not None}
    if path.suffix == ".csv":
        present = decode_csv_row(present, path, line or 0, ProblemLog())  # already reported
    if isinstance(present.get("meta"), dict):
        meta = _prune_nulls(present["meta"])
        present["meta"] = meta or None
    return {k: v for k, v in present.items() if v is not None}


def _prune_nulls(value: Any) -> Any:
    # Arrow gives every object in a column the union of their keys, null where one lacks a
    # key; dropping null keys makes JSON Lines, Parquet and CSV copies read the same.
    if isinstance(value, dict):
        return {k: _prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune_nulls(v) for v in value]
    return value


def _models(model: type[M], rows: list[Located], log: ProblemLog) -> list[M]:
    out: list[M] = []
    for item in rows:
        try:
            out.append(model.model_validate(item.record))
        except ValidationError as e:
            for err in e.errors():
                field = ".".join(str(x) for x in err["loc"]) or None
                log.add(item.path, item.line, field, err["msg"])
    return out


def _evalset(name: str, passages: list[Passage], questions: list[Question], source: str) -> EvalSet:
    return EvalSet(
        name=name,
        passages=passages,
        questions=questions,
        digest=evalset_digest(passages, questions),
        source=source,
    )
