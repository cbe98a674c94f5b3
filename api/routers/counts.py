"""Counts of postings by occupation and by level under the common filter.

Both are the ``total_postings`` ranking of their facet (every value), so they apply the whole
filter exactly as ``/v1/rankings/{facet}`` does.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from storage import PostingFilter, PostingIndex

from ..deps import Index, get_namer
from ..filters import filter_query
from ..schemas import STORE_ERROR, Bucket, FacetCounts
from ..services.names import Namer

router = APIRouter(prefix="/v1/counts", tags=["counts"], responses=STORE_ERROR)

#: more than any facet has values (16 occupations + other; 3 levels)
_ALL = 1000


def _counts(facet: str, flt: PostingFilter, store: PostingIndex, namer: Namer) -> FacetCounts:
    ranking = store.ranking(facet, flt, metric="total_postings", limit=_ALL)
    return FacetCounts(
        facet=facet,
        start=flt.start,
        end=flt.end,
        total=ranking.totals.total_postings,
        buckets=[Bucket(key=b.key, name=namer.name(facet, b.key), count=b.total_postings) for b in ranking.buckets],
    )


@router.get("/occupations", response_model=FacetCounts, summary="Postings per national occupation")
def by_occupation(
    store: Index,
    flt: PostingFilter = Depends(filter_query),
    namer: Namer = Depends(get_namer),
) -> FacetCounts:
    return _counts("occupations", flt, store, namer)


@router.get("/levels", response_model=FacetCounts, summary="Postings per level (初级/中级/高级)")
def by_level(
    store: Index,
    flt: PostingFilter = Depends(filter_query),
    namer: Namer = Depends(get_namer),
) -> FacetCounts:
    return _counts("levels", flt, store, namer)
