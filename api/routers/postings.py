"""Postings: Chinese full-text search with highlights and cursor pages, one posting, ingest (API key)."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response
from fastapi.exceptions import RequestValidationError

from skill_taxonomy import Taxonomy
from skillsignal.core.config import Settings
from skillsignal.core.ingest import IngestStats, PostingSink
from skillsignal.core.models import Posting
from storage import PostingFilter
from storage.results import Page

from ..deps import Index, get_pipeline, get_settings, get_taxonomy, require_api_key
from ..filters import filter_query, known_filter
from ..schemas import BODY_ERRORS, NOT_FOUND, STORE_ERROR, Message, Responses, SearchBody

router = APIRouter(prefix="/v1/postings", tags=["postings"], responses=STORE_ERROR)
UNAUTHORIZED: Responses = {401: {"model": Message, "description": "X-API-Key missing or wrong."}}

MAX_INGEST_BATCH = 1000


def _check_size(size: int, settings: Settings, where: str) -> None:
    if size > settings.max_page_size:
        raise RequestValidationError(
            [
                {
                    "loc": (where, "size"),
                    "type": "less_than_equal",
                    "msg": f"Input should be less than or equal to {settings.max_page_size} (the page size cap)",
                    "input": size,
                }
            ]
        )


@router.get("/search", response_model=Page, summary="Full-text search (Chinese-aware) with highlights")
def search_get(
    store: Index,
    q: str | None = Query(None, max_length=200, description="Words that must all occur; empty = newest first."),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
    size: int = Query(
        20,
        ge=1,
        description="Results per page (at most Settings.max_page_size).",
        json_schema_extra={"x-skillsignal-limit": "max_page_size"},
    ),
    flt: PostingFilter = Depends(filter_query),
    settings: Settings = Depends(get_settings),
) -> Page:
    _check_size(size, settings, "query")
    return store.search_postings(q, flt, cursor=cursor, size=size, total_cap=settings.search_total_cap)


@router.post("/search", response_model=Page, summary="Full-text search (filter in the body)", responses=BODY_ERRORS)
def search_post(
    body: SearchBody,
    store: Index,
    settings: Settings = Depends(get_settings),
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> Page:
    known_filter(body, taxonomy)
    _check_size(body.size, settings, "body")
    return store.search_postings(
        body.query, body.filter, cursor=body.cursor, size=body.size, total_cap=settings.search_total_cap
    )


@router.get(
    "/{posting_id}", response_model=Posting, summary="One stored posting with its extraction", responses=NOT_FOUND
)
def get_posting(posting_id: str, store: Index) -> Posting:
    posting = store.get_posting(posting_id)
    if posting is None:
        raise HTTPException(status_code=404, detail=f"unknown posting {posting_id!r}")
    return posting


QUEUED: Responses = {
    202: {
        "model": IngestStats,
        "description": "Stored raw; `queued` postings wait for the extraction workers (the server has "
        "SKILLSIGNAL_REDIS_URL) and are counted as their extractions land.",
    }
}


@router.post(
    "",
    response_model=IngestStats,
    dependencies=[Depends(require_api_key)],
    summary="Ingest postings (stored and indexed; extracted here and counted at once, or, with Redis "
    "configured, queued to the extraction workers: 202). Needs X-API-Key.",
    responses={**QUEUED, **UNAUTHORIZED, **BODY_ERRORS},
)
def ingest(
    response: Response,
    postings: list[Posting] = Body(min_length=1, max_length=MAX_INGEST_BATCH),
    pipeline: PostingSink = Depends(get_pipeline),
) -> IngestStats:
    stats = pipeline.process(postings)
    if stats.queued:
        response.status_code = 202
    return stats
