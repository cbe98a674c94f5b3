"""``GET /v1/forecast``: a monthly demand forecast with 80 % / 95 % intervals under any filter.

The work is :mod:`signals.forecast` (series, model selection by rolling-origin backtest, intervals)
and :mod:`signals.reconcile` (``reconcile=true``: occupation × region forecasts reconciled to the
total with MinTrace); this module reads the query and shapes the answer.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import Field

from signals.forecast import (
    MAX_HORIZON,
    MIN_MONTHS,
    SEASONAL_MIN_MONTHS,
    ForecastMetric,
    NotEnoughHistory,
    SeriesForecast,
)
from signals.forecast import forecast as forecast_series
from signals.reconcile import ReconciledForecast, reconciled_forecast
from storage import PostingFilter

from ..deps import Index
from ..filters import filter_query
from ..schemas import STORE_ERROR

router = APIRouter(prefix="/v1", tags=["forecast"], responses=STORE_ERROR)

FORECAST_HELP = (
    "Unique (or all) postings per calendar month under the filter, with months the data only partly cover "
    "left out. Candidates: AutoETS and AutoARIMA (statsforecast) against the baselines Naive and "
    f"SeasonalNaive(12); seasonal forms only with ≥ {SEASONAL_MIN_MONTHS} months (two full seasons before "
    "the backtest) where SeasonalNaive beats Naive over every origin with a season before it. The model "
    "is chosen by a rolling-origin backtest on the series itself (up to 6 origins, "
    "3 months out each; one-standard-error rule, simplest model first); `backtest` gives every candidate's "
    "MAE, RMSE, SMAPE and RRMSE. Point forecasts and 80 %/95 % intervals are clipped at 0 (counts). "
    f"Fewer than {MIN_MONTHS} complete months answers 422 saying how many there are. `reconcile=true` adds "
    "forecasts of every occupation and occupation × region, reconciled to the total with MinTrace "
    "(mint_shrink) so that children add up to their parent (their means are not clipped)."
)


class ForecastResponse(SeriesForecast):
    reconciled: ReconciledForecast | None = Field(
        default=None, description="With reconcile=true: total → occupation → occupation × region, coherent."
    )


@router.get(
    "/forecast",
    response_model=ForecastResponse,
    summary="Monthly demand forecast with 80 %/95 % intervals, the model chosen by backtest",
    description=FORECAST_HELP,
)
def forecast_get(
    store: Index,
    horizon: int = Query(6, ge=1, le=MAX_HORIZON, description=f"Months ahead, 1–{MAX_HORIZON}."),
    metric: ForecastMetric = Query("unique_postings", description="unique_postings or total_postings."),
    reconcile: bool = Query(False, description="Add occupation × region forecasts reconciled to the total."),
    flt: PostingFilter = Depends(filter_query),
) -> ForecastResponse:
    try:
        result = forecast_series(store, flt, horizon, metric)
        reconciled = reconciled_forecast(store, flt, horizon, metric) if reconcile else None
    except NotEnoughHistory as exc:
        raise RequestValidationError(
            [{"loc": ("query", "start"), "type": "too_little_history", "msg": str(exc), "input": exc.months}]
        ) from None
    return ForecastResponse(**result.model_dump(), reconciled=reconciled)
