"""File importers: postings that other scrapers left in JSONL, CSV/TSV or XLSX files.

    for item in import_file(Path("dump.csv"), mapping="51job-export", source="51job"):
        if isinstance(item, RecordError): ...   # "dump.csv:17: salary ... " — the run goes on
        else: ...                               # a Posting

* Format by suffix: ``.jsonl``/``.ndjson``/``.json`` (one object a line), ``.csv``/``.tsv``/``.txt``,
  ``.xlsx``/``.xlsm`` (openpyxl read-only, first sheet).
* Text files: UTF-8 with or without BOM, else GB18030 (which also reads GBK/GB2312); the
  encoding found is logged and kept on :attr:`FileImporter.encoding`.
* Mapping: see :mod:`crawlers.importers.mapping`; with none given, a preset whose columns
  match the header is used, else the columns are read as posting fields.
* Ids: the record's ``id`` when present, else ``source`` + a hash of url or
  title/company/city/description (:func:`skillsignal.core.records.record_id`), so importing
  a file twice upserts the same postings.
* Seen dates: a file's postings are first and last seen on the file's modification date (UTC), so
  importing the same file again moves no date, and a newer dump moves ``last_seen``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook

from skillsignal.core.encodings import detect_encoding
from skillsignal.core.models import Posting
from skillsignal.core.records import RecordError, record_to_posting

from .mapping import MappingError, MappingSpec, apply_mapping, guess_preset, preset_names, resolve_mapping
from .readers import read_csv, read_jsonl, read_xlsx

__all__ = [
    "FileImporter",
    "ImportResult",
    "MappingError",
    "MappingSpec",
    "RecordError",
    "estimate_records",
    "import_file",
    "preset_names",
]

log = logging.getLogger(__name__)

ImportResult = Posting | RecordError

FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}


class FileImporter:
    """One file's records as postings; counts and the encoding found are kept on the instance."""

    def __init__(
        self,
        path: Path | str,
        mapping: str | Path | MappingSpec | None = None,
        source: str | None = None,
        *,
        progress_every: int = 5000,
        sheet: str | None = None,
    ):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such file")
        self.format = FORMATS.get(self.path.suffix.lower())
        if self.format is None:
            raise ValueError(f"{self.path}: unknown file type {self.path.suffix!r}; expected {', '.join(FORMATS)}")
        self.spec = resolve_mapping(mapping)
        self.source = source
        self.progress_every = progress_every
        self.sheet = sheet
        self.encoding: str | None = None
        self.records = 0
        self.errors = 0

    def _rows(self):
        if self.format == "xlsx":
            return read_xlsx(self.path, self.sheet)
        self.encoding = detect_encoding(self.path)
        log.info("%s: reading as %s (%s)", self.path, self.encoding, self.format)
        return read_jsonl(self.path, self.encoding) if self.format == "jsonl" else read_csv(self.path, self.encoding)

    def __iter__(self) -> Iterator[ImportResult]:
        started = time.perf_counter()
        spec, decided = self.spec, self.spec is not None
        default_source = self.source or "import"
        # a file's postings were seen by the time it was written: importing it again, on any day,
        # moves no seen date (a newer dump of the same postings does)
        seen_on = datetime.fromtimestamp(self.path.stat().st_mtime, UTC).date()
        for line, row in self._rows():
            if isinstance(row, str):
                self.errors += 1
                yield RecordError(f"{self.path}:{line}: {row}")
                continue
            if not decided:
                spec, decided = guess_preset(row.keys()), True
                if spec is not None:
                    log.info("%s: columns match the mapping preset %r", self.path, spec.name)
            try:
                record = apply_mapping(row, spec, self.source)
                posting = record_to_posting(record, default_source)
                posting.first_seen = posting.last_seen = seen_on
            except RecordError as exc:
                self.errors += 1
                yield RecordError(f"{self.path}:{line}: {exc}")
                continue
            except ValueError as exc:  # pydantic validation (too long a title, ...)
                self.errors += 1
                reason = str(exc).splitlines()
                yield RecordError(f"{self.path}:{line}: {' '.join(r.strip() for r in reason[:3])}")
                continue
            self.records += 1
            if self.progress_every and (self.records + self.errors) % self.progress_every == 0:
                rate = (self.records + self.errors) / max(time.perf_counter() - started, 1e-9)
                log.info("%s: %d records read, %d rejected (%.0f/s)", self.path, self.records, self.errors, rate)
            yield posting
        log.info(
            "%s: done, %d records, %d rejected, %.1f s",
            self.path,
            self.records,
            self.errors,
            time.perf_counter() - started,
        )


def estimate_records(path: Path | str) -> int | None:
    """About how many records ``path`` holds, cheaply (for a progress bar): its non-empty lines
    (JSONL), its lines less the header (CSV/TSV, where a record may span lines), the sheet's
    rows less the header (XLSX); None when it cannot tell."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    try:
        if fmt == "xlsx":
            wb = load_workbook(path, read_only=True)
            try:
                rows = wb.worksheets[0].max_row
            finally:
                wb.close()
            return max(rows - 1, 0) if rows else None
        lines = 0
        with path.open("rb") as fh:
            for raw in fh:
                if raw.strip():
                    lines += 1
    except (OSError, ValueError, KeyError, IndexError):
        return None
    return lines if fmt == "jsonl" else max(lines - 1, 0)


def import_file(
    path: Path | str,
    mapping: str | Path | MappingSpec | None = None,
    source: str | None = None,
    **options,
) -> Iterator[ImportResult]:
    """Postings (or a :class:`RecordError` naming ``file:line`` and the reason) from one file.

    The file type, encoding and mapping are checked at once (``FileNotFoundError``,
    ``ValueError``/:class:`MappingError`); records are then read lazily, in constant memory.
    """
    return iter(FileImporter(path, mapping, source, **options))
