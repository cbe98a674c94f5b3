"""What both backends answer alike, written once: :class:`SharedIndex` implements every query of
:class:`storage.base.PostingIndex` over a few counting hooks, and the helpers below hold the
semantics (derived values, checks, bucket order, cursors, lift, export rows).

A backend (``storage.sqlite``, ``storage.search``) subclasses :class:`SharedIndex` and only
translates the hooks to its query language (SQL, the search DSL) and writes postings.
"""

from __future__ import annotations

import base64
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from skillsignal.core.models import Extraction, Posting
from skillsignal.core.state_files import StoreError

from .base import (
    CursorError,
    PeriodCounts,
    SignalParts,
    check_series_size,
    intensity,
    keyed_series,
    period_count,
    periods,
    totals_from_counts,
    with_extractions,
    zero_filled,
)
from .filters import PostingFilter
from .results import (
    DEFAULT_EXPORT_DIMENSIONS,
    EXPORT_DIMENSIONS,
    FACETS,
    INTERVALS,
    METRICS,
    SEARCH_TOTAL_CAP,
    SIGNAL_DIMENSIONS,
    Bucket,
    CooccurrencePair,
    HitCount,
    Interval,
    Page,
    Point,
    PostingHit,
    Ranking,
    RankingSeries,
    SeriesRow,
    SignalCell,
    Totals,
)

#: facet (other than skills and competencies) -> the derived value of :func:`storage.values.posting_values` it groups by
FACET_VALUES: dict[str, str] = {
    "occupations": "occupation",
    "directions": "direction",
    "levels": "level",
    "provinces": "province",
    "cities": "city",
    "regions": "region",
    "companies": "company",
    "industries": "industry",
    "education": "education",
    "experience": "experience_band",
    "sources": "source",
}
#: export dimension (other than skill) -> the derived value it is
EXPORT_VALUES: dict[str, str] = {d: d for d in EXPORT_DIMENSIONS if d != "skill"}
#: (key, period start) -> (total, duplicate) postings
KeyedPeriodCounts = dict[tuple[str, date], tuple[int, int]]
#: export dimension values -> period start -> (total, duplicate) postings
SeriesCounts = dict[tuple[Any, ...], dict[date, tuple[int, int]]]


# -- checks ----------------------------------------------------------------------------------------
def check_facet(facet: str) -> None:
    if facet not in FACETS:
        raise StoreError(f"unknown facet {facet!r}; one of: {', '.join(FACETS)}")


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise StoreError(f"unknown metric {metric!r}; one of: {', '.join(METRICS)}")


def check_interval(interval: str) -> None:
    if interval not in INTERVALS:
        raise StoreError(f"unknown interval {interval!r}; one of day, week, month")


def check_signal_dimensions(dims: Iterable[str]) -> list[str]:
    """The signal dimensions, each once, in order; :class:`StoreError` for an unknown one."""
    out = list(dict.fromkeys(dims))
    unknown = [d for d in out if d not in SIGNAL_DIMENSIONS]
    if unknown:
        raise StoreError(f"unknown signal dimension {unknown[0]!r}; one of: {', '.join(SIGNAL_DIMENSIONS)}")
    return out


def signal_cells_from(parts: SignalParts) -> list[SignalCell]:
    """The cells of the counts a backend made (already in cell order)."""
    out = []
    for cell, (total, unique, exp3, exp5, bachelor, master, senior) in parts.counts.items():
        salaries, durations = parts.salaries.get(cell) or [], parts.durations.get(cell) or []
        out.append(
            SignalCell(cell[0], cell[1], total, unique, salaries, exp3, exp5, bachelor, master, senior, durations)
        )
    return out


def check_dimensions(dimensions: Iterable[str]) -> list[str]:
    """The export dimensions, each once, in order; :class:`StoreError` for an unknown one."""
    dims = list(dict.fromkeys(dimensions))
    unknown = [d for d in dims if d not in EXPORT_DIMENSIONS]
    if unknown:
        raise StoreError(f"unknown export dimension {unknown[0]!r}; one of: {', '.join(EXPORT_DIMENSIONS)}")
    return dims


# -- rankings, co-occurrence, export ---------------------------------------------------------------
def metric_value(n: int, d: int, metric: str) -> float:
    """The ranked value of a (total, duplicate) count (``median_salary`` is ranked separately)."""
    return {
        "unique_postings": n - d,
        "duplicate_postings": d,
        "total_postings": n,
        "posting_intensity": n / (n - d) if n > d else 0.0,
    }[metric]


