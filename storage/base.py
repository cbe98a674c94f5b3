"""The backend-neutral query interface (:class:`PostingIndex`) and the semantics every backend shares.

Both the embedded SQLite store and the Elasticsearch/OpenSearch backend implement
:class:`PostingIndex`; ``tests/storage/conformance`` demands identical answers from both on the
same postings. The helpers below define the derived values each backend must index, so the
two agree by construction:

* **posting date** – :func:`posted_date`: ``posted_at``, else the crawl date (UTC).
* **unique / duplicate** – a posting is a duplicate when ``dup_of`` is set (a near-duplicate of
  another posting); unique otherwise.
* **posting intensity** – total postings / unique postings (0 when no unique posting).
* **salary** – :func:`salary_mid`: the monthly CNY midpoint ((min+max)/2, or whichever bound is
  known); ``median_salary`` is the ordinary median (mean of the two middle values for an even count)
  over the *unique* postings with a midpoint.
* **experience facet** – :func:`experience_band` of ``experience.years_min``.
* **periods** – :func:`period_start`: the day itself, the Monday of its ISO week, or the first of
  its month. A series covers every period from ``flt.start`` (else the earliest stored posting
  date) to ``flt.end`` (else the latest), zero-filled; an empty store gives an empty series.
* **rankings** – buckets sorted by the metric's value descending, then key ascending; postings
  whose facet value is missing are left out (``experience`` has the band 不限 instead). For
  ``skills`` a posting counts once in each skill it names, for ``competencies`` once in each competency
  statement its extraction lists (keys are statement ids). ``median_salary`` is filled on buckets
  only when it is the ranked metric (buckets without salaries rank last).
* **skills filter** – a posting matches when it names any of the listed skills.
* **posting life across crawls** – :class:`SeenDates`: every stored posting has ``first_seen`` and
  ``last_seen`` (crawl dates that found it) and ``closed_on``. A posting handed in without them is
  first and last seen on its crawl date (``crawled_at``'s date, :func:`incoming_seen`); storing it
  again keeps the earliest ``first_seen`` and the latest ``last_seen`` and the latest closure
  (:func:`merge_seen`), so replaying an older file never moves a date backwards and re-ingesting the
  same file changes nothing. :meth:`PostingIndex.mark_seen` advances the dates of unchanged postings
  without re-indexing them. :meth:`PostingIndex.close_unseen`, called after a *complete* crawl of a
  source, closes its open postings that crawl did not find, on their ``last_seen``; a posting seen
  after its ``closed_on`` reopens (``closed_on`` cleared).
* **posting duration** – ``last_seen - first_seen`` in days; *censored* while the posting is open
  (it may stay open longer), observed once it is closed. ``signal_cells`` gives the histogram of
  (days, closed, postings) over unique postings, the input of a survival (Kaplan–Meier) estimate.
* **signal cells** – :meth:`PostingIndex.signal_cells`: per combination of the requested
  ``SIGNAL_DIMENSIONS`` (None where a posting has no value) and posting-date period, the counts,
  salary histogram, requirement mix and duration histogram :class:`~storage.results.SignalCell`
  describes; only combinations with postings, ordered by key (None first) then period.
* **grouped rankings** – :meth:`PostingIndex.grouped_rankings`: per combination of the requested
  ``SIGNAL_DIMENSIONS`` (None where a posting has none), the top values of a facet exactly as
  ``ranking`` orders them for the filter narrowed to that combination — one grouped query for all
  (the catalogue's top skills and competencies of every occupation × level).

The query semantics written once for both backends (windows, bucket order, lift, cursors, export
rows) live in :mod:`storage.shared`; a backend only translates filters and counts to its query
language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

from skillsignal.core.models import Extraction, Posting

from .filters import PostingFilter
from .results import (
    DEFAULT_EXPORT_DIMENSIONS,
    SEARCH_TOTAL_CAP,
    Bucket,
    CooccurrencePair,
    Interval,
    KeyedSeries,
    Metric,
    Page,
    Point,
    Ranking,
    RankingSeries,
    SeriesRow,
    SignalCell,
    Totals,
)


class CursorError(ValueError):
    """A pagination cursor that this query did not issue."""


#: (label, lower bound inclusive, upper bound exclusive) in years; ``None`` years → 不限
EXPERIENCE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("1年以下", 0.0, 1.0),
    ("1-3年", 1.0, 3.0),
    ("3-5年", 3.0, 5.0),
    ("5-10年", 5.0, 10.0),
    ("10年以上", 10.0, float("inf")),
)
EXPERIENCE_ANY = "不限"
#: education levels that count as 本科+ / 硕士+ in the requirement mix (``SignalCell``)
BACHELOR_PLUS: tuple[str, ...] = ("本科", "硕士", "博士")
MASTER_PLUS: tuple[str, ...] = ("硕士", "博士")
#: the extracted level counted as senior, and the experience thresholds (years_min ≥) of the mix
SENIOR_LEVEL = "高级"
EXPERIENCE_THRESHOLDS: tuple[float, float] = (3.0, 5.0)


def posted_date(posting: Posting) -> date:
    return posting.posted_at or posting.crawled_at.date()


def salary_mid(posting: Posting) -> float | None:
    lo, hi = posting.salary.min, posting.salary.max
    if lo is not None and hi is not None:
        return (lo + hi) / 2
    return lo if lo is not None else hi


class SeenDates(NamedTuple):
    """A posting's life across crawls, as the store keeps it."""

    first_seen: date
    last_seen: date
    closed_on: date | None = None


