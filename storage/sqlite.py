"""The embedded default store: one SQLite file (WAL), created on first use, schema versioned.

Postings are upserted by id, so re-running a crawl, an import or an extraction never
double-counts. A posting's raw fields are written before extraction; facts are attached
afterwards (:meth:`SQLiteStore.save_extractions`), so a failing extraction loses nothing.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from skillsignal.models import Extraction, Posting

from .filters import PostingFilter

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS postings (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    url TEXT,
    title TEXT NOT NULL,
    company TEXT,
    province TEXT,
    city TEXT,
    district TEXT,
    region TEXT,
    industry TEXT,
    education_level TEXT,
    experience_min REAL,
    salary_min REAL,
    salary_max REAL,
    posted_date TEXT NOT NULL,          -- posted_at, else the crawl date (ISO YYYY-MM-DD)
    fingerprint TEXT NOT NULL,
    dup_of TEXT,                        -- id of the posting this one near-duplicates, NULL if unique
    occupation_code TEXT,
    occupation_direction TEXT,
    level TEXT,
    taxonomy_version TEXT,
    extraction_error TEXT,
    doc TEXT NOT NULL,                  -- the whole Posting as JSON, extraction included
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS postings_date ON postings(posted_date);
CREATE INDEX IF NOT EXISTS postings_occ_date ON postings(occupation_code, posted_date);
CREATE INDEX IF NOT EXISTS postings_level_date ON postings(level, posted_date);
CREATE INDEX IF NOT EXISTS postings_province_date ON postings(province, posted_date);
CREATE TABLE IF NOT EXISTS posting_skills (
    posting_id TEXT NOT NULL REFERENCES postings(id) ON DELETE CASCADE,
    skill_id TEXT NOT NULL,
    required INTEGER NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (posting_id, skill_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS posting_skills_skill ON posting_skills(skill_id, posting_id);
"""

#: facet name -> SQL column of ``postings`` it groups by
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
    "sources": "source",
}

_FILTER_COLUMNS = {
    "occupations": "occupation_code",
    "directions": "occupation_direction",
    "levels": "level",
    "provinces": "province",
    "cities": "city",
    "regions": "region",
    "companies": "company",
    "industries": "industry",
    "education": "education_level",
    "sources": "source",
}


class StoreError(RuntimeError):
    """The database cannot be used as asked; the message says what to do."""


def _posted_date(posting: Posting) -> str:
    return (posting.posted_at or posting.crawled_at.date()).isoformat()


