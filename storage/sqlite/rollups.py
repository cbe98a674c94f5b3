"""Roll-ups: pre-aggregated posting counts the dashboard queries read instead of the rows (schema v5).

Each roll-up ("cuboid") counts postings (or skill links) per period × a few key columns ×
duplicate flag — and, for postings, × exact salary midpoint, so that the median salary a roll-up
gives is the one the row scan gives (the same histogram of the same doubles). Every cuboid exists
in a ``day`` grain (also holding the month, for the edges of a window) and/or a ``month`` grain.

They are kept exact by SQLite triggers on ``postings`` and ``posting_skills``: every write path
(upsert, re-extraction, near-duplicate marks, deletes) changes those tables inside its own
transaction, and the triggers move the counts in the same transaction. Cells that fall to zero
are deleted, so a roll-up holds only combinations with postings.

A missing key value (NULL in the rows) is stored as :data:`NULL_KEY` (a primary key holds no NULL);
a missing salary as :data:`NO_SALARY`. Queries turn them back (a facet leaves the missing value
out, as the row scan does).

:func:`plan` is the one decision: can a roll-up answer this filter (and grouping), and which
cuboid and grains; ``None`` sends the query to the row scan.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from ..filters import PostingFilter
from ..results import Interval
from .sql import day_number, month_number

#: the stored form of a missing key value (no real occupation, province, ... is this control character)
NULL_KEY = "\x1f"
#: the stored form of a missing salary midpoint (midpoints are monthly CNY, never negative)
NO_SALARY = -1.0

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
#: every column a trigger copies into a posting cuboid (the key columns any posting cuboid may use)
POSTING_KEYS = tuple(FILTER_KEYS.values())


@dataclass(frozen=True)
class Cuboid:
    """One roll-up: counts per (period, ``keys``, is_dup[, salary]) of ``postings`` or of ``posting_skills``."""

    name: str
    keys: tuple[str, ...]
    grains: tuple[Grain, ...]
    source: Literal["postings", "posting_skills"] = "postings"

    @property
    def salary(self) -> bool:
        """Posting cuboids count per exact salary midpoint too (the link tables carry no source, and
        skill medians are left to the row scan)."""
        return self.source == "postings"

    def table(self, grain: Grain) -> str:
        return f"ru_{self.name}_{grain[0]}"


#: the cuboids, smallest first: :func:`plan` takes the first that holds every key a query needs
CUBOIDS = (
    Cuboid("all", ("source",), ("day", "month")),
    Cuboid("occ", ("occupation_code", "occupation_direction", "level"), ("day", "month")),
    Cuboid("geo", ("province", "region", "level"), ("day", "month")),
    Cuboid("full", POSTING_KEYS, ("day", "month")),
    Cuboid("skill", ("skill_id",), ("day", "month"), "posting_skills"),
    Cuboid("skill_occ", ("skill_id", "occupation_code", "occupation_direction", "level"), ("month",), "posting_skills"),
    Cuboid("skill_geo", ("skill_id", "province", "region", "level"), ("month",), "posting_skills"),
)

#: filter fields a roll-up can answer (``skills``: one skill, for counts that do not group by skill)
_ROLLUP_FIELDS = {"start", "end", "skills", *FILTER_KEYS}


# -- schema ------------------------------------------------------------------------------------------
def _key_columns(c: Cuboid, grain: Grain) -> list[str]:
    return [grain, *c.keys, "is_dup", *(["sal"] if c.salary else [])]


def _value(column: str, row: str = "") -> str:
    """The stored value of ``column`` of the trigger row ``row`` (``new`` or ``old``; "" in a SELECT)."""
    at = f"{row}." if row else ""
    if column in ("day", "month", "is_dup"):
        return f"{at}{column}"
    if column == "sal":
        return f"IFNULL({at}salary_mid, {NO_SALARY})"
    return f"IFNULL({at}{column}, '{NULL_KEY}')"


def _add(c: Cuboid, grain: Grain, row: str) -> str:
    keys = _key_columns(c, grain)
    extra = ["month"] if grain == "day" else []  # a day cell carries its month (windows' edges by month)
    columns = [*keys, *extra, "n"]
    values = [*(_value(k, row) for k in keys), *(f"{row}.{e}" for e in extra), "1"]
    return (
        f"INSERT INTO {c.table(grain)}({', '.join(columns)}) VALUES ({', '.join(values)}) "
        f"ON CONFLICT({', '.join(keys)}) DO UPDATE SET n = n + 1;"
    )


def _remove(c: Cuboid, grain: Grain, row: str) -> str:
    match = " AND ".join(f"{k} = {_value(k, row)}" for k in _key_columns(c, grain))
    table = c.table(grain)
    return f"UPDATE {table} SET n = n - 1 WHERE {match};\n  DELETE FROM {table} WHERE {match} AND n = 0;"


def _tracked(source: str) -> list[str]:
    """The columns of ``source`` whose change moves a posting (or link) between cells."""
    if source == "postings":
        return ["day", "month", "is_dup", "salary_mid", *POSTING_KEYS]
    return ["day", "month", "is_dup", "skill_id", *(k for k in POSTING_KEYS if k != "source")]


def rollup_ddl() -> list[str]:
    """CREATE statements of every roll-up table and of the triggers that keep them exact."""
    out = []
    for c in CUBOIDS:
        for grain in c.grains:
            keys = _key_columns(c, grain)
            cols = [f"{k} {'TEXT' if k in c.keys else 'REAL' if k == 'sal' else 'INTEGER'} NOT NULL" for k in keys]
            if grain == "day":
                cols.append("month INTEGER NOT NULL")
            out.append(
                f"CREATE TABLE IF NOT EXISTS {c.table(grain)} ({', '.join(cols)}, n INTEGER NOT NULL, "
                f"PRIMARY KEY ({', '.join(keys)})) WITHOUT ROWID"
            )
    for source in ("postings", "posting_skills"):
        mine = [(c, g) for c in CUBOIDS if c.source == source for g in c.grains]
        adds = "\n  ".join(_add(c, g, "new") for c, g in mine)
        removes = "\n  ".join(_remove(c, g, "old") for c, g in mine)
        tracked = _tracked(source)
        changed = " OR ".join(f"old.{col} IS NOT new.{col}" for col in tracked)
        out += [
            f"CREATE TRIGGER IF NOT EXISTS ru_{source}_ins AFTER INSERT ON {source} BEGIN\n  {adds}\nEND",
            f"CREATE TRIGGER IF NOT EXISTS ru_{source}_del AFTER DELETE ON {source} BEGIN\n  {removes}\nEND",
            f"CREATE TRIGGER IF NOT EXISTS ru_{source}_upd AFTER UPDATE OF {', '.join(tracked)} ON {source} "
            f"WHEN {changed} BEGIN\n  {removes}\n  {adds}\nEND",
        ]
    return out


def rebuild_rollups(tx: sqlite3.Connection) -> None:
    """Empty every roll-up and fill it again from the rows (the v4 -> v5 migration; also a repair)."""
    for c in CUBOIDS:
        for grain in c.grains:
            keys = _key_columns(c, grain)
            exprs = [_value(k) for k in keys]
            extra = ["month"] if grain == "day" else []
            tx.execute(f"DELETE FROM {c.table(grain)}")
            tx.execute(
                f"INSERT INTO {c.table(grain)}({', '.join([*keys, *extra, 'n'])}) "
                f"SELECT {', '.join([*exprs, *(f'MIN({e})' for e in extra), 'COUNT(*)'])} FROM {c.source} "
                f"GROUP BY {', '.join(exprs)}"
            )


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
        if (c.source == "posting_skills") != by_skill or (salary and not c.salary):
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
