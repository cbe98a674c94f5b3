"""Roll-ups: pre-aggregated posting counts the dashboard queries read instead of the rows (schema v5).

Each roll-up ("cuboid") counts postings (or skill links) per period × a few key columns ×
duplicate flag; a salary cuboid counts the unique postings with a salary per period × keys × exact
salary midpoint, so that the median salary a roll-up gives is the one the row scan gives (the same
histogram of the same doubles). Every cuboid exists in a ``day`` grain (also holding the month,
for the edges of a window) and/or a ``month`` grain.

They are kept exact by every write path of the store (``writes.py``: upserts and re-extractions,
near-duplicate marks) inside its own transaction: :class:`RollupDeltas` takes the cells of the rows
as they were away and adds those of the rows as they are, summed per cell first, in SQL (a TEMP
delta table of the rows' cells, ``GROUP BY`` each cuboid's key; SQLite triggers did the same a row
at a time and halved the ingest rate; summing in Python cost as much as the writes). Cells that
fall to zero are deleted, so a roll-up holds only combinations with postings. Nothing deletes
postings today; a delete path must count its rows out the same way.

A missing key value (NULL in the rows) is stored as :data:`NULL_KEY` (a primary key holds no NULL);
a salary cuboid leaves out postings without a salary. Queries turn them back (a facet leaves the missing value
out, as the row scan does).

:func:`plan` is the one decision: can a roll-up answer this filter (and grouping), and which
cuboid and grains; ``None`` sends the query to the row scan.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from ..filters import PostingFilter
from ..results import Interval
from .sql import day_number, month_number

#: the stored form of a missing key value (no real occupation, province, ... is this control character)
NULL_KEY = "\x1f"

Grain = Literal["day", "month"]

#: filter list field -> roll-up key column (the same name in ``postings`` and the link tables)
FILTER_KEYS = {
    "occupations": "occupation_code",
    "directions": "occupation_direction",
    "levels": "level",
    "provinces": "province",
    "regions": "region",
    "sources": "source",
}
#: facet -> roll-up key column
FACET_KEYS = {**FILTER_KEYS, "skills": "skill_id"}
#: every column a posting cell carries (the key columns any posting cuboid may use)
POSTING_KEYS = tuple(FILTER_KEYS.values())


@dataclass(frozen=True)
class Cuboid:
    """One roll-up: counts ``n`` (all) and ``d`` (near-duplicates) per (``keys``, period) of
    ``postings`` or of ``posting_skills``;
    with ``salary``, unique postings with a salary per (``keys``, period, exact salary midpoint)
    (postings only: skill medians are left to the row scan)."""

    name: str
    keys: tuple[str, ...]
    grains: tuple[Grain, ...]
    source: Literal["postings", "posting_skills"] = "postings"
    salary: bool = False
    #: the period leads the primary key (schema v7): postings arriving in date order then write
    #: into one contiguous run of cells (the current month's) instead of one cell per key
    #: combination all over the table; a window is read as one seek per period (``IN``)
    period_first: bool = False

    def table(self, grain: Grain) -> str:
        return f"ru_{self.name}_{grain[0]}"


#: the cuboids, smallest first: :func:`plan` takes the first that holds every key a query needs
CUBOIDS = (
    Cuboid("all", ("source",), ("day", "month")),
    Cuboid("occ1", ("occupation_code",), ("day", "month")),
    Cuboid("occ", ("occupation_code", "occupation_direction", "level"), ("day", "month")),
    Cuboid("geo", ("province", "region", "level"), ("day", "month")),
    Cuboid("occ_place", ("occupation_code", "province", "region", "source"), ("month",)),
    Cuboid("full", POSTING_KEYS, ("month",)),
    Cuboid("all_sal", ("source",), ("day", "month"), salary=True),
    Cuboid("occ1_sal", ("occupation_code",), ("day", "month"), salary=True),
    Cuboid("occ_sal", ("occupation_code", "occupation_direction", "level"), ("day", "month"), salary=True),
    Cuboid("geo_sal", ("province", "region", "level"), ("day", "month"), salary=True),
    Cuboid("full_sal", POSTING_KEYS, ("month",), salary=True),
    Cuboid("skill", ("skill_id",), ("day", "month"), "posting_skills"),
    Cuboid("skill_occ1", ("occupation_code", "skill_id"), ("month",), "posting_skills", period_first=True),
    Cuboid(
        "skill_occ",
        ("occupation_code", "occupation_direction", "level", "skill_id"),
        ("month",),
        "posting_skills",
        period_first=True,
    ),
    Cuboid("skill_geo", ("province", "region", "level", "skill_id"), ("month",), "posting_skills", period_first=True),
)
#: the largest window (in periods) a period-first roll-up reads as one seek per period
_MAX_PERIOD_SEEKS = 400

#: filter fields a roll-up can answer (``skills``: one skill, for counts that do not group by skill)
_ROLLUP_FIELDS = {"start", "end", "skills", *FILTER_KEYS}


# -- schema and upkeep --------------------------------------------------------------------------------
def _key_columns(c: Cuboid, grain: Grain) -> list[str]:
    """The primary key: the cuboid's keys first (a filter on them reads a prefix), then the period;
    the period first in a :attr:`Cuboid.period_first` one."""
    sal = ["sal"] if c.salary else []
    return [grain, *c.keys, *sal] if c.period_first else [*c.keys, grain, *sal]


def _stored(column: str) -> str:
    """The SQL of the stored value of ``column`` of a row of the cuboid's source."""
    if column in ("day", "month", "is_dup"):
        return column
    if column == "sal":
        return "salary_mid"
    return f"IFNULL({column}, '{NULL_KEY}')"


