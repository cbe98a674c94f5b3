"""Rolling-origin backtests of the forecast candidates and the Job-SDF error metrics.

The candidates are statsforecast's AutoETS and AutoARIMA against two baselines, SeasonalNaive(12)
and Naive. A backtest cuts a series at several *origins*; at each origin every candidate sees only
the months before it and forecasts the next ``horizon`` months ("3 out", as Job-SDF scores its
models). Its errors are pooled over every origin and step (and, in :func:`pooled_scores`, every
series), exactly as Job-SDF pools its test matrix:

* MAE   = mean(|p − g|)
* RMSE  = √mean((p − g)²)
* SMAPE = 100 · mean(|p − g| / (|p| + |g|))        (a pair with p = g = 0 counts 0)
* RRMSE = 100 · √(mean((p − g)²) / mean(p²))        (None when every p is 0)

with p the forecasts and g the truth (``metrics/multi_result.ipynb`` of github.com/Job-SDF/benchmark).

Every model here is deterministic: statsforecast's ETS and ARIMA fits are numerical optimisations
without random starts, the baselines are closed-form. The same series gives the same scores.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

#: the candidates, simplest first: a near-tie in the backtest goes to the earlier one
ModelName = Literal["Naive", "SeasonalNaive", "AutoETS", "AutoARIMA"]
MODEL_NAMES: tuple[ModelName, ...] = ("Naive", "SeasonalNaive", "AutoETS", "AutoARIMA")
BASELINES: tuple[ModelName, ...] = ("Naive", "SeasonalNaive")
SEASON = 12
#: the interval levels every forecast carries
LEVELS = (80, 95)


class Search(BaseModel, frozen=True):
    """How AutoARIMA and AutoETS search their forms in a forecast's model selection.

    The default, measured by ``benchmarks/bench_forecast.py --models-only`` against :data:`FULL_SEARCH`
    (the search before it) on simulated series of 24/36/60 months: less CPU per forecast (figures in
    docs/forecast.md), the same accuracy and interval coverage within the paired standard error.
    """

    reuse_forms: bool = Field(
        default=True,
        description="The final fit on the whole series keeps the form (ARIMA orders, ETS components) the "
        "search chose at the first backtest origin and re-estimates its parameters only: the form the "
        "backtest scored, without a second search.",
    )
    arima_start: int = Field(
        default=1, ge=0, le=2, description="start_p = start_q of the stepwise search (its first model)."
    )


#: the default search
SEARCH = Search()
#: the search before the forms were reused: from ARIMA(2,d,2), the final fit searching again
FULL_SEARCH = Search(reuse_forms=False, arima_start=2)


def _arima(season: int, search: Search) -> Any:
    from statsforecast.models import AutoARIMA  # lazy: statsforecast takes ~1.6 s to import; the API starts without it

    # a bounded stepwise search (orders ≤ 2, seasonal ≤ 1): monthly demand series rarely need more.
    # Exact likelihood, never the CSS approximation alone: that took a random walk for a stationary
    # AR(1), whose long-horizon intervals are far too narrow. CSS-ML (a CSS fit for the starting
    # values, then ML), not ML alone: ML from zero starting values left the AR coefficient of a
    # drifting series at its start, 0, and lost the backtest to Naive (MAE 270 against 151)
    return AutoARIMA(
        season_length=season,
        max_p=2,
        max_q=2,
        max_P=1,
        max_Q=1,
        start_p=search.arima_start,
        start_q=search.arima_start,
        method="CSS-ML",
    )


def make_model(name: ModelName, seasonal: bool, search: Search = SEARCH) -> Any:
    """A fresh statsforecast model; ``seasonal`` gives the ETS/ARIMA search a 12-month season."""
    from statsforecast.models import AutoETS, Naive, SeasonalNaive  # lazy: ~1.6 s to import, see _arima

    season = SEASON if seasonal else 1
    if name == "AutoETS":
        return AutoETS(season_length=season)
    if name == "AutoARIMA":
        return _arima(season, search)
    if name == "SeasonalNaive":
        return SeasonalNaive(season_length=SEASON)
    return Naive()


def refit_model(name: ModelName, seasonal: bool, fitted: Any, search: Search = SEARCH) -> Any:
    """A fresh model of the form a search chose on an earlier fit (``fitted``: its ETS components or
    its ARIMA orders, mean and drift), to re-estimate the parameters only, without searching again.
    The selection backtest scored that form; the search is the costly part (an ARIMA stepwise search
    fits 6–10 models, an ETS one up to 30). A model that has no form to reuse comes back fresh."""
    from statsforecast.models import ARIMA, AutoETS  # lazy: ~1.6 s to import, see _arima

    spec = getattr(fitted, "model_", None)
    if not spec:
        return make_model(name, seasonal, search)
    if name == "AutoETS":
        components = str(spec["components"])  # error, trend, season, damped ("D") or not ("N")
        return AutoETS(season_length=SEASON if seasonal else 1, model=components[:3], damped=components[3] == "D")
    if name == "AutoARIMA":
        p, q, sp, sq, s, d, sd = (int(v) for v in spec["arma"])
        coef = spec["coef"]
        return ARIMA(
            order=(p, d, q),
            season_length=s,
            seasonal_order=(sp, sd, sq),
            include_mean="intercept" in coef,
            include_drift="drift" in coef,
            method="CSS-ML",
            alias="AutoARIMA",
        )
    return make_model(name, seasonal, search)


def candidates(seasonal: bool) -> tuple[ModelName, ...]:
    """The candidates: SeasonalNaive only with two full seasons (the caller decides)."""
    return MODEL_NAMES if seasonal else tuple(m for m in MODEL_NAMES if m != "SeasonalNaive")


# -- metrics (Job-SDF) ------------------------------------------------------------------------------


def mae(p: np.ndarray, g: np.ndarray) -> float:
    return float(np.mean(np.abs(p - g)))


def rmse(p: np.ndarray, g: np.ndarray) -> float:
    return float(np.sqrt(np.mean((p - g) ** 2)))


def smape(p: np.ndarray, g: np.ndarray) -> float:
    den = np.abs(p) + np.abs(g)
    ratio = np.divide(np.abs(p - g), den, out=np.zeros_like(den, dtype=float), where=den > 0)
    return float(100 * np.mean(ratio))


def rrmse(p: np.ndarray, g: np.ndarray) -> float | None:
    power = float(np.mean(p**2))
    return None if power == 0 else float(100 * math.sqrt(float(np.mean((p - g) ** 2)) / power))


class Scores(BaseModel):
    """One model's backtest errors (Job-SDF metrics, see the module doc); None when it could not run."""

    model: ModelName
    baseline: bool = Field(description="Naive or SeasonalNaive: what the other models must beat.")
    mae: float | None = None
    rmse: float | None = None
    smape: float | None = Field(default=None, description="Percent, 0–100.")
    rrmse: float | None = Field(default=None, description="Percent.")
    points: int = Field(default=0, description="Forecast points scored (origins × steps × series).")
    failed: int = Field(default=0, description="Origins where the model could not be fitted.")


