"""Exports for forecasting tools: the long-format series (Job-SDF layout) and skill co-occurrence."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse

from signals.forecast import MAX_HORIZON, MIN_MONTHS, ForecastMetric
from signals.forecast_export import FORECAST_COLUMNS, MAX_FORECAST_SERIES, TooManySeries, with_forecasts
from skill_taxonomy import Taxonomy
from skillsignal.core.config import Settings
from storage import PostingFilter, PostingIndex
from storage.results import DEFAULT_EXPORT_DIMENSIONS, EXPORT_DIMENSIONS, Interval, SeriesRow

from ..deps import Index, get_settings, get_taxonomy
from ..filters import csv_items, filter_query, known_filter, split_closed
from ..schemas import BODY_ERRORS, STORE_ERROR, ExportBody, Responses

router = APIRouter(prefix="/v1/exports", tags=["exports"], responses=STORE_ERROR)

_CSV = {"schema": {"type": "string"}}
_PARQUET = {"schema": {"type": "string", "format": "binary"}}
SERIES_CONTENT: Responses = {
    200: {
        "description": "The long-format series: CSV (format=csv) or Parquet (format=parquet).",
        "content": {"text/csv": _CSV, "application/vnd.apache.parquet": _PARQUET},
    }
}
CSV_CONTENT: Responses = {200: {"description": "CSV with a header row.", "content": {"text/csv": _CSV}}}
EXPORT_HELP = (
    "At most Settings.max_export_rows rows (periods × series); more answers 422 naming the limit. "
    "Series are zero-filled over the window: start/end, else the stored dates."
)

#: the ``dimensions`` query parameter's default, description and documented items
_DEFAULT_DIMENSIONS = list(DEFAULT_EXPORT_DIMENSIONS)
_DIMENSIONS_HELP = f"Any of {', '.join(EXPORT_DIMENSIONS)}; repeat or comma-separate."
_DIMENSION_ITEMS = csv_items(EXPORT_DIMENSIONS)

SERIES_COLUMNS = ["period", *EXPORT_DIMENSIONS, "count", "unique_count"]
FORECAST_HELP = (
    "Months to forecast (1–12, interval=month only): each series' forecast rows (kind=forecast: the point "
    "forecast of forecast_metric in `forecast`, its 80 %/95 % interval in lo80/hi80/lo95/hi95) follow its "
    "history rows (kind=history), as GET /v1/forecast forecasts one series; series with fewer than "
    f"{MIN_MONTHS} complete months get none; at most {MAX_FORECAST_SERIES} series (422 beyond)."
)
COOCCURRENCE_COLUMNS = ["skill_a", "skill_b", "count", "count_a", "count_b", "lift"]


def _csv(columns: list[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for i, row in enumerate(rows, 1):
        writer.writerow(row)
        if i % 1000 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def series_columns(dimensions: list[str]) -> list[str]:
    return ["period", *[d for d in EXPORT_DIMENSIONS if d in dimensions], "count", "unique_count"]


def _series_response(
    rows: Iterator[SeriesRow] | Iterator[dict[str, Any]], dimensions: list[str], fmt: str, forecasts: bool = False
) -> Response:
    columns = series_columns(dimensions) + (FORECAST_COLUMNS if forecasts else [])
    if fmt == "csv":
        return StreamingResponse(
            _csv(columns, (r.model_dump(mode="json") if isinstance(r, SeriesRow) else r for r in rows)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="series.csv"'},
        )
    data = [r.model_dump() if isinstance(r, SeriesRow) else r for r in rows]
    types = {"period": pa.date32(), "count": pa.int64(), "unique_count": pa.int64()}
    types.update({c: pa.float64() for c in FORECAST_COLUMNS if c != "kind"})
    table = pa.table({c: pa.array([d.get(c) for d in data], type=types.get(c, pa.string())) for c in columns})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return Response(
        sink.getvalue(),
        media_type="application/vnd.apache.parquet",
        headers={"Content-Disposition": 'attachment; filename="series.parquet"'},
    )


@router.get(
    "/series",
    summary="Long-format counts per period × occupation/direction/level/skill/region "
    "(CSV or Parquet), zero-filled per series",
    description=EXPORT_HELP,
    response_class=Response,
    responses=SERIES_CONTENT,
)
def series_get(
    store: Index,
    format: Literal["csv", "parquet"] = Query("csv"),
    interval: Interval = Query("month"),
    dimensions: list[str] = Query(
        _DEFAULT_DIMENSIONS,
        description=_DIMENSIONS_HELP,
        json_schema_extra=_DIMENSION_ITEMS,
    ),
    forecast_horizon: int | None = Query(None, ge=1, le=MAX_HORIZON, description=FORECAST_HELP),
    forecast_metric: ForecastMetric = Query("unique_postings", description="What the forecast rows forecast."),
    flt: PostingFilter = Depends(filter_query),
    settings: Settings = Depends(get_settings),
) -> Response:
    dims = list(dict.fromkeys(split_closed(dimensions)))
    bad = [d for d in dims if d not in EXPORT_DIMENSIONS]
    if bad:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "dimensions"),
                    "type": "literal_error",
                    "input": bad[0],
                    "msg": f"unknown dimension {bad[0]!r}; one of {', '.join(EXPORT_DIMENSIONS)}",
                }
            ]
        )
    rows = store.export_series(flt, interval, dims, max_rows=settings.max_export_rows)
    if forecast_horizon is None:
        return _series_response(rows, dims, format)
    return _forecast_response(store, flt, rows, dims, format, interval, forecast_horizon, forecast_metric, "query")


def _forecast_response(
    store: PostingIndex,
    flt: PostingFilter,
    rows: Iterator[SeriesRow],
    dims: list[str],
    fmt: str,
    interval: Interval,
    horizon: int,
    metric: ForecastMetric,
    where: str,
) -> Response:
    """The export with each series' forecast rows (see :mod:`signals.forecast_export`)."""
    if interval != "month":
        raise RequestValidationError(
            [
                {
                    "loc": (where, "interval"),
                    "type": "forecast_monthly",
                    "input": interval,
                    "msg": "forecasts are monthly: give interval=month with forecast_horizon",
                }
            ]
        )
    try:
        with_rows = with_forecasts(store, flt, rows, [d for d in EXPORT_DIMENSIONS if d in dims], horizon, metric)
    except TooManySeries as exc:
        raise RequestValidationError(
            [{"loc": (where, "forecast_horizon"), "type": "forecast_series_limit", "input": horizon, "msg": str(exc)}]
        ) from None
    return _series_response(with_rows, dims, fmt, forecasts=True)


