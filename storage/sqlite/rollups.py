"""Roll-ups: pre-aggregated posting counts the dashboard queries read instead of the rows (schema v5).

Each roll-up ("cuboid") counts postings (or skill links) per period × a few key columns ×
duplicate flag; a salary cuboid counts the unique postings with a salary per period × keys × exact
salary midpoint, so that the median salary a roll-up gives is the one the row scan gives (the same
histogram of the same doubles). Every cuboid exists in a ``day`` grain (also holding the month,
for the edges of a window) and/or a ``month`` grain.

They are kept exact by every write path of the store (``writes.py``: upserts and re-extractions,
near-duplicate marks) inside its own transaction: :class:`RollupDeltas` takes the cells of the rows
as they were away and adds those of the rows as they are, summed per cell first (SQLite triggers
did the same a row at a time and halved the ingest rate). Cells that fall to zero are deleted, so a
roll-up holds only combinations with postings. Nothing deletes postings today; a delete path must
count its rows out the same way.

A missing key value (NULL in the rows) is stored as :data:`NULL_KEY` (a primary key holds no NULL);
a salary cuboid leaves out postings without a salary. Queries turn them back (a facet leaves the missing value
out, as the row scan does).

:func:`plan` is the one decision: can a roll-up answer this filter (and grouping), and which
cuboid and grains; ``None`` sends the query to the row scan.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from operator import itemgetter
from typing import Any, Literal

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
#: every column a trigger copies into a posting cuboid (the key columns any posting cuboid may use)
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
    Cuboid("skill_occ1", ("occupation_code", "skill_id"), ("month",), "posting_skills"),
    Cuboid("skill_occ", ("occupation_code", "occupation_direction", "level", "skill_id"), ("month",), "posting_skills"),
    Cuboid("skill_geo", ("province", "region", "level", "skill_id"), ("month",), "posting_skills"),
)

#: filter fields a roll-up can answer (``skills``: one skill, for counts that do not group by skill)
_ROLLUP_FIELDS = {"start", "end", "skills", *FILTER_KEYS}


# -- schema and upkeep --------------------------------------------------------------------------------
def _key_columns(c: Cuboid, grain: Grain) -> list[str]:
    """The primary key: the cuboid's keys first (a filter on them reads a prefix), then the period."""
    return [*c.keys, grain, *(["sal"] if c.salary else [])]


def _stored(column: str) -> str:
    """The SQL of the stored value of ``column`` of a row of the cuboid's source."""
    if column in ("day", "month", "is_dup"):
        return column
    if column == "sal":
        return "salary_mid"
    return f"IFNULL({column}, '{NULL_KEY}')"


def rollup_ddl() -> list[str]:
    """CREATE statements of every roll-up table."""
    out = []
    for c in CUBOIDS:
        for grain in c.grains:
            keys = _key_columns(c, grain)
            cols = [f"{k} {'TEXT' if k in c.keys else 'REAL' if k == 'sal' else 'INTEGER'} NOT NULL" for k in keys]
            if grain == "day":
                cols.append("month INTEGER NOT NULL")  # a day cell carries its month (a window's edges by month)
            out.append(
                f"CREATE TABLE IF NOT EXISTS {c.table(grain)} ({', '.join(cols)}, n INTEGER NOT NULL, d INTEGER NOT NULL, "
                f"PRIMARY KEY ({', '.join(keys)})) WITHOUT ROWID"
            )
    return out


def rebuild_rollups(tx: sqlite3.Connection) -> None:
    """Empty every roll-up and fill it again from the rows (the v4 -> v5 migration; also a repair)."""
    for c in CUBOIDS:
        for grain in c.grains:
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


#: the columns of ``postings`` a posting cell reads (:meth:`RollupDeltas.posting`), in this order
POSTING_CELL_COLUMNS = ("day", "month", "is_dup", "salary_mid", *POSTING_KEYS)
#: the columns of ``posting_skills`` a link cell reads (:meth:`RollupDeltas.link`), in this order
LINK_CELL_COLUMNS = ("skill_id", "day", "month", "is_dup", *(k for k in POSTING_KEYS if k != "source"))