def top_by_metric(counts: Mapping[str, tuple[int, int]], metric: str, limit: int) -> dict[str, tuple[int, int]]:
    """The ``limit`` top keys in ranking order: the metric's value descending, then the key ascending
    (code-point order, which is the byte order SQLite compares text in)."""
    keys = sorted(counts, key=lambda k: (-metric_value(*counts[k], metric), k))[:limit]
    return {k: counts[k] for k in keys}


def make_bucket(key: str, n: int, d: int, median_salary: float | None, metric: str) -> Bucket:
    b = Bucket(
        key=key,
        unique_postings=n - d,
        duplicate_postings=d,
        total_postings=n,
        posting_intensity=intensity(n, n - d),
        median_salary=median_salary,
    )
    value = getattr(b, metric)
    b.value = float(value) if value is not None else None
    return b


def cooccurrence_pairs(
    singles: Mapping[str, int], pairs: Iterable[tuple[str, str, int]], n_all: int
) -> list[CooccurrencePair]:
    """Pairs with their lift P(a,b) / (P(a) P(b)) over ``n_all`` unique postings."""
    out = []
    for a, b, n in pairs:
        ca, cb = singles[a], singles[b]
        out.append(
            CooccurrencePair(
                skill_a=a,
                skill_b=b,
                count=n,
                count_a=ca,
                count_b=cb,
                lift=round(n * n_all / (ca * cb), 6) if ca and cb else 0.0,
            )
        )
    return out


def export_rows(by_series: SeriesCounts, dims: Sequence[str], all_periods: Sequence[date]) -> Iterator[SeriesRow]:
    """One row per series × period, series ordered by their dimension values (missing last)."""
    for values in sorted(by_series, key=lambda v: tuple((x is None, x or "") for x in v)):
        counts = by_series[values]
        named = dict(zip(dims, values, strict=True))
        for start in all_periods:
            n, d = counts.get(start, (0, 0))
            yield SeriesRow(period=start, count=n, unique_count=n - d, **named)