def incoming_seen(posting: Posting) -> SeenDates:
    """The seen dates a posting handed to the store brings: its own, else its crawl date."""
    crawl = posting.crawled_at.date()
    first = posting.first_seen or min(crawl, posting.last_seen or crawl)
    last = max(first, posting.last_seen or crawl)
    return SeenDates(first, last, posting.closed_on)


def merge_seen(stored: SeenDates | None, incoming: SeenDates) -> SeenDates:
    """The dates after storing ``incoming`` over ``stored``: earliest first, latest last, latest
    closure; a posting seen after its closure is open again."""
    if stored is None:
        first, last, closed = incoming
    else:
        first = min(stored.first_seen, incoming.first_seen)
        last = max(stored.last_seen, incoming.last_seen)
        closures = [d for d in (stored.closed_on, incoming.closed_on) if d is not None]
        closed = max(closures) if closures else None
    if closed is not None and last > closed:
        closed = None
    return SeenDates(first, last, closed)


def latest_by_id(postings: Iterable[Posting]) -> dict[str, tuple[Posting, SeenDates]]:
    """The last posting of each id (a later upsert wins), with the seen dates of all of them merged."""
    out: dict[str, tuple[Posting, SeenDates]] = {}
    for p in postings:
        prev = out.get(p.id)
        out[p.id] = (p, merge_seen(prev[1] if prev else None, incoming_seen(p)))
    return out


def with_seen(posting: Posting, seen: SeenDates) -> Posting:
    """``posting`` carrying the stored seen dates (the store's columns are their truth, not its document)."""
    posting.first_seen, posting.last_seen, posting.closed_on = seen
    return posting


def with_extractions(results: Sequence[tuple[Posting, Extraction | None, str | None]]) -> list[Posting]:
    """Each posting carrying its extraction (or its error), as ``save_extractions`` stores it."""
    return [p.model_copy(update={"extraction": ext, "extraction_error": err}) for p, ext, err in results]


def experience_band(years_min: float | None) -> str:
    if years_min is None:
        return EXPERIENCE_ANY
    for label, lo, hi in EXPERIENCE_BANDS:
        if lo <= years_min < hi:
            return label
    return EXPERIENCE_ANY


def period_start(day: date, interval: Interval) -> date:
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown interval {interval!r}; one of day, week, month")