def _table_ddl(c: Cuboid, grain: Grain) -> str:
    """The CREATE statement of one roll-up table."""
    keys = _key_columns(c, grain)
    cols = [f"{k} {'TEXT' if k in c.keys else 'REAL' if k == 'sal' else 'INTEGER'} NOT NULL" for k in keys]
    if grain == "day":
        cols.append("month INTEGER NOT NULL")  # a day cell carries its month (a window's edges by month)
    return (
        f"CREATE TABLE IF NOT EXISTS {c.table(grain)} ({', '.join(cols)}, n INTEGER NOT NULL, d INTEGER NOT NULL, "
        f"PRIMARY KEY ({', '.join(keys)})) WITHOUT ROWID"
    )


def rollup_ddl() -> list[str]:
    """CREATE statements of every roll-up table."""
    return [_table_ddl(c, grain) for c in CUBOIDS for grain in c.grains]


def rebuild_rollups(tx: sqlite3.Connection) -> None:
    """Empty every roll-up and fill it again from the rows (the v4 -> v5 migration; also a repair)."""
    for c in CUBOIDS:
        for grain in c.grains:
            rebuild_rollup(tx, c, grain)


def relayout_period_first(tx: sqlite3.Connection) -> None:
    """v6 -> v7: the :attr:`Cuboid.period_first` roll-ups built again with the period leading their key."""
    for c in CUBOIDS:
        if c.period_first:
            for grain in c.grains:
                tx.execute(f"DROP TABLE IF EXISTS {c.table(grain)}")
                tx.execute(_table_ddl(c, grain))
                rebuild_rollup(tx, c, grain)


def rebuild_rollup(tx: sqlite3.Connection, c: Cuboid, grain: Grain) -> None:
    """Empty one roll-up table and fill it again from the rows."""
    keys = _key_columns(c, grain)
    exprs = [_stored(k) for k in keys]
    extra = ["month"] if grain == "day" else []
    tx.execute(f"DELETE FROM {c.table(grain)}")
    where = " WHERE is_dup = 0 AND salary_mid IS NOT NULL" if c.salary else ""
    tx.execute(
        f"INSERT INTO {c.table(grain)}({', '.join([*keys, *extra, 'n', 'd'])}) "
        f"SELECT {', '.join([*exprs, *(f'MIN({e})' for e in extra), 'COUNT(*)', 'SUM(is_dup)'])} "
        f"FROM {c.source}{where} "
        f"GROUP BY {', '.join(exprs)}"
    )


