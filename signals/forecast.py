"""Monthly demand forecasts with 80 % and 95 % intervals, the model chosen by rolling-origin backtest.

**Series.** Unique (or all) postings per calendar month under any :class:`storage.PostingFilter`,
zero-filled (:meth:`storage.PostingIndex.timeseries`). A month the data only partly covers — the
window's first or last month when the filter's start/end or the stored dates fall inside it — is
left out and the answer says so: a half-crawled month would read as a collapse in demand.

**Candidates.** statsforecast's AutoETS and AutoARIMA against the baselines Naive (last value) and
SeasonalNaive(12) (same month last year). Seasonal forms (SeasonalNaive; a 12-month season in the
ETS/ARIMA search) are candidates only when two full seasons precede the backtest's first origin,
i.e. with at least :data:`SEASONAL_MIN_MONTHS` months, and the series shows a season: SeasonalNaive
beats Naive over every origin with a full season before it (:func:`season_evidence`: 16 origins × 3
months on 30 months, where the selection backtest has only 4; on simulated random walks it lets a
seasonal model in 2–3 times in 100, on a 12-month sine of amplitude 2× the noise 97 times in 100).
Otherwise the non-seasonal forms run and a note says why. Fewer than :data:`MIN_MONTHS` months:
:class:`NotEnoughHistory` (the API's 422 says how many are needed).

**Selection.** A rolling-origin backtest on the series itself: up to :data:`SELECTION_ORIGINS` origins
one month apart at the end of the series, each forecasting the next :data:`BACKTEST_HORIZON` months
(Job-SDF's "3 out") from the months before it. Each model is fitted once at the first origin and
moved forward to the later ones without re-estimation (:func:`signals.backtest.rolling_origin` with
``refit=False``: no look-ahead, one fit per model). The model with the lowest MAE wins, but a model
must beat every simpler one (Naive < SeasonalNaive < AutoETS < AutoARIMA) by more than
:data:`NEAR_TIE` of its MAE: on a random walk AutoETS(α≈1) or ARIMA(0,1,0) reproduce Naive to the
decimal, and a coin-flip between equals should go to the simplest. The backtest scores of every
candidate (MAE, RMSE, SMAPE, RRMSE) come with the answer. Then the chosen model is fitted on the
whole series and forecasts ``horizon`` months (the selection scores 3-month errors whatever the
horizon asked): in the form its search chose at the first origin — the form the backtest scored —
with its parameters re-estimated, not searched again (:class:`signals.backtest.Search`; the
ARIMA search, a stepwise one from ARIMA(1,d,1) with exact-likelihood fits, is most of a forecast's
CPU).

**Intervals.** statsforecast's 80 % and 95 % prediction intervals of the chosen model (Gaussian
errors for ETS/ARIMA; the baselines' residual-based ones). Postings are counts, so the point forecast
and both bounds are clipped at 0: for a non-negative truth this never turns a covered point into a
miss, so it leaves the coverage as it was. Values are rounded to 2 decimals.

**Determinism.** No model here draws random numbers (ETS/ARIMA fits are deterministic numerical
optimisations; the baselines are closed-form; reconciliation's normal intervals are analytic, its
seed fixed at 0 anyway): the same series gives the same forecast.

**Caches.** Forecasts are cached per (series values, first month, horizon, metric): a changed store
gives a changed series, hence a new entry, never a stale one. The series read itself (the costly
part at a million postings: a grouped scan of the filter's postings) is cached per (SQLite file,
:func:`data_version`, filter, metric), the version being the size and mtime of the file and its
write-ahead log, which every commit of any process changes; stores on a server are not cached.
"""

from __future__ import annotations

import calendar
import logging
import math
import warnings
from collections import OrderedDict
from datetime import date
from threading import Event, Lock
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from storage import PostingFilter, PostingIndex
from storage.base import next_period

