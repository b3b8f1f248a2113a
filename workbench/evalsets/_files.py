"""Read JSON Lines and CSV files record by record, before `datasets` sees them.

`datasets` (pyarrow) reports a broken file as one exception without a line number and
stops at the first problem; reading line by line here lets an error name every bad line.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import BinaryIO, NoReturn

from workbench.evalsets._validate import Located, Record
from workbench.evalsets.errors import ProblemLog

#: A line longer than this is an error: no passage is a megabyte, and reading on would
#: only hang on a file that is not JSON Lines at all (a minified JSON document, a binary).
MAX_LINE_BYTES = 1 << 20
_BOM = b"\xef\xbb\xbf"
#: CSV cells that hold JSON (lists, objects), as the format says.
CSV_JSON_FIELDS = ("answers", "gold_doc_ids", "meta")
_CSV_BOOLS = {"true": True, "false": False, "1": True, "0": False}


def _reject_constant(name: str) -> NoReturn:
    # Python's json accepts NaN and Infinity; JSON (and pyarrow) do not.
    raise ValueError(f"{name} is not valid JSON")


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _int64(text: str) -> int:
    # Python reads any integer, but `datasets` (pyarrow, pandas' ujson) fails on one outside
    # 64 bits with no line number: refuse it here, where the line is known.
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"integer {text[:30]} does not fit in 64 bits")
    return value


def parse_json(text: str) -> object:
    """Strict JSON: no NaN/Infinity, no duplicate keys, integers within 64 bits (raises
    ValueError or RecursionError)."""
    return json.loads(
        text, parse_constant=_reject_constant, object_pairs_hook=_object_without_duplicates,
        parse_int=_int64,
    )


def _read_line(f: BinaryIO) -> tuple[bytes, bool]:
    """The next line (b"" at the end) and whether it was too long (then it is skipped)."""
    raw = f.readline(MAX_LINE_BYTES + 1)
    if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
        return raw, False
    while True:  # skip the rest in bounded chunks: memory stays flat on any file
        chunk = f.readline(MAX_LINE_BYTES)
        if not chunk or chunk.endswith(b"\n"):
            return raw[:1], True


def read_jsonl(path: Path, log: ProblemLog) -> list[Located]:
    """Parse a JSON Lines file; every unreadable line goes to `log` with its number."""
    records: list[Located] = []
    with path.open("rb") as f:
        line = 0
        while True:
            raw, too_long = _read_line(f)
            if not raw:
                return records
            line += 1
            if too_long:
                log.add(path, line, None, f"line longer than {MAX_LINE_BYTES} bytes")
                continue
            record = _parse_line(raw, path, line, log)
            if record is not None:
                records.append(Located(str(path), line, record))


def _parse_line(raw: bytes, path: Path, line: int, log: ProblemLog) -> Record | None:
    if line == 1 and raw.startswith(_BOM):
        log.add(path, line, None, "file starts with a byte-order mark; save as UTF-8 without BOM")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        log.add(path, line, None, f"invalid UTF-8 at byte {e.start + 1} of the line")
        return None
    if not text.strip():
        log.add(path, line, None, "blank line (JSON Lines holds one object on every line)")
        return None
    try:
        value = parse_json(text)
    except json.JSONDecodeError as e:
        log.add(path, line, None, f"malformed JSON: {e.msg} at column {e.colno}")
        return None
    except (ValueError, RecursionError) as e:
        log.add(path, line, None, f"malformed JSON: {e or 'nested too deeply'}")
        return None
    if not isinstance(value, dict):
        log.add(path, line, None, f"expected a JSON object, got {type(value).__name__}")
        return None
    return value


def read_csv(path: Path, log: ProblemLog) -> tuple[list[str], list[Located]]:
    """Parse a CSV file with a header row: its column names and decoded records."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        log.add(path, line, None, "invalid UTF-8")
        return [], []
    if text.startswith("\ufeff"):
        log.add(path, 1, None, "file starts with a byte-order mark; save as UTF-8 without BOM")
        return [], []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[Located] = []
    try:
        header = next(reader, [])
        line = reader.line_num + 1
        for cells in reader:
            if len(cells) != len(header):
                log.add(path, line, None, f"{len(cells)} cells, the header has {len(header)}")
            else:
                row = dict(zip(header, cells, strict=True))
                records.append(Located(str(path), line, decode_csv_row(row, path, line, log)))
            line = reader.line_num + 1
    except csv.Error as e:
        log.add(path, reader.line_num, None, f"malformed CSV: {e}")
    return header, records


def decode_csv_row(cells: dict[str, str], path: Path | str, line: int, log: ProblemLog) -> Record:
    """A CSV row as a record: JSON cells decoded, `answerable` a boolean, empty cells absent."""
    record: Record = {}
    for key, cell in cells.items():
        if cell == "":
            continue  # an empty cell is a missing value (`title`, `meta`); checks say if required
        if key in CSV_JSON_FIELDS:
            try:
                record[key] = parse_json(cell)
            except (ValueError, RecursionError):
                log.add(path, line, key, "not valid JSON (CSV list fields hold JSON strings)")
        elif key == "answerable":
            flag = _CSV_BOOLS.get(cell.strip().lower())
            if flag is None:
                log.add(path, line, key, f"expected true or false, got {cell!r}")
            else:
                record[key] = flag
        else:
            record[key] = cell
    return record
