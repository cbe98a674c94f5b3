"""One SQLite connection per thread over the store's file, and write transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skillsignal.core.state_files import StoreError, quick_check_problem

#: WAL pages a commit may leave before it copies them into the database file (SQLite's default:
#: 1,000, i.e. a checkpoint after every commit of a bulk ingest). A page rewritten by several
#: commits in between is copied once: a shuffled bulk import rewrites most of each date-keyed
#: B-tree every batch, and this cuts what it writes by about a third (measured with
#: ``benchmarks/bench_query.py --order shuffled``). A larger page cache inside write transactions
#: was measured too and changed nothing at 300k (the same bytes written, the same CPU time); at 1M
#: shuffled a 1 GB cache with the largest mmap SQLite allows (2 GB) gained 4 %.
WAL_AUTOCHECKPOINT_PAGES = 262_144
#: the WAL file is cut back to this size after a checkpoint (it would otherwise keep its largest size)
JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024


class SQLiteConnection:
    """The store's file, a connection per thread (WAL, so readers never wait for the writer) and one
    writer at a time; the parts of the store (writes, reads, analytics) build on it."""

    path: Path
    _local: threading.local
    _write_lock: threading.Lock

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {self.path}: {exc}; check the path and its permissions") from exc
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-131072")
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT_BYTES}")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA mmap_size=1073741824")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def check_integrity(self, max_errors: int = 3) -> str | None:
        """None when SQLite's ``PRAGMA quick_check`` finds the file intact, else what it found
        (the first ``max_errors`` problems). It reads every page: milliseconds for a small store,
        about a second per GB."""
        return quick_check_problem(self._connect(), max_errors)

    @property
    def schema_version(self) -> int:
        row = self._connect().execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row["value"])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
