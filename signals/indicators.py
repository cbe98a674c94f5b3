"""The indicators of a cell — occupation × direction × level × region/province × period — from postings alone.

The store gives one :class:`storage.results.SignalCell` per combination of dimension values and
month; everything here is sums over those (:class:`Aggregate`), so a quarter or a year is its
months added up and a region is its provinces added up. Definitions (``docs/demand-signals.md``
gives each next to its formula):

* **unique postings** U: postings that are not near-duplicates; **total postings** T: all.
* **share of digital** U / U_digital, where U_digital counts the unique postings with a *core*
  occupation (the standard-backed digital occupations) of the same geography and period.
* **growth** U / U_previous − 1 (previous period of the same length) and U / U_year − 1 (the same
  period a year before).
* **repost intensity** T / U (Lightcast's posting intensity).
* **posting duration** Kaplan–Meier median and 75th percentile of days open (:mod:`signals.survival`).
* **pay** median of the monthly salary midpoints of the unique postings stating one; growth against
  the same period a year before; premium = median / median of all digital postings of the
  geography − 1.
* **requirement mix** shares of the unique postings asking ≥ 3 / ≥ 5 years, 本科+ / 硕士+, and
  of those at level 高级.

A figure whose own sample is below ``min_sample`` is None (suppressed); the sample sizes are always
given.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from statsmodels.tsa.seasonal import STL

from storage import PostingFilter, PostingIndex
from storage.base import median_of_histogram
from storage.results import SIGNAL_DIMENSIONS, SignalCell

from .models import CellIndicators
from .periods import Period, add_months, month_range
from .survival import DurationSummary, kaplan_meier

#: the smallest sample a published figure may rest on (overridable per call)
DEFAULT_MIN_SAMPLE = 30
#: months a seasonally adjusted series needs (two full seasonal cycles)
MIN_STL_MONTHS = 24


@dataclass(slots=True)
class Aggregate:
    """Sums of :class:`SignalCell` counts and histograms over months and/or cells."""

    total_postings: int = 0
    unique_postings: int = 0
    salaries: dict[float, int] = field(default_factory=lambda: defaultdict(int))
    experience_3plus: int = 0
    experience_5plus: int = 0
    bachelor_plus: int = 0
    master_plus: int = 0
    senior: int = 0
    durations: dict[tuple[int, bool], int] = field(default_factory=lambda: defaultdict(int))
    # what the rating reads again and again of a shared aggregate (a geography's digital
    # postings), kept until the aggregate changes
    memo_salaries: list[tuple[float, int]] | None = field(default=None, repr=False, compare=False)
    memo_duration: DurationSummary | None = field(default=None, repr=False, compare=False)
    memo_closure: tuple[int, int] | None = field(default=None, repr=False, compare=False)
    memo_log_median: dict[float, tuple[float, float] | None] = field(default_factory=dict, repr=False, compare=False)

    def add(self, cell: SignalCell | Aggregate) -> None:
        self.memo_salaries = self.memo_duration = self.memo_closure = None
        self.memo_log_median.clear()
        self.total_postings += cell.total_postings
        self.unique_postings += cell.unique_postings
        self.experience_3plus += cell.experience_3plus
        self.experience_5plus += cell.experience_5plus
        self.bachelor_plus += cell.bachelor_plus
        self.master_plus += cell.master_plus
        self.senior += cell.senior
        if isinstance(cell, Aggregate):
            for value, n in cell.salaries.items():
                self.salaries[value] += n
            for dkey, n in cell.durations.items():
                self.durations[dkey] += n
        else:
            for value, n in cell.salaries:
                self.salaries[value] += n
            for days, closed, n in cell.durations:
                self.durations[(days, closed)] += n

    @classmethod
    def of(cls, cells: Iterable[SignalCell | Aggregate]) -> Aggregate:
        agg = cls()
        for cell in cells:
            agg.add(cell)
        return agg

    @property
    def salary_sample(self) -> int:
        return sum(self.salaries.values())

    def salary_histogram(self) -> list[tuple[float, int]]:
        if self.memo_salaries is None:
            self.memo_salaries = sorted((v, n) for v, n in self.salaries.items() if n > 0)
        return self.memo_salaries

    def duration_histogram(self) -> list[tuple[int, bool, int]]:
        return [(d, c, n) for (d, c), n in sorted(self.durations.items()) if n > 0]

    def duration(self) -> DurationSummary:
        """The Kaplan–Meier summary (computed once until the aggregate changes)."""
        if self.memo_duration is None:
            self.memo_duration = kaplan_meier(self.duration_histogram())
        return self.memo_duration


def median_salary(hist: Sequence[tuple[float, int]]) -> float | None:
    """The ordinary median of the values a (value, count) histogram holds: the store's own rule
    (:func:`storage.base.median_of_histogram`), so a cell's median equals ``/v1/totals``'."""
    return median_of_histogram(hist)


def median_interval(hist: Sequence[tuple[float, int]], z: float = 1.96) -> tuple[float, float] | None:
    """Distribution-free interval of the median: the order statistics X(j), X(k) (1-based) with
    j = ⌊n/2 − z·√n/2⌋ and k = ⌈1 + n/2 + z·√n/2⌉ (the binomial interval of the median's rank,
    normal approximation), clipped to the sample."""
    n = sum(c for _, c in hist)
    if n == 0:
        return None
    half = z * math.sqrt(n) / 2
    lo_index = min(n - 1, max(0, math.floor(n / 2 - half) - 1))
    hi_index = min(n - 1, max(0, math.ceil(1 + n / 2 + half) - 1))
    values = [v for v, _ in hist]
    cum = np.cumsum([c for _, c in hist])
    lo = values[int(np.searchsorted(cum, lo_index, side="right"))]
    hi = values[int(np.searchsorted(cum, hi_index, side="right"))]
    return float(lo), float(hi)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _growth(now: int, before: int, min_sample: int) -> float | None:
    if now < min_sample or before < min_sample:
        return None
    return now / before - 1


def _share(part: int, whole: int, min_sample: int) -> float | None:
    if whole < min_sample or part < 0:
        return None
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class CellKey:
    """Which cell: a dimension left None means "all"."""

    occupation: str | None = None
    direction: str | None = None
    level: str | None = None
    region: str | None = None
    province: str | None = None


def cell_indicators(
    key: CellKey,
    period: Period,
    current: Aggregate,
    *,
    previous: Aggregate | None,
    year_before: Aggregate | None,
    digital: Aggregate,
    occupation_name: str | None = None,
    min_sample: int = DEFAULT_MIN_SAMPLE,
) -> CellIndicators:
    """The indicators of one cell, from its sums in the period, the previous period, the same period a
    year before, and the digital postings of its geography (the denominators of share and premium)."""
    u = current.unique_postings
    enough = u >= min_sample
    dur = current.duration()
    salary_n = current.salary_sample
    med = median_salary(current.salary_histogram()) if salary_n >= min_sample else None
    med_year = None
    if year_before is not None and year_before.salary_sample >= min_sample:
        med_year = median_salary(year_before.salary_histogram())
    med_digital = None
    if digital.salary_sample >= min_sample:
        med_digital = median_salary(digital.salary_histogram())
    growth_salary = _ratio(med, med_year)
    premium = _ratio(med, med_digital)
    return CellIndicators(
        occupation=key.occupation,
        occupation_name=occupation_name,
        direction=key.direction,
        level=key.level,
        region=key.region,
        province=key.province,
        period=period.label,
        unique_postings=u,
        total_postings=current.total_postings,
        share_of_digital=(u / digital.unique_postings if enough and digital.unique_postings else None),
        growth_previous=_growth(u, previous.unique_postings, min_sample) if previous else None,
        growth_year=_growth(u, year_before.unique_postings, min_sample) if year_before else None,
        repost_intensity=current.total_postings / u if enough else None,
        duration_sample=dur.sample,
        duration_closed=dur.closed,
        duration_median_days=dur.median_days if dur.sample >= min_sample else None,
        duration_p75_days=dur.p75_days if dur.sample >= min_sample else None,
        salary_sample=salary_n,
        median_salary=med,
        salary_growth=growth_salary - 1 if growth_salary is not None else None,
        salary_premium=premium - 1 if premium is not None else None,
        share_experience_3plus=_share(current.experience_3plus, u, min_sample),
        share_experience_5plus=_share(current.experience_5plus, u, min_sample),
        share_bachelor_plus=_share(current.bachelor_plus, u, min_sample),
        share_master_plus=_share(current.master_plus, u, min_sample),
        share_senior=_share(current.senior, u, min_sample),
    )


# -- the monthly table --------------------------------------------------------------------------

KeyT = tuple[str | None, ...]


class CellTable:
    """The store's monthly cells for ``dims`` indexed by key and month, with sums over any months
    and any projection of the key (dimensions dropped = summed over)."""

    def __init__(self, dims: Sequence[str], cells: Iterable[SignalCell]):
        unknown = [d for d in dims if d not in SIGNAL_DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown signal dimension(s) {unknown}; one of {', '.join(SIGNAL_DIMENSIONS)}")
        self.dims = tuple(dims)
        self.by_key: dict[KeyT, dict[date, SignalCell]] = defaultdict(dict)
        for cell in cells:
            self.by_key[tuple(cell.key)][cell.period.replace(day=1)] = cell

    @classmethod
    def from_store(
        cls, store: PostingIndex, flt: PostingFilter | None, dims: Sequence[str], first: date, last: date
    ) -> CellTable:
        """The cells of the months ``first``..``last``, within ``flt``'s own dates where it has them."""
        flt = flt or PostingFilter()
        start = max(first, flt.start) if flt.start else first
        end = min(last, flt.end) if flt.end else last
        if start > end:
            return cls(dims, [])
        window = flt.model_copy(update={"start": start, "end": end})
        return cls(dims, store.signal_cells(window, dims=tuple(dims), interval="month"))

    def keys(self) -> list[KeyT]:
        return list(self.by_key)

    def sum(self, key: KeyT, months: Iterable[date]) -> Aggregate:
        per_month = self.by_key.get(key, {})
        return Aggregate.of(per_month[m] for m in months if m in per_month)

    def grouped(self, months: Sequence[date], project: Callable[[KeyT], KeyT | None]) -> dict[KeyT, Aggregate]:
        """Sums over ``months`` per projected key (keys projected to None are left out)."""
        out: dict[KeyT, Aggregate] = defaultdict(Aggregate)
        wanted = set(months)
        for key, per_month in self.by_key.items():
            target = project(key)
            if target is None:
                continue
            agg = out[target]
            for month, cell in per_month.items():
                if month in wanted:
                    agg.add(cell)
        return dict(out)

    def monthly_unique(self, key: KeyT, months: Sequence[date]) -> list[int]:
        per_month = self.by_key.get(key, {})
        return [per_month[m].unique_postings if m in per_month else 0 for m in months]