from .backtest import (
    LEVELS,
    SEARCH,
    SEASON,
    Backtest,
    ModelName,
    Scores,
    Search,
    candidates,
    make_model,
    origin_indices,
    refit_model,
    rolling_origin,
)

log = logging.getLogger(__name__)

ForecastMetric = Literal["unique_postings", "total_postings"]
#: Job-SDF's "3 out": the backtest scores 3-month-ahead forecasts
BACKTEST_HORIZON = 3
#: origins of the selection backtest (one month apart)
SELECTION_ORIGINS = 6
#: the least history a forecast needs: 9 months before the single backtest origin, 3 after
MIN_MONTHS = 12
#: two full seasons before the first backtest origin, then the 3 months it forecasts
SEASONAL_MIN_MONTHS = 2 * SEASON + BACKTEST_HORIZON
#: a model must beat each simpler one by more than this share of its MAE to be chosen
NEAR_TIE = 0.01
MAX_HORIZON = 12
_CACHE_SIZE = 512


class NotEnoughHistory(ValueError):
    """The series is shorter than a forecast needs; ``months`` complete months, ``needed`` required."""

    def __init__(self, months: int, needed: int = MIN_MONTHS):
        self.months, self.needed = months, needed
        super().__init__(
            f"the filter selects {months} complete month{'s' if months != 1 else ''} of postings; a forecast needs "
            f"at least {needed} (and {SEASONAL_MIN_MONTHS} for seasonal models): widen start/end or the filter"
        )


class HistoryPoint(BaseModel):
    period: date = Field(description="First day of the month.")
    value: float


class ForecastPoint(BaseModel):
    """One forecast month: the point forecast and its 80 % / 95 % interval, all ≥ 0."""

    period: date
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


class CandidateScore(Scores):
    """A candidate's selection-backtest errors and whether it was chosen."""

    chosen: bool = False


class SeriesForecast(BaseModel):
    """A monthly series, its forecast and how the model was chosen."""

    metric: ForecastMetric = "unique_postings"
    horizon: int
    model: ModelName = Field(description="The chosen candidate.")
    model_form: str = Field(description="The fitted form, e.g. ETS(A,N,A) or ARIMA(0,1,1)(0,1,0)[12].")
    seasonal: bool = Field(description="Whether the chosen model's forecast has a 12-month season.")
    seasonal_candidates: bool = Field(description=f"Seasonal forms were tried (≥ {SEASONAL_MIN_MONTHS} months).")
    history: list[HistoryPoint]
    forecast: list[ForecastPoint]
    backtest: list[CandidateScore] = Field(description="Every candidate's selection-backtest errors, simplest first.")
    backtest_origins: int
    backtest_horizon: int = BACKTEST_HORIZON
    selection: str = Field(description="The selection rule, in words.")
    notes: list[str] = Field(default_factory=list)


# -- the series -------------------------------------------------------------------------------------


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def partial_months(store: PostingIndex, flt: PostingFilter) -> tuple[date | None, date | None]:
    """The first and the last day of the filter's window when they fall inside a month (that month
    is only partly covered), else None for each."""
    stored = store.date_range()
    if stored is None:
        return None, None
    first = flt.start or stored[0]
    last = flt.end or stored[1]
    return (first if first.day != 1 else None), (last if last != _month_end(last) else None)


def trim_partial(
    periods: list[date], values: list[float], store: PostingIndex, flt: PostingFilter
) -> tuple[list[date], list[float], list[str]]:
    """``periods``/``values`` without the months the data only partly cover, and notes saying so."""
    first, last = partial_months(store, flt)
    notes: list[str] = []
    if first is not None and periods:
        notes.append(f"{periods[0]:%Y-%m} is left out: the data start on {first} (part of the month)")
        periods, values = periods[1:], values[1:]
    if last is not None and periods:
        notes.append(f"{periods[-1]:%Y-%m} is left out: the data end on {last} (part of the month)")
        periods, values = periods[:-1], values[:-1]
    return periods, values, notes


