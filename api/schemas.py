"""Typed response models of the API."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator
from pydantic_core import PydanticCustomError

from skillsignal.core.models import MAX_DESCRIPTION_CHARS, Posting
from storage import PostingFilter
from storage.filters import JSON_NUMBER, JsonFloat, JsonInt
from storage.results import EXPORT_DIMENSIONS, Interval, Metric, Point


class Message(BaseModel):
    """An error other than a validation error (those are 422 with a list of problems)."""

    detail: str


#: the ``responses=`` of a route or router: status code -> OpenAPI response object (FastAPI's type)
Responses = dict[int | str, dict[str, Any]]

#: responses every /v1 operation may give besides 200 and 422
STORE_ERROR: Responses = {
    400: {"model": Message, "description": "The store cannot answer as asked (the message says why)."}
}
#: and every operation that reads a JSON body
BODY_ERRORS: Responses = {
    400: {"model": Message, "description": "The body is not JSON, or the store cannot answer as asked."},
    413: {"model": Message, "description": "The request body is larger than the API accepts."},
}
NOT_FOUND: Responses = {404: {"model": Message, "description": "No such resource (the message says what was asked)."}}


class Health(BaseModel):
    """``status`` is ok, or degraded (HTTP 503) when the store is damaged; ``problem`` then says
    what is wrong and what to do."""

    status: str
    problem: str | None = None
    version: str
    backend: str
    postings: int
    taxonomy_version: str


class CountBucket(BaseModel):
    """One value of a facet and its number of postings (a ``/v1/counts`` answer's bucket)."""

    key: str
    name: str | None = None
    count: int


class FacetCounts(BaseModel):
    """Postings (duplicates included) per value of a facet under the filter: the ``total_postings``
    ranking of the same facet, every value listed."""

    facet: str
    start: date | None
    end: date | None
    total: int
    buckets: list[CountBucket]


# -- request bodies (POST): the one filter plus each endpoint's options ---------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: PostingFilter = Field(default_factory=PostingFilter)


class FilterBody(_Body):
    pass


class TimeseriesBody(_Body):
    interval: Interval = "month"


class RankingBody(_Body):
    metric: Metric = "unique_postings"
    limit: JsonInt = Field(default=10, ge=1, le=1000)


class RankingSeriesBody(_Body):
    interval: Interval = "month"
    keys: list[str] = Field(default_factory=list, description="Facet values; empty = the top `limit`.")
    limit: JsonInt = Field(default=5, ge=1, le=50)


class EmergingBody(_Body):
    min_count: JsonInt = Field(default=10, ge=1)
    alpha: JsonFloat = Field(
        default=0.01, gt=0, lt=1, description="The false-discovery rate q (Benjamini–Hochberg over the skills tested)."
    )
    limit: JsonInt = Field(default=20, ge=1, le=500)
    within_noise: StrictBool = Field(
        default=False, description="Also list skills whose share grew but not significantly (significant=false)."
    )


class CompareBody(_Body):
    skills: list[str] = Field(min_length=1, max_length=20, description="Skill ids, names or aliases.")
    interval: Interval = "month"


class SearchBody(_Body):
    query: str | None = Field(default=None, max_length=200)
    cursor: str | None = None
    size: JsonInt = Field(
        default=20,
        ge=1,
        description="Results per page (at most Settings.max_page_size).",
        json_schema_extra={"x-skillsignal-limit": "max_page_size"},
    )


class ExportBody(_Body):
    interval: Interval = "month"
    dimensions: list[Literal[EXPORT_DIMENSIONS]] = Field(  # type: ignore[valid-type]  # mypy takes only literal values in Literal[]; these come from storage's tuple at run time
        default_factory=lambda: ["occupation", "direction", "level", "skill", "region"]
    )
    format: Literal["csv", "parquet"] = "csv"
    forecast_horizon: Annotated[int, Field(ge=1, le=12), JSON_NUMBER] | None = Field(
        default=None, description="Append each series' forecast rows (see GET /v1/exports/series)."
    )
    forecast_metric: Literal["unique_postings", "total_postings"] = "unique_postings"


class ExtractRequest(Posting):
    """A posting to extract from (nothing is stored): a title and/or a description is all it needs.

    ``id`` defaults to a hash of the text, ``source`` to ``api``; the other fields are the posting's.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["title"], "properties": {"title": {"pattern": r"\S"}}},
                {"required": ["description"], "properties": {"description": {"pattern": r"\S"}}},
            ]
        }
    )

    id: str = Field(default="", max_length=200, description="Any id; generated from the text when absent.")
    source: str = Field(default="api", min_length=1, max_length=100)
    title: str = Field(default="", max_length=500)

    @field_validator("description", mode="before")
    @classmethod
    def _cap_description(cls, value: object) -> str:  # replaces Posting's, which also takes None and numbers
        if not isinstance(value, str):
            raise PydanticCustomError("string_type", "Input should be a valid string")
        return value[:MAX_DESCRIPTION_CHARS]

    @model_validator(mode="after")
    def _needs_text(self) -> ExtractRequest:
        if not self.title.strip() and not self.description.strip():
            raise PydanticCustomError("missing_text", "title or description: give a title and/or a description")
        if not self.id:
            digest = hashlib.sha1(f"{self.title}\x1f{self.description}".encode()).hexdigest()[:12]
            self.id = f"extract-{digest}"
        return self


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
