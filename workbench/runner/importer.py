"""Read a run that `workbench export` wrote (or another tool wrote in its columns) back into
a new run: `workbench runs import FILE`, so a run from another machine can be re-scored,
chosen on and gated here.

The file is JSON Lines, CSV or Parquet, one row per (question, stack, attempt), in the
export's columns. Only `question_id`, `stack`, `status`, `question` and `e2e_ms` are
required; today's derived `ttft_ms` / `tpot_ms` / `e2e_ms` are enough when the raw
timestamps (`timing`) are absent. Beside it, optional: `<name>.run.json` (the manifest, the
stacks' recipes, run order) and `<name>.votes.<ext>` (arena votes). Without the run file the
stacks keep the order in which they first appear, and the baseline is the first unless
`baseline` says otherwise. Every problem is reported with its file, line (row for Parquet)
and field, before anything is written.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from workbench.evalsets.errors import Problem, ProblemLog
from workbench.records.evalset import Question
from workbench.records.manifest import ManifestError, RunManifest
from workbench.records.manifest_parts import EvalsetRef
from workbench.records.responses import (
    EngineCounters,
    RequestTiming,
    ResponseRecord,
    RetrievedSource,
    Status,
)
from workbench.runner.picks import MAX_STACKS, MIN_STACKS
from workbench.store.export import run_info_path, votes_path
from workbench.store.imports import FINISHED, ImportedRun, ImportedVote
from workbench.store.votes import VOTE_VALUES

FORMATS = ("jsonl", "csv", "parquet")


class RunFileError(ValueError):
    """The file cannot be imported; `problems` says where (file, line, field) and what."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems
        total = max(total or 0, len(problems))
        lines = [str(p) for p in problems]
        if total > len(problems):
            lines.append(f"... and {total - len(problems)} more")
        head = "1 problem" if total == 1 else f"{total} problems"
        super().__init__(f"cannot import: {head} (nothing was stored):\n  "
                         + "\n  ".join(lines))


def _json_text(value: Any) -> Any:
    # The export writes lists and objects as JSON text (so CSV and Parquet hold them too).
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON text ({exc.msg} at column {exc.colno})"
                             ) from exc
    return value


