"""The counting hooks of :class:`storage.shared.SharedIndex` in SQL: totals, medians, series,
facet rankings, skill pairs, export series and signal cells. Rankings by count are ordered and cut
in SQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from ..base import (
    BACHELOR_PLUS,
    EXPERIENCE_THRESHOLDS,
    MASTER_PLUS,
    SENIOR_LEVEL,
    CellKey,
    PeriodCounts,
    SignalParts,
    median_of_histogram,
)
from ..filters import PostingFilter
from ..results import Interval
from ..shared import KeyedPeriodCounts, SeriesCounts
from .connection import SQLiteConnection
from .sql import EXPORT_COLUMNS, facet_source, period_date, period_sql, skill_source, where_clause

#: metric -> SQL order over the (total n, duplicate d) of a group (median_salary is ranked in Python)
_ORDER = {
    "unique_postings": "n - d DESC",
    "duplicate_postings": "d DESC",
    "total_postings": "n DESC",
    "posting_intensity": "CASE WHEN n > d THEN CAST(n AS REAL) / (n - d) ELSE 0 END DESC",
}


class SQLiteAnalytics(SQLiteConnection):
    def _counts(self, flt: PostingFilter | None) -> tuple[int, int]:
        where, params = where_clause(flt)
        n, d = (
            self._connect()
            .execute(f"SELECT COUNT(*), TOTAL(p.is_dup) FROM postings p WHERE {where}", params)
            .fetchone()
        )
        return n, int(d)

    def _median_salary(self, flt: PostingFilter | None) -> float | None:
        where, params = where_clause(flt)
        hist = (
            self._connect()
            .execute(
                f"SELECT p.salary_mid, COUNT(*) FROM postings p WHERE {where} AND p.is_dup = 0 "
                "AND p.salary_mid IS NOT NULL GROUP BY p.salary_mid",
                params,
            )
            .fetchall()
        )
        return median_of_histogram((r[0], r[1]) for r in hist)

    def _period_counts(self, flt: PostingFilter | None, interval: Interval) -> PeriodCounts:
        period = period_sql("p", interval)
        where, params = where_clause(flt)
        return {
            period_date(k, interval): (n, int(d))
            for k, n, d in self._connect().execute(
                f"SELECT {period} AS k, COUNT(*), TOTAL(p.is_dup) FROM postings p WHERE {where} GROUP BY k",
                params,
            )
        }

    def _facet_counts(
        self, facet: str, flt: PostingFilter | None, metric: str | None = None, limit: int | None = None
    ) -> dict[str, tuple[int, int]]:
        key, src, where, params, a = facet_source(facet, flt)
        sql = f"SELECT {key} AS k, COUNT(*) AS n, TOTAL({a}.is_dup) AS d FROM {src} WHERE {where} GROUP BY k"
        if metric is not None:
            sql += f" ORDER BY {_ORDER[metric]}, k LIMIT ?"
            params = [*params, -1 if limit is None else limit]
        return {k: (n, int(d)) for k, n, d in self._connect().execute(sql, params)}

    def _facet_medians(self, facet: str, flt: PostingFilter | None) -> dict[str, float | None]:
        key, src, where, params, a = facet_source(facet, flt)
        hists: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for k, sal, c in self._connect().execute(
            f"SELECT {key} AS k, {a}.salary_mid, COUNT(*) FROM {src} WHERE {where} AND {a}.is_dup = 0 "
            f"AND {a}.salary_mid IS NOT NULL GROUP BY k, {a}.salary_mid",
            params,
        ):
            hists[k].append((sal, c))
        return {k: median_of_histogram(h) for k, h in hists.items()}

    def _keyed_period_counts(
        self, facet: str, flt: PostingFilter | None, interval: Interval, keys: Sequence[str]
    ) -> KeyedPeriodCounts:
        key, src, where, params, a = facet_source(facet, flt)
        counts: KeyedPeriodCounts = {}
        for k, per, n, d in self._connect().execute(
            f"SELECT {key} AS k, {period_sql(a, interval)} AS per, COUNT(*), TOTAL({a}.is_dup) FROM {src} "
            f"WHERE {where} AND {key} IN ({','.join('?' * len(keys))}) GROUP BY k, per",
            [*params, *keys],
        ):
            counts[(k, period_date(per, interval))] = (n, int(d))
        return counts

    def _cooccurrence_counts(
        self, flt: PostingFilter | None, limit: int, min_count: int
    ) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
        src, where, params = skill_source(flt)
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
        return singles, [(a, b, n) for a, b, n in pairs]

    def _export_counts(self, flt: PostingFilter | None, interval: Interval, dims: Sequence[str]) -> SeriesCounts:
        where, params = where_clause(flt)
        src = "posting_skills s JOIN postings p ON p.rid = s.pid" if "skill" in dims else "postings p"
        exprs = ["s.skill_id" if d == "skill" else f"p.{EXPORT_COLUMNS[d]}" for d in dims]
        select = ", ".join([f"{period_sql('p', interval)} AS per", *(f"{e} AS d{i}" for i, e in enumerate(exprs))])
        group = ", ".join(["per", *(f"d{i}" for i in range(len(dims)))])
        by_series: SeriesCounts = defaultdict(dict)
        for r in self._connect().execute(
            f"SELECT {select}, COUNT(*) AS n, TOTAL(p.is_dup) AS d FROM {src} WHERE {where} GROUP BY {group}",
            params,
        ):
            values = tuple(r[f"d{i}"] for i in range(len(dims)))
            by_series[values][period_date(r["per"], interval)] = (r["n"], int(r["d"]))
        return by_series

    def _signal_parts(self, flt: PostingFilter | None, interval: Interval, dims: Sequence[str]) -> SignalParts:
        """Three GROUP BY scans of ``postings``: counts and requirement mix, salary midpoints, durations.
        Rows are read as plain tuples and period numbers converted once each (a catalogue reads
        hundreds of thousands of histogram rows)."""
        where, params = where_clause(flt)
        keys = [f"p.{EXPORT_COLUMNS[d]}" for d in dims]
        group = ", ".join([period_sql("p", interval), *keys])
        width = len(dims)
        cur = self._connect().cursor()
        cur.row_factory = None
        starts: dict[int, date] = {}

        def cell(row: tuple[Any, ...]) -> CellKey:
            start = starts.get(row[0])
            if start is None:
                start = starts[row[0]] = period_date(row[0], interval)
            return row[1 : 1 + width], start

        def placeholders(values: Sequence[object]) -> str:
            return ",".join("?" * len(values))

        unique = "p.is_dup = 0"
        mix = [
            f"TOTAL({unique} AND p.experience_min >= ?)",
            f"TOTAL({unique} AND p.experience_min >= ?)",
            f"TOTAL({unique} AND p.education_level IN ({placeholders(BACHELOR_PLUS)}))",
            f"TOTAL({unique} AND p.education_level IN ({placeholders(MASTER_PLUS)}))",
            f"TOTAL({unique} AND p.level = ?)",
        ]
        mix_params = [*EXPERIENCE_THRESHOLDS, *BACHELOR_PLUS, *MASTER_PLUS, SENIOR_LEVEL]
        counts = {}
        for row in cur.execute(
            f"SELECT {group}, COUNT(*), TOTAL({unique}), {', '.join(mix)} FROM postings p WHERE {where} GROUP BY {group}",
            [*mix_params, *params],
        ):
            n, u, e3, e5, b, m, s = row[1 + width :]
            counts[cell(row)] = (n, int(u), int(e3), int(e5), int(b), int(m), int(s))
        salaries: dict[CellKey, list[tuple[float, int]]] = defaultdict(list)
        for row in cur.execute(
            f"SELECT {group}, p.salary_mid, COUNT(*) FROM postings p WHERE {where} AND {unique} "
            f"AND p.salary_mid IS NOT NULL GROUP BY {group}, p.salary_mid",
            params,
        ):
            salaries[cell(row)].append(row[1 + width :])
        durations: dict[CellKey, list[tuple[int, bool, int]]] = defaultdict(list)
        for row in cur.execute(
            f"SELECT {group}, p.last_seen - p.first_seen AS days, p.closed_on IS NOT NULL AS closed, COUNT(*) "
            f"FROM postings p WHERE {where} AND {unique} GROUP BY {group}, days, closed",
            params,
        ):
            days, closed, c = row[1 + width :]
            durations[cell(row)].append((days, closed == 1, c))
        return SignalParts(counts, salaries, durations)
