"""The embedded default store: one SQLite file (WAL), created on first use, schema versioned.

Postings are upserted by id, so re-running a crawl, an import or an extraction never
double-counts. A posting's raw fields are written before extraction; facts are attached
afterwards (:meth:`SQLiteStore.save_extractions`), so a failing extraction loses nothing.

The store composes its parts, one job each: ``connection`` (a connection per thread, write
transactions), ``writes`` (upserts, near-duplicate marks), ``migrations`` (schema versions),
``bulk`` (a large import that builds its indexes and roll-ups at the end), ``reads`` (postings,
full-text search) and ``analytics`` (the counting hooks, in SQL); the queries themselves come from
:class:`storage.shared.SharedIndex`, shared with the search backend.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from skillsignal.core.state_files import check_sqlite_file, corrupt_error, is_corruption, store_remedy

from ..shared import SharedIndex
from .analytics import SQLiteAnalytics
from .bulk import SQLiteBulkLoad
from .migrations import SQLiteMigrations
from .reads import SQLiteReads


class SQLiteStore(SQLiteMigrations, SQLiteBulkLoad, SQLiteReads, SQLiteAnalytics, SharedIndex):
    """Postings and their extracted facts in one SQLite file; safe to share across threads. It
    implements :class:`storage.base.PostingIndex`."""

    backend_name = "sqlite"

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        check_sqlite_file(self.path, store_remedy(self.path))
        try:
            self._migrate()
            self._finish_interrupted_bulk_load()
        except sqlite3.DatabaseError as exc:
            if is_corruption(exc):
                self.close()
                raise corrupt_error(self.path, exc) from exc
            raise