# -- search cursors --------------------------------------------------------------------------------
def cursor_token(payload: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def cursor_payload(token: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(payload, dict):
            raise ValueError
        return payload
    except (ValueError, TypeError) as exc:
        raise CursorError("cursor is not one this API issued; start again without it") from exc


def query_scope(match: object, flt: PostingFilter | None) -> str:
    """What a cursor is valid for: the parsed query and the filter."""
    text = json.dumps([match, flt.model_dump(mode="json") if flt else None], sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


class SharedIndex(ABC):
    """The queries of :class:`storage.base.PostingIndex`, answered alike by every backend over the
    hooks it implements (each hook counts what the filter selects, in the backend's own language)."""

    backend_name: str

    # -- hooks ------------------------------------------------------------------------------------
    @abstractmethod
    def index_postings(self, postings: Sequence[Posting]) -> int: ...

    @abstractmethod
    def fingerprints(self, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]: ...

    @abstractmethod
    def date_range(self) -> tuple[date, date] | None: ...

    @abstractmethod
    def mark_seen(self, seen: Mapping[str, date]) -> dict[str, str]: ...

    @abstractmethod
    def close_unseen(self, source: str, crawl_started: date) -> int: ...

    @abstractmethod
    def _counts(self, flt: PostingFilter | None) -> tuple[int, int]:
        """(total, duplicate) postings under the filter."""

    @abstractmethod
    def _median_salary(self, flt: PostingFilter | None) -> float | None:
        """The median salary midpoint of the unique postings under the filter."""

    @abstractmethod
    def _period_counts(self, flt: PostingFilter | None, interval: Interval) -> PeriodCounts:
        """(total, duplicate) postings per period start."""

    @abstractmethod
    def _facet_counts(
        self, facet: str, flt: PostingFilter | None, metric: str | None = None, limit: int | None = None
    ) -> dict[str, tuple[int, int]]:
        """(total, duplicate) postings per facet value; with ``metric``, only the ``limit`` top values,
        in ranking order (:func:`top_by_metric`)."""

    @abstractmethod
    def _facet_medians(self, facet: str, flt: PostingFilter | None) -> dict[str, float | None]:
        """The median salary midpoint of the unique postings per facet value."""

    @abstractmethod
    def _keyed_period_counts(
        self, facet: str, flt: PostingFilter | None, interval: Interval, keys: Sequence[str]
    ) -> KeyedPeriodCounts:
        """(total, duplicate) postings per (facet value among ``keys``, period start)."""

    @abstractmethod
    def _match(self, query: str | None) -> object:
        """The parsed text query (it scopes the cursors); falsy when there is nothing to search."""

    @abstractmethod
    def _search_page(
        self,
        match: Any,
        query: str | None,
        flt: PostingFilter | None,
        state: dict[str, Any],
        size: int,
        total_cap: int | None,
    ) -> tuple[HitCount, list[PostingHit], dict[str, object] | None]:
        """(postings selected: exact up to ``total_cap`` (None: always exact), up to ``size`` hits from
        the cursor ``state``, the next page's state or None when this page is the last)."""

    @abstractmethod
    def _cooccurrence_counts(
        self, flt: PostingFilter | None, limit: int, min_count: int
    ) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
        """(unique postings per skill, the ``limit`` most frequent (skill a < skill b, unique postings)
        pairs with at least ``min_count``, by count descending then skill ids)."""

    @abstractmethod
    def _export_counts(self, flt: PostingFilter | None, interval: Interval, dims: Sequence[str]) -> SeriesCounts:
        """(total, duplicate) postings per tuple of dimension values and period start."""

    @abstractmethod
    def _grouped_facet_counts(
        self, facet: str, flt: PostingFilter | None, by: Sequence[str]
    ) -> dict[tuple[tuple[str | None, ...], str], tuple[int, int]]:
        """(total, duplicate) postings per (``by`` dimension values, facet value)."""

    @abstractmethod
    def _signal_parts(self, flt: PostingFilter | None, interval: Interval, dims: Sequence[str]) -> SignalParts:
        """The counts, salary and duration histograms of every (dimension values, period start) with postings."""

    # -- writes -------------------------------------------------------------------------------------
    def upsert_postings(self, postings: Sequence[Posting]) -> int:
        """:meth:`index_postings` under the name the store's first callers used."""
        return self.index_postings(postings)

    def save_extractions(
        self,
        results: Sequence[tuple[Posting, Extraction | None, str | None]],
        expected: Mapping[str, str] | None = None,
    ) -> int:
        updated = with_extractions(results)
        if expected is not None:
            stored = self.fingerprints([p.id for p in updated])
            updated = [p for p in updated if p.id in stored and stored[p.id][0] == expected.get(p.id)]
        return self.index_postings(updated) if updated else 0

    # -- queries ------------------------------------------------------------------------------------
    def _window(self, flt: PostingFilter | None) -> tuple[date, date] | None:
        """The series window: the filter's start/end, else the stored date range (None when empty)."""
        if flt is not None and flt.start and flt.end:
            return flt.start, flt.end
        stored = self.date_range()
        if stored is None:
            return None
        first = flt.start if flt is not None and flt.start else stored[0]
        last = flt.end if flt is not None and flt.end else stored[1]
        return (first, last) if first <= last else None

    def count_postings(self, flt: PostingFilter | None = None, unique_only: bool = False) -> int:
        n, d = self._counts(flt)
        return n - d if unique_only else n

    def count_by(self, facet: str, flt: PostingFilter | None = None, limit: int = 50) -> list[tuple[str, int]]:
        return [(b.key, b.total_postings) for b in self.ranking(facet, flt, "total_postings", limit).buckets]

    def totals(self, flt: PostingFilter | None = None) -> Totals:
        n, d = self._counts(flt)
        return totals_from_counts(n, d, self._median_salary(flt) if n > d else None)

    def timeseries(self, flt: PostingFilter | None = None, interval: Interval = "month") -> list[Point]:
        check_interval(interval)
        window = self._window(flt)
        if window is None:
            return []
        return zero_filled(self._period_counts(flt, interval), window, interval)

    def ranking(
        self, facet: str, flt: PostingFilter | None = None, metric: str = "unique_postings", limit: int = 10
    ) -> Ranking:
        check_metric(metric)
        check_facet(facet)
        medians: dict[str, float | None] = {}
        if metric == "median_salary":
            counts = self._facet_counts(facet, flt)
            medians = self._facet_medians(facet, flt)
            keys = sorted(counts, key=lambda k: (medians.get(k) is None, -(medians.get(k) or 0), k))[:limit]
        else:
            counts = self._facet_counts(facet, flt, metric, limit)
            keys = list(counts)
        buckets = [make_bucket(k, *counts[k], medians.get(k), metric) for k in keys]
        return Ranking(facet=facet, metric=metric, totals=totals_from_counts(*self._counts(flt)), buckets=buckets)

    def ranking_timeseries(
        self,
        facet: str,
        flt: PostingFilter | None = None,
        interval: Interval = "month",
        keys: Sequence[str] | None = None,
        limit: int = 5,
    ) -> RankingSeries:
        check_facet(facet)
        check_interval(interval)
        if not keys:
            keys = [b.key for b in self.ranking(facet, flt, limit=limit).buckets]
        keys = list(dict.fromkeys(keys))
        window = self._window(flt)
        if not keys or window is None:
            return RankingSeries(facet=facet, interval=interval, series=[])
        return keyed_series(facet, interval, keys, window, self._keyed_period_counts(facet, flt, interval, keys))

    def search_postings(
        self,
        query: str | None,
        flt: PostingFilter | None = None,
        cursor: str | None = None,
        size: int = 20,
        total_cap: int | None = SEARCH_TOTAL_CAP,
    ) -> Page:
        if size < 1:
            raise StoreError("size must be at least 1")
        if total_cap is not None and total_cap < 1:
            raise StoreError("total_cap must be at least 1 (None counts every match)")
        match = self._match(query if query and query.strip() else None)
        scope = query_scope(match, flt)
        state = cursor_payload(cursor) if cursor else {"s": scope}
        if state.get("s") != scope:
            raise CursorError("cursor belongs to another query or filter; start again without it")
        total, items, next_state = self._search_page(match, query, flt, state, size, total_cap)
        next_cursor = cursor_token({"s": scope, **next_state}) if next_state is not None else None
        return Page(
            total=total.value, total_relation="eq" if total.exact else "gte", items=items, next_cursor=next_cursor
        )

    def skill_cooccurrence(
        self, flt: PostingFilter | None = None, limit: int = 100, min_count: int = 1
    ) -> list[CooccurrencePair]:
        singles, pairs = self._cooccurrence_counts(flt, limit, min_count)
        n_all = self.count_postings(flt, unique_only=True) if pairs else 0
        return cooccurrence_pairs(singles, pairs, n_all)

    def signal_cells(
        self, flt: PostingFilter | None = None, dims: Sequence[str] = (), interval: Interval = "month"
    ) -> list[SignalCell]:
        """See :meth:`storage.base.PostingIndex.signal_cells`."""
        checked = check_signal_dimensions(dims)
        check_interval(interval)
        return signal_cells_from(self._signal_parts(flt, interval, checked))

    def grouped_rankings(
        self, facet: str, flt: PostingFilter | None = None, by: Sequence[str] = (), limit: int = 10
    ) -> dict[tuple[str | None, ...], list[Bucket]]:
        """See :meth:`storage.base.PostingIndex.grouped_rankings`."""
        check_facet(facet)
        checked = check_signal_dimensions(by)
        per_group: dict[tuple[str | None, ...], list[tuple[int, str, int, int]]] = {}
        for (group, key), (n, d) in self._grouped_facet_counts(facet, flt, checked).items():
            per_group.setdefault(group, []).append((d - n, key, n, d))  # unique postings descending, then key
        out: dict[tuple[str | None, ...], list[Bucket]] = {}
        for group in sorted(per_group, key=lambda g: tuple((v is not None, v or "") for v in g)):
            ranked = sorted(per_group[group])[:limit]
            out[group] = [make_bucket(key, n, d, None, "unique_postings") for _, key, n, d in ranked]
        return out

    def export_series(
        self,
        flt: PostingFilter | None = None,
        interval: Interval = "month",
        dimensions: Iterable[str] = DEFAULT_EXPORT_DIMENSIONS,
        max_rows: int | None = None,
    ) -> Iterator[SeriesRow]:
        dims = check_dimensions(dimensions)
        check_interval(interval)
        window = self._window(flt)
        if window is None:
            return iter(())
        by_series = self._export_counts(flt, interval, dims)
        check_series_size(interval, period_count(*window, interval), len(by_series), max_rows)
        return export_rows(by_series, dims, periods(*window, interval))
