"""Near-duplicate postings: the same job reposted with small edits, or found on two boards.

How two postings are judged the same job
    * Text: NFKC, case-folded, with whitespace and punctuation removed, of title + company +
      description; its set of character 4-grams ("shingles": Chinese has no spaces to split on).
    * Exact fast path: postings with one :attr:`Posting.fingerprint` (hash of the same
      normalised fields) are duplicates without MinHash; a known fingerprint's signature is reused.
    * Near path: a 128-permutation MinHash of the shingles; candidates from a MinHash LSH index
      (datasketch) at ``threshold`` and kept when the estimated Jaccard similarity is
      ``>= threshold`` (default 0.8), the titles are alike (character-bigram Jaccard >= 0.5, or
      one contains the other) and the companies agree (equal or one contains the other after
      dropping legal suffixes such as 有限公司; a missing company agrees with any). The title and
      company checks keep one company's template text under different job titles apart.
    * City is not part of the key: one job text posted for two cities counts once.

Clusters and canonical posting
    Duplicates form clusters (connected components of the pairs above). The canonical posting of
    a cluster is the earliest posted (``posted_at``; postings without a date come last), ties by
    smallest id; every other member is marked ``dup_of = canonical`` with
    ``store.set_duplicates``. The result depends only on the postings, not on arrival order.

Incremental, re-run safe
    Signatures persist in a table ``dedup_signatures`` (id, fingerprint, 4-byte x 128 MinHash,
    normalised title and company, posted date, current mark, write sequence) in the store's SQLite
    file (for a store without a file: ``<data_dir>/dedup.sqlite3``). A :class:`Deduper` loads them
    once (a few ms per thousand) and keeps the LSH index in memory; :meth:`Deduper.update` checks
    only postings that are new or whose fingerprint changed, re-derives the clusters they touch
    (including a cluster a changed posting left) and writes only marks that change. Feeding the
    same postings again writes nothing. Store marks are written before the signature rows, so a
    run killed in between is repaired by the next one.

Several processes on one file
    Crawler processes of one distributed crawl (and API / ingest processes) each keep their own
    in-memory index over the same table. An update holds an exclusive lock (``flock`` on
    ``<file>.dedup-lock``, not the file's write lock, so the store's own writes go on) from its
    check through the marks to its save, so updates of different processes run one after the
    other (a few ms each); it first reads the rows other processes saved since its last read
    (every save takes the next number of a write sequence kept in the table). So a posting is
    always checked against every signature saved before it, whichever process saved it, and the
    marks equal those of one process fed the same postings. Processes on different machines need
    one shared file for this (a search-backend store keeps ``dedup.sqlite3`` in each machine's
    data folder: run ``python -m skillsignal.dedup`` once after such a crawl).
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import re
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from storage import PostingIndex, open_store

from .core.config import Settings, get_settings
from .core.models import Posting
from .core.text import char_bigrams, normalize_alnum

log = logging.getLogger(__name__)

THRESHOLD = 0.8
NUM_PERM = 128
SHINGLE = 4
SEED = 20211
TITLE_MIN_SIMILARITY = 0.5
_NO_DATE = "9999-12-31"

_COMPANY_NOISE = re.compile(r"(股份有限公司|有限责任公司|有限公司|集团|股份|公司|co\.?,?ltd\.?|ltd\.?|inc\.?|limited)")
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")


def normalise_company(name: str | None) -> str:
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = _BRACKETS.sub("", text)
    return _COMPANY_NOISE.sub("", normalize_alnum(text))


def titles_alike(a: str, b: str) -> bool:
    if not a or not b or a == b or a in b or b in a:
        return True
    x, y = char_bigrams(a), char_bigrams(b)
    return len(x & y) / len(x | y) >= TITLE_MIN_SIMILARITY


def companies_agree(a: str, b: str) -> bool:
    return not a or not b or a == b or a in b or b in a


def shingle_hashes(text: str, k: int = SHINGLE) -> np.ndarray:
    """Distinct 32-bit hashes of the character k-grams of ``text`` (deterministic across processes)."""
    if not text:
        return np.zeros(1, dtype=np.uint32)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < k:
        codes = np.concatenate([codes, np.zeros(k - len(codes), dtype=np.uint64)])
    n = len(codes) - k + 1
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(k):
            h = h * np.uint64(0x100000001B3) + codes[i : i + n]
        # splitmix64 finaliser, then keep 32 bits
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return np.unique((h >> np.uint64(32)).astype(np.uint32))


def _identity(value):
    return value


_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=_identity)


def minhash_of(hashes: np.ndarray) -> MinHash:
    m = MinHash(
        num_perm=NUM_PERM, seed=SEED, hashfunc=_identity, permutations=_TEMPLATE.permutations, scheme=_TEMPLATE.scheme
    )
    m.update_batch(hashes)
    return m


def _from_bytes(blob: bytes) -> MinHash:
    values = np.frombuffer(blob, dtype=_TEMPLATE.hashvalues.dtype).copy()
    return MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        hashfunc=_identity,
        hashvalues=values,
        permutations=_TEMPLATE.permutations,
        scheme=_TEMPLATE.scheme,
    )


def posting_text(p: Posting) -> str:
    return normalize_alnum(p.title) + "|" + normalize_alnum(p.company) + "|" + normalize_alnum(p.description)


@dataclass
class Entry:
    fingerprint: str
    sig: MinHash
    title: str
    company: str
    posted: str
    dup_of: str | None = None

    def key(self, pid: str) -> tuple[str, str]:
        return (self.posted, pid)


class DedupStats:
    def __init__(self) -> None:
        self.checked = 0
        self.signed = 0
        self.marks_written = 0
        self.seconds = 0.0

    def __repr__(self) -> str:
        return (
            f"DedupStats(checked={self.checked}, signed={self.signed}, "
            f"marks_written={self.marks_written}, seconds={self.seconds:.2f})"
        )


_SCHEMA = """
CREATE TABLE IF NOT EXISTS dedup_signatures (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    sig BLOB NOT NULL,
    title TEXT NOT NULL,
    company TEXT NOT NULL,
    posted TEXT NOT NULL,
    dup_of TEXT,
    seq INTEGER NOT NULL DEFAULT 0  -- the write that saved the row (other processes read what is new)
)"""
_COLUMNS = "id, fingerprint, sig, title, company, posted, dup_of"
_META = "dedup_meta"


class Deduper:
    """Keeps near-duplicate marks of a store up to date as postings arrive."""

    def __init__(self, store: PostingIndex, db_path: Path | str, threshold: float = THRESHOLD):
        self.store = store
        self.db_path = Path(db_path)
        self.threshold = threshold
        self._entries: dict[str, Entry] | None = None
        self._lsh: MinHashLSH | None = None
        self._by_fp: dict[str, set[str]] = {}
        self._members: dict[str, set[str]] = {}  # canonical -> its duplicates
        self._conn: sqlite3.Connection | None = None
        self._seq = 0  # the highest write sequence read from the table
        self._lock_path = self.db_path.with_name(self.db_path.name + ".dedup-lock")
        self._lock = threading.RLock()  # one update at a time (the API serves from a thread pool)

    @classmethod
    def for_store(cls, store: PostingIndex, settings: Settings | None = None, **kw) -> Deduper:
        path = store.path
        if path is None:
            if settings is None:
                settings = get_settings()
            path = Path(settings.data_dir) / "dedup.sqlite3"
        return cls(store, path, **kw)

    # -- persistence ---------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(_SCHEMA)
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(dedup_signatures)")}
            if "seq" not in columns:  # a table written before processes shared it
                self._conn.execute("ALTER TABLE dedup_signatures ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")
            self._conn.execute("CREATE INDEX IF NOT EXISTS dedup_signatures_seq ON dedup_signatures(seq)")
            self._conn.execute(f"CREATE TABLE IF NOT EXISTS {_META} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = self._conn.execute(f"SELECT value FROM {_META} WHERE key='params'").fetchone()
            params = f"k={SHINGLE};perm={NUM_PERM};seed={SEED};t={self.threshold};tt={TITLE_MIN_SIMILARITY}"
            if row and row[0] != params:
                log.info("dedup parameters changed (%s -> %s): signatures are rebuilt", row[0], params)
                self._conn.execute("DELETE FROM dedup_signatures")
            self._conn.execute(f"INSERT OR REPLACE INTO {_META}(key, value) VALUES ('params', ?)", (params,))
        return self._conn

    def _load(self) -> dict[str, Entry]:
        if self._entries is not None:
            return self._entries
        started = time.perf_counter()
        self._entries = {}
        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=NUM_PERM)
        db = self._db()
        # never backwards (after a rebuild emptied the table): other processes catch up from theirs
        self._seq = max(self._seq, int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM dedup_signatures").fetchone()[0]))
        rows = db.execute(f"SELECT {_COLUMNS} FROM dedup_signatures WHERE seq <= ?", (self._seq,))
        with self._lsh.insertion_session() as session:
            for pid, fp, blob, title, company, posted, dup_of in rows:
                e = Entry(fp, _from_bytes(blob), title, company, posted, dup_of)
                self._entries[pid] = e
                session.insert(pid, e.sig, check_duplication=False)
                self._index(pid, e)
        log.info("dedup: %d signatures loaded in %.2f s", len(self._entries), time.perf_counter() - started)
        return self._entries

    def _catch_up(self) -> None:
        """Read the rows other processes saved since this one last read (inside the write lock)."""
        entries, lsh = self._loaded()
        rows = (
            self._db()
            .execute(f"SELECT {_COLUMNS}, seq FROM dedup_signatures WHERE seq > ? ORDER BY seq", (self._seq,))
            .fetchall()
        )
        for pid, fp, blob, title, company, posted, dup_of, seq in rows:
            old = entries.pop(pid, None)
            if old is not None:
                self._unindex(pid, old)
                lsh.remove(pid)
            e = Entry(fp, _from_bytes(blob), title, company, posted, dup_of)
            entries[pid] = e
            lsh.insert(pid, e.sig, check_duplication=False)
            self._index(pid, e)
            self._seq = max(self._seq, int(seq))
        if rows:
            log.debug("dedup: %d signatures saved by other processes read", len(rows))

    def _index(self, pid: str, e: Entry) -> None:
        self._by_fp.setdefault(e.fingerprint, set()).add(pid)
        if e.dup_of:
            self._members.setdefault(e.dup_of, set()).add(pid)

    def _unindex(self, pid: str, e: Entry) -> None:
        self._by_fp.get(e.fingerprint, set()).discard(pid)
        if e.dup_of:
            self._members.get(e.dup_of, set()).discard(pid)

    def _loaded(self) -> tuple[dict[str, Entry], MinHashLSH]:
        """The signatures and their LSH index, loaded from the store's file on first use."""
        entries = self._load()
        assert self._lsh is not None, "_load builds the index with the signatures"
        return entries, self._lsh

    # -- matching ------------------------------------------------------------------------
    def _alike(self, a: Entry, b: Entry) -> bool:
        if not (companies_agree(a.company, b.company) and titles_alike(a.title, b.title)):
            return False
        return a.fingerprint == b.fingerprint or a.sig.jaccard(b.sig) >= self.threshold

    def _neighbours(self, pid: str) -> set[str]:
        entries, lsh = self._loaded()
        e = entries[pid]
        found = set(self._by_fp.get(e.fingerprint, ()))
        found.update(lsh.query(e.sig))
        found.discard(pid)
        return {q for q in found if self._alike(e, entries[q])}

    def _cluster(self, start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for q in self._neighbours(todo.pop()):
                if q not in seen:
                    seen.add(q)
                    todo.append(q)
        return seen

    # -- updates -------------------------------------------------------------------------
    def update(self, postings: Iterable[Posting]) -> DedupStats:
        """Check ``postings`` (new or changed) against all known ones, those other processes saved
        included, and write changed marks."""
        with self._lock, self._lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # check, mark and save one process at a time
            try:
                self._catch_up()
                return self._update(postings)
            except BaseException:
                self._entries = None  # memory may be ahead of the file: read it again next time
                self._by_fp, self._members = {}, {}
                raise
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _update(self, postings: Iterable[Posting]) -> DedupStats:
        stats = DedupStats()
        started = time.perf_counter()
        entries, lsh = self._loaded()
        affected: set[str] = set()
        fresh: dict[str, Entry] = {}
        for p in postings:
            stats.checked += 1
            old = entries.get(p.id)
            if old is not None and old.fingerprint == p.fingerprint:
                continue
            if old is not None:  # content changed: leave the old cluster, re-derive it
                affected.update(self._members.get(p.id, ()))
                if old.dup_of:
                    affected.add(old.dup_of)
                    affected.update(self._members.get(old.dup_of, ()))
                self._unindex(p.id, old)
                lsh.remove(p.id)
                del entries[p.id]
            same = next(iter(self._by_fp.get(p.fingerprint, ())), None)
            if same is not None:
                sig = entries[same].sig
            else:
                sig = minhash_of(shingle_hashes(posting_text(p)))
                stats.signed += 1
            e = Entry(
                p.fingerprint,
                sig,
                normalize_alnum(p.title),
                normalise_company(p.company),
                p.posted_at.isoformat() if p.posted_at else _NO_DATE,
                old.dup_of if old is not None else None,
            )
            entries[p.id] = e
            lsh.insert(p.id, sig, check_duplication=False)
            self._index(p.id, e)
            fresh[p.id] = e
            affected.add(p.id)

        changes = self._recluster(affected)
        if changes:
            self.store.set_duplicates(changes)
        stats.marks_written = len(changes)
        touched = set(fresh) | set(changes)
        if touched:
            self._save(touched)
        stats.seconds = time.perf_counter() - started
        if stats.signed or changes:
            log.info("dedup: %s", stats)
        return stats

    def _recluster(self, affected: set[str]) -> dict[str, str | None]:
        entries, _ = self._loaded()
        changes: dict[str, str | None] = {}
        done: set[str] = set()
        for pid in sorted(affected):
            if pid in done or pid not in entries:
                continue
            cluster = self._cluster(pid)
            done |= cluster
            canonical = min(cluster, key=lambda q: entries[q].key(q))
            for q in cluster:
                want = None if q == canonical else canonical
                e = entries[q]
                if e.dup_of != want:
                    self._unindex(q, e)
                    e.dup_of = want
                    self._index(q, e)
                    changes[q] = want
        return changes

    def _save(self, ids: Iterable[str]) -> None:
        entries, _ = self._loaded()
        rows = [
            (pid, e.fingerprint, e.sig.hashvalues.tobytes(), e.title, e.company, e.posted, e.dup_of)
            for pid in ids
            if (e := entries.get(pid)) is not None
        ]
        self._seq += 1  # under the lock of update(): no other process saves in between
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                f"INSERT OR REPLACE INTO dedup_signatures({_COLUMNS}, seq) VALUES (?,?,?,?,?,?,?,?)",
                [(*row, self._seq) for row in rows],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # -- whole store ---------------------------------------------------------------------
    def rebuild(self, postings: Iterable[Posting], batch_size: int = 2000) -> DedupStats:
        """Forget every signature and mark, and derive them again from ``postings`` (the whole store)."""
        self._db().execute("DELETE FROM dedup_signatures")
        self._entries = None
        self._by_fp, self._members = {}, {}
        total = DedupStats()
        started = time.perf_counter()
        known_marks: list[str] = []
        batch: list[Posting] = []
        for p in postings:
            batch.append(p)
            known_marks.append(p.id)
            if len(batch) >= batch_size:
                self._merge(total, self.update(batch))
                batch = []
        if batch:
            self._merge(total, self.update(batch))
        # clear marks of postings that are no longer duplicates of anything
        entries = self._load()
        stale = {pid: None for pid in known_marks if entries.get(pid) and entries[pid].dup_of is None}
        if stale:
            self.store.set_duplicates(stale)
        total.seconds = time.perf_counter() - started
        return total

    @staticmethod
    def _merge(total: DedupStats, part: DedupStats) -> None:
        total.checked += part.checked
        total.signed += part.signed
        total.marks_written += part.marks_written

    def clusters(self) -> dict[str, list[str]]:
        """canonical id -> its duplicates' ids (clusters of two or more)."""
        self._load()
        return {c: sorted(m) for c, m in self._members.items() if m}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def dedup_store(store: PostingIndex, settings: Settings | None = None, rebuild: bool = False) -> tuple[DedupStats, int]:
    """Check every stored posting (``rebuild``: from scratch); returns stats and the cluster count."""
    deduper = Deduper.for_store(store, settings)
    try:
        stats = deduper.rebuild(store.iter_postings()) if rebuild else deduper.update(store.iter_postings())
        return stats, len(deduper.clusters())
    finally:
        deduper.close()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m skillsignal.dedup [--rebuild]``: mark near-duplicates over the whole store."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--rebuild", action="store_true", help="forget stored signatures and marks first")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    store = open_store(settings)
    stats, clusters = dedup_store(store, settings, rebuild=args.rebuild)
    log.info("%s; %d clusters of near-duplicates", stats, clusters)
    store.close()


if __name__ == "__main__":  # pragma: no cover
    main()