def monthly_series(
    store: PostingIndex, flt: PostingFilter, metric: ForecastMetric = "unique_postings"
) -> tuple[list[date], list[float], list[str]]:
    """The filter's complete months and their counts, and notes on months left out."""
    points = store.timeseries(flt, "month")
    return trim_partial([p.period for p in points], [float(getattr(p, metric)) for p in points], store, flt)


# -- model selection and the forecast ---------------------------------------------------------------


def _quiet(fn: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optimiser convergence chatter
        return fn()


def _form(name: ModelName, model: Any) -> tuple[str, bool]:
    """The fitted model in words and whether it is seasonal."""
    if name == "Naive":
        return "Naive", False
    if name == "SeasonalNaive":
        return f"SeasonalNaive({SEASON})", True
    fitted = getattr(model, "model_", None) or {}
    if name == "AutoETS":
        method = str(fitted.get("method", "ETS"))
        return method, method.rstrip(")").split(",")[-1].strip() not in ("N", "ETS")
    p, q, sp, sq, s, d, sd = (int(v) for v in fitted.get("arma", (0, 0, 0, 0, 1, 0, 0)))
    if s > 1 and sp + sd + sq > 0:
        return f"ARIMA({p},{d},{q})({sp},{sd},{sq})[{s}]", True
    return f"ARIMA({p},{d},{q})", False


def season_evidence(y: np.ndarray, horizon: int = BACKTEST_HORIZON) -> tuple[float, float, int]:
    """MAE of SeasonalNaive(12) and of Naive over every origin with a full season before it (the
    baselines are closed-form: no fit), and the number of origins: the gate for seasonal models."""
    origins = range(SEASON, len(y) - horizon + 1)
    sn = [abs(y[o + j - SEASON] - y[o + j]) for o in origins for j in range(horizon)]
    naive = [abs(y[o - 1] - y[o + j]) for o in origins for j in range(horizon)]
    return float(np.mean(sn)), float(np.mean(naive)), len(origins)


def choose(bt: Backtest) -> ModelName:
    """The one-standard-error rule over the candidates, simplest first: a model replaces the current
    choice only when its absolute errors are lower on average, over the same origins and steps, by
    more than one standard error of the paired difference (and by more than NEAR_TIE of the MAE)."""
    best: ModelName | None = None
    for name in bt.predictions:  # simplest first
        errors = np.abs(np.asarray(bt.predictions[name]) - np.asarray(bt.truths[name]))
        if errors.size == 0:
            continue
        if best is None:
            best = name
            continue
        base = np.abs(np.asarray(bt.predictions[best]) - np.asarray(bt.truths[best]))
        if base.size != errors.size:  # not the same points (a model failed somewhere): compare MAEs
            if errors.mean() < base.mean() * (1 - NEAR_TIE):
                best = name
            continue
        gain = base - errors
        se = float(gain.std(ddof=1) / math.sqrt(gain.size)) if gain.size > 1 else 0.0
        if gain.mean() > max(se, NEAR_TIE * base.mean()):
            best = name
    return best or "Naive"


def _clip(v: float) -> float:
    return round(max(0.0, float(v)), 2) if math.isfinite(v) else 0.0


def _fit_forecast(name: ModelName, model: Any, y: np.ndarray, horizon: int) -> tuple[dict[str, Any], str, bool]:
    _quiet(lambda: model.fit(y))
    out = _quiet(lambda: model.predict(h=horizon, level=list(LEVELS)))
    form, is_seasonal = _form(name, model)
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}, form, is_seasonal


