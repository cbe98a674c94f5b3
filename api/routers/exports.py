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

from skill_taxonomy import Taxonomy
from skillsignal.core.config import Settings
from storage import PostingFilter
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


def _series_response(rows: Iterator[SeriesRow], dimensions: list[str], fmt: str) -> Response:
    columns = series_columns(dimensions)
    if fmt == "csv":
        return StreamingResponse(
            _csv(columns, (r.model_dump(mode="json") for r in rows)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="series.csv"'},
        )
    data = [r.model_dump() for r in rows]
    types = {"period": pa.date32(), "count": pa.int64(), "unique_count": pa.int64()}
    table = pa.table({c: pa.array([d[c] for d in data], type=types.get(c, pa.string())) for c in columns})
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
    return _series_response(rows, dims, format)


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
    return _series_response(rows, dims, body.format)


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
