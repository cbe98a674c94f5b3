"""``GET /v1/indicators``: the demand-signal indicators of every cell of a period, and
``GET /v1/indicators/seasonal``: the seasonally adjusted monthly series under a filter.

The work is :mod:`signals.indicators` (definitions and formulas: ``docs/demand-signals.md``); this
module reads the query and shapes the answer.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from signals.indicators import DEFAULT_MIN_SAMPLE, MIN_STL_MONTHS, indicators, seasonally_adjusted_series
from signals.models import CellIndicators, Measure
from signals.periods import PeriodError, parse_period
from skill_taxonomy import Taxonomy
from storage import PostingFilter

from ..deps import Index, get_taxonomy
from ..filters import filter_query
from ..schemas import STORE_ERROR
from .catalogue import PERIOD_PATTERN

router = APIRouter(prefix="/v1", tags=["signals"], responses=STORE_ERROR)

#: what a cell can be broken down by (``PostingIndex.signal_cells``' dimensions)
CellDimension = Literal["occupation", "direction", "level", "region", "province"]

INDICATORS_HELP = (
    "Per cell of the requested breakdown (occupation × direction × level × region/province; a dimension "
    "left out means all) in the period, over the postings the filter selects: demand (unique and total "
    "postings, share of digital postings, growth on the previous period and the year before), repost "
    "intensity, posting duration (Kaplan–Meier median and 75th percentile days open, open postings "
    "censored), advertised pay (median, growth, premium over the digital postings of the region) and the "
    "requirement mix, each with its sample size; a figure whose sample is below min_sample is null. The "
    "period sets the window (with its previous period and the year before, for the growths); the filter's "
    "start and end narrow it further. From "
    "postings alone these are demand tightness (需求紧张度), never a shortage. Definitions and formulas: "
    "docs/demand-signals.md."
)


class IndicatorTable(BaseModel):
    period: str
    start: date
    end: date
    by: list[str] = Field(description="The breakdown, in order.")
    min_sample: int
    measure: Measure = "demand_tightness"
    cells: list[CellIndicators]


class SeasonalPoint(BaseModel):
    month: date
    unique_postings: int
    adjusted: float = Field(description="Observed − seasonal component.")
    trend: float
    seasonal: float


class SeasonalSeries(BaseModel):
    method: str = "STL (statsmodels), period 12, robust"
    points: list[SeasonalPoint]


def _period_error(exc: PeriodError, period: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("query", "period"), "type": "value_error", "input": period, "msg": f"period: {exc}"}]
    )


@router.get(
    "/indicators",
    response_model=IndicatorTable,
    summary="Demand-signal indicators per occupation × direction × level × region/province in a period",
    description=INDICATORS_HELP,
)
def indicator_table(
    store: Index,
    period: str = Query(
        pattern=PERIOD_PATTERN, description="2026-07 (a month), 2026Q3 (a quarter) or 2026 (a year); years 1900–2099."
    ),
    by: list[CellDimension] = Query(
        ["occupation", "level"], description="The breakdown: occupation, direction, level, region, province."
    ),
    min_sample: int = Query(
        DEFAULT_MIN_SAMPLE, ge=1, le=1_000_000, description="Fewest unique postings behind a reported figure."
    ),
    flt: PostingFilter = Depends(filter_query),
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> IndicatorTable:
    try:
        parsed = parse_period(period)
    except PeriodError as exc:  # what the pattern lets through
        raise _period_error(exc, period) from None
    dims = list(dict.fromkeys(by))
    cells = indicators(
        store,
        parsed,
        dims,
        flt=flt,
        core_occupations=[o.code for o in taxonomy.core_occupations],
        occupation_names={code: o.name_zh for code, o in taxonomy.occupations.items()},
        min_sample=min_sample,
    )
    return IndicatorTable(
        period=parsed.label, start=parsed.start, end=parsed.end, by=dims, min_sample=min_sample, cells=cells
    )


@router.get(
    "/indicators/seasonal",
    response_model=SeasonalSeries,
    summary="The seasonally adjusted monthly demand under the filter (STL)",
    description=(
        "Unique postings per month under the filter, decomposed with STL (statsmodels, period 12, robust): "
        f"adjusted = observed − seasonal. Needs {MIN_STL_MONTHS} months (two seasonal cycles); fewer is a 422."
    ),
)
def seasonal_series(
    store: Index,
    months: int | None = Query(None, ge=MIN_STL_MONTHS, le=1200, description="Only the last N months."),
    flt: PostingFilter = Depends(filter_query),
) -> SeasonalSeries:
    points = seasonally_adjusted_series(store, flt, months)
    if points is None:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "start"),
                    "type": "too_little_history",
                    "input": None,
                    "msg": f"a seasonal adjustment needs {MIN_STL_MONTHS} months of postings under the filter",
                }
            ]
        )
    return SeasonalSeries(
        points=[
            SeasonalPoint(
                month=p.month,
                unique_postings=p.unique_postings,
                adjusted=p.adjusted,
                trend=p.trend,
                seasonal=p.seasonal,
            )
            for p in points
        ]
    )