def score(model: ModelName, p: np.ndarray, g: np.ndarray, failed: int = 0) -> Scores:
    if p.size == 0:
        return Scores(model=model, baseline=model in BASELINES, failed=failed)
    r = rrmse(p, g)
    return Scores(
        model=model,
        baseline=model in BASELINES,
        mae=round(mae(p, g), 4),
        rmse=round(rmse(p, g), 4),
        smape=round(smape(p, g), 4),
        rrmse=None if r is None else round(r, 4),
        points=int(p.size),
        failed=failed,
    )


# -- rolling origins --------------------------------------------------------------------------------


@dataclass
class Backtest:
    """Forecasts and truths per model, flattened over origins × steps."""

    origins: list[int]
    horizon: int
    predictions: dict[ModelName, list[float]] = field(default_factory=dict)
    truths: dict[ModelName, list[float]] = field(default_factory=dict)
    failed: dict[ModelName, int] = field(default_factory=dict)
    #: with ``refit=False``: each model as fitted at the first origin (its searched form, for reuse)
    fitted: dict[ModelName, Any] = field(default_factory=dict)

    def scores(self) -> list[Scores]:
        return [
            score(m, np.asarray(self.predictions[m]), np.asarray(self.truths[m]), self.failed.get(m, 0))
            for m in self.predictions
        ]


