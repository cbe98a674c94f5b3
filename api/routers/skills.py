"""Skill trends: find skills by name (typos tolerated), a skill's series, several compared, emerging skills."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel

from skill_taxonomy import Skill, Taxonomy
from skillsignal.core.config import Settings
from storage import PostingFilter, PostingIndex
from storage.results import CooccurrencePair, Interval, Point, RankingSeries, Totals

from ..deps import Index, get_namer, get_settings, get_skill_search, get_taxonomy
from ..filters import check_series_points, filter_query, known_filter
from ..schemas import BODY_ERRORS, NOT_FOUND, STORE_ERROR, CompareBody, EmergingBody
from ..services.emerging import EmergingSkills, emerging_skills
from ..services.names import Namer
from ..services.skill_search import SkillMatchResult, SkillSearch

router = APIRouter(prefix="/v1/skills", tags=["skills"], responses=STORE_ERROR)
SERIES_HELP = (
    "A series answer holds at most Settings.max_series_points points (periods × series); "
    "more answers 422 naming the limit."
)

EMERGING_HELP = (
    "Each skill with at least min_count postings in the window is tested (one-sided two-proportion "
    "z-test of its share against the previous window of equal length); the false-discovery rate over "
    "all the skills tested is controlled with Benjamini–Hochberg at q = alpha, and `fdr` says so "
    "(method, q, skills tested). Each skill carries its raw and adjusted p-value."
)


class SkillSearchResults(BaseModel):
    query: str
    results: list[SkillMatchResult]


class SkillDemand(BaseModel):
    id: str
    name_zh: str
    name_en: str
    type: str
    aliases: list[str]
    totals: Totals
    share_of_postings: float
    top_occupations: list[dict[str, Any]]


class SkillSeries(BaseModel):
    skill_id: str
    name: str
    interval: Interval
    points: list[Point]
    share: list[float]


class Cooccurrence(BaseModel):
    pairs: list[CooccurrencePair]


def resolve_skill(term: str, skill_search: SkillSearch) -> Skill:
    """The skill ``term`` names (id, name or alias), else 404 with near names as suggestions."""
    skill = skill_search.resolve(term)
    if skill is None:
        near = [m.id for m in skill_search.search(term, limit=5)]
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise HTTPException(status_code=404, detail=f"unknown skill {term!r}{hint}")
    return skill


@router.get("/search", response_model=SkillSearchResults, summary="Find skills by Chinese/English name or alias")
def search_skills(
    q: str = Query(min_length=1, max_length=100, description="Name, alias, or something close to one."),
    limit: int = Query(10, ge=1, le=100),
    min_score: float = Query(0.5, ge=0, le=1),
    skill_search: SkillSearch = Depends(get_skill_search),
) -> SkillSearchResults:
    return SkillSearchResults(query=q, results=skill_search.search(q, limit=limit, min_score=min_score))


def _emerging(
    store: PostingIndex,
    namer: Namer,
    flt: PostingFilter,
    min_count: int,
    alpha: float,
    limit: int,
    within_noise: bool,
) -> EmergingSkills:
    found = emerging_skills(store, flt, min_count=min_count, alpha=alpha, limit=limit, within_noise=within_noise)
    for s in found.skills:
        s.name = namer.name("skills", s.skill_id)
    return found


@router.get(
    "/emerging",
    response_model=EmergingSkills,
    summary="Skills whose share of postings grew significantly against the previous window",
    description=EMERGING_HELP,
)
def emerging_get(
    store: Index,
    min_count: int = Query(10, ge=1, description="Fewest postings in the window for a skill to be tested."),
    alpha: float = Query(
        0.01, gt=0, lt=1, description="The false-discovery rate q (Benjamini–Hochberg over the skills tested)."
    ),
    limit: int = Query(20, ge=1, le=500),
    within_noise: bool = Query(
        False, description="Also list skills whose share grew but not significantly (significant=false)."
    ),
    flt: PostingFilter = Depends(filter_query),
    namer: Namer = Depends(get_namer),
) -> EmergingSkills:
    return _emerging(store, namer, flt, min_count, alpha, limit, within_noise)


@router.post(
    "/emerging",
    response_model=EmergingSkills,
    summary="Emerging skills (filter in the body)",
    description=EMERGING_HELP,
    responses=BODY_ERRORS,
)
def emerging_post(
    body: EmergingBody, store: Index, namer: Namer = Depends(get_namer), taxonomy: Taxonomy = Depends(get_taxonomy)
) -> EmergingSkills:
    known_filter(body, taxonomy)
    return _emerging(store, namer, body.filter, body.min_count, body.alpha, body.limit, body.within_noise)


def _compare(
    store: PostingIndex,
    skill_search: SkillSearch,
    namer: Namer,
    settings: Settings,
    terms: list[str],
    flt: PostingFilter,
    interval: Interval,
) -> RankingSeries:
    ids = list(dict.fromkeys(resolve_skill(t, skill_search).id for t in terms))
    if not ids:  # nothing named: nothing to compare (an empty key list would mean "the top skills")
        return RankingSeries(facet="skills", interval=interval, series=[])
    check_series_points(store, flt, interval, len(ids), settings.max_series_points)
    series = store.ranking_timeseries("skills", flt, interval, keys=ids)
    for s in series.series:
        s.name = namer.name("skills", s.key)
    return series


@router.get(
    "/compare",
    response_model=RankingSeries,
    summary="Series of several skills side by side",
    description=SERIES_HELP + " Here `skills` names the skills compared and is also the filter's "
    "skills field (which changes nothing); POST takes a separate filter.",
    responses=NOT_FOUND,
)
def compare_get(
    store: Index,
    skills: list[str] = Query(
        min_length=1, max_length=20, description="Skill ids, names or aliases (at most 20); repeat or comma-separate."
    ),
    interval: Interval = Query("month"),
    flt: PostingFilter = Depends(filter_query),
    skill_search: SkillSearch = Depends(get_skill_search),
    namer: Namer = Depends(get_namer),
    settings: Settings = Depends(get_settings),
) -> RankingSeries:
    terms = [t.strip() for raw in skills for t in raw.split(",") if t.strip()]
    return _compare(store, skill_search, namer, settings, terms, flt, interval)


@router.post(
    "/compare",
    response_model=RankingSeries,
    summary="Compare skills (filter in the body)",
    description=SERIES_HELP,
    responses={**NOT_FOUND, **BODY_ERRORS},
)
def compare_post(
    body: CompareBody,
    store: Index,
    skill_search: SkillSearch = Depends(get_skill_search),
    namer: Namer = Depends(get_namer),
    settings: Settings = Depends(get_settings),
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> RankingSeries:
    known_filter(body, taxonomy)
    return _compare(store, skill_search, namer, settings, body.skills, body.filter, body.interval)


@router.get("/cooccurrence", response_model=Cooccurrence, summary="Skill pairs named together most often")
def cooccurrence(
    store: Index,
    limit: int = Query(50, ge=1, le=1000),
    min_count: int = Query(1, ge=1),
    flt: PostingFilter = Depends(filter_query),
) -> Cooccurrence:
    return Cooccurrence(pairs=store.skill_cooccurrence(flt, limit=limit, min_count=min_count))


@router.get(
    "/{skill}", response_model=SkillDemand, summary="A skill and its demand under the filter", responses=NOT_FOUND
)
def skill_demand(
    store: Index,
    skill: str = Path(description="Skill id, name or alias."),
    flt: PostingFilter = Depends(filter_query),
    skill_search: SkillSearch = Depends(get_skill_search),
    namer: Namer = Depends(get_namer),
) -> SkillDemand:
    s = resolve_skill(skill, skill_search)
    everything = store.totals(flt).unique_postings
    if not flt.skills or s.id in flt.skills:  # naming s already satisfies the filter's skills
        with_skill = flt.model_copy(update={"skills": [s.id]})
        totals = store.totals(with_skill)
        top = [
            (b.key, b.unique_postings)
            for b in store.ranking("occupations", with_skill, limit=5).buckets
            if b.unique_postings
        ]
    else:  # postings naming s *and* one of the filter's skills
        totals, top = _demand_within(store, flt, s.id)
    return SkillDemand(
        id=s.id,
        name_zh=s.name_zh,
        name_en=s.name_en,
        type=s.type,
        aliases=s.aliases,
        totals=totals,
        share_of_postings=round(totals.unique_postings / everything, 6) if everything else 0.0,
        top_occupations=[
            {"code": code, "name": namer.name("occupations", code), "unique_postings": n} for code, n in top
        ],
    )


def _demand_within(store: PostingIndex, flt: PostingFilter, skill_id: str) -> tuple[Totals, list[tuple[str, int]]]:
    """A skill's totals and top occupations among the postings a filter with other skills selects: its
    bucket of the skills ranking (which keeps the whole filter), and the per-occupation sums of the
    occupation × skill export."""
    ranked = store.ranking("skills", flt, metric="median_salary", limit=100_000)
    bucket = next((b for b in ranked.buckets if b.key == skill_id), None)
    if bucket is None:
        return Totals(), []
    totals = Totals(
        unique_postings=bucket.unique_postings,
        duplicate_postings=bucket.duplicate_postings,
        total_postings=bucket.total_postings,
        posting_intensity=bucket.posting_intensity,
        median_salary=bucket.median_salary,
    )
    per_occupation: dict[str, int] = {}
    for row in store.export_series(flt, "month", ["occupation", "skill"]):
        if row.skill == skill_id and row.occupation is not None:
            per_occupation[row.occupation] = per_occupation.get(row.occupation, 0) + row.unique_count
    top = sorted(((k, n) for k, n in per_occupation.items() if n), key=lambda kv: (-kv[1], kv[0]))[:5]
    return totals, top


@router.get(
    "/{skill}/timeseries",
    response_model=SkillSeries,
    summary="A skill's postings per period and its share of all postings",
    description=SERIES_HELP,
    responses=NOT_FOUND,
)
def skill_series(
    store: Index,
    skill: str = Path(description="Skill id, name or alias."),
    interval: Interval = Query("month"),
    flt: PostingFilter = Depends(filter_query),
    skill_search: SkillSearch = Depends(get_skill_search),
    settings: Settings = Depends(get_settings),
) -> SkillSeries:
    s = resolve_skill(skill, skill_search)
    check_series_points(store, flt, interval, 2, settings.max_series_points)  # the points and the shares
    series = store.ranking_timeseries("skills", flt, interval, keys=[s.id]).series
    points = series[0].points if series else []
    all_points = {p.period: p.unique_postings for p in store.timeseries(flt, interval)}
    share = [round(p.unique_postings / all_points[p.period], 6) if all_points.get(p.period) else 0.0 for p in points]
    return SkillSeries(skill_id=s.id, name=s.name_zh, interval=interval, points=points, share=share)