def indicators(
    store: PostingIndex,
    period: Period,
    dims: Sequence[str],
    *,
    flt: PostingFilter | None = None,
    core_occupations: Iterable[str] = (),
    occupation_names: Mapping[str, str] | None = None,
    min_sample: int = DEFAULT_MIN_SAMPLE,
) -> list[CellIndicators]:
    """The indicators of every cell of ``dims`` with postings in ``period`` (one store query).

    ``core_occupations`` are the codes counted as digital postings (the share and premium
    denominators); the denominator is over the cell's geography (its ``region``/``province``
    values where those are among ``dims``, else everything ``flt`` selects).
    """
    first = min(period.year_before().start, period.previous().start)
    table = CellTable.from_store(store, flt, dims, first, period.end)
    core = set(core_occupations)
    occ_i = table.dims.index("occupation") if "occupation" in table.dims else None
    geo_idx = [i for i, d in enumerate(table.dims) if d in ("region", "province")]

    def geo(key: KeyT) -> KeyT | None:
        if occ_i is not None and key[occ_i] not in core:
            return None
        return tuple(key[i] for i in geo_idx)

    digital_now = table.grouped(period.months, geo)
    out: list[CellIndicators] = []
    for key in sorted(table.keys(), key=lambda k: tuple("" if v is None else v for v in k)):
        current = table.sum(key, period.months)
        if current.unique_postings == 0:
            continue
        values = dict(zip(table.dims, key, strict=True))
        gkey = tuple(key[i] for i in geo_idx)
        ckey = CellKey(**values)
        out.append(
            cell_indicators(
                ckey,
                period,
                current,
                previous=table.sum(key, period.previous().months),
                year_before=table.sum(key, period.year_before().months),
                digital=digital_now.get(gkey, Aggregate()),
                occupation_name=(occupation_names or {}).get(ckey.occupation or ""),
                min_sample=min_sample,
            )
        )
    return out