#: the columns of the delta tables of each source (TEMP, per connection): a cell of a row as the
#: roll-ups store it (missing keys as :data:`NULL_KEY`), then ``n``: +1 counted in, -1 counted out
#: (in the net table: the sum per cell, never 0)
_DELTA_COLUMNS = {
    "postings": ("day", "month", "is_dup", "sal", *POSTING_KEYS),
    "posting_skills": ("skill_id", "day", "month", "is_dup", *(k for k in POSTING_KEYS if k != "source")),
}
#: per source: the table of the rows counted in and out, and the table of their sums per cell
_DELTA_TABLES = {"postings": ("ru_delta_p", "ru_net_p"), "posting_skills": ("ru_delta_s", "ru_net_s")}
#: the column of each source that names its posting
_ROW_ID = {"postings": "rid", "posting_skills": "pid"}


def _delta_ddl(source: str) -> list[str]:
    cols = ", ".join(f"{c} {'REAL' if c == 'sal' else ''}".strip() for c in _DELTA_COLUMNS[source])
    return [f"CREATE TEMP TABLE IF NOT EXISTS {t} ({cols}, n INTEGER NOT NULL)" for t in _DELTA_TABLES[source]]


def _delta_insert(source: str, marks: str) -> str:
    """Copy the cells of the rows of ``source`` whose posting is one of ``marks`` into its delta table."""
    exprs = ", ".join(_stored(c) for c in _DELTA_COLUMNS[source])
    return (
        f"INSERT INTO {_DELTA_TABLES[source][0]}({', '.join(_DELTA_COLUMNS[source])}, n) "
        f"SELECT {exprs}, ? FROM {source} WHERE {_ROW_ID[source]} IN ({marks})"
    )


def _net_insert(source: str) -> str:
    """Sum the delta table of ``source`` per cell into its net table, leaving out what cancels."""
    cols = ", ".join(_DELTA_COLUMNS[source])
    delta, net = _DELTA_TABLES[source]
    return f"INSERT INTO {net} SELECT {cols}, SUM(n) FROM {delta} GROUP BY {cols} HAVING SUM(n) <> 0"


def _apply_sql(c: Cuboid, grain: Grain, table: str) -> tuple[str, str]:
    """The upsert of a cuboid's grain from the cells of the delta or net ``table``, summed per cell of
    the cuboid, and the delete of the cells it may have emptied (those a row was counted out of)."""
    keys = ", ".join(_key_columns(c, grain))
    where = "is_dup = 0 AND sal IS NOT NULL" if c.salary else "TRUE"
    month = ", MIN(month)" if grain == "day" else ""
    upsert = (
        f"INSERT INTO {c.table(grain)}({keys}{', month' if grain == 'day' else ''}, n, d) "
        f"SELECT {keys}{month}, SUM(n), SUM(n * is_dup) FROM {table} WHERE {where} GROUP BY {keys} "
        f"HAVING SUM(n) <> 0 OR SUM(n * is_dup) <> 0 "
        f"ON CONFLICT({keys}) DO UPDATE SET n = n + excluded.n, d = d + excluded.d"
    )
    delete = (
        f"DELETE FROM {c.table(grain)} WHERE n = 0 AND ({keys}) IN (SELECT {keys} FROM {table} WHERE n < 0 AND {where})"
    )
    return upsert, delete


