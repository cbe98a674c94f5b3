"""Totals, time series and rankings over the one filter (GET with query parameters, POST with a body)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query

from skill_taxonomy import Taxonomy
from skillsignal.core.config import Settings
from storage import PostingFilter, PostingIndex
from storage.results import FACETS, INTERVALS, METRICS, Facet, Interval, Metric, Ranking, RankingSeries

from ..deps import Index, get_namer, get_settings, get_taxonomy
from ..filters import check_series_points, filter_query, known_filter
from ..schemas import (
    BODY_ERRORS,
    STORE_ERROR,
    FacetInfo,
    FilterBody,
    RankingBody,
    RankingSeriesBody,
    TimeseriesBody,
    TimeseriesResponse,
    TotalsResponse,
)
from ..services.names import Namer

router = APIRouter(prefix="/v1", tags=["analytics"], responses=STORE_ERROR)

FacetPath = Path(description="What to rank: " + ", ".join(FACETS))
SERIES_HELP = (
    " A series answer holds at most Settings.max_series_points points (periods × series); "
    "more answers 422 naming the limit."
)


def _totals(store: PostingIndex, flt: PostingFilter) -> TotalsResponse:
    return TotalsResponse(filter=flt, **store.totals(flt).model_dump())


@router.get(
    "/totals",
    response_model=TotalsResponse,
    summary="Unique, duplicate and total postings, posting intensity and median salary",
)
def totals_get(store: Index, flt: PostingFilter = Depends(filter_query)) -> TotalsResponse:
    return _totals(store, flt)


@router.post("/totals", response_model=TotalsResponse, summary="Totals (filter in the body)", responses=BODY_ERRORS)
def totals_post(body: FilterBody, store: Index, taxonomy: Taxonomy = Depends(get_taxonomy)) -> TotalsResponse:
    known_filter(body, taxonomy)
    return _totals(store, body.filter)


def _timeseries(store: PostingIndex, flt: PostingFilter, interval: Interval, settings: Settings) -> TimeseriesResponse:
    check_series_points(store, flt, interval, 1, settings.max_series_points)
    return TimeseriesResponse(filter=flt, interval=interval, points=store.timeseries(flt, interval))


@router.get(
    "/timeseries",
    response_model=TimeseriesResponse,
    summary="Postings per day/week/month, zero-filled",
    description=SERIES_HELP.strip(),
)
def timeseries_get(
    store: Index,
    interval: Interval = Query("month"),
    flt: PostingFilter = Depends(filter_query),
    settings: Settings = Depends(get_settings),
) -> TimeseriesResponse:
    return _timeseries(store, flt, interval, settings)


@router.post(
    "/timeseries",
    response_model=TimeseriesResponse,
    summary="Time series (filter in the body)",
    description=SERIES_HELP.strip(),
    responses=BODY_ERRORS,
)
def timeseries_post(
    body: TimeseriesBody,
    store: Index,
    settings: Settings = Depends(get_settings),
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> TimeseriesResponse:
    known_filter(body, taxonomy)
    return _timeseries(store, body.filter, body.interval, settings)


@router.get("/rankings", response_model=FacetInfo, summary="Facets, metrics and intervals rankings accept")
def rankings_info() -> FacetInfo:
    return FacetInfo(facets=list(FACETS), metrics=list(METRICS), intervals=list(INTERVALS))


def _named(ranking: Ranking, namer: Namer) -> Ranking:
    for b in ranking.buckets:
        b.name = namer.name(ranking.facet, b.key)
    return ranking


@router.get("/rankings/{facet}", response_model=Ranking, summary="Top values of a facet by a metric")
def ranking_get(
    store: Index,
    facet: Facet = FacetPath,
    metric: Metric = Query("unique_postings"),
    limit: int = Query(10, ge=1, le=1000),
    flt: PostingFilter = Depends(filter_query),
    namer: Namer = Depends(get_namer),
) -> Ranking:
    return _named(store.ranking(facet, flt, metric=metric, limit=limit), namer)


@router.post("/rankings/{facet}", response_model=Ranking, summary="Ranking (filter in the body)", responses=BODY_ERRORS)
def ranking_post(
    body: RankingBody,
    store: Index,
    facet: Facet = FacetPath,
    namer: Namer = Depends(get_namer),
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> Ranking:
    known_filter(body, taxonomy)
    return _named(store.ranking(facet, body.filter, metric=body.metric, limit=body.limit), namer)


def _named_series(series: RankingSeries, namer: Namer) -> RankingSeries:
    for s in series.series:
        s.name = namer.name(series.facet, s.key)
    return series


def _ranking_series(
    store: PostingIndex,
    namer: Namer,
    settings: Settings,
    facet: str,
    flt: PostingFilter,
    interval: Interval,
    keys: list[str],
    limit: int,
) -> RankingSeries:
    keys = list(dict.fromkeys(keys))
    check_series_points(store, flt, interval, len(keys) or limit, settings.max_series_points)
    return _named_series(store.ranking_timeseries(facet, flt, interval, keys=keys, limit=limit), namer)


@router.get(
    "/rankings/{facet}/timeseries",
    response_model=RankingSeries,
    summary="A zero-filled series per facet value (given keys, or the top `limit`)",
    description=SERIES_HELP.strip(),
)
def ranking_series_get(
    store: Index,
    facet: Facet = FacetPath,
    interval: Interval = Query("month"),
    keys: list[str] = Query([], description="Facet values; repeat or comma-separate. Empty = the top `limit`."),
    limit: int = Query(5, ge=1, le=50),
    flt: PostingFilter = Depends(filter_query),
    namer: Namer = Depends(get_namer),
    settings: Settings = Depends(get_settings),
) -> RankingSeries:
    wanted = [k.strip() for raw in keys for k in raw.split(",") if k.strip()]
    return _ranking_series(store, namer, settings, facet, flt, interval, wanted, limit)


@router.post(
    "/rankings/{facet}/timeseries",
    response_model=RankingSeries,
    summary="Ranking time series (filter in the body)",
    description=SERIES_HELP.strip(),
    responses=BODY_ERRORS,
)
def ranking_series_post(
    body: RankingSeriesBody,
    store: Index,
    facet: Facet = FacetPath,
    namer: Namer = Depends(get_namer),
    settings: Settings = Depends(get_settings),
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> RankingSeries:
    known_filter(body, taxonomy)
    return _ranking_series(store, namer, settings, facet, body.filter, body.interval, body.keys, body.limit)
