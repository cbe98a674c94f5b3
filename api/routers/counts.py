"""Counts of postings by occupation and by level under the common filter: a thin alias of rankings.

Each is the ``total_postings`` ranking of its facet (every value, named), reshaped to ``{key, name,
count}`` buckets, so it applies the whole filter exactly as ``/v1/rankings/{facet}`` does.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from storage import PostingFilter
from storage.results import Facet

from ..deps import Index, get_namer
from ..filters import filter_query
from ..schemas import STORE_ERROR, CountBucket, FacetCounts
from ..services.names import Namer
from .analytics import ranking_get

router = APIRouter(prefix="/v1/counts", tags=["counts"], responses=STORE_ERROR)

#: more than any facet has values (16 occupations + other; 3 levels)
_ALL = 1000


def _add_counts(facet: Facet, name: str, summary: str) -> None:
    """``GET /v1/counts/{facet}``: the facet's ranking by ``total_postings``, every value."""

    def counts(
        store: Index,
        flt: PostingFilter = Depends(filter_query),
        namer: Namer = Depends(get_namer),
    ) -> FacetCounts:
        ranking = ranking_get(store, facet, metric="total_postings", limit=_ALL, flt=flt, namer=namer)
        return FacetCounts(
            facet=facet,
            start=flt.start,
            end=flt.end,
            total=ranking.totals.total_postings,
            buckets=[CountBucket(key=b.key, name=b.name, count=b.total_postings) for b in ranking.buckets],
        )

    router.add_api_route(f"/{facet}", counts, methods=["GET"], name=name, response_model=FacetCounts, summary=summary)


_add_counts("occupations", "by_occupation", "Postings per national occupation")
_add_counts("levels", "by_level", "Postings per level (初级/中级/高级)")