def next_period(start: date, interval: Interval) -> date:
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def period_count(first: date, last: date, interval: Interval) -> int:
    """How many periods :func:`periods` gives for the window, without listing them."""
    if last < first:
        return 0
    a, b = period_start(first, interval), period_start(last, interval)
    if interval == "day":
        return (b - a).days + 1
    if interval == "week":
        return (b - a).days // 7 + 1
    return (b.year - a.year) * 12 + b.month - a.month + 1


class SeriesLimitError(ValueError):
    """A series answer would hold more points (periods × series) than the configured limit."""

    def __init__(self, interval: str, n_periods: int, n_series: int, limit: int):
        self.interval, self.n_periods, self.n_series, self.limit = interval, n_periods, n_series, limit
        hint = "narrow start/end" + ("" if interval == "month" else " or use interval=month")
        super().__init__(
            f"interval={interval} over {n_periods:,} periods × {n_series:,} series exceeds the limit of "
            f"{limit:,} points; {hint}"
        )


def check_series_size(interval: str, n_periods: int, n_series: int, limit: int | None) -> None:
    """Raise :class:`SeriesLimitError` when ``n_periods × n_series`` exceeds ``limit`` (None = no limit)."""
    if limit is not None and n_periods * n_series > limit:
        raise SeriesLimitError(interval, n_periods, n_series, limit)


def periods(first: date, last: date, interval: Interval) -> list[date]:
    """Start of every period from the one holding ``first`` to the one holding ``last``."""
    out: list[date] = []
    cur = period_start(first, interval)
    while cur <= last:
        out.append(cur)
        cur = next_period(cur, interval)
    return out


#: (total, duplicate) postings per period start
PeriodCounts = Mapping[date, tuple[int, int]]
#: a signal cell's (dimension values, period start)
CellKey = tuple[tuple[str | None, ...], date]


class SignalParts(NamedTuple):
    """What a backend counts for :meth:`PostingIndex.signal_cells`, per (dimension values, period
    start) with postings: ``counts`` = (total, unique, experience ≥ 3, ≥ 5, 本科+, 硕士+, 高级), the
    last five over unique postings, in cell order (key with None first, then period: see
    :func:`signal_order`); ``salaries`` (salary midpoint, unique postings) and ``durations`` (days
    open, closed, unique postings), each ascending."""

    counts: dict[CellKey, tuple[int, int, int, int, int, int, int]]
    salaries: dict[CellKey, list[tuple[float, int]]]
    durations: dict[CellKey, list[tuple[int, bool, int]]]


def zero_filled(counts: PeriodCounts, window: tuple[date, date], interval: Interval) -> list[Point]:
    """One point per period of ``window``; periods without postings count zero."""
    out = []
    for start in periods(*window, interval):
        n, d = counts.get(start, (0, 0))
        out.append(Point(period=start, unique_postings=n - d, duplicate_postings=d, total_postings=n))
    return out


def keyed_series(
    facet: str,
    interval: Interval,
    keys: Sequence[str],
    window: tuple[date, date],
    counts: Mapping[tuple[str, date], tuple[int, int]],
) -> RankingSeries:
    """A zero-filled series per key from (key, period start) -> (total, duplicate) counts."""
    per_key: dict[str, dict[date, tuple[int, int]]] = {k: {} for k in keys}
    for (k, start), value in counts.items():
        if k in per_key:
            per_key[k][start] = value
    return RankingSeries(
        facet=facet,
        interval=interval,
        series=[KeyedSeries(key=k, points=zero_filled(per_key[k], window, interval)) for k in keys],
    )


def totals_from_counts(total: int, duplicate: int, median_salary: float | None = None) -> Totals:
    """Totals from the two counts; rankings leave the median out (it costs a scan of every salary)."""
    return Totals(
        unique_postings=total - duplicate,
        duplicate_postings=duplicate,
        total_postings=total,
        posting_intensity=intensity(total, total - duplicate),
        median_salary=median_salary,
    )


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def median_of_histogram(hist: Iterable[tuple[float, int]]) -> float | None:
    """:func:`median` of the values a (value, count) histogram holds, without expanding it."""
    items = sorted(hist)
    n = sum(c for _, c in items)
    if n == 0:
        return None
    lo_rank, hi_rank = (n - 1) // 2, n // 2
    lo: float | None = None
    seen = 0
    for value, count in items:
        if lo is None and seen + count > lo_rank:
            lo = value
        if seen + count > hi_rank:  # reached for n > 0, after ``lo`` is set
            return (float(lo if lo is not None else value) + float(value)) / 2
        seen += count
    return None


