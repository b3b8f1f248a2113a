"""Every problem in an eval set is reported with its file, line and field, all at once."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.evalsets.helpers import (
    PASSAGES,
    QUESTIONS,
    write_csv,
    write_lines,
    write_parquet,
    write_set,
)
from workbench.evalsets import EvalSetError, load_evalset
from workbench.evalsets._files import MAX_LINE_BYTES
from workbench.evalsets._validate import check_passage, check_question
from workbench.evalsets.errors import MAX_PROBLEMS
from workbench.records.evalset import EvalSet


def _questions(**changes: Any) -> list[str]:
    """The sample questions as JSON lines; `changes` maps a 0-based index to a new record."""
    rows = [json.dumps(q) for q in QUESTIONS]
    for key, value in changes.items():
        rows[int(key[1:])] = value if isinstance(value, str) else json.dumps(value)
    return rows


def _error(tmp_path: Path, lines: Sequence[str | bytes]) -> EvalSetError:
    folder = write_set(tmp_path / "s")
    write_lines(folder / "questions.jsonl", lines)
    with pytest.raises(EvalSetError) as info:
        load_evalset(folder)
    return info.value


def _q(**fields: Any) -> dict[str, Any]:
    return {**QUESTIONS[0], **fields}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"id": "q3", "question": ', "questions.jsonl:3: malformed JSON"),
        ("[1, 2]", "questions.jsonl:3: expected a JSON object, got list"),
        ('{"id": "x", "a": NaN}', "questions.jsonl:3: malformed JSON: NaN is not valid JSON"),
        ('{"id": "x", "id": "y"}', "questions.jsonl:3: malformed JSON: duplicate key 'id'"),
        ("   ", "questions.jsonl:3: blank line"),
        (
            json.dumps({k: v for k, v in _q(id="qx").items() if k != "question"}),
            "questions.jsonl:3: question: missing",
        ),
        (
            json.dumps(_q(id="qx", answerable="yes")),
            "questions.jsonl:3: answerable: expected true or false, got string",
        ),
        (
            json.dumps(_q(id="qx", answers="27")),
            "questions.jsonl:3: answers: expected a list of strings, got string",
        ),
        (
            json.dumps(_q(id="qx", answers=["27", 27])),
            "questions.jsonl:3: answers: item 1: expected a string, got number",
        ),
        (json.dumps(_q(id="qx", question="")), "questions.jsonl:3: question: empty"),
        (json.dumps(_q(id="qx", meta=[1])), "questions.jsonl:3: meta: expected an object or null"),
        (
            json.dumps(_q(id="qx", meta={"counterfactual": {"passage_id": "p2"}})),
            "questions.jsonl:3: meta.counterfactual.false_answer: expected a non-empty string",
        ),
        (
            json.dumps(_q(id="qx", meta={"counterfactual": [{"passage_id": "zz",
                                                              "false_answer": "30 days"}]})),
            "questions.jsonl:3: meta.counterfactual.passage_id: 'zz' is not a corpus passage id",
        ),
        (json.dumps(_q(id="q1")), "questions.jsonl:3: id: duplicate id 'q1' (first at line 1)"),
        (
            json.dumps(_q(id="qx", gold_doc_ids=["nope"])),
            "questions.jsonl:3: gold_doc_ids: 'nope' is not a corpus passage id",
        ),
        (
            json.dumps(_q(id="qx", answerable=False)),
            "questions.jsonl:3: answers: must be [] when answerable is false",
        ),
        (
            json.dumps(
                _q(id="qx", answers=[], gold_doc_ids=[], answerable=False, source_doc_id="zz")
            ),
            "questions.jsonl:3: source_doc_id: 'zz' is not a corpus passage id",
        ),
        (
            json.dumps(_q(id="qx", answers=None, gold_doc_ids={"p1": 1})),
            "questions.jsonl:3: gold_doc_ids: expected a list of strings, got object",
        ),
    ],
)
def test_problem_names_file_line_and_field(tmp_path: Path, line: str, expected: str) -> None:
    err = _error(tmp_path, _questions(i2=line))
    assert expected in str(err), str(err)
    assert err.problems[0].line == 3


def test_unanswerable_with_gold_ids_names_both_fields(tmp_path: Path) -> None:
    err = _error(tmp_path, _questions(i2=_q(id="qx", answerable=False)))
    fields = {p.field for p in err.problems}
    assert fields == {"answers", "gold_doc_ids"}


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    bad = json.dumps(_q(id="qx")).encode().replace(b"How", b"H\xff\xfew")
    err = _error(tmp_path, [*_questions()[:2], bad])
    assert "questions.jsonl:3: invalid UTF-8 at byte" in str(err)


def test_byte_order_mark_is_reported(tmp_path: Path) -> None:
    lines = _questions()
    err = _error(tmp_path, [b"\xef\xbb\xbf" + lines[0].encode(), *lines[1:]])
    assert "questions.jsonl:1: file starts with a byte-order mark" in str(err)


def test_huge_line_is_an_error_not_a_hang(tmp_path: Path) -> None:
    huge = json.dumps(_q(id="qx", question="x" * (MAX_LINE_BYTES + 10)))
    lines = _questions()
    started = time.monotonic()
    err = _error(tmp_path, [lines[0], huge, *lines[1:], json.dumps(_q(id="q1"))])
    assert time.monotonic() - started < 10
    text = str(err)
    assert f"questions.jsonl:2: line longer than {MAX_LINE_BYTES} bytes" in text
    # reading goes on after the huge line: the duplicate on line 6 is reported too
    assert "questions.jsonl:6: id: duplicate id 'q1'" in text


def test_huge_line_without_newline_at_end_of_file(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "s")
    (folder / "questions.jsonl").write_bytes(b'{"id": "' + b"x" * (3 * MAX_LINE_BYTES))
    with pytest.raises(EvalSetError, match=re.escape("questions.jsonl:1: line longer than")):
        load_evalset(folder)


def test_every_problem_in_one_error_up_to_the_cap(tmp_path: Path) -> None:
    lines = [json.dumps(_q(id=f"x{i}", answerable="no")) for i in range(MAX_PROBLEMS + 7)]
    err = _error(tmp_path, lines)
    assert err.total == MAX_PROBLEMS + 7
    assert len(err.problems) == MAX_PROBLEMS
    assert [p.line for p in err.problems] == list(range(1, MAX_PROBLEMS + 1))
    assert str(err).endswith("... and 7 more")


def test_problems_in_both_files_are_reported_together(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "s")
    write_lines(folder / "corpus.jsonl", [json.dumps(PASSAGES[0]), '{"id": "p2"}'])
    write_lines(folder / "questions.jsonl", ["{oops", *_questions()[1:]])
    with pytest.raises(EvalSetError) as info:
        load_evalset(folder)
    text = str(info.value)
    assert "corpus.jsonl:2: text: missing" in text
    assert "questions.jsonl:1: malformed JSON" in text


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "s")
    (folder / "corpus.jsonl").write_bytes(b"")
    with pytest.raises(EvalSetError, match=re.escape("corpus.jsonl: no records")):
        load_evalset(folder)


def test_csv_problems_name_the_line(tmp_path: Path) -> None:
    rows = [dict(q) for q in QUESTIONS]
    rows[1]["answers"] = "not json"
    folder = write_set(tmp_path / "s", ".csv")
    write_csv(folder / "questions.csv", rows)
    text = (folder / "questions.csv").read_text().replace('"[""Keelhaul""]"', "not json")
    (folder / "questions.csv").write_text(text.replace(",true,", ",maybe,", 1))
    with pytest.raises(EvalSetError) as info:
        load_evalset(folder)
    msg = str(info.value)
    assert "questions.csv:2: answerable: expected true or false, got 'maybe'" in msg
    assert "questions.csv:3: answers: not valid JSON" in msg


def test_csv_with_a_quoted_newline_keeps_line_numbers(tmp_path: Path) -> None:
    passages = [dict(p) for p in PASSAGES]
    passages[0]["text"] = "Two\nlines."
    passages[2]["text"] = ""
    folder = write_set(tmp_path / "s", ".csv", passages=passages)
    with pytest.raises(EvalSetError, match=re.escape("corpus.csv:5: text: missing")):
        load_evalset(folder)


def test_parquet_problems_name_the_record(tmp_path: Path) -> None:
    rows = [dict(q) for q in QUESTIONS]
    rows[3]["gold_doc_ids"] = ["p9"]
    folder = write_set(tmp_path / "s", ".parquet")
    write_parquet(folder / "questions.parquet", rows)
    with pytest.raises(
        EvalSetError, match=re.escape("questions.parquet:4: gold_doc_ids: 'p9' is not")
    ):
        load_evalset(folder)


def test_truncated_parquet_is_an_evalset_error(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "s", ".parquet")
    data = (folder / "questions.parquet").read_bytes()
    (folder / "questions.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(
        EvalSetError, match=re.escape("questions.parquet: the datasets library could not")
    ):
        load_evalset(folder)


# Fuzzing: whatever a line holds, the loader loads the set or raises EvalSetError.

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_field_values = {
    "id": st.sampled_from(["q1", "qz", "", "p1"]) | _json,
    "question": st.text(max_size=10) | _json,
    "answers": st.lists(st.text(max_size=5), max_size=2) | _json,
    "gold_doc_ids": st.lists(st.sampled_from(["p1", "p2", "zz", ""]), max_size=2) | _json,
    "answerable": st.booleans() | _json,
    "lang": st.sampled_from(["en", "ru"]) | _json,
    "meta": st.dictionaries(st.text(max_size=4), _json, max_size=2) | _json,
    "source_doc_id": st.sampled_from(["p1", "zz"]) | _json,
}
_records = st.fixed_dictionaries({}, optional=_field_values)
# Valid questions with odd extras: these get past the line check and through `datasets`.
_valid_records = st.fixed_dictionaries(
    {
        "id": st.text(min_size=1, max_size=6).filter(str.strip).map(lambda s: "f" + s),
        "question": st.just("Q?"),
        "answers": st.just(["a"]),
        "gold_doc_ids": st.lists(st.sampled_from(["p1", "p2"]), max_size=2),
        "answerable": st.just(True),
    },
    optional={"meta": st.dictionaries(st.text(max_size=4), _json, max_size=3), "extra": _json},
)
_lines = (
    (_records | _valid_records).map(lambda r: json.dumps(r, allow_nan=True).encode())
    | st.binary(max_size=60)
    | st.text(max_size=60).map(str.encode)
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(line=_lines, where=st.integers(min_value=0, max_value=4))
def test_any_line_loads_or_raises_evalset_error(
    tmp_path_factory: pytest.TempPathFactory, line: bytes, where: int
) -> None:
    folder = write_set(tmp_path_factory.mktemp("fuzz"))
    lines: list[str | bytes] = list(_questions())
    lines.insert(where, line.replace(b"\n", b" ").replace(b"\r", b" "))
    write_lines(folder / "questions.jsonl", lines)
    try:
        es = load_evalset(folder)
    except EvalSetError as e:
        assert all(p.path.endswith("questions.jsonl") for p in e.problems)
        assert all(p.line is not None for p in e.problems)
    else:
        event("loaded")
        assert isinstance(es, EvalSet)
        assert len(es.questions) == len(QUESTIONS) + 1


@settings(max_examples=300, deadline=None)
@given(record=_records | st.dictionaries(st.text(max_size=6), _json, max_size=6))
def test_record_checks_never_raise(record: dict[str, Any]) -> None:
    assert isinstance(check_question(record), list)
    assert isinstance(check_passage(record), list)


def test_an_integer_beyond_64_bits_is_refused_with_its_line(tmp_path: Path) -> None:
    """`datasets` cannot read it and would say so without a line number."""
    folder = write_set(tmp_path)
    lines: list[str | bytes] = list(_questions())
    lines.insert(1, json.dumps({"id": "big", "question": "q?", "answers": ["a"],
                                "meta": {"n": -(10**25)}}))
    write_lines(folder / "questions.jsonl", lines)
    with pytest.raises(EvalSetError) as caught:
        load_evalset(folder)
    (problem,) = caught.value.problems
    assert problem.line == 2 and "does not fit in 64 bits" in problem.message