# -- seasonal adjustment -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdjustedPoint:
    month: date
    unique_postings: int
    adjusted: float
    trend: float
    seasonal: float


def seasonally_adjusted(monthly: Sequence[tuple[date, int]]) -> list[AdjustedPoint] | None:
    """STL (statsmodels, period 12, robust) of a monthly unique-postings series; adjusted = observed
    − seasonal. None with fewer than :data:`MIN_STL_MONTHS` months (the months between the first
    and the last are zero-filled)."""
    if not monthly:
        return None
    ordered = sorted(monthly)
    months = month_range(ordered[0][0], ordered[-1][0])
    if len(months) < MIN_STL_MONTHS:
        return None
    counts = dict(ordered)
    values = np.array([float(counts.get(m, 0)) for m in months])
    series = pd.Series(values, index=pd.PeriodIndex([pd.Period(m, freq="M") for m in months]))
    fit = STL(series, period=12, robust=True).fit()
    seasonal = np.asarray(fit.seasonal, dtype=float)
    trend = np.asarray(fit.trend, dtype=float)
    return [
        AdjustedPoint(m, int(v), float(v - s), float(t), float(s))
        for m, v, s, t in zip(months, values, seasonal, trend, strict=True)
    ]


def seasonally_adjusted_series(
    store: PostingIndex, flt: PostingFilter | None = None, months: int | None = None
) -> list[AdjustedPoint] | None:
    """The seasonally adjusted monthly series of the postings ``flt`` selects (the last ``months``
    months if given); None while fewer than 24 months exist."""
    points = store.timeseries(flt, interval="month")
    series = [(p.period, p.unique_postings) for p in points]
    if months is not None and series:
        last = series[-1][0]
        series = [(m, n) for m, n in series if m > add_months(last, -months)]
    return seasonally_adjusted(series)
