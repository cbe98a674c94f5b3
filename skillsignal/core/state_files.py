"""The SQLite files SkillSignal keeps (the posting store, the crawl state): their errors, and
telling a damaged file apart from a locked or mis-used one, with what to do about it.

Used by ``storage`` and by the crawl state (``crawlers/seen.py``), so it sits at the floor.
SkillSignal never repairs or replaces a damaged file on its own.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class StoreError(RuntimeError):
    """The store cannot be used as asked; the message says what to do."""


class StoreCorruptError(StoreError):
    """The database file is damaged, empty or not SQLite at all; the message says what to do.
    SkillSignal never repairs or replaces such a file on its own."""


#: The first 16 bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: Primary SQLite result codes that mean a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB; and the
#: extended SQLITE_IOERR_SHORT_READ (the file ends before a page it lists).
_CORRUPT_CODES = frozenset({11, 26})
_SHORT_READ = 522


def store_remedy(path: Path | str) -> str:
    return (
        f"restore it from a backup, or move it aside (mv {path} {path}.damaged) and import or crawl "
        "the postings again into a new store; SkillSignal does not overwrite it"
    )


def is_corruption(exc: BaseException) -> bool:
    """Whether an sqlite3 error says the database file is damaged (not locked, not a bad query)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _CORRUPT_CODES or code == _SHORT_READ
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def check_sqlite_file(path: Path | str, remedy: str) -> None:
    """Raise :class:`StoreCorruptError` when an existing file at ``path`` cannot be an intact
    SQLite database: empty, not SQLite, or shorter than its header says. Reads 100 bytes; a
    missing file is fine (it is created)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        raise StoreCorruptError(f"{path} is empty (0 bytes), not a SkillSignal database; {remedy}")
    with path.open("rb") as fh:
        head = fh.read(100)
    if not head.startswith(SQLITE_HEADER):
        raise StoreCorruptError(f"{path} is not an SQLite database (it starts with {head[:16]!r}); {remedy}")
    if len(head) < 100:
        raise StoreCorruptError(f"{path} is truncated ({size} bytes, less than an SQLite header); {remedy}")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    if pages and head[24:28] == head[92:96] and size < pages * page_size:  # the header's size is valid
        raise StoreCorruptError(
            f"{path} is truncated: {size:,} bytes where its header lists {pages:,} pages of {page_size:,} "
            f"({pages * page_size:,} bytes); {remedy}"
        )


def quick_check_problem(conn: sqlite3.Connection, max_errors: int = 3) -> str | None:
    """None when ``PRAGMA quick_check`` finds the database intact, else its findings on one line."""
    try:
        rows = [str(r[0]) for r in conn.execute(f"PRAGMA quick_check({int(max_errors)})").fetchall()]
    except sqlite3.DatabaseError as exc:
        if not is_corruption(exc):
            raise
        rows = [str(exc)]
    if rows == ["ok"]:
        return None
    return "; ".join(line.strip() for row in rows for line in row.splitlines() if line.strip() and "***" not in line)


def corrupt_error(path: Path | str, exc: BaseException) -> StoreCorruptError:
    return StoreCorruptError(f"{path} is damaged ({exc}); {store_remedy(path)}")