def where_clause(flt: PostingFilter | None) -> tuple[str, list[object]]:
    """SQL ``WHERE`` text (over table alias ``p``) and its parameters for a filter."""
    if flt is None:
        return "1=1", []
    clauses: list[str] = []
    params: list[object] = []
    if flt.start:
        clauses.append("p.posted_date >= ?")
        params.append(flt.start.isoformat())
    if flt.end:
        clauses.append("p.posted_date <= ?")
        params.append(flt.end.isoformat())
    for field, column in _FILTER_COLUMNS.items():
        values = getattr(flt, field)
        if values:
            clauses.append(f"p.{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if flt.skills:
        clauses.append(
            "p.id IN (SELECT posting_id FROM posting_skills WHERE skill_id IN "
            f"({','.join('?' * len(flt.skills))}))"
        )
        params.extend(flt.skills)
    if flt.experience_min is not None:
        clauses.append("p.experience_min >= ?")
        params.append(flt.experience_min)
    if flt.experience_max is not None:
        clauses.append("p.experience_min <= ?")
        params.append(flt.experience_max)
    if flt.salary_min is not None:
        clauses.append("p.salary_max >= ?")
        params.append(flt.salary_min)
    if flt.salary_max is not None:
        clauses.append("p.salary_min <= ?")
        params.append(flt.salary_max)
    return (" AND ".join(clauses) or "1=1"), params


class SQLiteStore:
    """Postings and their extracted facts in one SQLite file; safe to share across threads."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._migrate()

    # -- connections -----------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {self.path}: {exc}; check the path and its permissions") from exc
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA cache_size=-65536")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _migrate(self) -> None:
        conn = self._connect()
        conn.executescript("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);")
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        current = int(row["value"]) if row else 0
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {current}, newer than this SkillSignal ({SCHEMA_VERSION}); "
                "upgrade SkillSignal or point SKILLSIGNAL_DATA_DIR elsewhere"
            )
        if current < 1:
            with self._tx() as tx:
                for statement in _SCHEMA_V1.split(";"):
                    if statement.strip():
                        tx.execute(statement)
                tx.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            log.info("created SkillSignal store %s (schema v%d)", self.path, SCHEMA_VERSION)

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
        """Insert or replace postings by id (raw fields and any extraction they carry)."""
        if not postings:
            return 0
        now = datetime.now(timezone.utc).isoformat()
        rows = [self._row(p, now) for p in postings]
        with self._tx() as tx:
            tx.executemany(
                """INSERT INTO postings (id, source, url, title, company, province, city, district, region,
                       industry, education_level, experience_min, salary_min, salary_max, posted_date,
                       fingerprint, occupation_code, occupation_direction, level, taxonomy_version,
                       extraction_error, doc, updated_at)
                   VALUES (:id, :source, :url, :title, :company, :province, :city, :district, :region,
                       :industry, :education_level, :experience_min, :salary_min, :salary_max, :posted_date,
                       :fingerprint, :occupation_code, :occupation_direction, :level, :taxonomy_version,
                       :extraction_error, :doc, :updated_at)
                   ON CONFLICT(id) DO UPDATE SET
                       source=excluded.source, url=excluded.url, title=excluded.title,
                       company=excluded.company, province=excluded.province, city=excluded.city,
                       district=excluded.district, region=excluded.region, industry=excluded.industry,
                       education_level=excluded.education_level, experience_min=excluded.experience_min,
                       salary_min=excluded.salary_min, salary_max=excluded.salary_max,
                       posted_date=excluded.posted_date, fingerprint=excluded.fingerprint,
                       occupation_code=excluded.occupation_code,
                       occupation_direction=excluded.occupation_direction, level=excluded.level,
                       taxonomy_version=excluded.taxonomy_version,
                       extraction_error=excluded.extraction_error, doc=excluded.doc,
                       updated_at=excluded.updated_at""",
                rows,
            )
            self._replace_skills(tx, [p for p in postings])
        return len(rows)

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
            tx.executemany(
                "UPDATE postings SET dup_of=? WHERE id=?", [(v, k) for k, v in dup_of.items()]
            )

    @staticmethod
    def _replace_skills(tx: sqlite3.Connection, postings: Iterable[Posting]) -> None:
        ids = [(p.id,) for p in postings]
        tx.executemany("DELETE FROM posting_skills WHERE posting_id=?", ids)
        tx.executemany(
            "INSERT OR REPLACE INTO posting_skills(posting_id, skill_id, required, score) VALUES (?,?,?,?)",
            [
                (p.id, s.id, int(s.required), s.score)
                for p in postings
                if p.extraction
                for s in p.extraction.skills
            ],
        )

    @staticmethod
    def _row(p: Posting, now: str) -> dict[str, object]:
        ext = p.extraction
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
            "salary_min": p.salary.min,
            "salary_max": p.salary.max,
            "posted_date": _posted_date(p),
            "fingerprint": p.fingerprint,
            "occupation_code": ext.occupation.code if ext else None,
            "occupation_direction": ext.occupation.direction if ext else None,
            "level": ext.level if ext else None,
            "taxonomy_version": ext.taxonomy_version if ext else None,
            "extraction_error": p.extraction_error,
            "doc": p.model_dump_json(),
            "updated_at": now,
        }

    # -- reads -----------------------------------------------------------------------------
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

    def count_postings(self, flt: PostingFilter | None = None, unique_only: bool = False) -> int:
        where, params = where_clause(flt)
        if unique_only:
            where += " AND p.dup_of IS NULL"
        row = self._connect().execute(f"SELECT COUNT(*) AS n FROM postings p WHERE {where}", params).fetchone()
        return int(row["n"])

    def count_by(self, facet: str, flt: PostingFilter | None = None, limit: int = 50) -> list[tuple[str, int]]:
        """Postings per value of ``facet`` (a key of :data:`FACET_COLUMNS`, or ``skills``), largest first."""
        where, params = where_clause(flt)
        conn = self._connect()
        if facet == "skills":
            sql = (
                "SELECT s.skill_id AS key, COUNT(*) AS n FROM posting_skills s JOIN postings p ON p.id = s.posting_id "
                f"WHERE {where} GROUP BY s.skill_id ORDER BY n DESC, key LIMIT ?"
            )
        elif facet in FACET_COLUMNS:
            column = FACET_COLUMNS[facet]
            sql = (
                f"SELECT p.{column} AS key, COUNT(*) AS n FROM postings p WHERE {where} AND p.{column} IS NOT NULL "
                "GROUP BY key ORDER BY n DESC, key LIMIT ?"
            )
        else:
            raise StoreError(f"unknown facet {facet!r}; one of: skills, {', '.join(FACET_COLUMNS)}")
        return [(row["key"], int(row["n"])) for row in conn.execute(sql, [*params, limit])]

    def date_range(self) -> tuple[date, date] | None:
        row = self._connect().execute("SELECT MIN(posted_date) AS a, MAX(posted_date) AS b FROM postings").fetchone()
        if not row or row["a"] is None:
            return None
        return date.fromisoformat(row["a"]), date.fromisoformat(row["b"])

    def stats(self) -> dict[str, object]:
        conn = self._connect()
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "postings": one("SELECT COUNT(*) FROM postings"),
            "extracted": one("SELECT COUNT(*) FROM postings WHERE taxonomy_version IS NOT NULL"),
            "extraction_errors": one("SELECT COUNT(*) FROM postings WHERE extraction_error IS NOT NULL"),
            "duplicates": one("SELECT COUNT(*) FROM postings WHERE dup_of IS NOT NULL"),
            "skill_mentions": one("SELECT COUNT(*) FROM posting_skills"),
        }
