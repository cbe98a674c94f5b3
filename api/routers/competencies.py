"""Demand by competency: the statements of the standards postings ask for, ranked.

``/v1/rankings/competencies`` is the ``competencies`` facet of the rankings with each row described
from the taxonomy: the statement's text, level, occupational function (职业功能), work content,
occupation and direction, and its share of the postings the filter selects. It is registered before
the generic ``/v1/rankings/{facet}`` route, which it answers in place of for this facet; the series
(``/v1/rankings/competencies/timeseries``) are the generic ones.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from skill_taxonomy import Taxonomy
from storage import PostingFilter
from storage.results import Bucket, Metric, Ranking, Totals

from ..deps import Index, get_taxonomy
from ..filters import filter_query, known_filter
from ..schemas import BODY_ERRORS, STORE_ERROR, RankingBody

router = APIRouter(prefix="/v1", tags=["analytics"], responses=STORE_ERROR)


class CompetencyBucket(Bucket):
    """One competency statement with its demand; ``key`` is the statement id."""

    text: str | None = Field(default=None, description="The statement (``name`` holds the same).")
    level: str | None = Field(default=None, description="Level the statement belongs to: 初级, 中级 or 高级.")
    function: str | None = Field(default=None, description="职业功能 (occupational function).")
    work_content: str | None = Field(default=None, description="工作内容 (work content).")
    occupation: str | None = Field(default=None, description="Occupation code the statement belongs to.")
    occupation_name: str | None = None
    direction: str | None = Field(default=None, description="Direction it is written for; None = all.")
    share: float = Field(default=0.0, description="unique_postings / the filter's unique postings.")


# A Ranking whose buckets are competency statements: its own model with Ranking's fields (no docstring: it
# would become the schema's description), not a subclass, since a subclass may not narrow ``buckets``, a
# mutable list, from Bucket to CompetencyBucket.
class CompetencyRanking(BaseModel):
    facet: str
    metric: str
    totals: Totals = Field(description=Ranking.model_fields["totals"].description)
    buckets: list[CompetencyBucket]


def _statements(taxonomy: Taxonomy) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {}
    for code, occ in taxonomy.occupations.items():
        for level, comps in occ.levels.items():
            for c in comps:
                out[c.id] = {
                    "text": c.text,
                    "level": level,
                    "function": c.function,
                    "work_content": c.work_content,
                    "occupation": code,
                    "occupation_name": occ.name_zh,
                    "direction": c.direction,
                }
    return out


def _described(ranking: Ranking, taxonomy: Taxonomy) -> CompetencyRanking:
    known = _statements(taxonomy)
    unique = ranking.totals.unique_postings
    buckets = []
    for b in ranking.buckets:
        info = known.get(b.key, {})
        buckets.append(
            CompetencyBucket(
                **b.model_dump(exclude={"name"}),
                name=info.get("text"),
                **info,
                share=round(b.unique_postings / unique, 6) if unique else 0.0,
            )
        )
    return CompetencyRanking(facet=ranking.facet, metric=ranking.metric, totals=ranking.totals, buckets=buckets)


@router.get(
    "/rankings/competencies",
    response_model=CompetencyRanking,
    summary="Competency statements of the standards by demand, with level, function and occupation",
)
def competencies_get(
    store: Index,
    metric: Metric = Query("unique_postings"),
    limit: int = Query(10, ge=1, le=1000),
    flt: PostingFilter = Depends(filter_query),
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> CompetencyRanking:
    return _described(store.ranking("competencies", flt, metric=metric, limit=limit), taxonomy)


@router.post(
    "/rankings/competencies",
    response_model=CompetencyRanking,
    responses=BODY_ERRORS,
    summary="Competency ranking (filter in the body)",
)
def competencies_post(
    body: RankingBody,
    store: Index,
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> CompetencyRanking:
    known_filter(body, taxonomy)
    return _described(store.ranking("competencies", body.filter, metric=body.metric, limit=body.limit), taxonomy)