def signal_order(cell: CellKey) -> tuple[list[tuple[bool, str]], date]:
    """Sort key of a signal cell: its dimension values (None first, text in code-point order), then period."""
    return [(v is not None, v or "") for v in cell[0]], cell[1]


def intensity(total: int, unique: int) -> float:
    return round(total / unique, 6) if unique else 0.0


@runtime_checkable
class PostingIndex(Protocol):
    """The store every caller depends on (API, ingest pipeline, dedup, CLI); both backends implement
    it. Every query takes the one :class:`PostingFilter` (None = everything).

    Writes are visible to the next read (a backend with a refresh interval refreshes on write
    or in :meth:`refresh`).
    """

    backend_name: str

    @property
    def path(self) -> Path | None:
        """The file the store lives in; None for a store on a server."""
        ...

    # -- writes ------------------------------------------------------------------------------
    def index_postings(self, postings: Sequence[Posting]) -> int:
        """Insert or replace postings by id (with their extraction); returns how many. Near-duplicate
        marks set by :meth:`set_duplicates` survive a re-index of the same id; the seen dates are
        merged with the stored ones (:func:`merge_seen`), never replaced."""
        ...

    def save_extractions(
        self,
        results: Sequence[tuple[Posting, Extraction | None, str | None]],
        expected: Mapping[str, str] | None = None,
    ) -> int:
        """Attach each posting's extraction (or its error) and re-index it; returns how many.

        With ``expected`` (id -> content fingerprint the extraction was made from), a posting whose
        stored fingerprint is no longer that one (stored again with other content meanwhile) is left
        as it is: an extraction never overwrites a newer version. SQLite checks and writes in one
        transaction; a search backend writes each posting on the condition that its copy is still the
        one it checked (``if_seq_no`` / ``if_primary_term``)."""
        ...

    def set_duplicates(self, dup_of: Mapping[str, str | None]) -> None:
        """Mark postings as near-duplicates of another (``None`` clears the mark)."""
        ...

    def bulk_load(self, progress: Callable[[str], None] | None = None) -> AbstractContextManager[None]:
        """A context for a large import (an initial load, a historical dump): the backend may put
        off upkeep it can do faster once at the end — SQLite builds its date-keyed indexes and
        roll-ups after the rows; the search backend puts nothing off. Writes inside are
        committed as usual; queries stay right meanwhile but may be slower. ``progress`` is told of
        each step of the work at the end."""
        ...

    def mark_seen(self, seen: Mapping[str, date]) -> dict[str, str]:
        """Postings found again, unchanged, by a crawl on the given date (id -> date): ``last_seen``
        moves forward (``first_seen`` back) to it and a posting closed before it reopens, without
        re-indexing the posting. Unknown ids are ignored; returns id -> source of the stored ones
        (a crawl that only got "not modified" answers learns which sources it covered)."""
        ...

    def close_unseen(self, source: str, crawl_started: date) -> int:
        """After a *complete* crawl of ``source`` that started on ``crawl_started``: close every open
        posting of the source that it did not see (``last_seen`` before that day), on its
        ``last_seen``; returns how many. Postings seen again later reopen (``closed_on`` cleared)."""
        ...

    def refresh(self) -> None:
        """Make every write so far visible to queries."""
        ...

    def close(self) -> None:
        """Release the connections (the store may be used again; it reconnects)."""
        ...

    # -- reads: postings and the store itself ---------------------------------------------------
    def get_posting(self, posting_id: str) -> Posting | None: ...

    def iter_postings(self, batch_size: int = 500, only_unextracted: bool = False) -> Iterator[Posting]:
        """Every stored posting (``only_unextracted``: those without an extraction), in id order."""
        ...

    def fingerprints(self, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """id -> (content fingerprint, taxonomy version) for those of ``ids`` already stored."""
        ...

    def date_range(self) -> tuple[date, date] | None:
        """The earliest and latest posting date stored (None when empty)."""
        ...

    def stats(self) -> dict[str, object]:
        """What the store holds: postings, extracted, extraction errors, duplicates, skill mentions."""
        ...

    def check_integrity(self, max_errors: int = 3) -> str | None:
        """None when the store is intact, else what is damaged (a server store answers None: its
        server reports its own health)."""
        ...

    # -- reads: counts -----------------------------------------------------------------------------
    def count_postings(self, flt: PostingFilter | None = None, unique_only: bool = False) -> int: ...

    def count_by(self, facet: str, flt: PostingFilter | None = None, limit: int = 50) -> list[tuple[str, int]]:
        """Postings (duplicates included) per value of ``facet``, largest first."""
        ...

    def totals(self, flt: PostingFilter | None = None) -> Totals: ...

    def timeseries(self, flt: PostingFilter | None = None, interval: Interval = "month") -> list[Point]:
        """Zero-filled counts per period (see the module doc for the window)."""
        ...

    def ranking(
        self, facet: str, flt: PostingFilter | None = None, metric: Metric = "unique_postings", limit: int = 10
    ) -> Ranking: ...

    def ranking_timeseries(
        self,
        facet: str,
        flt: PostingFilter | None = None,
        interval: Interval = "month",
        keys: Sequence[str] | None = None,
        limit: int = 5,
    ) -> RankingSeries:
        """A series per facet value: ``keys`` if given, else the ``limit`` top values by unique postings."""
        ...

    def search_postings(
        self,
        query: str | None,
        flt: PostingFilter | None = None,
        cursor: str | None = None,
        size: int = 20,
        total_cap: int | None = SEARCH_TOTAL_CAP,
    ) -> Page:
        """Full-text search (Chinese-aware) over title + description, best match first; no query =
        newest first. ``cursor`` is the opaque ``next_cursor`` of the previous page. ``Page.total``
        is exact up to ``total_cap`` matches (None: always); above it, a backend may stop counting
        and answer ``total_relation="gte"`` with ``total=total_cap``."""
        ...

    def skill_cooccurrence(
        self, flt: PostingFilter | None = None, limit: int = 100, min_count: int = 1
    ) -> list[CooccurrencePair]:
        """Skill pairs named together in unique postings, most frequent first (then skill ids)."""
        ...

    def export_series(
        self,
        flt: PostingFilter | None = None,
        interval: Interval = "month",
        dimensions: Iterable[str] = DEFAULT_EXPORT_DIMENSIONS,
        max_rows: int | None = None,
    ) -> Iterator[SeriesRow]:
        """Long-format counts per period × dimension values, zero-filled per series over the window,
        ordered by dimensions then period. Raises :class:`SeriesLimitError` (before any row is made)
        when periods × series would exceed ``max_rows``."""
        ...

    def signal_cells(
        self, flt: PostingFilter | None = None, dims: Sequence[str] = (), interval: Interval = "month"
    ) -> list[SignalCell]:
        """The demand-signal aggregates per combination of ``dims`` (``SIGNAL_DIMENSIONS``) and
        period, over the postings ``flt`` selects; only combinations with postings, ordered by key
        (None first) then period."""
        ...

    def grouped_rankings(
        self, facet: str, flt: PostingFilter | None = None, by: Sequence[str] = (), limit: int = 10
    ) -> dict[tuple[str | None, ...], list[Bucket]]:
        """The ``limit`` top values of ``facet`` by unique postings (then value) for every combination
        of the ``by`` dimensions (``SIGNAL_DIMENSIONS``; None where a posting has none) with postings
        under ``flt``: for each, the buckets ``ranking(facet, flt narrowed to the combination,
        limit=limit)`` gives, from one grouped query instead of a ranking per combination."""
        ...
