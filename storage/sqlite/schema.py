"""SQLite schema of the store, by version, and the step from v1.

v1: postings keyed by text id, skill links keyed by posting id, text dates.
v2: an integer row id (stable across VACUUM) that the skill links and the FTS5 table point at;
    integer ``day`` (days since 1970-01-01) and ``month`` (year*12 + month-1) columns, ``is_dup``,
    ``salary_mid``, ``experience_band``; covering indexes per hot filter; skill links that copy the
    hot filter columns; ``posting_fts`` over jieba-segmented title and description.
v3: ``posting_competencies``, the competency statements each posting asks for (the ``competencies``
    ranking facet), laid out like ``posting_skills``; filled from the stored documents on upgrade.
v4: ``first_seen``, ``last_seen`` and ``closed_on`` (day numbers) of each posting, its life across
    crawls (``storage.base.SeenDates``); on upgrade first = last = the crawl date of the stored
    document (or the dates it carries), none closed. ``p_signal`` covers every column the signal
    cells read, in the catalogue's grouping order, so they scan it instead of the documents.
v5: the roll-ups (``rollups.py``): posting and skill-link counts per period × key columns ×
    duplicate flag (× exact salary midpoint), kept exact by the write paths; on upgrade built from the rows.
v6: ``p_errors``, a partial index of the postings whose extraction failed, so the store's counts
    (``stats()``: /metrics, ``skillsignal status``) read two small partial indexes and the roll-ups
    instead of scanning every row (seconds at 1M postings); and v6 drops the indexes the roll-ups
    made redundant (:data:`RETIRED_INDEXES`): ``ps_day`` (a skill
    ranking over dates and roll-up keys is ``ru_skill_*``'s; the row scan walks ``ps_skill`` or
    ``ps_occ``) and ``p_level`` (a level filter is a roll-up's; with a field no roll-up holds, a
    third of the postings match a level, and the row scan walks ``p_day``, ``p_occ`` or
    ``p_province`` instead). Each was a B-tree every posting (or skill link) writes into at its
    date: under a shuffled bulk import, about a page rewritten per posting and index
    (``benchmarks/bench_query.py --order shuffled``). ``p_province`` and ``p_dir`` stay: a province
    or a direction with a salary, experience or education filter is a row scan, and they keep it
    to the few postings that match. On upgrade the retired ones are dropped.
v7: the three month roll-ups of skill links by occupation or place (``ru_skill_occ1_m``,
    ``ru_skill_occ_m``, ``ru_skill_geo_m``) lead their key with the month (``Cuboid.period_first``):
    keyed by occupation or place first, every batch of a crawl wrote one cell per key combination all
    over them, and they were what made the in-order ingest slow down as the store grew (half of its
    time at 1M postings); a window reads them with one seek per month. Rebuilt on upgrade.
"""

from __future__ import annotations

import sqlite3

from ..fts import TOKENIZE
from .rollups import rollup_ddl

SCHEMA_VERSION = 7

#: indexes of earlier versions that v6 no longer keeps (see the module docstring)
RETIRED_INDEXES = ("p_level", "ps_day")

#: the secondary indexes a bulk load (``bulk.py``) drops and builds again at its end: each keyed by
#: a filter column and the date, so a shuffled import writes into them all over; ``id``'s unique
#: index (the upsert's key) and the small partial indexes (``stats()``, the workers) stay
DEFERRABLE_INDEXES = (
    "p_day",
    "p_occ",
    "p_dir",
    "p_province",
    "p_city",
    "p_company",
    "p_open",
    "p_signal",
    "ps_skill",
    "ps_occ",
    "pc_comp",
    "pc_occ",
)

