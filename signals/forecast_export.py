"""Forecast rows beside the history rows of the long-format series export.

Each exported series (one combination of the export's dimension values) is forecast as
``GET /v1/forecast`` forecasts one series (:func:`signals.forecast.forecast_values`: model chosen
by backtest, 80 %/95 % intervals clipped at 0) from its complete months, and its forecast rows
follow its history rows:

* history rows: ``kind = history``, ``count``/``unique_count`` as before, the forecast columns empty;
* forecast rows: ``kind = forecast``, the point forecast of the chosen metric in ``forecast`` and
  its interval in ``lo80``/``hi80``/``lo95``/``hi95``, ``count``/``unique_count`` empty.

A series with fewer than :data:`signals.forecast.MIN_MONTHS` complete months gets no forecast
rows. Each series costs a model selection (0.05–0.2 s), so an export with forecasts holds at most
:data:`MAX_FORECAST_SERIES` series.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import groupby
from typing import Any

from storage import PostingFilter, PostingIndex
from storage.results import SeriesRow

from .forecast import MIN_MONTHS, ForecastMetric, forecast_values, partial_months

FORECAST_COLUMNS = ["kind", "forecast", "lo80", "hi80", "lo95", "hi95"]
MAX_FORECAST_SERIES = 50


class TooManySeries(ValueError):
    def __init__(self, n_series: int, limit: int = MAX_FORECAST_SERIES):
        self.n_series, self.limit = n_series, limit
        super().__init__(
            f"the export holds {n_series} series; forecasts are made for at most {limit} "
            "(export fewer dimensions or a narrower filter)"
        )


def with_forecasts(
    store: PostingIndex,
    flt: PostingFilter,
    rows: Iterable[SeriesRow],
    dimensions: Sequence[str],
    horizon: int,
    metric: ForecastMetric = "unique_postings",
    max_series: int = MAX_FORECAST_SERIES,
) -> Iterator[dict[str, Any]]:
    """The export's rows as dicts, each series' forecast rows after its history rows. Every forecast
    is made before the first row is returned, so a :class:`TooManySeries` comes before any output."""
    first_partial, last_partial = partial_months(store, flt)
    column = "unique_count" if metric == "unique_postings" else "count"
    groups = [list(g) for _, g in groupby(rows, key=lambda r: tuple(getattr(r, d) for d in dimensions))]
    if len(groups) > max_series:
        raise TooManySeries(len(groups), max_series)
    out: list[dict[str, Any]] = []
    for group in groups:
        out.extend({**r.model_dump(), "kind": "history"} for r in group)
        history: list[tuple[date, float]] = [(r.period, float(getattr(r, column))) for r in group]
        if first_partial is not None:
            history = history[1:]
        if last_partial is not None:
            history = history[:-1]
        if len(history) < MIN_MONTHS:
            continue
        result = forecast_values([v for _, v in history], history[0][0], horizon, metric)
        keys = {d: getattr(group[0], d) for d in dimensions}
        for p in result.forecast:
            out.append(
                {
                    "period": p.period,
                    **keys,
                    "count": None,
                    "unique_count": None,
                    "kind": "forecast",
                    "forecast": p.mean,
                    "lo80": p.lo80,
                    "hi80": p.hi80,
                    "lo95": p.lo95,
                    "hi95": p.hi95,
                }
            )
    return iter(out)
