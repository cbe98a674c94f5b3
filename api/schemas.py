"""Typed response models of the API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class Health(BaseModel):
    """``status`` is ok, or degraded (HTTP 503) when the store is damaged; ``problem`` then says
    what is wrong and what to do."""

    status: str
    problem: str | None = None
    version: str
    backend: str
    postings: int
    taxonomy_version: str


class Bucket(BaseModel):
    key: str
    name: str | None = None
    count: int


class FacetCounts(BaseModel):
    facet: str
    start: date | None
    end: date | None
    total: int
    buckets: list[Bucket]


# -- request bodies (POST): the one filter plus each endpoint's options ---------------------------
from typing import Literal  # noqa: E402

from pydantic import ConfigDict, Field  # noqa: E402

from storage import PostingFilter  # noqa: E402
from storage.results import EXPORT_DIMENSIONS, Interval, Metric, Point  # noqa: E402


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: PostingFilter = Field(default_factory=PostingFilter)


class FilterBody(_Body):
    pass


class TimeseriesBody(_Body):
    interval: Interval = "month"


class RankingBody(_Body):
    metric: Metric = "unique_postings"
    limit: int = Field(default=10, ge=1, le=1000)


class RankingSeriesBody(_Body):
    interval: Interval = "month"
    keys: list[str] = Field(default_factory=list, description="Facet values; empty = the top `limit`.")
    limit: int = Field(default=5, ge=1, le=50)


class EmergingBody(_Body):
    min_count: int = Field(default=10, ge=1)
    alpha: float = Field(default=0.01, gt=0, lt=1)
    limit: int = Field(default=20, ge=1, le=500)


class CompareBody(_Body):
    skills: list[str] = Field(min_length=1, max_length=20, description="Skill ids, names or aliases.")
    interval: Interval = "month"


class SearchBody(_Body):
    query: str | None = Field(default=None, max_length=200)
    cursor: str | None = None
    size: int = Field(default=20, ge=1)


class ExportBody(_Body):
    interval: Interval = "month"
    dimensions: list[Literal[EXPORT_DIMENSIONS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["occupation", "direction", "level", "skill", "region"]
    )
    format: Literal["csv", "parquet"] = "csv"


class TotalsResponse(BaseModel):
    filter: PostingFilter
    unique_postings: int
    duplicate_postings: int
    total_postings: int
    posting_intensity: float
    median_salary: float | None


class TimeseriesResponse(BaseModel):
    filter: PostingFilter
    interval: Interval
    points: list[Point]


class FacetInfo(BaseModel):
    facets: list[str]
    metrics: list[str]
    intervals: list[str]
