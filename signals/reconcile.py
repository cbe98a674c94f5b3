"""Coherent forecasts of a hierarchy: total → occupation → occupation × region (hierarchicalforecast).

Every node's monthly series comes from one grouped read of the store
(:meth:`storage.PostingIndex.export_series` by occupation and region) over the filter, so the
bottom series add up to the total by construction; postings without an occupation or a region
form their own node (``occupation``/``region`` None), months the data only partly cover are left
out as in :mod:`signals.forecast`, and bottom series without a single posting are dropped (they
add nothing).

**Base forecasts.** AutoETS on every node (seasonal search with ≥ 27 months, as for one series),
with its in-sample one-step fitted values. One family for every node keeps the residuals comparable,
and a per-node backtest over ~90 nodes would cost seconds; the single-series endpoint does the
selection.

**Reconciliation: MinTrace with the shrunk covariance (``mint_shrink``).** Base forecasts of the
small occupation × region nodes are noisy, the total's are steady; MinT weighs each node by its
in-sample residual (co)variance, so the steady upper levels correct the noisy bottom instead of
being overwritten by it as in BottomUp, and unlike TopDown it keeps what each region's own series
says. With ~90 nodes and ~30 months the sample covariance is singular; the Schäfer–Strimmer
shrinkage towards its diagonal is what makes MinT usable here (Wickramasuriya, Athanasopoulos &
Hyndman 2019). Intervals: the ``normality`` method (analytic: the reconciled covariance
S·P·W·Pᵀ·Sᵀ; no sampling, the seed is fixed at 0 anyway).

Reconciled point forecasts are *not* clipped at 0 (clipping would break the sums); interval lower
bounds are.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from datetime import date
from statistics import NormalDist
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from storage import PostingFilter, PostingIndex
from storage.base import next_period

from .backtest import LEVELS, SEASON
from .forecast import MIN_MONTHS, SEASONAL_MIN_MONTHS, ForecastMetric, NotEnoughHistory, trim_partial

RECONCILER = "MinTrace(mint_shrink)"
#: the quantiles hierarchicalforecast returns for LEVELS (80, 95), in its sorted order
_Q = {"lo95": 0, "lo80": 1, "hi80": 2, "hi95": 3}


class ReconciledPoint(BaseModel):
    period: date
    mean: float = Field(description="Not clipped at 0, so that children add up to their parent.")
    lo80: float
    hi80: float
    lo95: float
    hi95: float
    base: float = Field(description="The node's own (unreconciled) AutoETS forecast.")


class ReconciledNode(BaseModel):
    level: str = Field(description="total, occupation or occupation/region.")
    occupation: str | None = None
    region: str | None = None
    history: list[float] = Field(description="The node's complete months, oldest first.")
    forecast: list[ReconciledPoint]


class ReconciledForecast(BaseModel):
    method: str = RECONCILER
    base_model: str = "AutoETS"
    history_start: date
    nodes: list[ReconciledNode]
    notes: list[str] = Field(default_factory=list)


def _series(
    store: PostingIndex, flt: PostingFilter, metric: ForecastMetric
) -> tuple[list[date], dict[tuple[str | None, str | None], np.ndarray], list[str]]:
    column = "unique_count" if metric == "unique_postings" else "count"
    per: dict[tuple[str | None, str | None], dict[date, float]] = defaultdict(dict)
    months: set[date] = set()
    for row in store.export_series(flt, "month", ["occupation", "region"]):
        per[(row.occupation, row.region)][row.period] = float(getattr(row, column))
        months.add(row.period)
    periods, _, notes = trim_partial(sorted(months), [0.0] * len(months), store, flt)
    series = {k: np.array([v.get(p, 0.0) for p in periods]) for k, v in per.items()}
    return periods, {k: y for k, y in series.items() if y.any()}, notes


def _base(y: np.ndarray, horizon: int, seasonal: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AutoETS mean, in-sample fitted values and the standard deviation of each forecast step."""
    from statsforecast.models import AutoETS  # lazy: ~1.6 s to import; the API starts without it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = AutoETS(season_length=SEASON if seasonal else 1).forecast(y=y, h=horizon, level=[80], fitted=True)
    mean = np.asarray(out["mean"], dtype=float)
    fitted = np.asarray(out["fitted"], dtype=float)
    fitted = np.where(np.isfinite(fitted), fitted, y)
    sigma = (np.asarray(out["hi-80"], dtype=float) - mean) / NormalDist().inv_cdf(0.9)
    return mean, fitted, np.maximum(sigma, 1e-9)


def reconciled_forecast(
    store: PostingIndex, flt: PostingFilter, horizon: int, metric: ForecastMetric = "unique_postings"
) -> ReconciledForecast:
    """MinT-reconciled forecasts of total → occupation → occupation × region under ``flt``."""
    from hierarchicalforecast.methods import MinTrace  # lazy: only reconcile=true pays the import (~0.3 s)

    periods, bottoms, notes = _series(store, flt, metric)
    n = len(periods)
    if n < MIN_MONTHS:
        raise NotEnoughHistory(n)
    seasonal = n >= SEASONAL_MIN_MONTHS
    keys = sorted(bottoms, key=lambda k: (k[0] or "\uffff", k[1] or "\uffff"))
    occupations = sorted({k[0] for k in keys}, key=lambda o: o or "\uffff")
    # rows of S: total, each occupation, each bottom; columns: the bottoms
    nodes: list[tuple[str, str | None, str | None]] = [("total", None, None)]
    nodes += [("occupation", o, None) for o in occupations]
    nodes += [("occupation/region", o, r) for o, r in keys]
    S = np.zeros((len(nodes), len(keys)))
    S[0, :] = 1
    for j, (o, _) in enumerate(keys):
        S[1 + occupations.index(o), j] = 1
    S[1 + len(occupations) :, :] = np.eye(len(keys))
    Y = S @ np.vstack([bottoms[k] for k in keys])
    bases = [_base(Y[i], horizon, seasonal) for i in range(len(nodes))]
    y_hat = np.vstack([b[0] for b in bases])
    fitted = np.vstack([b[1] for b in bases])
    sigmah = np.vstack([b[2] for b in bases])
    tags = {
        "total": np.array([0]),
        "occupation": np.arange(1, 1 + len(occupations)),
        "occupation/region": np.arange(1 + len(occupations), len(nodes)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-variance and PSD warnings of small nodes; shrinkage handles them
        res: dict[str, Any] = MinTrace(method="mint_shrink").fit_predict(
            S=S,
            y_hat=y_hat,
            y_insample=Y,
            y_hat_insample=fitted,
            sigmah=sigmah,
            level=list(LEVELS),
            intervals_method="normality",
            seed=0,
            tags=tags,
        )
    mean, q = np.asarray(res["mean"]), np.asarray(res["quantiles"])
    future = [next_period(periods[-1], "month")]
    for _ in range(horizon - 1):
        future.append(next_period(future[-1], "month"))

    def bound(v: float) -> float:
        return round(max(0.0, float(v)), 2) if math.isfinite(v) else 0.0

    out = [
        ReconciledNode(
            level=level,
            occupation=occ,
            region=reg,
            history=[float(v) for v in Y[i]],
            forecast=[
                ReconciledPoint(
                    period=future[h],
                    mean=round(float(mean[i, h]), 2),
                    base=round(float(y_hat[i, h]), 2),
                    **{name: bound(q[i, h, k]) for name, k in _Q.items()},
                )
                for h in range(horizon)
            ],
        )
        for i, (level, occ, reg) in enumerate(nodes)
    ]
    return ReconciledForecast(history_start=periods[0], nodes=out, notes=notes)
