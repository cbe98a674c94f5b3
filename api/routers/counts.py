"""Counts of postings by occupation and by level over a time window."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query

from skill_taxonomy import default_taxonomy
from skillsignal.config import Settings
from storage import PostingFilter, SQLiteStore

from ..deps import get_settings, get_store
from ..schemas import Bucket, FacetCounts

router = APIRouter(prefix="/v1/counts", tags=["counts"])


def _window(
    start: date | None = Query(None, description="First posting date included, YYYY-MM-DD."),
    end: date | None = Query(None, description="Last posting date included, YYYY-MM-DD."),
) -> PostingFilter:
    return PostingFilter(start=start, end=end)


@router.get("/occupations", response_model=FacetCounts, summary="Postings per national occupation")
def by_occupation(
    flt: PostingFilter = Depends(_window),
    store: SQLiteStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> FacetCounts:
    taxonomy = default_taxonomy(settings.taxonomy_overlay)
    rows = store.count_by("occupations", flt, limit=100)
    names = {code: occ.name_zh for code, occ in taxonomy.occupations.items()}
    names["other"] = "其他"
    return FacetCounts(
        facet="occupations",
        start=flt.start,
        end=flt.end,
        total=store.count_postings(flt),
        buckets=[Bucket(key=k, name=names.get(k), count=n) for k, n in rows],
    )


@router.get("/levels", response_model=FacetCounts, summary="Postings per level (初级/中级/高级)")
def by_level(flt: PostingFilter = Depends(_window), store: SQLiteStore = Depends(get_store)) -> FacetCounts:
    rows = store.count_by("levels", flt, limit=10)
    return FacetCounts(
        facet="levels",
        start=flt.start,
        end=flt.end,
        total=store.count_postings(flt),
        buckets=[Bucket(key=k, name=k, count=n) for k, n in rows],
    )