def origin_indices(n: int, horizon: int, origins: int, min_train: int) -> list[int]:
    """The last ``origins`` cut points (index of the first forecast month), one month apart, each
    with ``min_train`` months before it and ``horizon`` after; fewer when the series is short."""
    last = n - horizon
    first = max(min_train, last - origins + 1)
    return list(range(first, last + 1))


def _forecast(name: ModelName, seasonal: bool, train: np.ndarray, horizon: int, search: Search) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsforecast warns on optimiser convergence codes
        return np.asarray(make_model(name, seasonal, search).forecast(y=train, h=horizon)["mean"], dtype=float)


def _fit(name: ModelName, seasonal: bool, train: np.ndarray, search: Search) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_model(name, seasonal, search).fit(train)


def _forward(fitted: Any, train: np.ndarray, horizon: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(fitted.forward(y=train, h=horizon)["mean"], dtype=float)


def rolling_origin(
    y: np.ndarray,
    models: Sequence[ModelName],
    seasonal: bool,
    origins: list[int],
    horizon: int,
    window: int | None = None,
    refit: bool = True,
    search: Search = SEARCH,
) -> Backtest:
    """Each model forecasts ``horizon`` months from every origin, seeing only the months before it
    (the last ``window`` of them when given: a sliding input window; else all: an expanding one).

    ``refit=False`` fits each model once, at the first origin, and moves its fitted state forward
    to the later origins without re-estimating (statsforecast's ``forward``): still no look-ahead,
    since the parameters come from data before every test window, at a fraction of the cost.
    """
    bt = Backtest(origins=origins, horizon=horizon)
    for name in models:
        preds: list[float] = []
        truths: list[float] = []
        failed = 0
        fitted: Any = None
        for k, origin in enumerate(origins):
            train = y[max(0, origin - window) if window else 0 : origin]
            truth = y[origin : origin + horizon]
            try:
                if refit or window:
                    mean = _forecast(name, seasonal, train, horizon, search)
                else:
                    if k == 0:
                        fitted = _fit(name, seasonal, train, search)
                        bt.fitted[name] = fitted
                    mean = _forward(fitted, train, horizon)
            except Exception:  # noqa: BLE001  # a model that cannot fit this history (too short, degenerate) scores no point here
                if k == 0 and not (refit or window):
                    failed = len(origins)
                    break
                failed += 1
                continue
            preds.extend(float(v) for v in mean[: len(truth)])
            truths.extend(float(v) for v in truth)
        bt.predictions[name] = preds
        bt.truths[name] = truths
        bt.failed[name] = failed
    return bt


def pooled_scores(backtests: Sequence[Backtest]) -> list[Scores]:
    """Scores per model pooled over several series' backtests (Job-SDF pools its whole test matrix)."""
    names: list[ModelName] = []
    for bt in backtests:
        names.extend(m for m in bt.predictions if m not in names)
    out = []
    for m in names:
        p = np.asarray([v for bt in backtests for v in bt.predictions.get(m, [])])
        g = np.asarray([v for bt in backtests for v in bt.truths.get(m, [])])
        out.append(score(m, p, g, sum(bt.failed.get(m, 0) for bt in backtests)))
    return out
