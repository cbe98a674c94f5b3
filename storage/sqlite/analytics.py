"""The counting hooks of :class:`storage.shared.SharedIndex` in SQL: totals, medians, series,
facet rankings, skill pairs, export series and signal cells. Rankings by count are ordered and cut
in SQL.

Counts, medians, series and facet rankings read the roll-ups (``rollups.py``) whenever
:func:`rollups.plan` says one answers the filter, else scan the rows; both give the same answers
(``tests/storage/test_sqlite_rollups.py``). ``use_rollups = False`` on a store forces the row scan."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date

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
from .bulk import bulk_load_pending
from .connection import SQLiteConnection
from .rollups import FACET_KEYS, NULL_KEY, Plan, period_expr, plan
from .sql import (
    EXPORT_COLUMNS,
    facet_source,
    month_bounds,
    one_skill_source,
    period_date,
    period_sql,
    skill_source,
    where_clause,
)

#: metric -> SQL order over the (total n, duplicate d) of a group (median_salary is ranked in Python)
_ORDER = {
    "unique_postings": "n - d DESC",
    "duplicate_postings": "d DESC",
    "total_postings": "n DESC",
    "posting_intensity": "CASE WHEN n > d THEN CAST(n AS REAL) / (n - d) ELSE 0 END DESC",
}


#: a salary midpoint as text that reads back as the same double: the integer when it is one (cheap),
#: else ``quote()``'s 20 significant digits
_EXACT_SALARY = (
    "CASE WHEN p.salary_mid = CAST(p.salary_mid AS INTEGER) THEN CAST(p.salary_mid AS INTEGER) "
    "ELSE quote(p.salary_mid) END"
)


class SQLiteAnalytics(SQLiteConnection):
    #: answer from the roll-ups where they can (False: always scan the rows, for tests and benchmarks)
    use_rollups: bool = True

    def _rollup(
        self,
        flt: PostingFilter | None,
        group: str | None = None,
        interval: Interval | None = None,
        salary: bool = False,
    ) -> Plan | None:
        if not self.use_rollups or self._bulk_load_running():
            return None
        return plan(flt, group=group, interval=interval, salary=salary)

    def _bulk_load_running(self) -> bool:
        """A bulk load (``bulk.py``) has left the roll-ups stale and dropped the indexes queries may name."""
        return bulk_load_pending(self._connect())

    def _counts(self, flt: PostingFilter | None) -> tuple[int, int]:
        ru = self._rollup(flt)
        if ru is not None:
            sql, params = ru.union("n, d")
            n, d = self._connect().execute(f"SELECT TOTAL(n), TOTAL(d) FROM ({sql})", params).fetchone()
            return int(n), int(d)
        where, params = where_clause(flt)
        n, d = (
            self._connect()
            .execute(f"SELECT COUNT(*), TOTAL(p.is_dup) FROM postings p WHERE {where}", params)
            .fetchone()
        )
        return n, int(d)

    def _median_salary(self, flt: PostingFilter | None) -> float | None:
        ru = self._rollup(flt, salary=True)
        if ru is not None:
            sql, params = ru.union("sal, n")
            rows = self._connect().execute(f"SELECT sal, SUM(n) FROM ({sql}) GROUP BY sal", params).fetchall()
            return median_of_histogram((r[0], r[1]) for r in rows)
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
        """Counts per period: from one skill's link rows alone where they answer the filter
        (:func:`one_skill_source`: a covering ``ps_skill`` range instead of a lookup per posting),
        else from ``postings``; from a roll-up before either where one answers."""
        ru = self._rollup(flt, interval=interval)
        if ru is not None:
            sql, params = ru.union(f"{period_expr(interval)} AS per, n, d")
            return {
                period_date(k, interval): (int(n), int(d))
                for k, n, d in self._connect().execute(f"SELECT per, SUM(n), SUM(d) FROM ({sql}) GROUP BY per", params)
            }
        alias, source = "p", "postings p"
        where, params = where_clause(flt)
        one_skill = one_skill_source(flt)
        if one_skill is not None:
            alias, source = "s", "posting_skills s"
            where, params = one_skill
        return {
            period_date(k, interval): (n, int(d))
            for k, n, d in self._connect().execute(
                f"SELECT {period_sql(alias, interval)} AS k, COUNT(*), TOTAL({alias}.is_dup) FROM {source} "
                f"WHERE {where} GROUP BY k",
                params,
            )
        }

    def _facet_counts(
        self, facet: str, flt: PostingFilter | None, metric: str | None = None, limit: int | None = None
    ) -> dict[str, tuple[int, int]]:
        ru = self._rollup(flt, group=facet)
        if ru is not None:
            column = FACET_KEYS[facet]
            inner, params = ru.union(f"{column} AS k, n AS c, d AS dup", f"{column} <> ?", (NULL_KEY,))
            sql = f"SELECT k, SUM(c) AS n, SUM(dup) AS d FROM ({inner}) GROUP BY k"
        else:
            key, src, where, params, a = facet_source(facet, flt, not self._bulk_load_running())
            sql = f"SELECT {key} AS k, COUNT(*) AS n, TOTAL({a}.is_dup) AS d FROM {src} WHERE {where} GROUP BY k"
        if metric is not None:
            sql += f" ORDER BY {_ORDER[metric]}, k LIMIT ?"
            params = [*params, -1 if limit is None else limit]
        return {k: (int(n), int(d)) for k, n, d in self._connect().execute(sql, params)}

    def _facet_medians(self, facet: str, flt: PostingFilter | None) -> dict[str, float | None]:
        ru = self._rollup(flt, group=facet, salary=True)
        if ru is not None:
            column = FACET_KEYS[facet]
            inner, params = ru.union(f"{column} AS k, sal, n", f"{column} <> ?", (NULL_KEY,))
            sql = f"SELECT k, sal, SUM(n) FROM ({inner}) GROUP BY k, sal"
        else:
            key, src, where, params, a = facet_source(facet, flt, not self._bulk_load_running())
            sql = (
                f"SELECT {key} AS k, {a}.salary_mid, COUNT(*) FROM {src} WHERE {where} AND {a}.is_dup = 0 "
                f"AND {a}.salary_mid IS NOT NULL GROUP BY k, {a}.salary_mid"
            )
        hists: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for k, sal, c in self._connect().execute(sql, params):
            hists[k].append((sal, c))
        return {k: median_of_histogram(h) for k, h in hists.items()}

    def _grouped_facet_counts(
        self, facet: str, flt: PostingFilter | None, by: Sequence[str]
    ) -> dict[tuple[tuple[str | None, ...], str], tuple[int, int]]:
        """One GROUP BY over the facet's source (a link table copies the dimension columns, so it
        answers alone whenever it can answer the filter), restricted to the window's months."""
        key, src, where, params, a = facet_source(facet, flt, not self._bulk_load_running())
        months, month_params = month_bounds(flt, a)
        cols = [f"{a}.{EXPORT_COLUMNS[d]}" for d in by]
        group = ", ".join([*cols, "k"])
        sql = (
            f"SELECT {', '.join([*cols, f'{key} AS k'])}, COUNT(*) AS n, TOTAL({a}.is_dup) AS d FROM {src} "
            f"WHERE {where}{months} GROUP BY {group}"
        )
        cur = self._connect().cursor()
        cur.row_factory = None
        width = len(by)
        return {
            (tuple(row[:width]), row[width]): (row[width + 1], int(row[width + 2]))
            for row in cur.execute(sql, [*params, *month_params])
        }

    def _keyed_period_counts(
        self, facet: str, flt: PostingFilter | None, interval: Interval, keys: Sequence[str]
    ) -> KeyedPeriodCounts:
        counts: KeyedPeriodCounts = {}
        ru = self._rollup(flt, group=facet, interval=interval) if NULL_KEY not in keys else None
        if ru is not None:
            column = FACET_KEYS[facet]
            inner, params = ru.union(
                f"{column} AS k, {period_expr(interval)} AS per, n AS c, d AS dup",
                f"{column} IN ({','.join('?' * len(keys))})",
                tuple(keys),
            )
            for k, per, n, d in self._connect().execute(
                f"SELECT k, per, SUM(c), SUM(dup) FROM ({inner}) GROUP BY k, per", params
            ):
                counts[(k, period_date(per, interval))] = (int(n), int(d))
            return counts
        key, src, where, params, a = facet_source(facet, flt, not self._bulk_load_running())
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
        src, where, params = skill_source(flt, not self._bulk_load_running())
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
        """One GROUP BY scan of the covering index ``p_signal``: counts and requirement mix as sums,
        the histograms as ``group_concat`` lists counted in Python (no per-value rows to sort: in the
        catalogue's order the scan streams). A salary travels as its integer, else as ``quote()``
        text (both read back as the same double); a duration as ``days * 2 + closed``."""
        where, params = where_clause(flt)
        months, month_params = month_bounds(flt)  # the window's months only: a range of p_signal
        where, params = where + months, [*params, *month_params]
        keys = [f"p.{EXPORT_COLUMNS[d]}" for d in dims]
        group = ", ".join([period_sql("p", interval), *keys])
        width = len(dims)

        def placeholders(values: Sequence[object]) -> str:
            return ",".join("?" * len(values))

        unique = "p.is_dup = 0"

        def count(condition: str) -> str:  # COUNT(CASE ...) runs faster than TOTAL(<boolean>)
            return f"COUNT(CASE WHEN {unique} AND {condition} THEN 1 END)"

        columns = [
            "COUNT(*)",
            f"COUNT(CASE WHEN {unique} THEN 1 END)",
            count("p.experience_min >= ?"),
            count("p.experience_min >= ?"),
            count(f"p.education_level IN ({placeholders(BACHELOR_PLUS)})"),
            count(f"p.education_level IN ({placeholders(MASTER_PLUS)})"),
            count("p.level = ?"),
            f"group_concat(CASE WHEN {unique} AND p.salary_mid IS NOT NULL THEN {_EXACT_SALARY} END)",
            f"group_concat(CASE WHEN {unique} THEN (p.last_seen - p.first_seen) * 2 + (p.closed_on IS NOT NULL) END)",
        ]
        mix_params = [*EXPERIENCE_THRESHOLDS, *BACHELOR_PLUS, *MASTER_PLUS, SENIOR_LEVEL]
        cur = self._connect().cursor()
        cur.row_factory = None
        starts: dict[int, date] = {}
        parts = SignalParts({}, {}, {})
        for row in cur.execute(
            # NULLs sort first and text in code-point order: the documented cell order, made here
            f"SELECT {group}, {', '.join(columns)} FROM postings p WHERE {where} GROUP BY {group} "
            f"ORDER BY {', '.join([*keys, period_sql('p', interval)])}",
            [*mix_params, *params],
        ):
            start = starts.get(row[0])
            if start is None:
                start = starts[row[0]] = period_date(row[0], interval)
            cell: CellKey = (row[1 : 1 + width], start)
            n, u, e3, e5, b, m, s, salaries, durations = row[1 + width :]
            parts.counts[cell] = (n, u, e3, e5, b, m, s)
            # counted as text (C speed), each distinct value converted once
            if salaries:
                salary_hist = [(float(v), c) for v, c in Counter(salaries.split(",")).items()]
                salary_hist.sort()
                parts.salaries[cell] = salary_hist
            if durations:
                codes = [(int(v), c) for v, c in Counter(durations.split(",")).items()]
                duration_hist = [(v >> 1, v & 1 == 1, c) for v, c in codes]
                duration_hist.sort()
                parts.durations[cell] = duration_hist
        return parts
