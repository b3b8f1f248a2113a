"""Record-level and set-level checks shared by every file format.

The checks run on plain dicts (a parsed JSON line, a decoded CSV row, a Parquet record) so
every format reports the same problems in the same words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from workbench.evalsets.errors import ProblemLog
from workbench.records.evalset import check_counterfactual

Record = dict[str, object]


@dataclass(frozen=True)
class Located:
    """A record and where it came from (file and 1-based line or record number)."""

    path: str
    line: int | None
    record: Record


def _type_name(value: object) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "string"}
    names |= {list: "list", dict: "object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _check_str(rec: Mapping[str, object], key: str, required: bool) -> str | None:
    value = rec.get(key)
    if value is None:
        return "missing" if required else None
    if not isinstance(value, str):
        return f"expected a string, got {_type_name(value)}"
    if required and not value.strip():
        return "empty"
    return None


def _check_str_list(rec: Mapping[str, object], key: str, required: bool = True) -> str | None:
    value = rec.get(key)
    if value is None:
        return "missing" if required else None
    if not isinstance(value, list):
        return f"expected a list of strings, got {_type_name(value)}"
    for i, item in enumerate(value):
        if not isinstance(item, str):
            return f"item {i}: expected a string, got {_type_name(item)}"
        if not item.strip():
            return f"item {i}: empty string"
    return None


def check_passage(rec: Mapping[str, object]) -> list[tuple[str, str]]:
    """Problems with one corpus record, as (field, problem) pairs."""
    checks = {
        "id": _check_str(rec, "id", required=True),
        "title": _check_str(rec, "title", required=False),
        "text": _check_str(rec, "text", required=True),
    }
    return [(key, problem) for key, problem in checks.items() if problem]


def check_question(rec: Mapping[str, object]) -> list[tuple[str, str]]:
    """Problems with one question record, as (field, problem) pairs."""
    checks = {
        "id": _check_str(rec, "id", required=True),
        "question": _check_str(rec, "question", required=True),
        # A team's own questions come without gold answers or passages (questions-only):
        # both are optional, and what they allow to be scored is said in the report.
        "answers": _check_str_list(rec, "answers", required=False),
        "gold_doc_ids": _check_str_list(rec, "gold_doc_ids", required=False),
        "lang": _check_str(rec, "lang", required=False),
        "source_doc_id": _check_str(rec, "source_doc_id", required=False),
    }
    answerable = rec.get("answerable", True)  # absent: a question the corpus should answer
    if not isinstance(answerable, bool):
        checks["answerable"] = f"expected true or false, got {_type_name(answerable)}"
    meta = rec.get("meta")
    if meta is not None and not isinstance(meta, dict):
        checks["meta"] = f"expected an object or null, got {_type_name(meta)}"
    elif (planted := check_counterfactual(meta)) is not None:
        # A malformed plant would silently count no planted-false answers in the report.
        field, _, problem = planted.partition(": ")
        checks[field] = problem
    problems = [(key, problem) for key, problem in checks.items() if problem]
    if not problems and isinstance(answerable, bool):
        problems += _check_answerable(rec, answerable)
    return problems


def _check_answerable(rec: Mapping[str, object], answerable: bool) -> list[tuple[str, str]]:
    # `answerable=false` means "the documents do not say": a gold answer or passage for it
    # would make scoring reward a hallucination, so the two must agree. An answerable
    # question may lack both (questions-only sets): quality then needs a judge.
    if answerable:
        return []
    return [
        (key, "must be [] when answerable is false")
        for key in ("answers", "gold_doc_ids")
        if rec.get(key)
    ]


def check_records(
    passages: Sequence[Located],
    questions: Sequence[Located],
    log: ProblemLog,
    check_refs: bool = True,
) -> None:
    """Check every record, then ids across the set: unique ids, gold ids in the corpus.

    `check_refs=False` skips the gold-id check, for when some corpus lines could not be
    read: their ids are unknown, and "not a corpus passage id" would be a false alarm.
    """
    for item in passages:
        for key, problem in check_passage(item.record):
            log.add(item.path, item.line, key, problem)
    for item in questions:
        for key, problem in check_question(item.record):
            log.add(item.path, item.line, key, problem)
    passage_ids = _unique_ids(passages, log)
    _unique_ids(questions, log)
    for item in questions if check_refs else ():
        _check_refs(item, passage_ids, log)


def _unique_ids(items: Sequence[Located], log: ProblemLog) -> dict[str, int | None]:
    first: dict[str, int | None] = {}
    for item in items:
        rid = item.record.get("id")
        if not isinstance(rid, str):
            continue
        if rid in first:
            seen = "" if first[rid] is None else f" (first at line {first[rid]})"
            log.add(item.path, item.line, "id", f"duplicate id {rid!r}{seen}")
        else:
            first[rid] = item.line
    return first


def _check_refs(item: Located, passage_ids: Mapping[str, int | None], log: ProblemLog) -> None:
    gold = item.record.get("gold_doc_ids")
    for doc_id in gold if isinstance(gold, list) else []:
        if isinstance(doc_id, str) and doc_id not in passage_ids:
            log.add(item.path, item.line, "gold_doc_ids", f"{doc_id!r} is not a corpus passage id")
    source = item.record.get("source_doc_id")
    if isinstance(source, str) and source not in passage_ids:
        log.add(item.path, item.line, "source_doc_id", f"{source!r} is not a corpus passage id")
    meta = item.record.get("meta")
    planted = meta.get("counterfactual") if isinstance(meta, dict) else None
    for plant in planted if isinstance(planted, list) else [planted] if planted else []:
        doc_id = plant.get("passage_id") if isinstance(plant, dict) else None
        if isinstance(doc_id, str) and doc_id and doc_id not in passage_ids:
            log.add(item.path, item.line, "meta.counterfactual.passage_id",
                    f"{doc_id!r} is not a corpus passage id")