@router.post(
    "/series",
    summary="Long-format series export (filter in the body)",
    description=EXPORT_HELP,
    response_class=Response,
    responses={**SERIES_CONTENT, **BODY_ERRORS},
)
def series_post(
    body: ExportBody,
    store: Index,
    settings: Settings = Depends(get_settings),
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> Response:
    known_filter(body, taxonomy)
    dims = list(dict.fromkeys(body.dimensions))
    rows = store.export_series(body.filter, body.interval, dims, max_rows=settings.max_export_rows)
    if body.forecast_horizon is None:
        return _series_response(rows, dims, body.format)
    return _forecast_response(
        store, body.filter, rows, dims, body.format, body.interval, body.forecast_horizon, body.forecast_metric, "body"
    )


@router.get("/cooccurrence", summary="Skill co-occurrence pairs as CSV", response_class=Response, responses=CSV_CONTENT)
def cooccurrence_csv(
    store: Index,
    limit: int = Query(1000, ge=1, le=100_000),
    min_count: int = Query(1, ge=1),
    flt: PostingFilter = Depends(filter_query),
) -> Response:
    pairs = store.skill_cooccurrence(flt, limit=limit, min_count=min_count)
    return StreamingResponse(
        _csv(COOCCURRENCE_COLUMNS, (p.model_dump() for p in pairs)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cooccurrence.csv"'},
    )