class RollupDeltas:
    """The changes one write makes to the roll-ups, summed per cell, applied in its transaction.

    Every write path of the store (``writes.py``: upserts and re-extractions, near-duplicate marks)
    counts out (:meth:`count`, -1) the rows as they were and counts in (+1) the rows as they are;
    their cells go to a TEMP delta table per source. :meth:`apply` sums them per cell in SQL: when
    rows were counted out, first per row cell into a net table (what cancels out, a posting stored
    again unchanged, is gone there and writes nothing), then per cell of every cuboid (``GROUP BY``
    the cuboid's primary key, so the upserts touch its B-tree in key order). Summing per cell first
    is what keeps ingest fast: a batch of a few thousand postings touches far fewer cells than rows.
    """

    def __init__(self, tx: sqlite3.Connection, deferred: bool = False) -> None:
        """``deferred``: count nothing (a bulk load, ``bulk.py``, rebuilds every roll-up at its end)."""
        self._tx = tx
        self._deferred = deferred
        self._out = False  # some row was counted out: cells may cancel, or fall to zero
        if not deferred:
            for source in _DELTA_TABLES:
                for ddl in _delta_ddl(source):
                    tx.execute(ddl)

    def count(self, rids: Sequence[int], sign: int) -> None:
        """Count the stored rows of the postings ``rids`` (postings and skill links) in (+1) or out (-1)."""
        if self._deferred:
            return
        self._out = self._out or (sign < 0 and bool(rids))
        for i in range(0, len(rids), 500):
            chunk = list(rids[i : i + 500])
            marks = ",".join("?" * len(chunk))
            for source in _DELTA_TABLES:
                self._tx.execute(_delta_insert(source, marks), [sign, *chunk])

    def apply(self) -> None:
        """Write the summed changes to every cuboid (deleting the cells that fell to zero), and empty the delta tables."""
        if self._deferred:
            return
        for source, (delta, net) in _DELTA_TABLES.items():
            table, emptied = delta, False
            if self._out:
                self._tx.execute(_net_insert(source))
                table = net
                if self._tx.execute(f"SELECT 1 FROM {net} LIMIT 1").fetchone() is None:
                    continue
                emptied = self._tx.execute(f"SELECT 1 FROM {net} WHERE n < 0 LIMIT 1").fetchone() is not None
            for c in CUBOIDS:
                if c.source != source:
                    continue
                for grain in c.grains:
                    upsert, delete = _apply_sql(c, grain, table)
                    self._tx.execute(upsert)
                    if emptied:
                        self._tx.execute(delete)
        for tables in _DELTA_TABLES.values():
            for table in tables:
                self._tx.execute(f"DELETE FROM {table}")
        self._out = False


# -- the decision -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Piece:
    """A part of the window one grain of a cuboid answers: periods ``lo`` .. ``hi`` (inclusive,
    None = open) in the grain's unit (day or month numbers)."""

    table: str
    grain: Grain
    lo: int | None
    hi: int | None


@dataclass(frozen=True)
class Plan:
    """How a roll-up answers a query: its cuboid, the pieces of the window, the key conditions."""

    cuboid: Cuboid
    pieces: tuple[Piece, ...]
    where: str
    params: tuple[object, ...]

    def union(
        self, select: str, extra_where: str = "", extra_params: tuple[object, ...] = ()
    ) -> tuple[str, list[object]]:
        """``SELECT {select} FROM piece WHERE ...`` for every piece, joined by UNION ALL, and the parameters."""
        parts: list[str] = []
        params: list[object] = []
        for piece in self.pieces:
            conds = [c for c in (self.where, extra_where) if c]
            bounds: list[object] = []
            if (
                self.cuboid.period_first
                and piece.lo is not None
                and piece.hi is not None
                and piece.hi - piece.lo < _MAX_PERIOD_SEEKS
            ):
                periods = range(piece.lo, piece.hi + 1)  # one seek per period, then the keys' prefix
                conds.append(f"{piece.grain} IN ({','.join('?' * len(periods))})" if periods else "0")
                bounds += periods
            else:
                if piece.lo is not None:
                    conds.append(f"{piece.grain} >= ?")
                    bounds.append(piece.lo)
                if piece.hi is not None:
                    conds.append(f"{piece.grain} <= ?")
                    bounds.append(piece.hi)
            parts.append(f"SELECT {select} FROM {piece.table} WHERE {' AND '.join(conds) or '1=1'}")
            params += [*self.params, *extra_params, *bounds]
        return " UNION ALL ".join(parts), params