def _final_fit(
    name: ModelName, seasonal: bool, bt: Backtest, y: np.ndarray, horizon: int, search: Search, notes: list[str]
) -> tuple[ModelName, dict[str, Any], str, bool]:
    """The chosen model fitted on the whole series: the form its search chose at the first backtest
    origin, parameters re-estimated (``search.reuse_forms``), else a fresh search; Naive when neither fits."""
    attempts = []
    if search.reuse_forms and name in bt.fitted:
        attempts.append(refit_model(name, seasonal, bt.fitted[name], search))
    attempts.append(make_model(name, seasonal, search))
    for model in attempts:
        try:
            return (name, *_fit_forecast(name, model, y, horizon))
        except Exception:  # noqa: BLE001  # a form that cannot fit every month (degenerate series): try the next
            continue
    notes.append(f"{name} could not be fitted on the whole series; Naive forecasts instead")
    return ("Naive", *_fit_forecast("Naive", make_model("Naive", seasonal), y, horizon))


def _compute(
    values: tuple[float, ...], first: date, horizon: int, metric: ForecastMetric, search: Search = SEARCH
) -> SeriesForecast:
    y = np.asarray(values, dtype=float)
    n = len(y)
    if n < MIN_MONTHS:
        raise NotEnoughHistory(n)
    notes: list[str] = []
    seasonal = n >= SEASONAL_MIN_MONTHS
    if not seasonal:
        notes.append(
            f"{n} months: fewer than {SEASONAL_MIN_MONTHS} (two full seasons before the backtest), so only "
            "non-seasonal models were tried"
        )
    else:
        sn, naive, k = season_evidence(y)
        if sn >= naive:
            seasonal = False
            notes.append(
                f"no 12-month season: SeasonalNaive(12) did not beat Naive over {k} origins (MAE {sn:.2f} vs "
                f"{naive:.2f}), so only non-seasonal models were tried"
            )
    models = candidates(seasonal)
    # seasonal: two full seasons before the first origin; else the 9 months MIN_MONTHS leaves before it
    min_train = 2 * SEASON if seasonal else MIN_MONTHS - BACKTEST_HORIZON
    origins = origin_indices(n, BACKTEST_HORIZON, SELECTION_ORIGINS, min_train)
    bt = rolling_origin(y, models, seasonal, origins, BACKTEST_HORIZON, refit=False, search=search)
    scores = bt.scores()
    name, out, form, is_seasonal = _final_fit(choose(bt), seasonal, bt, y, horizon, search, notes)
    periods = [first]
    for _ in range(n + horizon - 1):
        periods.append(next_period(periods[-1], "month"))
    forecast = [
        ForecastPoint(
            period=periods[n + i],
            mean=_clip(out["mean"][i]),
            lo80=_clip(out["lo-80"][i]),
            hi80=_clip(out["hi-80"][i]),
            lo95=_clip(out["lo-95"][i]),
            hi95=_clip(out["hi-95"][i]),
        )
        for i in range(horizon)
    ]
    return SeriesForecast(
        metric=metric,
        horizon=horizon,
        model=name,
        model_form=form,
        seasonal=is_seasonal,
        seasonal_candidates=seasonal,
        history=[HistoryPoint(period=periods[i], value=float(y[i])) for i in range(n)],
        forecast=forecast,
        backtest=[CandidateScore(**s.model_dump(), chosen=s.model == name) for s in scores],
        backtest_origins=len(origins),
        selection=(
            f"lowest MAE over {len(origins)} rolling origins × {BACKTEST_HORIZON} months; a model must beat each "
            f"simpler one (Naive, SeasonalNaive, AutoETS, AutoARIMA) by more than {NEAR_TIE:.0%} of its MAE"
        ),
        notes=notes,
    )


_cache: OrderedDict[tuple[Any, ...], SeriesForecast] = OrderedDict()
_cache_lock = Lock()


