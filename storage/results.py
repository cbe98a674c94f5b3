"""Result models every backend returns (``storage.base.PostingIndex``); the API serves them as is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NamedTuple, get_args

from pydantic import BaseModel, Field

Interval = Literal["day", "week", "month"]
Metric = Literal["unique_postings", "duplicate_postings", "total_postings", "posting_intensity", "median_salary"]
Facet = Literal[
    "skills",
    "occupations",
    "directions",
    "levels",
    "provinces",
    "cities",
    "regions",
    "companies",
    "industries",
    "education",
    "experience",
    "sources",
    "competencies",
]
FACETS: tuple[str, ...] = get_args(Facet)
METRICS: tuple[str, ...] = get_args(Metric)
INTERVALS: tuple[str, ...] = get_args(Interval)


class Totals(BaseModel):
    """Counts over the postings a filter selects.

    ``unique_postings`` counts postings that are not near-duplicates (``dup_of`` empty),
    ``duplicate_postings`` those that are, ``total_postings`` both. ``posting_intensity`` is
    total / unique (0 when there are no unique postings). ``median_salary`` is the median monthly
    CNY salary midpoint of the unique postings that state a salary (None when none does).
    """

    unique_postings: int = 0
    duplicate_postings: int = 0
    total_postings: int = 0
    posting_intensity: float = 0.0
    median_salary: float | None = None


class Point(BaseModel):
    """One period of a series; ``period`` is the first day of the day/ISO week (Monday)/month."""

    period: date
    unique_postings: int = 0
    duplicate_postings: int = 0
    total_postings: int = 0


class Bucket(BaseModel):
    """One value of a facet with its counts; ``value`` is the ranked metric's value."""

    key: str
    name: str | None = None
    value: float | None = None
    unique_postings: int = 0
    duplicate_postings: int = 0
    total_postings: int = 0
    posting_intensity: float = 0.0
    median_salary: float | None = Field(default=None, description="Filled when ranking by median_salary.")


class Ranking(BaseModel):
    facet: str
    metric: str
    totals: Totals = Field(
        description="Counts over every posting the filter selects (the denominator of shares); "
        "median_salary is left out here, /v1/totals gives it."
    )
    buckets: list[Bucket]


class KeyedSeries(BaseModel):
    key: str
    name: str | None = None
    points: list[Point]


class RankingSeries(BaseModel):
    facet: str
    interval: Interval
    series: list[KeyedSeries]


class Highlight(BaseModel):
    """Matched text with hits wrapped in ``<em>…</em>``."""

    title: str | None = None
    description: str | None = None


class PostingHit(BaseModel):
    id: str
    title: str
    company: str | None = None
    province: str | None = None
    city: str | None = None
    posted_date: date
    source: str
    url: str | None = None
    occupation: str | None = None
    direction: str | None = None
    level: str | None = None
    skills: list[str] = Field(default_factory=list)
    salary_min: float | None = None
    salary_max: float | None = None
    duplicate: bool = False
    highlight: Highlight = Field(default_factory=Highlight)


#: how ``Page.total`` relates to the true number of matches (Elasticsearch's ``hits.total.relation``)
TotalRelation = Literal["eq", "gte"]
#: default most matches a text search counts exactly (``Settings.search_total_cap``; Elasticsearch's
#: default ``track_total_hits`` is the same 10,000)
SEARCH_TOTAL_CAP = 10_000


class HitCount(NamedTuple):
    """How many postings a search selects: ``value`` exactly, or at least ``value`` when not ``exact``."""

    value: int
    exact: bool = True


class Page(BaseModel):
    """One page of search results; pass ``next_cursor`` back to get the next (None on the last)."""

    total: int = Field(
        description="Postings the query and filter select: the exact number when total_relation is 'eq'; "
        "when it is 'gte', at least this many (a text search counts its matches only up to a cap, "
        "Settings.search_total_cap, as Elasticsearch's track_total_hits does)."
    )
    total_relation: TotalRelation = Field(
        default="eq", description="'eq': total is exact; 'gte': total is a lower bound (counting stopped at the cap)."
    )
    items: list[PostingHit]
    next_cursor: str | None = None


class CooccurrencePair(BaseModel):
    """Two skills named together; counts are over unique postings the filter selects."""

    skill_a: str
    skill_b: str
    count: int
    count_a: int
    count_b: int
    lift: float = Field(description="P(a,b) / (P(a) P(b)) over the selected postings.")


class SeriesRow(BaseModel):
    """One row of the long-format export (Job-SDF layout): counts per period and dimension values.

    ``count`` counts all postings, ``unique_count`` the non-duplicates. Dimensions not exported are
    None; a posting is counted once per skill it names when ``skill`` is a dimension.
    """

    period: date
    occupation: str | None = None
    direction: str | None = None
    level: str | None = None
    skill: str | None = None
    region: str | None = None
    province: str | None = None
    count: int
    unique_count: int


EXPORT_DIMENSIONS: tuple[str, ...] = ("occupation", "direction", "level", "skill", "region", "province")
DEFAULT_EXPORT_DIMENSIONS: tuple[str, ...] = ("occupation", "direction", "level", "skill", "region")


#: what the demand-signal cells can be grouped by (``PostingIndex.signal_cells``)
SignalDimension = Literal["occupation", "direction", "level", "province", "region"]
SIGNAL_DIMENSIONS: tuple[str, ...] = get_args(SignalDimension)


@dataclass(slots=True)
class SignalCell:
    """What the demand signals need of one combination of dimension values in one period.

    ``key`` holds the values of the requested dimensions in their order (None where a posting has
    none). The period is the posting date's (``posted_date``). Every count except
    ``total_postings`` is over the *unique* postings (not near-duplicates):

    * ``salaries``: histogram of the salary midpoint, (monthly CNY, postings), ascending;
    * ``experience_3plus`` / ``experience_5plus``: ``experience.years_min`` ≥ 3 / ≥ 5;
    * ``bachelor_plus`` / ``master_plus``: education level 本科, 硕士 or 博士 / 硕士 or 博士;
    * ``senior``: extracted level 高级;
    * ``durations``: histogram of (days open, closed, postings), ascending; days open =
      ``last_seen - first_seen``; closed = ``closed_on`` is set (else the duration is censored).

    Plain dataclass, not a pydantic model: a catalogue reads tens of thousands of cells.
    """

    key: tuple[str | None, ...]
    period: date
    total_postings: int = 0
    unique_postings: int = 0
    salaries: list[tuple[float, int]] = field(default_factory=list)
    experience_3plus: int = 0
    experience_5plus: int = 0
    bachelor_plus: int = 0
    master_plus: int = 0
    senior: int = 0
    durations: list[tuple[int, bool, int]] = field(default_factory=list)