class ExportedRow(BaseModel):
    """One row of an exported run (`store.export.response_rows`)."""

    model_config = ConfigDict(extra="ignore")

    question_id: str = Field(min_length=1)
    stack: str = Field(min_length=1)
    attempt: int = Field(default=1, ge=1)
    status: Status
    error: str | None = None
    question: str = Field(min_length=1)
    gold_answers: list[str] = Field(default_factory=list)
    answerable: bool = True
    lang: str = "en"
    answer: str = ""
    ttft_ms: float | None = Field(default=None, ge=0)
    tpot_ms: float | None = Field(default=None, ge=0)
    e2e_ms: float | None = Field(default=None, ge=0)
    completion_tokens: int | None = Field(default=None, ge=0)
    prompt_tokens: int | None = Field(default=None, ge=0)
    retrieved_doc_ids: list[str] = Field(default_factory=list)
    gold_doc_ids: list[str] = Field(default_factory=list)
    server_timings: dict[str, float | None] = Field(default_factory=dict)
    started_at_utc: str | None = None
    # Lossless extras the export writes since `runs import` exists (absent: derived).
    question_position: int | None = Field(default=None, ge=0)
    stack_position: int | None = Field(default=None, ge=0)
    baseline: bool | None = None
    model: str = ""
    engine: str = ""
    http_status: int | None = None
    timing: RequestTiming | None = None
    sources: list[RetrievedSource] | None = None
    engine_counters: EngineCounters | None = None

    @field_validator("gold_answers", "retrieved_doc_ids", "gold_doc_ids", "server_timings",
                     "timing", "sources", "engine_counters", mode="before")
    @classmethod
    def _parse_json(cls, value: Any, info: ValidationInfo) -> Any:
        value = _json_text(value)
        if value is None:  # an empty cell: the field's own default
            return {"server_timings": {}}.get(info.field_name or "",
                                               None if info.field_name in _OPTIONAL else [])
        return value

    @field_validator("answer", "model", "engine", "answerable", "lang", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or value == "":
            return {"answerable": True, "lang": "en"}.get(info.field_name or "", "")
        return value


_OPTIONAL = ("timing", "sources", "engine_counters")


def _read_rows(path: Path, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """(line, raw row) pairs; CSV empty cells become None (the export writes None so)."""
    if fmt == "parquet":
        # why here: pyarrow is needed for Parquet only
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises several kinds for a damaged file
            raise RunFileError([Problem(str(path), None, None,
                                        f"not a readable Parquet file: {exc}")]) from exc
        return [(i + 1, row) for i, row in enumerate(table.to_pylist())]
    text = path.read_text(encoding="utf-8")
    if fmt == "csv":
        reader = csv.DictReader(text.splitlines())
        return [(reader.line_num, {k: (v if v != "" else None) for k, v in row.items()})
                for row in reader]
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RunFileError([Problem(str(path), n, None,
                                        f"not valid JSON: {exc.msg} (column {exc.colno})")]
                               ) from exc
        if not isinstance(value, dict):
            raise RunFileError([Problem(str(path), n, None, "expected a JSON object")])
        rows.append((n, value))
    return rows


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(x) for x in loc if not isinstance(x, int)) + "".join(
        f"[{x}]" for x in loc if isinstance(x, int))


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _timing(row: ExportedRow, path: Path, line: int, log: ProblemLog,
            clock: list[float]) -> RequestTiming | None:
    """The raw timestamps, else rebuilt from the derived milliseconds: start at the row's
    wall-clock start (so the busy time, and the throughput, stay), else one after another."""
    if row.timing is not None:
        return row.timing
    if row.e2e_ms is None:
        log.add(path, line, "e2e_ms", "missing (and no raw `timing`): the end-to-end latency "
                "in milliseconds is required")
        return None
    e2e = row.e2e_ms / 1000
    ttft = row.ttft_ms / 1000 if row.ttft_ms is not None else None
    if ttft is not None and ttft > e2e:
        log.add(path, line, "ttft_ms", f"{row.ttft_ms} is later than e2e_ms {row.e2e_ms}")
        return None
    wall = _epoch(row.started_at_utc)
    if wall is not None and math.isnan(clock[1]):
        clock[1] = wall
    # Seconds after the file's first wall-clock start: an epoch (1.7e9 s) would round a
    # millisecond latency in the 8th digit.
    start = clock[0] if wall is None else wall - clock[1]
    clock[0] = max(clock[0], start + e2e)
    ok = row.status == "ok"
    return RequestTiming(
        request_start=start,
        first_token=start + ttft if ok and ttft is not None else None,
        last_token=start + e2e if ok and ttft is not None else None,
        request_end=start + e2e, started_at_utc=row.started_at_utc or "")


def _tokens(row: ExportedRow) -> int | None:
    # TPOT = (E2E - TTFT) / (N - 1): N comes back from TPOT when the count was left out.
    if row.completion_tokens is not None or row.tpot_ms is None or not row.tpot_ms:
        return row.completion_tokens
    if row.ttft_ms is None or row.e2e_ms is None:
        return None
    return round((row.e2e_ms - row.ttft_ms) / row.tpot_ms) + 1


def _record(row: ExportedRow, timing: RequestTiming) -> ResponseRecord:
    sources = row.sources if row.sources is not None else [
        RetrievedSource(doc_id=d, rank=i + 1) for i, d in enumerate(row.retrieved_doc_ids)]
    return ResponseRecord(
        run_id="import", question_id=row.question_id, stack=row.stack, attempt=row.attempt,
        status=row.status, error=row.error, http_status=row.http_status, answer=row.answer,
        sources=sources, timing=timing, prompt_tokens=row.prompt_tokens,
        completion_tokens=_tokens(row), server_timings=row.server_timings, model=row.model,
        engine=row.engine, engine_counters=row.engine_counters)


def _question(row: ExportedRow) -> Question:
    return Question(id=row.question_id, question=row.question, answers=row.gold_answers,
                    gold_doc_ids=row.gold_doc_ids, answerable=row.answerable, lang=row.lang)


def _order(first_seen: dict[str, int], positions: dict[str, int | None]) -> list[str]:
    """Names in recorded position order when every one has a position, else as first seen."""
    if all(positions.get(n) is not None for n in first_seen):
        return sorted(first_seen, key=lambda n: (positions[n], first_seen[n]))
    return list(first_seen)


def read_run_file(path: Path, *, baseline: str | None = None, fmt: str | None = None,
                  votes: bool = True) -> ImportedRun:
    """Read and validate an exported run (see the module docstring); raises `RunFileError`
    naming file, line and field. Nothing is stored here."""
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise RunFileError([Problem(str(path), None, None, f"unknown format {fmt!r}; known: "
                                    f"{', '.join(FORMATS)}")])
    if not path.is_file():
        raise RunFileError([Problem(str(path), None, None, "no such file")])
    log = ProblemLog()
    seen_q: dict[str, tuple[int, Question]] = {}
    q_pos: dict[str, int | None] = {}
    first_q: dict[str, int] = {}
    first_s: dict[str, int] = {}
    s_pos: dict[str, int | None] = {}
    marked: set[str] = set()
    keys: dict[tuple[str, str, int], int] = {}
    records: list[ResponseRecord] = []
    clock = [0.0, math.nan]  # next free start; the first wall-clock start
    source_runs: set[str] = set()
    for line, raw in _read_rows(path, fmt):
        try:
            row = ExportedRow.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                log.add(path, line, _field(err["loc"]) or None, err["msg"])
            continue
        if raw.get("run_id"):
            source_runs.add(str(raw["run_id"]))
        key = (row.question_id, row.stack, row.attempt)
        if key in keys:
            log.add(path, line, "attempt", f"question {row.question_id!r}, stack {row.stack!r}, "
                    f"attempt {row.attempt} is already on line {keys[key]}")
            continue
        keys[key] = line
        q = _question(row)
        if row.question_id in seen_q and seen_q[row.question_id][1] != q:
            log.add(path, line, "question", f"question {row.question_id!r} differs from line "
                    f"{seen_q[row.question_id][0]} (text, gold answers or passages)")
            continue
        seen_q.setdefault(row.question_id, (line, q))
        first_q.setdefault(row.question_id, len(first_q))
        q_pos.setdefault(row.question_id, row.question_position)
        first_s.setdefault(row.stack, len(first_s))
        s_pos.setdefault(row.stack, row.stack_position)
        if row.baseline:
            marked.add(row.stack)
        timing = _timing(row, path, line, log, clock)
        if timing is not None:
            records.append(_record(row, timing))
    if log.total:
        raise RunFileError(log.problems, log.total)
    if not records:
        raise RunFileError([Problem(str(path), None, None, "no rows to import")])
    info = _run_info(path)
    stacks = _stacks(path, info, first_s, s_pos)
    base = _baseline(path, baseline, stacks, info, marked)
    questions = [seen_q[q][1] for q in _order(first_q, q_pos)]
    try:  # an exported manifest of any version, upgraded (a malformed one is refused)
        manifest = RunManifest.read(info.get("manifest") if info else None)
    except ManifestError as exc:
        raise RunFileError([Problem(str(run_info_path(path)), None, "manifest", str(exc))],
                           1) from exc
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if manifest.evalset is None:
        manifest.evalset = EvalsetRef(name=f"imported:{path.name}", digest=digest,
                                      source=str(path))
    manifest.baseline = base
    manifest.record_import(str(path), digest, len(records), from_runs=sorted(source_runs),
                           run_file=str(run_info_path(path)) if info else None)
    status = str(info.get("status", "completed")) if info else "completed"
    return ImportedRun(
        evalset=str(info.get("evalset") or f"imported:{path.name}") if info
        else f"imported:{path.name}",
        evalset_digest=str(info.get("evalset_digest") or digest) if info else digest,
        schedule=str(info.get("schedule") or "imported") if info else "imported",
        stacks=stacks, baseline=base, questions=questions, manifest=manifest,
        records=records,
        # A run exported while it ran was cut short here: it is not running any more.
        status=status if status in FINISHED else "cancelled",
        limit=info.get("question_limit") if info else None,
        votes=_votes(votes_path(path), fmt, source_runs) if votes else [],
    )


def _run_info(path: Path) -> dict[str, Any] | None:
    info_path = run_info_path(path)
    if not info_path.is_file():
        return None
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunFileError([Problem(str(info_path), exc.lineno, None,
                                    f"not valid JSON: {exc.msg}")]) from exc
    if not isinstance(info, dict) or not isinstance(info.get("stacks", []), list):
        raise RunFileError([Problem(str(info_path), None, "stacks", "expected a list")])
    return info


def _stacks(path: Path, info: dict[str, Any] | None, first_s: dict[str, int],
            s_pos: dict[str, int | None]) -> list[dict[str, Any]]:
    recipes: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate((info or {}).get("stacks", [])):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise RunFileError([Problem(str(run_info_path(path)), None, f"stacks[{i}].name",
                                        "expected a stack name")])
        recipe = entry.get("recipe")
        recipes[entry["name"]] = {**(recipe if isinstance(recipe, dict) else {}),
                                  "name": entry["name"]}
    # The run file's order (its stacks may include one that never answered), else the rows'.
    names = list(recipes) if recipes else _order(first_s, s_pos)
    missing = [n for n in first_s if n not in recipes] if recipes else []
    if missing:
        raise RunFileError([Problem(str(path), None, "stack",
                                    f"{', '.join(missing)} not among the stacks of "
                                    f"{run_info_path(path).name} ({', '.join(recipes)})")])
    if len(names) < MIN_STACKS:
        raise RunFileError([Problem(str(path), None, "stack", f"a run compares {MIN_STACKS} "
                                    f"or more stacks; the file has {', '.join(names)}")])
    if len(names) > MAX_STACKS:
        raise RunFileError([Problem(str(path), None, "stack", f"a run compares at most "
                                    f"{MAX_STACKS} stacks; the file has {len(names)}")])
    return [recipes.get(n, {"name": n}) for n in names]


def _baseline(path: Path, baseline: str | None, stacks: list[dict[str, Any]],
              info: dict[str, Any] | None, marked: set[str]) -> str:
    names = [str(s["name"]) for s in stacks]
    if baseline is not None:
        if baseline not in names:
            raise RunFileError([Problem(str(path), None, "baseline", f"--baseline {baseline!r} "
                                        f"is not a stack of the file ({', '.join(names)})")])
        return baseline
    from_info = [e["name"] for e in (info or {}).get("stacks", []) if e.get("baseline")]
    if from_info:
        return str(from_info[0])
    if len(marked) == 1:
        return marked.pop()
    return names[0]


def _votes(path: Path, fmt: str, source_runs: set[str]) -> list[ImportedVote]:
    if not path.is_file():
        return []
    log = ProblemLog()
    votes: list[ImportedVote] = []
    for line, raw in _read_rows(path, fmt):
        try:
            row = _VoteRow.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                log.add(path, line, _field(err["loc"]) or None, err["msg"])
            continue
        detail = {k: v for k, v in (("left", row.left), ("gold", row.gold),
                                    ("token_f1", row.token_f1)) if v is not None}
        votes.append(ImportedVote(
            id=row.vote_id, question=row.question, stack_a=row.stack_a, stack_b=row.stack_b,
            vote=row.vote, blind=row.blind, detail=detail, datetime_utc=row.datetime_utc,
            of_run=row.run_id is not None and row.run_id in source_runs))
    if log.total:
        raise RunFileError(log.problems, log.total)
    return votes


class _VoteRow(BaseModel):
    """One row of an exported votes file (`store.votes.vote_rows`)."""

    model_config = ConfigDict(extra="ignore")

    vote_id: str = Field(min_length=1)
    run_id: str | None = None
    question: str
    stack_a: str = Field(min_length=1)
    stack_b: str = Field(min_length=1)
    vote: str
    blind: bool
    left: str | None = None
    gold: Any = None
    token_f1: Any = None
    datetime_utc: str

    @field_validator("token_f1", mode="before")
    @classmethod
    def _parse_json(cls, value: Any) -> Any:
        return _json_text(value)

    @field_validator("vote")
    @classmethod
    def _known_vote(cls, value: str) -> str:
        if value not in VOTE_VALUES:
            raise ValueError(f"unknown vote {value!r}; known: {', '.join(VOTE_VALUES)}")
        return value