def forecast_values(
    values: list[float] | tuple[float, ...],
    first: date,
    horizon: int,
    metric: ForecastMetric = "unique_postings",
    *,
    search: Search = SEARCH,
) -> SeriesForecast:
    """The forecast of a monthly series starting at ``first`` (cached per series, month, horizon and
    ``search``: :data:`signals.backtest.FULL_SEARCH` is the benchmark's baseline)."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValueError(f"horizon must be 1–{MAX_HORIZON} months, not {horizon}")
    key = (tuple(float(v) for v in values), first, horizon, metric, search)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit.model_copy(deep=True)
    result = _compute(key[0], first, horizon, metric, search)
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return result.model_copy(deep=True)


_warmed = Event()
_warm_lock = Lock()


def warm_up() -> None:
    """Import statsforecast and run one forecast (both searches, a final fit) of a fixed simulated
    series, once per process, so that the first request does not pay for it: the import takes 2–4 s
    (statsforecast pulls in pandas, scipy and statsmodels); its ETS and ARIMA are compiled C++, with
    no JIT to warm beyond that. The result is discarded, the caches untouched. Idempotent and
    thread-safe: the API runs it in a background thread at start-up (``SKILLSIGNAL_FORECAST_WARM_UP``)."""
    with _warm_lock:
        if _warmed.is_set():
            return
        months = np.arange(SEASONAL_MIN_MONTHS + 9)
        y = 300 + 60 * np.cos(2 * np.pi * months / SEASON) + 2.0 * months + 15 * np.sin(1.7 * months)
        _compute(tuple(float(v) for v in y), date(2020, 1, 1), BACKTEST_HORIZON, "unique_postings")
        _warmed.set()


def warmed() -> bool:
    """Whether :func:`warm_up` has run in this process."""
    return _warmed.is_set()


def clear_cache() -> None:
    """Forget every cached forecast and series."""
    with _cache_lock:
        _cache.clear()
        _series_cache.clear()


def data_version(store: PostingIndex) -> tuple[Any, ...] | None:
    """A stamp that changes with every commit to a SQLite store, by any process: size and modification
    time (ns) of the file and of its write-ahead log (a commit appends to the log; a checkpoint writes
    the file). None for a store on a server: its series are not cached."""
    path = store.path
    if path is None:
        return None
    stamp: list[Any] = []
    for part in (path, path.with_name(path.name + "-wal")):
        try:
            st = part.stat()
        except OSError:
            stamp.append(None)
        else:
            stamp.append((st.st_size, st.st_mtime_ns))
    return tuple(stamp)


_series_cache: OrderedDict[tuple[Any, ...], tuple[list[date], list[float], list[str]]] = OrderedDict()


def cached_series(
    store: PostingIndex, flt: PostingFilter, metric: ForecastMetric = "unique_postings"
) -> tuple[list[date], list[float], list[str]]:
    """:func:`monthly_series`, cached per (store file, its data version, filter, metric)."""
    version = data_version(store)
    if version is None:
        return monthly_series(store, flt, metric)
    key = (str(store.path), version, flt.model_dump_json(), metric)
    with _cache_lock:
        hit = _series_cache.get(key)
        if hit is not None:
            _series_cache.move_to_end(key)
            return list(hit[0]), list(hit[1]), list(hit[2])
    periods, values, notes = monthly_series(store, flt, metric)
    with _cache_lock:
        _series_cache[key] = (periods, values, notes)
        while len(_series_cache) > _CACHE_SIZE:
            _series_cache.popitem(last=False)
    return list(periods), list(values), list(notes)


def forecast(
    store: PostingIndex,
    flt: PostingFilter,
    horizon: int,
    metric: ForecastMetric = "unique_postings",
    *,
    search: Search = SEARCH,
) -> SeriesForecast:
    """The forecast of the filter's monthly series (see the module doc)."""
    periods, values, notes = cached_series(store, flt, metric)
    if len(values) < MIN_MONTHS:
        raise NotEnoughHistory(len(values))
    result = forecast_values(values, periods[0], horizon, metric, search=search)
    result.notes = notes + result.notes
    return result