def _month_first(m: int) -> date:
    return date(m // 12, m % 12 + 1, 1)


def _windows(flt: PostingFilter | None, interval: Interval | None) -> list[tuple[Grain, int | None, int | None]]:
    """The window split into (grain, lo, hi): whole months from the month grain, the days of partly
    covered months at its edges from the day grain; all days when the series is daily or weekly."""
    start = flt.start if flt else None
    end = flt.end if flt else None
    s = day_number(start) if start else None
    e = day_number(end) if end else None
    if interval in ("day", "week"):
        return [("day", s, e)]
    lo = None if start is None else month_number(start) + (start.day != 1)
    hi = None if end is None else month_number(end) - ((end + timedelta(days=1)).day != 1)
    if lo is not None and hi is not None and lo > hi:
        return [("day", s, e)]
    out: list[tuple[Grain, int | None, int | None]] = [("month", lo, hi)]
    if start is not None and lo is not None and start.day != 1:
        out.append(("day", s, day_number(_month_first(lo)) - 1))
    if end is not None and hi is not None and (end + timedelta(days=1)).day != 1:
        out.append(("day", day_number(_month_first(hi + 1)), e))
    return out


def plan(
    flt: PostingFilter | None,
    *,
    group: str | None = None,
    interval: Interval | None = None,
    salary: bool = False,
) -> Plan | None:
    """The roll-up that answers a query over ``flt``, or None for the row scan.

    ``group``: the facet grouped by (a key of :data:`FACET_KEYS`), ``interval``: the series' period,
    ``salary``: the query needs the salary histogram. A roll-up answers when the filter names only
    dates and roll-up keys (and at most one skill, when the query does not group by skill), no value
    is :data:`NULL_KEY`, and some cuboid holds every key and every grain the window needs.
    """
    fields = set(flt.model_dump(exclude_defaults=True)) if flt is not None else set()
    if not fields <= _ROLLUP_FIELDS:
        return None
    skills = flt.skills if flt is not None else []
    if len(skills) > 1 or (skills and (group == "skills" or salary)):
        return None
    if group is not None and group not in FACET_KEYS:
        return None
    needed = {FILTER_KEYS[f] for f in fields if f in FILTER_KEYS}
    if group is not None:
        needed.add(FACET_KEYS[group])
    by_skill = bool(skills) or group == "skills"
    values: list[str] = [v for f in FILTER_KEYS for v in (getattr(flt, f) if flt is not None else [])]
    if NULL_KEY in values or NULL_KEY in skills:
        return None
    windows = _windows(flt, interval)
    for c in CUBOIDS:
        if (c.source == "posting_skills") != by_skill or salary != c.salary:
            continue
        if not needed - {"skill_id"} <= set(c.keys) or any(g not in c.grains for g, _, _ in windows):
            continue
        clauses: list[str] = []
        params: list[object] = []
        for f, column in FILTER_KEYS.items():
            chosen = getattr(flt, f) if flt is not None else []
            if chosen:
                clauses.append(f"{column} IN ({','.join('?' * len(chosen))})")
                params += chosen
        if skills:
            clauses.append("skill_id = ?")
            params.append(skills[0])
        pieces = tuple(Piece(c.table(g), g, lo, hi) for g, lo, hi in windows)
        return Plan(c, pieces, " AND ".join(clauses), tuple(params))
    return None


def period_expr(interval: Interval) -> str:
    """The period of a roll-up cell in the row scan's units (``sql.period_sql``)."""
    if interval == "month":
        return "month"
    if interval == "day":
        return "day"
    return "(day - (day + 3) % 7)"