class RollupDeltas:
    """The changes one write makes to the roll-ups, summed per cell, applied in its transaction.

    Every write path of the store (``writes.py``: upserts and re-extractions, near-duplicate marks)
    takes away the cells of the rows as they were and adds those of the rows as they are; what
    cancels out (a posting stored again unchanged) writes nothing. Summing per cell first is what
    keeps ingest fast: a batch of a few thousand postings touches far fewer cells than rows.
    """

    def __init__(self) -> None:
        # per cuboid and grain: the change of n and of d per cell
        self._cells: dict[tuple[Cuboid, Grain], tuple[Counter[tuple[object, ...]], Counter[tuple[object, ...]]]] = {
            (c, g): (Counter(), Counter()) for c in CUBOIDS for g in c.grains
        }
        # per source: (the cells, the getter of a cell from a row, salary cuboid?); a day cell ends with its month
        self._getters: dict[
            str,
            list[tuple[tuple[Counter[tuple[object, ...]], Counter[tuple[object, ...]]], itemgetter[Any], bool]],
        ] = {}
        for source, columns in (("postings", POSTING_CELL_COLUMNS), ("posting_skills", LINK_CELL_COLUMNS)):
            index = {col: i for i, col in enumerate(columns)}
            if source == "postings":
                index["sal"] = columns.index("salary_mid")
            self._getters[source] = [
                (
                    cells,
                    itemgetter(*(index[k] for k in [*_key_columns(c, g), *(["month"] if g == "day" else [])])),
                    c.salary,
                )
                for (c, g), cells in self._cells.items()
                if c.source == source
            ]

    def _add(self, source: str, row: tuple[object, ...], dup: bool, priced: bool, sign: int) -> None:
        for (all_cells, dup_cells), get, salary in self._getters[source]:
            if salary and not priced:
                continue
            key = get(row)
            all_cells[key] += sign
            if dup:
                dup_cells[key] += sign

    def posting(self, row: Sequence[object], sign: int) -> None:
        """A ``postings`` row (:data:`POSTING_CELL_COLUMNS`) counted in (+1) or out (-1)."""
        day, month, is_dup, sal, *keys = row
        filled = (day, month, is_dup, sal, *(NULL_KEY if k is None else k for k in keys))
        self._add("postings", filled, bool(is_dup), sal is not None and not is_dup, sign)

    def link(self, row: Sequence[object], sign: int) -> None:
        """A ``posting_skills`` row (:data:`LINK_CELL_COLUMNS`) counted in (+1) or out (-1)."""
        skill, day, month, is_dup, *keys = row
        self._add(
            "posting_skills",
            (skill, day, month, is_dup, *(NULL_KEY if k is None else k for k in keys)),
            bool(is_dup),
            False,
            sign,
        )

    def apply(self, tx: sqlite3.Connection) -> None:
        for (c, grain), (all_cells, dup_cells) in self._cells.items():
            changed = [(*cell, n, dup_cells[cell]) for cell, n in all_cells.items() if n or dup_cells[cell]]
            if not changed:
                continue
            keys = _key_columns(c, grain)
            columns = [*keys, *(["month"] if grain == "day" else []), "n", "d"]
            table = c.table(grain)
            tx.executemany(
                f"INSERT INTO {table}({', '.join(columns)}) VALUES ({','.join('?' * len(columns))}) "
                f"ON CONFLICT({', '.join(keys)}) DO UPDATE SET n = n + excluded.n, d = d + excluded.d",
                changed,
            )
            emptied = [cell[: len(keys)] for cell, n in all_cells.items() if n < 0]
            if emptied:
                match = " AND ".join(f"{k} = ?" for k in keys)
                tx.executemany(f"DELETE FROM {table} WHERE {match} AND n = 0", emptied)
        for all_cells, dup_cells in self._cells.values():
            all_cells.clear()
            dup_cells.clear()


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