#: the hot filter columns of ``postings`` each link table copies (``sql.LINK_COPIED``), so that a
#: query filtering on them alone never reads ``postings``
_LINK_COLUMNS = """    day INTEGER NOT NULL,
    month INTEGER NOT NULL,
    is_dup INTEGER NOT NULL,
    occupation_code TEXT,
    occupation_direction TEXT,
    level TEXT,
    province TEXT,
    region TEXT,
    salary_mid REAL,
"""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS postings (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
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
    experience_band TEXT NOT NULL,
    salary_min REAL,
    salary_max REAL,
    salary_mid REAL,
    posted_date TEXT NOT NULL,          -- posted_at, else the crawl date (ISO YYYY-MM-DD)
    day INTEGER NOT NULL,               -- posted_date as days since 1970-01-01
    month INTEGER NOT NULL,             -- year*12 + month-1 of posted_date
    fingerprint TEXT NOT NULL,
    dup_of TEXT,                        -- id of the posting this one near-duplicates, NULL if unique
    is_dup INTEGER NOT NULL DEFAULT 0,  -- dup_of IS NOT NULL
    occupation_code TEXT,
    occupation_direction TEXT,
    level TEXT,
    taxonomy_version TEXT,
    extraction_error TEXT,
    first_seen INTEGER NOT NULL,        -- first crawl date that found it (day number)
    last_seen INTEGER NOT NULL,         -- latest crawl date that found it (day number)
    closed_on INTEGER,                  -- set when a complete crawl of its source no longer found it
    doc TEXT NOT NULL,                  -- the whole Posting as JSON, extraction included (its seen
                                        -- dates are those of the columns above, not of the JSON)
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS p_day ON postings(day, month, is_dup, salary_mid);
CREATE INDEX IF NOT EXISTS p_occ ON postings(occupation_code, day, month, is_dup, salary_mid);
CREATE INDEX IF NOT EXISTS p_dir ON postings(occupation_direction, day, month, is_dup);
CREATE INDEX IF NOT EXISTS p_province ON postings(province, day, month, is_dup);
CREATE INDEX IF NOT EXISTS p_city ON postings(city, day);
CREATE INDEX IF NOT EXISTS p_company ON postings(company, day);
CREATE INDEX IF NOT EXISTS p_unextracted ON postings(id) WHERE taxonomy_version IS NULL;
CREATE INDEX IF NOT EXISTS p_errors ON postings(id) WHERE extraction_error IS NOT NULL;
CREATE INDEX IF NOT EXISTS p_open ON postings(source, last_seen) WHERE closed_on IS NULL;
CREATE INDEX IF NOT EXISTS p_signal ON postings(month, occupation_code, level, province, region,
    occupation_direction, is_dup, salary_mid, experience_min, education_level, first_seen, last_seen, closed_on, day);
CREATE TABLE IF NOT EXISTS posting_skills (
    pid INTEGER NOT NULL,               -- postings.rid
    skill_id TEXT NOT NULL,
    required INTEGER NOT NULL,
    score REAL NOT NULL,
{_LINK_COLUMNS}    PRIMARY KEY (pid, skill_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ps_skill ON posting_skills(skill_id, day, month, is_dup);
CREATE INDEX IF NOT EXISTS ps_occ ON posting_skills(occupation_code, skill_id, day, month, is_dup);
CREATE TABLE IF NOT EXISTS posting_competencies (
    pid INTEGER NOT NULL,               -- postings.rid
    competency_id TEXT NOT NULL,        -- a statement id of the taxonomy
{_LINK_COLUMNS}    PRIMARY KEY (pid, competency_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pc_comp ON posting_competencies(competency_id, day, month, is_dup);
CREATE INDEX IF NOT EXISTS pc_occ ON posting_competencies(occupation_code, competency_id, day, month, is_dup);
CREATE VIRTUAL TABLE IF NOT EXISTS posting_fts USING fts5(title, body, tokenize="{TOKENIZE}");
"""


def create_schema(tx: sqlite3.Connection) -> None:
    for statement in _SCHEMA.split(";\n"):
        if statement.strip():
            tx.execute(statement)
    for statement in rollup_ddl():
        tx.execute(statement)


def index_ddl(name: str) -> str:
    """The CREATE statement of one index of the schema."""
    for statement in _SCHEMA.split(";\n"):
        if statement.strip().startswith(f"CREATE INDEX IF NOT EXISTS {name} ON "):
            return statement
    raise KeyError(f"no index {name} in the schema")


def drop_retired_indexes(tx: sqlite3.Connection) -> None:
    """v5 -> v6: drop the indexes the roll-ups made redundant (:data:`RETIRED_INDEXES`)."""
    for index in RETIRED_INDEXES:
        tx.execute(f"DROP INDEX IF EXISTS {index}")


def migrate_v1_tables(tx: sqlite3.Connection) -> tuple[str, str]:
    """Move the v1 tables aside (their rows are re-indexed by the store); returns their new names."""
    for index in (
        "postings_date",
        "postings_occ_date",
        "postings_level_date",
        "postings_province_date",
        "posting_skills_skill",
    ):
        tx.execute(f"DROP INDEX IF EXISTS {index}")
    tx.execute("ALTER TABLE posting_skills RENAME TO posting_skills_v1")
    tx.execute("ALTER TABLE postings RENAME TO postings_v1")
    return "postings_v1", "posting_skills_v1"


#: a document date (ISO text, or the date part of an ISO datetime) as a day number
_DOC_DAY = "CAST(julianday(substr(json_extract(doc, '{path}'), 1, 10)) - 2440587.5 AS INTEGER)"


def add_seen_columns(tx: sqlite3.Connection) -> None:
    """v3 -> v4: the seen-date columns, filled from each stored document: its own dates where it
    carries them, else its crawl date (the date part of ``crawled_at`` as written, which is
    ``Posting.crawled_at.date()``); none closed unless the document says so."""
    have = {row[1] for row in tx.execute("PRAGMA table_info(postings)")}
    if {"first_seen", "last_seen", "closed_on"} <= have:  # a file whose version mark alone is older
        return
    for column in (
        "first_seen INTEGER NOT NULL DEFAULT 0",
        "last_seen INTEGER NOT NULL DEFAULT 0",
        "closed_on INTEGER",
    ):
        if column.split()[0] not in have:
            tx.execute(f"ALTER TABLE postings ADD COLUMN {column}")
    crawl, first, last, closed = (
        _DOC_DAY.format(path=f"$.{field}") for field in ("crawled_at", "first_seen", "last_seen", "closed_on")
    )
    tx.execute(
        f"UPDATE postings SET first_seen = COALESCE({first}, {crawl}), last_seen = COALESCE({last}, {crawl}), "
        f"closed_on = {closed}"
    )
    # the merge rules of storage.base.merge_seen on what the documents said
    tx.execute("UPDATE postings SET last_seen = first_seen WHERE last_seen < first_seen")
    tx.execute("UPDATE postings SET closed_on = NULL WHERE closed_on < last_seen")


def backfill_competencies(tx: sqlite3.Connection) -> int:
    """v2 -> v3: the competency links of every stored posting, read from its document."""
    before = tx.total_changes
    tx.execute(
        """INSERT OR IGNORE INTO posting_competencies(pid, competency_id, day, month, is_dup, occupation_code,
               occupation_direction, level, province, region, salary_mid)
           SELECT p.rid, json_extract(c.value, '$.id'), p.day, p.month, p.is_dup, p.occupation_code,
                  p.occupation_direction, p.level, p.province, p.region, p.salary_mid
           FROM postings p, json_each(p.doc, '$.extraction.competencies') c
           WHERE json_extract(c.value, '$.id') IS NOT NULL"""
    )
    return tx.total_changes - before
