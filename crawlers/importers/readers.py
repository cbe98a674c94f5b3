"""Row readers: each yields ``(line, row dict)`` or ``(line, reason)`` for a row it cannot read.

``line`` is the 1-based physical line (JSONL/CSV) or sheet row (XLSX) where the record starts.
Every reader streams: memory stays constant whatever the file size.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from skillsignal.core.encodings import decoded_lines
from skillsignal.core.models import MAX_DESCRIPTION_CHARS

Row = tuple[int, dict[str, Any] | str]

# A 1 MB description must fit in one CSV field (the default limit is 128 KiB).
csv.field_size_limit(min(sys.maxsize, 4 * MAX_DESCRIPTION_CHARS + 1024))


def read_jsonl(path: Path, encoding: str) -> Iterator[Row]:
    for lineno, line, bad in decoded_lines(path, encoding):
        if bad is not None:
            yield lineno, bad
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, f"invalid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(obj, dict):
            yield lineno, f"expected a JSON object, got {type(obj).__name__}"
            continue
        yield lineno, obj


def _delimiter(path: Path, header: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def read_csv(path: Path, encoding: str) -> Iterator[Row]:
    lines = decoded_lines(path, encoding)
    first = next(lines, None)
    if first is None:
        return
    _, header_line, bad = first
    if bad is not None:
        yield 1, f"header: {bad}"
        return
    delimiter = _delimiter(path, header_line)
    header = next(csv.reader(io.StringIO(header_line), delimiter=delimiter), [])
    header = [h.strip() for h in header]
    if not any(header):
        return
    # A record may span lines (a quoted line break): it is rejected when one of its lines
    # is not text; the bad lines are read with U+FFFD so that the records after them line up.
    bad_lines: dict[int, str] = {}

    def texts() -> Iterator[str]:
        for lineno, text, reason in lines:
            if reason is not None:
                bad_lines[lineno] = reason
            yield text

    def undecodable(last: int) -> str | None:
        reasons = [bad_lines.pop(n) for n in sorted(n for n in bad_lines if n <= last)]
        return reasons[0] if reasons else None

    reader = csv.reader(texts(), delimiter=delimiter)
    start = 2
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            undecodable(reader.line_num + 1)
            yield start, f"unreadable CSV row ({exc})"
            start = reader.line_num + 2
            continue
        line, start = start, reader.line_num + 2
        reason = undecodable(reader.line_num + 1)
        if reason is not None:
            yield line, reason
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            extra = values[len(header) :]
            if any(v.strip() for v in extra):
                yield line, f"{len(values)} fields but the header has {len(header)} (unquoted delimiter?)"
                continue
            values = values[: len(header)]
        yield line, dict(zip(header, values, strict=False))  # a short row leaves its last fields empty


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value
    return value


def read_xlsx(path: Path, sheet: str | None = None) -> Iterator[Row]:
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            return
        header = ["" if h is None else str(h).strip() for h in header_row]
        for rowno, values in enumerate(rows, start=2):
            if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            yield rowno, {h: _cell(v) for h, v in zip(header, values, strict=False) if h}  # short rows
    finally:
        wb.close()
