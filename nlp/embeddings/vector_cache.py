"""Sentence vectors kept on disk between runs (SQLite), keyed by model fingerprint, kind, text.

Real postings repeat sentences (boilerplate duties, re-posted jobs, the same requirement in
many postings of one employer), and ``reprocess`` re-reads everything it has seen before: a
vector that was computed once is read back instead of running the model again. The key is the
exact text the model would see (the extractor has already normalised it) plus the embedder's
fingerprint (model, backend, precision, tokens kept), so a cached vector is the vector the
model gives for that text. Several processes may share the file (WAL, busy timeout); a file
that cannot be opened or written only costs speed (logged once).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FILE_NAME = "sentences.sqlite3"
_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL) WITHOUT ROWID"
_CHUNK = 500  # keys per SELECT (SQLite's variable limit is 32766; keep statements small)


class VectorCache:
    def __init__(self, path: Path, fingerprint: str, dim: int) -> None:
        self.path = Path(path)
        self.fingerprint = fingerprint
        self.dim = dim
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._broken = False
        self._pid = os.getpid()

    def _key(self, kind: str, text: str) -> bytes:
        return hashlib.blake2b(f"{self.fingerprint}\x1f{kind}\x1f{text}".encode(), digest_size=16).digest()

    def _connect(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        if self._conn is not None and self._pid != os.getpid():
            self._conn = None  # inherited through fork: SQLite connections must not cross it
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(_SCHEMA)
                self._conn = conn
                self._pid = os.getpid()
            except sqlite3.Error as exc:
                self._fail("open", exc)
                return None
        return self._conn

    def _fail(self, what: str, exc: Exception) -> None:
        log.warning("sentence vector cache %s: cannot %s (%s); running without it", self.path, what, exc)
        self._broken = True
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None

    def get_many(self, kind: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors found for ``texts`` (only those present)."""
        with self._lock:
            conn = self._connect()
            if conn is None or not texts:
                return {}
            keys = {self._key(kind, t): t for t in texts}
            found: dict[str, np.ndarray] = {}
            items = list(keys)
            try:
                for i in range(0, len(items), _CHUNK):
                    part = items[i : i + _CHUNK]
                    marks = ",".join("?" * len(part))
                    for key, blob in conn.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", part):
                        vec = np.frombuffer(blob, dtype=np.float32)
                        if vec.shape[0] == self.dim:
                            found[keys[key]] = vec
            except sqlite3.Error as exc:
                self._fail("read", exc)
                return {}
            return found

    def put_many(self, kind: str, texts: Sequence[str], vecs: np.ndarray) -> None:
        with self._lock:
            conn = self._connect()
            if conn is None or not len(texts):
                return
            rows = [
                (self._key(kind, t), np.ascontiguousarray(v, dtype=np.float32).tobytes())
                for t, v in zip(texts, vecs, strict=True)
            ]
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT OR IGNORE INTO vectors (key, vec) VALUES (?, ?)", rows)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._fail("write", exc)

    def __len__(self) -> int:
        with self._lock:
            conn = self._connect()
            if conn is None:
                return 0
            return int(conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
