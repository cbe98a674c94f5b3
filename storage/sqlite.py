"""The embedded default store: one SQLite file (WAL), created on first use, schema versioned.

Postings are upserted by id, so re-running a crawl, an import or an extraction never
double-counts. A posting's raw fields are written before extraction; facts are attached
afterwards (:meth:`SQLiteStore.save_extractions`), so a failing extraction loses nothing.

Schema v2 (see ``schema.py``) is laid out for the queries the API asks: integer day and month
columns, a duplicate flag and the salary midpoint beside every posting, covering indexes on the
hot filters, skill links that carry the hot filter columns themselves (a skills ranking for one
occupation never touches ``postings``), and an FTS5 table over jieba-segmented title and
description. It implements :class:`storage.base.PostingIndex`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import sqlite3
import threading
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from skillsignal.core.models import Extraction, Posting

from . import fts
from .base import (
    CursorError,
    check_series_size,
    experience_band,
    intensity,
    keyed_series,
    period_count,
    periods,
    posted_date,
    salary_mid,
    totals_from_counts,
    zero_filled,
)
from .filters import PostingFilter
from .results import (
    DEFAULT_EXPORT_DIMENSIONS,
    EXPORT_DIMENSIONS,
    FACETS,
    METRICS,
    Bucket,
    CooccurrencePair,
    Highlight,
    Interval,
    Page,
    Point,
    PostingHit,
    Ranking,
    RankingSeries,
    SeriesRow,
    Totals,
)
from .schema import SCHEMA_VERSION, backfill_competencies, create_schema, migrate_v1_tables

log = logging.getLogger(__name__)

_EPOCH = date(1970, 1, 1).toordinal()

#: facet name -> SQL column of ``postings`` it groups by (``skills`` is the link table)
FACET_COLUMNS = {
    "occupations": "occupation_code",
    "directions": "occupation_direction",
    "levels": "level",
    "provinces": "province",
    "cities": "city",
    "regions": "region",
    "companies": "company",
    "industries": "industry",
    "education": "education_level",
    "experience": "experience_band",
    "sources": "source",
}

#: filter list field -> column (same name in ``postings`` and, for the hot ones, ``posting_skills``);
#: experience is filtered by years (experience_min/max), not by band
_LIST_FILTERS = {k: v for k, v in FACET_COLUMNS.items() if k != "experience"}
#: filter fields the skill-link table can answer alone
_SKILL_TABLE_FIELDS = {"start", "end", "occupations", "directions", "levels", "provinces", "regions", "skills"}
_SKILL_COPIED = ("day", "month", "is_dup", "occupation_code", "occupation_direction", "level", "province",
                 "region", "salary_mid")

_EXPORT_COLUMNS = {
    "occupation": "occupation_code",
    "direction": "occupation_direction",
    "level": "level",
    "region": "region",
    "province": "province",
}


class StoreError(RuntimeError):
    """The database cannot be used as asked; the message says what to do."""


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
    return (f"restore it from a backup, or move it aside (mv {path} {path}.damaged) and import or crawl "
            "the postings again into a new store; SkillSignal does not overwrite it")


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


def day_number(d: date) -> int:
    return d.toordinal() - _EPOCH


def from_day(n: int) -> date:
    return date.fromordinal(n + _EPOCH)


def month_number(d: date) -> int:
    return d.year * 12 + d.month - 1


def from_month(n: int) -> date:
    return date(n // 12, n % 12 + 1, 1)


def _period_sql(alias: str, interval: Interval) -> str:
    if interval == "day":
        return f"{alias}.day"
    if interval == "week":  # 1970-01-01 was a Thursday: Monday = day - (day + 3) % 7
        return f"({alias}.day - ({alias}.day + 3) % 7)"
    if interval == "month":
        return f"{alias}.month"
    raise StoreError(f"unknown interval {interval!r}; one of day, week, month")


def _period_date(value: int, interval: Interval) -> date:
    return from_month(value) if interval == "month" else from_day(value)


def _uses_only_skill_table(flt: PostingFilter | None) -> bool:
    if flt is None:
        return True
    return set(flt.model_dump(exclude_defaults=True)) <= _SKILL_TABLE_FIELDS


def _conditions(flt: PostingFilter | None, alias: str, link_id: str) -> tuple[list[str], list[object]]:
    """SQL conditions over ``alias`` (postings or posting_skills columns) and their parameters.

    ``link_id`` is the expression of the posting's row id (``p.rid`` or ``s.pid``).
    """
    clauses: list[str] = []
    params: list[object] = []
    if flt is None:
        return clauses, params
    if flt.start:
        clauses.append(f"{alias}.day >= ?")
        params.append(day_number(flt.start))
    if flt.end:
        clauses.append(f"{alias}.day <= ?")
        params.append(day_number(flt.end))
    for field, column in _LIST_FILTERS.items():
        values = getattr(flt, field)
        if values:
            clauses.append(f"{alias}.{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if flt.skills:
        clauses.append(
            f"{link_id} IN (SELECT pid FROM posting_skills WHERE skill_id IN ({','.join('?' * len(flt.skills))}))"
        )
        params.extend(flt.skills)
    if flt.experience_min is not None:
        clauses.append(f"{alias}.experience_min >= ?")
        params.append(flt.experience_min)
    if flt.experience_max is not None:
        clauses.append(f"{alias}.experience_min <= ?")
        params.append(flt.experience_max)
    if flt.salary_min is not None:
        clauses.append(f"{alias}.salary_max >= ?")
        params.append(flt.salary_min)
    if flt.salary_max is not None:
        clauses.append(f"{alias}.salary_min <= ?")
        params.append(flt.salary_max)
    return clauses, params


def where_clause(flt: PostingFilter | None) -> tuple[str, list[object]]:
    """SQL ``WHERE`` text (over ``postings`` as alias ``p``) and its parameters for a filter."""
    clauses, params = _conditions(flt, "p", "p.rid")
    return (" AND ".join(clauses) or "1=1"), params


def _skill_source(flt: PostingFilter | None) -> tuple[str, str, list[object]]:
    """FROM text and WHERE text (alias ``s`` = posting_skills) for skill-level queries."""
    if _uses_only_skill_table(flt):
        clauses, params = _conditions(flt, "s", "s.pid")
        # With an occupation filter the occupation index is the one to walk; SQLite's planner
        # otherwise tends to skip-scan the skill index and read every link row.
        table = "posting_skills s INDEXED BY ps_occ" if flt is not None and flt.occupations else "posting_skills s"
        return table, " AND ".join(clauses) or "1=1", params
    clauses, params = _conditions(flt, "p", "p.rid")
    return "posting_skills s JOIN postings p ON p.rid = s.pid", " AND ".join(clauses) or "1=1", params


def _competency_source(flt: PostingFilter | None) -> tuple[str, str, list[object]]:
    """FROM text and WHERE text (alias ``c`` = posting_competencies) for the competencies facet."""
    if _uses_only_skill_table(flt):  # the competency links copy the same hot columns
        clauses, params = _conditions(flt, "c", "c.pid")
        table = ("posting_competencies c INDEXED BY pc_occ" if flt is not None and flt.occupations
                 else "posting_competencies c")
        return table, " AND ".join(clauses) or "1=1", params
    clauses, params = _conditions(flt, "p", "p.rid")
    return "posting_competencies c JOIN postings p ON p.rid = c.pid", " AND ".join(clauses) or "1=1", params


def _median_from_histogram(hist: Iterable[tuple[float, int]]) -> float | None:
    items = sorted(hist)
    n = sum(c for _, c in items)
    if n == 0:
        return None
    lo_rank, hi_rank = (n - 1) // 2, n // 2
    lo = hi = None
    seen = 0
    for value, count in items:
        if lo is None and seen + count > lo_rank:
            lo = value
        if seen + count > hi_rank:
            hi = value
            break
        seen += count
    return (float(lo) + float(hi)) / 2


def _cursor_token(payload: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _cursor_payload(token: str) -> dict[str, object]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if not isinstance(payload, dict):
            raise ValueError
        return payload
    except (ValueError, TypeError) as exc:
        raise CursorError("cursor is not one this API issued; start again without it") from exc


class SQLiteStore:
    """Postings and their extracted facts in one SQLite file; safe to share across threads."""

    backend_name = "sqlite"

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        check_sqlite_file(self.path, store_remedy(self.path))
        try:
            self._migrate()
        except sqlite3.DatabaseError as exc:
            if is_corruption(exc):
                self.close()
                raise corrupt_error(self.path, exc) from exc
            raise

    # -- connections -----------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {self.path}: {exc}; check the path and its permissions") from exc
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-131072")
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

    def _migrate(self) -> None:
        conn = self._connect()
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        current = int(row["value"]) if row else 0
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {current}, newer than this SkillSignal ({SCHEMA_VERSION}); "
                "upgrade SkillSignal or point SKILLSIGNAL_DATA_DIR elsewhere"
            )
        if current == SCHEMA_VERSION:
            return
        with self._tx() as tx:
            if current == 1:
                old = migrate_v1_tables(tx)
                create_schema(tx)
                self._copy_v1(tx, old)
            elif current == 2:
                create_schema(tx)
                backfill_competencies(tx)
            else:
                create_schema(tx)
            tx.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        if current in (1, 2):
            log.info("migrated SkillSignal store %s from schema v%d to v%d", self.path, current, SCHEMA_VERSION)
        else:
            log.info("created SkillSignal store %s (schema v%d)", self.path, SCHEMA_VERSION)

    def _copy_v1(self, tx: sqlite3.Connection, tables: tuple[str, str]) -> None:
        postings_v1, skills_v1 = tables
        rows = tx.execute(f"SELECT doc, dup_of FROM {postings_v1}").fetchall()
        batch = [Posting.model_validate_json(r["doc"]) for r in rows]
        for i in range(0, len(batch), 1000):
            self._upsert(tx, batch[i : i + 1000])
        dups = {Posting.model_validate_json(r["doc"]).id: r["dup_of"] for r in rows if r["dup_of"]}
        self._set_duplicates(tx, dups)
        tx.execute(f"DROP TABLE {skills_v1}")
        tx.execute(f"DROP TABLE {postings_v1}")

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

    # -- writes ----------------------------------------------------------------------------
    def upsert_postings(self, postings: Sequence[Posting]) -> int:
        """Insert or replace postings by id (raw fields and any extraction they carry).

        Near-duplicate marks (:meth:`set_duplicates`) survive an upsert.
        """
        if not postings:
            return 0
        by_id = {p.id: p for p in postings}  # the last of one id wins
        with self._tx() as tx:
            self._upsert(tx, list(by_id.values()))
        return len(by_id)

    index_postings = upsert_postings

    def refresh(self) -> None:
        """Nothing to do: a committed write is visible to the next read."""

    def save_extractions(
        self, results: Sequence[tuple[Posting, Extraction | None, str | None]]
    ) -> int:
        """Attach each posting's extraction (or its error) and re-index its skills."""
        updated = [
            p.model_copy(update={"extraction": ext, "extraction_error": err}) for p, ext, err in results
        ]
        return self.upsert_postings(updated)

    def set_duplicates(self, dup_of: dict[str, str | None]) -> None:
        """Mark postings as near-duplicates of another (``None`` clears the mark)."""
        with self._tx() as tx:
            self._set_duplicates(tx, dup_of)

    @staticmethod
    def _set_duplicates(tx: sqlite3.Connection, dup_of: dict[str, str | None]) -> None:
        rows = [(v, int(v is not None), k) for k, v in dup_of.items()]
        tx.executemany("UPDATE postings SET dup_of=?, is_dup=? WHERE id=?", rows)
        for table in ("posting_skills", "posting_competencies"):
            tx.executemany(
                f"UPDATE {table} SET is_dup=? WHERE pid=(SELECT rid FROM postings WHERE id=?)",
                [(flag, pid) for _, flag, pid in rows],
            )

    @staticmethod
    def _rids(tx: sqlite3.Connection, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            for rid, pid, is_dup in tx.execute(
                f"SELECT rid, id, is_dup FROM postings WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ):
                out[pid] = (rid, is_dup)
        return out

    def _upsert(self, tx: sqlite3.Connection, postings: Sequence[Posting]) -> None:
        now = datetime.now(timezone.utc).isoformat()
        ids = [p.id for p in postings]
        before = self._rids(tx, ids)
        if before:
            old = [(rid,) for rid, _ in before.values()]
            tx.executemany("DELETE FROM posting_skills WHERE pid=?", old)
            tx.executemany("DELETE FROM posting_competencies WHERE pid=?", old)
            tx.executemany("DELETE FROM posting_fts WHERE rowid=?", old)
        rows = [self._row(p, now) for p in postings]
        tx.executemany(
            f"""INSERT INTO postings ({', '.join(_ROW_COLUMNS)}) VALUES ({', '.join(':' + c for c in _ROW_COLUMNS)})
                ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c}=excluded.{c}' for c in _ROW_COLUMNS if c != 'id')}""",
            rows,
        )
        after = self._rids(tx, ids) if len(before) < len(ids) else before
        tx.executemany(
            "INSERT INTO posting_fts(rowid, title, body) VALUES (?,?,?)",
            [(after[p.id][0], fts.segment(p.title), fts.segment(p.description)) for p in postings],
        )
        skill_rows = []
        competency_rows = []
        for p, row in zip(postings, rows):
            if not p.extraction:
                continue
            rid, is_dup = after[p.id]
            copied = [is_dup if c == "is_dup" else row[c] for c in _SKILL_COPIED]
            seen: set[str] = set()
            for s in p.extraction.skills:
                if s.id not in seen:
                    seen.add(s.id)
                    skill_rows.append((rid, s.id, int(s.required), s.score, *copied))
            for cid in dict.fromkeys(c.id for c in p.extraction.competencies):
                competency_rows.append((rid, cid, *copied))
        tx.executemany(
            f"INSERT INTO posting_skills(pid, skill_id, required, score, {', '.join(_SKILL_COPIED)}) "
            f"VALUES ({','.join('?' * (4 + len(_SKILL_COPIED)))})",
            skill_rows,
        )
        tx.executemany(
            f"INSERT INTO posting_competencies(pid, competency_id, {', '.join(_SKILL_COPIED)}) "
            f"VALUES ({','.join('?' * (2 + len(_SKILL_COPIED)))})",
            competency_rows,
        )

    @staticmethod
    def _row(p: Posting, now: str) -> dict[str, object]:
        ext = p.extraction
        posted = posted_date(p)
        return {
            "id": p.id,
            "source": p.source,
            "url": p.url,
            "title": p.title,
            "company": p.company,
            "province": p.location.province,
            "city": p.location.city,
            "district": p.location.district,
            "region": p.location.region,
            "industry": p.industry,
            "education_level": p.education.level,
            "experience_min": p.experience.years_min,
            "experience_band": experience_band(p.experience.years_min),
            "salary_min": p.salary.min,
            "salary_max": p.salary.max,
            "salary_mid": salary_mid(p),
            "posted_date": posted.isoformat(),
            "day": day_number(posted),
            "month": month_number(posted),
            "fingerprint": p.fingerprint,
            "occupation_code": ext.occupation.code if ext else None,
            "occupation_direction": ext.occupation.direction if ext else None,
            "level": ext.level if ext else None,
            "taxonomy_version": ext.taxonomy_version if ext else None,
            "extraction_error": p.extraction_error,
            "doc": p.model_dump_json(),
            "updated_at": now,
        }

    # -- reads: postings ---------------------------------------------------------------------
    def get_posting(self, posting_id: str) -> Posting | None:
        row = self._connect().execute("SELECT doc FROM postings WHERE id=?", (posting_id,)).fetchone()
        return Posting.model_validate_json(row["doc"]) if row else None

    def iter_postings(self, batch_size: int = 500, only_unextracted: bool = False) -> Iterator[Posting]:
        """Every stored posting, in id order, fetched in batches."""
        last = ""
        cond = "AND taxonomy_version IS NULL" if only_unextracted else ""
        while True:
            rows = self._connect().execute(
                f"SELECT id, doc FROM postings WHERE id > ? {cond} ORDER BY id LIMIT ?", (last, batch_size)
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield Posting.model_validate_json(row["doc"])
            last = rows[-1]["id"]

    def fingerprints(self, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """id -> (fingerprint, taxonomy_version) for those of ``ids`` already stored."""
        out: dict[str, tuple[str, str | None]] = {}
        conn = self._connect()
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            for row in conn.execute(
                f"SELECT id, fingerprint, taxonomy_version FROM postings WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                out[row["id"]] = (row["fingerprint"], row["taxonomy_version"])
        return out

    # -- reads: counts (the lead's first API) -------------------------------------------------
    def count_postings(self, flt: PostingFilter | None = None, unique_only: bool = False) -> int:
        where, params = where_clause(flt)
        if unique_only:
            where += " AND p.is_dup = 0"
        row = self._connect().execute(f"SELECT COUNT(*) AS n FROM postings p WHERE {where}", params).fetchone()
        return int(row["n"])

    def count_by(self, facet: str, flt: PostingFilter | None = None, limit: int = 50) -> list[tuple[str, int]]:
        """Postings (all, duplicates included) per value of ``facet``, largest first."""
        ranking = self.ranking(facet, flt, metric="total_postings", limit=limit)
        return [(b.key, b.total_postings) for b in ranking.buckets]

    def date_range(self) -> tuple[date, date] | None:
        row = self._connect().execute("SELECT MIN(day) AS a, MAX(day) AS b FROM postings").fetchone()
        if not row or row["a"] is None:
            return None
        return from_day(row["a"]), from_day(row["b"])

    def stats(self) -> dict[str, object]:
        conn = self._connect()
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "postings": one("SELECT COUNT(*) FROM postings"),
            "extracted": one("SELECT COUNT(*) FROM postings WHERE taxonomy_version IS NOT NULL"),
            "extraction_errors": one("SELECT COUNT(*) FROM postings WHERE extraction_error IS NOT NULL"),
            "duplicates": one("SELECT COUNT(*) FROM postings WHERE is_dup = 1"),
            "skill_mentions": one("SELECT COUNT(*) FROM posting_skills"),
        }

    # -- reads: PostingIndex -----------------------------------------------------------------
    def _counts(self, flt: PostingFilter | None) -> tuple[int, int]:
        """(total, duplicate) postings under the filter."""
        where, params = where_clause(flt)
        n, d = self._connect().execute(
            f"SELECT COUNT(*), TOTAL(p.is_dup) FROM postings p WHERE {where}", params
        ).fetchone()
        return n, int(d)

    def totals(self, flt: PostingFilter | None = None) -> Totals:
        conn = self._connect()
        where, params = where_clause(flt)
        n, d = self._counts(flt)
        hist = conn.execute(
            f"SELECT p.salary_mid, COUNT(*) FROM postings p WHERE {where} AND p.is_dup = 0 "
            "AND p.salary_mid IS NOT NULL GROUP BY p.salary_mid",
            params,
        ).fetchall()
        return totals_from_counts(n, d, _median_from_histogram((r[0], r[1]) for r in hist))

    def _window(self, flt: PostingFilter | None) -> tuple[date, date] | None:
        if flt is not None and flt.start and flt.end:
            return flt.start, flt.end
        stored = self.date_range()
        if stored is None:
            return None
        first = flt.start if flt is not None and flt.start else stored[0]
        last = flt.end if flt is not None and flt.end else stored[1]
        return (first, last) if first <= last else None

    def timeseries(self, flt: PostingFilter | None = None, interval: Interval = "month") -> list[Point]:
        window = self._window(flt)
        if window is None:
            return []
        period = _period_sql("p", interval)
        where, params = where_clause(flt)
        counts = {
            _period_date(k, interval): (n, int(d))
            for k, n, d in self._connect().execute(
                f"SELECT {period} AS k, COUNT(*), TOTAL(p.is_dup) FROM postings p WHERE {where} GROUP BY k",
                params,
            )
        }
        return zero_filled(counts, window, interval)

    @staticmethod
    def _check_facet(facet: str) -> None:
        if facet not in FACETS:
            raise StoreError(f"unknown facet {facet!r}; one of: {', '.join(FACETS)}")

    def _facet_source(self, facet: str, flt: PostingFilter | None) -> tuple[str, str, str, list[object], str]:
        """(key expression, FROM, WHERE, params, row alias) for grouping by ``facet``."""
        self._check_facet(facet)
        if facet == "skills":
            src, where, params = _skill_source(flt)
            return "s.skill_id", src, where, params, "s"
        if facet == "competencies":
            src, where, params = _competency_source(flt)
            return "c.competency_id", src, where, params, "c"
        column = FACET_COLUMNS[facet]
        where, params = where_clause(flt)
        return f"p.{column}", "postings p", f"{where} AND p.{column} IS NOT NULL", params, "p"

    def ranking(
        self,
        facet: str,
        flt: PostingFilter | None = None,
        metric: str = "unique_postings",
        limit: int = 10,
    ) -> Ranking:
        if metric not in METRICS:
            raise StoreError(f"unknown metric {metric!r}; one of: {', '.join(METRICS)}")
        key, src, where, params, a = self._facet_source(facet, flt)
        conn = self._connect()
        order = {
            "unique_postings": "n - d DESC",
            "duplicate_postings": "d DESC",
            "total_postings": "n DESC",
            "posting_intensity": "CASE WHEN n > d THEN CAST(n AS REAL) / (n - d) ELSE 0 END DESC",
        }
        medians: dict[str, float | None] = {}
        if metric == "median_salary":
            rows = conn.execute(
                f"SELECT {key} AS k, COUNT(*) AS n, TOTAL({a}.is_dup) AS d FROM {src} WHERE {where} GROUP BY k",
                params,
            ).fetchall()
            hists: dict[str, list[tuple[float, int]]] = defaultdict(list)
            for k, sal, c in conn.execute(
                f"SELECT {key} AS k, {a}.salary_mid, COUNT(*) FROM {src} WHERE {where} AND {a}.is_dup = 0 "
                f"AND {a}.salary_mid IS NOT NULL GROUP BY k, {a}.salary_mid",
                params,
            ):
                hists[k].append((sal, c))
            medians = {k: _median_from_histogram(h) for k, h in hists.items()}
            rows = sorted(rows, key=lambda r: (medians.get(r["k"]) is None, -(medians.get(r["k"]) or 0), r["k"]))
            rows = rows[:limit]
        else:
            rows = conn.execute(
                f"SELECT {key} AS k, COUNT(*) AS n, TOTAL({a}.is_dup) AS d FROM {src} WHERE {where} "
                f"GROUP BY k ORDER BY {order[metric]}, k LIMIT ?",
                [*params, limit],
            ).fetchall()
        buckets = []
        for r in rows:
            n, d = r["n"], int(r["d"])
            b = Bucket(
                key=r["k"],
                unique_postings=n - d,
                duplicate_postings=d,
                total_postings=n,
                posting_intensity=intensity(n, n - d),
                median_salary=medians.get(r["k"]),
            )
            b.value = float(getattr(b, metric)) if getattr(b, metric) is not None else None
            buckets.append(b)
        return Ranking(facet=facet, metric=metric, totals=totals_from_counts(*self._counts(flt)), buckets=buckets)

    def ranking_timeseries(
        self,
        facet: str,
        flt: PostingFilter | None = None,
        interval: Interval = "month",
        keys: Sequence[str] | None = None,
        limit: int = 5,
    ) -> RankingSeries:
        self._check_facet(facet)
        if not keys:
            keys = [b.key for b in self.ranking(facet, flt, limit=limit).buckets]
        keys = list(dict.fromkeys(keys))
        window = self._window(flt)
        if not keys or window is None:
            return RankingSeries(facet=facet, interval=interval, series=[])
        key, src, where, params, a = self._facet_source(facet, flt)
        counts: dict[tuple[str, date], tuple[int, int]] = {}
        for k, per, n, d in self._connect().execute(
            f"SELECT {key} AS k, {_period_sql(a, interval)} AS per, COUNT(*), TOTAL({a}.is_dup) FROM {src} "
            f"WHERE {where} AND {key} IN ({','.join('?' * len(keys))}) GROUP BY k, per",
            [*params, *keys],
        ):
            counts[(k, _period_date(per, interval))] = (n, int(d))
        return keyed_series(facet, interval, keys, window, counts)

    # -- search ----------------------------------------------------------------------------------
    def search_postings(
        self,
        query: str | None,
        flt: PostingFilter | None = None,
        cursor: str | None = None,
        size: int = 20,
    ) -> Page:
        if size < 1:
            raise StoreError("size must be at least 1")
        conn = self._connect()
        where, params = where_clause(flt)
        match = fts.match_expression(query) if query and query.strip() else None
        scope = hashlib.sha1(
            json.dumps([match, flt.model_dump(mode="json") if flt else None], sort_keys=True).encode()
        ).hexdigest()[:12]
        state = _cursor_payload(cursor) if cursor else {"s": scope}
        if state.get("s") != scope:
            raise CursorError("cursor belongs to another query or filter; start again without it")
        cols = ("p.rid, p.id, p.title, p.company, p.province, p.city, p.posted_date, p.source, p.url, "
                "p.occupation_code, p.occupation_direction, p.level, p.salary_min, p.salary_max, p.is_dup")
        if match:
            total = conn.execute(
                f"SELECT COUNT(*) FROM posting_fts f JOIN postings p ON p.rid = f.rowid "
                f"WHERE posting_fts MATCH ? AND {where}",
                [match, *params],
            ).fetchone()[0]
            offset = int(state.get("o", 0))
            rows = conn.execute(
                f"SELECT {cols}, highlight(posting_fts, 0, '<em>', '</em>') AS h_title, "
                f"snippet(posting_fts, 1, '<em>', '</em>', '…', 48) AS h_body "
                f"FROM posting_fts f JOIN postings p ON p.rid = f.rowid "
                f"WHERE posting_fts MATCH ? AND {where} ORDER BY bm25(posting_fts), p.rid LIMIT ? OFFSET ?",
                [match, *params, size + 1, offset],
            ).fetchall()
            more = len(rows) > size
            rows = rows[:size]
            next_state = {"s": scope, "o": offset + size}
        else:
            total = conn.execute(f"SELECT COUNT(*) FROM postings p WHERE {where}", params).fetchone()[0]
            keyset, kparams = "", []
            if "d" in state:
                keyset = " AND (p.day < ? OR (p.day = ? AND p.rid < ?))"
                kparams = [state["d"], state["d"], state["r"]]
            rows = conn.execute(
                f"SELECT {cols}, p.day AS day, NULL AS h_title, NULL AS h_body FROM postings p "
                f"WHERE {where}{keyset} ORDER BY p.day DESC, p.rid DESC LIMIT ?",
                [*params, *kparams, size + 1],
            ).fetchall()
            more = len(rows) > size
            rows = rows[:size]
            next_state = {"s": scope, "d": rows[-1]["day"], "r": rows[-1]["rid"]} if rows else {}
        skills: dict[int, list[str]] = defaultdict(list)
        rids = [r["rid"] for r in rows]
        if rids:
            for pid, sid in conn.execute(
                f"SELECT pid, skill_id FROM posting_skills WHERE pid IN ({','.join('?' * len(rids))}) "
                "ORDER BY pid, score DESC, skill_id",
                rids,
            ):
                skills[pid].append(sid)
        items = [
            PostingHit(
                id=r["id"],
                title=r["title"],
                company=r["company"],
                province=r["province"],
                city=r["city"],
                posted_date=date.fromisoformat(r["posted_date"]),
                source=r["source"],
                url=r["url"],
                occupation=r["occupation_code"],
                direction=r["occupation_direction"],
                level=r["level"],
                skills=skills.get(r["rid"], []),
                salary_min=r["salary_min"],
                salary_max=r["salary_max"],
                duplicate=bool(r["is_dup"]),
                highlight=Highlight(title=fts.unsegment(r["h_title"]), description=fts.unsegment(r["h_body"])),
            )
            for r in rows
        ]
        return Page(total=total, items=items, next_cursor=_cursor_token(next_state) if more else None)

    # -- skills ---------------------------------------------------------------------------------
    def skill_cooccurrence(
        self, flt: PostingFilter | None = None, limit: int = 100, min_count: int = 1
    ) -> list[CooccurrencePair]:
        src, where, params = _skill_source(flt)
        conn = self._connect()
        sel = f"SELECT s.pid AS pid, s.skill_id AS skill_id FROM {src} WHERE {where} AND s.is_dup = 0"
        singles = dict(
            conn.execute(f"WITH sel AS ({sel}) SELECT skill_id, COUNT(*) FROM sel GROUP BY skill_id", params).fetchall()
        )
        pairs = conn.execute(
            f"WITH sel AS MATERIALIZED ({sel}) SELECT a.skill_id, b.skill_id, COUNT(*) AS n FROM sel a "
            "JOIN sel b ON a.pid = b.pid AND a.skill_id < b.skill_id GROUP BY a.skill_id, b.skill_id "
            "HAVING n >= ? ORDER BY n DESC, a.skill_id, b.skill_id LIMIT ?",
            [*params, min_count, limit],
        ).fetchall()
        n_all = self.totals(flt).unique_postings
        out = []
        for a, b, n in pairs:
            ca, cb = singles[a], singles[b]
            out.append(CooccurrencePair(skill_a=a, skill_b=b, count=n, count_a=ca, count_b=cb,
                                        lift=round(n * n_all / (ca * cb), 6) if ca and cb else 0.0))
        return out

    # -- export ---------------------------------------------------------------------------------
    def export_series(
        self,
        flt: PostingFilter | None = None,
        interval: Interval = "month",
        dimensions: Iterable[str] = DEFAULT_EXPORT_DIMENSIONS,
        max_rows: int | None = None,
    ) -> Iterator[SeriesRow]:
        dims = list(dict.fromkeys(dimensions))
        unknown = [d for d in dims if d not in EXPORT_DIMENSIONS]
        if unknown:
            raise StoreError(f"unknown export dimension {unknown[0]!r}; one of: {', '.join(EXPORT_DIMENSIONS)}")
        window = self._window(flt)
        if window is None:
            return iter(())
        if "skill" in dims:
            src, where, params = (
                ("posting_skills s JOIN postings p ON p.rid = s.pid", *where_clause(flt))
            )
        else:
            src, (where, params) = "postings p", where_clause(flt)
        exprs = ["s.skill_id" if d == "skill" else f"p.{_EXPORT_COLUMNS[d]}" for d in dims]
        group = ", ".join([*(f"{e} AS d{i}" for i, e in enumerate(exprs))]) if exprs else ""
        select = f"{_period_sql('p', interval)} AS per" + (f", {group}" if group else "")
        keys = ", ".join(f"d{i}" for i in range(len(dims)))
        rows = self._connect().execute(
            f"SELECT {select}, COUNT(*) AS n, TOTAL(p.is_dup) AS d FROM {src} WHERE {where} "
            f"GROUP BY per{', ' + keys if keys else ''}",
            params,
        ).fetchall()
        by_series: dict[tuple, dict[date, tuple[int, int]]] = defaultdict(dict)
        for r in rows:
            values = tuple(r[f"d{i}"] for i in range(len(dims)))
            by_series[values][_period_date(r["per"], interval)] = (r["n"], int(r["d"]))
        check_series_size(interval, period_count(*window, interval), len(by_series), max_rows)
        all_periods = periods(*window, interval)

        def generate() -> Iterator[SeriesRow]:
            for values in sorted(by_series, key=lambda v: tuple((x is None, x or "") for x in v)):
                counts = by_series[values]
                named = dict(zip(dims, values))
                for start in all_periods:
                    n, d = counts.get(start, (0, 0))
                    yield SeriesRow(period=start, count=n, unique_count=n - d, **named)

        return generate()


_ROW_COLUMNS = (
    "id", "source", "url", "title", "company", "province", "city", "district", "region", "industry",
    "education_level", "experience_min", "experience_band", "salary_min", "salary_max", "salary_mid",
    "posted_date", "day", "month", "fingerprint", "occupation_code", "occupation_direction", "level",
    "taxonomy_version", "extraction_error", "doc", "updated_at",
)
