"""The seen-store: what each detail page looked like when it was last stored.

One SQLite file under ``settings.crawl_dir`` maps a page key (host without port + canonical
path and query) to its ``ETag``, ``Last-Modified``, content fingerprint and posting ids, and
records the crawl *generation* that last stored it. A re-crawl sends conditional requests
(``If-None-Match`` / ``If-Modified-Since``) from it; a run that resumes an interrupted
generation skips pages that generation already stored. Rows are written only after the
posting itself has been persisted, so a crawl killed at any moment never marks a page as
done that is not in the store.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from skillsignal.core.state_files import StoreCorruptError, check_sqlite_file, is_corruption, quick_check_problem

from .jsonld import host_of, url_key

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    fingerprint TEXT,
    posting_ids TEXT,
    generation INTEGER NOT NULL,
    stored_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    job TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    open INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
"""


def seen_remedy(path: Path) -> str:
    return (
        f"it only makes re-crawls conditional and resumable: move it aside (mv {path} {path}.damaged) "
        "and the next crawl starts a new one, fetching every page again; SkillSignal does not overwrite it"
    )


def page_key(url: str) -> str:
    return host_of(url) + url_key(url)


@dataclass(frozen=True)
class SeenPage:
    key: str
    url: str
    etag: str | None
    last_modified: str | None
    fingerprint: str | None
    posting_ids: str | None
    generation: int


@dataclass(frozen=True)
class PageRecord:
    url: str
    etag: str | None
    last_modified: str | None
    fingerprint: str | None
    posting_ids: Iterable[str] = ()


class SeenStore:
    """Thread-safe access to ``<crawl_dir>/seen.sqlite3`` (one connection per thread, WAL)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        remedy = seen_remedy(self.path)
        check_sqlite_file(self.path, remedy)
        try:
            self._conn().executescript(SCHEMA)
            # small (a row per page): checked whole at every start, ~1 ms per 1,000 pages
            problem = quick_check_problem(self._conn())
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise
            problem = str(exc)
        if problem is not None:
            self.close()
            raise StoreCorruptError(f"the crawl state {self.path} is damaged ({problem}); {remedy}")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    # -- generations -----------------------------------------------------------------------
    def begin(self, job: str) -> tuple[int, bool]:
        """Open a run of ``job``: (generation, resumed). An unfinished generation is resumed."""
        conn = self._conn()
        row = conn.execute("SELECT generation, open FROM jobs WHERE job=?", (job,)).fetchone()
        if row and row[1]:
            return int(row[0]), True
        generation = (int(row[0]) + 1) if row else 1
        conn.execute(
            "INSERT OR REPLACE INTO jobs(job, generation, open, updated_at) VALUES (?,?,1,?)",
            (job, generation, time.time()),
        )
        return generation, False

    def finish(self, job: str) -> None:
        """Mark ``job``'s generation complete: the next run re-checks every page conditionally."""
        self._conn().execute("UPDATE jobs SET open=0, updated_at=? WHERE job=?", (time.time(), job))

    # -- pages -----------------------------------------------------------------------------
    def get(self, url: str) -> SeenPage | None:
        key = page_key(url)
        row = (
            self._conn()
            .execute(
                "SELECT key, url, etag, last_modified, fingerprint, posting_ids, generation FROM pages WHERE key=?",
                (key,),
            )
            .fetchone()
        )
        return SeenPage(*row) if row else None

    def record(self, pages: Iterable[PageRecord], generation: int) -> int:
        rows = [
            (
                page_key(p.url),
                p.url,
                p.etag,
                p.last_modified,
                p.fingerprint,
                ",".join(p.posting_ids),
                generation,
                time.time(),
            )
            for p in pages
        ]
        if not rows:
            return 0
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT OR REPLACE INTO pages(key, url, etag, last_modified, fingerprint, posting_ids, generation,"
                " stored_at) VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(rows)

    def touch(self, url: str, generation: int) -> None:
        """A page answered 304: it is current as of ``generation``."""
        self._conn().execute(
            "UPDATE pages SET generation=?, stored_at=? WHERE key=?", (generation, time.time(), page_key(url))
        )

    def count(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM pages").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
        self._local = threading.local()
