"""How long postings stay open: a censored Kaplan–Meier estimate over the store's duration histograms.

A posting is open from its first to its last sighting across crawls. One that a complete re-crawl
no longer found is *closed* (an event); one still open at the last crawl is *censored* at its days
so far. The store hands a histogram of ``(days open, closed, postings)``
(:class:`storage.results.SignalCell` ``durations``); statsmodels' ``SurvfuncRight`` takes the
counts as frequency weights, so no posting list is ever expanded.

The quantiles follow statsmodels (and SAS): the ``p`` quantile of the time to close is the first day
at which the estimated share still open, S(t), falls *below* ``1 − p`` — the median is the first day
with S(t) < 0.5, the 75th percentile the first with S(t) < 0.25. A quantile the curve never
reaches (too many postings still open) is None, not a guess.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from statsmodels.duration.survfunc import SurvfuncRight

#: (days open, closed, postings)
DurationBin = tuple[int, bool, int]


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """Kaplan–Meier summary of one cell's postings; ``exposure_days`` is the total time on test
    (Σ days open over every posting, closed or not), the denominator of the closure rate."""

    sample: int
    closed: int
    exposure_days: int
    median_days: float | None
    p75_days: float | None

    @property
    def closure_rate(self) -> float | None:
        """Closed postings per posting-day open (the exponential model's hazard)."""
        return self.closed / self.exposure_days if self.exposure_days else None


def merge_durations(histograms: Iterable[Iterable[DurationBin]]) -> list[DurationBin]:
    """One histogram out of several (of several months or cells), ascending."""
    acc: dict[tuple[int, bool], int] = defaultdict(int)
    for hist in histograms:
        for days, closed, n in hist:
            acc[(int(days), bool(closed))] += int(n)
    return [(days, closed, n) for (days, closed), n in sorted(acc.items()) if n > 0]


def _quantile(fit: SurvfuncRight, p: float) -> float | None:
    value = float(fit.quantile(p))
    return None if math.isnan(value) or math.isinf(value) else value


def kaplan_meier(hist: Iterable[DurationBin]) -> DurationSummary:
    """Median and 75th percentile of days open, right-censored (see the module doc)."""
    bins = [(int(d), bool(c), int(n)) for d, c, n in hist if n > 0]
    sample = sum(n for _, _, n in bins)
    closed = sum(n for _, c, n in bins if c)
    exposure = sum(d * n for d, _, n in bins)
    if closed == 0:
        return DurationSummary(sample, 0, exposure, None, None)
    times = np.array([d for d, _, _ in bins], dtype=float)
    status = np.array([1 if c else 0 for _, c, _ in bins], dtype=float)
    weights = np.array([n for _, _, n in bins], dtype=float)
    fit = SurvfuncRight(times, status, freq_weights=weights)
    return DurationSummary(sample, closed, exposure, _quantile(fit, 0.5), _quantile(fit, 0.75))
