"""Bulk load: a large import without the per-row upkeep that makes a shuffled import slow.

Every posting a store takes writes into a dozen date-keyed secondary indexes and some forty
roll-up cells. Postings that arrive in date order write at the right edge of each B-tree; a
historical dump in any order writes all over them, and each batch rewrites most of their pages —
the rate falls as the store grows (1M postings shuffled: 2,700/s over the first 100,000, 1,000/s
over the seventh; ``benchmarks/bench_query.py --order shuffled``).

:meth:`SQLiteBulkLoad.bulk_load` does what SQLite's documentation advises for a bulk insert —
build the indexes after the rows — and counts the roll-ups once at the end from the rows instead of
cell by cell: on entry it drops :data:`~.schema.DEFERRABLE_INDEXES`; inside, this store's writes
skip the roll-up deltas; on exit (also on an error) it builds each index and each roll-up table
again, one transaction each, so other writers wait seconds, not minutes. The end costs time in
proportion to the whole store, not to the import: it pays for an initial load or a dump about the
size of the store, not for a daily crawl.

While a bulk load runs (a ``bulk_load`` row in ``meta``), every process's queries scan the rows
instead of the stale roll-ups — right, but slower — and other processes may keep writing (the
rebuild counts their rows too). A load that dies half-way (killed, power lost) leaves the row;
the next process that opens the store finds no live loader (an exclusive ``flock`` on
``<db>.bulk-lock`` is held while one runs) and finishes the rebuild. Nothing written is lost: the
postings are committed batch by batch as in any import.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from skillsignal.core.state_files import StoreError

from .rollups import CUBOIDS, rebuild_rollup
from .schema import DEFERRABLE_INDEXES, index_ddl
from .writes import SQLiteWrites

log = logging.getLogger(__name__)

#: the ``meta`` key present while a bulk load runs or waits to be finished
BULK_LOAD_KEY = "bulk_load"

#: told of each step of the rebuild at the end of a bulk load
Progress = Callable[[str], None]


def bulk_load_pending(conn: sqlite3.Connection) -> bool:
    """True while a bulk load runs (or one that died awaits its rebuild): the roll-ups are stale."""
    return conn.execute("SELECT 1 FROM meta WHERE key = ?", (BULK_LOAD_KEY,)).fetchone() is not None


class SQLiteBulkLoad(SQLiteWrites):
    @contextmanager
    def bulk_load(self, progress: Progress | None = None) -> Iterator[None]:
        """See :meth:`storage.base.PostingIndex.bulk_load` and the module docstring.

        Raises :class:`StoreError` when another process is bulk-loading the same file."""
        if self._bulk_loading:  # nested: the outer load finishes
            yield
            return
        with self._bulk_lock() as held:
            if not held:
                raise StoreError(
                    f"another process is bulk-loading {self.path}; wait for it to finish, or import without --bulk"
                )
            owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": datetime.now(UTC).isoformat()}
            with self._tx() as tx:
                tx.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (BULK_LOAD_KEY, json.dumps(owner)))
                for name in DEFERRABLE_INDEXES:
                    tx.execute(f"DROP INDEX IF EXISTS {name}")
            self._bulk_loading = True
            try:
                yield
            finally:
                self._bulk_loading = False
                self._finish_bulk_load(progress)

    def _finish_interrupted_bulk_load(self) -> None:
        """Opening the store: finish a bulk load whose process died (none holds the lock)."""
        if not bulk_load_pending(self._connect()):
            return
        with self._bulk_lock() as held:
            if not held or not bulk_load_pending(self._connect()):
                return  # a live load finishes itself, or one finished meanwhile
            log.warning(
                "%s: a bulk load was interrupted; building its indexes and roll-ups again "
                "(a few minutes per million postings)",
                self.path,
            )
            self._finish_bulk_load(None)

    def _finish_bulk_load(self, progress: Progress | None) -> None:
        tell = progress or (lambda step: log.info("%s", step))
        started = time.monotonic()
        tables = [(c, grain) for c in CUBOIDS for grain in c.grains]
        tell(f"bulk load: building {len(DEFERRABLE_INDEXES)} indexes and {len(tables)} roll-up tables")
        for i, name in enumerate(DEFERRABLE_INDEXES, 1):
            with self._tx() as tx:
                tx.execute(index_ddl(name))
            tell(f"bulk load: index {name} built ({i}/{len(DEFERRABLE_INDEXES)}, {time.monotonic() - started:.0f} s)")
        for i, (c, grain) in enumerate(tables, 1):
            with self._tx() as tx:
                rebuild_rollup(tx, c, grain)
            tell(f"bulk load: roll-up {c.table(grain)} counted ({i}/{len(tables)}, {time.monotonic() - started:.0f} s)")
        with self._tx() as tx:
            tx.execute("DELETE FROM meta WHERE key = ?", (BULK_LOAD_KEY,))
        tell(f"bulk load: finished in {time.monotonic() - started:.0f} s")

    @contextmanager
    def _bulk_lock(self) -> Iterator[bool]:
        """Try to take the exclusive lock a bulk load holds while it runs; yields whether it was taken."""
        with open(self.path.with_name(self.path.name + ".bulk-lock"), "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
